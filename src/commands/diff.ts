import { checksMark, type ChecksMark } from '../repo/provenance.js';
import type { ObjectId } from '../core/id.js';
import type { ProgressSink } from '../core/progress.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isLodeError, LodeError } from '../core/errors.js';
import { joinPath, parentPath } from '../core/paths.js';
import { diffTrees, type Change } from '../graph/diff.js';
import { EMPTY_TREE, lookupPath, TreePool } from '../graph/trees.js';
import type { Repository } from '../repo/repository.js';
import type { TableDiffEntry, TableInput } from '../tabular/types.js';
import { tableFormatOf } from '../tabular/formats.js';
import { INDEX_REV, resolveSnapshot, WORKSPACE_REV, type Snapshot } from '../repo/snapshot.js';
import { tempName } from '../storage/atomic.js';
import { changedBytesOf } from './changed-bytes.js';
import { emptyIndex } from '../workspace/index-file.js';

export interface DiffOptions {
  /** Old side (default HEAD; or the index with `staged`); null: the empty tree (what a first commit is shown against). */
  from?: string | null;
  /** New side (default :workspace; :index with `staged`). */
  to?: string;
  /** Compare HEAD with the index (what `lode commit` would record). */
  staged?: boolean;
  /** Restrict to these paths (absolute or relative to cwd). */
  paths?: string[];
  cwd?: string;
  /** Add per-directory counts. */
  stat?: boolean;
  /** Diff changed table files (CSV, TSV, JSON Lines, Parquet) row by row (default true). */
  tables?: boolean;
  /** Key columns matching rows of table files (else whole-row content). */
  key?: string[];
  /** Without `key`: try a column unique on both sides as the key of a table file (default true). */
  autoKey?: boolean;
  /** List changed rows of table files. */
  rows?: boolean;
  /** At most this many listed rows per table file (default 20). */
  limit?: number;
  progress?: ProgressSink;
}

/** DirStat summarises the changes directly inside one directory, with its size on each side. */
export interface DirStat {
  dir: string;
  added: number;
  deleted: number;
  modified: number;
  renamed: number;
  /** Bytes of new content in the directory's added and modified files (chunk level, see DiffResult.summary.changedBytes). */
  changedBytes: number;
  /** Files and bytes beneath the directory on each side (0 when absent). */
  before: { files: number; bytes: number };
  after: { files: number; bytes: number };
}

export interface DiffSide {
  rev: string;
  kind: Snapshot['kind'];
  commit: ObjectId | null;
  tree: ObjectId;
  /** What the data contract found when this commit was made (commits with a record only). */
  checks?: ChecksMark;
}

/** DiffChange is one changed file; a modified one carries the bytes of its new version that are really new. */
export type DiffChange = Change & {
  /** For `modified`: bytes of the new version's chunks that the old version does not have (see changedBytesOf). */
  changedBytes?: number;
};

/** DiffResult is the stable shape of `lode diff --json` (docs/cli.md). */
export interface DiffResult {
  from: DiffSide;
  to: DiffSide;
  changes: DiffChange[];
  summary: {
    added: number;
    deleted: number;
    modified: number;
    renamed: number;
    /** Bytes of added files plus the new size of modified ones. */
    bytesAdded: number;
    /** Bytes of deleted files plus the old size of modified ones. */
    bytesDeleted: number;
    /**
     * Bytes of content the new side has that the old one does not, at chunk
     * level: added files whole, and the chunks of modified files that are not
     * in their old version (a 4 MiB edit in a 300 MiB file counts about 4 MiB).
     */
    changedBytes: number;
  };
  stat?: DirStat[];
  /** Data-aware diffs of the changed table files (CSV, TSV, JSON Lines, Parquet), in path order. */
  tables?: TableDiffEntry[];
  /** Changed table files beyond the first TABLE_LIMIT, left without a row-level diff (restrict with paths to see them). */
  tablesSkipped?: number;
}

/** TABLE_LIMIT is how many changed table files one diff compares row by row. */
export const TABLE_LIMIT = 100;

/**
 * diff compares two snapshots — commits (branch, tag, ID prefix, HEAD~n), the
 * index or the workspace — descending only into subtrees whose IDs differ.
 */
