import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadXxhash } from '../core/checksum.js';
import { chunkLengths, DEFAULT_CHUNKING, type ChunkerParams } from '../core/chunker.js';
import { decodeChunkList } from '../core/encoding.js';
import { FileChangedError } from '../core/errors.js';
import { createStoreDirs, LocalStore } from './store.js';
import { EMPTY_ID, Ingester } from './ingest.js';

const SMALL: ChunkerParams = { min: 1024, avg: 4096, max: 16384 };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

let dir: string;
let store: LocalStore;

beforeAll(async () => {
  await loadXxhash();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-ingest-'));
  createStoreDirs(path.join(dir, '.lode'));
  store = new LocalStore(path.join(dir, '.lode'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('Ingester', () => {
  it('a small file is a blob whose ID is the SHA-256 of its bytes, stored read-only', () => {
    const data = bytes(800, 1);
    const f = path.join(dir, 'small.bin');
    fs.writeFileSync(f, data);
    const r = new Ingester(SMALL, store).ingest(f, 'small.bin');
    expect(r).toMatchObject({ kind: 'blob', id: sha(data), size: 800, chunks: 1 });
    expect(fs.readFileSync(store.filePath(r.id))).toEqual(data);
    expect(fs.statSync(store.filePath(r.id)).mode & 0o777).toBe(0o444);
  });

  it('a large file is chunked exactly as chunkLengths cuts it; its ID is the chunk list ID', () => {
    const data = bytes(200_000, 2);
    const f = path.join(dir, 'big.bin');
    fs.writeFileSync(f, data);
    const r = new Ingester(SMALL, store).ingest(f, 'big.bin');
    expect(r.kind).toBe('chunked');
    const list = store.getChunkList(r.id);
    const lengths = chunkLengths(data, SMALL);
    expect(list.chunks.map((c) => c.size)).toEqual(lengths);
    let off = 0;
    for (const c of list.chunks) {
      expect(c.id).toBe(sha(data.subarray(off, off + c.size)));
      off += c.size;
    }
    expect(decodeChunkList(fs.readFileSync(store.objectPath(r.id)), r.id).size).toBe(200_000);
    expect(fs.readFileSync(store.filePath(r.id))).toEqual(data);
    expect(store.verifyFile({ kind: 'chunked', id: r.id, size: r.size })).toBeUndefined();
  });

  it('a file of many read blocks (512 KiB each) chunks the same as in one piece', () => {
    const params: ChunkerParams = { min: 4096, avg: 16384, max: 65536 };
    const data = bytes(5 << 20, 3);
    const f = path.join(dir, 'window.bin');
    fs.writeFileSync(f, data);
    const r = new Ingester(params, undefined).ingest(f, 'window.bin');
    expect(r.chunks).toBe(chunkLengths(data, params).length);
  });

  it('with the default chunking, chunks spanning read blocks are cut and hashed as in one piece, and stored byte-exact', () => {
    // 512 KiB read blocks, chunks of 256 KiB to 4 MiB: most chunks span blocks; the size is no multiple of a block.
    const data = bytes((24 << 20) + 12_345, 6);
    const f = path.join(dir, 'default.bin');
    fs.writeFileSync(f, data);
    const r = new Ingester(DEFAULT_CHUNKING, store).ingest(f, 'default.bin');
    const lengths = chunkLengths(data, DEFAULT_CHUNKING);
    expect(lengths.length).toBeGreaterThan(5);
    const list = store.getChunkList(r.id);
    expect(list.chunks.map((c) => c.size)).toEqual(lengths);
    let off = 0;
    for (const c of list.chunks) {
      expect(c.id).toBe(sha(data.subarray(off, off + c.size)));
      off += c.size;
    }
    expect(sha(fs.readFileSync(store.filePath(r.id)))).toBe(sha(data));
    expect(new Ingester(DEFAULT_CHUNKING, undefined).ingest(f, 'default.bin').id).toBe(r.id);
  });

  for (const how of ['rewritten in place (same size)', 'appended to'] as const) {
    it(`a big file ${how} while it is read is a FileChangedError: nothing is stored under any ID, no temp file is left`, () => {
      const data = bytes(40 << 20, 7);
      const f = path.join(dir, `changing-${how.length}.bin`);
      fs.writeFileSync(f, data);
      const before = new Set(store.listIds('cache'));
      let changed = false;
      // The progress callback runs every 16 MiB read: change the file there, once (a distinct mtime, whatever the clock's grain).
      const ing = new Ingester(DEFAULT_CHUNKING, store, () => {
        if (changed) return;
        changed = true;
        const fd = fs.openSync(f, 'r+');
        if (how === 'appended to') fs.writeSync(fd, Buffer.from('more'), 0, 4, data.length);
        else fs.writeSync(fd, Buffer.alloc(4096, 0xee), 0, 4096, 30 << 20);
        fs.closeSync(fd);
        const t = new Date(Date.now() + 10_000);
        fs.utimesSync(f, t, t);
      });
      expect(() => ing.ingest(f, 'data/changing.bin')).toThrow(/data\/changing\.bin changed/);
      expect(changed).toBe(true);
      expect(new Set(store.listIds('cache'))).toEqual(before);
      expect(fs.readdirSync(store.tmpDir)).toEqual([]);
    });
  }

  it('hashing only writes nothing to the store', () => {
    const data = bytes(900, 4);
    const f = path.join(dir, 'hashonly.bin');
    fs.writeFileSync(f, data);
    const r = new Ingester(SMALL, undefined).ingest(f, 'hashonly.bin');
    expect(r.id).toBe(sha(data));
    expect(store.hasFile(r.id)).toBe(false);
  });

  it('an empty file is the blob of zero bytes', () => {
    const f = path.join(dir, 'empty');
    fs.writeFileSync(f, '');
    const r = new Ingester(SMALL, store).ingest(f, 'empty');
    expect(r).toMatchObject({ kind: 'blob', id: EMPTY_ID, size: 0 });
    expect(store.hasFile(EMPTY_ID)).toBe(true);
  });

  it('a file that vanished is a FileChangedError naming it, and leaves no temp file', () => {
    expect(() => new Ingester(SMALL, store).ingest(path.join(dir, 'gone'), 'data/gone')).toThrow(FileChangedError);
    expect(() => new Ingester(SMALL, store).ingest(path.join(dir, 'gone'), 'data/gone')).toThrow(/data\/gone vanished/);
    expect(fs.readdirSync(store.tmpDir)).toEqual([]);
  });

  it('storing the same content twice keeps one copy', () => {
    const data = bytes(900, 5);
    fs.writeFileSync(path.join(dir, 'd1'), data);
    fs.writeFileSync(path.join(dir, 'd2'), data);
    const ing = new Ingester(SMALL, store);
    expect(ing.ingest(path.join(dir, 'd1'), 'd1').id).toBe(ing.ingest(path.join(dir, 'd2'), 'd2').id);
    expect(fs.readdirSync(store.tmpDir)).toEqual([]);
  });
});

describe('IngestResults', () => {
  it('packs a result and gives it back whole: sizes past 32 bits, 64-bit times, kind and exec', async () => {
    const { IngestResults, RESULT_RECORD, writeResult } = await import('./ingest.js');
    const r = {
      kind: 'chunked' as const,
      id: 'ab'.repeat(16) + '0123456789abcdef'.repeat(2),
      size: 2 ** 40 + 12345,
      xxh: 0xfedcba9876543210n,
      mtimeNs: 1_700_000_000_123_456_789n,
      ctimeNs: 1_700_000_001_000_000_001n,
      ino: 2n ** 63n + 7n,
      exec: true,
      chunks: 70_000,
    };
    const results = new IngestResults(3);
    expect(results.has(1)).toBe(false);
    results.set(1, r);
    expect(results.done).toBe(1);
    expect(results.get(1)).toEqual(r);
    expect(results.get(0)).toBeUndefined();
    // A record packed elsewhere (a worker) and copied in reads the same.
    const other = Buffer.alloc(2 * RESULT_RECORD);
    writeResult(other, 1, { ...r, kind: 'blob', exec: false, size: 5, xxh: 0n });
    results.copy(2, other, 1);
    expect(results.done).toBe(2);
    expect(results.get(2)).toEqual({ ...r, kind: 'blob', exec: false, size: 5, xxh: 0n });
    expect([results.size(1), results.id(1), results.kind(1), results.exec(1)]).toEqual([r.size, r.id, 'chunked', true]);
  });
});
