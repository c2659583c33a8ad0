/**
 * Merkle trees of datasets: building them from a flat, sorted file list,
 * reading them back, and walking them. A tree's ID covers everything beneath
 * it, so equal IDs mean equal subtrees and whole directories can be skipped.
 */
import {
  decodeTreeObject,
  encodeShardNode,
  encodeTree,
  SHARD_BITS_MAX,
  SHARD_BITS_MIN,
  shardRank,
  shardThreshold,
  type EntryKind,
  type ShardNode,
  type ShardRef,
  type TreeEntry,
  type TreeObject,
} from '../core/encoding.js';
import { CorruptObjectError, NotFoundError } from '../core/errors.js';
import { sha256, type ObjectId } from '../core/id.js';
import { baseName, compareNames, comparePaths, isUnder, joinPath, parentPath } from '../core/paths.js';

/** FileEntry is one file at a repo-relative path. */
export interface FileEntry {
  path: string;
  kind: 'blob' | 'chunked';
  id: ObjectId;
  size: number;
  exec: boolean;
}

/**
 * TreeSource reads trees by ID (the local store, or trees built in memory).
 * `readTree` gives a whole directory, its shards (if it has any) joined and
 * checked; `readObject` gives one stored object, for walks that skip shards.
 */
export interface TreeSource {
  /** readTree returns every entry of directory `id` in name order; CorruptObjectError if its shards do not fit together. */
  readTree(id: ObjectId): TreeEntry[];
  /** readObject returns tree object `id` as stored: entries, or a shard node. */
  readObject(id: ObjectId): TreeObject;
}

/**
 * objectTrees makes a TreeSource from a function reading single tree objects.
 * Nothing is cached: wrap it in a TreePool for repeated reads.
 */
export function objectTrees(readObject: (id: ObjectId) => TreeObject): TreeSource {
  const src: TreeSource = {
    readObject,
    readTree: (id) => directoryEntries(src, id),
  };
  return src;
}

// ---------------------------------------------------------------- shards

/**
 * DEFAULT_SHARD_BITS: leaves and shard nodes of about 64 entries (a leaf is
 * about 3 KiB), so directories of more than 256 entries are sharded. Smaller
 * leaves make one change cheaper (a 1% change spread over a dataset rewrites
 * one leaf per changed file) and cost more objects to walk whole.
 */
export const DEFAULT_SHARD_BITS = 6;

/**
 * writerShardBits is the `bits` new sharded directories are written with.
 * LODE_TEST_SHARD_BITS overrides it, for tests only (small directories then
 * shard, so a test can exercise sharding without a million files); readers
 * take `bits` from each node and never look at it.
 */
export function writerShardBits(): number {
  const v = process.env.LODE_TEST_SHARD_BITS;
  if (v === undefined || v === '') return DEFAULT_SHARD_BITS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < SHARD_BITS_MIN || n > SHARD_BITS_MAX) throw new RangeError(`LODE_TEST_SHARD_BITS must be an integer from ${SHARD_BITS_MIN} to ${SHARD_BITS_MAX}`);
  return n;
}

/**
 * encodeDirectory stores a directory's sorted, valid entries into `objects`
 * and returns its tree ID: one version-1 tree up to shardThreshold(bits)
 * entries, a sharded tree above (see ShardNode).
 */
