// lode add of big files (issue 12): each file streams once through a 512 KiB
// block on a worker thread (read, written to the cache, cut and hashed), so
// chunks span blocks and the last block is short. What it must keep true:
// the files check out byte for byte, fsck finds the cache intact, and the
// cache holds each file whole with exactly its bytes.

import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, sha256, sha256File, writeFile } from '../test/helpers/cli.js';

const MiB = 1024 * 1024;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeDir(d);
});

describe('lode add of big files', () => {
  it('on worker threads (over 48 MiB in all): checked out again byte for byte, fsck clean', { timeout: 300_000 }, async () => {
    const dir = makeTempDir('lode-large-add');
    dirs.push(dir);
    const at = { cwd: dir, timeoutMs: 240_000 };
    await lodeOk(['init'], at);
    // Sizes no multiple of a read block; default chunking (256 KiB to 4 MiB chunks).
    const files = { 'data/a.bin': pseudoRandomBytes(30 * MiB + 777, 21), 'data/b.bin': pseudoRandomBytes(26 * MiB + 1, 22) };
    const want = Object.fromEntries(Object.entries(files).map(([rel, bytes]) => [rel, sha256(bytes)]));
    for (const [rel, bytes] of Object.entries(files)) writeFile(dir, rel, bytes);
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'big'], at);
    expect((await lodeJson<{ clean: boolean }>(['status'], at)).clean).toBe(true);
    for (const rel of Object.keys(files)) fs.rmSync(path.join(dir, rel));
    await lodeOk(['checkout', 'HEAD'], at);
    for (const [rel, sum] of Object.entries(want)) expect(sha256File(path.join(dir, rel))).toBe(sum);
    await lodeOk(['fsck'], at);
    // The cache holds each file whole, exactly its bytes.
    const cached: string[] = [];
    const cacheDir = path.join(dir, '.lode', 'cache');
    for (const sub of fs.readdirSync(cacheDir)) for (const f of fs.readdirSync(path.join(cacheDir, sub))) cached.push(sha256File(path.join(cacheDir, sub, f)));
    expect(cached.sort()).toEqual(Object.values(want).sort());
  });
});
