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
import { StoredEntry, type IndexData, type IndexEntry } from './index-file.js';
import type { ScanResult, WorkFile } from './scan.js';

export interface WorkspaceComparison {
  /** Tracked files whose content differs from the index. */
  modified: WorkFile[];
  /** Tracked files (in the index, under a scanned root) missing from the workspace. */
  deleted: IndexEntry[];
  /** Files under dataset roots that the index does not have. */
  untracked: WorkFile[];
  /** Index entries whose stat was refreshed after their bytes checked out equal. */
  refreshed: number;
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
  const out: WorkspaceComparison = { modified: [], deleted: [], untracked: [], refreshed: 0, statClean: 0 };
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
    try {
      if (e.xxh !== 0n) same = xxhFile(path.join(root, f.path), buf) === e.xxh;
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
