// Compressed packs (version 3): round trips of compressible, incompressible
// and empty objects, the probe's decisions, and forged indexes / streams
// (decompression bombs) refused as corrupt.
import { createHash, randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadXxhash, xxh64 } from '../core/checksum.js';
import { CorruptObjectError } from '../core/errors.js';
import { CODEC_BROTLI, CODEC_BROTLI_COLUMNS, compressSync, decompress, MAX_COMPRESSED_OBJECT, worthTrying } from './codec.js';
import { toColumns } from './columns.js';
import { encodePackIndex, extract, objectBytes, PackIndex, packNameMatches, PackWriter, type PackEntry } from './pack.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  await loadXxhash();
});

/** csv makes `n` bytes of CSV text (compresses well, like a dataset). */
function csv(n: number, seed = 1): Buffer {
  let s = 'id,label,score,note\n';
  let i = seed;
  while (s.length < n) {
    i++;
    s += `${i},${['cat', 'dog', 'bird'][i % 3]},${(i * 37) % 1000},note ${i % 97}\n`;
  }
  return Buffer.from(s.slice(0, n));
}

/** prose makes `n` bytes of text that is not a table (compresses, but has no columns). */
function prose(n: number, seed = 1): Buffer {
  const words = ['the', 'dataset', 'was', 'relabelled', 'after', 'review', 'of', 'cats', 'and', 'dogs', 'in', 'March'];
  let s = '';
  let i = seed;
  while (s.length < n) {
    i = (i * 1103515245 + 12345) % 2147483648;
    s += words[i % words.length] + (i % 11 === 0 ? '.\n' : ' ');
  }
  return Buffer.from(s.slice(0, n));
}

/** plainBrotli compresses with brotli only (codec 1), as lode does for text that is not a table. */
const plainBrotli = (b: Buffer) => zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } });

async function seal(objects: { data: Buffer; compress?: boolean }[], buffer?: Buffer) {
  const w = new PackWriter(buffer);
  for (const o of objects) w.add(sha(o.data), o.data, o.compress ?? true);
  return w.seal();
}

/** readBack checks every object through the decoded index, as a reader would. */
function readBack(sealed: Awaited<ReturnType<typeof seal>>, objects: Buffer[]): PackIndex {
  const { id, pack, index } = sealed;
  const idx = PackIndex.decode(index, id, pack.length);
  expect(packNameMatches(pack, id, idx.entries())).toBe(true);
  for (const o of objects) {
    const e = idx.find(sha(o))!;
    expect(e).toBeDefined();
    const span = { offset: e.offset, length: e.length, entries: [e] };
    expect(extract(span, pack.subarray(e.offset, e.offset + e.length), e, id).equals(o)).toBe(true);
  }
  return idx;
}

describe('the codec probe', () => {
  it('compresses text, skips random bytes and tiny objects', () => {
    expect(worthTrying(csv(100_000))).toBe(true);
    expect(worthTrying(randomBytes(100_000))).toBe(false);
    expect(worthTrying(randomBytes(2000))).toBe(false);
    expect(worthTrying(Buffer.alloc(100))).toBe(false);
    expect(compressSync(Buffer.alloc(0))).toBeUndefined();
    // Text first, random after: the probe sees the text and tries; the whole does not pay, so it is stored.
    const mixed = Buffer.concat([csv(20 << 10), randomBytes(400 << 10)]);
    expect(worthTrying(mixed)).toBe(true);
    expect(compressSync(mixed)).toBeUndefined();
    const c = compressSync(csv(300_000))!;
    expect(c.codec).toBe(CODEC_BROTLI_COLUMNS);
    expect(c.bytes.length).toBeLessThan(150_000);
    expect(decompress(c.codec, c.bytes, 300_000, 'x').equals(csv(300_000))).toBe(true);
    const p = compressSync(prose(300_000))!;
    expect(p.codec).toBe(CODEC_BROTLI);
    expect(decompress(p.codec, p.bytes, 300_000, 'x').equals(prose(300_000))).toBe(true);
  });
});