export async function diff(repo: Repository, options: DiffOptions = {}): Promise<DiffResult> {
  // Over objects/, then the index's kept trees: :index reads below a tree objects/ holds through it.
  const pool = new TreePool(repo.treeReader());
  const fromRev = options.from === undefined ? 'HEAD' : options.from;
  const toRev = options.to ?? (options.staged ? INDEX_REV : WORKSPACE_REV);
  // Two commits need no index: at millions of files, reading it costs more than the diff.
  const needsIndex = [fromRev, toRev].some((r) => r === INDEX_REV || r === WORKSPACE_REV);
  // Without the workspace, the index may be needed for its tree ID alone (equal to HEAD's: nothing staged): its entries are read only if asked for.
  const index = needsIndex ? await repo.readIndex({ lazy: ![fromRev, toRev].includes(WORKSPACE_REV) }) : emptyIndex();
  const ctx = { index, progress: options.progress };
  const from = fromRev === null ? emptySide('(empty)') : fromRev === 'HEAD' && !repo.refs.headCommit() ? emptySide() : await resolveSnapshot(repo, fromRev, pool, ctx);
  const to = await resolveSnapshot(repo, toRev, pool, ctx);
  const paths = (options.paths ?? []).map((p) => repo.toRepoPath(p, options.cwd));
  const changes: DiffChange[] = diffTrees(pool, from.tree, to.tree, { paths });
  const summary = { added: 0, deleted: 0, modified: 0, renamed: 0, bytesAdded: 0, bytesDeleted: 0, changedBytes: 0 };
  for (const c of changes) {
    summary[c.status]++;
    const changed = changedBytesOf(repo, c, from, to);
    if (c.status === 'modified') c.changedBytes = changed;
    summary.changedBytes += changed;
    if (c.status === 'added' || c.status === 'modified') summary.bytesAdded += c.new!.size;
    if (c.status === 'deleted' || c.status === 'modified') summary.bytesDeleted += c.old!.size;
  }
  const result: DiffResult = { from: sideOf(repo, from), to: sideOf(repo, to), changes, summary };
  if (options.stat) result.stat = dirStats(pool, from.tree, to.tree, changes);
  if (options.tables !== false) {
    const candidates = changes.filter((c) => c.status !== 'renamed' && tableFormatOf(c.path) !== null);
    const tables = await diffTables(repo, candidates.slice(0, TABLE_LIMIT), from, to, options);
    if (tables.length > 0) result.tables = tables;
    if (candidates.length > TABLE_LIMIT) result.tablesSkipped = candidates.length - TABLE_LIMIT;
  }
  return result;
}

/**
 * diffTables runs the data-aware diff on every changed table file. A file
 * that cannot be diffed (malformed, not in the cache, a missing key) becomes
 * a failure entry: the file-level diff always stands.
 */
async function diffTables(repo: Repository, candidates: Change[], from: Snapshot, to: Snapshot, options: DiffOptions): Promise<TableDiffEntry[]> {
  if (candidates.length === 0) return [];
  // The table engine (decoders, worker threads) loads only when a table file changed.
  const { diffTable } = await import('../tabular/diff.js');
  const out: TableDiffEntry[] = [];
  // Named for this process, so a sweep can tell when a killed diff left it behind.
  const tmpRoot = tempName(repo.store.tmpDir, 'tables');
  fs.mkdirSync(tmpRoot);
  try {
    let done = 0;
    const totalBytes = candidates.reduce((n, c) => n + (c.old?.size ?? 0) + (c.new?.size ?? 0), 0);
    let bytes = 0;
    let rows = 0;
    options.progress?.({ phase: 'tables', done, total: candidates.length, bytes, totalBytes, rows });
    for (const c of candidates) {
      const format = tableFormatOf(c.path)!;
      let tableRows = 0;
      try {
        const before = c.old ? tableInput(repo, from, c.path, c.old, tmpRoot) : null;
        const after = c.new ? tableInput(repo, to, c.path, c.new, tmpRoot) : null;
        const tmpDir = fs.mkdtempSync(path.join(tmpRoot, 't-'));
        try {
          // Live rows and bytes as each side is read: a big table would otherwise show no movement until it is done.
          const progress = options.progress
            ? (p: { rows: number; bytes: number }) => {
                tableRows = p.rows;
                options.progress!({ phase: 'tables', done, total: candidates.length, bytes: bytes + p.bytes, totalBytes, rows: rows + p.rows });
              }
            : undefined;
          out.push(await diffTable(c.path, format, before, after, { key: options.key, autoKey: options.autoKey, rows: options.rows, limit: options.limit, tmpDir, progress }));
        } finally {
          fs.rmSync(tmpDir, { recursive: true, force: true });
        }
      } catch (e) {
        if (!isLodeError(e)) throw e;
        out.push({ path: c.path, format, error: { message: e.message, ...(e.hint ? { hint: e.hint } : {}) } });
      }
      done++;
      bytes += (c.old?.size ?? 0) + (c.new?.size ?? 0);
      rows += tableRows;
      options.progress?.({ phase: 'tables', done, total: candidates.length, bytes, totalBytes, rows, finished: done === candidates.length });
    }
  } finally {
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  }
  return out;
}