export function encodeDirectory(entries: readonly TreeEntry[], objects: Map<ObjectId, Buffer>, bits = writerShardBits()): ObjectId {
  const put = (b: Buffer) => {
    const id = sha256(b);
    objects.set(id, b);
    return id;
  };
  if (entries.length <= shardThreshold(bits)) return put(encodeTree(entries));
  // Leaves: cut after every name of rank >= 1.
  let refs: (ShardRef & { rank: number })[] = [];
  let start = 0;
  let files = 0;
  let size = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    files += e.files;
    size += e.size;
    const rank = shardRank(e.name, bits);
    if (rank >= 1 || i === entries.length - 1) {
      const id = put(encodeTree(entries.slice(start, i + 1)));
      refs.push({ id, entries: i + 1 - start, files, size, last: e.name, rank });
      start = i + 1;
      files = 0;
      size = 0;
    }
  }
  // Level by level: a level-n node ends after a child whose last name has rank >= n + 1.
  for (let level = 1; ; level++) {
    const groups: (typeof refs)[] = [];
    let cur: typeof refs = [];
    for (const r of refs) {
      cur.push(r);
      if (r.rank >= level + 1) {
        groups.push(cur);
        cur = [];
      }
    }
    if (cur.length > 0) groups.push(cur);
    const node = (g: typeof refs): Buffer => encodeShardNode({ bits, level, children: g.map(({ rank: _, ...c }) => c) });
    if (groups.length === 1) return put(node(groups[0]));
    refs = groups.map((g) => {
      const last = g[g.length - 1];
      return { id: put(node(g)), entries: sum(g, 'entries'), files: sum(g, 'files'), size: sum(g, 'size'), last: last.last, rank: last.rank };
    });
  }
}

function sum(refs: readonly ShardRef[], key: 'entries' | 'files' | 'size'): number {
  let n = 0;
  for (const r of refs) n += r[key];
  return n;
}

/**
 * Leaf is one run of a directory's entries stored in one object: a leaf of a
 * sharded directory (with the totals and last name its parent declares), or
 * a whole unsharded directory (`whole`).
 */
export interface Leaf {
  id: ObjectId;
  whole: boolean;
  entries: number;
  files: number;
  size: number;
  last: string;
  bits: number;
  /** A whole directory's entries, already read. */
  read?: TreeEntry[];
}

function shardFail(dir: ObjectId, at: ObjectId, why: string): CorruptObjectError {
  return new CorruptObjectError(`tree object ${at} is corrupt: sharded directory ${dir}: ${why}`, { objectId: at });
}

/** checkShardRoot refuses a root shard node that the writer would not have made. */
function checkShardRoot(id: ObjectId, node: ShardNode): void {
  if (node.level > 1 && node.children.length < 2) throw shardFail(id, id, 'a root shard node with a single child');
  const n = sum(node.children, 'entries');
  if (n <= shardThreshold(node.bits)) throw shardFail(id, id, `sharded with ${n} entries, no more than the ${shardThreshold(node.bits)} a single tree holds`);
}

/** checkShardChild checks shard node `child`, read for record `ref` of a level-`level` node. */
function checkShardChild(dir: ObjectId, ref: ShardRef, child: TreeObject, level: number, bits: number, prevLast: string | undefined): ShardNode {
  if (child.kind !== 'shards') throw shardFail(dir, ref.id, `a leaf where a level-${level - 1} shard node belongs`);
  const n = child.node;
  if (n.bits !== bits || n.level !== level - 1) throw shardFail(dir, ref.id, `shard node of level ${n.level} (bits ${n.bits}) under level ${level} (bits ${bits})`);
  if (n.children[n.children.length - 1].last !== ref.last) throw shardFail(dir, ref.id, "last name differs from its parent's record");
  if (sum(n.children, 'entries') !== ref.entries || sum(n.children, 'files') !== ref.files || sum(n.children, 'size') !== ref.size) throw shardFail(dir, ref.id, "totals differ from its parent's record");
  if (prevLast !== undefined && compareNames(prevLast, n.children[0].last) >= 0) throw shardFail(dir, ref.id, `shard ranges overlap at ${JSON.stringify(n.children[0].last)}`);
  return n;
}

