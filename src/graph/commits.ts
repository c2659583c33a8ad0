/**
 * The commit graph: reading commits, resolving revisions (branch, tag, ID
 * prefix, HEAD~n, ^n), walking history and finding everything reachable.
 */
import { directoryEntries, storeTrees } from './trees.js';
import { decodeCommit, decodeChunkList, isCommitEncoding, treeLinks, type Commit } from '../core/encoding.js';
import { decodeRecord } from '../core/record.js';
import { LodeError, NotFoundError, UnknownRevisionError } from '../core/errors.js';
import { isObjectId, type ObjectId } from '../core/id.js';
import type { RefStore } from './refs.js';

/** CommitStore is the part of the object store the graph needs. */
export interface CommitStore {
  getObject(id: ObjectId, what?: string): Buffer;
  findObjectsByPrefix(prefix: string): ObjectId[];
  hasObject(id: ObjectId): boolean;
}

export function readCommit(store: CommitStore, id: ObjectId): Commit {
  return decodeCommit(store.getObject(id, 'commit'), id);
}

/** ResolvedRevision is a commit plus how the revision named it. */
export interface ResolvedRevision {
  id: ObjectId;
  commit: Commit;
  /** The branch the revision named directly, if any (checkout switches to it). */
  branch?: string;
  tag?: string;
}

const SUFFIX_RE = /(~\d*|\^\d*)+$/;

/**
 * resolveRevision turns a revision string into a commit. Names resolve in
 * this order: HEAD, branch, tag, full or abbreviated (>= 4 hex) commit ID;
 * then `~n` (n-th first parent) and `^n` (n-th parent) suffixes apply.
 * Throws UnknownRevisionError when nothing matches or a prefix is ambiguous.
 */
export function resolveRevision(store: CommitStore, refs: RefStore, rev: string): ResolvedRevision {
  const m = SUFFIX_RE.exec(rev);
  const base = m ? rev.slice(0, m.index) : rev;
  const suffix = m ? m[0] : '';
  let id: ObjectId | undefined;
  let branch: string | undefined;
  let tag: string | undefined;
  if (base === 'HEAD' || base === '@') {
    id = refs.headCommit();
    if (!id) throw new UnknownRevisionError(rev, { hint: 'the current branch has no commits yet: run `lode commit` first' });
  } else {
    const name = base.startsWith('refs/heads/') ? base.slice(11) : base.startsWith('refs/tags/') ? base.slice(10) : base;
    if (!base.startsWith('refs/tags/')) {
      id = refs.get('heads', name);
      if (id) branch = name;
    }
    if (!id && !base.startsWith('refs/heads/')) {
      id = refs.get('tags', name);
      if (id) tag = name;
    }
    if (!id && /^[0-9a-f]{4,64}$/.test(base)) {
      const found = isObjectId(base) ? (store.hasObject(base) ? [base] : []) : store.findObjectsByPrefix(base).filter((c) => isCommit(store, c));
      if (found.length > 1) throw new UnknownRevisionError(rev, { hint: `the prefix ${base} matches ${found.length} commits: give more digits` });
      id = found[0];
    }
  }
  if (!id) throw new UnknownRevisionError(rev);
  let commit = readCommitFor(store, id, rev);
  if (suffix) {
    branch = undefined;
    tag = undefined;
    for (const step of suffix.match(/[~^]\d*/g) ?? []) {
      const n = step.length > 1 ? Number(step.slice(1)) : 1;
      if (step[0] === '~') {
        for (let k = 0; k < n; k++) {
          const p = commit.parents[0];
          if (!p) throw new UnknownRevisionError(rev, { hint: `history of ${base} is shorter than that` });
          id = p;
          commit = readCommitFor(store, id, rev);
        }
      } else if (n > 0) {
        const p = commit.parents[n - 1];
        if (!p) throw new UnknownRevisionError(rev, { hint: `that commit has no parent number ${n}` });
        id = p;
        commit = readCommitFor(store, id, rev);
      }
    }
  }
  return { id: id!, commit, branch, tag };
}

function isCommit(store: CommitStore, id: ObjectId): boolean {
  try {
    return isCommitEncoding(store.getObject(id));
  } catch {
    return false;
  }
}

function readCommitFor(store: CommitStore, id: ObjectId, rev: string): Commit {
  let bytes: Buffer;
  try {
    bytes = store.getObject(id, 'commit');
  } catch (e) {
    if (e instanceof NotFoundError) throw new UnknownRevisionError(rev, { hint: `commit ${id} is not in the local store`, cause: e });
    throw e;
  }
  if (!isCommitEncoding(bytes)) throw new UnknownRevisionError(rev, { hint: `${id.slice(0, 12)} is not a commit` });
  return decodeCommit(bytes, id);
}

