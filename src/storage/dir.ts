/**
 * DirBackend stores blobs as files under a directory: the embedded default
 * remote (`lode remote add backup /mnt/share/lode`). Writes are temp file +
 * rename in the same directory tree; conditional writes hold a per-key lock
 * file (O_EXCL) around read-compare-rename, so two processes on one machine
 * or one POSIX share cannot both win. Etags of small blobs (refs, config:
 * up to 64 KiB) are the SHA-256 of the content; a larger blob (a pack) gets a
 * weak etag from its size and time, never hashed: no conditional write is
 * made against one, and one would be refused (RefConflictError).
 *
 * Durability: what a ref names survives a power loss before the ref does.
 * Blobs are written without waiting for the disk, and remembered; before a
 * conditional write (a ref update) or a removal, every blob written since is
 * fsynced, then the directories they were renamed into, and a conditional
 * write is itself fsynced before its rename and its directory after. So the
 * kernel writes packs back while the push goes on, and a push waits for the
 * disk once, before its ref.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { NotFoundError, RefConflictError, RemoteError } from '../core/errors.js';
import { checkRange, validateKey, validatePrefix, type Backend, type BlobInfo, type Range, type RemoveOptions, type SaveOptions } from './backend.js';
import { errnoCode, rmQuiet, sweepTemps, syncDir, tempName, writeNewFile } from './atomic.js';
import { lockOwner, ownerTag } from './owner.js';

const TMP_DIR = '.tmp';
/**
 * errno codes worth retrying: a busy or briefly unreachable file system (NFS
 * and SMB shares time out, go stale and recover). ENOSPC, EACCES, EROFS... do not heal by waiting.
 */
const RETRYABLE_CODES = new Set(['EAGAIN', 'EBUSY', 'EIO', 'EINTR', 'ETIMEDOUT', 'ESTALE', 'ECONNRESET', 'ENOTCONN', 'EHOSTDOWN']);
const LOCK_SUFFIX = '.lock';
/** Files fsynced at once by a flush. */
const FLUSH_LANES = 8;
/** Blobs from this size (packs) are fsynced as soon as they are in place, not at the flush. */
const EARLY_SYNC_BYTES = 1 << 20;

/** FlushError: blobs written earlier could not be made durable; nothing that names them is written. */
class FlushError extends RemoteError {}

/** A key lock older than this is considered abandoned by a crashed writer. */
const STALE_LOCK_MS = 30_000;
/** stat computes the etag (content SHA-256) of blobs up to this size. */
const SMALL_ETAG_BYTES = 64 * 1024;

export class DirBackend implements Backend {
  readonly location: string;
  readonly maxConnections = 8;
  readonly conditionalWrites = true;
  private swept = false;
  /** Blobs renamed into place since the last flush, not yet fsynced. */
  private readonly unsynced = new Set<string>();
  /** fsyncs of large blobs, started as soon as each was in place (settled with the error, if any). */
  private readonly syncing = new Map<string, Promise<unknown>>();
  /** Directories whose entries changed since the last flush (renames into them, directories made in them). */
  private readonly unsyncedDirs = new Set<string>();

  constructor(readonly root: string) {
    this.location = `dir ${root}`;
  }

