// Large transfers hash on worker threads (HashPool: push and fetch of 64 MiB
// or more). Moving the check off the main thread must not weaken it: a byte
// flipped in the local cache still stops the push before its pack leaves,
// and a byte flipped in a remote pack still stops the clone before the file
// is written.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, sha256File, writeFile } from '../test/helpers/cli.js';
import { createBucket, MOTO_CREDENTIALS, startMoto, type TestServer } from '../test/helpers/s3-servers.js';

const MiB = 1024 * 1024;
// Over HASH_POOL_MIN_BYTES (64 MiB): these transfers are checked on worker threads.
const SIZE = 80 * MiB;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeDir(d);
});

/** flipByte inverts one byte of `file` at `at` (read-only files made writable first). */
function flipByte(file: string, at: number): void {
  fs.chmodSync(file, 0o644);
  const fd = fs.openSync(file, 'r+');
  const one = Buffer.alloc(1);
  fs.readSync(fd, one, 0, 1, at);
  one[0] ^= 0x01;
  fs.writeSync(fd, one, 0, 1, at);
  fs.closeSync(fd);
}

async function workspace(name: string): Promise<{ base: string; ws: string; at: { cwd: string; timeoutMs: number }; file: string }> {
  const base = makeTempDir(name);
  dirs.push(base);
  const ws = path.join(base, 'ws');
  fs.mkdirSync(ws);
  const at = { cwd: ws, timeoutMs: 200_000 };
  await lodeOk(['init'], at);
  const file = writeFile(ws, 'data/big.bin', pseudoRandomBytes(SIZE, 31));
  expect((await lodeJson<{ added: number }>(['add', 'data'], at)).added).toBe(1);
  await lodeOk(['commit', '-m', 'v1'], at);
  return { base, ws, at, file };
}

