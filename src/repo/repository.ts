/**
 * Repository: an opened lode workspace. Finds `.lode/` at or above a
 * directory, loads and validates config, and composes the store, refs and
 * index for the commands. Mutating commands run inside `withLock`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LodeError, NotARepoError, NotFoundError, UnsupportedFormatError, UsageError } from '../core/errors.js';
import { LocalStore, createStoreDirs } from '../objects/store.js';
import { RefStore } from '../graph/refs.js';
import { readIndex, writeIndex, type IndexData, type IndexTrees, type ReadIndexOptions } from '../workspace/index-file.js';
import { TreePool, type SyncObjectReader } from '../graph/trees.js';
import { readFileOrUndefined, rmQuiet, writeFileAtomic } from '../storage/atomic.js';
import { isObjectId, sha256, type ObjectId } from '../core/id.js';
import { reservedName } from '../core/paths.js';
import { Config, type Settings } from './config.js';
import { acquireLock, breakLock, type UnlockResult } from './lock.js';

export const LODE_DIR = '.lode';
export const DEFAULT_BRANCH = 'main';
/**
 * LOCAL_FORMAT is the layout of `.lode/` this lode reads and writes, kept in
 * `.lode/format`. A workspace without the file is format 1. A lode that finds
 * a higher number stops with "upgrade lode" (exit 10) before it reads or
 * writes anything, so a later layout change cannot be misread as damage.
 * Format 2: the index is written in index version 2 (docs/formats.md); a
 * format 1 workspace is raised to 2 by its first index write.
 */
export const LOCAL_FORMAT = 2;

/** checkLocalFormat returns the layout version of a `.lode/` (1 without the file), refusing one newer than this lode knows. */
function checkLocalFormat(lodeDir: string): number {
  const text = readFileOrUndefined(path.join(lodeDir, 'format'))?.toString('utf8');
  if (text === undefined) return 1;
  const m = /^([1-9][0-9]{0,8})\n?$/.exec(text);
  if (!m) {
    throw new LodeError('CORRUPT', `${path.join(lodeDir, 'format')} does not hold a format number`, { hint: `write "${LOCAL_FORMAT}" into it if this workspace was made by this lode` });
  }
  const format = Number(m[1]);
  if (format > LOCAL_FORMAT) {
    throw new UnsupportedFormatError(`${lodeDir} is in local format ${format}, and this lode knows only format ${LOCAL_FORMAT}: it was written by a newer lode`);
  }
  return format;
}

/**
 * MergeState is a merge stopped by conflicts: what it merges, where HEAD was,
 * the commit whose tree was staged, and the conflicting paths not yet
 * resolved (`lode add` or `lode rm` of a path resolves it).
 */
export interface MergeState {
  theirs: ObjectId;
  head: ObjectId;
  staged: ObjectId;
  /** Unresolved conflicting paths. */
  conflicts: string[];
  /** Every conflicting path, resolved or not. */
  paths: string[];
  /** How the user named what is merged (for the commit message). */
  label: string;
}

/** A path with a '.' or '..' part, an empty part, or a leading or trailing '/': joined the long way. */
const UNNORMAL = /(^|\/)\.{1,2}(\/|$)|\/\/|^\/|\/$/;

export class Repository {
  readonly lodeDir: string;
  readonly store: LocalStore;
  readonly refs: RefStore;
  readonly config: Config;
  readonly settings: Settings;

  /** The layout version `.lode/format` holds (read when the repository is opened; raised by writeIndex). */
  private format: number;

  private constructor(readonly root: string) {
    this.lodeDir = path.join(root, LODE_DIR);
    this.format = checkLocalFormat(this.lodeDir);
    this.store = new LocalStore(this.lodeDir);
    this.refs = new RefStore(this.lodeDir);
    this.config = Config.load(this.lodeDir);
    this.settings = this.config.settings();
    this.lockWaitMs = (this.settings.lockWaitSeconds ?? 0) * 1000;
  }

  /** unlock removes the repository lock (see lock.ts `breakLock`): never a live local owner's unless `force`. */
  unlock(options: { force?: boolean } = {}): UnlockResult {
    return breakLock(this.lockFile, options);
  }

