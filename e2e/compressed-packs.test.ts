// Compressed packs through the binary: a push of CSV data stores it
// compressed (the remote holds well under half its bytes), raises the remote
// to format 4 (its rows in the column layout), and clone, fsck --remote --read-data and gc --remote's repack
// read it back byte for byte; random data stays raw and leaves the remote in
// format 1. Forged compressed entries (damaged streams, bombs) are refused
// as corrupt data (exit 5), on a directory remote and on S3 (moto).

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import xxhash from 'xxhash-wasm';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, readFile, removeDir, runLode, writeFile } from '../test/helpers/cli.js';
import { createBucket, MOTO_CREDENTIALS, startMoto, type TestServer } from '../test/helpers/s3-servers.js';
import { expandPack } from '../test/helpers/packs.js';
import { pushedToShare } from './repos.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

/** A repetitive CSV of about `bytes` bytes (like an export: few distinct values). */
function repetitiveCsv(bytes: number, seed = 1): string {
  const rows = ['id,label,score,city,updated'];
  let n = rows[0].length + 1;
  for (let i = 0; n < bytes; i++) {
    const row = `${i},${['cat', 'dog', 'bird', 'fish'][(i * seed) % 4]},${(i * 37 + seed) % 1000},${['Paris', 'Lagos', 'Lima'][i % 3]},2024-0${1 + (i % 9)}-1${i % 9}`;
    rows.push(row);
    n += row.length + 1;
  }
  return `${rows.join('\n')}\n`;
}

const CSV = repetitiveCsv(3 << 20);
const NOISE = pseudoRandomBytes(600_000, 31);

function packFiles(share: string, ext: '.pack' | '.idx'): string[] {
  return fs.readdirSync(path.join(share, 'packs')).filter((f) => f.endsWith(ext)).map((f) => path.join(share, 'packs', f));
}
const packBytes = (share: string) => packFiles(share, '.pack').reduce((s, f) => s + fs.statSync(f).size, 0);
const remoteFormat = (share: string) => JSON.parse(fs.readFileSync(path.join(share, 'config'), 'utf8')).format as number;

/** compressedEntry finds the first compressed object of the remote: its pack, index and entry position. */
function compressedEntry(share: string) {
  for (const idxFile of packFiles(share, '.idx')) {
    const idx = fs.readFileSync(idxFile);
    if (idx.subarray(0, 5).toString('latin1') !== 'LODX\x02') continue;
    const count = idx.readUInt32BE(37);
    for (let i = 0, pos = 41; i < count; i++, pos += 57) {
      if (idx[pos + 48] === 0) continue;
      return { idxFile, packFile: idxFile.replace(/\.idx$/, '.pack'), idx, pos, offset: Number(idx.readBigUInt64BE(pos + 32)), length: idx.readUInt32BE(pos + 40), size: idx.readUInt32BE(pos + 44) };
    }
  }
  throw new Error('no compressed object on the remote');
}

async function rewriteIndex(idxFile: string, idx: Buffer, edit: (b: Buffer) => void): Promise<void> {
  const { h64Raw } = await xxhash();
  const b = Buffer.from(idx);
  edit(b);
  b.writeBigUInt64BE(h64Raw(b.subarray(0, b.length - 8)), b.length - 8);
  fs.writeFileSync(idxFile, b);
}

async function csvPushed(prefix: string) {
  const base = makeTempDir(`lode-e2e-${prefix}`);
  dirs.push(base);
  const shared = await pushedToShare(base, { 'data/table.csv': CSV, 'data/noise.bin': NOISE, 'data/readme.txt': 'hello\n' });
  return { base, ...shared };
}

