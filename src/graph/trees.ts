/**
 * Merkle trees of datasets: building them from a flat, sorted file list,
 * reading them back, and walking them. A tree's ID covers everything beneath
 * it, so equal IDs mean equal subtrees and whole directories can be skipped.
 */
import { decodeTree, encodeTree, type EntryKind, type TreeEntry } from '../core/encoding.js';
import { NotFoundError } from '../core/errors.js';
import { sha256, type ObjectId } from '../core/id.js';
import { baseName, comparePaths, isUnder, joinPath, parentPath } from '../core/paths.js';

/** FileEntry is one file at a repo-relative path. */
export interface FileEntry {
  path: string;
  kind: 'blob' | 'chunked';
  id: ObjectId;
  size: number;
  exec: boolean;
}

/** TreeSource reads trees by ID (the local store, or trees built in memory). */
export interface TreeSource {
  readTree(id: ObjectId): TreeEntry[];
}

/** SyncObjectReader is the slice of the local store that synchronous tree reads need (async ones take an ObjectReader). */
export interface SyncObjectReader {
  getObject(id: ObjectId, what?: string): Buffer;
}

/** storeTrees reads verified trees from a store, remembering recent ones. */
export function storeTrees(store: SyncObjectReader): TreeSource {
  return {
    readTree(id) {
      return decodeTree(store.getObject(id, 'tree'), id);
    },
  };
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
 * buildTrees turns files sorted by comparePaths (unique paths) into trees.
 * Nothing is written; the caller stores `objects` if it wants them kept.
 */
export function buildTrees(files: readonly FileEntry[]): BuiltTrees {
  const objects = new Map<ObjectId, Buffer>();
  // Stack of open directories, root first; each collects its sorted entries.
  const stack: { path: string; entries: TreeEntry[]; files: number; size: number }[] = [{ path: '', entries: [], files: 0, size: 0 }];
  const close = () => {
    const dir = stack.pop()!;
    const encoded = encodeTree(dir.entries);
    const id = sha256(encoded);
    objects.set(id, encoded);
    const parent = stack[stack.length - 1];
    parent.entries.push({ name: baseName(dir.path), kind: 'tree', id, size: dir.size, files: dir.files, exec: false });
    parent.files += dir.files;
    parent.size += dir.size;
  };
  let prev: string | undefined;
  for (const f of files) {
    if (prev !== undefined && comparePaths(prev, f.path) >= 0) throw new RangeError(`buildTrees: paths not sorted/unique at ${f.path}`);
    prev = f.path;
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
    cur.entries.push({ name: baseName(f.path), kind: f.kind, id: f.id, size: f.size, files: 1, exec: f.exec });
    cur.files += 1;
    cur.size += f.size;
  }
  while (stack.length > 1) close();
  const root = stack[0];
  const encoded = encodeTree(root.entries);
  const id = sha256(encoded);
  objects.set(id, encoded);
  return { root: id, objects, files: root.files, size: root.size };
}

/**
 * TreePool reads trees from a store and from trees built in memory (the
 * index, the workspace, a merge not yet stored), keeping recently read ones
 * decoded. Built trees win over the store.
 */
export class TreePool implements TreeSource {
  private readonly built = new Map<ObjectId, Buffer>();
  private readonly cache = new Map<ObjectId, TreeEntry[]>();
  private readonly base: TreeSource;

  constructor(store: SyncObjectReader) {
    this.base = storeTrees(store);
  }

  addBuilt(objects: Map<ObjectId, Buffer>): void {
    for (const [id, b] of objects) this.built.set(id, b);
  }

  readTree(id: ObjectId): TreeEntry[] {
    if (id === EMPTY_TREE) return [];
    let t = this.cache.get(id);
    if (t) return t;
    const b = this.built.get(id);
    t = b ? decodeTree(b, id) : this.base.readTree(id);
    if (this.cache.size > 4096) this.cache.clear();
    this.cache.set(id, t);
    return t;
  }
}

/** walkFiles lists every file beneath tree `id`, in path order, prefixed by `prefix`. */
export function walkFiles(src: TreeSource, id: ObjectId, prefix = ''): FileEntry[] {
  const out: FileEntry[] = [];
  const rec = (tid: ObjectId, dir: string) => {
    for (const e of src.readTree(tid)) {
      const p = joinPath(dir, e.name);
      if (e.kind === 'tree') rec(e.id, p);
      else out.push({ path: p, kind: e.kind, id: e.id, size: e.size, exec: e.exec });
    }
  };
  rec(id, prefix);
  return out;
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
    cur = src.readTree(tid).find((e) => e.name === parts[i]);
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