  get indexFile(): string {
    return path.join(this.lodeDir, 'index');
  }

  readIndex(options?: ReadIndexOptions): Promise<IndexData> {
    return readIndex(this.indexFile, options);
  }

  async writeIndex(data: IndexData): Promise<void> {
    // Before the index a lode of format 1 would call corrupt: such a lode then stops with "upgrade lode".
    if (this.format < LOCAL_FORMAT) {
      writeFileAtomic(path.join(this.lodeDir, 'format'), `${LOCAL_FORMAT}\n`, { durable: true });
      this.format = LOCAL_FORMAT;
    }
    return writeIndex(this.indexFile, data, this.store.tmpDir, this.indexTrees());
  }

  /**
   * indexTrees is where an index's trees are kept and read (see IndexTrees):
   * the store's staged trees, and objects/ for those a commit already holds.
   */
  indexTrees(): IndexTrees {
    const store = this.store;
    return {
      src: new TreePool(this.treeReader()),
      has: (id) => store.hasObject(id) || store.hasStaged(id),
      put: (bytes) => {
        const id = sha256(bytes);
        if (!store.hasObject(id)) store.putStaged(bytes, id);
      },
    };
  }

  /** treeReader reads tree objects from objects/, then from the staged trees (the index's). */
  treeReader(): SyncObjectReader {
    const store = this.store;
    return {
      getObject(id: ObjectId, what?: string): Buffer {
        try {
          return store.getObject(id, what);
        } catch (e) {
          if (e instanceof NotFoundError && store.hasStaged(id)) return store.getStaged(id, what);
          throw e;
        }
      },
    };
  }

  /** mergeState is the state of a conflicted `lode merge`, until it is committed or aborted. */
  mergeState(): MergeState | undefined {
    const text = readFileOrUndefined(path.join(this.lodeDir, 'MERGE'))?.toString('utf8');
    if (!text) return undefined;
    let v: Partial<MergeState>;
    try {
      v = JSON.parse(text) as Partial<MergeState>;
    } catch {
      throw new LodeError('CORRUPT', `${path.join(this.lodeDir, 'MERGE')} is not valid JSON`, { hint: 'run `lode merge --abort` after removing it, or restore it' });
    }
    if (!v.theirs || !isObjectId(v.theirs) || !v.head || !isObjectId(v.head) || !v.staged || !isObjectId(v.staged) || !Array.isArray(v.conflicts) || !Array.isArray(v.paths) || typeof v.label !== 'string') {
      throw new LodeError('CORRUPT', `${path.join(this.lodeDir, 'MERGE')} does not describe a merge`, { hint: 'remove it to forget the merge (your files stay as they are)' });
    }
    return v as MergeState;
  }

  /** mergeHead is the commit a conflicted `lode merge` is bringing in. */
  mergeHead(): ObjectId | undefined {
    return this.mergeState()?.theirs;
  }

  /** setMergeState records (or with undefined clears) a merge waiting for its commit. */
  setMergeState(state: MergeState | undefined): void {
    const file = path.join(this.lodeDir, 'MERGE');
    if (state) writeFileAtomic(file, `${JSON.stringify(state, null, 1)}\n`, { durable: true });
    else rmQuiet(file);
  }

  /**
   * How long a command waits for another lode process holding the lock, in
   * ms (Infinity: as long as it takes). Default: `core.lock-wait` seconds, else 0.
   */
  lockWaitMs: number;
  /**
   * Where one-line notices go (a stale lock taken over); the CLI prints them
   * on stderr. Commands never print.
   */
  notice: (line: string) => void = () => {};

  get lockFile(): string {
    return path.join(this.lodeDir, 'lock');
  }

  /**
   * withLock runs `fn` holding the repository lock (taking over a stale
   * one, waiting `lockWaitMs` for a live one). Staging files that crashed
   * processes left in .lode/tmp are swept first.
   */
  async withLock<T>(command: string, fn: () => Promise<T>, options: { waitMs?: number } = {}): Promise<T> {
    const lock = await acquireLock(this.lockFile, command, { waitMs: options.waitMs ?? this.lockWaitMs, notice: (l) => this.notice(l) });
    try {
      this.store.clearTmp();
      return await fn();
    } finally {
      lock.release();
    }
  }

