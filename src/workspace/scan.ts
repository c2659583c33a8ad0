/**
 * Scanning the workspace: list the files under the tracked dataset roots with
 * their stat, honouring `.lodeignore` files (gitignore syntax, at the
 * workspace root or in any directory). Synchronous fs on purpose: for tens of
 * thousands of small files it is several times faster than the promise API.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type { Ignore } from 'ignore';
import { comparePaths, joinPath, nameProblem, parentPath, reservedName } from '../core/paths.js';
import { errnoCode } from '../storage/atomic.js';
import { ParentChecker } from './parents.js';
import { TEMP_PREFIX } from './link.js';

export const IGNORE_FILE = '.lodeignore';

/**
 * WorkFile is a regular file found in the workspace. Times are the plain
 * (float ms) stat values: BigInt stats cost a third more per file, which is
 * most of a no-op `status`; statMatches compares them with the index's
 * nanosecond values to the microsecond.
 */
export interface WorkFile {
  path: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  exec: boolean;
}

/** Skipped is something the scan passed over and why (symlinks, sockets, bad names). */
export interface Skipped {
  path: string;
  reason: string;
}

export interface ScanResult {
  /** Files by repo path. */
  files: Map<string, WorkFile>;
  skipped: Skipped[];
  /** Roots that do not exist in the workspace. */
  missing: string[];
}

// The gitignore matcher is loaded only when a .lodeignore file exists.
type IgnoreFactory = (options?: { ignorecase?: boolean }) => Ignore;
let ignoreFactory: IgnoreFactory | undefined;
const loadIgnore = (): IgnoreFactory => (ignoreFactory ??= createRequire(import.meta.url)('ignore') as IgnoreFactory);

/** IgnoreRules answers whether a repo path is ignored, loading .lodeignore files lazily. */
export class IgnoreRules {
  private readonly perDir = new Map<string, Ignore | null>();

  constructor(private readonly root: string) {}

  private rulesOf(dir: string): Ignore | null {
    let ig = this.perDir.get(dir);
    if (ig !== undefined) return ig;
    ig = null;
    try {
      const text = fs.readFileSync(path.join(this.root, dir, IGNORE_FILE), 'utf8');
      ig = loadIgnore()().add(text);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT' && errnoCode(e) !== 'ENOTDIR') throw e;
    }
    this.perDir.set(dir, ig);
    return ig;
  }

  /**
   * ignores says whether `rel` (a repo path; `isDir` for directories) is
   * excluded by a .lodeignore in any directory above it. Parents must have
   * been checked by the caller (an ignored directory hides its contents).
   */
  ignores(rel: string, isDir: boolean): boolean {
    let dir = parentPath(rel);
    while (true) {
      const ig = this.rulesOf(dir);
      if (ig) {
        const sub = dir === '' ? rel : rel.slice(dir.length + 1);
        if (ig.ignores(isDir ? `${sub}/` : sub)) return true;
      }
      if (dir === '') return false;
      dir = parentPath(dir);
    }
  }

  /**
   * ruleFreeBelow says whether no .lodeignore at or above directory `dir`
   * (a repo path, '' for the root) has rules: nothing directly in it is
   * ignored, and `ignores` need not be asked for its entries.
   */
  ruleFreeBelow(dir: string): boolean {
    while (true) {
      if (this.rulesOf(dir)) return false;
      if (dir === '') return true;
      dir = parentPath(dir);
    }
  }

  /** ignoresWithParents checks `rel` and each directory above it. */
  ignoresWithParents(rel: string, isDir: boolean): boolean {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) if (this.ignores(parts.slice(0, i).join('/'), true)) return true;
    return this.ignores(rel, isDir);
  }
}

/**
 * scanRoots lists the files beneath each dataset root (a file or a directory,
 * repo-relative). Ignored paths, lode's own files and non-regular files are
 * left out; the latter are reported in `skipped`.
 */
export function scanRoots(root: string, roots: readonly string[], rules = new IgnoreRules(root)): ScanResult {
  const files = new Map<string, WorkFile>();
  const { skipped, missing } = walkRoots(root, roots, rules, (rel, st) => {
    files.set(rel, { path: rel, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, exec: (st.mode & 0o111) !== 0 });
  });
  return { files, skipped, missing };
}

/** workFile is the WorkFile of a stat. */
export function workFile(rel: string, st: FileStat): WorkFile {
  return { path: rel, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, exec: (st.mode & 0o111) !== 0 };
}

/** byName orders the names in one directory as comparePaths orders their paths (UTF-8 bytes). */
const byName = (a: string, b: string) => comparePaths(a, b);

/** Names with a UTF-16 surrogate, whose code-unit order is not their UTF-8 byte order (no u flag: a pair must match). */
const SURROGATE = /[\ud800-\udfff]/;

/**
 * sortNames sorts one directory's names by UTF-8 bytes. Names hold no '/',
 * so without surrogates that is the default (code unit) order, which the
 * engine sorts without calling back into JavaScript for each comparison.
 */
export function sortNames(names: string[]): string[] {
  return names.some((n) => SURROGATE.test(n)) ? names.sort(byName) : names.sort();
}

/**
 * FileStat is the part of an lstat a walk reports: fs.Stats has it, and so
 * does the compact stat a split walk's helper thread sends back.
 */
