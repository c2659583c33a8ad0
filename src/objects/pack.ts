/**
 * Packs: many objects in one immutable file, so a remote receives thousands
 * of small files in one PUT. A pack is the objects' stored bytes back to back
 * after a short header (each object raw, or compressed where it pays:
 * version 3); its index lists (object ID, offset, length, and for version 3
 * the uncompressed size and codec) sorted by ID. Both are named by the pack's
 * name: the SHA-256 of its table of contents (versions 2 and 3) or of all its
 * bytes (version 1). Nothing in a pack is trusted: every object read out of
 * one is decompressed within the size its index states and checked against
 * its ID by the reader. Layout in docs/formats.md.
 */
import { createHash, randomBytes } from 'node:crypto';
import { xxh64 } from '../core/checksum.js';
import { CorruptObjectError } from '../core/errors.js';
import { bytesToId, ID_BYTES, idToBytes, type ObjectId } from '../core/id.js';
import { sharedCompressPool } from './compress-pool.js';
import { ASYNC_FROM, CODEC_BROTLI_COLUMNS, CODEC_STORED, compressAsync, compressSync, decompress, isKnownCodec, MAX_COMPRESSED_OBJECT, type Compressed } from './codec.js';

/**
 * Pack versions differ only in how a pack is named (the bytes are laid out
 * the same): version 1 packs are named by the SHA-256 of all their bytes;
 * version 2 packs by the SHA-256 of their table of contents (see packName),
 * so a push hashes each object once, against its ID, and never the pack
 * again. Readers take both (packNameMatches).
 */
const PACK_MAGIC_V1 = Buffer.from('LODP\x01', 'latin1');
const PACK_MAGIC = Buffer.from('LODP\x02', 'latin1');
/**
 * Version 3 packs hold compressed objects: laid out and named like version 2,
 * but each table-of-contents entry also names the object's codec and
 * uncompressed size. A pack with no compressed object is written as version 2,
 * which every lode reads.
 */
const PACK_MAGIC_V3 = Buffer.from('LODP\x03', 'latin1');
/**
 * Random bytes after the magic make every pack's name unique, even for two
 * packs of the same objects: a pack marked for deletion by `gc --remote` is
 * never silently replaced by a new upload under the same name.
 */
const NONCE_BYTES = 16;
export const PACK_HEADER = PACK_MAGIC.length + NONCE_BYTES;
const INDEX_MAGIC = Buffer.from('LODX\x01', 'latin1');
/** Index version 2 (for version 3 packs): each entry also carries the uncompressed size (u32), the codec (u8) and the xxh64 of its stored bytes (u64; 0 when stored raw). */
const INDEX_MAGIC_V2 = Buffer.from('LODX\x02', 'latin1');
/**
 * MAX_OBJECT_BYTES bounds one object's length in an index read from a remote:
 * chunks are at most 64 MiB and no tree or chunk list comes near 1 GiB, so a
 * larger length is a forged index, refused before anything is allocated.
 */
export const MAX_OBJECT_BYTES = 1 << 30;

/**
 * PackEntry locates one object inside a pack: `length` bytes at `offset` as
 * stored; with a `codec` other than CODEC_STORED (0), those bytes are the
 * object compressed, and `size` is its uncompressed size (absent: stored raw,
 * `size` is `length`).
 */
export interface PackEntry {
  id: ObjectId;
  offset: number;
  length: number;
  size?: number;
  codec?: number;
  /** For a compressed entry: the xxh64 of its stored bytes, so damage that still decodes is noticed too. */
  check?: bigint;
}

/** rawSize is an entry's uncompressed size. */
export function rawSize(e: PackEntry): number {
  return e.size ?? e.length;
}

/** isCompressed says whether an entry is stored compressed. */
export function isCompressed(e: PackEntry): boolean {
  return (e.codec ?? CODEC_STORED) !== CODEC_STORED;
}

