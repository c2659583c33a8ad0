// Many small files through a clone: fetched small files live in local packs
// (.lode/packs), the workspace copy is the only file made per small file, and
// every cache invariant still holds: fsck verifies packed files, gc drops
// dead ones by rewriting the pack, a damaged pack is caught before a byte of
// it reaches the workspace, and status trusts nothing whose stat moved.

import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, workspaceSnapshot, writeFile } from '../test/helpers/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

/** filesUnder lists the regular files below `dir` (recursive), as paths relative to it. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

/** A workspace with `n` small files in 50 folders (plus one larger file that stays a cache file), pushed to a directory remote. */
async function pushed(prefix: string, n: number) {
  const base = makeTempDir(`lode-e2e-${prefix}`);
  dirs.push(base);
  const a = path.join(base, 'alice');
  fs.mkdirSync(a);
  await lodeOk(['init'], { cwd: a });
  for (let i = 0; i < n; i++) writeFile(a, `data/d${i % 50}/f${i}.bin`, pseudoRandomBytes(1000 + (i % 300), i + 1));
  writeFile(a, 'data/large.bin', pseudoRandomBytes(200_000, 7));
  await lodeOk(['add', 'data'], { cwd: a });
  await lodeOk(['commit', '-m', 'many small files'], { cwd: a });
  const share = path.join(base, 'share');
  await lodeOk(['remote', 'add', 'origin', share], { cwd: a });
  await lodeOk(['push'], { cwd: a });
  return { base, a, share };
}

