// Large files (issue 12): what the faster add and push paths must keep true.
// A file over 64 MiB gets no quick checksum at add, so status re-validates a
// touched one by hashing it; push and clone carry it through version 2 packs
// (named by their table of contents) that fsck --read-data accepts.

import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, sha256File, writeFile } from '../test/helpers/cli.js';

const MiB = 1024 * 1024;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeDir(d);
});

interface StatusJson {
  unstaged: { path: string; status: 'modified' | 'deleted' }[];
  clean: boolean;
}

describe('a file over 64 MiB', () => {
  it('touched, is still clean (re-hashed, not assumed); rewritten with the same size, is modified', { timeout: 240_000 }, async () => {
    const dir = makeTempDir('lode-large-status');
    dirs.push(dir);
    const at = { cwd: dir, timeoutMs: 200_000 };
    await lodeOk(['init'], at);
    const file = writeFile(dir, 'data/big.bin', pseudoRandomBytes(65 * MiB, 7));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'big'], at);
    expect((await lodeJson<StatusJson>(['status'], at)).clean).toBe(true);

    // Same bytes, new mtime: the index holds no quick checksum for it, so status hashes it and finds it unchanged.
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(file, later, later);
    const touched = await lodeJson<StatusJson>(['status'], at);
    expect(touched.unstaged).toEqual([]);
    expect(touched.clean).toBe(true);

    // One byte changed in the middle, same size, mtime moved: modified.
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from([0x42 ^ fs.readFileSync(file).at(33 * MiB)!]), 0, 1, 33 * MiB);
    fs.closeSync(fd);
    const evenLater = new Date(Date.now() + 10_000);
    fs.utimesSync(file, evenLater, evenLater);
    const st = await lodeJson<StatusJson>(['status'], at);
    expect(st.unstaged).toEqual([{ path: 'data/big.bin', status: 'modified' }]);
  });
});

describe('push and clone of large files to a directory remote', () => {
  it('round-trips every byte through several packs, which fsck --read-data accepts', { timeout: 300_000 }, async () => {
    const base = makeTempDir('lode-large-push');
    dirs.push(base);
    const ws = path.join(base, 'ws');
    fs.mkdirSync(ws);
    const at = { cwd: ws, timeoutMs: 200_000 };
    await lodeOk(['init'], at);
    // Two files of several packs each (packs seal at 32 MiB), and a small one.
    const a = writeFile(ws, 'data/a.bin', pseudoRandomBytes(70 * MiB, 11));
    const b = writeFile(ws, 'data/b.bin', pseudoRandomBytes(40 * MiB + 123, 12));
    writeFile(ws, 'data/small.txt', 'hello\n');
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v1'], at);
    const remote = path.join(base, 'remote');
    await lodeOk(['remote', 'add', 'origin', remote], at);
    const push = (await lodeJson(['push'], at)).pushed[0];
    expect(push.packs).toBeGreaterThanOrEqual(4);

    // Every pack is a version 2 pack.
    const packs = fs.readdirSync(path.join(remote, 'packs')).filter((f) => f.endsWith('.pack'));
    expect(packs).toHaveLength(push.packs);
    for (const p of packs) {
      const head = Buffer.alloc(5);
      const fd = fs.openSync(path.join(remote, 'packs', p), 'r');
      fs.readSync(fd, head, 0, 5, 0);
      fs.closeSync(fd);
      expect(head.toString('latin1')).toBe('LODP\x02');
    }

    const clone = path.join(base, 'clone');
    await lodeOk(['clone', remote, clone], { cwd: base, timeoutMs: 200_000 });
    expect(sha256File(path.join(clone, 'data/a.bin'))).toBe(sha256File(a));
    expect(sha256File(path.join(clone, 'data/b.bin'))).toBe(sha256File(b));
    expect(fs.readFileSync(path.join(clone, 'data/small.txt'), 'utf8')).toBe('hello\n');

    const fsck = await runLode(['fsck', '--remote', 'origin', '--read-data'], { cwd: clone, timeoutMs: 200_000 });
    expect(fsck.code, fsck.stderr).toBe(0);

    // A byte flipped outside every object (in a pack's nonce) breaks the pack's name: fsck says so.
    const victim = path.join(remote, 'packs', packs[0]);
    fs.chmodSync(victim, 0o644);
    const fd = fs.openSync(victim, 'r+');
    const one = Buffer.alloc(1);
    fs.readSync(fd, one, 0, 1, 10);
    one[0] ^= 0xff;
    fs.writeSync(fd, one, 0, 1, 10);
    fs.closeSync(fd);
    const bad = await runLode(['fsck', '--remote', 'origin', '--read-data', '--json'], { cwd: clone, timeoutMs: 200_000 });
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toContain(`pack ${packs[0].slice(0, -'.pack'.length)} does not match its name`);
  });

  it('a damaged chunk in the local cache stops the push before its pack leaves: no ref moves, the error names it', { timeout: 300_000 }, async () => {
    const base = makeTempDir('lode-large-corrupt');
    dirs.push(base);
    const ws = path.join(base, 'ws');
    fs.mkdirSync(ws);
    const at = { cwd: ws, timeoutMs: 200_000 };
    await lodeOk(['init'], at);
    writeFile(ws, 'data/big.bin', pseudoRandomBytes(12 * MiB, 21));
    const add = await lodeJson(['add', 'data'], at);
    expect(add.added).toBe(1);
    await lodeOk(['commit', '-m', 'v1'], at);
    // Flip one byte in the middle of the cached copy (a chunk hashed in the thread pool).
    const cacheRoot = path.join(ws, '.lode', 'cache');
    const cached = fs.readdirSync(cacheRoot).flatMap((fan) => fs.readdirSync(path.join(cacheRoot, fan)).map((n) => path.join(cacheRoot, fan, n)));
    expect(cached).toHaveLength(1);
    fs.chmodSync(cached[0], 0o644);
    const fd = fs.openSync(cached[0], 'r+');
    const one = Buffer.alloc(1);
    fs.readSync(fd, one, 0, 1, 6 * MiB);
    one[0] ^= 0x01;
    fs.writeSync(fd, one, 0, 1, 6 * MiB);
    fs.closeSync(fd);

    const remote = path.join(base, 'remote');
    await lodeOk(['remote', 'add', 'origin', remote], at);
    const r = await runLode(['push'], at);
    expect(r.code).toBe(5);
    expect(r.stderr.split('\n').some((l) => /^error: local object [0-9a-f]{64} is corrupt; nothing was pushed past it$/.test(l))).toBe(true);
    expect(fs.existsSync(path.join(remote, 'refs', 'heads', 'main'))).toBe(false);
  });
});
