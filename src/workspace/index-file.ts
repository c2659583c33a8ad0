/**
 * The index (.lode/index): the staging area and the stat cache in one compact
 * binary file. Each tracked file has its path, content ID, size and the stat
 * it was hashed at (mtime and ctime in ns, inode), so `status` re-hashes only
 * what changed. An xxh64 of the whole file closes it; a torn or edited index
 * is refused rather than trusted. The root tree ID of the entries is kept in
 * the header so comparing the index with HEAD costs nothing. Layout in
 * docs/formats.md.
 */
import * as fs from 'node:fs';
import { loadXxhash, xxh64, xxhashReady } from '../core/checksum.js';
import { CorruptObjectError, NotFoundError } from '../core/errors.js';
import { bytesToId, idToBytes, type ObjectId } from '../core/id.js';
import { comparePaths, parentPath, repoPathProblem } from '../core/paths.js';
import * as path from 'node:path';
import { errnoCode, rmQuiet, tempName, writeFileAtomic } from '../storage/atomic.js';
import { buildTrees, EMPTY_TREE, lookupPath, type BuiltTrees, type FileEntry, type SubtreeEntry, type TreeSource } from '../graph/trees.js';
import { RESULT_RECORD, RESULT_U64S, type IngestResults } from '../objects/ingest.js';

const MAGIC = 0x4c4f4449; // "LODI"
const VERSION = 2;

/** IndexEntry is one tracked file as staged, with its stat cache. */
export interface IndexEntry {
  path: string;
  kind: 'blob' | 'chunked';
  id: ObjectId;
  size: number;
  exec: boolean;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
  /** xxh64 of the content, for quick re-validation (0n: unknown). */
  xxh: bigint;
}

/** u64 reads a big-endian u64 as a Number (exact below 2^53) without allocating a BigInt. */
function u64(buf: Buffer, pos: number): number {
  return buf.readUInt32BE(pos) * 4294967296 + buf.readUInt32BE(pos + 4);
}

/**
 * Row layout of an entry's fixed-width fields (the same 74 bytes follow each
 * path in version 1): kind, flags, size, mtime, ctime, inode, xxh64, ID.
 */
const ROW = 74;
const R_KIND = 0;
const R_FLAGS = 1;
const R_SIZE = 2;
const R_MTIME = 10;
const R_CTIME = 18;
const R_INO = 26;
const R_XXH = 34;
const R_ID = 42;
/** Every RESTART-th path is stored whole, so a lookup decodes at most RESTART - 1 others. */
const RESTART = 16;

/**
 * StoredEntry is an index entry read from disk. The stat fields, checksum and
 * ID are decoded only when asked for: a no-op `status` of 20,000 files needs
 * the times as plain numbers and nothing else, and decoding them all up front
 * (BigInts, hex strings) costs more than the rest of reading the index.
 */
export class StoredEntry implements IndexEntry {
  /**
   * Fields assigned after reading, in one object made only for entries that
   * get one: an index of millions of entries keeps each StoredEntry at six
   * fields (decoded values are not cached; decoding is cheap).
   */
  private changed?: { id?: ObjectId; mtimeNs?: bigint; ctimeNs?: bigint; ino?: bigint; xxh?: bigint };

  constructor(
    /** The table it was read from. */
    readonly table: IndexTable,
    /** Offset of the mtime field; ctime, inode, xxh64 and ID follow. */
    private readonly at: number,
    public path: string,
    public kind: 'blob' | 'chunked',
    public size: number,
    public exec: boolean,
  ) {}

  private get buf(): Buffer {
    return this.table.buf;
  }

  /**
   * row is this entry's number in its table while what a tree records of it
   * (ID, kind, size, executable bit) is as read, else -1. Its stat may have
   * been reassigned (see statChanged).
   */
  row(): number {
    if (this.changed?.id !== undefined) return -1;
    const i = this.table.rowOfMtime(this.at);
    return this.kind === this.table.kind(i) && this.size === this.table.size(i) && this.exec === this.table.exec(i) ? i : -1;
  }

  /** statChanged says whether a stat field or the checksum was reassigned since reading. */
  statChanged(): boolean {
    const c = this.changed;
    return c !== undefined && (c.mtimeNs !== undefined || c.ctimeNs !== undefined || c.ino !== undefined || c.xxh !== undefined);
  }

  get id(): ObjectId {
    return this.changed?.id ?? bytesToId(this.buf, this.at + 32);
  }
  set id(v: ObjectId) {
    (this.changed ??= {}).id = v;
  }
  get mtimeNs(): bigint {
    return this.changed?.mtimeNs ?? this.buf.readBigUInt64BE(this.at);
  }
  set mtimeNs(v: bigint) {
    (this.changed ??= {}).mtimeNs = v;
  }
  get ctimeNs(): bigint {
    return this.changed?.ctimeNs ?? this.buf.readBigUInt64BE(this.at + 8);
  }
  set ctimeNs(v: bigint) {
    (this.changed ??= {}).ctimeNs = v;
  }
  get ino(): bigint {
    return this.changed?.ino ?? this.buf.readBigUInt64BE(this.at + 16);
  }
  set ino(v: bigint) {
    (this.changed ??= {}).ino = v;
  }
  get xxh(): bigint {
    return this.changed?.xxh ?? this.buf.readBigUInt64BE(this.at + 24);
  }
  set xxh(v: bigint) {
    (this.changed ??= {}).xxh = v;
  }
  /** Stat fields as Numbers (ns to within 256 ns; rounding keeps their order), while none was reassigned. */
  statNumbers(): { mtime: number; ctime: number; ino: number } | undefined {
    const c = this.changed;
    if (c && (c.mtimeNs !== undefined || c.ctimeNs !== undefined || c.ino !== undefined)) return undefined;
    return { mtime: u64(this.buf, this.at), ctime: u64(this.buf, this.at + 8), ino: u64(this.buf, this.at + 16) };
  }
  toJSON(): IndexEntry {
    const { path, kind, id, size, exec, mtimeNs, ctimeNs, ino, xxh } = this;
    return { path, kind, id, size, exec, mtimeNs, ctimeNs, ino, xxh };
  }
}

