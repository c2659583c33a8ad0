/**
 * Placing cached files into the workspace. Each file is made under a
 * temporary name and renamed over its destination, so a reader never sees
 * half a file. The temporary file lives in .lode/tmp (named for its owning
 * process, so the next locked command sweeps what a killed checkout left);
 * only when the destination is on another file system than .lode (a mount
 * inside the workspace) is it made beside the destination, under a
 * `.lode-checkout-` name that scans always skip. Methods, tried in the
 * configured order:
 *
 *   reflink   copy-on-write clone (XFS, btrfs, APFS): instant, no extra space
 *   hardlink  the cache file itself, read-only (opt-in: editing it in place
 *             would be refused by its 0444 mode rather than corrupt the cache)
 *   copy      bytes copied and verified against the file's ID on the way (a
 *             file this command fetched, and checked as it arrived, is
 *             copied by the kernel without a second hash)
 *
 * A small file kept in a local pack (see objects/local-packs.ts) has no
 * cache file to link: its verified bytes are written ('copy'). Where nothing
 * stands at the destination and the caller allows it (a fresh clone, which
 * resumes with --force), such a file is created in place: one file created
 * instead of a temporary one renamed.
 * A split file (an older version kept as chunks, objects/split.ts) is always
 * a verified copy assembled from its chunks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CorruptObjectError, MissingContentError, NOT_FETCHED_HINT } from '../core/errors.js';
import { errnoCode, rmQuiet, tempName } from '../storage/atomic.js';
import type { FileRef, LocalStore } from '../objects/store.js';
import type { ObjectId } from '../core/id.js';
import type { MadeStat } from './small-writer.js';

export type LinkType = 'reflink' | 'hardlink' | 'copy';
export const LINK_TYPES: readonly LinkType[] = ['reflink', 'hardlink', 'copy'];

/** TEMP_PREFIX starts the name of a checkout's temporary file made beside its destination; scans skip such names. */
export const TEMP_PREFIX = '.lode-checkout-';

/** Errors meaning "this method does not work here": try the next one. */
const UNSUPPORTED = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOSYS', 'EPERM', 'EMLINK', 'ENOTTY']);

/** Prepared is a file made under a temporary name, waiting to be renamed into place. */
export interface Prepared {
  tmp: string;
  dest: string;
  method: LinkType;
  /** Made in place (`prepare` with `inPlace`): `tmp` is `dest`, and `stat` its stat as written. */
  inPlace?: boolean;
  stat?: MadeStat;
}

/** Linker materialises cached files, remembering which methods failed here. */
export class Linker {
  private readonly disabled = new Set<LinkType>();
  private readonly buf = Buffer.allocUnsafe(4 << 20);
  /** Directories known to exist (saves a mkdir per file), and where files bound for each are staged. */
  private readonly dirs = new Map<string, string>();
  private tmpDev: number | undefined;
  /** Top-most directories this linker created, in creation order. */
  private readonly created: string[] = [];
  /** How many files each method placed. */
  readonly counts: Record<LinkType, number> = { reflink: 0, hardlink: 0, copy: 0 };
  /**
   * Workspace copies a fetch in this command already wrote (file ID -> a
   * temporary file in .lode/tmp, from the same verified bytes as the cache
   * copy: sync/fetch.ts `twins`): a copy of such a file is that file,
   * renamed. Each is used once and taken out of the map.
   */
  premade: Map<ObjectId, string> | undefined;

  /**
   * `onCopied`, when given, hears the bytes of a copy as they are written
   * (every 4 MiB buffer), so that a checkout of one big file reports more
   * than its start and end. Reflinks and hardlinks are instant and report nothing.
   */
  constructor(
    private readonly store: LocalStore,
    private readonly order: readonly LinkType[],
    private readonly onCopied?: (bytes: number) => void,
  ) {}