describe('verification on worker threads', () => {
  it('a damaged chunk late in a large cached file stops the push: exit 5, the error names it, no ref moves', { timeout: 300_000 }, async () => {
    const { base, ws, at } = await workspace('lode-pool-push');
    const cacheRoot = path.join(ws, '.lode', 'cache');
    const cached = fs.readdirSync(cacheRoot).flatMap((fan) => fs.readdirSync(path.join(cacheRoot, fan)).map((n) => path.join(cacheRoot, fan, n)));
    expect(cached).toHaveLength(1);
    // Late in the file: packs before it are already being sent when its chunk is checked.
    flipByte(cached[0], 70 * MiB);
    const remote = path.join(base, 'remote');
    await lodeOk(['remote', 'add', 'origin', remote], at);
    const r = await runLode(['push'], at);
    expect(r.code).toBe(5);
    expect(r.stderr.split('\n').some((l) => /^error: local object [0-9a-f]{64} is corrupt; nothing was pushed past it$/.test(l))).toBe(true);
    expect(fs.existsSync(path.join(remote, 'refs', 'heads', 'main'))).toBe(false);
  });

  it('a large cached file cut short after add stops the push (chunks are read off the main thread): exit 5, the file named, no ref moves', { timeout: 300_000 }, async () => {
    const { base, ws, at } = await workspace('lode-pool-push-short');
    const cacheRoot = path.join(ws, '.lode', 'cache');
    const cached = fs.readdirSync(cacheRoot).flatMap((fan) => fs.readdirSync(path.join(cacheRoot, fan)).map((n) => path.join(cacheRoot, fan, n)));
    expect(cached).toHaveLength(1);
    fs.chmodSync(cached[0], 0o644);
    fs.truncateSync(cached[0], 75 * MiB);
    const remote = path.join(base, 'remote');
    await lodeOk(['remote', 'add', 'origin', remote], at);
    const r = await runLode(['push'], at);
    expect(r.code).toBe(5);
    expect(r.stderr.split('\n').some((l) => l === `error: cached file ${cached[0]} is shorter than its index or chunk list says`)).toBe(true);
    expect(fs.existsSync(path.join(remote, 'refs', 'heads', 'main'))).toBe(false);
  });

  it('a large file round-trips; a byte flipped inside a remote pack stops the clone: exit 5, the object and pack named, no file written', { timeout: 300_000 }, async () => {
    const { base, at, file } = await workspace('lode-pool-clone');
    const remote = path.join(base, 'remote');
    await lodeOk(['remote', 'add', 'origin', remote], at);
    await lodeOk(['push'], at);
    const good = path.join(base, 'good');
    await lodeOk(['clone', remote, good], { cwd: base, timeoutMs: 200_000 });
    expect(sha256File(path.join(good, 'data/big.bin'))).toBe(sha256File(file));

    // The largest pack holds file data: flip a byte well past its header, inside an object.
    const packs = fs.readdirSync(path.join(remote, 'packs')).filter((f) => f.endsWith('.pack'));
    const largest = packs.map((p) => path.join(remote, 'packs', p)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
    flipByte(largest, 5 * MiB);
    const bad = path.join(base, 'bad');
    const r = await runLode(['clone', remote, bad], { cwd: base, timeoutMs: 200_000 });
    expect(r.code).toBe(5);
    const packId = path.basename(largest, '.pack');
    expect(r.stderr.split('\n').some((l) => new RegExp(`^error: object [0-9a-f]{64} in pack ${packId} does not match its ID$`).test(l))).toBe(true);
    expect(fs.existsSync(path.join(bad, 'data', 'big.bin'))).toBe(false);
  });
});

/** repetitiveText is `bytes` bytes of CSV-like rows with few distinct values: brotli shrinks it several times over. */
function repetitiveText(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  let at = 0;
  for (let i = 0; at < bytes; i++) at += out.write(`${i},${['cat', 'dog', 'bird'][i % 3]},${(i * 37) % 1000},2024-0${1 + (i % 9)}-1${i % 9}\n`, at);
  return out;
}

describe('compressed packs on the worker path', () => {
  it('a large file, incompressible then compressible, pushes (hashed on workers before compression) and clones byte-exact (raw objects on workers, compressed ones decompressed first); a flipped compressed byte stops the clone', { timeout: 300_000 }, async () => {
    const base = makeTempDir('lode-pool-compressed');
    dirs.push(base);
    const ws = path.join(base, 'ws');
    fs.mkdirSync(ws);
    const at = { cwd: ws, timeoutMs: 200_000 };
    await lodeOk(['init'], at);
    // 66 MiB stored raw (over HASH_POOL_MIN_BYTES on fetch too), then 24 MiB that compresses.
    const file = writeFile(ws, 'data/mixed.bin', Buffer.concat([pseudoRandomBytes(66 * MiB, 7), repetitiveText(24 * MiB)]));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v1'], at);
    const remote = path.join(base, 'remote');
    await lodeOk(['remote', 'add', 'origin', remote], at);
    const pushed = (await lodeJson<{ pushed: { bytes: number; stored: number }[] }>(['push'], at)).pushed[0];
    expect(pushed.bytes).toBeGreaterThanOrEqual(90 * MiB);
    // The text part was compressed (to well under half), the random part was not.
    expect(pushed.stored).toBeLessThan(pushed.bytes - 12 * MiB);
    expect(pushed.stored).toBeGreaterThan(66 * MiB);
    const good = path.join(base, 'good');
    await lodeOk(['clone', remote, good], { cwd: base, timeoutMs: 200_000 });
    expect(sha256File(path.join(good, 'data/mixed.bin'))).toBe(sha256File(file));

    // Flip a byte inside the first compressed object (index version 2: 57-byte entries, codec at +48).
    const idxFiles = fs.readdirSync(path.join(remote, 'packs')).filter((f) => f.endsWith('.idx')).map((f) => path.join(remote, 'packs', f));
    let target: { pack: string; offset: number; length: number } | undefined;
    for (const f of idxFiles) {
      const idx = fs.readFileSync(f);
      if (target || idx.subarray(0, 5).toString('latin1') !== 'LODX\x02') continue;
      for (let i = 0, pos = 41; i < idx.readUInt32BE(37); i++, pos += 57) {
        if (idx[pos + 48] !== 0) {
          target = { pack: f.replace(/\.idx$/, '.pack'), offset: Number(idx.readBigUInt64BE(pos + 32)), length: idx.readUInt32BE(pos + 40) };
          break;
        }
      }
    }
    expect(target).toBeDefined();
    flipByte(target!.pack, target!.offset + Math.floor(target!.length / 2));
    const bad = path.join(base, 'bad');
    const r = await runLode(['clone', remote, bad], { cwd: base, timeoutMs: 200_000 });
    expect(r.code).toBe(5);
    const packId = path.basename(target!.pack, '.pack');
    expect(r.stderr.split('\n').some((l) => new RegExp(`^error: object [0-9a-f]{64} in pack ${packId} does not match its checksum`).test(l))).toBe(true);
    expect(fs.existsSync(path.join(bad, 'data', 'mixed.bin'))).toBe(false);
  });
});

describe('a large transfer through S3 (moto)', () => {
  let moto: TestServer;
  beforeAll(async () => {
    moto = await startMoto();
    await createBucket(moto.endpoint, 'big-data');
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('push uploads packs laid out in shared memory, and clone checks the ranges on workers: every byte comes back', { timeout: 300_000 }, async () => {
    const env = { AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };
    const { base, at, file } = await workspace('lode-pool-s3');
    const s3 = { ...at, env };
    await lodeOk(['remote', 'add', 'origin', 's3://big-data/x', '--endpoint', moto.endpoint, '--path-style'], s3);
    const push = (await lodeJson<{ pushed: { packs: number }[] }>(['push'], s3)).pushed[0];
    expect(push.packs).toBeGreaterThanOrEqual(3);
    const clone = path.join(base, 'clone');
    await lodeOk(['clone', 's3://big-data/x', clone, '--endpoint', moto.endpoint, '--path-style'], { cwd: base, env, timeoutMs: 200_000 });
    expect(sha256File(path.join(clone, 'data/big.bin'))).toBe(sha256File(file));
  });
});
