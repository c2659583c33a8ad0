/**
 * LocalStore is the repository's content-addressed store on disk:
 *
 *   .lode/objects/ab/cdef…   metadata objects (trees, commits, chunk lists)
 *   .lode/cache/ab/cdef…     whole file contents, keyed by file ID
 *   .lode/tmp/               staging for atomic writes (same file system)
 *
 * Every file is written to tmp/ and renamed into place, and is read-only
 * (0444) once there, so a hardlinked checkout cannot edit the cache by
 * accident. Every read of a metadata object is verified against its ID.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { CorruptObjectError, NotFoundError } from '../core/errors.js';
import { isObjectId, sha256, type ObjectId } from '../core/id.js';
import { decodeChunkList, type ChunkList, type EntryKind } from '../core/encoding.js';
import { errnoCode, rmQuiet, sweepTemps, tempName } from '../storage/atomic.js';
import type { ObjectReader } from './reader.js';

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

  constructor(readonly lodeDir: string) {
    this.objectsDir = path.join(lodeDir, 'objects');
    this.cacheDir = path.join(lodeDir, 'cache');
    this.tmpDir = path.join(lodeDir, 'tmp');
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

  hasFile(id: ObjectId): boolean {
    return fs.existsSync(this.filePath(id));
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

  /** installFile moves a finished temporary file into the cache as file `id` (atomically replacing any copy there). */
  installFile(tmp: string, id: ObjectId): void {
    // Always replace: the new copy was just hashed, the one in place may be
    // damaged, so re-adding a file is how a corrupt cache entry is repaired.
    fs.renameSync(tmp, this.filePath(id));
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

  /** listIds yields every ID stored under `objects` or `cache`. */
  *listIds(which: 'objects' | 'cache'): Generator<ObjectId> {
    const dir = which === 'objects' ? this.objectsDir : this.cacheDir;
    let fans: string[];
    try {
      fans = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const fan of fans) {
      if (!/^[0-9a-f]{2}$/.test(fan)) continue;
      for (const rest of fs.readdirSync(path.join(dir, fan))) {
        const id = fan + rest;
        if (isObjectId(id)) yield id;
      }
    }
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

  /** remove deletes a stored object or cached file; absent is fine. */
  remove(which: 'objects' | 'cache', id: ObjectId): void {
    rmQuiet(which === 'objects' ? this.objectPath(id) : this.filePath(id));
  }

  /** sizeOf returns the stored size of an object or cached file, or 0 when absent. */
  sizeOf(which: 'objects' | 'cache', id: ObjectId): number {
    try {
      return fs.statSync(which === 'objects' ? this.objectPath(id) : this.filePath(id)).size;
    } catch {
      return 0;
    }
  }

  /**
   * clearTmp removes staging files and directories no running process owns:
   * those of dead processes on this host at once, others (another host, an
   * older lode) once older than `olderThanMs`. Returns how many it removed.
   */
  clearTmp(olderThanMs = 60 * 60 * 1000): number {
    return sweepTemps(this.tmpDir, olderThanMs);
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
