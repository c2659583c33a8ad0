// Small files through `lode add`: they go to local packs (.lode/packs), one
// pack per add (per ingest thread), not a cache file each. Every cache
// invariant still holds for them: reads are verified (a flipped byte is
// refused with exit 5, and fsck names the pack), re-adding repairs, gc
// rewrites a pack without its dead files, forget leaves no erased byte in
// .lode, push reads them from the packs, and a killed add leaves a usable repo.

import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LODE_BIN, expectLodeError, lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, workspaceSnapshot, writeFile } from '../test/helpers/cli.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) removeDir(d);
});

/** filesUnder lists the regular files below `dir` (recursive), as absolute paths. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

const packsOf = (w: string) => filesUnder(path.join(w, '.lode', 'packs'));
const looseOf = (w: string) => filesUnder(path.join(w, '.lode', 'cache'));

/** A fresh repository with `n` small files in 20 folders and one 200 KB file (which stays a cache file). */
async function repoWith(prefix: string, n: number): Promise<{ base: string; w: string }> {
  const base = makeTempDir(`lode-e2e-${prefix}`);
  dirs.push(base);
  const w = path.join(base, 'w');
  fs.mkdirSync(w);
  await lodeOk(['init'], { cwd: w });
  for (let i = 0; i < n; i++) writeFile(w, `data/d${i % 20}/f${i}.bin`, pseudoRandomBytes(200 + (i % 3000), i + 1));
  writeFile(w, 'data/large.bin', pseudoRandomBytes(200_000, 7));
  return { base, w };
}