  /**
   * prepare makes file `ref` under a temporary name beside `dest` (creating
   * parent directories) with the first method that works, and returns that
   * name; `finish` renames it into place, `abandon` removes it. Splitting the
   * two lets a checkout verify every file before it changes the workspace.
   * NotFoundError when the cache lacks the file, CorruptObjectError when a
   * copy fails verification.
   */
  prepare(ref: FileRef, dest: string, exec: boolean, inPlace = false): Prepared {
    const src = this.store.filePath(ref.id);
    // A small file in a local pack: its verified bytes, read into the copy
    // buffer (written out below, before the buffer is used again).
    const packed = ref.kind === 'blob' ? this.store.readPackedFile(ref.id, this.buf) : undefined;
    // A split file (an older version kept as chunks) has no whole copy to
    // clone or link: it is assembled from its verified chunks.
    const whole = !packed && this.store.hasWhole(ref.id);
    const split = !packed && !whole && ref.kind === 'chunked' && this.store.isSplit(ref.id);
    if (!packed && !whole && !split && !this.store.hasFile(ref.id)) throw missingContent(ref, dest);
    const stage = this.ensureDir(path.dirname(dest));
    if (packed) {
      if (packed.length !== ref.size) throw corrupt(ref, this.store.describeFile(ref.id), `size is ${packed.length}, expected ${ref.size}`);
      if (inPlace) {
        // Created where it belongs, never over anything ('wx'): one file made, no rename.
        const stat = writeNew(dest, packed, exec ? 0o755 : 0o644, true);
        return { tmp: dest, dest, method: 'copy', inPlace, stat };
      }
      const tmp = tempName(stage, TEMP_PREFIX.slice(1, -1));
      try {
        writeNew(tmp, packed, exec ? 0o755 : 0o644, false);
      } catch (e) {
        rmQuiet(tmp);
        throw e;
      }
      return { tmp, dest, method: 'copy' };
    }
    const methods = split ? [] : this.order.filter((m) => !this.disabled.has(m));
    if (methods.length === 0 || methods[methods.length - 1] !== 'copy') methods.push('copy');
    for (const m of methods) {
      // A hardlink shares the cache file's read-only, non-executable mode.
      if (m === 'hardlink' && exec) continue;
      const tmp = tempName(stage, TEMP_PREFIX.slice(1, -1));
      try {
        if (m === 'reflink') {
          fs.copyFileSync(src, tmp, fs.constants.COPYFILE_FICLONE_FORCE);
          fs.chmodSync(tmp, exec ? 0o755 : 0o644);
        } else if (m === 'hardlink') {
          fs.linkSync(src, tmp);
        } else if (this.store.installedVerified(ref.id)) {
          // Fetched and checked by this very command a moment ago (a clone or a
          // pull): its copy written during the fetch, or copied in the kernel
          // (copy_file_range), not hashed again.
          if (!this.adoptPremade(ref, tmp, exec)) this.kernelCopy(ref, src, tmp, exec);
        } else {
          this.verifiedCopy(ref, src, tmp, exec);
        }
        return { tmp, dest, method: m };
      } catch (e) {
        rmQuiet(tmp);
        if (errnoCode(e) === 'ENOENT' && !split && !fs.existsSync(src)) throw missingContent(ref, dest);
        if (m !== 'copy' && UNSUPPORTED.has(errnoCode(e) ?? '')) {
          this.disabled.add(m);
          continue;
        }
        throw e;
      }
    }
    throw new Error('unreachable: copy always applies');
  }

  /**
   * ensureDir makes directory `dir` (and its parents) unless this linker
   * already did, remembering the top-most one it created (see
   * removeCreatedDirs), and returns where files bound for `dir` are staged.
   */
  ensureDir(dir: string): string {
    let stage = this.dirs.get(dir);
    if (stage === undefined) {
      const first = fs.mkdirSync(dir, { recursive: true });
      if (first) this.created.push(first);
      // Stage in .lode/tmp when a rename from there can reach `dir`.
      this.tmpDev ??= fs.statSync(this.store.tmpDir).dev;
      stage = fs.statSync(dir).dev === this.tmpDev ? this.store.tmpDir : dir;
      this.dirs.set(dir, stage);
    }
    return stage;
  }

  /** finish renames a prepared file over its destination. */
  finish(p: Prepared): void {
    if (!p.inPlace) fs.renameSync(p.tmp, p.dest);
    this.counts[p.method]++;
  }

  /** abandon removes a prepared file that will not be used. */
  abandon(p: Prepared): void {
    rmQuiet(p.tmp);
  }

  /** removeCreatedDirs removes the directories prepare made, where still empty (after an abort). */
  removeCreatedDirs(): void {
    // Only empty directories go: never anything that holds a file.
    const prune = (dir: string): void => {
      let names: string[];
      try {
        names = fs.readdirSync(dir);
      } catch {
        return;
      }
      for (const n of names) prune(path.join(dir, n));
      try {
        fs.rmdirSync(dir);
      } catch {
        // not empty, or not a directory: leave it
      }
    };
    for (const top of this.created.reverse()) prune(top);
    this.created.length = 0;
  }

  /** place prepares and finishes in one step. */
  place(ref: FileRef, dest: string, exec: boolean): LinkType {
    const p = this.prepare(ref, dest, exec);
    this.finish(p);
    return p.method;
  }