describe('a clone of many small files', () => {
  it('makes a workspace identical to the source, keeps the small files only in local packs, and fsck finds it whole', async () => {
    const { base, a, share } = await pushed('small-clone', 5000);
    const b = path.join(base, 'bob');
    const cl = await lodeJson(['clone', share, b], { cwd: base });
    expect(cl.checkout.written).toBe(5001);
    expect(workspaceSnapshot(b)).toEqual(workspaceSnapshot(a));
    // Written once: the small files are in packs, not loose in the cache; the large one is loose.
    const loose = filesUnder(path.join(b, '.lode', 'cache'));
    expect(loose).toHaveLength(1);
    const packs = filesUnder(path.join(b, '.lode', 'packs'));
    expect(packs.some((p) => p.endsWith('.pack'))).toBe(true);
    expect(packs.filter((p) => p.endsWith('.idx')).length).toBe(packs.filter((p) => p.endsWith('.pack')).length);
    const f = await lodeJson(['fsck'], { cwd: b });
    expect(f.ok).toBe(true);
    expect(f.files).toBe(5001);
    expect((await lodeJson(['status'], { cwd: b })).clean).toBe(true);
    // No temporary file is left anywhere in the workspace.
    expect(filesUnder(path.join(b, 'data')).filter((p) => path.basename(p).startsWith('.'))).toEqual([]);
  }, 300_000);

  it('checks out other versions from the packs, pushes from them, and gc rewrites a pack without the dead files', async () => {
    const { base, a, share } = await pushed('small-gc', 300);
    const v1 = workspaceSnapshot(a);
    // A side branch: 100 files removed, 10 changed.
    await lodeOk(['checkout', '-b', 'other'], { cwd: a });
    for (let i = 0; i < 100; i++) fs.rmSync(path.join(a, `data/d${i % 50}/f${i}.bin`));
    for (let i = 100; i < 110; i++) writeFile(a, `data/d${i % 50}/f${i}.bin`, pseudoRandomBytes(500, 10_000 + i));
    await lodeOk(['add', 'data'], { cwd: a });
    await lodeOk(['commit', '-m', 'other'], { cwd: a });
    await lodeOk(['push', 'origin', 'other'], { cwd: a });
    const other = workspaceSnapshot(a);
    await lodeOk(['checkout', 'main'], { cwd: a });

    const b = path.join(base, 'bob');
    await lodeOk(['clone', share, b], { cwd: base });
    expect(workspaceSnapshot(b)).toEqual(v1);
    // The other branch's files come from the packs (the clone fetched every branch's data).
    await lodeOk(['checkout', 'origin/other'], { cwd: b });
    expect(workspaceSnapshot(b)).toEqual(other);
    await lodeOk(['checkout', 'main'], { cwd: b });
    expect(workspaceSnapshot(b)).toEqual(v1);
    // cat reads a packed file.
    const cat = await runLode(['cat', 'origin/other:data/d0/f100.bin', '--no-fetch'], { cwd: b });
    expect(cat.code).toBe(0);
    expect(cat.stdout).toBe(pseudoRandomBytes(500, 10_100).toString());

    // A push from the clone reads its packs; a clone of that remote is the same again.
    const share2 = path.join(base, 'share2');
    await lodeOk(['remote', 'add', 'second', share2], { cwd: b });
    await lodeOk(['push', 'second'], { cwd: b });
    const c = path.join(base, 'carol');
    await lodeOk(['clone', share2, c], { cwd: base });
    expect(workspaceSnapshot(c)).toEqual(v1);

    // Only the remote-tracking ref reaches the other branch: its 10 changed files are garbage, packed among live ones.
    const packsBefore = filesUnder(path.join(b, '.lode', 'packs')).filter((p) => p.endsWith('.pack'));
    const gc = await lodeJson(['gc'], { cwd: b });
    expect(gc.filesRemoved).toBe(10);
    const packsAfter = filesUnder(path.join(b, '.lode', 'packs')).filter((p) => p.endsWith('.pack'));
    expect(packsAfter).not.toEqual(packsBefore);
    const fsck = await lodeJson(['fsck'], { cwd: b });
    expect(fsck.ok).toBe(true);
    expect(fsck.files).toBe(301);
    // Every live file is still there: restore the whole dataset from the store.
    fs.rmSync(path.join(b, 'data'), { recursive: true, force: true });
    await lodeOk(['checkout', '--', 'data'], { cwd: b });
    expect(workspaceSnapshot(b)).toEqual(v1);
    expect((await runLode(['cat', 'origin/other:data/d0/f100.bin', '--no-fetch'], { cwd: b })).code).toBe(6);
  }, 300_000);

  it('refuses a damaged packed file: fsck names it, and checkout writes nothing from it', async () => {
    const { base, share } = await pushed('small-damage', 200);
    const b = path.join(base, 'bob');
    await lodeOk(['clone', share, b], { cwd: base });
    const pack = filesUnder(path.join(b, '.lode', 'packs')).find((p) => p.endsWith('.pack'))!;
    const packFile = path.join(b, '.lode', 'packs', pack);
    // Flip one byte well inside the data (past the 21-byte header).
    fs.chmodSync(packFile, 0o644);
    const bytes = fs.readFileSync(packFile);
    bytes[5000] ^= 0xff;
    fs.writeFileSync(packFile, bytes);
    const f = await runLode(['fsck', '--json'], { cwd: b });
    expect(f.code).toBe(5);
    const fj = JSON.parse(f.stdout);
    const corrupt = fj.problems.filter((p: { kind: string }) => p.kind === 'corrupt');
    expect(corrupt).toHaveLength(1);
    expect(corrupt[0].message).toContain('local pack');

    // Remove every workspace file and restore: the damaged one is refused before anything is written.
    fs.rmSync(path.join(b, 'data'), { recursive: true, force: true });
    const co = await runLode(['checkout', '--', 'data'], { cwd: b });
    expectLodeError(co, 5);
    expect(filesUnder(path.join(b, 'data'))).toEqual([]);
  });
});

describe('status on a cloned workspace', () => {
  it('is clean with no hashing, stays clean after a touch (same bytes), and reports a real edit', async () => {
    const { base, share } = await pushed('small-status', 500);
    const b = path.join(base, 'bob');
    await lodeOk(['clone', share, b], { cwd: base });
    expect((await lodeJson(['status'], { cwd: b })).clean).toBe(true);
    const file = path.join(b, 'data/d3/f3.bin');
    const same = fs.readFileSync(file);
    fs.writeFileSync(file, same); // same bytes, new mtime
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(file, later, later);
    expect((await lodeJson(['status'], { cwd: b })).clean).toBe(true);
    // The stat was refreshed: still clean on the next run.
    expect((await lodeJson(['status'], { cwd: b })).clean).toBe(true);
    const edited = Buffer.from(same);
    edited[10] ^= 1;
    fs.writeFileSync(file, edited);
    const st = await lodeJson(['status'], { cwd: b });
    expect(st.clean).toBe(false);
    expect(st.unstaged).toEqual([{ path: 'data/d3/f3.bin', status: 'modified' }]);
    // A file of another size next to it, and one removed.
    fs.rmSync(path.join(b, 'data/d4/f4.bin'));
    const st2 = await lodeJson(['status'], { cwd: b });
    expect(st2.unstaged).toEqual([
      { path: 'data/d3/f3.bin', status: 'modified' },
      { path: 'data/d4/f4.bin', status: 'deleted' },
    ]);
  });
});
