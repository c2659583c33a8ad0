/**
 * History rewriting: new commits for every commit whose tree a transform
 * changes, and for every descendant of one (its parents change). Each new
 * commit carries every field of the old one (author, time, message, git
 * head, datasets and any header a newer lode adds) except the tree and the
 * parents; so rewriting the same history with the same transform always
 * gives the same commit IDs, which is what lets an interrupted erasure be
 * run again to the same result.
 *
 * Directories are read whole (their shards joined, see trees.ts) and a
 * changed one is written back with encodeDirectory, so it is sharded (or
 * not) exactly as `lode add` would build the same files: the rewritten tree
 * IDs equal those of a fresh repository holding the rewritten files.
 */
import { encodeCommit, type Commit, type EntryKind, type TreeEntry } from '../core/encoding.js';
import { sha256, type ObjectId } from '../core/id.js';
import { joinPath } from '../core/paths.js';
import { decodeRecord, encodeRecord, type CommitRecord } from '../core/record.js';
import { readCommit, type CommitStore } from './commits.js';
import { recordCommits, rewriteRecord } from './record-rewrite.js';
import { encodeDirectory, lookupPath, TreePool } from './trees.js';

/** RewriteStore is what rewriting reads and writes. */
export interface RewriteStore extends CommitStore {
  putObject(bytes: Uint8Array): ObjectId;
}

/**
 * EntryTransform decides one tree entry at `path`: undefined keeps it (and
 * for a folder, looks inside), null removes it, an entry replaces it (its
 * name must stay the same).
 */
export type EntryTransform = (path: string, entry: TreeEntry) => TreeEntry | null | undefined;

export interface RewriteOptions {
  /** Commits already rewritten (by an earlier erasure): used as they are, never read. */
  preMap?: ReadonlyMap<ObjectId, ObjectId>;
  /** Only commits with a rewritten ancestor are looked at (their trees too); others stay as they are. */
  onlyDescendants?: boolean;
  /** Compute IDs without storing anything. */
  dryRun?: boolean;
  /**
   * Rewrite the records of rewritten commits (record-rewrite.ts): IDs mapped
   * to the new history, erased inputs and outputs set apart, violations on
   * changed paths redacted. A commit whose record names a rewritten commit
   * is rewritten too, and comes after it in `order`.
   */
  records?: boolean;
}

export interface RewriteResult {
  /** Old commit -> new commit, for every commit that changed (preMap entries included when met). */
  commits: Map<ObjectId, ObjectId>;
  /** Every commit looked at, parents before children. */
  order: ObjectId[];
  /** Commits whose own tree changed (not only their parents). */
  treeChanged: Set<ObjectId>;
  /** Old record -> new record, for every record rewritten (with `records`). */
  records: Map<ObjectId, ObjectId>;
}

/**
 * topoOrder lists the commits `starts` reach, parents first, stopping at
 * `leaves`; `after` names more commits that must come before a commit (and
 * are walked like parents).
 */
export function topoOrder(store: CommitStore, starts: ObjectId[], leaves: ReadonlyMap<ObjectId, ObjectId> = new Map(), after?: (c: Commit) => ObjectId[]): ObjectId[] {
  const deps = (id: ObjectId): ObjectId[] => {
    const c = readCommit(store, id);
    return after ? [...c.parents, ...after(c)] : c.parents;
  };
  const out: ObjectId[] = [];
  const state = new Map<ObjectId, 1 | 2>();
  for (const s of starts) {
    if (state.has(s) || leaves.has(s)) continue;
    const stack: { id: ObjectId; parents: ObjectId[]; i: number }[] = [];
    state.set(s, 1);
    stack.push({ id: s, parents: deps(s), i: 0 });
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.i < top.parents.length) {
        const p = top.parents[top.i++];
        if (state.has(p) || leaves.has(p)) continue;
        state.set(p, 1);
        stack.push({ id: p, parents: deps(p), i: 0 });
      } else {
        state.set(top.id, 2);
        out.push(top.id);
        stack.pop();
      }
    }
  }
  return out;
}

