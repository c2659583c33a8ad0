import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chunkLengths, cutPoint, DEFAULT_CHUNKING, type ChunkerParams } from './chunker.js';
import { ChunkWindow } from './chunk-window.js';

/** cutsOf cuts `data` (a whole stream) with `cut`, refilling no window: every call sees the rest of the stream. */
function cutsOf(len: number, cut: (start: number, end: number) => number): number[] {
  const out: number[] = [];
  for (let start = 0; start < len; ) {
    const n = cut(start, len);
    out.push(n);
    start += n;
  }
  return out;
}

/** Data with long runs and repeats as well as noise: cut tests on every path (no cut, strict mask, loose mask). */
function mixed(len: number, seed: number): Buffer {
  const b = randomBytes(len);
  let x = seed | 1;
  for (let i = 0; i < len; ) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    const run = (x >>> 8) % 5000;
    if ((x & 3) === 0) b.fill(x >>> 24, i, Math.min(len, i + run));
    i += run + 1;
  }
  return b;
}

describe('ChunkWindow', () => {
  it('cuts exactly where chunker.cutPoint cuts, for varied parameters and data', () => {
    const cases: ChunkerParams[] = [
      { min: 64, avg: 128, max: 256 },
      { min: 64, avg: 256, max: 1024 },
      { min: 1000, avg: 4096, max: 10_000 },
      { min: 4096, avg: 16_384, max: 65_537 },
    ];
    for (const params of cases) {
      for (const len of [0, 1, 63, 64, 65, params.max - 1, params.max, params.max + 1, 200_003]) {
        for (const data of [randomBytes(len), mixed(len, len + 7), Buffer.alloc(len)]) {
          const w = new ChunkWindow(Math.max(len, 1), params);
          data.copy(w.buffer);
          const expected = cutsOf(len, (s, e) => cutPoint(data, s, e, params));
          expect(cutsOf(len, (s, e) => w.cutPoint(s, e))).toEqual(expected);
        }
      }
    }
  });

  it('with the default parameters, on 24 MiB of noise', () => {
    const data = randomBytes(24 << 20);
    const w = new ChunkWindow(data.length, DEFAULT_CHUNKING);
    data.copy(w.buffer);
    const got = cutsOf(data.length, (s, e) => w.cutPoint(s, e));
    expect(got.length).toBeGreaterThan(5);
    expect(got).toEqual(cutsOf(data.length, (s, e) => cutPoint(data, s, e, DEFAULT_CHUNKING)));
  });

  it('gives the same cut from any start in its buffer (property)', () => {
    const params = { min: 64, avg: 256, max: 1024 };
    const w = new ChunkWindow(8192, params);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 4096 }), fc.nat(4096), (bytes, at) => {
        w.buffer.set(bytes, at);
        const data = Buffer.from(bytes);
        const end = at + bytes.length;
        expect(w.cutPoint(at, end)).toBe(cutPoint(data, 0, data.length, params));
      }),
      { numRuns: 300 },
    );
  });

  it('nextCut, fed the stream in blocks of any sizes, cuts where chunkLengths cuts the whole stream', () => {
    /** streamCuts feeds `data` through a window of `block` bytes (the last block of a stream may be shorter) and returns the chunk lengths. */
    const streamCuts = (data: Buffer, params: ChunkerParams, block: number, sizes: () => number): number[] => {
      const w = new ChunkWindow(block, params);
      w.restart();
      const out: number[] = [];
      let last = 0;
      let base = 0;
      let eof = data.length === 0;
      while (!eof) {
        const len = Math.min(sizes(), data.length - base);
        data.copy(w.buffer, 0, base, base + len);
        const end = base + len;
        eof = end === data.length;
        for (let cut = w.nextCut(base, end, eof); cut >= 0; cut = w.nextCut(base, end, eof)) {
          expect(cut).toBeGreaterThan(last);
          expect(cut).toBeLessThanOrEqual(end);
          out.push(cut - last);
          last = cut;
        }
        base = end;
      }
      return out;
    };
    const cases: ChunkerParams[] = [
      { min: 64, avg: 128, max: 256 },
      { min: 64, avg: 256, max: 1024 },
      { min: 1000, avg: 4096, max: 10_000 },
    ];
    for (const params of cases) {
      for (const len of [0, 1, 63, 64, 65, params.max - 1, params.max, params.max + 1, 50_003]) {
        for (const data of [randomBytes(len), mixed(len, len + 3), Buffer.alloc(len)]) {
          const expected = chunkLengths(data, params);
          // Blocks smaller than min, than a chunk, than max, and larger; fixed and ragged.
          for (const block of [1, 7, 64, 1000, 4096, 65_536]) {
            expect(streamCuts(data, params, block, () => block)).toEqual(expected);
          }
          let x = len + 11;
          expect(streamCuts(data, params, 3000, () => 1 + ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % 3000))).toEqual(expected);
        }
      }
    }
    const big = randomBytes(12 << 20);
    expect(streamCuts(big, DEFAULT_CHUNKING, 1 << 20, () => 1 << 20)).toEqual(chunkLengths(big, DEFAULT_CHUNKING));
  });

  it('keeps windows of different sizes and parameters apart (one module, separate memories)', () => {
    const a = new ChunkWindow(4096, { min: 64, avg: 256, max: 1024 });
    const b = new ChunkWindow(1 << 20, { min: 1024, avg: 4096, max: 16_384 });
    a.buffer.fill(1);
    b.buffer.fill(2);
    expect(a.buffer.every((x) => x === 1)).toBe(true);
    expect(b.buffer.every((x) => x === 2)).toBe(true);
    expect(a.buffer.length).toBe(4096);
    expect(b.buffer.length).toBe(1 << 20);
  });
});