/** SealedPack is a finished pack: its name, bytes, encoded index and entries (sorted by ID). */
export interface SealedPack {
  id: ObjectId;
  pack: Buffer;
  index: Buffer;
  entries: PackEntry[];
  /** Whether some object is stored compressed (a version 3 pack: the remote must be at COMPRESSED_FORMAT). */
  compressed: boolean;
  /** Whether some object is stored in the column layout (CODEC_BROTLI_COLUMNS: the remote must be at COLUMNS_FORMAT). */
  columns: boolean;
}

/**
 * PackWriter lays objects out in one pack buffer; `finish` seals it. Objects
 * are placed with `add` (copied in) or `reserve` (the caller fills the slot,
 * e.g. by reading a file straight into it): either way each byte is copied
 * once, and `finish` returns the buffer as it is, never a concatenation.
 */
export class PackWriter {
  private buf: Buffer;
  private readonly entries: PackEntry[] = [];
  private readonly seen = new Set<ObjectId>();
  /** Per entry (in pack order): whether `seal` may compress it. */
  private readonly compressible: boolean[] = [];
  private size = PACK_HEADER;

  /** `buffer`: where to lay the pack out (grown by copying if an object does not fit); its content is overwritten. */
  constructor(buffer?: Buffer) {
    this.buf = buffer && buffer.length >= PACK_HEADER ? buffer : Buffer.allocUnsafe(Math.max(PACK_HEADER, 1 << 16));
    PACK_MAGIC.copy(this.buf, 0);
    randomBytes(NONCE_BYTES).copy(this.buf, PACK_MAGIC.length);
  }

  /** bytes is the pack's size so far. */
  get bytes(): number {
    return this.size;
  }

  get count(): number {
    return this.entries.length;
  }

  /** room says how many more bytes fit in the buffer without growing it. */
  get room(): number {
    return this.buf.length - this.size;
  }

  /**
   * reserve makes room for object `id` of `length` bytes and returns the slot
   * the caller must fill with exactly its bytes before `finish` (which are
   * the caller's to check against `id`); undefined when the pack already
   * holds `id`. `compress`: `seal` may store it compressed (file data);
   * metadata is left raw, so a remote that holds no compressed file data
   * stays readable by lodes older than compressed packs.
   */
  reserve(id: ObjectId, length: number, compress = false): Buffer | undefined {
    if (this.seen.has(id)) return undefined;
    this.seen.add(id);
    this.compressible.push(compress);
    if (this.size + length > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.size + length, Math.min(2 * this.buf.length, this.size + length + (64 << 20))));
      this.buf.copy(bigger, 0, 0, this.size);
      this.buf = bigger;
    }
    this.entries.push({ id, offset: this.size, length });
    const slot = this.buf.subarray(this.size, this.size + length);
    this.size += length;
    return slot;
  }

  /** add appends an object (once per ID; the caller guarantees bytes hash to id); `compress` as for `reserve`. */
  add(id: ObjectId, data: Uint8Array, compress = false): void {
    const slot = this.reserve(id, data.length, compress);
    if (slot) slot.set(data);
  }

  /**
   * finish returns the pack as laid out so far (a view of the writer's
   * buffer), its ID and its encoded index: version 3 once `seal` compressed
   * some object, else version 2. The writer is done after it.
   */
  finish(): SealedPack {
    const compressed = this.entries.some(isCompressed);
    (compressed ? PACK_MAGIC_V3 : PACK_MAGIC).copy(this.buf, 0);
    const pack = this.buf.subarray(0, this.size);
    const id = packName(pack, this.entries);
    const entries = [...this.entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const columns = this.entries.some((e) => e.codec === CODEC_BROTLI_COLUMNS);
    return { id, pack, index: encodePackIndex(id, entries), entries, compressed, columns };
  }

  /**
   * seal compresses every object where it pays (codec.ts: a cheap probe
   * turns away incompressible ones), moves the objects together in the same
   * buffer, and finishes the pack. Large objects are compressed off the
   * calling thread, so a push fills its next pack meanwhile: on worker
   * threads (CompressPool) when the pack is in shared memory, else brotli in
   * libuv's thread pool; small ones on the calling thread (handing them off
   * costs more than they do).
   * `compress: false` finishes the pack as it is.
   */
  async seal(o: { compress?: boolean } = {}): Promise<SealedPack> {
    if (o.compress === false) return this.finish();
    const outs: (Compressed | undefined)[] = new Array(this.entries.length);
    const jobs: Promise<void>[] = [];
    const shared = this.buf.buffer instanceof SharedArrayBuffer;
    this.entries.forEach((e, i) => {
      if (!this.compressible[i]) return;
      const raw = this.buf.subarray(e.offset, e.offset + e.length);
      if (e.length < ASYNC_FROM) {
        outs[i] = compressSync(raw);
        return;
      }
      // The pool starts with the first large object (a pack of small files never starts it).
      const pool = shared ? sharedCompressPool() : undefined;
      jobs.push((pool ? pool.compress(raw).catch(() => compressAsync(raw)) : compressAsync(raw)).then((out) => void (outs[i] = out)));
    });
    await Promise.all(jobs);
    if (outs.every((out) => out === undefined)) return this.finish();
    // Objects lie in pack order and none grows: each moves to an offset at
    // or before its own, so copying in order never overwrites bytes still needed.
    let at = PACK_HEADER;
    this.entries.forEach((e, i) => {
      const out = outs[i];
      if (out) {
        out.bytes.copy(this.buf, at);
        e.size = e.length;
        e.length = out.bytes.length;
        e.codec = out.codec;
        e.check = xxh64(out.bytes);
      } else if (at !== e.offset) this.buf.copy(this.buf, at, e.offset, e.offset + e.length);
      e.offset = at;
      at += e.length;
    });
    this.size = at;
    return this.finish();
  }
}

