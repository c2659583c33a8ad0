import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  type ChunkerParams,
  DEFAULT_CHUNKING,
  GEAR,
  chunkLengths,
  cutPoint,
  validateChunkerParams,
} from './chunker.js';

/** Small params so property tests see many chunks in a few KiB. */
const SMALL: ChunkerParams = { min: 64, avg: 256, max: 1024 };

const MiB = 1024 * 1024;

const GOLDEN_URL = new URL('../../test/fixtures/chunker-golden.json', import.meta.url);

/**
 * pseudoRandomBytes returns `length` bytes of xorshift32 (Marsaglia's 13/17/5
 * triple) from a nonzero `seed`, each output word written little-endian. Byte by
 * byte rather than through a Uint32Array view so the bytes, and hence the golden
 * chunk lengths, do not depend on the platform's endianness. Not crypto: only
 * fast and reproducible.
 */
function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 0;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
    out[i + 1] = x >>> 8;
    out[i + 2] = x >>> 16;
    out[i + 3] = x >>> 24;
  }
  for (; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
  }
  return out;
}

/** streamLengths chunks `data` the way a streaming reader does: windows of exactly `max` bytes, or the rest. */
function streamLengths(data: Uint8Array, params: ChunkerParams): number[] {
  const lengths: number[] = [];
  let start = 0;
  while (start < data.length) {
    const end = Math.min(start + params.max, data.length);
    const n = cutPoint(data, start, end, params);
    lengths.push(n);
    start += n;
  }
  return lengths;
}

function chunkHashes(data: Uint8Array, lengths: number[]): string[] {
  const hashes: string[] = [];
  let offset = 0;
  for (const n of lengths) {
    hashes.push(createHash('sha256').update(data.subarray(offset, offset + n)).digest('hex'));
    offset += n;
  }
  return hashes;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** Inputs for the laws: random bytes, plus low-entropy ones (constant, short repeats) where no cut may ever fire. */
const inputs = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 8192, size: 'max' }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 8192 }))
      .map(([pattern, length]) => Uint8Array.from({ length }, (_, i) => pattern[i % pattern.length])),
  },
);

describe('validateChunkerParams', () => {
  it('accepts the defaults and the extreme valid params', () => {
    expect(() => validateChunkerParams(DEFAULT_CHUNKING)).not.toThrow();
    expect(() => validateChunkerParams(SMALL)).not.toThrow();
    expect(() => validateChunkerParams({ min: 64, avg: 128, max: 64 * MiB })).not.toThrow();
    expect(() => validateChunkerParams({ min: 64, avg: 32 * MiB, max: 64 * MiB })).not.toThrow();
  });

  it.each<[string, ChunkerParams, RegExp]>([
    ['min below 64', { min: 63, avg: 256, max: 1024 }, /\bmin\b.*63/],
    ['non-integer min', { min: 64.5, avg: 256, max: 1024 }, /\bmin\b/],
    ['NaN avg', { min: 64, avg: Number.NaN, max: 1024 }, /\bavg\b/],
    ['infinite max', { min: 64, avg: 256, max: Number.POSITIVE_INFINITY }, /\bmax\b/],
    ['avg equal to min', { min: 256, avg: 256, max: 1024 }, /\bavg\b.*\bmin\b/],
    ['avg below min', { min: 512, avg: 256, max: 1024 }, /\bavg\b.*\bmin\b/],
    ['max equal to avg', { min: 64, avg: 256, max: 256 }, /\bmax\b.*\bavg\b/],
    ['max above 64 MiB', { min: 64, avg: 256, max: 64 * MiB + 1 }, /\bmax\b.*64 MiB/],
    ['avg not a power of two', { min: 64, avg: 300, max: 1024 }, /\bavg\b.*power of two/],
  ])('rejects %s', (_name, params, message) => {
    expect(() => validateChunkerParams(params)).toThrow(message);
    expect(() => chunkLengths(new Uint8Array(10), params)).toThrow(message);
  });
});

