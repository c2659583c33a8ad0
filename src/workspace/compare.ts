/**
 * Comparing the workspace with the index: which tracked files changed, which
 * vanished, which are new. A file whose size, mtime, ctime and inode match its
 * index entry (and whose mtime is older than the index itself) is unchanged
 * without reading it; one whose stat moved but whose size did not is re-read
 * with xxh64 (several GB/s) before it is called modified, and its stat is
 * refreshed when the bytes turn out the same.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadXxhash, xxhashReady } from '../core/checksum.js';
import type { ChunkerParams } from '../core/chunker.js';
import { Ingester } from '../objects/ingest.js';
import { comparePaths } from '../core/paths.js';
import { StoredEntry, storedTable, type IndexData, type IndexEntry, type IndexTable } from './index-file.js';
import { splitWanted, ThreadSplit } from './walk-split.js';
import { IgnoreRules, scanRoots, walkRoots, workFile, type FileStat, type ScanResult, type Skipped, type WalkSplit, type WorkFile } from './scan.js';

export interface WorkspaceComparison {
  /** Tracked files whose content differs from the index. */
  modified: WorkFile[];
  /** Tracked files (in the index, under a scanned root) missing from the workspace. */
  deleted: IndexEntry[];
  /** Files under dataset roots that the index does not have. */
  untracked: WorkFile[];
  /** Index entries whose stat was refreshed after their bytes checked out equal. */
  refreshed: number;
  /** Bytes re-read for the refreshed entries. */
  refreshedBytes: number;
  /** Refreshed entries that had no xxh64 and were hashed in full (their xxh64 is recorded now). */
  refreshedFull: number;
  /** Files that could be trusted by stat alone. */
  statClean: number;
}

/** statMatches says whether a file's stat is the one recorded, and not racy. */
export function statMatches(e: IndexEntry, f: WorkFile, stampNs: bigint): boolean {
  if (e.size !== f.size || e.exec !== f.exec) return false;
  // Read straight from the index bytes when untouched: no BigInts per file.
  const n = e instanceof StoredEntry ? e.statNumbers() : undefined;
  const mtime = n ? n.mtime : Number(e.mtimeNs);
  const ctime = n ? n.ctime : Number(e.ctimeNs);
  const ino = n ? n.ino : Number(e.ino);
  // Times compare to the microsecond, the precision of a float-ms stat. Two
  // writes of one file a microsecond apart, both before the index was
  // written, cannot both have been seen by `add`, which reads for longer.
  // Racy: a file modified in the same clock tick as the index was written
  // may have changed after it was read. Number() rounding keeps order, so
  // the comparison errs towards "racy".
  return ino === f.ino && Math.abs(mtime / 1e6 - f.mtimeMs) < 0.001 && Math.abs(ctime / 1e6 - f.ctimeMs) < 0.001 && mtime < Number(stampNs);
}

