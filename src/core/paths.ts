/**
 * Workspace paths as lode stores them: relative, '/'-separated, no '.' or '..'
 * components, each component a valid entry name. Everything read from a tree
 * (local or remote) passes through validateName before it touches a disk.
 */
import { InvalidNameError } from './errors.js';

const MAX_NAME_BYTES = 255;

/**
 * Characters HFS+ ignores when it compares names (zero-width joiners,
 * direction marks, deprecated format characters, the BOM): `.g\u200cit` is
 * `.git` on a Mac. The same list git refuses in is_hfs_dotgit.
 */
const IGNORABLE = '[\\u200c-\\u200f\\u202a-\\u202e\\u206a-\\u206f\\ufeff]';
const HFS_IGNORABLE = new RegExp(IGNORABLE, 'gu');
/**
 * Every alias spells g-i-t or l-o-d-e in some case, maybe with ignorables
 * between: a cheap first test, run on every name a walk meets. The letters
 * are ASCII classes, not the `iu` flags: toLowerCase below turns no other
 * character into one of them alone (U+0130 becomes `i` plus a combining dot,
 * which no alias holds), and a case-insensitive Unicode pattern costs V8 a
 * case-folding compile in every process that first uses it.
 */
const MAYBE_RESERVED = new RegExp(`[gG]${IGNORABLE}*[iI]${IGNORABLE}*[tT]|[lL]${IGNORABLE}*[oO]${IGNORABLE}*[dD]${IGNORABLE}*[eE]`);

/**
 * reservedName returns which metadata directory (`.git` or `.lode`) a file
 * system may take `name` for, or undefined. Any letter case counts (case-
 * insensitive file systems), and so do the spellings some file systems alias
 * to it: trailing dots and spaces and an NTFS alternate data stream
 * (`.git.`, `.git `, `.git::$INDEX_ALLOCATION`), the NTFS short names
 * (`git~1`, `lode~2`) and HFS+ ignorable characters (`.g\u200cit`). Ordinary
 * neighbours (`.gitignore`, `.github`, `git`, `.lodeignore`) are not reserved.
 */
export function reservedName(name: string): '.git' | '.lode' | undefined {
  if (!MAYBE_RESERVED.test(name)) return undefined;
  let n = name.replace(HFS_IGNORABLE, '').toLowerCase();
  const colon = n.indexOf(':');
  if (colon >= 0) n = n.slice(0, colon);
  n = n.replace(/[. ]+$/u, '');
  if (n === '.git' || /^git~\d+$/u.test(n)) return '.git';
  if (n === '.lode' || /^lode~\d+$/u.test(n)) return '.lode';
  return undefined;
}

/**
 * nameProblem returns why `name` cannot be a tree entry name, or undefined when
 * it can. Refused: empty, '.', '..', '/', '\\', NUL and other control characters,
 * names over 255 bytes, and names a file system may take for `.git` or
 * `.lode` (see reservedName): a tree must never write into git's or lode's
 * own metadata.
 */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'empty name';
  if (name === '.' || name === '..') return `"${name}" is not allowed as a name`;
  // A UTF-16 unit is at most 3 UTF-8 bytes: short names need no byte count.
  if (name.length * 3 > MAX_NAME_BYTES && Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return 'name longer than 255 bytes';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2f) return 'name contains "/"';
    if (c === 0x5c) return 'name contains "\\"';
    if (c < 0x20 || c === 0x7f) return 'name contains a control character';
  }
  const reserved = reservedName(name);
  if (reserved) return reserved === name ? `${reserved} is reserved for ${reserved === '.git' ? "git's" : "lode's"} own metadata` : `file systems may take it for ${reserved}, which is reserved for ${reserved === '.git' ? "git's" : "lode's"} own metadata`;
  return undefined;
}

/**
 * repoPathProblem returns why `path` (repo-relative, '' for the root) is not
 * a safe path, naming the bad component, or undefined when it is.
 */
export function repoPathProblem(path: string): string | undefined {
  if (path === '') return undefined;
  for (const part of path.split('/')) {
    const problem = nameProblem(part);
    if (problem) return `${JSON.stringify(part)}: ${problem}`;
  }
  return undefined;
}

/** validateName throws InvalidNameError unless `name` is a safe entry name. */
export function validateName(name: string, context = 'name'): void {
  const problem = nameProblem(name);
  if (problem) {
    throw new InvalidNameError(`unsafe ${context} ${JSON.stringify(name)}: ${problem}`, {
      hint: 'rename the file; lode refuses names that could escape the workspace or break on other systems',
    });
  }
}

/**
 * validateRepoPath checks a repo-relative path ('a/b/c'); the empty string is
 * the workspace root. Throws InvalidNameError naming the bad component.
 */
export function validateRepoPath(path: string): void {
  if (path === '') return;
  for (const part of path.split('/')) validateName(part, `path component in ${JSON.stringify(path)}:`);
}

/** joinPath joins repo-relative paths ('' is the root). */
export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** parentPath returns the directory part of a repo-relative path ('' for top level). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** baseName returns the last component of a repo-relative path. */
export function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** isUnder says whether `path` equals `prefix` or lies beneath it ('' contains all). */
export function isUnder(path: string, prefix: string): boolean {
  return prefix === '' || path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 0x2f);
}

/**
 * comparePaths orders repo paths by UTF-8 bytes of their components, the order
 * of entries in trees and in the index (so 'a/b' sorts before 'a.b' and 'a0').
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // '/' ends a component: it must sort before every other character.
    if (x === 0x2f) x = -1;
    if (y === 0x2f) y = -1;
    // UTF-16 surrogates (>= 0xD800) sort below U+E000..U+FFFF by code unit but
    // above them by UTF-8 bytes; compare by code point for those.
    if (x >= 0xd800 && y >= 0xd800) {
      return (a.codePointAt(i) ?? 0) - (b.codePointAt(i) ?? 0) < 0 ? -1 : 1;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** compareNames orders entry names by their UTF-8 bytes. */
export function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  // By code unit, without encoding (diff and shard checks compare names by the million).
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 surrogates (>= 0xD800) sort below U+E000..U+FFFF by code unit but
    // above them by UTF-8 bytes; compare by code point for those.
    if (x >= 0xd800 && y >= 0xd800) return (a.codePointAt(i) ?? 0) - (b.codePointAt(i) ?? 0) < 0 ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length < 0 ? -1 : 1;
}
