import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadXxhash } from '../core/checksum.js';
import type { ChunkerParams } from '../core/chunker.js';
import { MissingContentError } from '../core/errors.js';
import { createStoreDirs, LocalStore, type FileRef } from './store.js';
import { Ingester } from './ingest.js';
import { pruneSplit, retireFiles } from './split.js';

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

/** edited returns a copy of `data` with `len` bytes from `at` replaced by other bytes. */
function edited(data: Buffer, at: number, len: number, seed: number): Buffer {
  const out = Buffer.from(data);
  bytes(len, seed).copy(out, at);
  return out;
}

let dir: string;
let store: LocalStore;
let n = 0;

beforeAll(async () => {
  await loadXxhash();
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-split-'));
  createStoreDirs(path.join(dir, '.lode'));
  store = new LocalStore(path.join(dir, '.lode'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function ingest(data: Buffer): FileRef {
  const f = path.join(dir, `f${n++}.bin`);
  fs.writeFileSync(f, data);
  const r = new Ingester(SMALL, store).ingest(f, path.basename(f));
  expect(r.kind).toBe('chunked');
  return { kind: 'chunked', id: r.id, size: r.size };
}

/** read assembles a file from its pieces, each verified. */
function read(ref: FileRef): Buffer {
  return Buffer.concat(store.pieces(ref).map((p) => store.readPiece(p)));
}

function chunkIds(ref: FileRef): string[] {
  return store.getChunkList(ref.id).chunks.map((c) => c.id);
}

function looseChunks(): string[] {
  return [...store.listIds('chunks')].sort();
}

function looseBytes(): number {
  return looseChunks().reduce((s, id) => s + fs.statSync(store.chunkPath(id)).size, 0);
}

describe('splitting older versions', () => {
  it('keeps a superseded version as exactly the chunks the new whole version lacks, and reads it back byte for byte', () => {
    const v1 = bytes(400_000, 7);
    const v2 = edited(v1, 200_000, 8192, 99);
    const r1 = ingest(v1);
    const r2 = ingest(v2);
    const res = retireFiles(store, { split: [r1.id] });
    expect(res.split).toBe(1);
    expect(store.hasWhole(r1.id)).toBe(false);
    expect(store.isSplit(r1.id)).toBe(true);
    expect(store.hasFile(r1.id)).toBe(true);
    expect(store.hasWhole(r2.id)).toBe(true);
    // The loose chunks are v1's chunks that v2 does not contain, each once.
    const inV2 = new Set(chunkIds(r2));
    const want = [...new Set(chunkIds(r1).filter((c) => !inV2.has(c)))].sort();
    expect(want.length).toBeGreaterThan(0);
    expect(looseChunks()).toEqual(want);
    // A small edit costs a few chunks, not the file.
    expect(looseBytes()).toBeLessThan(v1.length / 4);
    for (const id of looseChunks()) expect(sha(fs.readFileSync(store.chunkPath(id)))).toBe(id);
    expect(read(r1).equals(v1)).toBe(true);
    expect(read(r2).equals(v2)).toBe(true);
    expect(store.verifyFile(r1)).toBeUndefined();
    // Splitting again is a no-op.
    expect(retireFiles(store, { split: [r1.id] }).split).toBe(0);
  });

  it('splitting the whole file an older split version reads from moves the chunks it alone held to loose chunks first', () => {
    const v1 = bytes(300_000, 11);
    const v2 = edited(v1, 50_000, 4000, 12);
    const v3 = edited(v2, 250_000, 4000, 13);
    const [r1, r2, r3] = [ingest(v1), ingest(v2), ingest(v3)];
    retireFiles(store, { split: [r1.id] });
    retireFiles(store, { split: [r2.id] });
    expect(store.hasWhole(r2.id)).toBe(false);
    for (const [r, d] of [[r1, v1], [r2, v2], [r3, v3]] as const) expect(read(r).equals(d)).toBe(true);
    // v3 split too: nothing whole remains, so every chunk of every version is loose.
    retireFiles(store, { split: [r3.id] });
    expect([...store.listIds('cache')]).toEqual([]);
    const all = [...new Set([...chunkIds(r1), ...chunkIds(r2), ...chunkIds(r3)])].sort();
    expect(looseChunks()).toEqual(all);
    for (const [r, d] of [[r1, v1], [r2, v2], [r3, v3]] as const) expect(read(r).equals(d)).toBe(true);
  });

  it('dropping a whole file (gc) that a split version reads from keeps the split version readable', () => {
    const v1 = bytes(300_000, 21);
    const v2 = edited(v1, 100_000, 5000, 22);
    const [r1, r2] = [ingest(v1), ingest(v2)];
    retireFiles(store, { split: [r1.id] });
    const res = retireFiles(store, { drop: [r2.id] });
    expect(res.dropped).toBe(1);
    expect(store.hasWhole(r2.id)).toBe(false);
    expect(read(r1).equals(v1)).toBe(true);
  });

  it('a plain store.remove of a whole file keeps the split versions that read from it readable', () => {
    const v1 = bytes(300_000, 81);
    const v2 = edited(v1, 150_000, 5000, 82);
    const [r1, r2] = [ingest(v1), ingest(v2)];
    retireFiles(store, { split: [r1.id] });
    const before = looseChunks().length;
    store.remove('cache', r2.id);
    expect(store.hasWhole(r2.id)).toBe(false);
    expect(looseChunks().length).toBeGreaterThan(before);
    expect(read(r1).equals(v1)).toBe(true);
    expect(store.verifyFile(r1)).toBeUndefined();
  });

  it('a file with a damaged chunk stays whole: nothing is removed for it', () => {
    const v1 = bytes(200_000, 31);
    const r1 = ingest(v1);
    const file = store.filePath(r1.id);
    fs.chmodSync(file, 0o644);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from([v1[5] ^ 0xff]), 0, 1, 5);
    fs.closeSync(fd);
    const res = retireFiles(store, { split: [r1.id] });
    expect(res.split).toBe(0);
    expect(store.hasWhole(r1.id)).toBe(true);
    expect(store.isSplit(r1.id)).toBe(false);
  });

  it('a lost loose chunk is reported as missing content, not returned as bytes', () => {
    const v1 = bytes(200_000, 41);
    const r1 = ingest(v1);
    retireFiles(store, { split: [r1.id] });
    const victim = looseChunks()[0];
    store.remove('chunks', victim);
    expect(() => store.pieces(r1)).toThrow(MissingContentError);
    expect(store.verifyFile(r1)).toMatch(/is missing/);
  });

  it('a damaged loose chunk fails verification', () => {
    const v1 = bytes(200_000, 51);
    const r1 = ingest(v1);
    retireFiles(store, { split: [r1.id] });
    const victim = store.chunkPath(looseChunks()[0]);
    fs.chmodSync(victim, 0o644);
    fs.writeFileSync(victim, Buffer.concat([Buffer.from([1]), fs.readFileSync(victim).subarray(1)]));
    expect(store.verifyFile(r1)).toMatch(/do not match its ID/);
  });
});

describe('pruneSplit', () => {
  it('drops markers and loose chunks of versions no longer live, and keeps what live split versions need', () => {
    const v1 = bytes(300_000, 61);
    const v2 = edited(v1, 10_000, 3000, 62);
    const v3 = edited(v2, 290_000, 3000, 63);
    const [r1, r2, r3] = [ingest(v1), ingest(v2), ingest(v3)];
    retireFiles(store, { split: [r1.id, r2.id] });
    // v1 is no longer live: its marker goes, and the chunks only it needed.
    const res = pruneSplit(store, new Set([r2.id, r3.id]));
    expect(res.markersRemoved).toBe(1);
    expect(store.isSplit(r1.id)).toBe(false);
    const inV3 = new Set(chunkIds(r3));
    expect(looseChunks()).toEqual([...new Set(chunkIds(r2).filter((c) => !inV3.has(c)))].sort());
    expect(read(r2).equals(v2)).toBe(true);
    expect(read(r3).equals(v3)).toBe(true);
  });

  it('drops a loose chunk that a whole file holds intact, and keeps it when that copy is damaged', () => {
    const v1 = bytes(200_000, 71);
    const v2 = edited(v1, 100_000, 3000, 72);
    const [r1, r2] = [ingest(v1), ingest(v2)];
    // Split both: every chunk loose. Then v1 comes back whole (as a fetch would put it).
    retireFiles(store, { split: [r1.id, r2.id] });
    const f = path.join(dir, 'again.bin');
    fs.writeFileSync(f, v1);
    new Ingester(SMALL, store).ingest(f, 'again.bin');
    expect(store.hasWhole(r1.id)).toBe(true);
    // Damage one chunk inside the whole v1 that v2 shares.
    const list = store.getChunkList(r1.id).chunks;
    const shared = new Set(chunkIds(r2));
    let off = 0;
    let damaged = '';
    for (const c of list) {
      if (shared.has(c.id)) {
        damaged = c.id;
        const file = store.filePath(r1.id);
        fs.chmodSync(file, 0o644);
        const fd = fs.openSync(file, 'r+');
        fs.writeSync(fd, Buffer.from([0]), 0, 1, off + 1);
        fs.writeSync(fd, Buffer.from([1]), 0, 1, off + 2);
        fs.closeSync(fd);
        break;
      }
      off += c.size;
    }
    expect(damaged).not.toBe('');
    pruneSplit(store, new Set([r1.id, r2.id]));
    // The v1 marker went (v1 is whole); v2's chunks inside intact v1 went, the damaged one stayed.
    expect(store.isSplit(r1.id)).toBe(false);
    expect(looseChunks()).toContain(damaged);
    expect(read(r2).equals(v2)).toBe(true);
  });
});

describe('openBlob', () => {
  it('reads a split version and a whole one in any ranges, byte for byte; a damaged chunk is refused', () => {
    const v1 = bytes(400_000, 11);
    const v2 = edited(v1, 100_000, 8192, 5);
    const r1 = ingest(v1);
    const r2 = ingest(v2);
    retireFiles(store, { split: [r1.id] });
    expect(store.isSplit(r1.id)).toBe(true);
    for (const [ref, want] of [[r1, v1], [r2, v2]] as const) {
      const src = store.openBlob(ref.id);
      try {
        expect(src.length).toBe(want.length);
        // Ranges of odd sizes cut chunks anywhere; some go back over a range read before.
        for (const step of [1, 777, 5000, 65_536, 400_000]) {
          for (let at = 0; at < want.length; at += step * 3) {
            const to = Math.min(want.length, at + step);
            expect(src.read(at, to).equals(want.subarray(at, to)), `${step} at ${at}`).toBe(true);
          }
        }
      } finally {
        src.close();
      }
    }
    // A loose chunk of the split version, damaged: the read that needs it fails.
    const loose = looseChunks()[0];
    const f = store.chunkPath(loose);
    fs.chmodSync(f, 0o644);
    const b = fs.readFileSync(f);
    b[0] ^= 1;
    fs.writeFileSync(f, b);
    const src = store.openBlob(r1.id);
    expect(() => src.read(0, src.length)).toThrow(/do not match its ID/);
    src.close();
  });
});
