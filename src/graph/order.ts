/**
 * The order objects enter and leave objects/. A commit or tree there must
 * never name a commit or tree that is not (status, commit, diff and gc stop
 * their walks at a tree objects/ holds, trusting all below it): objects are
 * stored each after everything it names, and deleted each before.
 *
 * Pure over the given reader: no writes.
 */
import { decodeCommit, isCommitEncoding, isTreeEncoding, treeLinks } from '../core/encoding.js';
import { LodeError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';

/**
 * childrenFirst orders `ids` so each comes after every one of them that it
 * names (`names`, followed through), a subtree named from two depths
 * included: a depth-first walk that lists an object once everything it
 * names is listed. Names outside `names` (stored already, or not metadata)
 * are left out.
 */
export function childrenFirst(ids: Iterable<ObjectId>, names: ReadonlyMap<ObjectId, readonly ObjectId[]>): ObjectId[] {
  const out: ObjectId[] = [];
  const state = new Set<ObjectId>();
  for (const start of ids) {
    if (state.has(start) || !names.has(start)) continue;
    // An entry opens an ID, or (close) lists one whose names are all listed.
    const stack: { id: ObjectId; close: boolean }[] = [{ id: start, close: false }];
    while (stack.length > 0) {
      const { id, close } = stack.pop()!;
      if (close) {
        out.push(id);
        continue;
      }
      if (state.has(id) || !names.has(id)) continue;
      state.add(id);
      stack.push({ id, close: true });
      for (const n of names.get(id)!) if (!state.has(n)) stack.push({ id: n, close: false });
    }
  }
  return out;
}

/**
 * objectNames lists what a stored object names in objects/: a commit its
 * tree, parents and record; a tree its subtrees, shards and chunk lists;
 * anything else nothing.
 */
export function objectNames(bytes: Buffer, id: ObjectId): ObjectId[] {
  if (isCommitEncoding(bytes)) {
    const c = decodeCommit(bytes, id);
    return [c.tree, ...c.parents, ...(c.record ? [c.record] : [])];
  }
  if (isTreeEncoding(bytes)) {
    const { entries, shards } = treeLinks(bytes, id);
    const out = [...shards];
    for (const e of entries) if (e.kind !== 'blob') out.push(e.id);
    return out;
  }
  return [];
}

/**
 * parentsFirst orders objects about to be deleted from objects/ so each goes
 * before every one of them it names: a deletion stopped halfway leaves no
 * commit or tree naming one that is gone. Each is read once through `get`
 * (checked); one that cannot be read names nothing.
 */
export function parentsFirst(ids: Iterable<ObjectId>, get: (id: ObjectId) => Buffer): ObjectId[] {
  const names = new Map<ObjectId, ObjectId[]>();
  for (const id of ids) {
    try {
      names.set(id, objectNames(get(id), id));
    } catch (e) {
      if (!(e instanceof LodeError)) throw e;
      names.set(id, []);
    }
  }
  return childrenFirst(names.keys(), names).reverse();
}