  private file(key: string): string {
    validateKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  private fail(what: string, key: string, e: unknown): RemoteError {
    const code = errnoCode(e);
    return new RemoteError(`${what} ${key} in ${this.location} failed: ${(e as Error).message}`, RETRYABLE_CODES.has(code ?? ''), {
      cause: e,
      hint: code === 'ENOSPC' ? 'the remote disk is full' : code === 'EACCES' || code === 'EPERM' ? 'check the permissions of the remote directory' : 'check that the remote directory is mounted and writable',
    });
  }

  async save(key: string, data: Uint8Array, options: SaveOptions = {}): Promise<{ etag: string }> {
    const dest = this.file(key);
    const conditional = options.ifNoneMatch || options.ifMatch !== undefined;
    const small = data.length <= SMALL_ETAG_BYTES;
    try {
      this.makeDir(path.dirname(dest));
      const tmpDir = path.join(this.root, TMP_DIR);
      fs.mkdirSync(tmpDir, { recursive: true });
      // Partial blobs of killed writers: those of dead processes on this host
      // at once, anyone else's after an hour (see atomic.ts sweepTemps).
      if (!this.swept) {
        this.swept = true;
        sweepTemps(tmpDir);
      }
      const tmp = tempName(tmpDir, 'blob');
      try {
        // A ref is on the disk before its rename.
        if (conditional) writeNewFile(tmp, data, { durable: true });
        else if (small) fs.writeFileSync(tmp, data, { flag: 'wx' });
        // Large blobs are written off the main thread, so a push fills the next pack meanwhile.
        else await writeWhole(tmp, data);
        const etag = small || conditional ? sha256(data) : `w/${data.length}-${Date.now()}`;
        if (!conditional) {
          fs.renameSync(tmp, dest);
          this.written(dest, data.length);
          return { etag };
        }
        // What this ref may name is on the disk before the ref is.
        await this.flush();
        await this.withKeyLock(dest, key, () => {
          const cur = readOrUndefined(dest);
          if (options.ifNoneMatch && cur) throw new RefConflictError(`${key} already exists in ${this.location}`);
          if (options.ifMatch !== undefined && (cur === undefined || sha256(cur) !== options.ifMatch)) {
            throw new RefConflictError(`${key} changed in ${this.location}`);
          }
          fs.renameSync(tmp, dest);
        });
        syncDir(path.dirname(dest));
        return { etag };
      } finally {
        rmQuiet(tmp);
      }
    } catch (e) {
      if (e instanceof RefConflictError || e instanceof FlushError) throw e;
      throw this.fail('writing', key, e);
    }
  }

  stage(): string {
    const tmpDir = path.join(this.root, TMP_DIR);
    try {
      fs.mkdirSync(tmpDir, { recursive: true });
    } catch (e) {
      throw this.fail('writing', TMP_DIR, e);
    }
    if (!this.swept) {
      this.swept = true;
      sweepTemps(tmpDir);
    }
    return tempName(tmpDir, 'blob');
  }

  async adopt(tmp: string, key: string): Promise<void> {
    const dest = this.file(key);
    try {
      this.makeDir(path.dirname(dest));
      fs.renameSync(tmp, dest);
      // Staged blobs are packs: large.
      this.written(dest, EARLY_SYNC_BYTES);
    } catch (e) {
      rmQuiet(tmp);
      throw this.fail('writing', key, e);
    }
  }

  /** makeDir makes `dir` and its missing parents, remembering whose entries changed. */
  private makeDir(dir: string): void {
    const first = fs.mkdirSync(dir, { recursive: true });
    if (first === undefined) return;
    for (let d = dir; ; d = path.dirname(d)) {
      this.unsyncedDirs.add(path.dirname(d));
      if (d === first || d === path.dirname(d)) break;
    }
  }

  /**
   * written remembers a blob just renamed to `dest` for the next flush. A
   * large one is fsynced at once, in the background: its write-back then
   * overlaps the rest of the push instead of all of it waiting at the ref.
   */
  private written(dest: string, size: number): void {
    this.unsyncedDirs.add(path.dirname(dest));
    if (size < EARLY_SYNC_BYTES) this.unsynced.add(dest);
    else if (!this.syncing.has(dest)) this.syncing.set(dest, fsyncFile(dest).then(() => undefined, (e: unknown) => e ?? new Error('fsync failed')));
  }

  /**
   * flush makes every blob written since the last flush durable: each file
   * fsynced (in libuv's thread pool, several at once), then the directories
   * they were renamed into. A file that failed to reach the disk fails the
   * flush, and so the ref update that waits for it; one removed meanwhile
   * (gc) is passed over.
   */
  private async flush(): Promise<void> {
    if (this.unsynced.size === 0 && this.unsyncedDirs.size === 0 && this.syncing.size === 0) return;
    const early = [...this.syncing];
    const files = [...this.unsynced];
    const dirs = [...this.unsyncedDirs];
    this.syncing.clear();
    this.unsynced.clear();
    this.unsyncedDirs.clear();
    try {
      for (const [, started] of early) {
        const e = await started;
        if (e !== undefined) throw e;
      }
      // A few at a time: each holds a descriptor until the disk has its data.
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < files.length) await fsyncFile(files[next++]);
      };
      await Promise.all(Array.from({ length: Math.min(FLUSH_LANES, files.length) }, lane));
    } catch (e) {
      // Not known to be on the disk: no ref may name them. Not retried here:
      // after a failed fsync Linux may report the next one clean without the data.
      for (const f of [...files, ...early.map(([f]) => f)]) this.unsynced.add(f);
      for (const d of dirs) this.unsyncedDirs.add(d);
      throw new FlushError(`writing to the disk of ${this.location} failed: ${(e as Error).message}`, false, {
        cause: e,
        hint: errnoCode(e) === 'ENOSPC' ? 'the remote disk is full' : 'check the remote disk, then `lode fsck --remote` and push again',
      });
    }
    for (const d of dirs.sort((a, b) => b.length - a.length)) syncDir(d);
  }

  /**
   * withKeyLock runs `fn` holding `<file>.lock`, waiting briefly for another
   * holder. The lock file names its owner (`ownerTag`), so a lock left by a
   * lode process on this host that died (kill -9 mid-push) is broken at once;
   * one of another host is broken when it is older than STALE_LOCK_MS.
   */
  private async withKeyLock(file: string, key: string, fn: () => void): Promise<void> {
    const lock = file + LOCK_SUFFIX;
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = fs.openSync(lock, 'wx');
        try {
          fs.writeSync(fd, ownerTag());
        } finally {
          fs.closeSync(fd);
        }
        break;
      } catch (e) {
        if (errnoCode(e) !== 'EEXIST') throw e;
        const text = readText(lock);
        const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
        if (text !== undefined && (lockOwner(text) === 'dead' || age > STALE_LOCK_MS)) breakLock(lock, text, path.join(this.root, TMP_DIR));
        else if (attempt > 200) throw new RemoteError(`${key} in ${this.location} stays locked by another writer`, true, { hint: `if no lode process is writing there, delete ${lock}` });
        else await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
      }
    }
    try {
      fn();
    } finally {
      rmQuiet(lock);
    }
  }

  async load(key: string, range?: Range, into?: Buffer): Promise<Buffer> {
    const file = this.file(key);
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') throw new NotFoundError(`${key} is not in ${this.location}`);
      throw this.fail('reading', key, e);
    }
    try {
      const size = fs.fstatSync(fd).size;
      const r = range ?? { offset: 0, length: size };
      checkRange(r, size, key);
      // A lent buffer is filled in place (see Backend.load).
      const buf = into && into.length >= r.length ? into.subarray(0, r.length) : Buffer.allocUnsafe(r.length);
      // Large reads go to the thread pool, so a fetch checks one range while the next is read.
      const async = r.length >= ASYNC_READ_BYTES;
      let done = 0;
      while (done < r.length) {
        const n = async ? await readAt(fd, buf, done, r.length - done, r.offset + done) : fs.readSync(fd, buf, done, r.length - done, r.offset + done);
        if (n === 0) throw new RemoteError(`${key} in ${this.location} was truncated while being read`, true);
        done += n;
      }
      return buf;
    } catch (e) {
      if (e instanceof RangeError || e instanceof RemoteError) throw e;
      throw this.fail('reading', key, e);
    } finally {
      fs.closeSync(fd);
    }
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    const file = this.file(key);
    try {
      const st = fs.statSync(file, { throwIfNoEntry: false });
      if (!st?.isFile()) return undefined;
      // Small blobs (refs) carry their etag so they can be updated conditionally.
      if (st.size <= SMALL_ETAG_BYTES) {
        const data = readOrUndefined(file);
        if (data) return { key, size: data.length, etag: sha256(data) };
      }
      return { key, size: st.size };
    } catch (e) {
      if (errnoCode(e) === 'ENOTDIR') return undefined;
      throw this.fail('looking up', key, e);
    }
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    validatePrefix(prefix);
    // Walk only the directory the prefix names (or its parent when it ends mid-name).
    const cut = prefix.lastIndexOf('/');
    const base = cut < 0 ? '' : prefix.slice(0, cut);
    const stack = [base];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      let ents: fs.Dirent[];
      try {
        ents = fs.readdirSync(path.join(this.root, ...dir.split('/').filter(Boolean)), { withFileTypes: true });
      } catch (e) {
        if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') continue;
        throw this.fail('listing', prefix || '/', e);
      }
      for (const d of ents) {
        if (dir === '' && d.name === TMP_DIR) continue;
        const key = dir === '' ? d.name : `${dir}/${d.name}`;
        if (d.isDirectory()) {
          if (prefix.startsWith(`${key}/`) || key.startsWith(prefix) || `${key}/`.startsWith(prefix)) stack.push(key);
        } else if (d.isFile() && !d.name.endsWith(LOCK_SUFFIX) && key.startsWith(prefix)) {
          const st = fs.statSync(path.join(this.root, ...key.split('/')), { throwIfNoEntry: false });
          if (st) yield { key, size: st.size };
        }
      }
    }
  }

  async remove(key: string, options: RemoveOptions = {}): Promise<void> {
    const file = this.file(key);
    try {
      // What replaces a removed blob (gc, erasure) is on the disk before it goes.
      await this.flush();
      if (options.ifMatch === undefined) {
        rmQuiet(file);
        return;
      }
      // Under the key's lock, like a conditional save: no writer slips in between the compare and the unlink.
      await this.withKeyLock(file, key, () => {
        const cur = readOrUndefined(file);
        if (cur === undefined || sha256(cur) !== options.ifMatch) throw new RefConflictError(`${key} changed in ${this.location}`);
        rmQuiet(file);
      });
    } catch (e) {
      if (e instanceof RefConflictError || e instanceof FlushError) throw e;
      if (errnoCode(e) === 'ENOTDIR') {
        if (options.ifMatch !== undefined) throw new RefConflictError(`${key} changed in ${this.location}`);
        return;
      }
      throw this.fail('removing', key, e);
    }
  }
}

