/**
 * Trees read asynchronously from any ObjectReader — the local store or a
 * remote, with no local copy — one level of a walk per batch: a remote turns
 * each batch into coalesced ranged reads. Every tree is verified (by the
 * reader) and decoded with its names validated before anyone sees it.
 */
import { decodeTreeObject, type TreeEntry, type TreeObject } from '../core/encoding.js';
import { NotFoundError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import { comparePaths, joinPath } from '../core/paths.js';
import type { ObjectReader } from '../objects/reader.js';
import { directoryEntries, EMPTY_TREE, objectTrees, type FileEntry } from './trees.js';

/** AsyncTreeSource reads trees by ID, many at a time. */
export interface AsyncTreeSource {
  /** readTrees returns the decoded entries of each of `ids` (deduplicated); NotFoundError or CorruptObjectError for any that cannot be read. */
  readTrees(ids: Iterable<ObjectId>): Promise<Map<ObjectId, TreeEntry[]>>;
}

/** ReaderTrees is an AsyncTreeSource over an ObjectReader, keeping recently read trees decoded. */
export class ReaderTrees implements AsyncTreeSource {
  private readonly cache = new Map<ObjectId, TreeEntry[]>();

  constructor(private readonly reader: ObjectReader) {}

  async readTree(id: ObjectId): Promise<TreeEntry[]> {
    return (await this.readTrees([id])).get(id)!;
  }

  async readTrees(ids: Iterable<ObjectId>): Promise<Map<ObjectId, TreeEntry[]>> {
    const out = new Map<ObjectId, TreeEntry[]>();
    const wanted = new Set<ObjectId>();
    for (const id of ids) {
      if (out.has(id)) continue;
      const t = id === EMPTY_TREE ? [] : this.cache.get(id);
      if (t) out.set(id, t);
      else wanted.add(id);
    }
    if (wanted.size === 0) return out;
    // One batch per level of shard nodes: a remote groups these by pack and
    // coalesces neighbours. A sharded directory is joined once all its objects are here.
    const objects = new Map<ObjectId, TreeObject>();
    let batch: Set<ObjectId> = wanted;
    while (batch.size > 0) {
      const more = new Set<ObjectId>();
      await this.reader.getMany(batch, (id, bytes) => {
        const t = decodeTreeObject(bytes, id);
        objects.set(id, t);
        if (t.kind === 'shards') for (const c of t.node.children) if (!objects.has(c.id)) more.add(c.id);
      });
      batch = more;
    }
    const src = objectTrees((id) => {
      const t = objects.get(id);
      if (!t) throw new NotFoundError(`tree object ${id} is missing`);
      return t;
    });
    for (const id of wanted) out.set(id, directoryEntries(src, id));
    if (this.cache.size + wanted.size > 4096) this.cache.clear();
    for (const id of wanted) this.cache.set(id, out.get(id)!);
    return out;
  }
}

/**
 * walkFilesAsync lists every file beneath tree `id`, in path order, prefixed
 * by `prefix`, like walkFiles over a synchronous source; it reads one level of
 * the tree per batch. `src` may be a bare ObjectReader.
 */
export async function walkFilesAsync(src: AsyncTreeSource | ObjectReader, id: ObjectId, prefix = ''): Promise<FileEntry[]> {
  const trees = 'readTrees' in src ? src : new ReaderTrees(src);
  const out: FileEntry[] = [];
  let level: { id: ObjectId; dir: string }[] = [{ id, dir: prefix }];
  while (level.length > 0) {
    const read = await trees.readTrees(level.map((t) => t.id));
    const next: { id: ObjectId; dir: string }[] = [];
    for (const t of level) {
      for (const e of read.get(t.id)!) {
        const p = joinPath(t.dir, e.name);
        if (e.kind === 'tree') next.push({ id: e.id, dir: p });
        else out.push({ path: p, kind: e.kind, id: e.id, size: e.size, exec: e.exec });
      }
    }
    level = next;
  }
  return out.sort((a, b) => comparePaths(a.path, b.path));
}
