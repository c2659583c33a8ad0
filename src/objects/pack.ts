/**
 * Packs: many objects in one immutable file, so a remote receives thousands
 * of small files in one PUT. A pack is the objects' raw bytes back to back
 * after a short header; its index lists (object ID, offset, length) sorted by
 * ID. Both are named by the pack's name: the SHA-256 of its table of
 * contents (version 2) or of all its bytes (version 1). Nothing in a pack is
 * trusted: every object read out of one is checked against its ID by the
 * reader. Layout in docs/formats.md.
 */
import { createHash, randomBytes } from 'node:crypto';
import { xxh64 } from '../core/checksum.js';
import { CorruptObjectError } from '../core/errors.js';
import { bytesToId, ID_BYTES, idToBytes, type ObjectId } from '../core/id.js';

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
 * Random bytes after the magic make every pack's name unique, even for two
 * packs of the same objects: a pack marked for deletion by `gc --remote` is
 * never silently replaced by a new upload under the same name.
 */
const NONCE_BYTES = 16;
export const PACK_HEADER = PACK_MAGIC.length + NONCE_BYTES;
const INDEX_MAGIC = Buffer.from('LODX\x01', 'latin1');
/**
 * MAX_OBJECT_BYTES bounds one object's length in an index read from a remote:
 * chunks are at most 64 MiB and no tree or chunk list comes near 1 GiB, so a
 * larger length is a forged index, refused before anything is allocated.
 */
export const MAX_OBJECT_BYTES = 1 << 30;

/** PackEntry locates one object inside a pack. */
export interface PackEntry {
  id: ObjectId;
  offset: number;
  length: number;
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
  private readonly toc = createHash('sha256');
  private size = PACK_HEADER;

  /** `buffer`: where to lay the pack out (grown by copying if an object does not fit); its content is overwritten. */
  constructor(buffer?: Buffer) {
    this.buf = buffer && buffer.length >= PACK_HEADER ? buffer : Buffer.allocUnsafe(Math.max(PACK_HEADER, 1 << 16));
    PACK_MAGIC.copy(this.buf, 0);
    randomBytes(NONCE_BYTES).copy(this.buf, PACK_MAGIC.length);
    this.toc.update(this.buf.subarray(0, PACK_HEADER));
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
   * holds `id`.
   */
  reserve(id: ObjectId, length: number): Buffer | undefined {
    if (this.seen.has(id)) return undefined;
    this.seen.add(id);
    if (this.size + length > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.size + length, Math.min(2 * this.buf.length, this.size + length + (64 << 20))));
      this.buf.copy(bigger, 0, 0, this.size);
      this.buf = bigger;
    }
    this.entries.push({ id, offset: this.size, length });
    const entry = Buffer.alloc(ID_BYTES + 4);
    idToBytes(id).copy(entry, 0);
    entry.writeUInt32BE(length, ID_BYTES);
    this.toc.update(entry);
    const slot = this.buf.subarray(this.size, this.size + length);
    this.size += length;
    return slot;
  }

  /** add appends an object (once per ID; the caller guarantees bytes hash to id). */
  add(id: ObjectId, data: Uint8Array): void {
    const slot = this.reserve(id, data.length);
    if (slot) slot.set(data);
  }

  /** finish returns the pack (a view of the writer's buffer), its ID and its encoded index. */
  finish(): { id: ObjectId; pack: Buffer; index: Buffer; entries: PackEntry[] } {
    const pack = this.buf.subarray(0, this.size);
    const id = this.toc.digest('hex');
    const entries = [...this.entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { id, pack, index: encodePackIndex(id, entries), entries };
  }
}

/**
 * packName is the name of a version 2 pack: the SHA-256 of its header (magic
 * and nonce, 21 bytes) followed by, for each object in pack order, its ID (32
 * bytes) and its length (u32). Objects lie back to back after the header, so
 * with each object checked against its ID this pins every byte of the pack.
 */