/** checkLeaf checks a leaf's entries against record `ref`: count, totals, last name, order after `prevLast`, no cut inside. */
function checkLeaf(ref: ShardRef, obj: TreeObject, bits: number, prevLast: string | undefined): TreeEntry[] {
  const fail = (why: string) => new CorruptObjectError(`tree object ${ref.id} is corrupt: shard leaf: ${why}`, { objectId: ref.id });
  if (obj.kind !== 'entries') throw fail('a shard node where a leaf belongs');
  const es = obj.entries;
  if (es.length !== ref.entries) throw fail(`${es.length} entries where its parent records ${ref.entries}`);
  let files = 0;
  let size = 0;
  for (let i = 0; i < es.length; i++) {
    files += es[i].files;
    size += es[i].size;
    if (i < es.length - 1 && shardRank(es[i].name, bits) !== 0) throw fail(`a cut inside the leaf at ${JSON.stringify(es[i].name)}`);
  }
  if (files !== ref.files || size !== ref.size) throw fail("totals differ from its parent's record");
  if (es[es.length - 1].name !== ref.last) throw fail("last name differs from its parent's record");
  if (prevLast !== undefined && compareNames(prevLast, es[0].name) >= 0) throw fail(`overlaps the previous leaf at ${JSON.stringify(es[0].name)}`);
  return es;
}

/**
 * directoryLeaves lists the leaves of directory `id` in order, reading only
 * shard nodes. It checks that the nodes fit together: a root that is a real
 * root (large enough, not a lone child), levels that step down by one, the
 * same `bits` throughout, children totals that match, and leaf ranges in
 * strictly increasing order. A forged structure is a CorruptObjectError.
 */
export function directoryLeaves(src: TreeSource, id: ObjectId): Leaf[] {
  const root = src.readObject(id);
  if (root.kind === 'entries') {
    const es = root.entries;
    return [{ id, whole: true, entries: es.length, files: 0, size: 0, last: es.length ? es[es.length - 1].name : '', bits: 0, read: es }];
  }
  checkShardRoot(id, root.node);
  const bits = root.node.bits;
  const out: Leaf[] = [];
  const rec = (node: ShardNode) => {
    for (const c of node.children) {
      const prevLast = out.length > 0 ? out[out.length - 1].last : undefined;
      if (node.level === 1) {
        if (prevLast !== undefined && compareNames(prevLast, c.last) >= 0) throw shardFail(id, c.id, `shard ranges overlap at ${JSON.stringify(c.last)}`);
        out.push({ ...c, whole: false, bits });
      } else rec(checkShardChild(id, c, src.readObject(c.id), node.level, bits, prevLast));
    }
  };
  rec(root.node);
  return out;
}

/**
 * readLeaf returns the entries of `leaves[k]` (from directoryLeaves), checked
 * against what the shard nodes declare: count, totals, last name, order after
 * the previous leaf, and no cut inside the leaf.
 */
export function readLeaf(src: TreeSource, leaves: readonly Leaf[], k: number): TreeEntry[] {
  const leaf = leaves[k];
  if (leaf.read) return leaf.read;
  return checkLeaf(leaf, src.readObject(leaf.id), leaf.bits, k > 0 ? leaves[k - 1].last : undefined);
}

type Frame = { kind: 'node'; node: ShardNode; i: number; ref?: ShardRef } | { kind: 'leaf'; entries: TreeEntry[]; i: number; ref?: ShardRef };

/**
 * DirectoryCursor walks a directory's entries in name order, opening shard
 * nodes and leaves only when asked: a caller comparing two directories skips
 * every subtree whose ID both sides share (`subtree` and `skip`), so its reads
 * follow the change. Everything it opens is checked as directoryLeaves and
 * readLeaf check it.
 */
export class DirectoryCursor {
  private readonly stack: Frame[] = [];
  private prevLast: string | undefined;
  private bits = 0;

  constructor(
    private readonly src: TreeSource,
    private readonly dir: ObjectId | undefined,
  ) {
    if (dir === undefined) return;
    const root = src.readObject(dir);
    if (root.kind === 'entries') this.stack.push({ kind: 'leaf', entries: root.entries, i: 0 });
    else {
      checkShardRoot(dir, root.node);
      this.bits = root.node.bits;
      this.stack.push({ kind: 'node', node: root.node, i: 0 });
    }
  }

