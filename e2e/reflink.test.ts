// Reflink checkouts on a real copy-on-write filesystem (a loop-mounted XFS
// with reflink=1; needs root and xfsprogs, and fails with the reason when the
// mount is impossible). Checkout clones from the cache, and a clone is
// independent: editing it never reaches the cache.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { lodeJson, lodeOk, pseudoRandomBytes, readFile, runLode, sha256, workspaceSnapshot, writeFile, type RunOptions } from '../test/helpers/cli.js';
import { mountReflinkFs, type ReflinkMount } from '../test/helpers/reflink-fs.js';

const MiB = 1024 * 1024;

describe('reflink checkout (XFS reflink=1)', () => {
  let mount: ReflinkMount;
  let dir: string;
  let at: RunOptions;

  beforeAll(async () => {
    mount = await mountReflinkFs();
    dir = path.join(mount.dir, 'ws');
    fs.mkdirSync(dir);
    at = { cwd: dir };
  });
  afterAll(async () => {
    await mount?.cleanup();
  });

  it('checkout of an old version clones files from the cache, byte for byte; the newest version of a big file is cloned, its older one assembled from chunks', async () => {
    await lodeOk(['init'], at);
    await lodeOk(['config', 'cache.type', 'reflink,copy'], at);
    const big = pseudoRandomBytes(3 * MiB, 7);
    writeFile(dir, 'data/big.bin', big);
    // Over 64 KiB, so add keeps them as cache files (smaller ones go into local packs, which are copied).
    const pad = 'x'.repeat(100 * 1024);
    writeFile(dir, 'data/small.txt', `small v1\n${pad}`);
    writeFile(dir, 'data/same.txt', `never changes\n${pad}`);
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v1'], at);
    await lodeOk(['tag', 'v1'], at);
    const v1 = workspaceSnapshot(dir);

    const edited = Buffer.from(big);
    edited.write('changed', MiB);
    writeFile(dir, 'data/big.bin', edited);
    writeFile(dir, 'data/small.txt', `small v2\n${pad}`);
    fs.rmSync(path.join(dir, 'data/same.txt'));
    writeFile(dir, 'data/added.txt', `only in v2\n${pad}`);
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v2'], at);

    const r = await lodeJson(['checkout', 'v1'], at);
    expect(r.methods.reflink).toBeGreaterThan(0);
    // big.bin at v1 is an older version of a chunked file: the cache keeps it
    // as chunks (the newest is whole), so it is a verified copy.
    expect(r.methods).toEqual({ reflink: 2, hardlink: 0, copy: 1 });
    expect(workspaceSnapshot(dir)).toEqual(v1);
    expect(sha256(readFile(dir, 'data/big.bin'))).toBe(sha256(big));
    // A clone is an ordinary writable file, not the cache's read-only inode.
    const st = fs.statSync(path.join(dir, 'data/big.bin'));
    expect(st.mode & 0o777).toBe(0o644);
    expect(st.nlink).toBe(1);
    expect((await lodeJson(['status'], at)).clean).toBe(true);

    // Writing into the clone leaves the cache intact (copy-on-write).
    const fd = fs.openSync(path.join(dir, 'data/big.bin'), 'r+');
    fs.writeSync(fd, Buffer.from('scribble'), 0, 8, 0);
    fs.closeSync(fd);
    expect((await runLode(['fsck'], at)).code).toBe(0);
    expect((await lodeJson(['status'], at)).unstaged).toEqual([{ path: 'data/big.bin', status: 'modified' }]);

    // Back to the newest version: every file, big.bin included, is a clone.
    const back = await lodeJson(['checkout', '--force', 'main'], at);
    expect(back.methods).toEqual({ reflink: 3, hardlink: 0, copy: 0 });
    expect(sha256(readFile(dir, 'data/big.bin'))).toBe(sha256(edited));
    expect((await lodeJson(['status'], at)).clean).toBe(true);
  });
});
