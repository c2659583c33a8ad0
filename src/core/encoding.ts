/**
 * Canonical encodings of lode's metadata objects: trees, commits and chunk
 * lists. An object's ID is the SHA-256 of exactly these bytes, so the writer
 * here is the only one allowed; docs/formats.md describes each byte and
 * test/fixtures pins them. Decoders reject anything malformed with
 * CorruptObjectError, and tree names are validated on the way in.
 */
import { MAX_CHUNK_LIMIT } from './chunker.js';
import { CorruptObjectError } from './errors.js';
import { bytesToId, ID_BYTES, idToBytes, isObjectId, type ObjectId } from './id.js';
import { compareNames, nameProblem, repoPathProblem } from './paths.js';

const TREE_MAGIC = 'LODT';
const CHUNKS_MAGIC = 'LODC';
const FORMAT_VERSION = 1;
/** Version byte of a shard node: one level of a large directory split over several tree objects. */
const SHARD_VERSION = 2;
/** SHARD_BITS_MIN and SHARD_BITS_MAX bound a shard node's `bits` (2^bits is the average fan-out). */
export const SHARD_BITS_MIN = 2;
export const SHARD_BITS_MAX = 16;
const COMMIT_HEADER = 'lode commit 1';

/** EntryKind: a one-chunk file ('blob'), a multi-chunk file ('chunked') or a directory ('tree'). */
export type EntryKind = 'blob' | 'chunked' | 'tree';

const KIND_BYTE: Record<EntryKind, number> = { blob: 0x62, chunked: 0x63, tree: 0x74 };
const BYTE_KIND = new Map<number, EntryKind>([
  [0x62, 'blob'],
  [0x63, 'chunked'],
  [0x74, 'tree'],
]);

/**
 * TreeEntry is one name in a directory. For files `size` is the file's length
 * and `files` is 1; for trees they total everything beneath, so per-directory
 * statistics never need to open a subtree.
 */
export interface TreeEntry {
  name: string;
  kind: EntryKind;
  id: ObjectId;
  size: number;
  files: number;
  exec: boolean;
}

/** Chunk is one piece of a multi-chunk file, in file order. */
export interface Chunk {
  id: ObjectId;
  size: number;
}

/** ChunkList describes a file made of several chunks. */
export interface ChunkList {
  size: number;
  chunks: Chunk[];
}

/** Commit is one snapshot of the tracked datasets. */
export interface Commit {
  tree: ObjectId;
  parents: ObjectId[];
  author: string;
  /** Milliseconds since the epoch, UTC. */
  time: number;
  /** The git HEAD the commit was made on, when inside git. */
  git?: string;
  /**
   * The commit's record object (provenance and check results, see
   * record.ts), when it has one. Optional: a commit without it has the
   * encoding (and ID) it always had; a rewrite of a commit carries it over.
   */
  record?: ObjectId;
  /** Tracked dataset roots (files or directories), sorted. */
  datasets: string[];
  message: string;
}

// ---------------------------------------------------------------- varints

/** ByteWriter appends bytes to a growing buffer. */
class ByteWriter {
  private buf: Buffer;
  private len = 0;
  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }
  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  /** varint writes an unsigned LEB128 integer (safe up to 2^53). */
  varint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`varint out of range: ${n}`);
    this.reserve(8);
    while (n >= 0x80) {
      this.buf[this.len++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.len++] = n;
  }
  finish(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

/** ByteReader consumes bytes, throwing `fail()` on any overrun. */
class ByteReader {
  pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly fail: (why: string) => Error,
  ) {}
  get done(): boolean {
    return this.pos === this.buf.length;
  }
  byte(): number {
    if (this.pos >= this.buf.length) throw this.fail('truncated');
    return this.buf[this.pos++];
  }
  take(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw this.fail('truncated');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        // A trailing zero byte would make a second encoding of the same number.
        if (b === 0 && i > 0) throw this.fail('non-canonical varint');
        if (!Number.isSafeInteger(result)) throw this.fail('varint too large');
        return result;
      }
      scale *= 0x80;
    }
    throw this.fail('varint too long');
  }
  id(): ObjectId {
    const bytes = this.take(ID_BYTES);
    return bytesToId(bytes, 0);
  }
}