/** readVarint decodes an unsigned LEB128 at `pos`; returns the value and sets `next.pos`. */
function readVarint(buf: Buffer, pos: number, end: number, next: { pos: number }): number {
  let v = 0;
  let mul = 1;
  while (true) {
    if (pos >= end || mul > 2 ** 28) throw new RangeError('varint runs past the end');
    const b = buf[pos++];
    v += (b & 0x7f) * mul;
    if (b < 0x80) break;
    mul *= 128;
  }
  next.pos = pos;
  return v;
}

function writeVarint(buf: Buffer, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/** pathByte maps a path byte to its sort key: '/' ends a component, so it sorts before every other byte. */
const pathByte = (b: number) => (b === 0x2f ? -1 : b);

/**
 * IndexTable is the entries of an index as stored: one buffer holding a row
 * of fixed-width fields per entry (read by offset) and the paths, sorted and
 * prefix-compressed against the previous path. No object is made per entry
 * unless asked for (`entry`), which keeps millions of entries at about the
 * size of the file. Rows may be updated in place (`setStat`, `setXxh`).
 */
export class IndexTable {
  private scratch = Buffer.allocUnsafe(256);
  private readonly step = { pos: 0 };
  /**
   * The rows' u64 fields are read through this view: a no-op status reads
   * four per file, and DataView reads inline where two Buffer.readUInt32BE
   * calls did not (about 100 ms per million files on Node 20).
   */
  private readonly view: DataView;

  constructor(
    /** The whole index file image (version 2 layout; the trailing checksum may be stale). */
    readonly buf: Buffer,
    readonly count: number,
    private readonly rowsAt: number,
    private readonly restartsAt: number,
    private readonly pathsAt: number,
    private readonly pathsEnd: number,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** u64 is the big-endian u64 at `pos` of the image as a Number (exact below 2^53). */
  private u64(pos: number): number {
    return this.view.getUint32(pos) * 4294967296 + this.view.getUint32(pos + 4);
  }

  private row(i: number): number {
    return this.rowsAt + i * ROW;
  }
  kind(i: number): 'blob' | 'chunked' {
    return this.buf[this.row(i) + R_KIND] === 0x62 ? 'blob' : 'chunked';
  }
  exec(i: number): boolean {
    return (this.buf[this.row(i) + R_FLAGS] & 1) === 1;
  }
  size(i: number): number {
    return this.u64(this.row(i) + R_SIZE);
  }
  /** mtime in ns as a Number (to within 256 ns; rounding keeps order). */
  mtimeNum(i: number): number {
    return this.u64(this.row(i) + R_MTIME);
  }
  ctimeNum(i: number): number {
    return this.u64(this.row(i) + R_CTIME);
  }
  inoNum(i: number): number {
    return this.u64(this.row(i) + R_INO);
  }
  xxh(i: number): bigint {
    return this.buf.readBigUInt64BE(this.row(i) + R_XXH);
  }
  id(i: number): ObjectId {
    return bytesToId(this.buf, this.row(i) + R_ID);
  }
  /** idAt is where entry i's 32 ID bytes are in `buf`. */
  idAt(i: number): number {
    return this.row(i) + R_ID;
  }
  /** setStat records a new stat for entry i (its bytes checked out unchanged). */
  setStat(i: number, mtimeNs: bigint, ctimeNs: bigint, ino: bigint): void {
    const r = this.row(i);
    this.buf.writeBigUInt64BE(mtimeNs, r + R_MTIME);
    this.buf.writeBigUInt64BE(ctimeNs, r + R_CTIME);
    this.buf.writeBigUInt64BE(ino, r + R_INO);
  }
  setXxh(i: number, xxh: bigint): void {
    this.buf.writeBigUInt64BE(xxh, this.row(i) + R_XXH);
  }
  /** rowOfMtime is the number of the entry whose mtime field is at `at`. */
  rowOfMtime(at: number): number {
    return (at - R_MTIME - this.rowsAt) / ROW;
  }
  /** tree is the root tree ID the header names: the tree of these entries, as computed when they were written. */
  tree(): ObjectId {
    return bytesToId(this.buf, 8);
  }
  /** copyRow copies entry i's fixed-width fields into `row` (74 bytes). */
  copyRow(i: number, row: Buffer): void {
    const r = this.row(i);
    this.buf.copy(row, 0, r, r + ROW);
  }
  /** entry materialises entry i (its path as given, or decoded). */
  entry(i: number, path = this.pathAt(i)): StoredEntry {
    const r = this.row(i);
    return new StoredEntry(this, r + R_MTIME, path, this.kind(i), this.size(i), this.exec(i));
  }

  private restart(k: number): number {
    return this.buf.readUInt32BE(this.restartsAt + 4 * k);
  }

  /** cursor returns a cursor positioned just before entry `from`. */
  cursor(from = 0): PathCursor {
    const c = new PathCursor(this.buf, this.pathsAt, this.pathsEnd);
    if (from >= this.count) {
      c.index = this.count - 1;
      c.pos = this.pathsEnd;
      return c;
    }
    const first = from - (from % RESTART);
    c.pos = this.pathsAt + this.restart(first / RESTART);
    c.index = first - 1;
    while (c.index < from - 1) c.next();
    return c;
  }

  /** pathAt decodes the path of entry i. */
  pathAt(i: number): string {
    const c = this.cursor(i);
    c.next();
    return c.path();
  }

  /** paths yields every path from entry `from` on, in order, each with its entry number. */
  *paths(from = 0): Generator<[number, string]> {
    const c = this.cursor(from);
    while (c.index + 1 < this.count) {
      c.next();
      yield [c.index, c.path()];
    }
  }

  /** lowerBound is the first entry whose path is not before `path` (count if none). */
  lowerBound(path: string): number {
    // Binary search over the whole paths stored at each restart, then a short scan.
    let lo = 0;
    let hi = Math.ceil(this.count / RESTART);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (comparePaths(this.pathAt(mid * RESTART), path) < 0) lo = mid + 1;
      else hi = mid;
    }
    // Restarts before lo start before `path`: the answer is in the block before lo, or is lo's first entry.
    const c = this.cursor(Math.max(0, lo - 1) * RESTART);
    while (c.index + 1 < this.count) {
      c.next();
      if (comparePaths(c.path(), path) >= 0) return c.index;
    }
    return this.count;
  }

  /** find returns the entry number of `path`, or -1. */
  find(path: string): number {
    const i = this.lowerBound(path);
    return i < this.count && this.pathAt(i) === path ? i : -1;
  }

  /**
   * smudged sets every mtime not strictly before `stampNs` to 0 (such an
   * entry is re-read, never trusted: see writeIndex) and returns the file
   * image, checksummed again. In place: at millions of entries a copy is
   * most of a command's memory, and a smudged entry is only re-checked.
   */
  smudged(stampNs: bigint): Buffer {
    const out = this.buf.subarray(0, this.pathsEnd + 8);
    for (let i = 0; i < this.count; i++) {
      const at = this.row(i) + R_MTIME;
      if (out.readBigUInt64BE(at) >= stampNs) out.writeBigUInt64BE(0n, at);
    }
    out.writeBigUInt64BE(xxh64(out.subarray(0, this.pathsEnd)), this.pathsEnd);
    return out;
  }

  /**
   * check walks every path once: records in bounds, restarts where they
   * claim, whole paths at restarts, order strict; kinds and sizes valid.
   * Throws RangeError.
   */
  check(): void {
    const c = new PathCursor(this.buf, this.pathsAt, this.pathsEnd);
    c.pos = this.pathsAt;
    for (let i = 0; i < this.count; i++) {
      if (i % RESTART === 0) {
        if (this.pathsAt + this.restart(i / RESTART) !== c.pos) throw new RangeError('restart offset wrong');
        if (c.pos < this.pathsEnd && this.buf[c.pos] !== 0) throw new RangeError('restart path not whole');
      }
      c.next(true);
      const kind = this.buf[this.row(i) + R_KIND];
      if (kind !== 0x62 && kind !== 0x63) throw new RangeError('bad kind');
      if (this.buf.readUInt32BE(this.row(i) + R_SIZE) >= 0x200000) throw new RangeError('bad size');
    }
    if (c.pos !== this.pathsEnd) throw new RangeError('trailing bytes');
  }
}

/** PathCursor decodes prefix-compressed paths one after another. */
export class PathCursor {
  /** Entry number of the path decoded last (-1: none yet). */
  index = -1;
  /** Byte position of the next record. */
  pos = 0;
  private scratch = Buffer.allocUnsafe(256);
  private len = 0;
  private readonly step = { pos: 0 };

  constructor(
    private readonly buf: Buffer,
    private readonly pathsAt: number,
    private readonly pathsEnd: number,
  ) {}

  /**
   * next decodes the next path; returns how many bytes it shares with the
   * one before. With `checkOrder`, throws unless it sorts after that one.
   */
  next(checkOrder = false): number {
    const buf = this.buf;
    const end = this.pathsEnd;
    const shared = readVarint(buf, this.pos, end, this.step);
    const n = readVarint(buf, this.step.pos, end, this.step);
    const at = this.step.pos;
    if (shared > this.len || at + n > end) throw new RangeError('path record runs past the end');
    if (checkOrder && this.index >= 0) {
      // The previous path's bytes after `shared` are still in the scratch buffer: the first difference decides.
      const tail = this.len - shared;
      const m = Math.min(tail, n);
      let k = 0;
      while (k < m && this.scratch[shared + k] === buf[at + k]) k++;
      if (!(k === m ? tail < n : pathByte(this.scratch[shared + k]) < pathByte(buf[at + k]))) throw new RangeError('paths not sorted');
    }
    if (shared + n > this.scratch.length) {
      const b = Buffer.allocUnsafe(Math.max(shared + n, this.scratch.length * 2));
      this.scratch.copy(b, 0, 0, this.len);
      this.scratch = b;
    }
    // Suffixes are a few bytes: a loop beats Buffer.copy's call overhead.
    const scratch = this.scratch;
    for (let k = 0; k < n; k++) scratch[shared + k] = buf[at + k];
    this.len = shared + n;
    this.pos = at + n;
    this.index++;
    return shared;
  }

  /**
   * is says whether the path decoded last is `s`, without making a string of
   * it (a no-op status meets a million paths this way). Only an ASCII `s`
   * can be said to be it: for any other, false, and the caller compares
   * `path()` instead (a character above 0x7f may equal a UTF-8 byte of
   * another path: "Ã©" is not "é").
   */
  is(s: string): boolean {
    const n = this.len;
    if (s.length !== n) return false;
    const b = this.scratch;
    // From the end: neighbours in a folder differ in their last bytes.
    for (let k = n - 1; k >= 0; k--) {
      const ch = s.charCodeAt(k);
      if (ch !== b[k] || ch > 0x7f) return false;
    }
    return true;
  }

  /** path is the path decoded last. */
  path(): string {
    return this.scratch.toString('utf8', 0, this.len);
  }

  /** bytes is the UTF-8 of the path decoded last (valid until the next call to next). */
  bytes(): Buffer {
    return this.scratch.subarray(0, this.len);
  }
}

/**
 * TableEncoder builds the version 2 image entry by entry (paths in order).
 * Version 1 files are read through it too, so both versions share one reader.
 */
class TableEncoder {
  private readonly rows: Buffer;
  private paths: Buffer;
  private readonly restarts: Buffer;
  private pathsLen = 0;
  private prev = Buffer.allocUnsafe(256);
  private prevLen = 0;
  private n = 0;

  constructor(
    readonly count: number,
    pathCapacity: number,
  ) {
    this.rows = Buffer.alloc(count * ROW);
    this.paths = Buffer.allocUnsafe(pathCapacity + 16);
    this.restarts = Buffer.alloc(4 * Math.ceil(count / RESTART));
  }

  /** add appends the next path and returns its 74-byte row for the caller to fill. */
  add(path: Uint8Array, what: () => string): Buffer {
    const i = this.n++;
    const prev = this.prev;
    const n = Math.min(this.prevLen, path.length);
    let k = 0;
    while (k < n && prev[k] === path[k]) k++;
    if (i > 0 && !(k === n ? this.prevLen < path.length : pathByte(prev[k]) < pathByte(path[k]))) throw new RangeError(`index entries not sorted at ${what()}`);
    const shared = i % RESTART === 0 ? 0 : k;
    if (i % RESTART === 0) this.restarts.writeUInt32BE(this.pathsLen, 4 * (i / RESTART));
    const need = this.pathsLen + 10 + path.length - shared;
    if (need > this.paths.length) {
      const b = Buffer.allocUnsafe(Math.max(need, this.paths.length * 2));
      this.paths.copy(b, 0, 0, this.pathsLen);
      this.paths = b;
    }
    let pos = writeVarint(this.paths, this.pathsLen, shared);
    pos = writeVarint(this.paths, pos, path.length - shared);
    this.paths.set(path.subarray(shared), pos);
    this.pathsLen = pos + path.length - shared;
    // Kept as a copy: callers may pass a buffer they reuse.
    if (this.prev.length < path.length) this.prev = Buffer.allocUnsafe(path.length * 2);
    this.prev.set(path);
    this.prevLen = path.length;
    return this.rows.subarray(i * ROW, (i + 1) * ROW);
  }

  /** finish lays out the whole file (checksum included) and returns its table. */
  finish(datasets: readonly string[], tree: ObjectId): IndexTable {
    if (this.n !== this.count) throw new RangeError('index encoder: entry count differs');
    const ds = datasets.map((d) => Buffer.from(d, 'utf8'));
    let head = 40 + 4;
    for (const d of ds) head += 2 + d.length;
    head += 4 + 4;
    const rowsAt = head;
    const restartsAt = rowsAt + this.rows.length;
    const pathsAt = restartsAt + this.restarts.length;
    const pathsEnd = pathsAt + this.pathsLen;
    if (this.pathsLen > 0xffffffff) throw new RangeError('index paths over 4 GiB');
    const buf = Buffer.allocUnsafe(pathsEnd + 8);
    buf.writeUInt32BE(MAGIC, 0);
    buf.writeUInt8(VERSION, 4);
    buf.fill(0, 5, 8);
    idToBytes(tree).copy(buf, 8);
    let pos = 40;
    buf.writeUInt32BE(ds.length, pos);
    pos += 4;
    for (const d of ds) {
      buf.writeUInt16BE(d.length, pos);
      d.copy(buf, pos + 2);
      pos += 2 + d.length;
    }
    buf.writeUInt32BE(this.count, pos);
    buf.writeUInt32BE(this.pathsLen, pos + 4);
    this.rows.copy(buf, rowsAt);
    this.restarts.copy(buf, restartsAt);
    this.paths.copy(buf, pathsAt, 0, this.pathsLen);
    buf.writeBigUInt64BE(xxh64(buf.subarray(0, pathsEnd)), pathsEnd);
    return new IndexTable(buf, this.count, rowsAt, restartsAt, pathsAt, pathsEnd);
  }
}

/** IndexData is the whole index: tracked dataset roots and their files. */
export interface IndexData {
  /** Dataset roots (files or directories) that `lode add` tracks, sorted. */
  datasets: string[];
  /**
   * Entries sorted by comparePaths, unique paths. On an index read from disk
   * they are made (one object each) when first read: code that can work on
   * the compact form asks `storedTable` first.
   */
  entries: IndexEntry[];
  /** mtime of the index file when it was read (ns); entries at or after it are "racy". */
  stampNs: bigint;
  /**
   * Root tree ID of the entries, as computed when the index was written, so
   * `status` can compare the index with HEAD without rebuilding trees.
   * Filled in by readIndex; ignored by writeIndex (which recomputes it).
   */
  tree?: ObjectId;
  /** The file's trailing xxh64 when read: equal checksums mean an unchanged index. */
  checksum?: bigint;
}

export function emptyIndex(): IndexData {
  return { datasets: [], entries: [], stampNs: 0n };
}

/**
 * LoadedIndex is an index read from disk. Its entries stay in the compact
 * table until `entries` is first read (then one StoredEntry each, as in
 * version 1); a spread copy (`{ ...index }`) takes the plain fields only.
 */
class LoadedIndex implements IndexData {
  #table?: IndexTable;
  #entries?: IndexEntry[];
  readonly #datasetsRead: string;
  readonly #load: () => IndexTable;

  constructor(
    public datasets: string[],
    public stampNs: bigint,
    public tree: ObjectId,
    public checksum: bigint,
    load: () => IndexTable,
  ) {
    this.#datasetsRead = datasets.join('\n');
    this.#load = load;
  }

  table(): IndexTable {
    return (this.#table ??= this.#load());
  }

  get entries(): IndexEntry[] {
    if (!this.#entries) {
      const t = this.table();
      const out: IndexEntry[] = new Array(t.count);
      const c = t.cursor();
      for (let i = 0; i < t.count; i++) {
        c.next();
        out[i] = t.entry(i, c.path());
      }
      this.#entries = out;
    }
    return this.#entries;
  }
  set entries(v: IndexEntry[]) {
    this.#entries = v;
  }

  /** untouched: entries never made or replaced, datasets as read. */
  untouched(): boolean {
    return this.#entries === undefined && this.datasets.join('\n') === this.#datasetsRead;
  }
}

/**
 * storedTable returns the compact entries of an index read from disk while
 * its `entries` have never been read or replaced (so the table is the
 * truth). Stats refreshed through the table are what writeIndex writes.
 */
export function storedTable(index: IndexData): IndexTable | undefined {
  return index instanceof LoadedIndex && index.untouched() ? index.table() : undefined;
}

/**
 * IndexTrees is where an index's trees are kept: objects/ for those a commit
 * already holds, `.lode/staged-trees/` for the rest (Repository.indexTrees).
 * A new index's trees are kept with it (before it is written), so `status`
 * and `commit` read the trees an index names instead of building them from
 * every entry, and the next index built from this one encodes again only
 * the folders whose entries changed.
 */
export interface IndexTrees {
  /** Reads kept trees (a TreePool over objects/ and the staged trees). */
  src: TreeSource;
  /** has says whether tree object `id` is kept. */
  has(id: ObjectId): boolean;
  /** put keeps a tree object (a no-op when it is there). */
  put(bytes: Uint8Array): void;
}

/**
 * IndexBuilder makes a new index entry by entry, in path order, without an
 * object per entry: rows copied from a table as they are, or new entries.
 * `finish` computes the tree and returns an index for writeIndex.
 *
 * Built from a `base` (the index being replaced and the tree its header
 * names), it notes the folders where an entry was added, replaced or left
 * out: every other folder holds exactly the base's rows for it, so its tree
 * is the base tree's, and `finish` reuses it instead of encoding it again.
 */
export class IndexBuilder {
  private readonly enc: TableEncoder;
  /** Folders (and all folders above them) whose entries differ from the base's; '' is the top. */
  private readonly dirty = new Set<string>();
  private readonly baseCursor?: PathCursor;

  constructor(
    count: number,
    pathCapacity: number,
    private readonly base?: { table: IndexTable; tree: ObjectId },
  ) {
    this.enc = new TableEncoder(count, pathCapacity);
    if (base) this.baseCursor = base.table.cursor();
  }

  /** touched notes that the entries of `p`'s folder differ from the base's. */
  private touched(p: string): void {
    for (let d = parentPath(p); !this.dirty.has(d); d = parentPath(d)) {
      this.dirty.add(d);
      if (d === '') break;
    }
  }

  /** passBase moves past the base's entries before entry `i` (those not copied: left out of the new index). */
  private passBase(i: number): void {
    const c = this.baseCursor!;
    while (c.index < i - 1) {
      c.next();
      this.touched(c.path());
    }
  }

  /** copy adds entry i of `t`, whose path bytes are `path` (strictly after the last one added). */
  copy(t: IndexTable, i: number, path: Uint8Array): void {
    const p = () => Buffer.from(path).toString('utf8');
    if (this.base) this.touched(p()); // not passed by copyBase: counted as changed
    t.copyRow(i, this.enc.add(path, p));
  }

  /** copyBase adds entry i of the base (after every base entry copied before it), as it is; returns its row. */
  copyBase(i: number): Buffer {
    const c = this.baseCursor!;
    if (i <= c.index) throw new RangeError(`copyBase: entry ${i} is not after entry ${c.index}`);
    this.passBase(i);
    c.next();
    const bytes = c.bytes();
    const row = this.enc.add(bytes, () => c.path());
    this.base!.table.copyRow(i, row);
    return row;
  }

  /** baseIndex is the number of the base entry copied last (-1: none yet). */
  get baseIndex(): number {
    return this.baseCursor ? this.baseCursor.index : -1;
  }

  /** add adds an entry (its path strictly after the last one added). */
  add(e: IndexEntry): void {
    if (this.base) this.touched(e.path);
    fillRow(this.enc.add(Buffer.from(e.path, 'utf8'), () => e.path), e, undefined);
  }

  /** addIngested adds task `i` of an ingest as the entry `path` (strictly after the last one added), copying its packed record. */
  addIngested(path: string, results: IngestResults, i: number): void {
    if (this.base) this.touched(path);
    const row = this.enc.add(Buffer.from(path, 'utf8'), () => path);
    const at = i * RESULT_RECORD;
    row[R_KIND] = results.kind(i) === 'blob' ? 0x62 : 0x63;
    row[R_FLAGS] = results.exec(i) ? 1 : 0;
    // size, mtime, ctime, inode, xxh64: the same order and encoding in both.
    results.buf.copy(row, R_SIZE, at + RESULT_U64S, at + RESULT_U64S + 40);
    results.buf.copy(row, R_ID, at, at + 32);
  }

  /**
   * finish returns the index made (count must be what was given), with its
   * tree computed. With `trees`, that tree is stored, and a base whose tree
   * is stored lends it every folder whose entries are the same.
   */
  finish(datasets: string[], trees?: IndexTrees): IndexData {
    const t = this.enc.finish(datasets, EMPTY_TREE);
    const base = this.base;
    if (base) this.passBase(base.table.count);
    let tree: ObjectId | undefined;
    if (base && trees && trees.has(base.tree)) {
      let built: BuiltTrees | undefined;
      try {
        built = reuseTrees(t, this.dirty, trees.src, base.tree);
      } catch (e) {
        // A base tree missing or damaged in the store: build every tree instead.
        if (!(e instanceof NotFoundError || e instanceof CorruptObjectError)) throw e;
      }
      if (built) {
        for (const bytes of built.objects.values()) trees.put(bytes);
        tree = built.root;
      }
    }
    if (tree === undefined) {
      const built = buildTrees(filesOf(t));
      if (trees) for (const bytes of built.objects.values()) trees.put(bytes);
      tree = built.root;
    }
    idToBytes(tree).copy(t.buf, 8);
    return new LoadedIndex(datasets, 0n, tree, 0n, () => t);
  }
}

/**
 * reuseTrees builds the trees of table `t` from the stored tree `base`:
 * folders not in `dirty` are taken whole from it, the rest encoded from
 * their entries. Each folder taken must hold as many files and bytes as its
 * entries in `t`; undefined when one does not (or is not in the base), and
 * the caller builds every tree instead.
 */
function reuseTrees(t: IndexTable, dirty: ReadonlySet<string>, src: TreeSource, base: ObjectId): BuiltTrees | undefined {
  if (!dirty.has('')) {
    // Nothing changed: the base is the tree, if it holds as many files and bytes.
    let files = 0;
    let size = 0;
    for (const e of src.readTree(base)) {
      files += e.files;
      size += e.size;
    }
    for (let i = 0; i < t.count; i++) size -= t.size(i);
    return files === t.count && size === 0 ? { root: base, objects: new Map(), files, size: 0 } : undefined;
  }
  // Streamed into buildTrees (no object per entry held): a folder that does not fit stops it.
  const misfit = new Error('a folder of the base tree does not fit');
  function* items(): Generator<FileEntry | SubtreeEntry> {
    const c = t.cursor();
    let i = 0;
    if (t.count > 0) c.next();
    while (i < t.count) {
      const p = c.path();
      const top = cleanFolder(p, dirty);
      if (top === undefined) {
        yield { path: p, kind: t.kind(i), id: t.id(i), size: t.size(i), exec: t.exec(i) };
        i++;
        if (i < t.count) c.next();
        continue;
      }
      const e = lookupPath(src, base, top);
      if (!e || e.kind !== 'tree') throw misfit;
      const prefix = Buffer.from(`${top}/`, 'utf8');
      let files = 0;
      let size = 0;
      do {
        files++;
        size += t.size(i);
        i++;
        if (i < t.count) c.next();
      } while (i < t.count && c.bytes().subarray(0, prefix.length).equals(prefix));
      if (files !== e.files || size !== e.size) throw misfit;
      yield { path: top, kind: 'tree', id: e.id, size: e.size, files: e.files };
    }
  }
  try {
    return buildTrees(items());
  } catch (e) {
    if (e === misfit) return undefined;
    throw e;
  }
}

/** cleanFolder is the top-most folder above file `p` that is not in `dirty` (undefined: all are). */
function cleanFolder(p: string, dirty: ReadonlySet<string>): string | undefined {
  for (let k = p.indexOf('/'); k >= 0; k = p.indexOf('/', k + 1)) {
    const d = p.slice(0, k);
    if (!dirty.has(d)) return d;
  }
  return undefined;
}

/** filesOf yields a table's entries as tree file entries, one at a time. */
function* filesOf(t: IndexTable): Generator<FileEntry> {
  const c = t.cursor();
  for (let i = 0; i < t.count; i++) {
    c.next();
    yield { path: c.path(), kind: t.kind(i), id: t.id(i), size: t.size(i), exec: t.exec(i) };
  }
}

/** fillStat writes an entry's stat fields and checksum into its row. */
function fillStat(row: Buffer, e: IndexEntry): void {
  row.writeBigUInt64BE(e.mtimeNs, R_MTIME);
  row.writeBigUInt64BE(e.ctimeNs, R_CTIME);
  row.writeBigUInt64BE(e.ino, R_INO);
  row.writeBigUInt64BE(e.xxh, R_XXH);
}

/** fillRow writes an entry's fields into its row; with `stampNs`, an mtime not strictly before it is written as 0 (racy). */
function fillRow(row: Buffer, e: IndexEntry, stampNs: bigint | undefined): void {
  row[R_KIND] = e.kind === 'blob' ? 0x62 : 0x63;
  row[R_FLAGS] = e.exec ? 1 : 0;
  row.writeBigUInt64BE(BigInt(e.size), R_SIZE);
  fillStat(row, e);
  if (stampNs !== undefined && e.mtimeNs >= stampNs) row.writeBigUInt64BE(0n, R_MTIME);
  idToBytes(e.id).copy(row, R_ID);
}

/**
 * indexTable is the index's entries as a table: the stored one while
 * untouched, else one encoded from `entries` (an index made in memory).
 */
export function indexTable(index: IndexData): IndexTable {
  const stored = storedTable(index);
  if (stored) return stored;
  const b = new IndexBuilder(index.entries.length, index.entries.reduce((n, e) => n + e.path.length * 3 + 4, 0));
  for (const e of index.entries) b.add(e);
  return storedTable(b.finish(index.datasets))!;
}

/** indexSize is the number of entries, without making them. */
export function indexSize(index: IndexData): number {
  const t = storedTable(index);
  return t ? t.count : index.entries.length;
}

/** trackedPaths yields the index's paths in order without making entries. */
export function* trackedPaths(index: IndexData): Generator<string> {
  const t = storedTable(index);
  if (!t) {
    for (const e of index.entries) yield e.path;
    return;
  }
  const c = t.cursor();
  for (let i = 0; i < t.count; i++) {
    c.next();
    yield c.path();
  }
}

export interface ReadIndexOptions {
  /**
   * Check the file in slices and decode only its header; the entries are
   * read when first asked for. For callers that may need only the datasets
   * and the tree ID (at 10M files the entries are most of 1 GiB).
   */
  lazy?: boolean;
}

type Fail = (why: string) => CorruptObjectError;

/** readIndex loads and checks the index (version 1 or 2); a missing file is an empty index. */
export async function readIndex(file: string, options: ReadIndexOptions = {}): Promise<IndexData> {
  await loadXxhash();
  const fail: Fail = (why) =>
    new CorruptObjectError(`the index ${file} is corrupt: ${why}`, {
      path: file,
      hint: `move it aside (mv ${file} ${file}.bad), then run \`lode checkout --force HEAD\` to rebuild it from the last commit (staged changes are lost)`,
    });
  let stampNs: bigint;
  try {
    stampNs = fs.statSync(file, { bigint: true }).mtimeNs;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return emptyIndex();
    throw e;
  }
  if (options.lazy) {
    const head = readHeadStreaming(file, fail);
    if (head) {
      const load = (): IndexTable => {
        const buf = fs.readFileSync(file);
        if (buf.length < 8 || buf.readBigUInt64BE(buf.length - 8) !== head.checksum) {
          throw new CorruptObjectError(`the index ${file} changed while lode was reading it`, { path: file, hint: 'another lode command rewrote it meanwhile: run this command again' });
        }
        return parseIndex(buf, fail).table;
      };
      return new LoadedIndex(head.datasets, stampNs, head.tree, head.checksum, load);
    }
  }
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return emptyIndex();
    throw e;
  }
  const parsed = parseIndex(buf, fail);
  return new LoadedIndex(parsed.datasets, stampNs, parsed.tree, parsed.checksum, () => parsed.table);
}

/**
 * indexChecksum reads only the trailing checksum of the index file (every
 * write replaces the whole file, so an equal checksum means an unchanged
 * index); undefined when there is no index.
 */
export function indexChecksum(file: string): bigint | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size < 8) return undefined;
    const b = Buffer.alloc(8);
    if (fs.readSync(fd, b, 0, 8, size - 8) !== 8) return undefined;
    return b.readBigUInt64BE(0);
  } finally {
    fs.closeSync(fd);
  }
}