/** Reads at least this large run in the thread pool. */
const ASYNC_READ_BYTES = 1 << 20;

function readAt(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, offset, length, position, (e, n) => (e ? reject(e) : resolve(n))));
}

/**
 * writeWhole writes `data` to a new file in as few write calls as the kernel
 * takes (one, for a pack), each in libuv's thread pool. fs.promises.writeFile
 * cuts a buffer into 512 KiB writes, each of which waits for a turn of the
 * event loop: a busy main thread (a push filling its next pack) stalled the
 * pack being written.
 */
async function writeWhole(file: string, data: Uint8Array): Promise<void> {
  const fh = await fs.promises.open(file, 'wx');
  try {
    let done = 0;
    while (done < data.length) done += (await fh.write(data, done, data.length - done, done)).bytesWritten;
  } finally {
    await fh.close();
  }
}

/** fsyncFile waits until `file`'s data is on the disk; a file gone meanwhile is not an error. */
async function fsyncFile(file: string): Promise<void> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    throw e;
  }
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function readOrUndefined(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * breakLock removes a lock whose text was `seen` (a dead or stale owner's).
 * It moves the file aside first and looks again, so a waiter that comes late
 * never deletes the fresh lock another waiter took meanwhile: a moved file
 * that is not the one seen is put back.
 */
function breakLock(lock: string, seen: string, tmpDir: string): void {
  const aside = tempName(tmpDir, 'stale-lock');
  try {
    fs.renameSync(lock, aside);
  } catch {
    return; // gone already: someone else broke it
  }
  if (readText(aside) !== seen) {
    try {
      fs.linkSync(aside, lock);
    } catch {
      // A newer lock is there already; the next attempt waits for it.
    }
  }
  rmQuiet(aside);
}