describe('compressed packs on a directory remote', () => {
  it('a CSV costs the remote less than half its bytes; format 4; clone and fsck --read-data read it back', async () => {
    const { base, at, share } = await csvPushed('cpack-csv');
    // The push reports what the remote stored: the packs and their indexes.
    writeFile(at.cwd!, 'data/more.csv', repetitiveCsv(1 << 20, 11));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v2'], at);
    const packsBefore = packBytes(share);
    const idxBefore = packFiles(share, '.idx').reduce((s, f) => s + fs.statSync(f).size, 0);
    const pushed = await lodeJson(['push'], at);
    const idxAfter = packFiles(share, '.idx').reduce((s, f) => s + fs.statSync(f).size, 0);
    expect(pushed.pushed[0].stored).toBe(packBytes(share) - packsBefore + idxAfter - idxBefore);
    expect(pushed.pushed[0].stored).toBeLessThan(pushed.pushed[0].bytes / 2);
    writeFile(at.cwd!, 'data/more.csv', repetitiveCsv(1 << 20, 12));
    await lodeOk(['commit', '-a', '-m', 'v3'], at);
    expect((await lodeOk(['push'], at)).stdout).toMatch(/^share: main [0-9a-f]{12}\.\.[0-9a-f]{12}: \d+ objects, [\d.]+ [KM]iB in 1 pack, [\d.]+ [KM]iB stored \([\d.]+x smaller\) \(\d+ requests\)$/m);
    const raw = CSV.length + NOISE.length + 3 * (1 << 20);
    expect(packBytes(share)).toBeLessThan(CSV.length / 2 + NOISE.length + (1 << 20));
    expect(packBytes(share)).toBeLessThan(raw);
    expect(remoteFormat(share)).toBe(4);
    expect(packFiles(share, '.pack').some((f) => fs.readFileSync(f).subarray(0, 5).toString('latin1') === 'LODP\x03')).toBe(true);
    // The CSV's bytes are not in any pack as they are, but every object decompresses to them.
    const expanded = Buffer.concat(packFiles(share, '.pack').map((f) => expandPack(fs.readFileSync(f), fs.readFileSync(f.replace(/\.pack$/, '.idx')))));
    expect(expanded.includes(Buffer.from(CSV.slice(1_000_000, 1_000_200)))).toBe(true);

    const fsck = await lodeJson(['fsck', '--remote', '--read-data'], at);
    expect(fsck).toMatchObject({ ok: true, problems: [] });
    const b = path.join(base, 'bob');
    await lodeOk(['clone', share, b], { cwd: base });
    expect(readFile(b, 'data/table.csv').toString()).toBe(CSV);
    expect(readFile(b, 'data/noise.bin').equals(NOISE)).toBe(true);
    expect((await lodeJson(['fsck'], { cwd: b })).ok).toBe(true);
  });

  it('random data stays raw: version 2 packs, and the remote stays in format 1 for older lodes', async () => {
    const base = makeTempDir('lode-e2e-cpack-random');
    dirs.push(base);
    const { share } = await pushedToShare(base, { 'data/noise.bin': NOISE, 'data/more.bin': pseudoRandomBytes(3 << 20, 5) });
    expect(remoteFormat(share)).toBe(1);
    for (const f of packFiles(share, '.pack')) expect(fs.readFileSync(f).subarray(0, 5).toString('latin1')).toBe('LODP\x02');
    expect(packBytes(share)).toBeGreaterThan(NOISE.length + (3 << 20));
  });

  it('push.compress = off stores everything raw (format 1, version 2 packs); a bad value is a config error (exit 8)', async () => {
    const base = makeTempDir('lode-e2e-cpack-off');
    dirs.push(base);
    const { at, share } = await pushedToShare(base, { 'data/table.csv': CSV }, { 'push.compress': 'off' });
    expect(remoteFormat(share)).toBe(1);
    for (const f of packFiles(share, '.pack')) expect(fs.readFileSync(f).subarray(0, 5).toString('latin1')).toBe('LODP\x02');
    expect(packBytes(share)).toBeGreaterThan(CSV.length);
    expectLodeError(await runLode(['config', 'push.compress', 'sometimes'], at), 8);
    writeFile(at.cwd!, 'data/more.csv', repetitiveCsv(1 << 20, 7));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v2'], at);
    await lodeOk(['config', 'push.compress', 'auto'], at);
    await lodeOk(['push'], at);
    expect(remoteFormat(share)).toBe(4);
  });

  it('a damaged compressed stream is corrupt data: clone exits 5, fsck --remote --read-data names the object', async () => {
    const { base, at, share } = await csvPushed('cpack-flip');
    const e = compressedEntry(share);
    const pack = fs.readFileSync(e.packFile);
    pack[e.offset + Math.floor(e.length / 2)] ^= 0x20;
    fs.writeFileSync(e.packFile, pack);
    const err = expectLodeError(await runLode(['clone', share, path.join(base, 'bob')], { cwd: base }), 5);
    expect(err).toMatch(/^error: object [0-9a-f]{64} in pack [0-9a-f]{64} does not match its checksum/m);
    const r = await runLode(['fsck', '--remote', '--read-data', '--json'], at);
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout).problems).toContainEqual(expect.objectContaining({ kind: 'corrupt', pack: path.basename(e.packFile, '.pack') }));
  });

  it('a forged index is refused (exit 5): a bomb-sized stated size before any read, a stream inflating past its stated size while decoding', async () => {
    const { base, share } = await csvPushed('cpack-bomb');
    const e = compressedEntry(share);
    // Claims 2 GiB uncompressed: refused from the index alone.
    await rewriteIndex(e.idxFile, e.idx, (b) => b.writeUInt32BE(0x80000000, e.pos + 44));
    let err = expectLodeError(await runLode(['clone', share, path.join(base, 'b1')], { cwd: base }), 5);
    expect(err).toMatch(/^error: pack index [0-9a-f]{64} is corrupt: object \d+ declares 2147483648 bytes uncompressed, more than a compressed object may have/m);
    // Claims one byte less than the stream holds: decoding (or, for the column layout, rebuilding) stops there.
    await rewriteIndex(e.idxFile, e.idx, (b) => b.writeUInt32BE(e.size - 1, e.pos + 44));
    err = expectLodeError(await runLode(['clone', share, path.join(base, 'b2')], { cwd: base }), 5);
    expect(err).toMatch(new RegExp(`^error: object [0-9a-f]{64} in pack [0-9a-f]{64} does not decompress: (it inflates past the ${e.size - 1} bytes its index allows|its column layout is damaged: it rebuilds more than ${e.size - 1} bytes)`, 'm'));
    expect(fs.existsSync(path.join(base, 'b2', 'data', 'table.csv'))).toBe(false);
  });

  it('gc --remote repacks compressed objects compressed; the remote still clones and checks', async () => {
    const base = makeTempDir('lode-e2e-cpack-gc');
    dirs.push(base);
    const { at, share } = await pushedToShare(base, { 'data/table.csv': CSV });
    const cwd = at.cwd!;
    // v2 on main (not pushed yet), v3 on tmp; pushing tmp sends both in one pack.
    const v2Table = repetitiveCsv(2 << 20, 5);
    writeFile(cwd, 'data/table.csv', v2Table);
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v2'], at);
    await lodeOk(['checkout', '-b', 'tmp'], at);
    writeFile(cwd, 'data/extra.csv', repetitiveCsv(1 << 20, 3));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v3'], at);
    await lodeOk(['push', 'share', 'tmp'], at);
    await lodeOk(['checkout', 'main'], at);
    await lodeOk(['push'], at);
    await lodeOk(['push', 'share', '--delete', 'tmp'], at);
    // That pack now holds v2 (live) and v3 (dead): gc copies v2's objects into a new pack, compressed again.
    const before = new Set(packFiles(share, '.pack'));
    const gc = await lodeJson(['gc', '--remote'], at);
    expect(gc).toMatchObject({ repacked: 1, marked: 1 });
    const fresh = packFiles(share, '.pack').filter((f) => !before.has(f));
    expect(fresh).toHaveLength(1);
    expect(fs.readFileSync(fresh[0]).subarray(0, 5).toString('latin1')).toBe('LODP\x03');
    expect(fs.statSync(fresh[0]).size).toBeLessThan(v2Table.length / 2);
    const fsck = await lodeJson(['fsck', '--remote', '--read-data'], at);
    expect(fsck).toMatchObject({ ok: true, problems: [] });
    const b = path.join(base, 'bob');
    await lodeOk(['clone', share, b], { cwd: base });
    expect(readFile(b, 'data/table.csv').toString()).toBe(v2Table);
  });
});