  /**
   * toRepoPath turns a user path (absolute, or relative to `cwd`) into a
   * repo-relative '/'-separated path ('' for the root). UsageError when it
   * lies outside the workspace or inside .lode or .git (any alias of them).
   */
  toRepoPath(userPath: string, cwd = process.cwd()): string {
    const abs = path.resolve(cwd, userPath);
    const rel = path.relative(this.root, abs);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new UsageError(`${userPath} is outside the lode workspace ${this.root}`, { hint: 'give paths inside the workspace' });
    }
    const posix = rel.split(path.sep).join('/');
    if (posix === LODE_DIR || posix.startsWith(`${LODE_DIR}/`)) {
      throw new UsageError(`${userPath} is inside lode's own ${LODE_DIR} directory`, { hint: 'give paths of your data' });
    }
    // Any spelling a file system takes for .git or .lode (`.GIT`, `git~1`, ...) is metadata, never data.
    for (const part of posix === '' ? [] : posix.split('/')) {
      const reserved = reservedName(part);
      if (reserved) {
        const alias = part === reserved ? reserved : `${JSON.stringify(part)}, which some file systems take for ${reserved}`;
        throw new UsageError(`${userPath} is inside ${reserved === '.git' ? "git's" : "lode's"} own metadata (${alias})`, {
          hint: 'lode never tracks .git or .lode directories: give paths of your data',
        });
      }
    }
    return posix;
  }

  /** abs turns a repo path into an absolute path. */
  abs(repoPath: string): string {
    if (repoPath === '') return this.root;
    // A repo path is already normal (no '.', '..' or empty parts): on POSIX a
    // concatenation is the join, without normalising it again per file.
    if (path.sep === '/' && !UNNORMAL.test(repoPath)) return this.root.endsWith('/') ? this.root + repoPath : `${this.root}/${repoPath}`;
    return path.join(this.root, ...repoPath.split('/'));
  }

  /** open finds the workspace at or above `from`. NotARepoError when there is none. */
  static open(from = process.cwd()): Repository {
    let cur = path.resolve(from);
    while (true) {
      if (fs.existsSync(path.join(cur, LODE_DIR, 'HEAD'))) return new Repository(cur);
      const up = path.dirname(cur);
      if (up === cur) throw new NotARepoError(from);
      cur = up;
    }
  }

  /**
   * init creates `.lode/` in `dir` (which must not already have one) and
   * returns the opened repository.
   */
  static init(dir: string, options: { branch?: string } = {}): Repository {
    const root = path.resolve(dir);
    const lodeDir = path.join(root, LODE_DIR);
    if (fs.existsSync(path.join(lodeDir, 'HEAD'))) {
      throw new LodeError('ALREADY_EXISTS', `${root} is already a lode workspace`, { hint: 'use it as it is; `lode status` shows its state' });
    }
    fs.mkdirSync(root, { recursive: true });
    fs.mkdirSync(path.join(lodeDir, 'refs', 'heads'), { recursive: true });
    fs.mkdirSync(path.join(lodeDir, 'refs', 'tags'), { recursive: true });
    createStoreDirs(lodeDir);
    // Only the shared config is meant for git; caches, refs and credentials stay local.
    writeFileAtomic(path.join(lodeDir, '.gitignore'), '/*\n!/config\n!/.gitignore\n');
    if (!fs.existsSync(path.join(lodeDir, 'config'))) writeFileAtomic(path.join(lodeDir, 'config'), '# lode configuration: see `lode config --help`\n');
    writeFileAtomic(path.join(lodeDir, 'format'), `${LOCAL_FORMAT}\n`);
    // HEAD last: its presence is what makes this a repository.
    writeFileAtomic(path.join(lodeDir, 'HEAD'), `ref: refs/heads/${options.branch ?? DEFAULT_BRANCH}\n`, { durable: true });
    return new Repository(root);
  }
}
