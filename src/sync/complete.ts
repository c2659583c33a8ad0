/**
 * The record of complete commits (`.lode/complete`): commit IDs whose whole
 * closure — every ancestor, every tree and subtree, every chunk list and the
 * content of every file they name — was found in the local store by a fetch
 * that walked it. Fetch stops its walk at such a commit, which is what keeps a
 * no-op fetch of a long history cheap; every other present commit is walked
 * again, so a store an interrupted fetch (or an older lode) left with a gap is
 * repaired by the next fetch.
 *
 * The record is only a shortcut: losing it costs one full walk, never data.
 * It is written (temp + rename) only after the closure was verified, pruned
 * by `gc` to commits it keeps, and forgotten by `fsck` when the store is
 * damaged, so that the next fetch walks everything and fills what is missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isObjectId, type ObjectId } from '../core/id.js';
import { writeFileAtomic } from '../storage/atomic.js';
import type { LocalStore } from '../objects/store.js';

function recordPath(store: LocalStore): string {
  return path.join(store.lodeDir, 'complete');
}

/** readComplete returns the recorded complete commits that are still in the store (empty when there is no record). */
export function readComplete(store: LocalStore): Set<ObjectId> {
  let text: string;
  try {
    text = fs.readFileSync(recordPath(store), 'utf8');
  } catch {
    return new Set();
  }
  const out = new Set<ObjectId>();
  // A line that is not an ID (a damaged record) only means a longer walk.
  for (const line of text.split('\n')) if (isObjectId(line) && store.hasObject(line)) out.add(line);
  return out;
}

/** markComplete adds `ids` to the record; call it only once their closure is verified present. */
export function markComplete(store: LocalStore, ids: Iterable<ObjectId>): void {
  const all = readComplete(store);
  const before = all.size;
  for (const id of ids) all.add(id);
  if (all.size !== before) writeRecord(store, all);
}

/** keepComplete drops from the record every commit not in `live` (gc, before it deletes anything). */
export function keepComplete(store: LocalStore, live: ReadonlySet<ObjectId>): void {
  const all = readComplete(store);
  const kept = [...all].filter((id) => live.has(id));
  if (kept.length !== all.size) writeRecord(store, kept);
}

/** forgetComplete removes the record: the next fetch walks every commit it reaches. */
export function forgetComplete(store: LocalStore): void {
  fs.rmSync(recordPath(store), { force: true });
}

function writeRecord(store: LocalStore, ids: Iterable<ObjectId>): void {
  const lines = [...ids].sort();
  writeFileAtomic(recordPath(store), lines.length ? `${lines.join('\n')}\n` : '', { tmpDir: store.tmpDir });
}
