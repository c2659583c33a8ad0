/**
 * `lode forget`: erase files, or rows of tables, from every version.
 *
 * The erasure runs in steps, each safe to interrupt:
 *
 * 1. Scan every commit any branch, tag, HEAD, remote-tracking ref (or, in
 *    git, a pinned lode.lock at a git branch or tag) reaches; refuse bad
 *    input (nothing matches, a key column missing, a table that does not
 *    parse) before anything is written.
 * 2. Write the new file contents, trees and commits (content-addressed, so
 *    a re-run writes the same ones).
 * 3. Write the erasure record (`.lode/erasures/<id>`): from here on the
 *    erasure is decided, and any later `lode forget` (or fetch) completes it.
 * 4. Apply: move refs (each an atomic write), update workspace files that
 *    held erased content, then delete the erased objects from the store.
 * 5. With `--push`: the same on the default remote (sync/erase.ts).
 */
import { pruneSplit } from '../objects/split.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TreeEntry } from '../core/encoding.js';
import { decodeChunkList, type Commit } from '../core/encoding.js';
import { LodeError, NotFoundError, UsageError, CorruptObjectError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import { loadXxhash } from '../core/checksum.js';
import { isUnder } from '../core/paths.js';
import type { ProgressSink } from '../core/progress.js';
import { readCommit, reachableFrom } from '../graph/commits.js';
import { encodeErasure, ErasureLog, type ErasureRecord, type ErasureRule } from '../graph/erasure.js';
import { RefStore } from '../graph/refs.js';
import { storeTrees } from '../graph/trees.js';
import { rewriteHistory, type EntryTransform } from '../graph/rewrite.js';
import { parentsFirst } from '../graph/order.js';
import { Ingester } from '../objects/ingest.js';
import { rmQuiet, tempName } from '../storage/atomic.js';
import { decodeRecord, type CheckViolation } from '../core/record.js';
import { eraseRows, ERASABLE_FORMATS, parseWhere, ruleColumns, writeKept, type EraseOutcome, type RowRule } from '../tabular/erase.js';
import { tableFormatOf } from '../tabular/formats.js';
import { eraseParquetRows, isParquet } from '../tabular/parquet-erase.js';
import type { TableFormat } from '../tabular/types.js';
import { keepComplete } from '../sync/complete.js';
import { eraseRemote, pullRecords, type RemoteEraseResult } from '../sync/erase.js';
import { fetchCommits } from '../sync/fetch.js';
import { openRemote } from '../sync/open.js';
import { gitContext, readPinAt } from '../git/pin-file.js';
import { authorOf } from '../repo/author.js';
import type { Repository } from '../repo/repository.js';

export interface ForgetOptions {
  /** Files or folders to remove from every commit (user paths, relative to `cwd`). */
  paths?: string[];
  /** Rows to remove from tables. */
  rows?: { tables: string; keys: { column: string; value: string }[]; where?: string };
  dryRun?: boolean;
  /** After the local erasure, erase on this remote too (true: the default remote). */
  push?: string | boolean;
  cwd?: string;
  progress?: ProgressSink;
}

/** ForgetChange is one file of one commit the erasure changes. */
export interface ForgetChange {
  commit: ObjectId;
  path: string;
  /** Rows removed from this version (0 when the whole file goes). */
  rows: number;
  /** The whole file is removed (a path rule). */
  removed: boolean;
}

export interface ForgetResult {
  dryRun: boolean;
  /** False when the rule matched nothing (the CLI exits 1). */
  matched: boolean;
  changes: ForgetChange[];
  /** Every commit that gets a new ID (changed ones and their descendants), old -> new (new omitted in a dry run). */
  commits: { old: ObjectId; new?: ObjectId }[];
  /** Commit records (provenance, check results) rewritten: IDs mapped to the new history, violations on erased data redacted. */
  recordsRewritten: number;
  counts: { commits: number; files: number; rows: number };
  /** Tables of versions this (partial) workspace lacked, fetched from the default remote before the scan. */
  fetched?: { remote: string; versions: number; files: number; bytes: number };
  /** The erasure record written (absent in a dry run or when nothing matched). */
  record?: ObjectId;
  /** Refs moved: `heads/main`, `tags/v1`, `HEAD`, `remotes/origin/heads/main`. */
  refsMoved: string[];
  /** Refs an erasure record names but that were not moved (see ApplyResult). */
  refsKept?: string[];
  /** Workspace files rewritten because they held erased content. */
  workspaceFiles: string[];
  /** Workspace files left as they are although they hold erased content (changed locally). */
  workspaceKept: string[];
  /** Objects deleted from the local store (files, chunk lists, trees, commits). */
  objectsDeleted: number;
  bytesDeleted: number;
  /** An earlier, interrupted erasure that this run completed. */
  resumed: ObjectId[];
  remote?: RemoteEraseResult & { remote: string };
}

/** badInput: the rule cannot be applied as given (a usage error, exit 2); nothing was written. */
function badInput(message: string, hint: string): LodeError {
  return new UsageError(message, { hint });
}

/** globMatcher turns a table glob into a path test: `*` within a name, `**` across folders; a glob without `/` matches a file name anywhere. */
export function globMatcher(glob: string): (p: string) => boolean {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const rx = new RegExp(`^${re}$`);
  if (!glob.includes('/')) return (p) => rx.test(p.slice(p.lastIndexOf('/') + 1));
  return (p) => rx.test(p);
}

/** rowRule builds the row rule from the options, refusing a malformed `--where` or no rule at all. */
function rowRule(rows: NonNullable<ForgetOptions['rows']>): RowRule {
  const keys = new Map<string, Set<string>>();
  for (const k of rows.keys) {
    if (!keys.has(k.column)) keys.set(k.column, new Set());
    keys.get(k.column)!.add(k.value);
  }
  let where;
  if (rows.where !== undefined) {
    try {
      where = parseWhere(rows.where);
    } catch (e) {
      throw badInput((e as Error).message, 'e.g. --where \'customer_id = 42 or email = "a@b.c"\'');
    }
  }
  if (keys.size === 0 && !where) throw badInput('--rows needs --key COLUMN=VALUE, --keys-from FILE or --where EXPR', 'say which rows to remove');
  return { keys, where };
}

/** parseKeysFile reads `--keys-from`: a first line naming the column, then one value per line (a one-column CSV; quotes allowed). */
export function parseKeysFile(text: string): { column: string; value: string }[] {
  const lines = text.split(/\r?\n/);
  const unq = (s: string) => (s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s);
  const column = unq((lines.shift() ?? '').replace(/^\ufeff/, ''));
  if (!column) throw badInput('the --keys-from file is empty: its first line names the key column', 'e.g. a file with "customer_id" then one ID per line');
  return lines.filter((l) => l !== '').map((l) => ({ column, value: unq(l) }));
}

/** refStores are the workspace's own refs and every remote's tracking refs. */
function refStores(repo: Repository): { label: string; refs: RefStore }[] {
  const out = [{ label: '', refs: repo.refs }];
  let remotes: string[] = [];
  try {
    remotes = fs.readdirSync(path.join(repo.lodeDir, 'remotes'), { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
  } catch {
    // no remote yet
  }
  for (const r of remotes.sort()) out.push({ label: `remotes/${r}/`, refs: new RefStore(path.join(repo.lodeDir, 'remotes', r)) });
  return out;
}

/** refTips lists every ref that can hold a commit an erasure replaces, with how to move it. */
function refTips(repo: Repository): { label: string; tip: ObjectId; set: (id: ObjectId) => void }[] {
  const out: { label: string; tip: ObjectId; set: (id: ObjectId) => void }[] = [];
  for (const { label, refs } of refStores(repo)) {
    for (const kind of ['heads', 'tags'] as const) for (const r of refs.list(kind)) out.push({ label: `${label}${kind}/${r.name}`, tip: r.id, set: (id) => refs.set(kind, r.name, id) });
  }
  const head = repo.refs.head();
  if (head.kind === 'detached') out.push({ label: 'HEAD', tip: head.id, set: (id) => repo.refs.setHead({ kind: 'detached', id }) });
  return out;
}

/** pinnedTips are the lode commits that lode.lock pins at git branch and tag tips (and in the work tree). */
async function pinnedTips(repo: Repository): Promise<ObjectId[]> {
  const ctx = gitContext(repo, false);
  if (!ctx) return [];
  const out: ObjectId[] = [];
  for (const tip of await ctx.git.refTips()) {
    try {
      out.push((await readPinAt(ctx, tip.oid, tip.name)).commit);
    } catch {
      // a git branch without a (valid) pin file
    }
  }
  return out.filter((id) => repo.store.hasObject(id));
}

/** faultPoint lets tests kill the process at a named step (LODE_TEST_FAULT=forget:<step>). */
function faultPoint(step: string): void {
  if (process.env.LODE_TEST_FAULT === `forget:${step}`) process.kill(process.pid, 'SIGKILL');
}

/**
 * forget erases by rule; see the module comment. Bad input (a rule that
 * matches nothing is not bad input: `matched` is false) throws before
 * anything is written.
 */
export async function forget(repo: Repository, o: ForgetOptions): Promise<ForgetResult> {
  const hasPaths = (o.paths?.length ?? 0) > 0;
  if (hasPaths === !!o.rows) throw new UsageError(hasPaths ? 'give paths or --rows, not both' : 'nothing to forget: give paths, or --rows with --key/--keys-from/--where', { hint: 'e.g. `lode forget data/leak.csv` or `lode forget --rows "*.csv" --key customer_id=42`' });
  const rule = o.rows ? rowRule(o.rows) : undefined;
  const repoPaths = hasPaths ? o.paths!.map((p) => repo.toRepoPath(p, o.cwd)) : [];
  if (repoPaths.includes('')) throw new UsageError('forgetting the whole workspace is not an erasure', { hint: 'name the files or folders to remove' });
  const pinned = await pinnedTips(repo);
  await loadXxhash();
  const result = await repo.withLock('forget', async () => {
    const resumedApply = o.dryRun ? undefined : await applyRecords(repo);
    const resumed = resumedApply?.records ?? [];
    if (repo.mergeState()) throw new UsageError('a merge is in progress', { hint: 'finish it (`lode commit`) or `lode merge --abort` first' });
    const tips = refTips(repo);
    const starts = [...new Set([...tips.map((t) => t.tip), ...pinned])];
    const out: ForgetResult = { dryRun: !!o.dryRun, matched: false, changes: [], commits: [], recordsRewritten: 0, counts: { commits: 0, files: 0, rows: 0 }, refsMoved: [], workspaceFiles: [], workspaceKept: [], objectsDeleted: 0, bytesDeleted: 0, resumed };
    if (starts.length === 0) return out;
    const match = rule ? globMatcher(o.rows!.tables) : undefined;
    // Pass 1: which files of which commits the rule touches, and with what outcome.
    const outcomes = new Map<ObjectId, EraseOutcome>();
    const problems: { missing: string[]; unparsable: string[]; parquet: string[]; absent: string[] } = { missing: [], unparsable: [], parquet: [], absent: [] };
    const parquetIds = new Set<ObjectId>();
    const order = rewriteHistory(repo.store, starts, () => undefined, { dryRun: true, records: true }).order;
    const seenPerTree = new Map<string, { path: string; entry: TreeEntry }[]>();
    const filesOf = (treeId: ObjectId, dir: string): { path: string; entry: TreeEntry }[] => {
      const key = `${treeId}\0${dir}`;
      const hit = seenPerTree.get(key);
      if (hit) return hit;
      const list: { path: string; entry: TreeEntry }[] = [];
      for (const e of decodeTreeCached(repo, treeId)) {
        const p = dir === '' ? e.name : `${dir}/${e.name}`;
        if (repoPaths.length > 0) {
          if (repoPaths.some((r) => isUnder(p, r))) {
            // A folder counts as the files beneath it.
            if (e.kind === 'tree') list.push(...allFilesOf(e.id, p));
            else list.push({ path: p, entry: e });
            continue;
          }
          if (e.kind === 'tree' && repoPaths.some((r) => isUnder(r, p))) list.push(...filesOf(e.id, p));
          continue;
        }
        if (e.kind === 'tree') list.push(...filesOf(e.id, p));
        else if (match!(p)) list.push({ path: p, entry: e });
      }
      seenPerTree.set(key, list);
      return list;
    };
    const allFilesOf = (treeId: ObjectId, dir: string): { path: string; entry: TreeEntry }[] =>
      decodeTreeCached(repo, treeId).flatMap((e) => {
        const p = `${dir}/${e.name}`;
        return e.kind === 'tree' ? allFilesOf(e.id, p) : [{ path: p, entry: e }];
      });
    const firstSeen = new Map<ObjectId, string>();
    // A partial clone lacks the data of most versions: the tables the rule reads come from the default remote first.
    const fetched = rule ? await fetchAbsentTables(repo, order, (id) => filesOf(readCommit(repo.store, id).tree, ''), o.progress) : {};
    if (fetched.fetched) out.fetched = fetched.fetched;
    const fetchNote = fetched.note;
    for (const id of order) {
      const c = readCommit(repo.store, id);
      for (const { path: p, entry } of filesOf(c.tree, '')) {
        if (!rule) {
          out.changes.push({ commit: id, path: p, rows: 0, removed: true });
          continue;
        }
        const format = tableFormatOf(p);
        const where = `${p} in commit ${id.slice(0, 12)}`;
        if (!format || !(ERASABLE_FORMATS.has(format) || format === 'parquet')) continue;
        let oc = outcomes.get(entry.id);
        if (!oc) {
          if (!repo.store.hasFile(entry.id)) {
            problems.absent.push(where);
            continue;
          }
          oc = format === 'parquet' ? await eraseParquetRows(repo.store.readBlob(entry.id), rule, true) : countStored(repo, entry.id, format, rule);
          if (format === 'parquet') parquetIds.add(entry.id);
          outcomes.set(entry.id, oc);
          firstSeen.set(entry.id, p);
        }
        if (!oc.ok) {
          if (oc.problem === 'missing-column') problems.missing.push(`${where} (no column ${oc.columns.join(', ')})`);
          else if (oc.problem === 'unsupported') problems.parquet.push(`${where}: ${oc.message}`);
          else problems.unparsable.push(`${where}: ${oc.message}`);
          continue;
        }
        if (oc.removed > 0) out.changes.push({ commit: id, path: p, rows: oc.removed, removed: false });
      }
    }
    const list = (xs: string[]) => xs.slice(0, 20).join('; ') + (xs.length > 20 ? `; and ${xs.length - 20} more` : '');
    if (problems.parquet.length > 0) {
      throw badInput(`some Parquet files cannot be rewritten faithfully without the rows: ${list(problems.parquet)}`, 'narrow the table glob, or erase the whole Parquet file (`lode forget PATH`); nothing was changed');
    }
    if (problems.absent.length > 0) {
      throw new NotFoundError(`the content of some versions is not in this workspace${fetchNote ? ` (${fetchNote})` : ''}: ${list(problems.absent)}`, { hint: '`lode fetch --all` brings every version; then run `lode forget` again (nothing was changed)' });
    }
    if (problems.unparsable.length > 0) throw new CorruptObjectError(`some tables cannot be parsed, so no row of them can be erased safely: ${list(problems.unparsable)}`, { hint: 'narrow the table glob, or fix the file in a new commit and `lode forget` the bad versions as files; nothing was changed' });
    if (problems.missing.length > 0) throw badInput(`the key column is missing from some versions: ${list(problems.missing)}`, 'narrow the table glob to the tables that have it; nothing was changed');
    if (out.changes.length === 0) {
      if (resumedApply) {
        const { records: _done, ...what } = resumedApply;
        Object.assign(out, what);
      }
      return out;
    }
    out.matched = true;
    // Pass 2: the rewrite.
    const newFiles = new Map<ObjectId, TreeEntry | null>();
    const erased = new Set<ObjectId>();
    let tmpCount = 0;
    const ingester = new Ingester(repo.settings.chunking, o.dryRun ? undefined : repo.store);
    const replace = (p: string, e: TreeEntry): TreeEntry => {
      const hit = newFiles.get(e.id);
      if (hit) return { ...hit, name: e.name, exec: e.exec };
      const format = tableFormatOf(p)!;
      // The old file is read in windows (twice: to find the rows, then to copy what stays), never whole.
      const old = repo.store.openBlob(e.id);
      try {
        const oc = eraseRows(old, format, rule!, true);
        if (!oc.ok) throw new LodeError('INTERNAL', `${p} changed between two reads`);
        // The old content goes; for a chunked file, every chunk holding removed bytes goes too.
        erased.add(e.id);
        if (e.kind === 'chunked') {
          const chunks = decodeChunkList(repo.store.getObject(e.id, 'chunk list'), e.id).chunks;
          let off = 0;
          for (const c of chunks) {
            if (oc.removedRanges.some(([s, x]) => s < off + c.size && x > off)) erased.add(c.id);
            off += c.size;
          }
        }
        const tmp = tempName(repo.store.tmpDir, `forget-${tmpCount++}`);
        try {
          // The kept bytes go from the old file to disk a piece at a time; the temp file is ingested as `lode add` would.
          const fd = fs.openSync(tmp, 'wx');
          try {
            writeKept(fd, old, oc.removedRanges);
          } finally {
            fs.closeSync(fd);
          }
          const r = ingester.ingest(tmp, p);
          const next: TreeEntry = { name: e.name, kind: r.kind, id: r.id, size: r.size, files: 1, exec: e.exec };
          newFiles.set(e.id, next);
          return next;
        } finally {
          rmQuiet(tmp);
        }
      } finally {
        old.close();
      }
    };
    // Parquet files are written anew (asynchronously, so before the rewrite,
    // which is synchronous): every file first, so that a rewrite that would not
    // be faithful stops the erasure before anything is stored.
    const parquetNew: { id: ObjectId; path: string; tmp: string }[] = [];
    try {
      const unfaithful: string[] = [];
      for (const id of parquetIds) {
        const oc = outcomes.get(id);
        const p = firstSeen.get(id)!;
        if (!oc?.ok || oc.removed === 0) continue;
        const w = await eraseParquetRows(repo.store.readBlob(id), rule!, false);
        if (!w.ok) {
          unfaithful.push(`${p}: ${w.problem === 'missing-column' ? 'changed between two reads' : w.message}`);
          continue;
        }
        const tmp = tempName(repo.store.tmpDir, `forget-${tmpCount++}`);
        parquetNew.push({ id, path: p, tmp });
        fs.writeFileSync(tmp, w.bytes, { flag: 'wx' });
      }
      if (unfaithful.length > 0) throw badInput(`some Parquet files cannot be rewritten faithfully without the rows: ${list(unfaithful)}`, 'narrow the table glob, or erase the whole Parquet file (`lode forget PATH`); nothing was changed');
      for (const { id, path: p, tmp } of parquetNew) {
        const r = ingester.ingest(tmp, p);
        newFiles.set(id, { name: path.posix.basename(p), kind: r.kind, id: r.id, size: r.size, files: 1, exec: false });
        // The whole file is new: every old chunk the new file does not hold goes.
        erased.add(id);
        if (!o.dryRun && repo.store.hasObject(id)) {
          const fresh = new Set<ObjectId>(r.kind === 'chunked' ? decodeChunkList(repo.store.getObject(r.id, 'chunk list'), r.id).chunks.map((c) => c.id) : [r.id]);
          for (const c of decodeChunkList(repo.store.getObject(id, 'chunk list'), id).chunks) if (!fresh.has(c.id)) erased.add(c.id);
        }
      }
    } finally {
      for (const { tmp } of parquetNew) rmQuiet(tmp);
    }
    const transform: EntryTransform = (p, e) => {
      if (!rule) {
        if (repoPaths.some((r) => isUnder(p, r))) return null;
        return undefined;
      }
      if (e.kind === 'tree') return undefined;
      const oc = outcomes.get(e.id);
      if (!oc || !oc.ok || oc.removed === 0 || !match!(p)) return undefined;
      return replace(p, e);
    };
    const rw = rewriteHistory(repo.store, starts, transform, { dryRun: o.dryRun, records: true });
    out.commits = [...rw.commits].map(([a, b]) => (o.dryRun ? { old: a } : { old: a, new: b }));
    out.recordsRewritten = rw.records.size;
    out.counts = { commits: rw.commits.size, files: out.changes.length, rows: out.changes.reduce((n, c) => n + c.rows, 0) };
    if (o.dryRun) return out;
    // What the new history keeps: nothing erased may be in it.
    const newTips = starts.map((s) => rw.commits.get(s) ?? s);
    const kept = reachableFrom(repo.store, newTips);
    const keptChunks = new Set<ObjectId>();
    for (const id of kept.chunkLists) for (const c of decodeChunkList(repo.store.getObject(id, 'chunk list'), id).chunks) keptChunks.add(c.id);
    if (!rule) {
      // Whole files: their content goes unless a kept path holds the same bytes.
      const droppedFiles = new Set(out.changes.map((c) => filesOfPath(repo, c.commit, c.path)).flat());
      for (const id of droppedFiles) {
        if (kept.files.has(id)) continue;
        erased.add(id);
        newFiles.set(id, null);
        if (repo.store.hasObject(id)) for (const c of decodeChunkList(repo.store.getObject(id, 'chunk list'), id).chunks) if (!keptChunks.has(c.id)) erased.add(c.id);
      }
    }
    const clash = [...erased].find((id) => kept.files.has(id) || keptChunks.has(id) || kept.chunkLists.has(id));
    if (clash) {
      throw new LodeError('CONFLICT', `a file the rule does not cover holds the same bytes as erased content (object ${clash.slice(0, 12)}); nothing was changed`, {
        hint: 'widen the table glob (or the paths) to include every copy of the data',
      });
    }
    const oldReach = reachableFrom(repo.store, [...rw.commits.keys()]);
    for (const id of rw.commits.keys()) erased.add(id);
    for (const id of oldReach.trees) if (!kept.trees.has(id)) erased.add(id);
    // The records of rewritten commits name old IDs and may quote erased values: they go too.
    for (const id of rw.records.keys()) if (!kept.records.has(id)) erased.add(id);
    const ruleOut: ErasureRule = rule
      ? { kind: 'rows', tables: o.rows!.tables, columns: ruleColumns(rule), keys: o.rows!.keys.length, ...(rule.where ? { where: { columns: rule.where.columns } } : {}) }
      : { kind: 'paths', paths: repoPaths };
    const record: ErasureRecord = {
      time: Date.now(),
      user: authorOf(repo),
      rule: ruleOut,
      counts: out.counts,
      commits: Object.fromEntries(rw.commits),
      files: Object.fromEntries([...newFiles].map(([k, v]) => [k, v ? v.id : null])),
      erased: [...erased],
    };
    faultPoint('before-record');
    out.record = new ErasureLog(repo.lodeDir).add(encodeErasure(record));
    faultPoint('after-record');
    const applied = await applyRecords(repo);
    const { records: _records, ...done } = applied;
    Object.assign(out, done);
    return out;
  });
  // Every record goes to the remote, not only this one's: a re-run completes an interrupted --push.
  if (o.push && !o.dryRun && new ErasureLog(repo.lodeDir).ids().length > 0) {
    result.remote = await forgetOnRemote(repo, typeof o.push === 'string' ? o.push : undefined);
  }
  return result;
}

/**
 * fetchAbsentTables downloads, from the default remote, the tables of the
 * commits in `order` that the rule reads and the local store lacks (a
 * partial clone holds the data of a few versions only). Returns why nothing
 * could be fetched (no default remote, the remote failed), or undefined;
 * whatever is still missing afterwards is reported by the caller.
 */
async function fetchAbsentTables(repo: Repository, order: ObjectId[], filesOf: (commit: ObjectId) => { path: string; entry: TreeEntry }[], progress?: ProgressSink): Promise<{ note?: string; fetched?: ForgetResult['fetched'] }> {
  const commits = new Set<ObjectId>();
  const paths = new Set<string>();
  const seen = new Set<ObjectId>();
  for (const id of order) {
    for (const { path: p, entry } of filesOf(id)) {
      const format = tableFormatOf(p);
      if (!format || !(ERASABLE_FORMATS.has(format) || format === 'parquet') || repo.store.hasFile(entry.id)) continue;
      if (!seen.has(entry.id)) commits.add(id);
      seen.add(entry.id);
      paths.add(p);
    }
  }
  if (commits.size === 0) return {};
  const remote = repo.config.defaultRemote();
  if (!remote) return { note: 'no default remote to fetch them from' };
  try {
    const r = await openRemote(repo, undefined);
    try {
      await r.store.refresh();
      const f = await fetchCommits({ store: repo.store, remote: r.store, commits: [...commits], data: [...commits], paths: [...paths], progress });
      return { fetched: { remote, versions: commits.size, files: f.files, bytes: f.bytes } };
    } finally {
      await r.store.backend.close?.();
    }
  } catch (e) {
    if (!(e instanceof LodeError)) throw e;
    return { note: `fetching them from ${remote} failed: ${e.message}` };
  }
}

// Whole directories by ID (a sharded one's leaves joined and checked); IDs are content addresses, so any store's do.
const treeCache = new Map<ObjectId, TreeEntry[]>();
function decodeTreeCached(repo: Repository, id: ObjectId): TreeEntry[] {
  let t = treeCache.get(id);
  if (!t) {
    t = storeTrees(repo.store).readTree(id);
    if (treeCache.size > 50_000) treeCache.clear();
    treeCache.set(id, t);
  }
  return t;
}

/** filesOfPath lists the file IDs at or under `p` in a commit. */
function filesOfPath(repo: Repository, commit: ObjectId, p: string): ObjectId[] {
  const out: ObjectId[] = [];
  const walk = (tree: ObjectId, dir: string) => {
    for (const e of decodeTreeCached(repo, tree)) {
      const q = dir === '' ? e.name : `${dir}/${e.name}`;
      if (!isUnder(q, p) && !isUnder(p, q)) continue;
      if (e.kind === 'tree') walk(e.id, q);
      else if (isUnder(q, p)) out.push(e.id);
    }
  };
  walk(readCommit(repo.store, commit).tree, '');
  return out;
}

/** ApplyResult is what completing the erasure records did. */
export interface ApplyResult {
  /** Records that still had something to do. */
  records: ObjectId[];
  refsMoved: string[];
  /** Refs left where they are: their replacement is not in this store (fetch it), or it is not the same commit with another tree. */
  refsKept: string[];
  workspaceFiles: string[];
  workspaceKept: string[];
  objectsDeleted: number;
  bytesDeleted: number;
}

/**
 * applyRecords completes every erasure record in the workspace (the caller
 * holds the lock): refs holding replaced commits move (local commits made
 * on top of replaced ones are rewritten too, with the records' file map),
 * workspace files that hold erased content and are unchanged are replaced,
 * then the erased objects are deleted from the store. Idempotent; returns
 * the records that still had something to do.
 */
export async function applyRecords(repo: Repository): Promise<ApplyResult> {
  const log = new ErasureLog(repo.lodeDir);
  const records = log.records();
  const lastApply: ApplyResult = { records: [], refsMoved: [], refsKept: [], workspaceFiles: [], workspaceKept: [], objectsDeleted: 0, bytesDeleted: 0 };
  if (records.size === 0) return lastApply;
  const preMap = new Map<ObjectId, ObjectId>();
  const fileMap = new Map<ObjectId, ObjectId | null>();
  for (const r of records.values()) {
    for (const [a, b] of Object.entries(r.commits)) preMap.set(a, b);
    for (const [a, b] of Object.entries(r.files)) fileMap.set(a, b);
  }
  // Follow chains (a commit rewritten by two erasures).
  for (const [a] of preMap) {
    const f = log.follow(a);
    if (f) preMap.set(a, f.id);
  }
  const active = new Set<ObjectId>();
  const touched = (id: ObjectId) => {
    for (const [rid, r] of records) if (r.commits[id] || r.erased.includes(id)) active.add(rid);
  };
  // 1. Refs.
  const tips = refTips(repo);
  const unmapped = tips.filter((t) => !preMap.has(t.tip)).map((t) => t.tip);
  const transform: EntryTransform = (_p, e) => {
    if (e.kind === 'tree' || !fileMap.has(e.id)) return undefined;
    const n = fileMap.get(e.id)!;
    if (n === null) return null;
    if (repo.store.hasObject(n)) return { ...e, id: n, kind: 'chunked', size: decodeChunkList(repo.store.getObject(n, 'chunk list'), n).size };
    // A blob: its size from the cache, or (data not fetched here) from a rewritten tree that names it.
    const size = repo.store.hasFile(n) ? repo.store.sizeOf('cache', n) : replacementEntries().get(n)?.size;
    if (size === undefined) throw new LodeError('NOT_FOUND', `the replacement ${n.slice(0, 12)} of an erased file is not in this workspace`, { hint: '`lode fetch --all`, then run the command again' });
    return { ...e, id: n, kind: 'blob', size };
  };
  let replacements: Map<ObjectId, TreeEntry> | undefined;
  const replacementEntries = (): Map<ObjectId, TreeEntry> => {
    if (replacements) return replacements;
    replacements = new Map();
    const wanted = new Set([...fileMap.values()].filter((x): x is ObjectId => x !== null));
    const seen = new Set<ObjectId>();
    const walk = (tree: ObjectId) => {
      if (seen.has(tree) || !repo.store.hasObject(tree)) return;
      seen.add(tree);
      for (const x of decodeTreeCached(repo, tree)) {
        if (x.kind === 'tree') walk(x.id);
        else if (wanted.has(x.id)) replacements!.set(x.id, x);
      }
    };
    for (const c of new Set(preMap.values())) if (repo.store.hasObject(c)) walk(readCommit(repo.store, c).tree);
    return replacements;
  };
  const rw = unmapped.length > 0 ? rewriteHistory(repo.store, unmapped, transform, { preMap, onlyDescendants: true, records: true }) : { commits: new Map<ObjectId, ObjectId>() };
  for (const t of tips) {
    const next = preMap.get(t.tip) ?? rw.commits.get(t.tip);
    if (!next || next === t.tip) continue;
    // A ref moves only to a commit this store holds, and (for a record made
    // elsewhere) only to one that is the old commit with another tree and
    // parents: a record cannot make a ref point at some other history.
    if (!repo.store.hasObject(next) || (repo.store.hasObject(t.tip) && !sameButTree(readCommit(repo.store, t.tip), readCommit(repo.store, next)))) {
      lastApply.refsKept.push(t.label);
      continue;
    }
    touched(t.tip);
    t.set(next);
    lastApply.refsMoved.push(t.label);
    faultPoint('after-ref');
  }
  // 2. Workspace files holding erased content.
  const index = await repo.readIndex();
  let indexChanged = false;
  const entries = [];
  for (const e of index.entries) {
    if (!fileMap.has(e.id)) {
      entries.push(e);
      continue;
    }
    const next = fileMap.get(e.id)!;
    const abs = repo.abs(e.path);
    if (next !== null && !repo.store.hasFile(next)) {
      // The replacement was never fetched here: the file stays (and keeps its content alive) until it is.
      lastApply.workspaceKept.push(e.path);
      entries.push(e);
      continue;
    }
    const st = fs.statSync(abs, { bigint: true, throwIfNoEntry: false });
    const unchanged = st !== undefined && st.isFile() && Number(st.size) === e.size && st.mtimeNs === e.mtimeNs && st.ino === e.ino;
    const isNew = next !== null && st !== undefined && sameBytes(abs, repo, next);
    const isOld = !unchanged && !isNew && st !== undefined && repo.store.hasFile(e.id) && sameBytes(abs, repo, e.id);
    if (!unchanged && !isNew && !isOld && st !== undefined) {
      lastApply.workspaceKept.push(e.path);
      entries.push(e);
      continue;
    }
    indexChanged = true;
    if (next === null) {
      rmQuiet(abs);
      // Folders the removal emptied go too (trees hold no empty folders).
      for (let dir = path.dirname(abs); dir.startsWith(repo.root + path.sep); dir = path.dirname(dir)) {
        try {
          fs.rmdirSync(dir);
        } catch {
          break;
        }
      }
      lastApply.workspaceFiles.push(e.path);
      continue;
    }
    if (!isNew) {
      const tmp = tempName(path.dirname(abs), '.lode-forget');
      if (repo.store.hasLooseFile(next)) fs.copyFileSync(repo.store.filePath(next), tmp);
      else fs.writeFileSync(tmp, repo.store.readBlob(next), { flag: 'wx' });
      fs.chmodSync(tmp, e.exec ? 0o755 : 0o644);
      fs.renameSync(tmp, abs);
    }
    const ns = fs.statSync(abs, { bigint: true });
    const kind: 'blob' | 'chunked' = repo.store.hasObject(next) ? 'chunked' : 'blob';
    entries.push({ ...e, id: next, kind, size: Number(ns.size), mtimeNs: ns.mtimeNs, ctimeNs: ns.ctimeNs, ino: ns.ino, xxh: 0n });
    lastApply.workspaceFiles.push(e.path);
    for (const [rid, r] of records) if (e.id in r.files) active.add(rid);
  }
  // Staged trees (IndexTrees) may name what was erased: they all go, and the index's are written again with it.
  repo.store.clearStaged();
  if (indexChanged) await repo.writeIndex({ ...index, entries });
  faultPoint('after-workspace');
  // 3. Delete what the records erased, unless something kept still reaches it.
  const live = reachableFrom(repo.store, [...refTips(repo).map((t) => t.tip), ...(repo.refs.headCommit() ? [repo.refs.headCommit()!] : [])]);
  for (const e of entries) live.files.add(e.id);
  const dropFiles = new Set<ObjectId>();
  const dropObjects: ObjectId[] = [];
  for (const rid of records.keys()) {
    for (const id of records.get(rid)!.erased) {
      if (live.commits.has(id) || live.trees.has(id) || live.files.has(id) || live.chunkLists.has(id) || live.records.has(id)) continue;
      const size = repo.store.sizeOf('objects', id) + repo.store.sizeOf('cache', id);
      if (size === 0 && !repo.store.hasObject(id) && !repo.store.hasFile(id)) continue;
      active.add(rid);
      if (repo.store.hasObject(id)) dropObjects.push(id);
      dropFiles.add(id);
      lastApply.objectsDeleted++;
      lastApply.bytesDeleted += size;
    }
  }
  // Each before what it names: a forget stopped halfway leaves no tree naming a deleted one.
  for (const id of parentsFirst(new Set(dropObjects), (x) => repo.store.getObject(x))) repo.store.remove('objects', id);
  // Loose cache files and packed ones (the local packs that held them are rewritten without them).
  repo.store.removeFiles(dropFiles);
  // Older versions kept split (objects/split.ts): their markers and the loose
  // chunks no kept version needs go too, so no erased byte stays in chunks/;
  // also when a run killed inside the pruning left nothing else to delete.
  const looseErased = [...records.values()].some((r) => r.erased.some((id) => repo.store.sizeOf('chunks', id) > 0));
  if (dropFiles.size > 0 || looseErased) {
    const pruned = pruneSplit(repo.store, live.files);
    lastApply.objectsDeleted += pruned.chunksRemoved;
    lastApply.bytesDeleted += pruned.bytesFreed;
    // Table profiles (contract checks, datasheets) cached by file ID may quote
    // erased values; they are keyed by a digest, so the whole cache goes.
    dropProfileCache(repo);
  }
  keepComplete(repo.store, live.commits);
  lastApply.records = [...active];
  return lastApply;
}

/** sameButTree says whether two commits differ at most in their tree, parents and record (what an erasure may change). */
function sameButTree(a: Commit, b: Commit): boolean {
  const strip = (c: Commit) => JSON.stringify({ ...c, tree: '', parents: c.parents.length, record: c.record === undefined ? 0 : 1 });
  return strip(a) === strip(b);
}

/** dropProfileCache removes the cached table profiles under `.lode/checks/` (the parsed contracts stay). */
function dropProfileCache(repo: Repository): void {
  const dir = path.join(repo.lodeDir, 'checks');
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (/^[0-9a-f]{2}$/.test(n)) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
}

/** sameBytes says whether the file at `abs` holds exactly cached file `id` (loose or packed). */
function sameBytes(abs: string, repo: Repository, id: ObjectId): boolean {
  try {
    if (fs.statSync(abs).size !== repo.store.sizeOf('cache', id)) return false;
    // Compared a piece at a time: a large table is never held whole, let alone twice.
    const src = repo.store.openBlob(id);
    const fd = fs.openSync(abs, 'r');
    try {
      const buf = Buffer.allocUnsafe(4 << 20);
      let at = 0;
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, at);
        if (n === 0) return at === src.length;
        if (at + n > src.length || !buf.subarray(0, n).equals(src.read(at, at + n))) return false;
        at += n;
      }
    } finally {
      fs.closeSync(fd);
      src.close();
    }
  } catch {
    return false;
  }
}

/** forgetOnRemote applies every erasure record to a remote (`lode forget --push`, `lode gc --remote --erase`). */
export async function forgetOnRemote(repo: Repository, remoteName?: string): Promise<RemoteEraseResult & { remote: string }> {
  const r = await openRemote(repo, remoteName);
  try {
    const log = new ErasureLog(repo.lodeDir);
    // Records the remote has and we lack first: they may erase more.
    const got = await pullRecords(r.store.backend, log);
    if (got.length > 0) await repo.withLock('forget', () => applyRecords(repo));
    const res = await eraseRemote({ store: repo.store, remote: r.store, log, refs: repo.refs, tracking: r.tracking, chunking: repo.config.settings().chunking, onStep: (s) => faultPoint(`remote-${s}`) });
    return { ...res, remote: r.name };
  } finally {
    await r.store.backend.close?.();
  }
}

export interface VerifyOptions {
  paths?: string[];
  rows?: ForgetOptions['rows'];
  /** Remotes whose every object is scanned too. */
  remotes?: string[];
  cwd?: string;
  progress?: ProgressSink;
}

export interface VerifyResult {
  /** Where matching content remains (empty: the rule matches nothing anywhere). */
  places: string[];
  scanned: { commits: number; localObjects: number; remoteObjects: number };
  /** Table versions the rule covers whose content is not in this workspace (a partial clone): not read here; a `--remote` scan reads them there. */
  notLocal: number;
  ok: boolean;
}

/** chunksOfLocalLists lists the chunks that the chunk lists of the history `starts` reach name. */
function chunksOfLocalLists(repo: Repository, starts: ObjectId[]): Set<ObjectId> {
  const out = new Set<ObjectId>();
  for (const id of reachableFrom(repo.store, starts).chunkLists) {
    if (!repo.store.hasObject(id)) continue;
    for (const c of decodeChunkList(repo.store.getObject(id, 'chunk list'), id).chunks) out.add(c.id);
  }
  return out;
}

/**
 * quotesKey says whether a check violation shows one of the rule's key
 * values: as its observed value (or one item of a list or range there), or
 * quoted in its message. Counts (numbers) are not values of the data.
 */
function quotesKey(v: CheckViolation, rule: RowRule): boolean {
  const parts = typeof v.observed === 'string' ? v.observed.split(/, |\.\./) : [];
  for (const values of rule.keys.values()) {
    for (const k of values) if (parts.includes(k) || v.message.includes(JSON.stringify(k))) return true;
  }
  return false;
}

/** countStored runs eraseRows (counting only) over stored file `id`, read in windows rather than whole. */
function countStored(repo: Repository, id: ObjectId, format: TableFormat, rule: RowRule): EraseOutcome {
  const src = repo.store.openBlob(id);
  try {
    return eraseRows(src, format, rule, true);
  } finally {
    src.close();
  }
}

/** sniffErase tries a blob of unknown origin as each erasable format; the first that parses and holds the rule's columns counts. */
async function sniffMatches(data: Buffer, rule: RowRule): Promise<number> {
  if (isParquet(data)) {
    const oc = await eraseParquetRows(data, rule, true);
    return oc.ok ? oc.removed : 0;
  }
  for (const f of ['jsonl', 'csv', 'tsv'] as const) {
    const oc = eraseRows(data, f, rule, true);
    if (oc.ok && oc.rows > 0) return oc.removed;
  }
  return 0;
}

/**
 * verifyForget scans every commit the workspace keeps, every local object
 * and cached file, and every object on the named remotes, and reports each
 * place where content the rule matches remains, and each object an erasure
 * record erased that is still present.
 */
export async function verifyForget(repo: Repository, o: VerifyOptions): Promise<VerifyResult> {
  const hasPaths = (o.paths?.length ?? 0) > 0;
  if (hasPaths === !!o.rows) throw new UsageError('--verify needs the same rule as the erasure: paths, or --rows with keys', { hint: 'e.g. `lode forget --verify --rows "*.csv" --key customer_id=42 --remote origin`' });
  const rule = o.rows ? rowRule(o.rows) : undefined;
  const repoPaths = hasPaths ? o.paths!.map((p) => repo.toRepoPath(p, o.cwd)) : [];
  const match = rule ? globMatcher(o.rows!.tables) : undefined;
  const places: string[] = [];
  const scanned = { commits: 0, localObjects: 0, remoteObjects: 0 };
  const erased = new ErasureLog(repo.lodeDir).erased();
  const pinned = await pinnedTips(repo);
  // Commits.
  const starts = [...new Set([...refTips(repo).map((t) => t.tip), ...pinned])];
  const outcome = new Map<ObjectId, number>();
  const notLocal = new Set<ObjectId>();
  for (const id of rewriteHistory(repo.store, starts, () => undefined, { dryRun: true }).order) {
    scanned.commits++;
    const walk = async (tree: ObjectId, dir: string): Promise<void> => {
      for (const e of decodeTreeCached(repo, tree)) {
        const p = dir === '' ? e.name : `${dir}/${e.name}`;
        if (!rule) {
          if (repoPaths.some((r) => isUnder(p, r))) places.push(`commit ${id.slice(0, 12)}: ${p}`);
          else if (e.kind === 'tree' && repoPaths.some((r) => isUnder(r, p))) await walk(e.id, p);
          continue;
        }
        if (e.kind === 'tree') await walk(e.id, p);
        else if (match!(p)) {
          const format = tableFormatOf(p);
          if (!format || !(ERASABLE_FORMATS.has(format) || format === 'parquet')) continue;
          if (!repo.store.hasFile(e.id)) {
            notLocal.add(e.id);
            continue;
          }
          let n = outcome.get(e.id);
          if (n === undefined) {
            const oc = format === 'parquet' ? await eraseParquetRows(repo.store.readBlob(e.id), rule, true) : countStored(repo, e.id, format, rule);
            n = oc.ok ? oc.removed : 0;
            outcome.set(e.id, n);
          }
          if (n > 0) places.push(`commit ${id.slice(0, 12)}: ${p} (${n} matching row${n === 1 ? '' : 's'})`);
        }
      }
    };
    const c = readCommit(repo.store, id);
    await walk(c.tree, '');
    // The commit's record: a check violation may quote a value of the erased data.
    if (c.record && repo.store.hasObject(c.record)) {
      let rec;
      try {
        rec = decodeRecord(repo.store.getObject(c.record, 'record'), c.record);
      } catch {
        rec = undefined; // fsck reports a corrupt record
      }
      for (const v of rec?.checks?.violations ?? []) {
        if (v.redacted) continue;
        const hit = rule ? match!(v.path) && quotesKey(v, rule) : repoPaths.some((r) => isUnder(v.path, r));
        if (hit) places.push(`commit ${id.slice(0, 12)}: its record's check violation ${v.rule} on ${v.path} ${rule ? 'quotes an erased value' : 'is about an erased file'}`);
      }
    }
  }
  // Local objects and cached files.
  for (const which of ['objects', 'cache'] as const) {
    for (const id of repo.store.listIds(which)) {
      scanned.localObjects++;
      if (erased.has(id)) {
        places.push(`local ${which === 'objects' ? 'object' : 'cached file'} ${id} (erased by a record, still present)`);
        continue;
      }
      if (which === 'cache' && rule && !outcome.has(id)) {
        const n = await sniffMatches(repo.store.readBlob(id), rule);
        if (n > 0) places.push(`local cached file ${id} (${n} matching row${n === 1 ? '' : 's'})`);
      }
    }
  }
  // Remotes: every object of every indexed pack.
  let knownChunks: Set<ObjectId> | undefined;
  for (const name of o.remotes ?? []) {
    const r = await openRemote(repo, name);
    try {
      await r.store.refresh();
      for (const ref of await r.store.refs()) {
        if (new ErasureLog(repo.lodeDir).follow(ref.id)) places.push(`remote ${r.name}: ${ref.kind === 'heads' ? 'branch' : 'tag'} ${ref.name} holds a replaced commit ${ref.id.slice(0, 12)}`);
      }
      // Streamed: objects are read pack range by pack range and never kept;
      // what stays in memory is IDs, chunk lists, and one chunked file at a
      // time while it is reassembled to be read as a table.
      const ids: ObjectId[] = [];
      for (const [, idx] of r.store.indexedPacks()) for (const e of idx.entries()) ids.push(e.id);
      for (const id of ids) {
        scanned.remoteObjects++;
        // An erased object is known by its ID: no need to read it.
        if (erased.has(id)) places.push(`remote ${r.name}: object ${id} (erased by a record, still present)`);
      }
      if (!rule) continue;
      // Chunks of the chunked files this workspace knows are read as their files only (pass 2).
      knownChunks ??= chunksOfLocalLists(repo, starts);
      const lists: { id: ObjectId; size: number; chunks: { id: ObjectId; size: number }[] }[] = [];
      const hits = new Map<ObjectId, number>();
      await r.store.fetchObjects(
        [...new Set(ids)].filter((id) => !knownChunks!.has(id)),
        async (id, data) => {
          if (data.subarray(0, 4).toString('latin1') === 'LODC') {
            try {
              const l = decodeChunkList(data, id);
              lists.push({ id, size: l.size, chunks: l.chunks.map((c) => ({ id: c.id, size: c.size })) });
              return;
            } catch {
              // not a chunk list after all
            }
          }
          const n = await sniffMatches(data, rule);
          if (n > 0) hits.set(id, n);
        },
        o.progress,
      );
      const inLists = new Set(lists.flatMap((l) => l.chunks.map((c) => c.id)));
      // A chunk this workspace knows but no chunk list on the remote names is read on its own, like any blob.
      const stray = [...new Set(ids)].filter((id) => knownChunks!.has(id) && !inLists.has(id));
      if (stray.length > 0) {
        await r.store.fetchObjects(stray, async (id, data) => {
          const n = await sniffMatches(data, rule);
          if (n > 0) hits.set(id, n);
        });
      }
      for (const [id, n] of hits) if (!inLists.has(id)) places.push(`remote ${r.name}: object ${id} (${n} matching row${n === 1 ? '' : 's'})`);
      // Pass 2: each chunked file whose chunks are all on the remote, reassembled into one buffer of its size.
      for (const l of lists) {
        if (!l.chunks.every((c) => r.store.location(c.id))) continue;
        const file = Buffer.allocUnsafe(l.size);
        const at = new Map<ObjectId, number[]>();
        let off = 0;
        for (const c of l.chunks) {
          at.set(c.id, [...(at.get(c.id) ?? []), off]);
          off += c.size;
        }
        await r.store.fetchObjects(at.keys(), (id, data) => {
          for (const o2 of at.get(id)!) data.copy(file, o2);
        });
        const n = await sniffMatches(file, rule);
        if (n > 0) places.push(`remote ${r.name}: chunked file ${l.id} (${n} matching row${n === 1 ? '' : 's'})`);
      }
    } finally {
      await r.store.backend.close?.();
    }
  }
  return { places, scanned, notLocal: notLocal.size, ok: places.length === 0 };
}