/** parseHead decodes magic, version, tree and datasets; `pos` is where the entry count is. */
function parseHead(buf: Buffer, end: number, fail: Fail): { version: number; tree: ObjectId; datasets: string[]; pos: number } {
  if (buf.readUInt32BE(0) !== MAGIC) throw fail('bad magic');
  const version = buf.readUInt8(4);
  if (version !== 1 && version !== VERSION) throw fail(`unknown version ${version}`);
  const tree = bytesToId(buf, 8);
  let pos = 40;
  if (pos + 4 > end) throw fail('truncated');
  const nd = buf.readUInt32BE(pos);
  pos += 4;
  const datasets: string[] = [];
  for (let i = 0; i < nd; i++) {
    if (pos + 2 > end) throw fail('truncated');
    const len = buf.readUInt16BE(pos);
    if (pos + 2 + len > end) throw fail('truncated');
    const d = buf.toString('utf8', pos + 2, pos + 2 + len);
    pos += 2 + len;
    const problem = repoPathProblem(d);
    if (problem) throw fail(`unsafe dataset path ${JSON.stringify(d)}: ${problem}`);
    datasets.push(d);
  }
  return { version, tree, datasets, pos };
}

/** readHeadStreaming checks the file's checksum in slices and decodes its header (undefined: the header runs past the first slice). */
function readHeadStreaming(file: string, fail: Fail): { tree: ObjectId; datasets: string[]; checksum: bigint } | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size < 56) throw fail('too short');
    const bodyLen = size - 8;
    const slice = Buffer.allocUnsafe(Math.min(bodyLen, 8 << 20));
    const h = xxhashReady().create64();
    let first: Buffer | undefined;
    let pos = 0;
    while (pos < bodyLen) {
      const n = fs.readSync(fd, slice, 0, Math.min(slice.length, bodyLen - pos), pos);
      if (n === 0) throw fail('truncated');
      h.update(slice.subarray(0, n));
      first ??= Buffer.from(slice.subarray(0, n));
      pos += n;
    }
    const tail = Buffer.alloc(8);
    if (fs.readSync(fd, tail, 0, 8, bodyLen) !== 8) throw fail('truncated');
    const checksum = tail.readBigUInt64BE(0);
    if (h.digest() !== checksum) throw fail('checksum mismatch');
    try {
      const head = parseHead(first!, first!.length, fail);
      return { tree: head.tree, datasets: head.datasets, checksum };
    } catch (e) {
      if (first!.length < bodyLen) return undefined;
      throw e;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** parseIndex checks a whole index file (version 1 or 2) and returns its table (version 1 is converted). */
function parseIndex(buf: Buffer, fail: Fail): { datasets: string[]; tree: ObjectId; checksum: bigint; table: IndexTable } {
  if (buf.length < 56) throw fail('too short');
  const end = buf.length - 8;
  const checksum = buf.readBigUInt64BE(end);
  if (xxh64(buf.subarray(0, end)) !== checksum) throw fail('checksum mismatch');
  const head = parseHead(buf, end, fail);
  let pos = head.pos;
  if (pos + 4 > end) throw fail('truncated');
  const count = buf.readUInt32BE(pos);
  pos += 4;
  if (head.version === 1) return { datasets: head.datasets, tree: head.tree, checksum, table: upgradeV1(buf, end, pos, count, head, fail) };
  if (pos + 4 > end) throw fail('truncated');
  const pathsLen = buf.readUInt32BE(pos);
  pos += 4;
  const rowsAt = pos;
  const restartsAt = rowsAt + count * ROW;
  const pathsAt = restartsAt + 4 * Math.ceil(count / RESTART);
  if (pathsAt + pathsLen > end) throw fail('entry count or path bytes larger than the file');
  if (pathsAt + pathsLen < end) throw fail('trailing bytes');
  const table = new IndexTable(buf, count, rowsAt, restartsAt, pathsAt, pathsAt + pathsLen);
  try {
    table.check();
  } catch (e) {
    if (e instanceof RangeError) throw fail(e.message);
    throw e;
  }
  return { datasets: head.datasets, tree: head.tree, checksum, table };
}

/** upgradeV1 reads version 1 entries (each a path, then the same 74-byte row) into a version 2 table. */
function upgradeV1(buf: Buffer, end: number, pos: number, count: number, head: { datasets: string[]; tree: ObjectId }, fail: Fail): IndexTable {
  if (count > (end - pos) / 76) throw fail('entry count larger than the file');
  const enc = new TableEncoder(count, end - pos);
  for (let i = 0; i < count; i++) {
    if (pos + 2 > end) throw fail('truncated');
    const len = buf.readUInt16BE(pos);
    const at = pos + 2;
    if (at + len + ROW > end) throw fail('truncated');
    const p = buf.subarray(at, at + len);
    const kind = buf[at + len + R_KIND];
    if (kind !== 0x62 && kind !== 0x63) throw fail(`bad kind at ${p.toString('utf8')}`);
    if (!Number.isSafeInteger(u64(buf, at + len + R_SIZE))) throw fail(`bad size at ${p.toString('utf8')}`);
    let row: Buffer;
    try {
      row = enc.add(p, () => p.toString('utf8'));
    } catch (e) {
      if (e instanceof RangeError) throw fail(e.message);
      throw e;
    }
    buf.copy(row, 0, at + len, at + len + ROW);
    pos = at + len + ROW;
  }
  if (pos !== end) throw fail('trailing bytes');
  return enc.finish(head.datasets, head.tree);
}

/** clockNow reads the file system's clock: the mtime of a new file in `dir`. */
function clockNow(dir: string): bigint {
  const probe = tempName(dir, 'clock');
  fs.writeFileSync(probe, '');
  try {
    return fs.statSync(probe, { bigint: true }).mtimeNs;
  } finally {
    rmQuiet(probe);
  }
}

/**
 * writeIndex replaces the index atomically and durably, in the current
 * version (an index read in version 1 is upgraded here). Entries must be
 * sorted by comparePaths with unique paths.
 */
export async function writeIndex(file: string, data: IndexData, tmpDir?: string, trees?: IndexTrees): Promise<void> {
  await loadXxhash();
  // Racy entries: a file modified in the same clock tick as this index is
  // written could change again without its mtime moving. The index file will
  // be at least as new as this probe, so any entry not strictly older is
  // written with mtime 0, which never matches a stat: the next reader
  // re-checks that file's bytes instead of trusting it (git's "smudging").
  const stampNs = clockNow(tmpDir ?? path.dirname(file));
  const stored = storedTable(data);
  let out: Buffer;
  if (stored) {
    // The entries as read, stats perhaps refreshed in place: same paths and IDs, so the same tree.
    out = stored.smudged(stampNs);
  } else {
    // Entries still as read from a table are copied as rows (no BigInt per
    // field), and that table is the base the trees are built on: only the
    // folders where entries came, went or changed are encoded again.
    const entries = data.entries;
    let base: IndexTable | undefined;
    let pathBytes = 0;
    for (const e of entries) {
      if (!base && e instanceof StoredEntry) base = e.table;
      pathBytes += e.path.length * 3 + 4;
    }
    const b = new IndexBuilder(entries.length, pathBytes, base ? { table: base, tree: base.tree() } : undefined);
    for (const e of entries) {
      const stored = base && e instanceof StoredEntry && e.table === base ? e : undefined;
      const i = stored ? stored.row() : -1;
      if (stored && i > b.baseIndex) {
        const row = b.copyBase(i);
        if (stored.statChanged()) fillStat(row, stored);
      } else b.add(e);
    }
    // Racy entries are smudged as the table is written out, copied rows too.
    out = storedTable(b.finish(data.datasets, trees))!.smudged(stampNs);
  }
  writeFileAtomic(file, out, { durable: true, tmpDir });
}