/**
 * newPackHeader returns the header of a pack laid out elsewhere than in a
 * PackWriter (a pack file written object by object): version 2 magic and a
 * fresh nonce; `finishPackFile` tells whether it must become version 3.
 */
export function newPackHeader(): Buffer {
  const head = Buffer.alloc(PACK_HEADER);
  PACK_MAGIC.copy(head, 0);
  randomBytes(NONCE_BYTES).copy(head, PACK_MAGIC.length);
  return head;
}

/**
 * finishPackFile names a pack laid out elsewhere: `header` (from
 * newPackHeader, made version 3 here when some entry is compressed: the
 * caller writes it back over the file's first bytes) and its entries in
 * pack order, back to back after the header. Returns what `finish` returns,
 * without the pack's bytes.
 */
export function finishPackFile(header: Buffer, ordered: readonly PackEntry[]): Omit<SealedPack, 'pack'> {
  const compressed = ordered.some(isCompressed);
  (compressed ? PACK_MAGIC_V3 : PACK_MAGIC).copy(header, 0);
  const id = packName(header, ordered);
  const entries = [...ordered].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const columns = ordered.some((e) => e.codec === CODEC_BROTLI_COLUMNS);
  return { id, index: encodePackIndex(id, entries), entries, compressed, columns };
}

/**
 * packName is the name of a version 2 or 3 pack: the SHA-256 of its header
 * (magic and nonce, 21 bytes) followed by, for each object in pack order, its
 * ID (32 bytes) and its stored length (u32) — and in version 3 also its
 * uncompressed size (u32), codec (u8) and the xxh64 of its stored bytes when
 * compressed (u64, else 0). Objects lie back to back after the header, so
 * with each object checked against its ID this pins every byte of a version
 * 2 pack. In version 3 a compressed object must also decode exactly (its
 * whole stream, to its stated size) to bytes matching its ID, and its stored
 * bytes must match their xxh64: a brotli stream has bits a decoder ignores,
 * and damage there must not go unnoticed either.
 */