describe('compressed packs on S3 (moto)', () => {
  let moto: TestServer;
  const env = { AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };
  beforeAll(async () => {
    moto = await startMoto();
    await createBucket(moto.endpoint, 'squeezed');
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('push stores a CSV in less than half its bytes; clone and fsck --remote --read-data read it back', async () => {
    const base = makeTempDir('lode-e2e-cpack-s3');
    dirs.push(base);
    const at = { cwd: path.join(base, 'a'), env };
    fs.mkdirSync(at.cwd);
    await lodeOk(['init'], at);
    writeFile(at.cwd, 'data/table.csv', CSV);
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v1'], at);
    await lodeOk(['remote', 'add', 'origin', 's3://squeezed/team', '--endpoint', moto.endpoint, '--path-style'], at);
    await lodeOk(['push'], at);
    const { openS3Backend } = await import('../src/storage/s3.js');
    const bucket = await openS3Backend({ url: 's3://squeezed/team', endpoint: moto.endpoint, forcePathStyle: true, credentials: MOTO_CREDENTIALS });
    let stored = 0;
    try {
      for await (const b of bucket.list('packs/')) if (b.key.endsWith('.pack')) stored += b.size;
      expect(JSON.parse((await bucket.load('config')).toString()).format).toBe(4);
    } finally {
      await bucket.close?.();
    }
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(CSV.length / 2);
    const fsck = await lodeJson(['fsck', '--remote', '--read-data'], at);
    expect(fsck).toMatchObject({ ok: true, packsRead: 1, problems: [] });
    const b = { cwd: base, env };
    await lodeOk(['clone', 's3://squeezed/team', path.join(base, 'bob'), '--endpoint', moto.endpoint, '--path-style'], b);
    expect(readFile(path.join(base, 'bob'), 'data/table.csv').toString()).toBe(CSV);
  }, 120_000);
});