/**
 * walkHistory yields commits reachable from `starts`, newest first (by commit
 * time, then ID), each once.
 */
export function* walkHistory(store: CommitStore, starts: ObjectId[]): Generator<{ id: ObjectId; commit: Commit }> {
  const seen = new Set<ObjectId>();
  const queue: { id: ObjectId; commit: Commit }[] = [];
  const push = (id: ObjectId) => {
    if (seen.has(id)) return;
    seen.add(id);
    queue.push({ id, commit: readCommit(store, id) });
  };
  for (const s of starts) push(s);
  while (queue.length > 0) {
    // Histories here are short enough that a linear max-scan beats a heap's bookkeeping.
    let best = 0;
    for (let i = 1; i < queue.length; i++) {
      const a = queue[i].commit.time;
      const b = queue[best].commit.time;
      if (a > b || (a === b && queue[i].id > queue[best].id)) best = i;
    }
    const next = queue.splice(best, 1)[0];
    yield next;
    for (const p of next.commit.parents) push(p);
  }
}

/** isAncestor says whether commit `a` is reachable from `b` (a commit is its own ancestor). */
export function isAncestor(store: CommitStore, a: ObjectId, b: ObjectId): boolean {
  for (const c of walkHistory(store, [b])) if (c.id === a) return true;
  return false;
}

/** Reachable is every object ID reachable from some commits. */
export interface Reachable {
  commits: Set<ObjectId>;
  trees: Set<ObjectId>;
  chunkLists: Set<ObjectId>;
  /** File IDs (cache entries): blobs and chunked files. */
  files: Set<ObjectId>;
  /** Record objects the commits name (provenance, check results). */
  records: Set<ObjectId>;
  /** Problems met on the way (a missing or corrupt object), by object ID. */
  problems: Map<ObjectId, string>;
}

/**
 * reachableFrom walks commits, trees and chunk lists from `commits` (and extra
 * root trees), collecting every ID. Missing or corrupt objects are recorded in
 * `problems` rather than thrown, so gc and fsck can report them all.
 */
export function reachableFrom(store: CommitStore, commits: ObjectId[], extraTrees: ObjectId[] = []): Reachable {
  const r: Reachable = { commits: new Set(), trees: new Set(), chunkLists: new Set(), files: new Set(), records: new Set(), problems: new Map() };
  const note = (id: ObjectId, e: unknown) => r.problems.set(id, e instanceof LodeError ? e.message : String(e));
  const stack = [...commits];
  const trees: ObjectId[] = [...extraTrees];
  // Directories (not shards of one), and the tree objects that are shard nodes.
  const dirs = new Set<ObjectId>(extraTrees);
  const sharded = new Set<ObjectId>();
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (r.commits.has(id)) continue;
    r.commits.add(id);
    try {
      const c = readCommit(store, id);
      trees.push(c.tree);
      dirs.add(c.tree);
      stack.push(...c.parents);
      if (c.record && !r.records.has(c.record)) {
        r.records.add(c.record);
        try {
          decodeRecord(store.getObject(c.record, 'record'), c.record);
        } catch (e) {
          note(c.record, e);
        }
      }
    } catch (e) {
      note(id, e);
    }
  }
  while (trees.length > 0) {
    const id = trees.pop()!;
    if (r.trees.has(id)) continue;
    r.trees.add(id);
    let entries;
    try {
      const links = treeLinks(store.getObject(id, 'tree'), id);
      entries = links.entries;
      trees.push(...links.shards);
      if (links.shards.length > 0) sharded.add(id);
    } catch (e) {
      note(id, e);
      continue;
    }
    for (const e of entries) {
      if (e.kind === 'tree') {
        trees.push(e.id);
        dirs.add(e.id);
      } else {
        r.files.add(e.id);
        if (e.kind === 'chunked' && !r.chunkLists.has(e.id)) {
          r.chunkLists.add(e.id);
          try {
            decodeChunkList(store.getObject(e.id, 'chunk list'), e.id);
          } catch (err) {
            note(e.id, err);
          }
        }
      }
    }
  }
  // A sharded directory's objects each decode on their own; whether they fit
  // together (ranges, totals, levels) shows only when it is read whole.
  const src = storeTrees(store);
  for (const id of dirs) {
    if (!sharded.has(id)) continue;
    try {
      directoryEntries(src, id);
    } catch (e) {
      note(id, e);
    }
  }
  return r;
}