export function packName(header: Uint8Array, ordered: readonly PackEntry[]): ObjectId {
  const head = Buffer.from(header.buffer, header.byteOffset, PACK_HEADER);
  const v3 = head.subarray(0, PACK_MAGIC_V3.length).equals(PACK_MAGIC_V3);
  const h = createHash('sha256').update(head);
  // All entries in one buffer, hashed at once (one update per entry costs more than the hashing).
  const width = ID_BYTES + (v3 ? 17 : 4);
  const toc = Buffer.alloc(width * ordered.length);
  let pos = 0;
  for (const e of ordered) {
    toc.write(e.id, pos, ID_BYTES, 'hex');
    toc.writeUInt32BE(e.length, pos + ID_BYTES);
    if (v3) {
      toc.writeUInt32BE(rawSize(e), pos + ID_BYTES + 4);
      toc[pos + ID_BYTES + 8] = e.codec ?? CODEC_STORED;
      toc.writeBigUInt64BE(e.check ?? 0n, pos + ID_BYTES + 9);
    }
    pos += width;
  }
  return h.update(toc).digest('hex');
}

/**
 * packNameMatches says whether a whole pack's bytes fit its name: version 1,
 * their SHA-256; version 2, its objects (from its index) tile the pack after
 * the header and packName matches. It does not check the objects against
 * their IDs: the caller does (fsck reports those one by one).
 */
export function packNameMatches(pack: Buffer, packId: ObjectId, entries: Iterable<PackEntry>): boolean {
  if (pack.length < PACK_HEADER) return false;
  const magic = pack.subarray(0, PACK_MAGIC.length);
  if (magic.equals(PACK_MAGIC_V1)) return createHash('sha256').update(pack).digest('hex') === packId;
  if (!magic.equals(PACK_MAGIC) && !magic.equals(PACK_MAGIC_V3)) return false;
  // By offset; an empty object (there is at most one: one ID) shares its offset with the next object and comes first.
  const ordered = [...entries].sort((a, b) => a.offset - b.offset || a.length - b.length);
  let at = PACK_HEADER;
  for (const e of ordered) {
    if (e.offset !== at) return false;
    at += e.length;
  }
  return at === pack.length && packName(pack, ordered) === packId;
}

/**
 * encodePackIndex: "LODX" 0x01, the pack ID (32 bytes), a u32 count, then per
 * object (sorted by ID) ID (32) + u64 offset + u32 length, then an xxh64 of
 * everything before it (u64). When some object is compressed (a version 3
 * pack), "LODX" 0x02 and each entry also carries u32 uncompressed size + u8
 * codec + u64 xxh64 of its stored bytes (0 when stored raw). loadXxhash()
 * must have run.
 */
export function encodePackIndex(packId: ObjectId, entries: readonly PackEntry[]): Buffer {
  const v2 = entries.some(isCompressed);
  const width = ID_BYTES + (v2 ? 25 : 12);
  const buf = Buffer.alloc(INDEX_MAGIC.length + ID_BYTES + 4 + entries.length * width + 8);
  let pos = (v2 ? INDEX_MAGIC_V2 : INDEX_MAGIC).copy(buf, 0);
  pos += idToBytes(packId).copy(buf, pos);
  buf.writeUInt32BE(entries.length, pos);
  pos += 4;
  let prev = '';
  for (const e of entries) {
    if (e.id <= prev) throw new RangeError('pack index entries must be sorted and unique');
    prev = e.id;
    pos += buf.write(e.id, pos, ID_BYTES, 'hex');
    // u64 as two u32 (offsets are safe integers): no BigInt per entry.
    buf.writeUInt32BE(Math.floor(e.offset / 0x100000000), pos);
    buf.writeUInt32BE(e.offset >>> 0, pos + 4);
    buf.writeUInt32BE(e.length, pos + 8);
    pos += 12;
    if (v2) {
      buf.writeUInt32BE(rawSize(e), pos);
      buf[pos + 4] = e.codec ?? CODEC_STORED;
      buf.writeBigUInt64BE(e.check ?? 0n, pos + 5);
      pos += 13;
    }
  }
  buf.writeBigUInt64BE(xxh64(buf.subarray(0, pos)), pos);
  return buf;
}

