import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadXxhash, xxh64 } from '../core/checksum.js';
import { CorruptObjectError } from '../core/errors.js';
import { coalesce, encodePackIndex, extract, MAX_OBJECT_BYTES, PackIndex, PackWriter } from './pack.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  await loadXxhash();
});

function buildPack(objects: Buffer[]) {
  const w = new PackWriter();
  for (const o of objects) w.add(sha(o), o);
  return w.finish();
}

describe('packs', () => {
  it('every object comes back out of the pack, found through the decoded index', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 60 }), (arrays) => {
        const objects = arrays.map((a) => Buffer.from(a));
        const { id, pack, index } = buildPack(objects);
        expect(id).toBe(sha(pack));
        const idx = PackIndex.decode(index, id, pack.length);
        expect(idx.count).toBe(new Set(objects.map(sha)).size);
        for (const o of objects) {
          const e = idx.find(sha(o))!;
          expect(e).toBeDefined();
          const span = { offset: e.offset, length: e.length, entries: [e] };
          expect(extract(span, pack.subarray(e.offset, e.offset + e.length), e, id).equals(o)).toBe(true);
        }
        expect(idx.find('0'.repeat(64))).toBeUndefined();
      }),
      { numRuns: 50 },
    );
  });

  it('a damaged index is refused: any flipped byte, truncation, or the wrong pack', () => {
    const { id, pack, index } = buildPack([randomBytes(100), randomBytes(200), randomBytes(50)]);
    for (let i = 0; i < index.length; i++) {
      const bad = Buffer.from(index);
      bad[i] ^= 0x10;
      expect(() => PackIndex.decode(bad, id, pack.length)).toThrow(CorruptObjectError);
    }
    for (let n = 0; n < index.length; n += 7) expect(() => PackIndex.decode(index.subarray(0, n), id)).toThrow(CorruptObjectError);
    expect(() => PackIndex.decode(index, 'f'.repeat(64))).toThrow(/describes pack/);
    expect(() => PackIndex.decode(index, id, 10)).toThrow(/outside the pack/);
  });

  it('an index with a valid checksum but forged offsets or lengths is refused, naming the pack', () => {
    const o = randomBytes(100);
    const { id, pack } = buildPack([o]);
    const forge = (offset: bigint, length: number) => {
      // encodePackIndex refuses nothing here: write the entry by hand with a fresh checksum.
      const buf = Buffer.from(encodePackIndex(id, [{ id: sha(o), offset: 21, length: 100 }]));
      buf.writeBigUInt64BE(offset, 5 + 32 + 4 + 32);
      buf.writeUInt32BE(length, 5 + 32 + 4 + 32 + 8);
      buf.writeBigUInt64BE(xxh64(buf.subarray(0, buf.length - 8)), buf.length - 8);
      return buf;
    };
    expect(PackIndex.decode(forge(21n, 100), id, pack.length).count).toBe(1);
    expect(() => PackIndex.decode(forge(21n, 101), id, pack.length)).toThrow(/outside the pack/);
    expect(() => PackIndex.decode(forge(BigInt(pack.length), 1), id, pack.length)).toThrow(/outside the pack/);
    expect(() => PackIndex.decode(forge(2n ** 63n, 1), id)).toThrow(/outside the pack/);
    expect(() => PackIndex.decode(forge(2n ** 53n, 1), id)).toThrow(/outside the pack/);
    expect(() => PackIndex.decode(forge(3n, 1), id)).toThrow(/outside the pack/);
    expect(() => PackIndex.decode(forge(21n, 0xffffffff), id)).toThrow(new RegExp(`pack index ${id} .*declares`));
    expect(() => PackIndex.decode(forge(21n, MAX_OBJECT_BYTES + 1), id)).toThrow(CorruptObjectError);
  });

  it('a damaged object is caught when it is read out, naming it', () => {
    const o = randomBytes(500);
    const { id, pack, index } = buildPack([o]);
    const e = PackIndex.decode(index, id).find(sha(o))!;
    const bytes = Buffer.from(pack.subarray(e.offset, e.offset + e.length));
    bytes[10] ^= 1;
    expect(() => extract({ offset: e.offset, length: e.length, entries: [e] }, bytes, e, id)).toThrow(sha(o));
    expect(() => extract({ offset: e.offset, length: e.length, entries: [e] }, bytes.subarray(1), e, id)).toThrow(/returned/);
  });

  it('coalesces neighbours into few reads, keeping every object and the span limit', () => {
    const objects = Array.from({ length: 200 }, (_, i) => randomBytes(1000 + i));
    const { id, pack, index } = buildPack(objects);
    const idx = PackIndex.decode(index, id);
    const wanted = objects.filter((_, i) => i % 3 !== 0).map((o) => idx.find(sha(o))!);
    const spans = coalesce(wanted, 4096, 64 << 10);
    expect(spans.flatMap((s) => s.entries).length).toBe(wanted.length);
    expect(spans.length).toBeLessThan(wanted.length / 10);
    for (const s of spans) {
      expect(s.length).toBeLessThanOrEqual(64 << 10);
      const bytes = pack.subarray(s.offset, s.offset + s.length);
      for (const e of s.entries) expect(extract(s, bytes, e, id).length).toBe(e.length);
    }
    // No gap allowance: only truly adjacent objects share a read.
    expect(coalesce(wanted, 0, 64 << 10).length).toBeGreaterThan(spans.length);
  });
});
