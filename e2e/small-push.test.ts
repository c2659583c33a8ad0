// Push of small files kept in local packs (.lode/packs): a run of neighbours
// in a pack is read in one go straight into the remote pack and each file is
// then checked against its ID there. A damaged packed file stops the push
// before anything past it is uploaded (exit 5, no ref on the remote); a good
// copy elsewhere in the store is used instead; and files the remote already
// has, interleaved in a pack with files it lacks, are skipped without
// shifting the others.

import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, workspaceSnapshot, writeFile } from '../test/helpers/cli.js';

const dirs: string[] = [];
afterEach(() => {
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

const localPacks = (w: string) => filesUnder(path.join(w, '.lode', 'packs')).filter((p) => p.endsWith('.pack'));

/** content is file i's bytes: a marker no other file contains, then pseudo-random bytes. */
const content = (i: number, seed = 1) => Buffer.concat([Buffer.from(`<<file ${i} seed ${seed}>>`), pseudoRandomBytes(500 + ((i * 37) % 3000), i + 1000 * seed)]);

async function workspace(base: string, name: string, files: { rel: string; bytes: Buffer }[], branch?: string): Promise<string> {
  const w = path.join(base, name);
  fs.mkdirSync(w);
  await lodeOk(['init'], { cwd: w });
  if (branch) await lodeOk(['checkout', '-b', branch], { cwd: w });
  for (const f of files) writeFile(w, f.rel, f.bytes);
  await lodeOk(['add', 'data'], { cwd: w });
  await lodeOk(['commit', '-m', `${files.length} files`], { cwd: w });
  return w;
}

/** flipIn flips one byte of `marker`'s bytes in whichever local pack holds them; false if none does. */
function flipIn(w: string, marker: Buffer): boolean {
  for (const pack of localPacks(w)) {
    const bytes = fs.readFileSync(pack);
    const at = bytes.indexOf(marker);
    if (at < 0) continue;
    bytes[at + marker.length + 3] ^= 0x40;
    fs.chmodSync(pack, 0o644);
    fs.writeFileSync(pack, bytes);
    return true;
  }
  return false;
}

/** expectCloneIdentical clones `share` (with `args`) beside `w` and checks it holds what `w` does and passes fsck. */
async function expectCloneIdentical(base: string, share: string, w: string, args: string[] = []): Promise<void> {
  const c = path.join(base, 'clone');
  await lodeOk(['clone', share, c, ...args], { cwd: base });
  expect(workspaceSnapshot(c)).toEqual(workspaceSnapshot(w));
  expect((await lodeJson(['fsck'], { cwd: c })).ok).toBe(true);
}

/** pushAndCloneIdentical pushes `w` to a new folder remote (exit 0 expected) and checks a clone of it. */
async function pushAndCloneIdentical(base: string, w: string): Promise<void> {
  const share = path.join(base, 'share');
  await lodeOk(['remote', 'add', 'origin', share], { cwd: w });
  const r = await runLode(['push'], { cwd: w });
  expect(r.code, r.stderr).toBe(0);
  await expectCloneIdentical(base, share, w);
}

describe('push of small files from local packs', () => {
  it('a flipped byte in a packed file stops the push (exit 5): no ref and no pack on the remote', async () => {
    const base = makeTempDir('lode-e2e-small-push-corrupt');
    dirs.push(base);
    const files = Array.from({ length: 300 }, (_, i) => ({ rel: `data/d${i % 10}/f${i}.bin`, bytes: content(i) }));
    const w = await workspace(base, 'w', files);
    expect(localPacks(w).length).toBeGreaterThan(0);
    // A file in the middle of the data: files before and after it in its pack are sent in the same run.
    expect(flipIn(w, Buffer.from('<<file 150 seed 1>>'))).toBe(true);

    const share = path.join(base, 'share');
    await lodeOk(['remote', 'add', 'origin', share], { cwd: w });
    const r = await runLode(['push'], { cwd: w });
    const err = expectLodeError(r, 5);
    expect(err).toMatch(/corrupt/);
    expect(fs.existsSync(path.join(share, 'refs', 'heads', 'main'))).toBe(false);
    // Every small file fits one remote pack, and a pack leaves only once all of it checked out.
    expect(filesUnder(path.join(share, 'packs'))).toEqual([]);
  }, 180_000);

  it('takes a good copy from elsewhere in the store when the packed one is damaged, and the clone is identical', async () => {
    const base = makeTempDir('lode-e2e-small-push-repair');
    dirs.push(base);
    const files = Array.from({ length: 200 }, (_, i) => ({ rel: `data/d${i % 10}/f${i}.bin`, bytes: content(i) }));
    const w = await workspace(base, 'w', files);
    const before = new Set(localPacks(w));
    expect(flipIn(w, Buffer.from('<<file 77 seed 1>>'))).toBe(true);
    // The intact workspace copy added again goes to a new pack; the damaged one stays where it was.
    fs.rmSync(path.join(w, 'data', 'd7', 'f77.bin'));
    await lodeOk(['add', 'data'], { cwd: w });
    writeFile(w, 'data/d7/f77.bin', files[77].bytes);
    await lodeOk(['add', 'data'], { cwd: w });
    expect(localPacks(w).some((p) => !before.has(p))).toBe(true);

    await pushAndCloneIdentical(base, w);
  }, 180_000);

  it('skips files the remote has that lie between files it lacks in a pack, and sends the others intact', async () => {
    const base = makeTempDir('lode-e2e-small-push-gaps');
    dirs.push(base);
    // Alice pushes the even files; Bob's single pack holds all of them, interleaved with files only he has.
    const all = Array.from({ length: 400 }, (_, i) => ({ rel: `data/d${i % 10}/f${i}.bin`, bytes: i % 2 === 0 ? content(i) : content(i, 2) }));
    const a = await workspace(base, 'alice', all.filter((_, i) => i % 2 === 0));
    const share = path.join(base, 'share');
    await lodeOk(['remote', 'add', 'origin', share], { cwd: a });
    await lodeOk(['push'], { cwd: a });

    const b = await workspace(base, 'bob', all, 'bob');
    await lodeOk(['remote', 'add', 'origin', share], { cwd: b });
    const pushed = await lodeJson(['push'], { cwd: b });
    const sent = (pushed.pushed ?? [pushed])[0];
    // 200 new files plus Bob's trees and commit: none of Alice's files again.
    expect(sent.objects).toBeGreaterThanOrEqual(200);
    expect(sent.objects).toBeLessThan(400);
    await expectCloneIdentical(base, share, b, ['-b', 'bob']);
  }, 180_000);

  it('with 64 MiB and more of other file data (pack files written on workers), the small files still go first and the clone is identical', async () => {
    const base = makeTempDir('lode-e2e-small-push-mixed');
    dirs.push(base);
    const files = Array.from({ length: 300 }, (_, i) => ({ rel: `data/d${i % 10}/f${i}.bin`, bytes: content(i) }));
    files.push({ rel: 'data/big.bin', bytes: pseudoRandomBytes(70 << 20, 99) });
    const w = await workspace(base, 'w', files);
    await pushAndCloneIdentical(base, w);
  }, 300_000);
});