/** PackIndex answers where objects are in one pack. */
export class PackIndex {
  private constructor(
    readonly packId: ObjectId,
    private readonly ids: Buffer,
    private readonly offsets: Float64Array,
    private readonly lengths: Uint32Array,
    /** Where the last object ends: the pack must be at least this long. */
    private readonly end: number,
    /** Uncompressed sizes and codecs (index version 2); undefined: every object stored raw. */
    private readonly sizes?: Uint32Array,
    private readonly codecs?: Uint8Array,
    private readonly checks?: BigUint64Array,
  ) {}

  /** fits says whether every object lies inside a pack of `packSize` bytes (unknown size: yes). */
  fits(packSize: number | undefined): boolean {
    return packSize === undefined || this.end <= packSize;
  }

  get count(): number {
    return this.lengths.length;
  }

  /**
   * decode parses and checks an index (magic, checksum, sorted IDs, lengths
   * up to MAX_OBJECT_BYTES, and that every object lies inside a pack of
   * `packSize` bytes when given). CorruptObjectError names the pack.
   */
  static decode(buf: Buffer, expectPackId?: ObjectId, packSize?: number): PackIndex {
    const fail = (why: string) => new CorruptObjectError(`pack index ${expectPackId ?? ''} is corrupt: ${why}`.replace('  ', ' '), { objectId: expectPackId });
    const head = INDEX_MAGIC.length + ID_BYTES + 4;
    const magic = buf.subarray(0, INDEX_MAGIC.length);
    const v2 = magic.equals(INDEX_MAGIC_V2);
    if (buf.length < head + 8 || (!v2 && !magic.equals(INDEX_MAGIC))) throw fail('bad header');
    const width = ID_BYTES + (v2 ? 25 : 12);
    if (xxh64(buf.subarray(0, buf.length - 8)) !== buf.readBigUInt64BE(buf.length - 8)) throw fail('checksum mismatch');
    const packId = bytesToId(buf, INDEX_MAGIC.length);
    if (expectPackId && packId !== expectPackId) throw fail(`it describes pack ${packId}`);
    const count = buf.readUInt32BE(INDEX_MAGIC.length + ID_BYTES);
    if (buf.length !== head + count * width + 8) throw fail('wrong length');
    const ids = Buffer.alloc(count * ID_BYTES);
    const offsets = new Float64Array(count);
    const lengths = new Uint32Array(count);
    const sizes = v2 ? new Uint32Array(count) : undefined;
    const codecs = v2 ? new Uint8Array(count) : undefined;
    const checks = v2 ? new BigUint64Array(count) : undefined;
    let pos = head;
    let end = 0;
    for (let i = 0; i < count; i++) {
      buf.copy(ids, i * ID_BYTES, pos, pos + ID_BYTES);
      // ID i must sort after ID i - 1 (compared in place: no views allocated per entry).
      if (i > 0 && ids.compare(ids, (i - 1) * ID_BYTES, i * ID_BYTES, i * ID_BYTES, (i + 1) * ID_BYTES) <= 0) throw fail('IDs not sorted');
      // The u64 offset as two u32 (no BigInt per entry): a safe integer has at most 21 bits in the high word.
      const offHigh = buf.readUInt32BE(pos + ID_BYTES);
      const len = buf.readUInt32BE(pos + ID_BYTES + 8);
      if (len > MAX_OBJECT_BYTES) throw fail(`object ${i} declares ${len} bytes, more than any object can have`);
      if (offHigh > 0x1fffff) throw fail(`object ${i} lies outside the pack (offset ${buf.readBigUInt64BE(pos + ID_BYTES)})`);
      const off = offHigh * 0x100000000 + buf.readUInt32BE(pos + ID_BYTES + 4);
      if (off < PACK_HEADER || (packSize !== undefined && off + len > packSize)) {
        throw fail(`object ${i} lies outside the pack (${off}+${len}${packSize !== undefined ? ` of ${packSize} bytes` : ''})`);
      }
      offsets[i] = off;
      lengths[i] = len;
      if (off + len > end) end = off + len;
      if (sizes && codecs && checks) {
        // A decompression bomb is refused here, from the index alone, before a byte of the pack is read.
        const size = buf.readUInt32BE(pos + ID_BYTES + 12);
        const codec = buf[pos + ID_BYTES + 16];
        if (codec === CODEC_STORED) {
          if (size !== len) throw fail(`object ${i} is stored raw but declares ${size} bytes in ${len}`);
          if (buf.readBigUInt64BE(pos + ID_BYTES + 17) !== 0n) throw fail(`object ${i} is stored raw but carries a checksum`);
        } else if (isKnownCodec(codec)) {
          if (size > MAX_COMPRESSED_OBJECT) throw fail(`object ${i} declares ${size} bytes uncompressed, more than a compressed object may have`);
        } else throw fail(`object ${i} names unknown codec ${codec}`);
        sizes[i] = size;
        codecs[i] = codec;
        checks[i] = buf.readBigUInt64BE(pos + ID_BYTES + 17);
      }
      pos += width;
    }
    return new PackIndex(packId, ids, offsets, lengths, end, sizes, codecs, checks);
  }

