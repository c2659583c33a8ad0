import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadXxhash, xxh64 } from '../core/checksum.js';
import { CorruptObjectError } from '../core/errors.js';
import { coalesce, encodePackIndex, extract, MAX_OBJECT_BYTES, PackIndex, packName, packNameMatches, PackWriter } from './pack.js';

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
        expect(packNameMatches(pack, id, PackIndex.decode(index, id, pack.length).entries())).toBe(true);
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

  it('a pack is named by its table of contents: header, then each object ID and length in pack order', () => {
    const objects = [Buffer.from('one'), Buffer.from('two two'), randomBytes(5000)];
    const { id, pack, entries } = buildPack(objects);
    expect(pack.subarray(0, 5).toString('latin1')).toBe('LODP\x02');
    // The oracle, spelled out: SHA-256 of the 21 header bytes, then (ID, u32 length) per object in pack order.
    const h = createHash('sha256').update(pack.subarray(0, 21));
    for (const o of objects) {
      h.update(Buffer.from(sha(o), 'hex'));
      const len = Buffer.alloc(4);
      len.writeUInt32BE(o.length);
      h.update(len);
    }
    expect(id).toBe(h.digest('hex'));
    expect(packName(pack, [...entries].sort((a, b) => a.offset - b.offset || a.length - b.length))).toBe(id);
    // Objects lie back to back in the order they were added.
    expect(Buffer.concat([pack.subarray(0, 21), ...objects]).equals(pack)).toBe(true);
  });

  it('packNameMatches refuses a pack with bytes outside its objects, a different header, or another name', () => {
    const { id, pack, entries } = buildPack([Buffer.from('alpha'), Buffer.from('beta')]);
    expect(packNameMatches(pack, id, entries)).toBe(true);
    expect(packNameMatches(Buffer.concat([pack, Buffer.from('x')]), id, entries)).toBe(false);
    const nonce = Buffer.from(pack);
    nonce[10] ^= 1;
    expect(packNameMatches(nonce, id, entries)).toBe(false);
    expect(packNameMatches(pack, sha(Buffer.from('other')), entries)).toBe(false);
    expect(packNameMatches(pack, id, entries.slice(1))).toBe(false);
    expect(packNameMatches(pack.subarray(0, 10), id, [])).toBe(false);
  });

  it('packNameMatches reads version 1 packs (older remotes): named by the SHA-256 of all their bytes', () => {
    const objects = [Buffer.from('old'), Buffer.from('pack')];
    const v1 = Buffer.concat([Buffer.from('LODP\x01', 'latin1'), randomBytes(16), ...objects]);
    const entries = [
      { id: sha(objects[0]), offset: 21, length: 3 },
      { id: sha(objects[1]), offset: 24, length: 4 },
    ];
    expect(packNameMatches(v1, sha(v1), entries)).toBe(true);
    const bad = Buffer.from(v1);
    bad[bad.length - 1] ^= 1;
    expect(packNameMatches(bad, sha(v1), entries)).toBe(false);
    // Its index decodes and finds its objects, as any pack's.
    const idx = PackIndex.decode(encodePackIndex(sha(v1), [...entries].sort((a, b) => (a.id < b.id ? -1 : 1))), sha(v1), v1.length);
    expect(idx.find(sha(objects[1]))).toEqual(entries[1]);
  });

  it('reserve hands out slots to fill in place, grows the buffer when needed, and skips a repeated ID', () => {
    const w = new PackWriter(Buffer.alloc(64));
    const a = randomBytes(30);
    const b = randomBytes(200);
    w.reserve(sha(a), a.length)!.set(a);
    expect(w.reserve(sha(a), a.length)).toBeUndefined();
    w.reserve(sha(b), b.length)!.set(b);
    const { id, pack, index } = w.finish();
    expect(pack.length).toBe(21 + 230);
    const idx = PackIndex.decode(index, id, pack.length);
    for (const o of [a, b]) {
      const e = idx.find(sha(o))!;
      expect(pack.subarray(e.offset, e.offset + e.length).equals(o)).toBe(true);
    }
    expect(packNameMatches(pack, id, idx.entries())).toBe(true);
  });
});