  /** normalize drops finished frames, moving their parents on. */
  private normalize(): Frame | undefined {
    while (this.stack.length > 0) {
      const top = this.stack[this.stack.length - 1];
      const n = top.kind === 'node' ? top.node.children.length : top.entries.length;
      if (top.i < n) return top;
      this.stack.pop();
      if (top.ref) this.prevLast = top.ref.last;
      if (this.stack.length > 0) this.stack[this.stack.length - 1].i++;
    }
    return undefined;
  }

  /** subtree is the unopened subtree the cursor stands before: its ID and level (0: a leaf); undefined inside a leaf or at the end. */
  subtree(): { id: ObjectId; level: number } | undefined {
    const top = this.normalize();
    if (!top || top.kind !== 'node') return undefined;
    return { id: top.node.children[top.i].id, level: top.node.level - 1 };
  }

  /** skip passes over the subtree the cursor stands before, unread. */
  skip(): void {
    const top = this.normalize();
    if (!top || top.kind !== 'node') throw new Error('DirectoryCursor.skip: not before a subtree');
    this.prevLast = top.node.children[top.i].last;
    top.i++;
  }

  /** open reads the subtree the cursor stands before, one level down. */
  open(): void {
    const top = this.normalize();
    if (!top || top.kind !== 'node') throw new Error('DirectoryCursor.open: not before a subtree');
    const ref = top.node.children[top.i];
    const obj = this.src.readObject(ref.id);
    if (top.node.level === 1) this.stack.push({ kind: 'leaf', entries: checkLeaf(ref, obj, this.bits, this.prevLast), i: 0, ref });
    else this.stack.push({ kind: 'node', node: checkShardChild(this.dir!, ref, obj, top.node.level, this.bits, this.prevLast), i: 0, ref });
  }

  /** peek returns the next entry, opening what it must; undefined at the end. */
  peek(): TreeEntry | undefined {
    while (true) {
      const top = this.normalize();
      if (!top) return undefined;
      if (top.kind === 'leaf') return top.entries[top.i];
      this.open();
    }
  }

  /** next moves past the entry peek returned. */
  next(): void {
    const top = this.normalize();
    if (top?.kind === 'leaf') top.i++;
  }
}

/** directoryEntries reads a whole directory (all its leaves, checked). */
export function directoryEntries(src: TreeSource, id: ObjectId): TreeEntry[] {
  const leaves = directoryLeaves(src, id);
  if (leaves.length === 1 && leaves[0].whole) return readLeaf(src, leaves, 0);
  const out: TreeEntry[] = [];
  for (let k = 0; k < leaves.length; k++) for (const e of readLeaf(src, leaves, k)) out.push(e);
  return out;
}

/** findEntry returns the entry called `name` in directory `id`, reading one leaf of a sharded directory. */
export function findEntry(src: TreeSource, id: ObjectId, name: string): TreeEntry | undefined {
  const leaves = directoryLeaves(src, id);
  let lo = 0;
  let hi = leaves.length - 1;
  // The first leaf whose last name is >= name.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareNames(leaves[mid].last, name) < 0) lo = mid + 1;
    else hi = mid;
  }
  const es = readLeaf(src, leaves, lo);
  let a = 0;
  let b = es.length - 1;
  while (a <= b) {
    const mid = (a + b) >> 1;
    const c = compareNames(es[mid].name, name);
    if (c === 0) return es[mid];
    if (c < 0) a = mid + 1;
    else b = mid - 1;
  }
  return undefined;
}

/** SyncObjectReader is the slice of the local store that synchronous tree reads need (async ones take an ObjectReader). */
export interface SyncObjectReader {
  getObject(id: ObjectId, what?: string): Buffer;
}