export interface FileStat {
  mode: number;
  size: number;
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/** Visit receives each regular file of a walk with its lstat (not kept past the call unless copied). */
export type Visit = (rel: string, st: FileStat) => void;

/**
 * WalkSplit lets a walk hand the tail of a root's top directory to another
 * thread (walk-split.ts). `start` gets the directory's sorted names and
 * returns from which name on the helper walks them, with `finish`, which
 * waits for the helper and replays its files, in order, through the visit
 * and its skipped entries into the list, and returns true; or false when the
 * helper never started (its names are then this thread's to walk). `abort`
 * stops the helper when this thread's part failed. `start` returns undefined
 * to walk all here.
 */
export interface WalkSplit {
  start(relDir: string, absDir: string, names: readonly string[]): { from: number; finish(visit: Visit, skipped: Skipped[]): boolean; abort(): void } | undefined;
}

/**
 * walkEntries is one directory's part of a walk: `names` (sorted, all in
 * `relDir`) in order, each file to `visit`, each subdirectory walked in
 * place. Lode's own names and unsafe or ignored names are passed over as
 * walkRoots does; what is not a regular file goes to `skipped`.
 */
export function walkEntries(relDir: string, absDir: string, names: readonly string[], rules: IgnoreRules, visit: Visit, skipped: Skipped[]): void {
  const ruleFree = rules.ruleFreeBelow(relDir);
  for (const name of names) {
    // lode's and git's own state, under any name a file system takes for
    // them, and a checkout's temporary file (see link.ts) are never data.
    if (name === IGNORE_FILE || name.startsWith(TEMP_PREFIX)) continue;
    const rel = joinPath(relDir, name);
    const problem = nameProblem(name);
    if (problem) {
      if (!reservedName(name)) skipped.push({ path: rel, reason: `unsafe name: ${problem}` });
      continue;
    }
    const abs = `${absDir}/${name}`;
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(abs, { throwIfNoEntry: false });
    } catch (e) {
      if (errnoCode(e) !== 'ENOTDIR') throw e;
    }
    if (!st) continue; // removed since the listing
    const isDir = st.isDirectory();
    if (!ruleFree && rules.ignores(rel, isDir)) continue;
    if (isDir) {
      const sub = listDir(abs);
      if (sub) walkEntries(rel, abs, sub, rules, visit, skipped);
    } else if (st.isFile()) visit(rel, st);
    else skipped.push({ path: rel, reason: st.isSymbolicLink() ? 'symbolic link' : 'not a regular file' });
  }
}

/**
 * listDir returns a directory's names sorted (undefined when it is gone).
 * Names only, then one lstat each: every file needs its stat anyway, and
 * that saves building a Dirent per entry (a fifth of a no-op status).
 */
function listDir(abs: string): string[] | undefined {
  try {
    return sortNames(fs.readdirSync(abs));
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * walkRoots calls `visit` for each regular file beneath each root (as
 * scanRoots lists them), without keeping anything per file. Within one root
 * the files come in comparePaths order (each directory's names sorted,
 * subdirectories walked in place), so a caller can merge them with the
 * sorted index. Roots are walked in the order given. With `split`, part of
 * a root's top directory may be walked by another thread (same results).
 */
export function walkRoots(root: string, roots: readonly string[], rules: IgnoreRules, visit: Visit, split?: WalkSplit): { skipped: Skipped[]; missing: string[] } {
  const skipped: Skipped[] = [];
  const missing: string[] = [];
  const addFile = (rel: string, abs: string, known?: fs.Stats): void => {
    const st = known ?? fs.lstatSync(abs);
    if (!st.isFile()) {
      skipped.push({ path: rel, reason: st.isSymbolicLink() ? 'symbolic link' : 'not a regular file' });
      return;
    }
    visit(rel, st);
  };
  const walk = (relDir: string, absDir: string): void => {
    const names = listDir(absDir);
    if (!names) return;
    const handoff = split?.start(relDir, absDir, names);
    if (!handoff) return walkEntries(relDir, absDir, names, rules, visit, skipped);
    try {
      walkEntries(relDir, absDir, names.slice(0, handoff.from), rules, visit, skipped);
    } catch (e) {
      handoff.abort();
      throw e;
    }
    if (!handoff.finish(visit, skipped)) walkEntries(relDir, absDir, names.slice(handoff.from), rules, visit, skipped);
  };
  const parents = new ParentChecker(root);
  for (const r of roots) {
    // A root below a symbolic link would be read from wherever the link points.
    const blocked = r === '' ? undefined : parents.blocker(r);
    if (blocked?.kind === 'link') {
      skipped.push({ path: r, reason: `inside symbolic link ${blocked.dir}` });
      continue;
    }
    const abs = r === '' ? root : path.join(root, r);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') {
        missing.push(r);
        continue;
      }
      throw e;
    }
    if (r !== '' && rules.ignoresWithParents(r, st.isDirectory())) {
      skipped.push({ path: r, reason: `ignored by ${IGNORE_FILE}` });
      continue;
    }
    if (st.isDirectory()) walk(r, abs);
    else addFile(r, abs, st);
  }
  return { skipped, missing };
}
