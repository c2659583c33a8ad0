/**
 * LocalStore is the repository's content-addressed store on disk:
 *
 *   .lode/objects/ab/cdef…   metadata objects (trees, commits, chunk lists)
 *   .lode/cache/ab/cdef…     whole file contents, keyed by file ID
 *   .lode/packs/<name>.pack  small whole files, many to a pack (local-packs.ts),
 *   .lode/packs/<name>.idx   as a fetch writes them
 *   .lode/split/ab/cdef…     markers: chunked file `abcdef…` is kept as chunks
 *   .lode/chunks/ab/cdef…    loose chunks, keyed by chunk ID
 *   .lode/tmp/               staging for atomic writes (same file system)
 *
 * A chunked file's content is whole (`cache/`) or split: its chunk list plus
 * a marker, each chunk being a loose chunk or lying inside a whole cached
 * chunked file (read by the offset that file's chunk list gives). Newest
 * versions stay whole so that checkout is a reflink; older ones are split
 * (objects/split.ts), so an edit in a big file costs the changed chunks, not
 * another whole copy. Reads through `pieces`/`readPiece` are verified.
 *
 * Every file is written to tmp/ and renamed into place, and is read-only
 * (0444) once there, so a hardlinked checkout cannot edit the cache by
 * accident. Every read of a metadata object is verified against its ID, and
 * so is every read of a packed file. A file's content may be loose (in
 * cache/), packed, or both: "the cache has file X" means either.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { CorruptObjectError, MissingContentError, NOT_FETCHED_HINT, NotFoundError } from '../core/errors.js';
import { bytesToId, isObjectId, sha256, type ObjectId } from '../core/id.js';
import { decodeChunkList, type ChunkList, type EntryKind } from '../core/encoding.js';
import { errnoCode, rmQuiet, sweepTemps, syncDir, tempName, writeNewFile } from '../storage/atomic.js';
import type { ObjectReader } from './reader.js';
import { LocalPacks, SMALL_FILE_MAX } from './local-packs.js';

const FANOUT = 256;

/** fanoutPath maps an ID to `<dir>/<first two hex>/<the rest>`. */
export function fanoutPath(dir: string, id: ObjectId): string {
  return path.join(dir, id.slice(0, 2), id.slice(2));
}

/** createStoreDirs makes the fan-out directories of a new store. */
export function createStoreDirs(lodeDir: string): void {
  for (const sub of ['objects', 'cache']) {
    for (let i = 0; i < FANOUT; i++) fs.mkdirSync(path.join(lodeDir, sub, i.toString(16).padStart(2, '0')), { recursive: true });
  }
  fs.mkdirSync(path.join(lodeDir, 'tmp'), { recursive: true });
}

/** FileRef names a file's content the way a tree entry does. */
export interface FileRef {
  kind: 'blob' | 'chunked';
  id: ObjectId;
  size: number;
}

/**
 * Piece is one chunk of a file (or a blob whole) and where its bytes are:
 * `offset` in the file being read, `source` the path holding the bytes and
 * `at` their offset there (a whole cached file, or a loose chunk at 0).
 */
export interface Piece {
  id: ObjectId;
  size: number;
  offset: number;
  source: string;
  at: number;
}

/**
 * BlobSource reads a stored file in pieces (`Store.openBlob`), so a caller
 * that walks a large file holds only the range it asked for.
 */
export interface BlobSource {
  readonly length: number;
  /** read returns bytes `from` .. `to` (within the file). */
  read(from: number, to: number): Buffer;
  close(): void;
}

/** Where a chunk lies inside a whole cached chunked file. */
interface WholeLocation {
  file: ObjectId;
  at: number;
  size: number;
}

/** SPLIT_MAGIC starts a split marker; the lines after it name whole files that held chunks (hints). */
const SPLIT_MAGIC = 'lode-split 1\n';

/**
 * LocalStore is also an ObjectReader over its metadata objects (`has`, `get`,
 * `getMany`: the async, verified reads a remote offers too); file contents in
 * the cache are read by path (`filePath`, `verifyFile`).
 */
export class LocalStore implements ObjectReader {
  readonly objectsDir: string;
  readonly cacheDir: string;
  readonly tmpDir: string;
  /** Small whole files kept in local packs (loaded on first use). */
  readonly packs: LocalPacks;
  readonly chunksDir: string;
  readonly splitDir: string;
  /** Chunk ID -> place inside a whole cached chunked file; built on demand, dropped when the cache changes. */
  private wholeIndex: Map<ObjectId, WholeLocation> | undefined;
  /** Whole files already read into wholeIndex (hints read first, then everything). */
  private indexedWholes = new Set<ObjectId>();
  private wholeIndexComplete = false;