describe('compressed packs', () => {
  it('compressible, incompressible, empty and metadata objects round-trip; only compressible file data is compressed', async () => {
    const text = csv(1 << 20); // large: compressed in the thread pool
    const small = csv(5000, 2); // small: compressed in place
    const noise = randomBytes(300_000);
    const empty = Buffer.alloc(0);
    const meta = csv(4000, 3); // compressible, but added as metadata
    const words = prose(200_000); // compressible, not a table
    const sealed = await seal([{ data: text }, { data: empty }, { data: noise }, { data: small }, { data: meta, compress: false }, { data: words }]);
    expect(sealed.compressed).toBe(true);
    expect(sealed.pack.subarray(0, 5).toString('latin1')).toBe('LODP\x03');
    expect(sealed.index.subarray(0, 5).toString('latin1')).toBe('LODX\x02');
    expect(sealed.columns).toBe(true);
    const idx = readBack(sealed, [text, small, noise, empty, meta, words]);
    const e = (b: Buffer) => idx.find(sha(b))!;
    expect(e(text).codec).toBe(CODEC_BROTLI_COLUMNS);
    expect(e(text).size).toBe(text.length);
    expect(e(text).length).toBeLessThan(text.length / 2);
    expect(e(small).codec).toBe(CODEC_BROTLI_COLUMNS);
    expect(e(words).codec).toBe(CODEC_BROTLI);
    for (const raw of [noise, empty, meta]) {
      expect(e(raw).codec).toBeUndefined();
      expect(e(raw).length).toBe(raw.length);
    }
    expect(sealed.pack.length).toBeLessThan(text.length / 2 + noise.length + meta.length + small.length / 2 + words.length / 2);
  });

  it('a pack with nothing worth compressing stays version 2 (readable by older lodes)', async () => {
    const noise = randomBytes(200_000);
    const sealed = await seal([{ data: noise }, { data: csv(3000), compress: false }, { data: Buffer.from('hi') }]);
    expect(sealed.compressed).toBe(false);
    expect(sealed.pack.subarray(0, 5).toString('latin1')).toBe('LODP\x02');
    expect(sealed.index.subarray(0, 5).toString('latin1')).toBe('LODX\x01');
    readBack(sealed, [noise, Buffer.from('hi')]);
  });

  it('random mixes of objects round-trip through seal, in a buffer too small to start with', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('csv', 'prose', 'random', 'zeros', 'empty'), fc.integer({ min: 0, max: 200_000 }), fc.boolean()), { maxLength: 12 }),
        async (specs) => {
          const objects = specs.map(([kind, n], i) => (kind === 'csv' ? csv(n, i) : kind === 'prose' ? prose(n, i) : kind === 'random' ? randomBytes(n) : kind === 'zeros' ? Buffer.alloc(n) : Buffer.alloc(0)));
          const sealed = await seal(objects.map((data, i) => ({ data, compress: specs[i][2] })), Buffer.alloc(64));
          readBack(sealed, objects);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('fsck-style reads notice damage to a compressed object: a flipped byte anywhere in its stream', async () => {
    const text = csv(50_000);
    const { id, pack, index } = await seal([{ data: text }]);
    const e = PackIndex.decode(index, id, pack.length).find(sha(text))!;
    const stored = pack.subarray(e.offset, e.offset + e.length);
    for (let i = 0; i < stored.length; i += Math.max(1, Math.floor(stored.length / 200))) {
      const bad = Buffer.from(stored);
      bad[i] ^= 0x04;
      expect(() => objectBytes(bad, e, id)).toThrow(CorruptObjectError);
    }
  });
});