  /** find returns where `id` is, or undefined. */
  find(id: ObjectId): PackEntry | undefined {
    const key = idToBytes(id);
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = Buffer.compare(this.ids.subarray(mid * ID_BYTES, (mid + 1) * ID_BYTES), key);
      if (c === 0) return this.entryAt(mid, id);
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /**
   * wordAt is bytes 4w..4w+3 of entry `i`'s ID as an unsigned number (w in
   * 0..7): IDs are SHA-256, so any word is an evenly spread hash key.
   */
  wordAt(i: number, w: number): number {
    return this.ids.readUInt32BE(i * ID_BYTES + 4 * w);
  }

  /** idIsAt says whether entry `i`'s ID is `id` (lowercase hex), comparing bytes in place: no string made. */
  idIsAt(i: number, id: ObjectId): boolean {
    const base = i * ID_BYTES;
    for (let k = 0; k < ID_BYTES; k++) {
      if (this.ids[base + k] !== (hexValue(id.charCodeAt(2 * k)) << 4) + hexValue(id.charCodeAt(2 * k + 1))) return false;
    }
    return true;
  }

  /** idAt, offsetAt and lengthAt read entry `i` (in ID order). */
  idAt(i: number): ObjectId {
    return bytesToId(this.ids, i * ID_BYTES);
  }

  offsetAt(i: number): number {
    return this.offsets[i];
  }

  lengthAt(i: number): number {
    return this.lengths[i];
  }

  /** entryAt is entry `i` (in ID order); `id` saves making its ID string again. */
  entryAt(i: number, id: ObjectId = this.idAt(i)): PackEntry {
    const e: PackEntry = { id, offset: this.offsets[i], length: this.lengths[i] };
    if (this.codecs && this.sizes && this.checks && this.codecs[i] !== CODEC_STORED) {
      e.size = this.sizes[i];
      e.codec = this.codecs[i];
      e.check = this.checks[i];
    }
    return e;
  }

  /** entries lists every object in ID order. */
  *entries(): Generator<PackEntry> {
    for (let i = 0; i < this.count; i++) yield this.entryAt(i);
  }
}

/** hexValue is the value of a lowercase hex digit's char code; 256 (matching no byte) for anything else. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return 256;
}

/** hexWord reads 8 lowercase hex digits of `s` from `at` as an unsigned number; NaN when one is not hex. */
export function hexWord(s: string, at: number): number {
  let v = 0;
  for (let k = at; k < at + 8; k++) {
    const d = hexValue(s.charCodeAt(k));
    if (d > 15) return NaN;
    v = v * 16 + d;
  }
  return v;
}

/** ReadSpan is one ranged read covering one or more objects of a pack. */
export interface ReadSpan {
  offset: number;
  length: number;
  entries: PackEntry[];
}

/**
 * coalesce groups wanted objects of one pack into ranged reads: neighbours
 * closer than `maxGap` bytes share a read, as long as a read stays under
 * `maxSpan` bytes. Fewer requests beat skipping a few unneeded bytes.
 */
export function coalesce(entries: readonly PackEntry[], maxGap = 256 << 10, maxSpan = 16 << 20): ReadSpan[] {
  const sorted = [...entries].sort((a, b) => a.offset - b.offset);
  const spans: ReadSpan[] = [];
  for (const e of sorted) {
    const last = spans[spans.length - 1];
    const end = last ? last.offset + last.length : 0;
    if (last && e.offset - end <= maxGap && e.offset + e.length - last.offset <= maxSpan) {
      last.length = Math.max(end, e.offset + e.length) - last.offset;
      last.entries.push(e);
    } else {
      spans.push({ offset: e.offset, length: e.length, entries: [e] });
    }
  }
  return spans;
}

/**
 * extract cuts one object out of a span's bytes, decompresses it (bounded by
 * its stated size) and checks it against its ID. CorruptObjectError names
 * the object and the pack.
 */
export function extract(span: ReadSpan, bytes: Buffer, e: PackEntry, packId: ObjectId): Buffer {
  checkSpanLength(span, bytes, packId);
  return objectBytes(bytes.subarray(e.offset - span.offset, e.offset - span.offset + e.length), e, packId);
}

/**
 * objectBytes turns an entry's stored bytes into the object's bytes:
 * decompressed within its stated size, checked against its ID.
 * CorruptObjectError names the object and the pack.
 */
export function objectBytes(stored: Buffer, e: PackEntry, packId: ObjectId): Buffer {
  const what = `object ${e.id} in pack ${packId}`;
  if (e.check !== undefined && xxh64(stored) !== e.check) {
    throw new CorruptObjectError(`${what} does not match its checksum (its compressed bytes are damaged)`, { objectId: e.id, hint: 'the remote copy is damaged: push it again from a workspace that has it' });
  }
  let data: Buffer;
  try {
    data = decompress(e.codec ?? CODEC_STORED, stored, rawSize(e), what);
  } catch (err) {
    if (!(err instanceof CorruptObjectError)) throw err;
    throw new CorruptObjectError(err.message, { objectId: e.id, hint: err.hint, cause: err });
  }
  if (createHash('sha256').update(data).digest('hex') !== e.id) throw objectMismatch(e, packId);
  return data;
}

/** checkSpanLength refuses a ranged read that returned another length than asked for. */
export function checkSpanLength(span: ReadSpan, bytes: Buffer, packId: ObjectId): void {
  if (bytes.length !== span.length) throw new CorruptObjectError(`pack ${packId}: a read of ${span.length} bytes returned ${bytes.length}`, { objectId: packId });
}

/**
 * spanRanges says where each of `entries` (objects of `span`, all of them by
 * default) lies in the span's bytes, with the ID it must hash to (for
 * HashPool.verify). Only raw-stored entries can be checked that way: a
 * compressed one hashes to its ID only once decompressed (objectBytes).
 */
export function spanRanges(span: ReadSpan, entries: readonly PackEntry[] = span.entries): { start: number; end: number; id: ObjectId }[] {
  return entries.map((e) => ({ start: e.offset - span.offset, end: e.offset - span.offset + e.length, id: e.id }));
}

/** objectMismatch is the error for an object of a pack whose bytes do not hash to its ID. */
export function objectMismatch(e: PackEntry, packId: ObjectId): CorruptObjectError {
  return new CorruptObjectError(`object ${e.id} in pack ${packId} does not match its ID`, { objectId: e.id, hint: 'the remote copy is damaged: push it again from a workspace that has it' });
}