describe('chunkLengths', () => {
  it('returns [] for empty input and one chunk for input up to min', () => {
    expect(chunkLengths(new Uint8Array(0), SMALL)).toEqual([]);
    expect(chunkLengths(new Uint8Array(1), SMALL)).toEqual([1]);
    expect(chunkLengths(pseudoRandomBytes(64, 7), SMALL)).toEqual([64]);
  });

  it('covers the input exactly with chunks in [min, max], only the last may be shorter', () => {
    fc.assert(
      fc.property(inputs, (data) => {
        const lengths = chunkLengths(data, SMALL);
        expect(sum(lengths)).toBe(data.length);
        lengths.forEach((n, i) => {
          expect(n).toBeLessThanOrEqual(SMALL.max);
          if (i < lengths.length - 1) expect(n).toBeGreaterThanOrEqual(SMALL.min);
          else expect(n).toBeGreaterThanOrEqual(1);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('splits a run of zeros into identical chunks, so it deduplicates to one', () => {
    // A cut depends only on the chunk's own bytes, and every chunk of the run
    // starts with the same bytes (sparse files, zero padding in tensors).
    const lengths = chunkLengths(new Uint8Array(20 * 1024), SMALL);
    expect(lengths.length).toBeGreaterThan(2);
    expect(new Set(lengths.slice(0, -1)).size).toBe(1);
  });

  it('keeps every chunk that ends before an insertion (small params)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 8192, size: 'max' }),
        fc.uint8Array({ minLength: 1, maxLength: 200, size: 'max' }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (data, inserted, where) => {
          const at = Math.floor(where * data.length);
          const edited = new Uint8Array(data.length + inserted.length);
          edited.set(data.subarray(0, at), 0);
          edited.set(inserted, at);
          edited.set(data.subarray(at), at + inserted.length);
          const before = chunkLengths(data, SMALL);
          const after = chunkLengths(edited, SMALL);
          // A cut depends only on the bytes before it, except the last chunk,
          // which ends at end-of-stream and may grow when the stream does.
          let end = 0;
          for (let i = 0; i < before.length - 1; i++) {
            end += before[i];
            if (end > at) break;
            expect(after[i]).toBe(before[i]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('cutPoint', () => {
  it('gives the same chunks on windows of exactly max bytes as chunkLengths on the whole buffer', () => {
    fc.assert(
      fc.property(inputs, (data) => {
        expect(streamLengths(data, SMALL)).toEqual(chunkLengths(data, SMALL));
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on where the chunk sits in the array nor on bytes past max', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300, size: 'max' }),
        fc.uint8Array({ minLength: SMALL.max, maxLength: 3000, size: 'max' }),
        fc.uint8Array({ maxLength: 300, size: 'max' }),
        (prefix, body, suffix) => {
          const whole = new Uint8Array(prefix.length + body.length + suffix.length);
          whole.set(prefix, 0);
          whole.set(body, prefix.length);
          whole.set(suffix, prefix.length + body.length);
          const alone = cutPoint(body, 0, SMALL.max, SMALL);
          expect(cutPoint(whole, prefix.length, prefix.length + body.length, SMALL)).toBe(alone);
          expect(cutPoint(whole, prefix.length, whole.length, SMALL)).toBe(alone);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('returns the whole remainder when it is at most min, and stays within [min, max] otherwise', () => {
    const data = pseudoRandomBytes(4096, 99);
    for (const len of [0, 1, 63, 64]) expect(cutPoint(data, 100, 100 + len, SMALL)).toBe(len);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 0, max: 4096 }), (a, b) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        const n = cutPoint(data, start, end, SMALL);
        const available = end - start;
        expect(n).toBeGreaterThanOrEqual(Math.min(SMALL.min, available));
        expect(n).toBeLessThanOrEqual(Math.min(SMALL.max, available));
      }),
    );
  });
});

describe('FastCDC on large random data (default params)', () => {
  it('changes at most 3 chunks when 100 bytes are inserted in the middle of 50 MiB', () => {
    const original = pseudoRandomBytes(50 * MiB, 0x5eed1234);
    const at = 25 * MiB + 12345;
    const inserted = pseudoRandomBytes(100, 0x0ddba11);
    const edited = new Uint8Array(original.length + inserted.length);
    edited.set(original.subarray(0, at), 0);
    edited.set(inserted, at);
    edited.set(original.subarray(at), at + inserted.length);

    const beforeLengths = chunkLengths(original, DEFAULT_CHUNKING);
    const afterLengths = chunkLengths(edited, DEFAULT_CHUNKING);
    const before = chunkHashes(original, beforeLengths);
    const after = chunkHashes(edited, afterLengths);

    let prefix = 0;
    while (prefix < before.length && prefix < after.length && before[prefix] === after[prefix]) prefix++;
    let suffix = 0;
    while (
      suffix < before.length - prefix &&
      suffix < after.length - prefix &&
      before[before.length - 1 - suffix] === after[after.length - 1 - suffix]
    ) {
      suffix++;
    }

    // Every chunk that ends before the edit is kept as is.
    let untouched = 0;
    for (let end = 0; untouched < beforeLengths.length && end + beforeLengths[untouched] <= at; untouched++) {
      end += beforeLengths[untouched];
    }
    expect(untouched).toBeGreaterThan(10);
    expect(prefix).toBeGreaterThanOrEqual(untouched);

    // The chunker falls back into step with the old cut points soon after.
    const removed = before.length - prefix - suffix;
    const added = after.length - prefix - suffix;
    expect(removed).toBeGreaterThanOrEqual(1);
    expect(added).toBeGreaterThanOrEqual(1);
    expect(removed).toBeLessThanOrEqual(3);
    expect(added).toBeLessThanOrEqual(3);
    const known = new Set(before);
    expect(after.filter((h) => !known.has(h)).length).toBeLessThanOrEqual(3);
  });

  it('has a mean chunk size within [avg/2, 2*avg] on 64 MiB', () => {
    const data = pseudoRandomBytes(64 * MiB, 0xc0ffee);
    const lengths = chunkLengths(data, DEFAULT_CHUNKING);
    const mean = data.length / lengths.length;
    expect(mean).toBeGreaterThanOrEqual(DEFAULT_CHUNKING.avg / 2);
    expect(mean).toBeLessThanOrEqual(DEFAULT_CHUNKING.avg * 2);
  });
});

interface GoldenCase {
  name: string;
  params: ChunkerParams;
  data: { prng: string; seed: number; length: number; sha256: string };
  lengths: number[];
}

interface Golden {
  note: string;
  gear: { first8: number[]; sha256OfLittleEndianBytes: string };
  cases: GoldenCase[];
}

function gearSha256(): string {
  const bytes = new Uint8Array(GEAR.length * 4);
  const view = new DataView(bytes.buffer);
  GEAR.forEach((word, i) => view.setUint32(i * 4, word, true));
  return createHash('sha256').update(bytes).digest('hex');
}

function computeGolden(): Golden {
  const specs = [
    { name: 'default params, 8 MiB', params: DEFAULT_CHUNKING, seed: 0x10de0001, length: 8 * MiB },
    { name: 'min 64 / avg 256 / max 1024, 64 KiB', params: SMALL, seed: 0x10de0002, length: 64 * 1024 },
  ];
  return {
    note:
      'Pins the FastCDC chunk format of src/core/chunker.ts. A mismatch means chunk boundaries changed: ' +
      'existing repositories would stop deduplicating against new data. Regenerate only for a deliberate ' +
      'format change: LODE_UPDATE_GOLDEN=1 npx vitest run src/core/chunker.test.ts. ' +
      'Data: xorshift32 (13/17/5) from seed, each word written little-endian.',
    gear: { first8: Array.from(GEAR.subarray(0, 8)), sha256OfLittleEndianBytes: gearSha256() },
    cases: specs.map(({ name, params, seed, length }) => {
      const data = pseudoRandomBytes(length, seed);
      return {
        name,
        params: { ...params },
        data: {
          prng: 'xorshift32-13-17-5-le',
          seed,
          length,
          sha256: createHash('sha256').update(data).digest('hex'),
        },
        lengths: chunkLengths(data, params),
      };
    }),
  };
}

describe('golden fixture', () => {
  if (process.env.LODE_UPDATE_GOLDEN === '1') {
    writeFileSync(GOLDEN_URL, JSON.stringify(computeGolden(), null, 2) + '\n');
  }
  const golden = JSON.parse(readFileSync(GOLDEN_URL, 'utf8')) as Golden;

  it('pins the gear table', () => {
    expect(GEAR.length).toBe(256);
    expect(Array.from(GEAR.subarray(0, 8))).toEqual(golden.gear.first8);
    expect(gearSha256()).toBe(golden.gear.sha256OfLittleEndianBytes);
  });

  it.each(golden.cases.map((c) => [c.name, c] as const))('pins the chunk lengths: %s', (_name, c) => {
    const data = pseudoRandomBytes(c.data.length, c.data.seed);
    // If this fails, the test's data generator changed, not the chunker.
    expect(createHash('sha256').update(data).digest('hex')).toBe(c.data.sha256);
    expect(chunkLengths(data, c.params)).toEqual(c.lengths);
  });
});