  /** adoptPremade renames the premade copy of `ref` to `tmp`; false when there is none or it cannot move there (another file system). */
  private adoptPremade(ref: FileRef, tmp: string, exec: boolean): boolean {
    const made = this.premade?.get(ref.id);
    if (made === undefined) return false;
    this.premade!.delete(ref.id);
    try {
      fs.renameSync(made, tmp);
    } catch (e) {
      rmQuiet(made);
      if (errnoCode(e) === 'EXDEV') return false;
      throw e;
    }
    if (exec) fs.chmodSync(tmp, 0o755);
    const size = fs.statSync(tmp).size;
    if (size !== ref.size) throw corrupt(ref, made, `size is ${size}, expected ${ref.size}`);
    this.onCopied?.(size);
    return true;
  }

  private kernelCopy(ref: FileRef, src: string, tmp: string, exec: boolean): void {
    fs.copyFileSync(src, tmp, fs.constants.COPYFILE_EXCL);
    fs.chmodSync(tmp, exec ? 0o755 : 0o644);
    const size = fs.statSync(tmp).size;
    if (size !== ref.size) throw corrupt(ref, src, `size is ${size}, expected ${ref.size}`);
    // One kernel call: its bytes are heard at once, when done.
    this.onCopied?.(size);
  }

  private verifiedCopy(ref: FileRef, src: string, tmp: string, exec: boolean): void {
    // Every piece is checked against its ID before it is written.
    const pieces = this.store.pieces(ref, ref.id);
    if (pieces.length > 0 && pieces[0].source === src) {
      const size = fs.statSync(src).size;
      if (size !== ref.size) throw corrupt(ref, src, `size is ${size}, expected ${ref.size}`);
    }
    const fdOut = fs.openSync(tmp, 'wx', exec ? 0o755 : 0o644);
    try {
      for (const p of pieces) {
        let data: Buffer;
        try {
          data = this.store.readPiece(p, this.buf);
        } catch (e) {
          if (e instanceof CorruptObjectError) throw corrupt(ref, p.source, `bytes at offset ${p.offset} do not match their ID`);
          throw e;
        }
        let w = 0;
        while (w < data.length) w += fs.writeSync(fdOut, data, w, data.length - w);
        this.onCopied?.(data.length);
      }
    } finally {
      fs.closeSync(fdOut);
    }
  }
}

/**
 * writeNew creates `file` (which must not exist) holding `data`, and returns
 * its stat when asked. A failed write removes the file it created.
 */
function writeNew(file: string, data: Buffer, mode: number, stat: true): fs.BigIntStats;
function writeNew(file: string, data: Buffer, mode: number, stat: false): undefined;
function writeNew(file: string, data: Buffer, mode: number, stat: boolean): fs.BigIntStats | undefined {
  const fd = fs.openSync(file, 'wx', mode);
  let ok = false;
  try {
    let w = 0;
    while (w < data.length) w += fs.writeSync(fd, data, w, data.length - w);
    const st = stat ? fs.fstatSync(fd, { bigint: true }) : undefined;
    ok = true;
    return st;
  } finally {
    fs.closeSync(fd);
    if (!ok) rmQuiet(file);
  }
}

function missingContent(ref: FileRef, dest: string): MissingContentError {
  return new MissingContentError(`the cache has no content for ${ref.id.slice(0, 12)} (needed for ${dest}): not fetched yet`, { hint: NOT_FETCHED_HINT });
}

function corrupt(ref: FileRef, src: string, why: string): CorruptObjectError {
  return new CorruptObjectError(`cached file ${ref.id} is corrupt: ${why} (${src})`, { objectId: ref.id, path: src });
}

/**
 * copiesInto says whether a checkout into `dir` with methods `order` copies
 * file bytes (no reflink between `dir` and the cache, no hardlink asked
 * for): then a fetch may write the workspace copies as it goes (sync/fetch.ts `twins`).
 */
export function copiesInto(store: LocalStore, order: readonly LinkType[], dir: string): boolean {
  for (const m of order) {
    if (m === 'copy') return true;
    if (m === 'hardlink') return false;
    if (m === 'reflink' && reflinkWorks(store.tmpDir, dir)) return false;
  }
  return true;
}

/** reflinkWorks says whether copy-on-write clones work between `dir` and the cache. */
export function reflinkWorks(fromDir: string, toDir: string): boolean {
  const a = tempName(fromDir, 'reflink-probe');
  const b = tempName(toDir, 'reflink-probe');
  try {
    fs.writeFileSync(a, 'x');
    fs.copyFileSync(a, b, fs.constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch {
    return false;
  } finally {
    rmQuiet(a);
    rmQuiet(b);
  }
}