/** tableInput finds the bytes of one side of a changed file: the cached file of its ID (a packed one copied out, a split one assembled, under `tmpRoot`), or the workspace file. */
function tableInput(repo: Repository, side: Snapshot, file: string, entry: { id: ObjectId; size: number }, tmpRoot: string): TableInput {
  const label = `${file} at ${side.label}`;
  if (repo.store.hasLooseFile(entry.id)) return { file: repo.store.filePath(entry.id), size: entry.size, label };
  if (repo.store.isSplit(entry.id)) {
    // An older version kept as chunks: assembled (verified) under tmpRoot, which the caller removes.
    const out = tempName(tmpRoot, 'split');
    repo.store.assembleTo({ kind: 'chunked', id: entry.id, size: entry.size }, out);
    return { file: out, size: entry.size, label };
  }
  // A small file kept in a local pack: its verified bytes, in a file of their own for the table reader.
  const packed = repo.store.readPackedFile(entry.id);
  if (packed) {
    const out = tempName(tmpRoot, 'packed');
    fs.writeFileSync(out, packed, { flag: 'wx' });
    return { file: out, size: entry.size, label };
  }
  if (side.kind === 'workspace') return { file: repo.abs(file), size: entry.size, label };
  throw new LodeError('NOT_FOUND', `${label}: its content is not fetched yet`, {
    hint: `\`lode fetch ${repo.config.defaultRemote() ?? 'REMOTE'} ${side.label}\` brings that version's data (or \`lode cat ${side.label}:${file}\` just this file); then diff again for the row-level view`,
  });
}

function emptySide(label = 'HEAD'): Snapshot {
  return { label, kind: 'empty', tree: EMPTY_TREE, datasets: [] };
}

function sideOf(repo: Repository, s: Snapshot): DiffSide {
  const checks = s.commit ? checksMark(repo, s.commit) : undefined;
  return { rev: s.label, kind: s.kind, commit: s.commit ?? null, tree: s.tree, ...(checks ? { checks } : {}) };
}

/** dirStats groups changes by directory and reads each directory's totals from the trees (no walks). */
function dirStats(pool: TreePool, a: ObjectId, b: ObjectId, changes: DiffChange[]): DirStat[] {
  const dirs = new Map<string, DirStat>();
  const get = (dir: string) => {
    let s = dirs.get(dir);
    if (!s) {
      const size = (root: ObjectId) => {
        const e = lookupPath(pool, root, dir);
        if (!e || e.kind !== 'tree') return { files: 0, bytes: 0 };
        if (dir === '') {
          let files = 0;
          let bytes = 0;
          for (const x of pool.readTree(root)) {
            files += x.files;
            bytes += x.size;
          }
          return { files, bytes };
        }
        return { files: e.files, bytes: e.size };
      };
      s = { dir, added: 0, deleted: 0, modified: 0, renamed: 0, changedBytes: 0, before: size(a), after: size(b) };
      dirs.set(dir, s);
    }
    return s;
  };
  for (const c of changes) {
    const d = get(parentPath(c.path));
    d[c.status]++;
    d.changedBytes += c.status === 'added' ? c.new!.size : (c.changedBytes ?? 0);
    if (c.status === 'renamed' && parentPath(c.oldPath!) !== parentPath(c.path)) get(parentPath(c.oldPath!));
  }
  // The folders beside a changed folder, changed or not: in a folder-per-class
  // dataset they are the other classes, and the balance needs them all.
  const SIBLINGS = 1000;
  for (const d of [...dirs.keys()]) {
    if (d === '') continue;
    const parent = parentPath(d);
    for (const root of [a, b]) {
      const e = parent === '' ? { kind: 'tree' as const, id: root } : lookupPath(pool, root, parent);
      if (!e || e.kind !== 'tree') continue;
      let n = 0;
      for (const x of pool.readTree(e.id)) {
        if (x.kind !== 'tree') continue;
        if (++n > SIBLINGS) break;
        get(joinPath(parent, x.name));
      }
    }
  }
  return [...dirs.values()].sort((x, y) => (x.dir < y.dir ? -1 : x.dir > y.dir ? 1 : 0));
}
