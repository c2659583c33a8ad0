/**
 * LocalStore is the repository's content-addressed store on disk:
 *
 *   .lode/objects/ab/cdef…   metadata objects (trees, commits, chunk lists)
 *   .lode/cache/ab/cdef…     whole file contents, keyed by file ID
 *   .lode/packs/<name>.pack  small whole files, many to a pack (local-packs.ts),
 *   .lode/packs/<name>.idx   as a fetch writes them
 *   .lode/tmp/               staging for atomic writes (same file system)
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
import { CorruptObjectError, NotFoundError } from '../core/errors.js';
import { isObjectId, sha256, type ObjectId } from '../core/id.js';
import { decodeChunkList, type ChunkList, type EntryKind } from '../core/encoding.js';
import { errnoCode, rmQuiet, sweepTemps, tempName } from '../storage/atomic.js';
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

  constructor(readonly lodeDir: string) {
    this.objectsDir = path.join(lodeDir, 'objects');
    this.cacheDir = path.join(lodeDir, 'cache');
    this.tmpDir = path.join(lodeDir, 'tmp');
    this.packs = new LocalPacks(path.join(lodeDir, 'packs'), this.tmpDir);
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

  /** hasFile says whether the cache holds file `id`, loose or packed. */
  hasFile(id: ObjectId): boolean {
    return this.packs.has(id) || fs.existsSync(this.filePath(id));
  }

  /**
   * fileProbe returns a `hasFile` for a walk over many files during which
   * the cache does not change (the caller guarantees it): a small fan-out
   * directory of loose files is listed once instead of probed per file,
   * which makes the walk over a new or sparse cache cheap.
   */
  fileProbe(): (id: ObjectId) => boolean {
    const listed = new Map<string, Set<string> | null>();
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
      return names ? names.has(id.slice(2)) : fs.existsSync(this.filePath(id));
    };
  }

  /** hasLooseFile says whether file `id` has a cache file of its own (at `filePath`). */
  hasLooseFile(id: ObjectId): boolean {
    return fs.existsSync(this.filePath(id));
  }

  /**
   * readPackedFile returns packed file `id`, checked against its ID, or
   * undefined when no local pack holds it. A damaged packed copy with a good
   * loose copy beside it (re-added since) reads as absent, so the loose one
   * is used; a damaged one alone throws CorruptObjectError.
   */
  readPackedFile(id: ObjectId): Buffer | undefined {
    try {
      return this.packs.read(id);
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
      if (errnoCode(e) === 'ENOENT') throw new NotFoundError(`the cache has no content for ${id.slice(0, 12)}`, { hint: 'run `lode fsck` to see what else is missing; fetch or add it again' });
      throw e;
    }
  }

  /** describeFile says where file `id` is kept, for messages. */
  describeFile(id: ObjectId): string {
    const at = this.packs.locate(id);
    return at && !this.hasLooseFile(id) ? `in local pack ${this.packs.packPath(at.pack)}` : this.filePath(id);
  }

  /** putObject stores a metadata object and returns its ID; storing twice is a no-op. */
  putObject(bytes: Uint8Array): ObjectId {
    const id = sha256(bytes);
    const dest = this.objectPath(id);
    if (!fs.existsSync(dest)) this.installBytes(dest, bytes);
    return id;
  }

  /** putFileBytes stores a small file's content under its SHA-256 (a 'blob'). */
  putFileBytes(bytes: Uint8Array, id: ObjectId = sha256(bytes)): ObjectId {
    const dest = this.filePath(id);
    if (!fs.existsSync(dest)) this.installBytes(dest, bytes);
    return id;
  }

  private installBytes(dest: string, bytes: Uint8Array): void {
    const tmp = tempName(this.tmpDir, 'obj');
    try {
      fs.writeFileSync(tmp, bytes, { mode: 0o444, flag: 'wx' });
      fs.renameSync(tmp, dest);
    } catch (e) {
      rmQuiet(tmp);
      if (errnoCode(e) === 'ENOENT' && !fs.existsSync(path.dirname(dest))) {
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        return this.installBytes(dest, bytes);
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
      if (errnoCode(e) === 'ENOENT') return 'missing';
      throw e;
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

  /** listIds yields every ID stored under `objects`, or every file the cache holds (loose or packed), each once. */
  *listIds(which: 'objects' | 'cache'): Generator<ObjectId> {
    const loose = which === 'cache' ? new Set<ObjectId>() : undefined;
    const dir = which === 'objects' ? this.objectsDir : this.cacheDir;
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

  /** remove deletes a stored object or a loose cached file; absent is fine (packed files go through `removeFiles`). */
  remove(which: 'objects' | 'cache', id: ObjectId): void {
    rmQuiet(which === 'objects' ? this.objectPath(id) : this.filePath(id));
  }

  /** removeFiles deletes cached files, loose and packed (rewriting the packs that keep others). */
  removeFiles(ids: ReadonlySet<ObjectId>): void {
    for (const id of ids) rmQuiet(this.filePath(id));
    if (ids.size > 0) this.packs.drop(ids);
  }

  /** sizeOf returns the stored size of an object or cached file (loose, else packed), or 0 when absent. */
  sizeOf(which: 'objects' | 'cache', id: ObjectId): number {
    try {
      return fs.statSync(which === 'objects' ? this.objectPath(id) : this.filePath(id)).size;
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
