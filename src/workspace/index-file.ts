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
import { loadXxhash, xxh64 } from '../core/checksum.js';
import { CorruptObjectError } from '../core/errors.js';
import { bytesToId, idToBytes, type ObjectId } from '../core/id.js';
import { comparePaths, repoPathProblem } from '../core/paths.js';
import * as path from 'node:path';
import { errnoCode, rmQuiet, tempName, writeFileAtomic } from '../storage/atomic.js';
import { buildTrees } from '../graph/trees.js';

const MAGIC = 0x4c4f4449; // "LODI"
const VERSION = 1;

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
    private readonly buf: Buffer,
    /** Offset of the mtime field; ctime, inode, xxh64 and ID follow. */
    private readonly at: number,
    public path: string,
    public kind: 'blob' | 'chunked',
    public size: number,
    public exec: boolean,
  ) {}

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

/** IndexData is the whole index: tracked dataset roots and their files. */
export interface IndexData {
  /** Dataset roots (files or directories) that `lode add` tracks, sorted. */
  datasets: string[];
  /** Entries sorted by comparePaths, unique paths. */
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

/** readIndex loads and checks the index; a missing file is an empty index. */
export async function readIndex(file: string): Promise<IndexData> {
  await loadXxhash();
  let buf: Buffer;
  let stampNs: bigint;
  try {
    buf = fs.readFileSync(file);
    stampNs = fs.statSync(file, { bigint: true }).mtimeNs;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return emptyIndex();
    throw e;
  }
  const fail = (why: string) =>
    new CorruptObjectError(`the index ${file} is corrupt: ${why}`, {
      path: file,
      hint: `move it aside (mv ${file} ${file}.bad), then run \`lode checkout --force HEAD\` to rebuild it from the last commit (staged changes are lost)`,
    });
  if (buf.length < 56) throw fail('too short');
  const body = buf.subarray(0, buf.length - 8);
  if (xxh64(body) !== buf.readBigUInt64BE(buf.length - 8)) throw fail('checksum mismatch');
  if (buf.readUInt32BE(0) !== MAGIC) throw fail('bad magic');
  if (buf.readUInt8(4) !== VERSION) throw fail(`unknown version ${buf.readUInt8(4)}`);
  const tree = bytesToId(buf, 8);
  let pos = 40;
  const str = () => {
    const len = buf.readUInt16BE(pos);
    pos += 2;
    const s = buf.toString('utf8', pos, pos + len);
    pos += len;
    return s;
  };
  const datasets: string[] = [];
  let entries: IndexEntry[];
  try {
    const nd = buf.readUInt32BE(pos);
    pos += 4;
    for (let i = 0; i < nd; i++) {
      const d = str();
      const problem = repoPathProblem(d);
      if (problem) throw fail(`unsafe dataset path ${JSON.stringify(d)}: ${problem}`);
      datasets.push(d);
    }
    const ne = buf.readUInt32BE(pos);
    pos += 4;
    if (ne > body.length / 44) throw fail('entry count larger than the file');
    entries = new Array(ne);
    for (let i = 0; i < ne; i++) {
      const path = str();
      const kindByte = buf[pos];
      const flags = buf[pos + 1];
      pos += 2;
      const size = u64(buf, pos);
      if (!Number.isSafeInteger(size)) throw fail(`bad size at ${path}`);
      if (kindByte !== 0x62 && kindByte !== 0x63) throw fail(`bad kind at ${path}`);
      if (pos + 72 > body.length) throw fail('truncated');
      entries[i] = new StoredEntry(buf, pos + 8, path, kindByte === 0x62 ? 'blob' : 'chunked', size, (flags & 1) === 1);
      pos += 72;
    }
  } catch (e) {
    if (e instanceof CorruptObjectError) throw e;
    throw fail('truncated');
  }
  if (pos !== body.length) throw fail('trailing bytes');
  return { datasets, entries, stampNs, tree, checksum: buf.readBigUInt64BE(buf.length - 8) };
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
 * writeIndex replaces the index atomically and durably. Entries must be
 * sorted by comparePaths with unique paths.
 */
export async function writeIndex(file: string, data: IndexData, tmpDir?: string): Promise<void> {
  await loadXxhash();
  const tree = buildTrees(data.entries).root;
  // Racy entries: a file modified in the same clock tick as this index is
  // written could change again without its mtime moving. The index file will
  // be at least as new as this probe, so any entry not strictly older is
  // written with mtime 0, which never matches a stat: the next reader
  // re-checks that file's bytes instead of trusting it (git's "smudging").
  const stampNs = clockNow(tmpDir ?? path.dirname(file));
  let size = 8 + 32 + 4 + 4 + 8;
  const datasetBufs = data.datasets.map((d) => Buffer.from(d, 'utf8'));
  for (const d of datasetBufs) size += 2 + d.length;
  const pathBufs = data.entries.map((e) => Buffer.from(e.path, 'utf8'));
  for (const p of pathBufs) size += 2 + p.length + 2 + 40 + 32;
  const buf = Buffer.alloc(size);
  buf.writeUInt32BE(MAGIC, 0);
  buf.writeUInt8(VERSION, 4);
  idToBytes(tree).copy(buf, 8);
  let pos = 40;
  buf.writeUInt32BE(datasetBufs.length, pos);
  pos += 4;
  for (const d of datasetBufs) {
    buf.writeUInt16BE(d.length, pos);
    d.copy(buf, pos + 2);
    pos += 2 + d.length;
  }
  buf.writeUInt32BE(data.entries.length, pos);
  pos += 4;
  for (let i = 0; i < data.entries.length; i++) {
    const e = data.entries[i];
    if (i > 0 && comparePaths(data.entries[i - 1].path, e.path) >= 0) throw new RangeError(`index entries not sorted at ${e.path}`);
    const p = pathBufs[i];
    buf.writeUInt16BE(p.length, pos);
    p.copy(buf, pos + 2);
    pos += 2 + p.length;
    buf[pos] = e.kind === 'blob' ? 0x62 : 0x63;
    buf[pos + 1] = e.exec ? 1 : 0;
    pos += 2;
    buf.writeBigUInt64BE(BigInt(e.size), pos);
    buf.writeBigUInt64BE(e.mtimeNs >= stampNs ? 0n : e.mtimeNs, pos + 8);
    buf.writeBigUInt64BE(e.ctimeNs, pos + 16);
    buf.writeBigUInt64BE(e.ino, pos + 24);
    buf.writeBigUInt64BE(e.xxh, pos + 32);
    pos += 40;
    idToBytes(e.id).copy(buf, pos);
    pos += 32;
  }
  buf.writeBigUInt64BE(xxh64(buf.subarray(0, pos)), pos);
  writeFileAtomic(file, buf, { durable: true, tmpDir });
}