export function packName(header: Uint8Array, ordered: readonly { id: ObjectId; length: number }[]): ObjectId {
  const h = createHash('sha256').update(header.subarray(0, PACK_HEADER));
  const entry = Buffer.alloc(ID_BYTES + 4);
  for (const e of ordered) {
    idToBytes(e.id).copy(entry, 0);
    entry.writeUInt32BE(e.length, ID_BYTES);
    h.update(entry);
  }
  return h.digest('hex');
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
  if (!magic.equals(PACK_MAGIC)) return false;
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
 * everything before it (u64). loadXxhash() must have run.
 */
export function encodePackIndex(packId: ObjectId, entries: readonly PackEntry[]): Buffer {
  const buf = Buffer.alloc(INDEX_MAGIC.length + ID_BYTES + 4 + entries.length * (ID_BYTES + 12) + 8);
  let pos = INDEX_MAGIC.copy(buf, 0);
  pos += idToBytes(packId).copy(buf, pos);
  buf.writeUInt32BE(entries.length, pos);
  pos += 4;
  let prev = '';
  for (const e of entries) {
    if (e.id <= prev) throw new RangeError('pack index entries must be sorted and unique');
    prev = e.id;
    pos += idToBytes(e.id).copy(buf, pos);
    buf.writeBigUInt64BE(BigInt(e.offset), pos);
    buf.writeUInt32BE(e.length, pos + 8);
    pos += 12;
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
    if (buf.length < head + 8 || !buf.subarray(0, INDEX_MAGIC.length).equals(INDEX_MAGIC)) throw fail('bad header');
    if (xxh64(buf.subarray(0, buf.length - 8)) !== buf.readBigUInt64BE(buf.length - 8)) throw fail('checksum mismatch');
    const packId = bytesToId(buf, INDEX_MAGIC.length);
    if (expectPackId && packId !== expectPackId) throw fail(`it describes pack ${packId}`);
    const count = buf.readUInt32BE(INDEX_MAGIC.length + ID_BYTES);
    if (buf.length !== head + count * (ID_BYTES + 12) + 8) throw fail('wrong length');
    const ids = Buffer.alloc(count * ID_BYTES);
    const offsets = new Float64Array(count);
    const lengths = new Uint32Array(count);
    let pos = head;
    let end = 0;
    for (let i = 0; i < count; i++) {
      buf.copy(ids, i * ID_BYTES, pos, pos + ID_BYTES);
      // ID i must sort after ID i - 1 (compared in place: no views allocated per entry).
      if (i > 0 && ids.compare(ids, (i - 1) * ID_BYTES, i * ID_BYTES, i * ID_BYTES, (i + 1) * ID_BYTES) <= 0) throw fail('IDs not sorted');
      const off64 = buf.readBigUInt64BE(pos + ID_BYTES);
      const len = buf.readUInt32BE(pos + ID_BYTES + 8);
      if (len > MAX_OBJECT_BYTES) throw fail(`object ${i} declares ${len} bytes, more than any object can have`);
      if (off64 > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`object ${i} lies outside the pack (offset ${off64})`);
      const off = Number(off64);
      if (off < PACK_HEADER || (packSize !== undefined && off + len > packSize)) {
        throw fail(`object ${i} lies outside the pack (${off}+${len}${packSize !== undefined ? ` of ${packSize} bytes` : ''})`);
      }
      offsets[i] = off;
      lengths[i] = len;
      if (off + len > end) end = off + len;
      pos += ID_BYTES + 12;
    }
    return new PackIndex(packId, ids, offsets, lengths, end);
  }

  /** find returns where `id` is, or undefined. */
  find(id: ObjectId): PackEntry | undefined {
    const key = idToBytes(id);
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = Buffer.compare(this.ids.subarray(mid * ID_BYTES, (mid + 1) * ID_BYTES), key);
      if (c === 0) return { id, offset: this.offsets[mid], length: this.lengths[mid] };
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

  /** entries lists every object in ID order. */
  *entries(): Generator<PackEntry> {
    for (let i = 0; i < this.count; i++) yield { id: bytesToId(this.ids, i * ID_BYTES), offset: this.offsets[i], length: this.lengths[i] };
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
 * extract cuts one object out of a span's bytes and checks it against its ID.
 * CorruptObjectError names the object and the pack.
 */
export function extract(span: ReadSpan, bytes: Buffer, e: PackEntry, packId: ObjectId): Buffer {
  if (bytes.length !== span.length) throw new CorruptObjectError(`pack ${packId}: a read of ${span.length} bytes returned ${bytes.length}`, { objectId: packId });
  const data = bytes.subarray(e.offset - span.offset, e.offset - span.offset + e.length);
  if (createHash('sha256').update(data).digest('hex') !== e.id) {
    throw new CorruptObjectError(`object ${e.id} in pack ${packId} does not match its ID`, { objectId: e.id, hint: 'the remote copy is damaged: push it again from a workspace that has it' });
  }
  return data;
}