/** storeTrees reads verified trees from a store (no cache: see TreePool). */
export function storeTrees(store: SyncObjectReader): TreeSource {
  return objectTrees((id) => decodeTreeObject(store.getObject(id, 'tree'), id));
}

/**
 * SubtreeEntry is a whole directory given to buildTrees as it is already
 * stored (an unchanged folder of a tree being rebuilt): its path, tree ID,
 * and the file count and size its parent's entry records.
 */
export interface SubtreeEntry {
  path: string;
  kind: 'tree';
  id: ObjectId;
  size: number;
  files: number;
}

/** BuiltTrees is the result of buildTrees: the root and every encoded tree. */
export interface BuiltTrees {
  root: ObjectId;
  /** Encoded trees by ID, root included. */
  objects: Map<ObjectId, Buffer>;
  files: number;
  size: number;
}

/** EMPTY_TREE is the ID of a tree with no entries. */
export const EMPTY_TREE: ObjectId = sha256(encodeTree([]));

/**
 * buildTrees turns files sorted by comparePaths (unique paths) into trees,
 * sharding directories larger than shardThreshold(bits) (see encodeDirectory).
 * A SubtreeEntry stands for a whole directory (nothing may follow under its
 * path); its tree is not encoded again. Nothing is written; the caller
 * stores `objects` if it wants them kept.
 */
export function buildTrees(files: Iterable<FileEntry | SubtreeEntry>, bits = writerShardBits()): BuiltTrees {
  const objects = new Map<ObjectId, Buffer>();
  // Stack of open directories, root first; each collects its sorted entries.
  const stack: { path: string; entries: TreeEntry[]; files: number; size: number }[] = [{ path: '', entries: [], files: 0, size: 0 }];
  const close = () => {
    const dir = stack.pop()!;
    const id = encodeDirectory(dir.entries, objects, bits);
    const parent = stack[stack.length - 1];
    parent.entries.push({ name: baseName(dir.path), kind: 'tree', id, size: dir.size, files: dir.files, exec: false });
    parent.files += dir.files;
    parent.size += dir.size;
  };
  let prev: string | undefined;
  let subtree: string | undefined;
  for (const f of files) {
    if (prev !== undefined && comparePaths(prev, f.path) >= 0) throw new RangeError(`buildTrees: paths not sorted/unique at ${f.path}`);
    if (subtree !== undefined && isUnder(f.path, subtree)) throw new RangeError(`buildTrees: ${f.path} is inside a whole directory given before`);
    prev = f.path;
    subtree = f.kind === 'tree' ? f.path : undefined;
    const dir = parentPath(f.path);
    while (!isUnder(dir, stack[stack.length - 1].path)) close();
    // Open the directories between the innermost open one and this file's.
    let top = stack[stack.length - 1].path;
    while (top !== dir) {
      const rest = top === '' ? dir : dir.slice(top.length + 1);
      const next = joinPath(top, rest.split('/')[0]);
      stack.push({ path: next, entries: [], files: 0, size: 0 });
      top = next;
    }
    const cur = stack[stack.length - 1];
    const n = f.kind === 'tree' ? f.files : 1;
    cur.entries.push({ name: baseName(f.path), kind: f.kind, id: f.id, size: f.size, files: n, exec: f.kind === 'tree' ? false : f.exec });
    cur.files += n;
    cur.size += f.size;
  }
  while (stack.length > 1) close();
  const root = stack[0];
  const id = encodeDirectory(root.entries, objects, bits);
  return { root: id, objects, files: root.files, size: root.size };
}

/**
 * TreePool reads trees from a store and from trees built in memory (the
 * index, the workspace, a merge not yet stored), keeping recently read ones
 * decoded. Built trees win over the store.
 */