function magicMatches(buf: Uint8Array, magic: string): boolean {
  if (buf.length < 5) return false;
  for (let i = 0; i < 4; i++) if (buf[i] !== magic.charCodeAt(i)) return false;
  return true;
}

// ---------------------------------------------------------------- trees

/** sortEntries sorts tree entries into canonical (UTF-8 byte) name order, in place. */
export function sortEntries(entries: TreeEntry[]): TreeEntry[] {
  return entries.sort((a, b) => compareNames(a.name, b.name));
}

/**
 * encodeTree returns the canonical bytes of a directory. The caller must pass
 * entries sorted by sortEntries with unique, valid names; anything else throws.
 */
export function encodeTree(entries: readonly TreeEntry[]): Buffer {
  const w = new ByteWriter(16 + entries.length * 64);
  w.bytes(Buffer.from(TREE_MAGIC, 'latin1'));
  w.byte(FORMAT_VERSION);
  w.varint(entries.length);
  let prev: Buffer | undefined;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const problem = nameProblem(e.name);
    if (problem) throw new RangeError(`tree entry ${JSON.stringify(e.name)}: ${problem}`);
    if (prev && Buffer.compare(prev, name) >= 0) throw new RangeError(`tree entries not sorted/unique at ${JSON.stringify(e.name)}`);
    prev = name;
    // A length check only: IDs here come from hashing, and a full regex per entry costs more than encoding it.
    // Buffer.from(hex) stops at the first non-hex digit, so the byte count also catches a malformed ID.
    const idBytes = idToBytes(e.id);
    if (e.id.length !== 64 || idBytes.length !== ID_BYTES) throw new RangeError(`tree entry ${e.name}: bad id ${e.id}`);
    w.byte(KIND_BYTE[e.kind]);
    w.byte(e.exec && e.kind !== 'tree' ? 1 : 0);
    w.varint(e.size);
    if (e.kind === 'tree') w.varint(e.files);
    w.bytes(idBytes);
    w.varint(name.length);
    w.bytes(name);
  }
  return w.finish();
}

/** isTreeEncoding says whether `buf` starts like a tree object. */
export function isTreeEncoding(buf: Uint8Array): boolean {
  return magicMatches(buf, TREE_MAGIC);
}

/**
 * decodeTree parses a tree object. Throws CorruptObjectError (naming `id` when
 * given) on bad magic, truncation, unsorted or duplicate names, or a name that
 * could escape the workspace.
 */
export function decodeTree(buf: Uint8Array, id?: ObjectId): TreeEntry[] {
  const fail = (why: string) => new CorruptObjectError(`tree object ${id ?? ''} is corrupt: ${why}`.replace('  ', ' '), { objectId: id });
  if (!magicMatches(buf, TREE_MAGIC)) throw fail('not a tree');
  const r = new ByteReader(buf, fail);
  r.pos = 4;
  const version = r.byte();
  if (version === SHARD_VERSION) throw fail('tree format version 2 (a shard node) where a directory or leaf belongs');
  if (version !== FORMAT_VERSION) throw fail('unknown tree format version');
  const count = r.varint();
  // Every entry takes bytes: a larger count is corrupt, and must not reach new Array().
  if (count > buf.length - r.pos) throw fail('entry count larger than the object');
  const out: TreeEntry[] = new Array(count);
  // IDs and names are read in place (no view per entry): a tree of a big folder has thousands of entries.
  const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  let prevStart = -1;
  let prevEnd = -1;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < count; i++) {
    const kind = BYTE_KIND.get(r.byte());
    if (!kind) throw fail(`unknown entry kind at entry ${i}`);
    const flags = r.byte();
    if (flags > 1 || (kind === 'tree' && flags !== 0)) throw fail(`bad flags at entry ${i}`);
    const size = r.varint();
    const files = kind === 'tree' ? r.varint() : 1;
    if (r.pos + ID_BYTES > buf.length) throw fail('truncated');
    const eid = bytes.toString('hex', r.pos, r.pos + ID_BYTES);
    r.pos += ID_BYTES;
    const nameLength = r.varint();
    if (r.pos + nameLength > buf.length) throw fail('truncated');
    const start = r.pos;
    const end = start + nameLength;
    r.pos = end;
    let ascii = true;
    for (let k = start; k < end; k++) {
      if (buf[k] >= 0x80) {
        ascii = false;
        break;
      }
    }
    let name: string;
    if (ascii) name = bytes.toString('latin1', start, end);
    else {
      try {
        name = decoder.decode(buf.subarray(start, end));
      } catch {
        throw fail(`entry ${i} name is not UTF-8`);
      }
    }
    const problem = nameProblem(name);
    if (problem) throw fail(`unsafe entry name ${JSON.stringify(name)}: ${problem}`);
    if (prevStart >= 0 && bytes.compare(bytes, start, end, prevStart, prevEnd) >= 0) throw fail(`entries not sorted or duplicated at ${JSON.stringify(name)}`);
    prevStart = start;
    prevEnd = end;
    out[i] = { name, kind, id: eid, size, files, exec: flags === 1 };
  }
  if (!r.done) throw fail('trailing bytes');
  return out;
}

