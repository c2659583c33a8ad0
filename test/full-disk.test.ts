// A full disk (issue 9, part 6): every command that writes, run on a small
// tmpfs with little room left, either succeeds or fails leaving the
// workspace, HEAD and index as they were, with no temp file behind. A
// checkout whose result fits succeeds even when old and new files do not
// fit side by side. Needs root (to mount the tmpfs); skipped otherwise.

import { describe, it, expect, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, treeSnapshot, workspaceSnapshot, writeFile, type RunResult } from './helpers/cli.js';

const MiB = 1 << 20;

/** Why tmpfs mounts cannot be made here, or undefined when they can. */
function mountProblem(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (mounting a tmpfs needs root)';
  const probe = makeTempDir('lode-tmpfs-probe');
  try {
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { encoding: 'utf8' });
    if (r.status !== 0) return `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}`;
    spawnSync('umount', [probe]);
    return undefined;
  } finally {
    removeDir(probe);
  }
}
const problem = mountProblem();
if (problem) console.warn(`full-disk tests skipped: ${problem}`);

const mounts: string[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) {
    spawnSync('umount', ['-l', m]);
    removeDir(m);
  }
  for (const d of dirs.splice(0)) removeDir(d);
});

/** smallFs mounts a tmpfs of `mib` MiB and returns its directory. */
function smallFs(mib: number): string {
  const dir = makeTempDir('lode-fullfs');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount failed: ${r.stderr}`);
  mounts.push(dir);
  return dir;
}

const freeBytes = (dir: string) => {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
};

/** fillTo writes a filler file so that about `leave` bytes stay free on dir's file system. */
function fillTo(dir: string, leave: number): void {
  const n = freeBytes(dir) - leave;
  if (n <= 0) return;
  const fd = fs.openSync(path.join(dir, 'filler'), 'a');
  const buf = Buffer.alloc(MiB);
  let left = n;
  try {
    while (left > 0) left -= fs.writeSync(fd, buf, 0, Math.min(buf.length, left));
  } catch {
    // full already
  } finally {
    fs.closeSync(fd);
  }
}

const failedForSpace = (r: RunResult) => {
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stderr).toMatch(/space|ENOSPC|full/i);
};

/**
 * stateOf is what a failed command must leave as it was: the user's files,
 * HEAD, the index, refs and remote-tracking refs. Content-addressed objects
 * a failed fetch already stored may stay (unreferenced; `lode gc` drops them).
 */
const stateOf = (repoDir: string) =>
  Object.fromEntries(Object.entries(treeSnapshot(repoDir)).filter(([k]) => !/^\.lode\/(objects|cache|remotes\/[^/]+\/idx)\//.test(k)));

const noTemps = (repoDir: string) => {
  expect(fs.readdirSync(path.join(repoDir, '.lode', 'tmp'))).toEqual([]);
  expect(Object.keys(treeSnapshot(repoDir)).filter((k) => /(^|\/)\.lode-checkout-/.test(k))).toEqual([]);
};

/** copyWorkspace makes fsDir/ws on a fresh `mib` MiB filesystem: `lode init`, cache.type copy. */
async function copyWorkspace(mib: number) {
  const fsDir = smallFs(mib);
  const dir = path.join(fsDir, 'ws');
  fs.mkdirSync(dir);
  const at = { cwd: dir };
  await lodeOk(['init'], at);
  await lodeOk(['config', 'cache.type', 'copy'], at);
  return { fsDir, dir, at };
}

describe.skipIf(problem !== undefined)('a nearly full disk', () => {
  it('checkout switches a big file when the result fits, although old and new do not fit side by side', { timeout: 120_000 }, async () => {
    const { fsDir, dir, at } = await copyWorkspace(24);
    writeFile(dir, 'data/big.bin', pseudoRandomBytes(5 * MiB, 1));
    writeFile(dir, 'data/small.txt', 'v1\n');
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v1'], at);
    await lodeOk(['tag', 'v1'], at);
    const v1 = workspaceSnapshot(dir);
    writeFile(dir, 'data/big.bin', pseudoRandomBytes(5 * MiB, 2));
    writeFile(dir, 'data/small.txt', 'v2\n');
    await lodeOk(['commit', '-am', 'v2'], at);
    fillTo(fsDir, 3 * MiB);
    expect(freeBytes(fsDir)).toBeLessThan(5 * MiB);
    const r = await runLode(['checkout', 'v1'], at);
    expect(r.code, r.stderr).toBe(0);
    expect(workspaceSnapshot(path.join(dir))).toEqual(v1);
    noTemps(dir);
    expect((await lodeJson(['status'], at)).clean).toBe(true);
    expect((await runLode(['fsck'], at)).code).toBe(0);
  });

  it('checkout whose result does not fit says how much room it needs and changes nothing', { timeout: 120_000 }, async () => {
    const { fsDir, dir, at } = await copyWorkspace(24);
    writeFile(dir, 'data/a.bin', pseudoRandomBytes(3 * MiB, 3));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v1'], at);
    await lodeOk(['tag', 'v1'], at);
    writeFile(dir, 'data/b.bin', pseudoRandomBytes(4 * MiB, 4));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v2'], at);
    await lodeOk(['checkout', 'v1'], at);
    fillTo(fsDir, 1 * MiB);
    const before = treeSnapshot(dir);
    const r = await runLode(['checkout', 'main'], at);
    failedForSpace(r);
    expect(r.stderr).toMatch(/^error: not enough space for this checkout .*needs 4\.0 MiB .* short\); nothing was changed$/m);
    expect(r.code).toBe(74);
    expect(treeSnapshot(dir)).toEqual(before);
    noTemps(dir);
  });

  it('add, commit, fetch, pull and clone that run out of space leave everything as it was', { timeout: 240_000 }, async () => {
    // A source repository and a directory remote on the ordinary disk.
    const src = makeTempDir('lode-fullfs-src');
    const remote = makeTempDir('lode-fullfs-remote');
    dirs.push(src, remote);
    const sat = { cwd: src };
    await lodeOk(['init'], sat);
    writeFile(src, 'data/one.bin', pseudoRandomBytes(2 * MiB, 10));
    await lodeOk(['add', 'data'], sat);
    await lodeOk(['commit', '-m', 'one'], sat);
    await lodeOk(['remote', 'add', 'origin', remote], sat);
    await lodeOk(['push'], sat);

    const fsDir = smallFs(24);
    const at = { cwd: fsDir };
    await lodeOk(['clone', remote, 'ws'], at);
    const dir = path.join(fsDir, 'ws');
    const wat = { cwd: dir };

    // The remote moves on by 6 MiB; pull and fetch have 2 MiB.
    writeFile(src, 'data/two.bin', pseudoRandomBytes(6 * MiB, 11));
    await lodeOk(['add', 'data'], sat);
    await lodeOk(['commit', '-m', 'two'], sat);
    await lodeOk(['push'], sat);
    fillTo(fsDir, 2 * MiB);
    let before = stateOf(dir);
    failedForSpace(await runLode(['pull'], wat));
    noTemps(dir);
    expect(stateOf(dir)).toEqual(before);
    failedForSpace(await runLode(['fetch'], wat));
    noTemps(dir);
    expect(stateOf(dir)).toEqual(before);
    expect((await runLode(['fsck'], wat)).code).toBe(0);

    // add of a file bigger than the room left: the space it took is given back.
    writeFile(dir, 'data/local.bin', pseudoRandomBytes(Math.max(0, freeBytes(fsDir) - 256 * 1024), 12));
    before = stateOf(dir);
    const freeBefore = freeBytes(fsDir);
    failedForSpace(await runLode(['add', 'data'], wat));
    noTemps(dir);
    expect(stateOf(dir)).toEqual(before);
    expect(freeBytes(fsDir)).toBe(freeBefore);
    fs.rmSync(path.join(dir, 'data', 'local.bin'));

    // commit with no room at all.
    fs.rmSync(path.join(fsDir, 'filler'));
    writeFile(dir, 'data/tiny.txt', 'tiny\n');
    await lodeOk(['add', 'data'], wat);
    fillTo(fsDir, 0);
    before = stateOf(dir);
    const c = await runLode(['commit', '-m', 'tiny'], wat);
    if (c.code !== 0) {
      failedForSpace(c);
      expect(stateOf(dir)).toEqual(before);
    }
    noTemps(dir);
    expect((await runLode(['fsck'], wat)).code).toBe(0);

    // clone of 8 MiB with little room: nothing is left of the new workspace.
    fs.rmSync(path.join(fsDir, 'filler'));
    fillTo(fsDir, 3 * MiB);
    failedForSpace(await runLode(['clone', remote, 'ws2'], at));
    expect(fs.existsSync(path.join(fsDir, 'ws2'))).toBe(false);

    // With room again, pull completes.
    fs.rmSync(path.join(fsDir, 'filler'));
    await lodeOk(['pull'], wat);
    expect(fs.readFileSync(path.join(dir, 'data', 'two.bin')).equals(pseudoRandomBytes(6 * MiB, 11))).toBe(true);
    noTemps(dir);
  });
});
