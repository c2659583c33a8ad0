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
 *
 * A partial store (a default clone, `lode fetch REV`, `gc --pushed`) holds the
 * metadata of every commit but the file data of a few: its commits are not
 * complete, and are not listed. A second record, `.lode/complete-metadata`,
 * lists commits whose metadata closure (every ancestor, tree and chunk list,
 * no file data) was found present: a metadata-only walk stops there, so a
 * no-op fetch into a partial store stays cheap too. A complete commit is
 * metadata-complete as well; the record is pruned and forgotten with the other.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isObjectId, type ObjectId } from '../core/id.js';
import { writeFileAtomic } from '../storage/atomic.js';
import type { LocalStore } from '../objects/store.js';

function recordPath(store: LocalStore, which: RecordName = 'complete'): string {
  return path.join(store.lodeDir, which);
}

/** RecordName names the two records: whole closures, and metadata closures. */
type RecordName = 'complete' | 'complete-metadata';

/** readComplete returns the recorded complete commits that are still in the store (empty when there is no record). */
export function readComplete(store: LocalStore, which: RecordName = 'complete'): Set<ObjectId> {
  let text: string;
  try {
    text = fs.readFileSync(recordPath(store, which), 'utf8');
  } catch {
    return new Set();
  }
  const out = new Set<ObjectId>();
  // A line that is not an ID (a damaged record) only means a longer walk.
  for (const line of text.split('\n')) if (isObjectId(line) && store.hasObject(line)) out.add(line);
  return out;
}

/** markComplete adds `ids` to the record; call it only once their closure is verified present. */
export function markComplete(store: LocalStore, ids: Iterable<ObjectId>, which: RecordName = 'complete'): void {
  const all = readComplete(store, which);
  const before = all.size;
  for (const id of ids) all.add(id);
  if (all.size !== before) writeRecord(store, all, which);
}

/** readMetadataComplete returns the commits whose metadata closure is recorded present (complete ones included). */
export function readMetadataComplete(store: LocalStore): Set<ObjectId> {
  const out = readComplete(store, 'complete-metadata');
  for (const id of readComplete(store)) out.add(id);
  return out;
}

/** markMetadataComplete records commits whose metadata closure (no file data) was verified present. */
export function markMetadataComplete(store: LocalStore, ids: Iterable<ObjectId>): void {
  markComplete(store, ids, 'complete-metadata');
}

/** keepComplete drops from both records every commit not in `live` (gc, before it deletes anything). */
export function keepComplete(store: LocalStore, live: ReadonlySet<ObjectId>): void {
  for (const which of ['complete', 'complete-metadata'] as const) {
    const all = readComplete(store, which);
    const kept = [...all].filter((id) => live.has(id));
    if (kept.length !== all.size) writeRecord(store, kept, which);
  }
}

/**
 * forgetComplete removes the record of whole closures (`gc --pushed`, which
 * drops file data, keeps the metadata record) or, with `metadata`, both: the
 * next fetch walks every commit it reaches.
 */
export function forgetComplete(store: LocalStore, o: { metadata?: boolean } = { metadata: true }): void {
  fs.rmSync(recordPath(store), { force: true });
  if (o.metadata) fs.rmSync(recordPath(store, 'complete-metadata'), { force: true });
}

function writeRecord(store: LocalStore, ids: Iterable<ObjectId>, which: RecordName): void {
  const lines = [...ids].sort();
  writeFileAtomic(recordPath(store, which), lines.length ? `${lines.join('\n')}\n` : '', { tmpDir: store.tmpDir });
}