// ---------------------------------------------------------------- shard nodes

/**
 * ShardRef is one child of a shard node: a leaf (a version-1 tree holding a
 * run of the directory's entries) under a level-1 node, a shard node one
 * level down otherwise. The totals cover every directory entry beneath it.
 */
export interface ShardRef {
  id: ObjectId;
  /** Directory entries beneath this child (at least 1). */
  entries: number;
  /** Files beneath (the sum of the entries' `files`). */
  files: number;
  /** Bytes beneath (the sum of the entries' `size`). */
  size: number;
  /** Name of the child's last entry: children are in strictly increasing order of it. */
  last: string;
}

/**
 * ShardNode is one node of a sharded directory. A directory with more than
 * shardThreshold(bits) entries is cut into leaves after each entry whose name
 * has shardRank >= 1, leaves are grouped into level-1 nodes cut after names of
 * rank >= 2, and so on up to the first level with a single node: the
 * directory's tree ID is that node's ID. Cuts depend only on the names, so the
 * same entries always make the same objects, and one insertion or deletion
 * rewrites one leaf and the nodes above it.
 */
export interface ShardNode {
  /** 2^bits is the average number of children per node (and entries per leaf). */
  bits: number;
  /** 1: children are leaves; n > 1: children are level n-1 shard nodes. */
  level: number;
  children: ShardRef[];
}

/** TreeObject is a decoded tree object: a directory's (or a leaf's) entries, or a shard node. */
export type TreeObject = { kind: 'entries'; entries: TreeEntry[] } | { kind: 'shards'; node: ShardNode };

/** shardThreshold is the largest directory kept in one tree object for `bits`: four average leaves. */
export function shardThreshold(bits: number): number {
  return 4 << bits;
}