  constructor(readonly lodeDir: string) {
    this.objectsDir = path.join(lodeDir, 'objects');
    this.cacheDir = path.join(lodeDir, 'cache');
    this.tmpDir = path.join(lodeDir, 'tmp');
    this.packs = new LocalPacks(path.join(lodeDir, 'packs'), this.tmpDir);
    this.chunksDir = path.join(lodeDir, 'chunks');
    this.splitDir = path.join(lodeDir, 'split');
    this.stagedDir = path.join(lodeDir, 'staged-trees');
  }

  /**
   * stagedDir holds the trees of the index (see IndexTrees in
   * workspace/index-file.ts), one file per tree named by its ID: apart from
   * objects/, so trees nothing has committed are never mixed with history
   * (`forget` and `gc` clear them), and a commit moves the ones it names
   * into objects/.
   */
  readonly stagedDir: string;

  /** hasStaged says whether staged tree `id` is kept. */
  hasStaged(id: ObjectId): boolean {
    return fs.existsSync(path.join(this.stagedDir, id));
  }

  /** getStaged reads staged tree `id`, checked against its ID (NotFoundError, CorruptObjectError as getObject). */
  getStaged(id: ObjectId, what = 'tree'): Buffer {
    const file = path.join(this.stagedDir, id);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw new NotFoundError(`staged ${what} ${id} is missing`, { hint: 'it is built again from the index' });
      // Not a file (a folder in its place): damaged like a file with other bytes.
      if (errnoCode(e) === 'EISDIR') throw new CorruptObjectError(`staged ${what} ${id} is not a file (${file})`, { objectId: id, path: file });
      throw e;
    }
    if (sha256(bytes) !== id) throw new CorruptObjectError(`staged ${what} ${id} is corrupt: its bytes do not match its ID (${file})`, { objectId: id, path: file });
    return bytes;
  }

  /** putStaged keeps a tree of the index (a no-op when it is kept already); returns its ID (`id`, when the caller has hashed it). */
  putStaged(bytes: Uint8Array, id: ObjectId = sha256(bytes)): ObjectId {
    const dest = path.join(this.stagedDir, id);
    if (!fs.existsSync(dest)) this.installBytes(dest, bytes);
    return id;
  }

  /** listStaged lists the staged trees kept. */
  listStaged(): ObjectId[] {
    try {
      return fs.readdirSync(this.stagedDir).filter((n) => isObjectId(n));
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
  }

  /** removeStaged removes staged tree `id`. */
  removeStaged(id: ObjectId): void {
    fs.rmSync(path.join(this.stagedDir, id), { recursive: true, force: true });
  }

  /** clearStaged removes every staged tree. */
  clearStaged(): void {
    fs.rmSync(this.stagedDir, { recursive: true, force: true });
  }

  /** packable says whether a fetched file of this kind and size belongs in a local pack rather than a cache file of its own. */
  static packable(kind: 'blob' | 'chunked', size: number): boolean {
    return kind === 'blob' && size <= SMALL_FILE_MAX;
  }

  objectPath(id: ObjectId): string {
    return fanoutPath(this.objectsDir, id);
  }

  /** filePath is where the whole content of file `id` lives in the cache. */
  filePath(id: ObjectId): string {
    return fanoutPath(this.cacheDir, id);
  }

  hasObject(id: ObjectId): boolean {
    return fs.existsSync(this.objectPath(id));
  }

  /**
   * hasFile says whether the cache holds file `id`: loose, packed, or split
   * into chunks (the split marker is trusted; `pieces` and `verifyFile` find
   * a chunk that went missing).
   */
  hasFile(id: ObjectId): boolean {
    return this.packs.has(id) || fs.existsSync(this.filePath(id)) || this.isSplit(id);
  }

  /** hasFileAt is hasFile for the ID in `buf` at `at` (32 bytes): a packed file is found without making its hex ID. */
  hasFileAt(buf: Buffer, at: number): boolean {
    if (this.packs.hasKey(buf, at)) return true;
    const id = bytesToId(buf, at);
    return fs.existsSync(this.filePath(id)) || this.isSplit(id);
  }

  /**
   * fileProbe returns a `hasFile` for a walk over many files during which
   * the cache does not change (the caller guarantees it): a small fan-out
   * directory of loose files is listed once instead of probed per file,
   * which makes the walk over a new or sparse cache cheap.
   */
  fileProbe(): (id: ObjectId) => boolean {
    const listed = new Map<string, Set<string> | null>();
    // No split marker at all (a new clone): no marker to probe per file.
    const splits = this.anySplit();
    return (id) => {
      if (this.packs.has(id)) return true;
      const fan = id.slice(0, 2);
      let names = listed.get(fan);
      if (names === undefined) {
        names = null;
        const dir = path.join(this.cacheDir, fan);
        try {
          // A directory of a few blocks lists faster than a few hundred lookups.
          if (fs.statSync(dir).size <= 16 << 10) names = new Set(fs.readdirSync(dir));
        } catch (e) {
          if (errnoCode(e) !== 'ENOENT') throw e;
          names = new Set();
        }
        listed.set(fan, names);
      }
      return (names ? names.has(id.slice(2)) : fs.existsSync(this.filePath(id))) || (splits && this.isSplit(id));
    };
  }

  /** hasWhole says whether file `id` is in the cache whole (what reflink and hardlink need). */
  hasWhole(id: ObjectId): boolean {
    return fs.existsSync(this.filePath(id));
  }

  /** isSplit says whether chunked file `id` is recorded as kept in chunks (its marker exists). */
  isSplit(id: ObjectId): boolean {
    return fs.existsSync(fanoutPath(this.splitDir, id));
  }


  /** chunkPath is where loose chunk `id` lives. */
  chunkPath(id: ObjectId): string {
    return fanoutPath(this.chunksDir, id);
  }

  hasChunk(id: ObjectId): boolean {
    return fs.existsSync(this.chunkPath(id));
  }

  /**
   * putChunk stores a loose chunk (the caller verified `bytes` hash to `id`).
   * With `durable`, the chunk's bytes are on disk when this returns (its
   * directory is synced by the caller, once per batch: `syncChunkDirs`).
   */
  putChunk(bytes: Uint8Array, id: ObjectId, durable = false): void {
    const dest = this.chunkPath(id);
    if (fs.existsSync(dest)) return;
    this.installBytes(dest, bytes, durable);
  }

  /** syncChunkDirs fsyncs the fan-out directories of `ids` in chunks/ (so their renames survive a crash). */
  syncChunkDirs(ids: Iterable<ObjectId>): void {
    const fans = new Set<string>();
    for (const id of ids) fans.add(id.slice(0, 2));
    for (const f of fans) syncDir(path.join(this.chunksDir, f));
    syncDir(this.chunksDir);
  }

  /**
   * markSplit records durably that chunked file `id` is kept as chunks;
   * `sources` (whole files that held some of its chunks) are hints for
   * readers, never trusted: every chunk is located and verified again.
   */
  markSplit(id: ObjectId, sources: Iterable<ObjectId>): void {
    const dest = fanoutPath(this.splitDir, id);
    const body = SPLIT_MAGIC + [...new Set(sources)].sort().map((s) => s + '\n').join('');
    const tmp = tempName(this.tmpDir, 'split');
    try {
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      const fd = fs.openSync(tmp, 'wx', 0o444);
      try {
        fs.writeSync(fd, body);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, dest);
      syncDir(path.dirname(dest));
    } catch (e) {
      rmQuiet(tmp);
      throw e;
    }
  }

  /** splitSources reads the hints of a split marker (empty when absent or unreadable). */
  splitSources(id: ObjectId): ObjectId[] {
    let text: string;
    try {
      text = fs.readFileSync(fanoutPath(this.splitDir, id), 'utf8');
    } catch {
      return [];
    }
    if (!text.startsWith(SPLIT_MAGIC)) return [];
    return text.slice(SPLIT_MAGIC.length).split('\n').filter(isObjectId);
  }

  /** unmarkSplit removes a split marker (the chunks stay until gc). */
  unmarkSplit(id: ObjectId): void {
    rmQuiet(fanoutPath(this.splitDir, id));
  }

  /** forgetWholeIndex drops what this store learnt about chunks inside whole files (after the cache changed). */
  forgetWholeIndex(): void {
    this.wholeIndex = undefined;
    this.indexedWholes = new Set();
    this.wholeIndexComplete = false;
  }

  private indexWhole(index: Map<ObjectId, WholeLocation>, file: ObjectId): void {
    if (this.indexedWholes.has(file)) return;
    this.indexedWholes.add(file);
    if (!this.hasObject(file) || !this.hasWhole(file)) return;
    let list: ChunkList;
    try {
      list = this.getChunkList(file);
    } catch {
      return; // a damaged list locates nothing; fsck reports it
    }
    let at = 0;
    for (const c of list.chunks) {
      if (!index.has(c.id)) index.set(c.id, { file, at, size: c.size });
      at += c.size;
    }
  }

  /**
   * locateInWhole finds chunk `id` inside a whole cached chunked file: first
   * in `hints`, then (once per store, until the cache changes) in every whole
   * chunked file. Not verified: the reader checks the bytes.
   */
  locateInWhole(id: ObjectId, hints: Iterable<ObjectId> = []): WholeLocation | undefined {
    const index = (this.wholeIndex ??= new Map());
    let hit = index.get(id);
    if (hit && this.hasWhole(hit.file)) return hit;
    for (const h of hints) this.indexWhole(index, h);
    hit = index.get(id);
    if (hit && this.hasWhole(hit.file)) return hit;
    // A miss after a complete scan may be a file another process (or an
    // ingest worker) cached since: scan once more before calling it missing.
    const rescan = this.wholeIndexComplete;
    if (rescan) this.forgetWholeIndex();
    const fresh = (this.wholeIndex ??= new Map());
    for (const file of this.listIds('cache')) this.indexWhole(fresh, file);
    this.wholeIndexComplete = true;
    hit = fresh.get(id);
    if (hit && this.hasWhole(hit.file)) return hit;
    return undefined;
  }

  /**
   * pieces lists where every byte of file `ref` is: the whole cached file
   * when there is one, else (a split file) each chunk as a loose chunk or
   * inside a whole cached file. MissingContentError when the store lacks the
   * content, or a split file lacks a chunk. Nothing is read or verified
   * here beyond the chunk list: `readPiece` verifies each piece.
   */
  pieces(ref: FileRef, label: string = ref.id): Piece[] {
    const whole = this.filePath(ref.id);
    if (ref.kind === 'blob') {
      if (fs.existsSync(whole)) return [{ id: ref.id, size: ref.size, offset: 0, source: whole, at: 0 }];
      // A small file kept in a local pack: its bytes where the pack holds them.
      const packed = this.packs.locate(ref.id);
      if (!packed) throw this.missing(ref, label);
      return [{ id: ref.id, size: packed.length, offset: 0, source: this.packs.packPath(packed.pack), at: packed.offset }];
    }
    const wholeThere = fs.existsSync(whole);
    if (!wholeThere && !this.isSplit(ref.id)) throw this.missing(ref, label);
    const list = this.getChunkList(ref.id);
    const out: Piece[] = [];
    let offset = 0;
    const hints = wholeThere ? [] : this.splitSources(ref.id);
    for (const c of list.chunks) {
      if (wholeThere) out.push({ id: c.id, size: c.size, offset, source: whole, at: offset });
      else {
        const loose = this.chunkPath(c.id);
        if (fs.existsSync(loose)) out.push({ id: c.id, size: c.size, offset, source: loose, at: 0 });
        else {
          const w = this.locateInWhole(c.id, hints);
          if (!w) {
            throw new MissingContentError(`${label} (${ref.id.slice(0, 12)}) is kept as chunks, but chunk ${c.id.slice(0, 12)} at offset ${offset} is missing`, {
              hint: 'run `lode fsck`; `lode fetch` restores it when a remote has the file',
            });
          }
          out.push({ id: c.id, size: c.size, offset, source: this.filePath(w.file), at: w.at });
        }
      }
      offset += c.size;
    }
    return out;
  }

  /**
   * assembleTo writes file `ref` to the new file `dest` (mode 0444) from its
   * verified pieces: how a split file becomes a file a reader can open by
   * path. The caller removes `dest`.
   */
  assembleTo(ref: FileRef, dest: string): void {
    const pieces = this.pieces(ref);
    const buf = Buffer.allocUnsafe(4 << 20);
    const fd = fs.openSync(dest, 'wx', 0o444);
    try {
      for (const p of pieces) {
        const data = this.readPiece(p, buf);
        let w = 0;
        while (w < data.length) w += fs.writeSync(fd, data, w, data.length - w);
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  private missing(ref: FileRef, label: string): MissingContentError {
    return new MissingContentError(`the cache has no content for ${label === ref.id ? ref.id.slice(0, 12) : `${label} (${ref.id.slice(0, 12)})`}: not fetched yet`, { hint: NOT_FETCHED_HINT });
  }

  /**
   * readPiece returns a piece's bytes after checking them against its ID:
   * CorruptObjectError when they differ or are short, MissingContentError
   * when its source vanished. `verify` false skips the hash for a caller
   * that checks the bytes itself (push hashes everything it sends).
   */
  readPiece(p: Piece, into?: Buffer, verify = true): Buffer {
    const buf = into && into.length >= p.size ? into.subarray(0, p.size) : Buffer.allocUnsafe(p.size);
    let fd: number;
    try {
      fd = fs.openSync(p.source, 'r');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw new MissingContentError(`chunk ${p.id.slice(0, 12)} vanished from ${p.source}`, { hint: NOT_FETCHED_HINT });
      throw e;
    }
    let got = 0;
    try {
      while (got < p.size) {
        const n = fs.readSync(fd, buf, got, p.size - got, p.at + got);
        if (n === 0) break;
        got += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    if (got !== p.size || (verify && createHash('sha256').update(buf).digest('hex') !== p.id)) {
      throw new CorruptObjectError(`stored bytes of chunk ${p.id} (at offset ${p.offset} of the file) do not match its ID (${p.source})`, { objectId: p.id, path: p.source });
    }
    return buf;
  }

  /** hasLooseFile says whether file `id` has a cache file of its own (at `filePath`). */
  hasLooseFile(id: ObjectId): boolean {
    return fs.existsSync(this.filePath(id));
  }

  /**
   * readPackedFile returns packed file `id`, checked against its ID, or
   * undefined when no local pack holds it. A damaged packed copy with a good
   * loose copy beside it (re-added since) reads as absent, so the loose one
   * is used; a damaged one alone throws CorruptObjectError. `scratch`: as
   * LocalPacks.read (the bytes in it, valid until its next use).
   */
  readPackedFile(id: ObjectId, scratch?: Buffer): Buffer | undefined {
    try {
      return this.packs.read(id, scratch);
    } catch (e) {
      if (e instanceof CorruptObjectError && this.hasLooseFile(id)) return undefined;
      throw e;
    }
  }

  /**
   * readBlob returns the bytes of whole file `id` from a local pack (verified)
   * or its cache file (not verified here: callers check what they send on).
   * NotFoundError when the cache has neither.
   */
  readBlob(id: ObjectId): Buffer {
    const packed = this.readPackedFile(id);
    if (packed) return packed;
    try {
      return fs.readFileSync(this.filePath(id));
    } catch (e) {
      // An older version kept split: its verified pieces, put together.
      if (errnoCode(e) === 'ENOENT' && this.isSplit(id)) return this.readSplit(id);
      if (errnoCode(e) === 'ENOENT') throw new NotFoundError(`the cache has no content for ${id.slice(0, 12)}`, { hint: 'run `lode fsck` to see what else is missing; fetch or add it again' });
      throw e;
    }
  }

  /**
   * openBlob opens file `id` for reading in ranges, from where readBlob would
   * read it: a local pack (a small file, held in memory, verified), its cache
   * file (not verified, like readBlob), or its verified pieces (a split file,
   * one piece held at a time). NotFoundError when the cache has none of them.
   */
  openBlob(id: ObjectId): BlobSource {
    const packed = this.readPackedFile(id);
    if (packed) return { length: packed.length, read: (from, to) => packed.subarray(from, to), close: () => {} };
    let fd: number;
    try {
      fd = fs.openSync(this.filePath(id), 'r');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' && this.isSplit(id)) return this.openSplit(id);
      if (errnoCode(e) === 'ENOENT') throw new NotFoundError(`the cache has no content for ${id.slice(0, 12)}`, { hint: 'run `lode fsck` to see what else is missing; fetch or add it again' });
      throw e;
    }
    const file = this.filePath(id);
    const length = fs.fstatSync(fd).size;
    return {
      length,
      read: (from, to) => {
        const out = Buffer.allocUnsafe(to - from);
        let got = 0;
        while (got < out.length) {
          const n = fs.readSync(fd, out, got, out.length - got, from + got);
          if (n === 0) throw new CorruptObjectError(`cached file ${id} shrank while it was read (${file})`, { objectId: id, path: file });
          got += n;
        }
        return out;
      },
      close: () => fs.closeSync(fd),
    };
  }

  private openSplit(id: ObjectId): BlobSource {
    const list = this.getChunkList(id);
    const pieces = this.pieces({ kind: 'chunked', id, size: list.size });
    // The last piece read: a range that ends inside a piece is often followed by one that starts there.
    let last: { p: Piece; bytes: Buffer } | undefined;
    const bytesOf = (p: Piece) => (last?.p === p ? last.bytes : (last = { p, bytes: this.readPiece(p) }).bytes);
    return {
      length: list.size,
      read: (from, to) => {
        const out = Buffer.allocUnsafe(to - from);
        let lo = 0;
        let hi = pieces.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (pieces[mid].offset + pieces[mid].size <= from) lo = mid + 1;
          else hi = mid;
        }
        for (let i = lo; i < pieces.length && pieces[i].offset < to; i++) {
          const p = pieces[i];
          const s = Math.max(from, p.offset);
          const e = Math.min(to, p.offset + p.size);
          bytesOf(p).copy(out, s - from, s - p.offset, e - p.offset);
        }
        return out;
      },
      close: () => {
        last = undefined;
      },
    };
  }

  /** readSplit assembles split file `id` in memory from its pieces, each verified against its chunk ID. */
  private readSplit(id: ObjectId): Buffer {
    const list = this.getChunkList(id);
    const out = Buffer.allocUnsafe(list.size);
    const buf = Buffer.allocUnsafe(4 << 20);
    for (const p of this.pieces({ kind: 'chunked', id, size: list.size })) this.readPiece(p, buf).copy(out, p.offset);
    return out;
  }

  /** describeFile says where file `id` is kept, for messages. */
  describeFile(id: ObjectId): string {
    const at = this.packs.locate(id);
    return at && !this.hasLooseFile(id) ? `in local pack ${this.packs.packPath(at.pack)}` : this.filePath(id);
  }

  /**
   * putObject stores a metadata object and returns its ID; storing twice is
   * a no-op. With `repair`, a copy already there is read and replaced when
   * its bytes do not match its ID.
   */
  putObject(bytes: Uint8Array, repair = false): ObjectId {
    const id = sha256(bytes);
    const dest = this.objectPath(id);
    if (!fs.existsSync(dest) || (repair && !this.intact(dest, id))) this.installBytes(dest, bytes);
    return id;
  }

  /** intact says whether the file at `file` holds bytes whose SHA-256 is `id`. */
  private intact(file: string, id: ObjectId): boolean {
    try {
      return sha256(fs.readFileSync(file)) === id;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return false;
      throw e;
    }
  }

  /** putFileBytes stores a small file's content under its SHA-256 (a 'blob'). */
  putFileBytes(bytes: Uint8Array, id: ObjectId = sha256(bytes)): ObjectId {
    const dest = this.filePath(id);
    if (!fs.existsSync(dest)) this.installBytes(dest, bytes);
    return id;
  }

  private installBytes(dest: string, bytes: Uint8Array, durable = false): void {
    const tmp = tempName(this.tmpDir, 'obj');
    try {
      writeNewFile(tmp, bytes, { mode: 0o444, durable });
      fs.renameSync(tmp, dest);
    } catch (e) {
      rmQuiet(tmp);
      if (errnoCode(e) === 'ENOENT' && !fs.existsSync(path.dirname(dest))) {
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        return this.installBytes(dest, bytes, durable);
      }
      throw e;
    }
  }

  /**
   * installFile moves a finished temporary file into the cache as file `id`
   * (atomically replacing any copy there). `verified`: every byte of it was
   * checked against its ID on the way in, by this process, just now (a fetch
   * assembling checked chunks); see installedVerified.
   */
  installFile(tmp: string, id: ObjectId, verified = false): void {
    // Always replace: the new copy was just hashed, the one in place may be
    // damaged, so re-adding a file is how a corrupt cache entry is repaired.
    fs.renameSync(tmp, this.filePath(id));
    this.forgetWholeIndex();
    if (verified) this.verifiedNow.add(id);
  }

  /** Files this store object installed from bytes it checked on the way in (installFile with `verified`). */
  private readonly verifiedNow = new Set<ObjectId>();

  /**
   * installedVerified says whether this store object installed file `id`
   * from checked bytes: a checkout in the same command (clone, pull) may then
   * copy it without hashing it a second time.
   */
  installedVerified(id: ObjectId): boolean {
    return this.verifiedNow.has(id);
  }

  /**
   * getObject returns a metadata object's bytes after checking them against
   * `id`. NotFoundError when absent, CorruptObjectError when the bytes differ.
   */
  getObject(id: ObjectId, what = 'object'): Buffer {
    const file = this.objectPath(id);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') {
        throw new NotFoundError(`${what} ${id} is missing from the local store`, {
          hint: 'it may have been removed by gc or never fetched; run `lode fsck` to see what else is missing',
        });
      }
      throw e;
    }
    if (sha256(bytes) !== id) {
      throw new CorruptObjectError(`${what} ${id} is corrupt: its bytes do not match its ID (${file})`, { objectId: id, path: file });
    }
    return bytes;
  }

  /** has says whether metadata object `id` is stored (ObjectReader). */
  async has(id: ObjectId): Promise<boolean> {
    return this.hasObject(id);
  }

  /** get is getObject as an ObjectReader: verified bytes, NotFoundError, CorruptObjectError. */
  async get(id: ObjectId, what = 'object'): Promise<Buffer> {
    return this.getObject(id, what);
  }

  /** getMany reads metadata objects one by one (local reads need no batching). */
  async getMany(ids: Iterable<ObjectId>, onObject: (id: ObjectId, bytes: Buffer) => void | Promise<void>): Promise<void> {
    for (const id of ids) await onObject(id, this.getObject(id));
  }

  /** getChunkList reads and decodes a verified chunk list. */
  getChunkList(id: ObjectId): ChunkList {
    return decodeChunkList(this.getObject(id, 'chunk list'), id);
  }

  /**
   * verifyFile re-reads a cached file and checks it against its ID (the whole
   * content for a blob, every chunk for a chunked file). Returns a problem
   * description, or undefined when the file is intact.
   */
  verifyFile(ref: FileRef, buffer?: Buffer): string | undefined {
    if (ref.kind === 'blob') {
      const at = this.packs.locate(ref.id);
      if (at) {
        let packed: string | undefined;
        if (at.length !== ref.size) packed = `size is ${at.length}, expected ${ref.size}`;
        else {
          try {
            this.packs.read(ref.id);
          } catch (e) {
            if (!(e instanceof CorruptObjectError)) throw e;
            packed = 'content in its local pack does not match its ID';
          }
        }
        if (!this.hasLooseFile(ref.id)) return packed;
        // Both copies: a good loose one beside a damaged packed one is what every
        // reader uses; a damaged loose one beside a good packed one is still damage.
        const loose = this.verifyLooseFile(ref, buffer);
        return packed === undefined ? loose : loose === undefined ? undefined : packed;
      }
    }
    return this.verifyLooseFile(ref, buffer);
  }

  private verifyLooseFile(ref: FileRef, buffer?: Buffer): string | undefined {
    const file = this.filePath(ref.id);
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
      if (ref.kind === 'chunked' && this.isSplit(ref.id)) return this.verifySplit(ref, buffer);
      return 'missing';
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size !== ref.size) return `size is ${size}, expected ${ref.size}`;
      const buf = buffer ?? Buffer.allocUnsafe(4 << 20);
      if (ref.kind === 'blob') {
        return hashRange(fd, 0, size, buf) === ref.id ? undefined : 'content does not match its ID';
      }
      const list = this.getChunkList(ref.id);
      if (list.size !== size) return `size is ${size}, chunk list says ${list.size}`;
      let off = 0;
      for (const c of list.chunks) {
        if (hashRange(fd, off, c.size, buf) !== c.id) return `chunk at offset ${off} does not match its ID`;
        off += c.size;
      }
      return undefined;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** verifySplit checks every chunk of a split file where it is stored; a problem description or undefined. */
  private verifySplit(ref: FileRef, buffer?: Buffer): string | undefined {
    let pieces: Piece[];
    try {
      pieces = this.pieces(ref);
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
    const total = pieces.reduce((s, p) => s + p.size, 0);
    if (total !== ref.size) return `its chunks total ${total} bytes, expected ${ref.size}`;
    for (const p of pieces) {
      try {
        this.readPiece(p, buffer);
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
    }
    return undefined;
  }

  /**
   * listIds yields every ID stored under `objects`, every file the cache
   * holds whole (loose or packed), each once, every loose chunk (`chunks`)
   * or every split marker (`split`).
   */
  *listIds(which: StoreArea): Generator<ObjectId> {
    const loose = which === 'cache' ? new Set<ObjectId>() : undefined;
    const dir = this.areaDir(which);
    let fans: string[] = [];
    try {
      fans = fs.readdirSync(dir);
    } catch {
      // no such directory: nothing loose
    }
    for (const fan of fans) {
      if (!/^[0-9a-f]{2}$/.test(fan)) continue;
      for (const rest of fs.readdirSync(path.join(dir, fan))) {
        const id = fan + rest;
        if (!isObjectId(id)) continue;
        loose?.add(id);
        yield id;
      }
    }
    if (loose) for (const id of this.packs.ids()) if (!loose.has(id)) yield id;
  }

  /** findObjectsByPrefix lists metadata object IDs starting with `prefix` (>= 2 hex digits). */
  findObjectsByPrefix(prefix: string): ObjectId[] {
    const fan = prefix.slice(0, 2);
    let names: string[];
    try {
      names = fs.readdirSync(path.join(this.objectsDir, fan));
    } catch {
      return [];
    }
    const rest = prefix.slice(2);
    return names.filter((n) => n.startsWith(rest)).map((n) => fan + n).filter(isObjectId);
  }

  private areaDir(which: StoreArea): string {
    return which === 'objects' ? this.objectsDir : which === 'cache' ? this.cacheDir : which === 'chunks' ? this.chunksDir : this.splitDir;
  }

  /**
   * remove deletes a stored object, whole cached file, loose chunk or split
   * marker; absent is fine. Removing a whole chunked file first stores as
   * loose chunks (verified, fsynced) the chunks of split files that only it
   * held, so no version becomes unreadable; to remove many files, or to
   * split them, `retireFiles` (objects/split.ts) does the same in one pass.
   * Removing a loose chunk or a marker is not checked: that is gc's
   * `pruneSplit`, which knows what is live.
   */
  remove(which: StoreArea, id: ObjectId): void {
    if (which === 'cache' && this.hasObject(id) && this.anySplit()) this.keepChunksOf(id);
    this.removeUnchecked(which, id);
  }

  /** removeUnchecked deletes as `remove` does, without looking after split files (the caller did). */
  removeUnchecked(which: StoreArea, id: ObjectId): void {
    rmQuiet(fanoutPath(this.areaDir(which), id));
    if (which === 'cache') this.forgetWholeIndex();
  }

  /** anySplit says whether any split marker exists (cheap: the directory is made with the first). */
  private anySplit(): boolean {
    try {
      return fs.readdirSync(this.splitDir).length > 0;
    } catch {
      return false;
    }
  }

  /**
   * keepChunksOf writes as loose chunks the chunks of whole file `id` that a
   * split file needs and that neither a loose chunk nor another whole file
   * holds (a chunk whose first known place is `id` itself is written too:
   * safe, at worst a spare copy that gc drops).
   */
  private keepChunksOf(id: ObjectId): void {
    if (!this.hasWhole(id)) return;
    let list: ChunkList;
    try {
      list = this.getChunkList(id);
    } catch {
      return; // no chunk list: not a chunked file, nothing can read chunks from it
    }
    const needed = new Set<ObjectId>();
    for (const s of this.listIds('split')) {
      if (s === id || this.hasWhole(s)) continue;
      try {
        for (const c of this.getChunkList(s).chunks) needed.add(c.id);
      } catch {
        // a split file without a readable list: fsck reports it
      }
    }
    const written: ObjectId[] = [];
    let at = 0;
    for (const c of list.chunks) {
      const here = at;
      at += c.size;
      if (!needed.has(c.id) || this.hasChunk(c.id)) continue;
      const w = this.locateInWhole(c.id);
      if (w && w.file !== id) continue;
      const bytes = this.readPiece({ id: c.id, size: c.size, offset: here, source: this.filePath(id), at: here });
      this.putChunk(bytes, c.id, true);
      written.push(c.id);
    }
    this.syncChunkDirs(written);
  }

  /**
   * removeFiles deletes cached files, loose and packed (rewriting the packs
   * that keep others), looking after split files as `remove` does.
   */
  removeFiles(ids: ReadonlySet<ObjectId>): void {
    const split = this.anySplit();
    for (const id of ids) {
      if (split && this.hasObject(id)) this.keepChunksOf(id);
      rmQuiet(this.filePath(id));
    }
    this.forgetWholeIndex();
    if (ids.size > 0) this.packs.drop(ids);
  }

  /** sizeOf returns the stored size of an object, cached file (loose, else packed), loose chunk or marker, or 0 when absent. */
  sizeOf(which: StoreArea, id: ObjectId): number {
    try {
      return fs.statSync(fanoutPath(this.areaDir(which), id)).size;
    } catch {
      return which === 'cache' ? this.packs.locate(id)?.length ?? 0 : 0;
    }
  }

  /**
   * clearTmp removes staging files and directories no running process owns:
   * those of dead processes on this host at once, others (another host, an
   * older lode) once older than `olderThanMs`. Returns how many it removed.
   */
  clearTmp(olderThanMs = 60 * 60 * 1000): number {
    return sweepTemps(this.tmpDir, olderThanMs) + this.packs.removeOrphans(olderThanMs);
  }
}

/** StoreArea names the directories of the store that hold files named by ID. */
export type StoreArea = 'objects' | 'cache' | 'chunks' | 'split';

/** hashRange returns the SHA-256 of `length` bytes of `fd` from `offset`. */
export function hashRange(fd: number, offset: number, length: number, buf: Buffer): ObjectId {
  const h = createHash('sha256');
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, 0, Math.min(buf.length, length - done), offset + done);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
    done += n;
  }
  return h.digest('hex');
}

/** fileKindOf narrows an entry kind to a file kind. */
export function isFileKind(kind: EntryKind): kind is 'blob' | 'chunked' {
  return kind === 'blob' || kind === 'chunked';
}