describe('forged compressed entries', () => {
  const packId = 'a'.repeat(64);

  /** forgeIndex writes an index v2 by hand, with a fresh checksum. */
  function forgeIndex(entries: { id: string; offset: number; length: number; size: number; codec: number; check?: bigint }[]): Buffer {
    const buf = Buffer.alloc(5 + 32 + 4 + entries.length * 57 + 8);
    buf.write('LODX\x02', 0, 'latin1');
    Buffer.from(packId, 'hex').copy(buf, 5);
    buf.writeUInt32BE(entries.length, 37);
    let pos = 41;
    for (const e of entries) {
      Buffer.from(e.id, 'hex').copy(buf, pos);
      buf.writeBigUInt64BE(BigInt(e.offset), pos + 32);
      buf.writeUInt32BE(e.length, pos + 40);
      buf.writeUInt32BE(e.size, pos + 44);
      buf[pos + 48] = e.codec;
      buf.writeBigUInt64BE(e.check ?? 0n, pos + 49);
      pos += 57;
    }
    buf.writeBigUInt64BE(xxh64(buf.subarray(0, pos)), pos);
    return buf;
  }

  it('our own encoder writes what the forger writes (the layout the tests rely on)', () => {
    const e = { id: 'b'.repeat(64), offset: 21, length: 10, size: 30, codec: CODEC_BROTLI, check: 12345n };
    expect(encodePackIndex(packId, [e]).equals(forgeIndex([e]))).toBe(true);
  });

  it('an index claiming a huge uncompressed size, an unknown codec, or a raw entry of two sizes is refused before any read', () => {
    const id = 'b'.repeat(64);
    expect(() => PackIndex.decode(forgeIndex([{ id, offset: 21, length: 10, size: MAX_COMPRESSED_OBJECT + 1, codec: CODEC_BROTLI }]), packId)).toThrow(/more than a compressed object may have/);
    expect(() => PackIndex.decode(forgeIndex([{ id, offset: 21, length: 10, size: 0xffffffff, codec: CODEC_BROTLI }]), packId)).toThrow(CorruptObjectError);
    expect(() => PackIndex.decode(forgeIndex([{ id, offset: 21, length: 10, size: 10, codec: 7 }]), packId)).toThrow(/unknown codec 7/);
    expect(() => PackIndex.decode(forgeIndex([{ id, offset: 21, length: 10, size: 11, codec: 0 }]), packId)).toThrow(/stored raw/);
    expect(() => PackIndex.decode(forgeIndex([{ id, offset: 21, length: 10, size: 10, codec: 0, check: 1n }]), packId)).toThrow(/stored raw but carries a checksum/);
    expect(PackIndex.decode(forgeIndex([{ id, offset: 21, length: 10, size: MAX_COMPRESSED_OBJECT, codec: CODEC_BROTLI }]), packId).count).toBe(1);
  });

  it('a bomb (a stream inflating past its stated size) is stopped at that size and refused as corrupt', () => {
    const zeros = Buffer.alloc(16 << 20);
    const bomb = zlib.brotliCompressSync(zeros, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } });
    expect(bomb.length).toBeLessThan(100_000);
    // The stream claims 1 KiB: decoding stops there, it never allocates the 16 MiB.
    const e: PackEntry = { id: sha(zeros), offset: 21, length: bomb.length, size: 1024, codec: CODEC_BROTLI };
    expect(() => objectBytes(bomb, e, packId)).toThrow(/inflates past the 1024 bytes its index allows/);
    try {
      objectBytes(bomb, e, packId);
    } catch (err) {
      expect(err).toBeInstanceOf(CorruptObjectError);
      expect((err as CorruptObjectError).objectId).toBe(sha(zeros));
    }
  });

  it('a stream that is short, decodes to fewer bytes, carries trailing bytes, or is not brotli is refused', () => {
    const text = csv(40_000);
    const c = plainBrotli(text);
    const e = (length: number, size = text.length): PackEntry => ({ id: sha(text), offset: 21, length, size, codec: CODEC_BROTLI });
    expect(objectBytes(c, e(c.length), packId).equals(text)).toBe(true);
    expect(() => objectBytes(c.subarray(0, c.length - 3), e(c.length - 3), packId)).toThrow(/does not decompress/);
    expect(() => objectBytes(c, e(c.length, text.length + 1), packId)).toThrow(/inflates to 40000 bytes, its index states 40001/);
    const trailing = Buffer.concat([c, Buffer.from('tail')]);
    expect(() => objectBytes(trailing, e(trailing.length), packId)).toThrow(/4 bytes follow the end of its stream/);
    expect(() => objectBytes(Buffer.from('not brotli at all'), e(17), packId)).toThrow(CorruptObjectError);
    // With its checksum (as an index gives it), any change to the stored bytes is refused before decoding.
    const checked = { ...e(c.length), check: xxh64(c) };
    expect(objectBytes(c, checked, packId).equals(text)).toBe(true);
    const flipped = Buffer.from(c);
    flipped[0] ^= 0x02; // a bit brotli's decoder ignores here (the window size)
    expect(decompress(CODEC_BROTLI, flipped, text.length, 'x').equals(text)).toBe(true);
    expect(() => objectBytes(flipped, checked, packId)).toThrow(/does not match its checksum/);
    // A valid stream of other bytes decodes fine but fails the ID check.
    const other = plainBrotli(csv(40_000, 9));
    expect(() => objectBytes(other, e(other.length), packId)).toThrow(/does not match its ID/);
  });

  it('a column layout that rebuilds more or fewer bytes than stated, or is not a layout, is refused as corrupt', () => {
    const text = csv(40_000);
    const c = compressSync(text)!;
    expect(c.codec).toBe(CODEC_BROTLI_COLUMNS);
    const e = (stored: Buffer, size = text.length): PackEntry => ({ id: sha(text), offset: 21, length: stored.length, size, codec: CODEC_BROTLI_COLUMNS });
    expect(objectBytes(c.bytes, e(c.bytes), packId).equals(text)).toBe(true);
    expect(() => objectBytes(c.bytes, e(c.bytes, text.length + 1), packId)).toThrow(/column layout is damaged/);
    expect(() => objectBytes(c.bytes, e(c.bytes, text.length - 1), packId)).toThrow(/column layout is damaged/);
    // Plain brotli of the text read as a layout: its first byte is no delimiter of these columns.
    expect(() => objectBytes(plainBrotli(text), e(plainBrotli(text)), packId)).toThrow(CorruptObjectError);
    // A layout whose line counts disagree with its columns.
    const layout = toColumns(text, 0x2c);
    const forged = Buffer.from(layout);
    forged[3] = 9; // the first line's field count: 4 in csv()
    expect(() => objectBytes(plainBrotli(forged), e(plainBrotli(forged)), packId)).toThrow(/column layout is damaged/);
    // A bomb through the layout: bounded by the layout's own bound, then refused.
    const zeros = Buffer.alloc(16 << 20);
    const bomb = plainBrotli(zeros);
    expect(() => objectBytes(bomb, e(bomb, 1024), packId)).toThrow(/inflates past the \d+ bytes its index allows/);
  });
});
