/**
 * Atomic local writes: every file lode owns is written to a temporary name in
 * the same directory tree and renamed into place, so a reader (or a crash)
 * sees the old file or the new one, never half of one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { ownerTag, tempOwner } from './owner.js';

let counter = 0;
let thread: number | undefined;
/** threadId of this thread; node:worker_threads loads on the first temp name, not with every command. */
const threadId = (): number => (thread ??= (createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads')).threadId);

/**
 * tempName returns a name unique to this process and thread within `dir`.
 * The name carries the owner (pid, start time, host: see owner.ts), so
 * `sweepTemps` can tell a file a crashed process left from one being written.
 */
export function tempName(dir: string, label = 'tmp'): string {
  counter = (counter + 1) % 0x7fffffff;
  return path.join(dir, `.${label}-${ownerTag()}-${threadId()}-${counter}-${Date.now().toString(36)}`);
}

/**
 * sweepTemps removes the temporary files and directories in `dir` that no
 * running process owns: those a process on this host made before it died,
 * and those without a readable owner (another host, an older lode) once
 * they are older than `graceMs`. Returns how many it removed. Never throws
 * for a file that vanished or cannot be removed: it is only a cleanup.
 */
export function sweepTemps(dir: string, graceMs = 60 * 60 * 1000): number {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  const now = Date.now();
  let removed = 0;
  for (const n of names) {
    const p = path.join(dir, n);
    try {
      const owner = tempOwner(n);
      if (owner === 'alive') continue;
      if (owner === 'unknown' && now - fs.lstatSync(p).mtimeMs <= graceMs) continue;
      fs.rmSync(p, { recursive: true, force: true });
      removed++;
    } catch {
      // Gone already or not ours to remove: leave it.
    }
  }
  return removed;
}

export interface AtomicWriteOptions {
  /** File mode of the result (default 0o644). */
  mode?: number;
  /** fsync the file (and its directory) before returning: use for refs, index and config. */
  durable?: boolean;
  /** Where to stage the temporary file (same file system as `file`); default: beside it. */
  tmpDir?: string;
}

/**
 * writeFileAtomic replaces `file` with `data` in one rename. On any error the
 * temporary file is removed and `file` is left as it was.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const tmp = tempName(options.tmpDir ?? path.dirname(file), path.basename(file));
  try {
    writeNewFile(tmp, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, options);
    fs.renameSync(tmp, file);
    if (options.durable) syncDir(path.dirname(file));
  } catch (e) {
    rmQuiet(tmp);
    throw e;
  }
}

/**
 * writeNewFile writes `data` to `file`, which must not exist yet (EEXIST
 * otherwise), fsynced before it is closed when `durable`. A failed write
 * leaves the partial file for the caller to remove.
 */
export function writeNewFile(file: string, data: Uint8Array, options: { mode?: number; durable?: boolean } = {}): void {
  const fd = fs.openSync(file, 'wx', options.mode ?? 0o644);
  try {
    let off = 0;
    while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
    if (options.durable) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** syncDir fsyncs a directory so a rename inside it survives a crash (best effort). */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** rmQuiet removes a file, ignoring its absence. */
export function rmQuiet(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** readFileOrUndefined returns a file's bytes, or undefined when it does not exist. */
export function readFileOrUndefined(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** errnoCode returns the `code` of a Node system error, if any. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}
