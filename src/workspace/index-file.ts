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
import { comparePaths } from '../core/paths.js';
import { errnoCode, writeFileAtomic } from '../storage/atomic.js';
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
    for (let i = 0; i < nd; i++) datasets.push(str());
    const ne = buf.readUInt32BE(pos);
    pos += 4;
    if (ne > body.length / 44) throw fail('entry count larger than the file');
    entries = new Array(ne);
    for (let i = 0; i < ne; i++) {
      const path = str();
      const kindByte = buf[pos];
      const flags = buf[pos + 1];
      pos += 2;
      const size = Number(buf.readBigUInt64BE(pos));
      const mtimeNs = buf.readBigUInt64BE(pos + 8);
      const ctimeNs = buf.readBigUInt64BE(pos + 16);
      const ino = buf.readBigUInt64BE(pos + 24);
      const xxh = buf.readBigUInt64BE(pos + 32);
      pos += 40;
      const id = bytesToId(buf, pos);
      pos += 32;
      if (kindByte !== 0x62 && kindByte !== 0x63) throw fail(`bad kind at ${path}`);
      entries[i] = { path, kind: kindByte === 0x62 ? 'blob' : 'chunked', id, size, exec: (flags & 1) === 1, mtimeNs, ctimeNs, ino, xxh };
    }
  } catch (e) {
    if (e instanceof CorruptObjectError) throw e;
    throw fail('truncated');
  }
  if (pos !== body.length) throw fail('trailing bytes');
  return { datasets, entries, stampNs, tree };
}

/**
 * writeIndex replaces the index atomically and durably. Entries must be
 * sorted by comparePaths with unique paths.
 */
export async function writeIndex(file: string, data: IndexData, tmpDir?: string): Promise<void> {
  await loadXxhash();
  const tree = buildTrees(data.entries).root;
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
    buf.writeBigUInt64BE(e.mtimeNs, pos + 8);
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