describe('lode add of small files', () => {
  it('packs them (no cache file each); status, commit, checkout, push and clone work from the packs', async () => {
    const { base, w } = await repoWith('small-add', 2000);
    const before = workspaceSnapshot(w);
    const add = await lodeJson(['add', 'data'], { cwd: w });
    expect(add.added).toBe(2001);
    // Only the large file is loose; the small ones are in a few packs, each with its index.
    expect(looseOf(w)).toHaveLength(1);
    const packs = packsOf(w);
    const packFiles = packs.filter((p) => p.endsWith('.pack'));
    expect(packFiles.length).toBeGreaterThanOrEqual(1);
    expect(packFiles.length).toBeLessThanOrEqual(4);
    expect(packs.filter((p) => p.endsWith('.idx')).length).toBe(packFiles.length);
    expect(filesUnder(path.join(w, '.lode', 'tmp'))).toEqual([]);
    // Nothing to add again: a second add hashes nothing and writes no pack.
    const again = await lodeJson(['add', 'data'], { cwd: w });
    expect(again.bytesHashed).toBe(0);
    expect(packsOf(w)).toEqual(packs);
    await lodeOk(['commit', '-m', 'v1'], { cwd: w });
    expect((await lodeJson(['status'], { cwd: w })).clean).toBe(true);
    const f = await lodeJson(['fsck'], { cwd: w });
    expect(f.ok).toBe(true);
    expect(f.files).toBe(2001);

    // Restored from the packs.
    fs.rmSync(path.join(w, 'data'), { recursive: true, force: true });
    await lodeOk(['checkout', '--', 'data'], { cwd: w });
    expect(workspaceSnapshot(w)).toEqual(before);

    // Pushed from the packs, and cloned back identical.
    const share = path.join(base, 'share');
    await lodeOk(['remote', 'add', 'origin', share], { cwd: w });
    const push = await lodeJson(['push'], { cwd: w });
    expect(JSON.stringify(push)).toContain('"objects"');
    const c = path.join(base, 'clone');
    await lodeOk(['clone', share, c], { cwd: base });
    expect(workspaceSnapshot(c)).toEqual(before);
    expect((await lodeJson(['fsck'], { cwd: c })).ok).toBe(true);

    // gc --pushed drops the packed files the remote holds (the clean workspace holds them too): their packs go.
    const packBytes = () => packsOf(w).filter((p) => p.endsWith('.pack')).reduce((n, p) => n + fs.statSync(p).size, 0);
    const beforeGc = packBytes();
    const g = await lodeJson(['gc', '--pushed'], { cwd: w });
    expect(g.pushed.filesDropped).toBeGreaterThanOrEqual(2000);
    expect(packBytes()).toBeLessThan(beforeGc / 10);
    // A deleted file comes back from the remote.
    fs.rmSync(path.join(w, 'data/d3/f3.bin'));
    await lodeOk(['checkout', '--', 'data/d3/f3.bin'], { cwd: w });
    expect(workspaceSnapshot(w)).toEqual(before);
  }, 300_000);

  it('gc rewrites a pack without the versions nothing reaches, and every live file still checks out', async () => {
    const { w } = await repoWith('small-gc', 300);
    await lodeOk(['add', 'data'], { cwd: w });
    // Ten files change before the commit: their first versions, packed by the first add, are garbage.
    for (let i = 0; i < 10; i++) writeFile(w, `data/d${i % 20}/f${i}.bin`, pseudoRandomBytes(300, 50_000 + i));
    await lodeOk(['add', 'data'], { cwd: w });
    await lodeOk(['commit', '-m', 'v1'], { cwd: w });
    const v1 = workspaceSnapshot(w);
    const packsBefore = packsOf(w).filter((p) => p.endsWith('.pack'));
    expect(packsBefore).toHaveLength(2);
    const gc = await lodeJson(['gc'], { cwd: w });
    expect(gc.filesRemoved).toBe(10);
    const packsAfter = packsOf(w).filter((p) => p.endsWith('.pack'));
    expect(packsAfter).not.toEqual(packsBefore);
    // The dead bytes are gone from .lode.
    const deadBytes = pseudoRandomBytes(200 + 3, 4); // the first version of f3
    expect(filesUnder(path.join(w, '.lode')).filter((p) => fs.readFileSync(p).includes(deadBytes))).toEqual([]);
    const f = await lodeJson(['fsck'], { cwd: w });
    expect(f.ok).toBe(true);
    expect(f.files).toBe(301);
    fs.rmSync(path.join(w, 'data'), { recursive: true, force: true });
    await lodeOk(['checkout', '--', 'data'], { cwd: w });
    expect(workspaceSnapshot(w)).toEqual(v1);
  }, 300_000);

  it('a flipped byte in a local pack is refused on read (exit 5) and named by fsck; adding the file again repairs it', async () => {
    const base = makeTempDir('lode-e2e-small-corrupt');
    dirs.push(base);
    const w = path.join(base, 'w');
    fs.mkdirSync(w);
    await lodeOk(['init'], { cwd: w });
    const content = 'the only small file in its pack\n';
    writeFile(w, 'data/a.txt', content);
    await lodeOk(['add', 'data'], { cwd: w });
    await lodeOk(['commit', '-m', 'one'], { cwd: w });
    const pack = packsOf(w).find((p) => p.endsWith('.pack'))!;
    const bytes = fs.readFileSync(pack);
    // The file is the pack's last bytes (after the header): flip its last one.
    expect(bytes.subarray(bytes.length - content.length).toString()).toBe(content);
    bytes[bytes.length - 1] ^= 0x20;
    fs.chmodSync(pack, 0o644);
    fs.writeFileSync(pack, bytes);

    expectLodeError(await runLode(['cat', 'HEAD:data/a.txt'], { cwd: w }), 5);
    const f = await runLode(['fsck', '--json'], { cwd: w });
    expect(f.code).toBe(5);
    const corrupt = JSON.parse(f.stdout).problems.filter((p: { kind: string }) => p.kind === 'corrupt');
    expect(corrupt).toHaveLength(1);
    expect(corrupt[0].message).toContain('local pack');
    fs.rmSync(path.join(w, 'data'), { recursive: true, force: true });
    expectLodeError(await runLode(['checkout', '--', 'data'], { cwd: w }), 5);
    expect(fs.existsSync(path.join(w, 'data', 'a.txt'))).toBe(false);

    // The workspace copy (intact) added again lands in a new pack; reads take the good copy.
    writeFile(w, 'data/a.txt', content);
    await lodeOk(['add', 'data'], { cwd: w });
    const cat = await runLode(['cat', 'HEAD:data/a.txt'], { cwd: w });
    expect(cat.code, cat.stderr).toBe(0);
    expect(cat.stdout).toBe(content);
    expect((await lodeJson(['fsck'], { cwd: w })).ok).toBe(true);
  }, 120_000);

  it('forget of a small file leaves none of its bytes in .lode (its pack is rewritten without it)', async () => {
    const { w } = await repoWith('small-forget', 200);
    const secret = 'SECRET-TOKEN-4f1d0c9e-should-vanish\n';
    writeFile(w, 'data/secret.txt', secret);
    await lodeOk(['add', 'data'], { cwd: w });
    await lodeOk(['commit', '-m', 'v1'], { cwd: w });
    const v1 = workspaceSnapshot(w);
    const holding = () => filesUnder(path.join(w, '.lode')).filter((p) => fs.readFileSync(p).includes('SECRET-TOKEN-4f1d0c9e'));
    expect(holding().some((p) => p.endsWith('.pack'))).toBe(true);
    await lodeOk(['forget', 'data/secret.txt'], { cwd: w });
    expect(holding()).toEqual([]);
    expect(fs.existsSync(path.join(w, 'data', 'secret.txt'))).toBe(false);
    // The other small files stay packed and intact.
    expect(looseOf(w)).toHaveLength(1);
    expect((await lodeJson(['fsck'], { cwd: w })).ok).toBe(true);
    fs.rmSync(path.join(w, 'data'), { recursive: true, force: true });
    await lodeOk(['checkout', '--', 'data'], { cwd: w });
    const expected = { ...v1 };
    delete expected['data/secret.txt'];
    expect(workspaceSnapshot(w)).toEqual(expected);
  }, 300_000);

  it('kill -9 during an add leaves a usable repository: the next add finishes and fsck is clean', async () => {
    const { w } = await repoWith('small-kill', 6000);
    for (let trial = 0; trial < 3; trial++) {
      const child = spawn(process.execPath, [LODE_BIN, 'add', 'data'], { cwd: w, env: { ...process.env, NO_COLOR: '1', CI: '1' }, stdio: 'ignore' });
      children.push(child);
      const done = new Promise((resolve) => child.on('exit', resolve));
      // At a different moment each time (the add takes a few hundred ms or more).
      await new Promise((r) => setTimeout(r, 150 + trial * 250));
      child.kill('SIGKILL');
      await done;
      const st = await runLode(['status', '--json'], { cwd: w });
      expect(st.code, st.stderr).toBe(0);
    }
    await lodeOk(['add', 'data'], { cwd: w });
    await lodeOk(['commit', '-m', 'after kills'], { cwd: w });
    expect(filesUnder(path.join(w, '.lode', 'tmp'))).toEqual([]);
    // Every pack in place has its index (a pack without one is at most an hour-old orphan, hidden).
    const f = await lodeJson(['fsck'], { cwd: w });
    expect(f.ok).toBe(true);
    expect(f.files).toBe(6001);
    const snap = workspaceSnapshot(w);
    fs.rmSync(path.join(w, 'data'), { recursive: true, force: true });
    await lodeOk(['checkout', '--', 'data'], { cwd: w });
    expect(workspaceSnapshot(w)).toEqual(snap);
  }, 300_000);
});