/** rewriteHistory applies `transform` to every tree of the history `starts` reach; see the module comment. */
export function rewriteHistory(store: RewriteStore, starts: ObjectId[], transform: EntryTransform, o: RewriteOptions = {}): RewriteResult {
  const preMap = o.preMap ?? new Map<ObjectId, ObjectId>();
  const put = (bytes: Buffer): ObjectId => (o.dryRun ? sha256(bytes) : store.putObject(bytes));
  const pool = new TreePool(store);
  // A changed directory: one tree, or a shard node over leaves (all stored unless dryRun; then kept in the pool, for record lookups).
  const putDirectory = (entries: TreeEntry[]): ObjectId => {
    const objects = new Map<ObjectId, Buffer>();
    const id = encodeDirectory(entries, objects);
    if (!o.dryRun) for (const b of objects.values()) store.putObject(b);
    else pool.addBuilt(objects);
    return id;
  };
  type Rewritten = { id: ObjectId; size: number; files: number; changed: string[] };
  const memo = new Map<string, Rewritten | null>();
  // What became of each object at each path the transform changed (`id\0path`): for records.
  const objectMap = new Map<string, { kind: EntryKind; id: ObjectId } | null>();
  // Returns the new tree (null: unchanged).
  const rewriteTree = (id: ObjectId, dir: string): Rewritten | null => {
    const key = `${id}\0${dir}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    const entries = pool.readTree(id);
    const changedPaths: string[] = [];
    const out: TreeEntry[] = [];
    for (const e of entries) {
      const p = joinPath(dir, e.name);
      const t = transform(p, e);
      if (t === null) {
        changedPaths.push(p);
        objectMap.set(`${e.id}\0${p}`, null);
        continue;
      }
      if (t !== undefined) {
        if (t.id !== e.id || t.kind !== e.kind || t.size !== e.size || t.exec !== e.exec) {
          changedPaths.push(p);
          objectMap.set(`${e.id}\0${p}`, { kind: t.kind, id: t.id });
        }
        // A file counts 1 in `files` (a shard node records the sum, and readers check it).
        out.push({ ...t, name: e.name, files: t.kind === 'tree' ? t.files : 1 });
        continue;
      }
      if (e.kind === 'tree') {
        const sub = rewriteTree(e.id, p);
        if (sub) {
          changedPaths.push(...sub.changed);
          // An emptied folder is not recorded (trees hold no empty directories).
          objectMap.set(`${e.id}\0${p}`, sub.files > 0 ? { kind: 'tree', id: sub.id } : null);
          if (sub.files > 0) out.push({ ...e, id: sub.id, size: sub.size, files: sub.files });
          continue;
        }
      }
      out.push(e);
    }
    let result: Rewritten | null = null;
    if (changedPaths.length > 0) {
      let size = 0;
      let files = 0;
      for (const e of out) {
        size += e.size;
        files += e.kind === 'tree' ? e.files : 1;
      }
      result = { id: putDirectory(out), size, files, changed: changedPaths };
    }
    memo.set(key, result);
    return result;
  };
  const readRecordOf = (c: Commit): CommitRecord | undefined => {
    if (!c.record || !store.hasObject(c.record)) return undefined;
    return decodeRecord(store.getObject(c.record, 'record'), c.record);
  };
  let order = topoOrder(store, starts, preMap);
  if (o.records) {
    // A record names the commits its inputs came from: those come first, so their new IDs are known.
    const inHistory = new Set(order);
    order = topoOrder(store, starts, preMap, (c) => {
      const r = readRecordOf(c);
      return r ? recordCommits(r).filter((x) => inHistory.has(x)) : [];
    });
  }
  const commits = new Map<ObjectId, ObjectId>();
  const records = new Map<ObjectId, ObjectId>();
  const treeChanged = new Set<ObjectId>();
  // The changed paths of each commit whose tree changed; the new root tree of each new commit.
  const changedOf = new Map<ObjectId, string[]>();
  const newTrees = new Map<ObjectId, ObjectId>();
  const mapped = (p: ObjectId) => commits.get(p) ?? preMap.get(p) ?? p;
  const treeOf = (id: ObjectId): ObjectId | undefined => newTrees.get(id) ?? (store.hasObject(id) ? readCommit(store, id).tree : undefined);
  for (const id of order) {
    const c = readCommit(store, id);
    const parents = c.parents.map(mapped);
    const parentsChanged = parents.some((p, i) => p !== c.parents[i]);
    const record = o.records ? readRecordOf(c) : undefined;
    const inputsChanged = record !== undefined && recordCommits(record).some((x) => mapped(x) !== x);
    if (o.onlyDescendants && !parentsChanged && !inputsChanged) continue;
    const t = rewriteTree(c.tree, '');
    if (!t && !parentsChanged && !inputsChanged) continue;
    if (t) {
      treeChanged.add(id);
      changedOf.set(id, t.changed);
    }
    const tree = t ? t.id : c.tree;
    let recordId = c.record;
    if (record && c.record) {
      const affected = [...(t?.changed ?? []), ...c.parents.flatMap((p) => changedOf.get(p) ?? [])];
      const next = rewriteRecord(record, {
        mapCommit: mapped,
        treeOf,
        lookup: (root, p) => lookupPath(pool, root, p),
        mapObject: (oid, p) => objectMap.get(`${oid}\0${p}`),
        tree,
        affected,
      });
      if (next !== record) {
        recordId = put(encodeRecord(next));
        records.set(c.record, recordId);
      }
    }
    // Every other field (headers this lode does not know included) is carried over as it is.
    const next = put(encodeCommit({ ...c, tree, parents, ...(recordId ? { record: recordId } : {}) }));
    newTrees.set(next, tree);
    if (next !== id) commits.set(id, next);
  }
  for (const s of starts) if (preMap.has(s)) commits.set(s, preMap.get(s)!);
  return { commits, order, treeChanged, records };
}