/** xxhFile returns the xxh64 of a file's content (loadXxhash must have run). */
export function xxhFile(abs: string, buf: Buffer): bigint {
  const h = xxhashReady().create64();
  const fd = fs.openSync(abs, 'r');
  try {
    let pos = 0;
    while (true) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest();
}

/**
 * compareWorkspace compares a scan with the index. Index entries outside the
 * scanned roots are left alone. Refreshed stats are written into `index`
 * entries in place (the caller decides whether to save them).
 */
export async function compareWorkspace(root: string, index: IndexData, scan: ScanResult, roots: readonly string[], params: ChunkerParams): Promise<WorkspaceComparison> {
  const out: WorkspaceComparison = { modified: [], deleted: [], untracked: [], refreshed: 0, refreshedBytes: 0, refreshedFull: 0, statClean: 0 };
  let buf: Buffer | undefined;
  let hasher: Ingester | undefined;
  const inRoots = (p: string) => roots.some((r) => r === '' || p === r || p.startsWith(`${r}/`));
  for (const e of index.entries) {
    const f = scan.files.get(e.path);
    if (!f) {
      if (inRoots(e.path)) out.deleted.push(e);
      continue;
    }
    if (statMatches(e, f, index.stampNs)) {
      out.statClean++;
      continue;
    }
    if (e.size !== f.size || e.exec !== f.exec) {
      out.modified.push(f);
      continue;
    }
    await loadXxhash();
    buf ??= Buffer.allocUnsafe(1 << 20);
    let same = false;
    const full = e.xxh === 0n;
    try {
      if (!full) same = xxhFile(path.join(root, f.path), buf) === e.xxh;
      else {
        // No checksum recorded (a file placed by checkout without reading it): hash for real.
        hasher ??= new Ingester(params, undefined);
        const r = hasher.ingest(path.join(root, f.path), f.path);
        same = r.id === e.id;
        if (same) e.xxh = r.xxh;
      }
    } catch {
      same = false;
    }
    if (same) {
      try {
        const st = fs.lstatSync(path.join(root, f.path), { bigint: true });
        e.mtimeNs = st.mtimeNs;
        e.ctimeNs = st.ctimeNs;
        e.ino = st.ino;
        out.refreshed++;
        out.refreshedBytes += f.size;
        if (full) out.refreshedFull++;
      } catch {
        out.modified.push(f);
      }
    } else out.modified.push(f);
  }
  const found = out.statClean + out.refreshed + out.modified.length;
  if (scan.files.size > found) {
    const tracked = new Set(index.entries.map((e) => e.path));
    for (const f of scan.files.values()) if (!tracked.has(f.path)) out.untracked.push(f);
  }
  out.untracked.sort((a, b) => (a.path < b.path ? -1 : 1));
  return out;
}

/** WorkspaceChanges is a sorted compare: what changed, and what the scan passed over. */
export interface WorkspaceChanges {
  comparison: WorkspaceComparison;
  /** Regular files seen under the roots. */
  scanned: number;
  skipped: Skipped[];
  /** Roots that do not exist in the workspace. */
  missing: string[];
}

/** outermost drops roots inside another root ('' holds every path): each file is seen once. */
function outermost(roots: readonly string[]): string[] {
  const sorted = [...new Set(roots)].sort(comparePaths);
  if (sorted.includes('')) return [''];
  return sorted.filter((r) => !sorted.some((o) => o !== r && r.startsWith(`${o}/`)));
}

/** MergeVisitor receives one streaming merge of the workspace with the index, in path order. */
export interface MergeVisitor {
  /** A file on disk with index entry i. */
  tracked(i: number, rel: string, st: FileStat): void;
  /** A file on disk the index lacks. */
  untracked(rel: string, st: FileStat): void;
  /** Index entry i (at `path`, under a root) with no file on disk. */
  gone(i: number, path: string): void;
}

/**
 * mergeWalk walks each root (as walkRoots) and meets the files, in path
 * order, with the entries of `t` under that root, in the same order: each
 * file and each such entry reaches `visit` exactly once, and nothing is kept
 * per file. Nested roots are walked once, as part of the outer one.
 */
export function mergeWalk(root: string, t: IndexTable, roots: readonly string[], visit: MergeVisitor, rules = new IgnoreRules(root), split?: WalkSplit): { scanned: number; skipped: Skipped[]; missing: string[] } {
  let scanned = 0;
  // The index side: entry i with path cur, while it is under the root being
  // walked. Its path is made a string only when a file does not match it
  // (`decoded` false: the cursor holds entry i, not yet decoded).
  let i = 0;
  let cur: string | undefined;
  let decoded = true;
  let under = '';
  let c = t.cursor(0);
  const advance = () => {
    if (i < t.count) {
      c.next();
      decoded = false;
    } else {
      cur = undefined;
      decoded = true;
    }
  };
  const current = (): string | undefined => {
    if (!decoded) {
      const p = c.path();
      cur = under === '' || p === under || p.startsWith(`${under}/`) ? p : undefined;
      decoded = true;
    }
    return cur;
  };
  const onFile = (rel: string, st: FileStat) => {
    scanned++;
    // Most files are tracked: the entry at hand is the file's own (and so
    // under the root, as the file is).
    if (decoded ? cur === rel : c.is(rel)) {
      visit.tracked(i, rel, st);
      i++;
      advance();
      return;
    }
    let p = current();
    while (p !== undefined && comparePaths(p, rel) < 0) {
      visit.gone(i, p);
      i++;
      advance();
      p = current();
    }
    if (p !== rel) visit.untracked(rel, st);
    else {
      visit.tracked(i, rel, st);
      i++;
      advance();
    }
  };
  const skipped: Skipped[] = [];
  const missing: string[] = [];
  for (const r of outermost(roots)) {
    under = r;
    i = r === '' ? 0 : t.lowerBound(r);
    c = t.cursor(i);
    advance();
    const w = walkRoots(root, [r], rules, onFile, split);
    skipped.push(...w.skipped);
    missing.push(...w.missing);
    for (let p = current(); p !== undefined; p = current()) {
      visit.gone(i, p);
      i++;
      advance();
    }
  }
  return { scanned, skipped, missing };
}

/** statMatchesRow is statMatches for entry i of a table and a stat. */
export function statMatchesRow(t: IndexTable, i: number, st: FileStat, stamp: number): boolean {
  if (t.size(i) !== st.size || t.exec(i) !== ((st.mode & 0o111) !== 0)) return false;
  const mtime = t.mtimeNum(i);
  // As statMatches: to the microsecond, and racy (not older than the index) is never clean.
  return t.inoNum(i) === st.ino && Math.abs(mtime / 1e6 - st.mtimeMs) < 0.001 && Math.abs(t.ctimeNum(i) / 1e6 - st.ctimeMs) < 0.001 && mtime < stamp;
}

/**
 * compareSorted is compareWorkspace as one streaming merge (mergeWalk) of
 * the walk with the index's table: only changed, deleted and untracked
 * files become objects. Results equal scanRoots + compareWorkspace.
 * Refreshed stats are written into the index's table (the caller decides
 * whether to save them). An index whose entries were already made or
 * replaced is compared the old way.
 */
export async function compareSorted(root: string, index: IndexData, roots: readonly string[], params: ChunkerParams): Promise<WorkspaceChanges> {
  const t = storedTable(index);
  if (!t) {
    const scan = scanRoots(root, roots);
    const comparison = await compareWorkspace(root, index, scan, roots, params);
    return { comparison, scanned: scan.files.size, skipped: scan.skipped, missing: scan.missing };
  }
  await loadXxhash();
  const out: WorkspaceComparison = { modified: [], deleted: [], untracked: [], refreshed: 0, refreshedBytes: 0, refreshedFull: 0, statClean: 0 };
  const stamp = Number(index.stampNs);
  const reader: Reader = { params };
  const w = mergeWalk(root, t, roots, {
    tracked(i, rel, st) {
      if (statMatchesRow(t, i, st, stamp)) out.statClean++;
      else if (t.size(i) === st.size && t.exec(i) === ((st.mode & 0o111) !== 0) && recheck(root, rel, t, i, reader, out)) {
        out.refreshed++;
        out.refreshedBytes += st.size;
      }
      else out.modified.push(workFile(rel, st));
    },
    untracked(rel, st) {
      out.untracked.push(workFile(rel, st));
    },
    gone(i, p) {
      out.deleted.push(t.entry(i, p));
    },
  }, undefined, splitWanted(t.count) ? new ThreadSplit(root) : undefined);
  out.untracked.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { comparison: out, scanned: w.scanned, skipped: w.skipped, missing: w.missing };
}

/** Reader holds what re-reading files needs, made on first use. */
interface Reader {
  params: ChunkerParams;
  buf?: Buffer;
  hasher?: Ingester;
}

/**
 * recheck reads a file whose stat moved but whose size did not: unchanged
 * bytes (xxh64, or a full hash when no checksum is recorded) refresh entry
 * i's stat in the table and return true.
 */
function recheck(root: string, rel: string, t: IndexTable, i: number, reader: Reader, out: WorkspaceComparison): boolean {
  const abs = path.join(root, rel);
  let same = false;
  let xxh: bigint | undefined;
  try {
    const want = t.xxh(i);
    if (want !== 0n) same = xxhFile(abs, (reader.buf ??= Buffer.allocUnsafe(1 << 20))) === want;
    else {
      // No checksum recorded (a file placed by checkout without reading it): hash for real.
      reader.hasher ??= new Ingester(reader.params, undefined);
      const r = reader.hasher.ingest(abs, rel);
      same = r.id === t.id(i);
      xxh = r.xxh;
    }
  } catch {
    same = false;
  }
  if (!same) return false;
  try {
    const st = fs.lstatSync(abs, { bigint: true });
    t.setStat(i, st.mtimeNs, st.ctimeNs, st.ino);
    if (xxh !== undefined) {
      t.setXxh(i, xxh);
      out.refreshedFull++;
    }
  } catch {
    return false;
  }
  return true;
}