export class TreePool implements TreeSource {
  private readonly built = new Map<ObjectId, Buffer>();
  private readonly cache = new Map<ObjectId, TreeObject>();
  /** Entries held decoded in `cache`: a tree count alone let a thousand trees of a thousand files each hold 300 MB. */
  private cachedEntries = 0;

  constructor(private readonly store: SyncObjectReader) {}

  addBuilt(objects: Map<ObjectId, Buffer>): void {
    for (const [id, b] of objects) this.built.set(id, b);
  }

  readObject(id: ObjectId): TreeObject {
    if (id === EMPTY_TREE) return { kind: 'entries', entries: [] };
    let t = this.cache.get(id);
    if (t) return t;
    const b = this.built.get(id);
    t = decodeTreeObject(b ?? this.store.getObject(id, 'tree'), id);
    const n = t.kind === 'entries' ? t.entries.length : 1;
    if (this.cache.size >= CACHED_TREES || this.cachedEntries + n > CACHED_ENTRIES) {
      this.cache.clear();
      this.cachedEntries = 0;
    }
    this.cache.set(id, t);
    this.cachedEntries += n;
    return t;
  }

  readTree(id: ObjectId): TreeEntry[] {
    return directoryEntries(this, id);
  }
}

/** TreePool keeps at most this many trees decoded, */
const CACHED_TREES = 4096;
/** and at most this many entries in them (about 20 MB of objects). */
const CACHED_ENTRIES = 65_536;

/** walkFiles lists every file beneath tree `id`, in path order, prefixed by `prefix`. */
export function walkFiles(src: TreeSource, id: ObjectId, prefix = ''): FileEntry[] {
  const out: FileEntry[] = [];
  forEachFile(src, id, prefix, (f) => out.push(f));
  return out;
}

/** forEachFile gives every file beneath tree `id` to `visit`, in path order, prefixed by `prefix`: walkFiles without the list. */
export function forEachFile(src: TreeSource, id: ObjectId, prefix: string, visit: (f: FileEntry) => void): void {
  const rec = (tid: ObjectId, dir: string) => {
    for (const e of src.readTree(tid)) {
      const p = joinPath(dir, e.name);
      if (e.kind === 'tree') rec(e.id, p);
      else visit({ path: p, kind: e.kind, id: e.id, size: e.size, exec: e.exec });
    }
  };
  rec(id, prefix);
}

/**
 * lookupPath finds the entry at repo path `path` inside tree `root`; the root
 * itself for ''. Returns undefined when any component is missing.
 */
export function lookupPath(src: TreeSource, root: ObjectId, path: string): { kind: EntryKind; id: ObjectId; size: number; files: number; exec: boolean } | undefined {
  if (path === '') return { kind: 'tree', id: root, size: 0, files: 0, exec: false };
  let cur: TreeEntry | undefined;
  let tid = root;
  const parts = path.split('/');
  for (let i = 0; i < parts.length; i++) {
    cur = findEntry(src, tid, parts[i]);
    if (!cur) return undefined;
    if (i < parts.length - 1) {
      if (cur.kind !== 'tree') return undefined;
      tid = cur.id;
    }
  }
  return cur;
}

/** filesUnder lists the files of `root` at or beneath each of `paths`; NotFoundError names a path with none. */
export function filesUnder(src: TreeSource, root: ObjectId, paths: string[], revLabel: string): FileEntry[] {
  const seen = new Map<string, FileEntry>();
  for (const p of paths) {
    const e = lookupPath(src, root, p);
    if (!e) throw new NotFoundError(`${p || '.'} is not in ${revLabel}`, { hint: 'check the path with `lode diff` or `lode status`' });
    if (e.kind === 'tree') for (const f of walkFiles(src, e.id, p)) seen.set(f.path, f);
    else seen.set(p, { path: p, kind: e.kind, id: e.id, size: e.size, exec: e.exec });
  }
  return [...seen.values()].sort((a, b) => comparePaths(a.path, b.path));
}