/**
 * nameHash is FNV-1a (32-bit) over the UTF-8 bytes of a name, finished with
 * MurmurHash3's fmix32 so its low bits are well mixed. It places shard cuts,
 * nothing else: it is no identity, and a name crafted to collide only makes a
 * leaf larger.
 */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  let bytes: Uint8Array | undefined;
  for (let i = 0; i < name.length; i++) {
    if (name.charCodeAt(i) >= 0x80) {
      bytes = Buffer.from(name, 'utf8');
      break;
    }
  }
  if (bytes) {
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  } else {
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** shardRank is the number of whole groups of `bits` one-bits at the low end of nameHash(name). */
export function shardRank(name: string, bits: number): number {
  const inv = ~nameHash(name) >>> 0;
  const ones = inv === 0 ? 32 : 31 - Math.clz32(inv & -inv);
  return Math.floor(ones / bits);
}

/**
 * encodeShardNode returns the canonical bytes of a shard node:
 * "LODT" 0x02, bits, level, varint(child count), then per child
 * id(32) varint(entries) varint(files) varint(size) varint(len) last-name.
 * Throws on anything decodeTreeObject would refuse.
 */
export function encodeShardNode(node: ShardNode): Buffer {
  checkShardHeader(node.bits, node.level, node.children.length, (why) => new RangeError(`shard node: ${why}`));
  const w = new ByteWriter(16 + node.children.length * 80);
  w.bytes(Buffer.from(TREE_MAGIC, 'latin1'));
  w.byte(SHARD_VERSION);
  w.byte(node.bits);
  w.byte(node.level);
  w.varint(node.children.length);
  let prev: Buffer | undefined;
  node.children.forEach((c, i) => {
    const name = Buffer.from(c.last, 'utf8');
    const problem = nameProblem(c.last);
    if (problem) throw new RangeError(`shard node: child ${i} last name ${JSON.stringify(c.last)}: ${problem}`);
    if (prev && Buffer.compare(prev, name) >= 0) throw new RangeError(`shard node: children not in order at ${JSON.stringify(c.last)}`);
    prev = name;
    if (i < node.children.length - 1 && shardRank(c.last, node.bits) !== node.level) throw new RangeError(`shard node: child ${i} does not end at a level-${node.level} cut`);
    if (c.entries < 1) throw new RangeError('shard node: empty child');
    const idBytes = idToBytes(c.id);
    if (c.id.length !== 64 || idBytes.length !== ID_BYTES) throw new RangeError(`shard node: bad id ${c.id}`);
    w.bytes(idBytes);
    w.varint(c.entries);
    w.varint(c.files);
    w.varint(c.size);
    w.varint(name.length);
    w.bytes(name);
  });
  return w.finish();
}

function checkShardHeader(bits: number, level: number, count: number, fail: (why: string) => Error): void {
  if (!Number.isInteger(bits) || bits < SHARD_BITS_MIN || bits > SHARD_BITS_MAX) throw fail(`bits ${bits} out of range`);
  if (!Number.isInteger(level) || level < 1 || level > Math.floor(32 / bits)) throw fail(`level ${level} out of range`);
  if (count < 1) throw fail('no children');
}

/**
 * decodeTreeObject parses any tree object: a directory or leaf (version 1)
 * or a shard node (version 2). It checks what one object can show: names,
 * order, and that every child of a shard node but the last ends at a cut of
 * the node's level. Whether shard nodes fit together (levels, totals, leaf
 * contents) is checked by the graph layer when it reads a directory.
 */
export function decodeTreeObject(buf: Uint8Array, id?: ObjectId): TreeObject {
  if (magicMatches(buf, TREE_MAGIC) && buf[4] === SHARD_VERSION) return { kind: 'shards', node: decodeShardNode(buf, id) };
  return { kind: 'entries', entries: decodeTree(buf, id) };
}

function decodeShardNode(buf: Uint8Array, id?: ObjectId): ShardNode {
  const fail = (why: string) => new CorruptObjectError(`tree object ${id ?? ''} is corrupt: shard node: ${why}`.replace('  ', ' '), { objectId: id });
  const r = new ByteReader(buf, fail);
  r.pos = 5;
  const bits = r.byte();
  const level = r.byte();
  const count = r.varint();
  checkShardHeader(bits, level, count, fail);
  // Each child takes its ID and four more bytes at least: a larger count must not reach new Array().
  if (count > (buf.length - r.pos) / (ID_BYTES + 4)) throw fail('child count larger than the object');
  const children: ShardRef[] = new Array(count);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let prev: Uint8Array | undefined;
  for (let i = 0; i < count; i++) {
    const cid = r.id();
    const entries = r.varint();
    const files = r.varint();
    const size = r.varint();
    const nameBytes = r.take(r.varint());
    if (entries < 1) throw fail(`child ${i} is empty`);
    let last: string;
    try {
      last = decoder.decode(nameBytes);
    } catch {
      throw fail(`child ${i} name is not UTF-8`);
    }
    const problem = nameProblem(last);
    if (problem) throw fail(`unsafe name ${JSON.stringify(last)}: ${problem}`);
    if (prev && Buffer.compare(prev, nameBytes) >= 0) throw fail(`children overlap or are out of order at ${JSON.stringify(last)}`);
    prev = nameBytes;
    if (i < count - 1 && shardRank(last, bits) !== level) throw fail(`child ${i} does not end at a level-${level} cut`);
    children[i] = { id: cid, entries, files, size, last };
  }
  if (!r.done) throw fail('trailing bytes');
  return { bits, level, children };
}

/** isShardNode says whether `buf` starts like a shard node (a tree object of version 2). */
export function isShardNode(buf: Uint8Array): boolean {
  return magicMatches(buf, TREE_MAGIC) && buf[4] === SHARD_VERSION;
}

/**
 * treeLinks lists what a tree object refers to, for walks over every object
 * (reachability, push, fetch, gc, check): a directory's entries, or a shard
 * node's children, which are more tree objects of the same directory.
 */
export function treeLinks(buf: Uint8Array, id?: ObjectId): { entries: TreeEntry[]; shards: ObjectId[] } {
  const t = decodeTreeObject(buf, id);
  return t.kind === 'entries' ? { entries: t.entries, shards: [] } : { entries: [], shards: t.node.children.map((c) => c.id) };
}

// ---------------------------------------------------------------- chunk lists

/** encodeChunkList returns the canonical bytes of a chunk list; sizes must add up. */
export function encodeChunkList(list: ChunkList): Buffer {
  const w = new ByteWriter(16 + list.chunks.length * 36);
  w.bytes(Buffer.from(CHUNKS_MAGIC, 'latin1'));
  w.byte(FORMAT_VERSION);
  w.varint(list.size);
  w.varint(list.chunks.length);
  let total = 0;
  for (const c of list.chunks) {
    if (c.size <= 0) throw new RangeError('empty chunk in chunk list');
    if (c.size > MAX_CHUNK_LIMIT) throw new RangeError(`chunk of ${c.size} bytes is larger than any chunk can be`);
    w.varint(c.size);
    w.bytes(idToBytes(c.id));
    total += c.size;
  }
  if (total !== list.size) throw new RangeError(`chunk sizes add to ${total}, not ${list.size}`);
  return w.finish();
}

/** decodeChunkList parses a chunk list, checking that chunk sizes add up. */
export function decodeChunkList(buf: Uint8Array, id?: ObjectId): ChunkList {
  const fail = (why: string) => new CorruptObjectError(`chunk list ${id ?? ''} is corrupt: ${why}`.replace('  ', ' '), { objectId: id });
  if (!magicMatches(buf, CHUNKS_MAGIC)) throw fail('not a chunk list');
  const r = new ByteReader(buf, fail);
  r.pos = 4;
  if (r.byte() !== FORMAT_VERSION) throw fail('unknown chunk list version');
  const size = r.varint();
  const count = r.varint();
  // Each chunk takes at least a one-byte size and its ID: a larger count must not reach new Array().
  if (count > (buf.length - r.pos) / (1 + ID_BYTES)) throw fail('chunk count larger than the object');
  const chunks: Chunk[] = new Array(count);
  let total = 0;
  for (let i = 0; i < count; i++) {
    const csize = r.varint();
    if (csize === 0) throw fail('empty chunk');
    // Nothing is allocated or written by a declared size larger than a chunk can be.
    if (csize > MAX_CHUNK_LIMIT) throw fail(`chunk ${i} declares ${csize} bytes, more than a chunk can have (${MAX_CHUNK_LIMIT})`);
    chunks[i] = { size: csize, id: r.id() };
    total += csize;
  }
  if (!r.done) throw fail('trailing bytes');
  if (total !== size) throw fail(`chunk sizes add to ${total}, not ${size}`);
  return { size, chunks };
}

// ---------------------------------------------------------------- commits

function checkLine(value: string, what: string): void {
  if (/[\n\r\0]/.test(value)) throw new RangeError(`${what} must be one line`);
}

/**
 * encodeCommit returns the canonical text of a commit: a header line, then
 * `tree`, `parent`*, `author`, `time`, optional `git`, optional `record`, `dataset`*, a blank
 * line and the message (normalised to end in exactly one newline).
 */
export function encodeCommit(c: Commit): Buffer {
  checkLine(c.author, 'author');
  const lines = [COMMIT_HEADER, `tree ${c.tree}`];
  for (const p of c.parents) lines.push(`parent ${p}`);
  lines.push(`author ${c.author}`);
  if (!Number.isSafeInteger(c.time) || c.time < 0) throw new RangeError('commit time must be a non-negative integer');
  lines.push(`time ${c.time}`);
  if (c.git !== undefined) {
    checkLine(c.git, 'git revision');
    lines.push(`git ${c.git}`);
  }
  if (c.record !== undefined) {
    if (!isObjectId(c.record)) throw new RangeError('commit record must be an object ID');
    lines.push(`record ${c.record}`);
  }
  for (const d of [...c.datasets].sort()) {
    checkLine(d, 'dataset path');
    const problem = repoPathProblem(d);
    if (problem) throw new RangeError(`unsafe dataset path ${JSON.stringify(d)}: ${problem}`);
    lines.push(`dataset ${d}`);
  }
  const message = normaliseMessage(c.message);
  return Buffer.from(`${lines.join('\n')}\n\n${message}`, 'utf8');
}

/** normaliseMessage trims trailing whitespace and ends the message with one newline. */
export function normaliseMessage(message: string): string {
  const trimmed = message.replace(/\s+$/u, '');
  return trimmed === '' ? '' : `${trimmed}\n`;
}

/** isCommitEncoding says whether `buf` starts like a commit object. */
export function isCommitEncoding(buf: Uint8Array): boolean {
  return Buffer.from(buf.buffer, buf.byteOffset, Math.min(buf.length, COMMIT_HEADER.length + 1)).toString('latin1') === `${COMMIT_HEADER}\n`;
}

/** decodeCommit parses a commit object; CorruptObjectError on anything unexpected. */
export function decodeCommit(buf: Uint8Array, id?: ObjectId): Commit {
  const fail = (why: string) => new CorruptObjectError(`commit ${id ?? ''} is corrupt: ${why}`.replace('  ', ' '), { objectId: id });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw fail('not UTF-8');
  }
  const split = text.indexOf('\n\n');
  if (split < 0) throw fail('no blank line after the header');
  const header = text.slice(0, split).split('\n');
  const message = text.slice(split + 2);
  if (header[0] !== COMMIT_HEADER) throw fail('not a commit');
  const c: Partial<Commit> & { parents: ObjectId[]; datasets: string[] } = { parents: [], datasets: [] };
  const order = ['tree', 'parent', 'author', 'time', 'git', 'record', 'dataset'];
  let last = 0;
  for (const line of header.slice(1)) {
    const sp = line.indexOf(' ');
    if (sp < 0) throw fail(`bad header line ${JSON.stringify(line)}`);
    const key = line.slice(0, sp);
    const value = line.slice(sp + 1);
    const rank = order.indexOf(key);
    if (rank < 0) throw fail(`unknown header ${key}`);
    if (rank < last) throw fail(`header ${key} out of order`);
    last = rank;
    switch (key) {
      case 'tree':
        if (c.tree !== undefined || !isObjectId(value)) throw fail('bad tree line');
        c.tree = value;
        break;
      case 'parent':
        if (!isObjectId(value)) throw fail('bad parent line');
        c.parents.push(value);
        break;
      case 'author':
        if (c.author !== undefined) throw fail('two author lines');
        c.author = value;
        break;
      case 'time': {
        if (c.time !== undefined || !/^\d{1,16}$/.test(value)) throw fail('bad time line');
        c.time = Number(value);
        break;
      }
      case 'git':
        if (c.git !== undefined) throw fail('two git lines');
        c.git = value;
        break;
      case 'record':
        if (c.record !== undefined || !isObjectId(value)) throw fail('bad record line');
        c.record = value;
        break;
      case 'dataset': {
        // A dataset root is scanned and written like a tree path: `../x`, `/etc`
        // or `.lode` must never reach the disk.
        const problem = repoPathProblem(value);
        if (problem) throw fail(`unsafe dataset path ${JSON.stringify(value)}: ${problem}`);
        c.datasets.push(value);
        break;
      }
    }
  }
  if (c.tree === undefined || c.author === undefined || c.time === undefined) throw fail('missing tree, author or time');
  const commit: Commit = {
    tree: c.tree,
    parents: c.parents,
    author: c.author,
    time: c.time,
    ...(c.git !== undefined ? { git: c.git } : {}),
    ...(c.record !== undefined ? { record: c.record } : {}),
    datasets: c.datasets,
    message,
  };
  // Only what encodeCommit writes is a commit: another spelling of the same one
  // (a padded time, unsorted datasets, an unnormalised message) would have a
  // second ID, and a time past 2^53 or a '\r' in a header could not be written back.
  let canonical: Buffer | undefined;
  try {
    canonical = encodeCommit(commit);
  } catch {
    // encodeCommit refuses a value: not canonical either.
  }
  if (!canonical?.equals(buf)) throw fail('not in canonical form');
  return commit;
}
