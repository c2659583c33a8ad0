// Clone of large files where checkout copies (no reflink, no hardlink, as on
// ext4): the fetch writes each chunked file's workspace copy from the same
// verified bytes as the cache copy, and the checkout renames it into place
// (sync/fetch.ts `twins`). The two copies must stay two files, byte-exact,
// with the modes the tree records; a damaged remote byte must still stop the
// clone before anything lands; the cache stays whole files that fsck and gc
// read as before.

import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, sha256File, writeFile } from '../test/helpers/cli.js';

const MiB = 1024 * 1024;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeDir(d);
});

/** cacheFiles lists the whole files in a store's cache. */
function cacheFiles(ws: string): string[] {
  const root = path.join(ws, '.lode', 'cache');
  return fs.readdirSync(root).flatMap((fan) => fs.readdirSync(path.join(root, fan)).map((n) => path.join(root, fan, n)));
}

async function pushed(name: string): Promise<{ base: string; remote: string; files: Record<string, string> }> {
  const base = makeTempDir(name);
  dirs.push(base);
  const ws = path.join(base, 'ws');
  fs.mkdirSync(ws);
  const at = { cwd: ws, timeoutMs: 200_000 };
  await lodeOk(['init'], at);
  // Over 64 MiB in all: the fetch checks ranges on worker threads and reads into reused buffers.
  const big = pseudoRandomBytes(60 * MiB, 7);
  const files = {
    'data/big.bin': writeFile(ws, 'data/big.bin', big),
    'data/same.bin': writeFile(ws, 'data/same.bin', big),
    'data/tool.bin': writeFile(ws, 'data/tool.bin', pseudoRandomBytes(12 * MiB, 8)),
  };
  fs.chmodSync(files['data/tool.bin'], 0o755);
  await lodeOk(['add', 'data'], at);
  await lodeOk(['commit', '-m', 'v1'], at);
  const remote = path.join(base, 'remote');
  await lodeOk(['remote', 'add', 'origin', remote], at);
  await lodeOk(['push'], at);
  return { base, remote, files };
}

describe('clone of large files written during the fetch', () => {
  it('round-trips byte-exact into files of their own (not the cache files), modes kept, nothing left in .lode/tmp; fsck (every cached byte read) and gc keep the cache whole', { timeout: 300_000 }, async () => {
    const { base, remote, files } = await pushed('lode-large-clone');
    const clone = path.join(base, 'clone');
    await lodeOk(['clone', remote, clone], { cwd: base, timeoutMs: 200_000 });
    for (const [rel, src] of Object.entries(files)) expect(sha256File(path.join(clone, rel)), rel).toBe(sha256File(src));
    expect(fs.statSync(path.join(clone, 'data/tool.bin')).mode & 0o111).not.toBe(0);
    expect(fs.statSync(path.join(clone, 'data/big.bin')).mode & 0o111).toBe(0);
    expect(fs.readdirSync(path.join(clone, '.lode', 'tmp'))).toEqual([]);
    // Two distinct contents, each cached whole, and no workspace file is a cache file.
    const cached = cacheFiles(clone);
    expect(cached).toHaveLength(2);
    const cacheInodes = new Set(cached.map((f) => fs.statSync(f).ino));
    for (const rel of Object.keys(files)) {
      const st = fs.statSync(path.join(clone, rel));
      expect(st.nlink).toBe(1);
      expect(cacheInodes.has(st.ino)).toBe(false);
    }
    const at = { cwd: clone, timeoutMs: 200_000 };
    expect((await lodeJson<{ clean: boolean }>(['status'], at)).clean).toBe(true);
    // Editing the workspace copy leaves the cache copy intact.
    fs.appendFileSync(path.join(clone, 'data/big.bin'), 'edited');
    expect((await runLode(['fsck'], at)).code).toBe(0);
    expect((await runLode(['gc'], at)).code).toBe(0);
    expect(cacheFiles(clone)).toHaveLength(2);
    await lodeOk(['checkout', '--force', '--', 'data/big.bin'], at);
    expect(sha256File(path.join(clone, 'data/big.bin'))).toBe(sha256File(files['data/big.bin']));
  });

  it('a byte flipped in a remote pack stops the clone (exit 5) with no workspace file written; once repaired, the clone completes', { timeout: 300_000 }, async () => {
    const { base, remote, files } = await pushed('lode-large-clone-bad');
    const packs = fs.readdirSync(path.join(remote, 'packs')).filter((f) => f.endsWith('.pack')).map((p) => path.join(remote, 'packs', p));
    // The last pack written holds the end of the data: earlier files may be complete when it fails.
    const last = packs.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs || fs.statSync(b).size - fs.statSync(a).size).find((p) => fs.statSync(p).size > 4 * MiB)!;
    const flip = (file: string, at: number) => {
      fs.chmodSync(file, 0o644);
      const fd = fs.openSync(file, 'r+');
      const one = Buffer.alloc(1);
      fs.readSync(fd, one, 0, 1, at);
      one[0] ^= 0x10;
      fs.writeSync(fd, one, 0, 1, at);
      fs.closeSync(fd);
    };
    const at = Math.floor(fs.statSync(last).size / 2);
    flip(last, at);
    const bad = path.join(base, 'bad');
    const r = await runLode(['clone', remote, bad], { cwd: base, timeoutMs: 200_000 });
    expect(r.code).toBe(5);
    expect(r.stderr.split('\n').some((l) => /^error: object [0-9a-f]{64} in pack [0-9a-f]{64} does not match its ID$/.test(l))).toBe(true);
    for (const rel of Object.keys(files)) expect(fs.existsSync(path.join(bad, rel)), rel).toBe(false);
    flip(last, at);
    await lodeOk(['clone', remote, bad], { cwd: base, timeoutMs: 200_000 });
    for (const [rel, src] of Object.entries(files)) expect(sha256File(path.join(bad, rel)), rel).toBe(sha256File(src));
    expect(fs.readdirSync(path.join(bad, '.lode', 'tmp'))).toEqual([]);
  });
});
