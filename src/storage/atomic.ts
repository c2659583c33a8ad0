/**
 * Atomic local writes: every file lode owns is written to a temporary name in
 * the same directory tree and renamed into place, so a reader (or a crash)
 * sees the old file or the new one, never half of one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';

let counter = 0;

/** tempName returns a name unique to this process and thread within `dir`. */
export function tempName(dir: string, label = 'tmp'): string {
  counter = (counter + 1) % 0x7fffffff;
  return path.join(dir, `.${label}-${process.pid}-${threadId}-${counter}-${Date.now().toString(36)}`);
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
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', options.mode ?? 0o644);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    if (options.durable) fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
    if (options.durable) syncDir(path.dirname(file));
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    rmQuiet(tmp);
    throw e;
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
