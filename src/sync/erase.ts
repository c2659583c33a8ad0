/**
 * Erasure on a remote: erasure records travel as `erasures/<record id>`
 * (immutable, named by the SHA-256 of their bytes, verified on every read),
 * and `eraseRemote` makes a remote forget what the records erased:
 *
 * 1. Upload every local record the remote lacks, first: from then on every
 *    push (see push.ts `refuse` / `recheck`) refuses to send an erased
 *    object or to point a ref at a replaced commit.
 * 2. Move each remote ref that holds a replaced commit to its rewritten
 *    commit (after uploading what that needs), conditionally on the value
 *    read, like any push.
 * 3. Refuse to delete anything while some remote ref still reaches an erased
 *    object (someone pushed on top of the old history meanwhile).
 * 4. Repack: every pack that holds an erased object has its live objects
 *    copied into a new pack; then its index, the pack and any gc mark are
 *    deleted, at once rather than after gc's grace period.
 */
import { NotFoundError, RefConflictError } from '../core/errors.js';
import { isObjectId, sha256, type ObjectId } from '../core/id.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ErasureLog } from '../graph/erasure.js';
import type { RefStore } from '../graph/refs.js';
import { PackWriter } from '../objects/pack.js';
import type { LocalStore } from '../objects/store.js';
import type { Backend } from '../storage/backend.js';
import type { ChunkerParams } from '../core/chunker.js';
import { fetchCommits } from './fetch.js';
import { pushRef } from './push.js';
import type { RemoteStore } from './remote-store.js';
import { reachable } from './gc.js';

const PREFIX = 'erasures/';

/** remoteRecordIds lists the erasure records a remote holds. */
export async function remoteRecordIds(backend: Backend): Promise<ObjectId[]> {
  const out: ObjectId[] = [];
  for await (const b of backend.list(PREFIX)) {
    const id = b.key.slice(PREFIX.length);
    if (isObjectId(id)) out.push(id);
  }
  return out.sort();
}

/** pullRecords downloads (verified) the records the workspace lacks; returns their IDs. */
export async function pullRecords(backend: Backend, log: ErasureLog): Promise<ObjectId[]> {
  const got: ObjectId[] = [];
  for (const id of await remoteRecordIds(backend)) {
    if (log.has(id)) continue;
    let bytes: Buffer;
    try {
      bytes = await backend.load(`${PREFIX}${id}`);
    } catch (e) {
      if (e instanceof NotFoundError) continue;
      throw e;
    }
    if (sha256(bytes) !== id) bytes = await backend.load(`${PREFIX}${id}`);
    log.add(bytes);
    got.push(id);
  }
  return got;
}

/** pushRecords uploads the records the remote lacks; returns their IDs. */
export async function pushRecords(backend: Backend, log: ErasureLog): Promise<ObjectId[]> {
  const there = new Set(await remoteRecordIds(backend));
  const sent: ObjectId[] = [];
  for (const id of log.ids()) {
    if (there.has(id)) continue;
    await backend.save(`${PREFIX}${id}`, log.bytes(id)!);
    sent.push(id);
  }
  return sent;
}

export interface RemoteEraseResult {
  recordsUploaded: number;
  /** Remote refs moved to their rewritten commits. */
  refsMoved: { ref: string; from: ObjectId; to: ObjectId }[];
  /** Packs deleted (each held at least one erased object). */
  packsDeleted: number;
  /** Packs written to keep the live objects of deleted packs. */
  packsWritten: number;
  /** Erased objects that were on the remote and are gone. */
  objectsErased: number;
  bytesUploaded: number;
  bytesDeleted: number;
}

/** eraseRemote applies every local erasure record to `remote`; see the module comment. */
export async function eraseRemote(o: {
  store: LocalStore;
  remote: RemoteStore;
  log: ErasureLog;
  refs: RefStore;
  tracking: RefStore;
  chunking: ChunkerParams;
  /** Told after each step ('records', 'refs', 'pack'): tests stop the process there. */
  onStep?: (step: string) => void;
}): Promise<RemoteEraseResult> {
  const { store, remote, log } = o;
  const result: RemoteEraseResult = { recordsUploaded: 0, refsMoved: [], packsDeleted: 0, packsWritten: 0, objectsErased: 0, bytesUploaded: 0, bytesDeleted: 0 };
  const sentBefore = remote.stats.bytesSent;
  // 1. The records first: they are what makes every later push refuse erased content.
  result.recordsUploaded = (await pushRecords(remote.backend, log)).length;
  o.onStep?.('records');
  const erased = log.erased();
  // 2. Move the refs that hold replaced commits.
  await remote.refresh();
  for (const ref of await remote.refs()) {
    const next = log.follow(ref.id);
    if (!next) continue;
    await pushRef({ store, refs: o.refs, remote, kind: ref.kind, name: ref.name, tip: next.id, force: true, expectFrom: ref.id, chunking: o.chunking });
    o.tracking.set(ref.kind, ref.name, next.id);
    result.refsMoved.push({ ref: `${ref.kind}/${ref.name}`, from: ref.id, to: next.id });
  }
  o.onStep?.('refs');
  // 3. Nothing is deleted while a remote ref still reaches erased content.
  await remote.refresh();
  const refs = await remote.refs();
  await fetchCommits({ store, remote, commits: refs.map((r) => r.id), metadataOnly: true });
  const live = reachable(store, refs.map((r) => r.id));
  const stillReached = [...erased].filter((id) => live.has(id));
  if (stillReached.length > 0) {
    const holders = refs.filter((r) => reachable(store, [r.id]).has(stillReached[0])).map((r) => `${r.kind === 'heads' ? 'branch' : 'tag'} ${r.name}`);
    throw new RefConflictError(`remote ${remote.backend.location} still reaches erased content from ${holders.join(', ') || 'a ref'} (pushed on top of the old history): nothing was deleted there`, {
      hint: '`lode fetch` (it applies the erasure to the fetched commits), then `lode forget --push` again',
    });
  }
  // 4. Repack and delete every pack holding an erased object.
  const doomed = new Set<ObjectId>();
  for (const [packId, idx] of remote.indexedPacks()) for (const e of idx.entries()) if (erased.has(e.id)) doomed.add(packId);
  for (const [packId, idx] of [...remote.indexedPacks()]) {
    if (!doomed.has(packId)) continue;
    const entries = [...idx.entries()];
    const hit = entries.filter((e) => erased.has(e.id));
    const keep = entries.filter((e) => live.has(e.id) && !erased.has(e.id) && !inKeptPack(remote, e.id, doomed));
    if (keep.length > 0) {
      const writer = new PackWriter();
      // Each object keeps its stored form: compressed again only if it was.
      const wasCompressed = new Set(keep.filter((e) => e.codec !== undefined).map((e) => e.id));
      await remote.fetchObjects(keep.map((e) => e.id), (id, data) => writer.add(id, data, wasCompressed.has(id)));
      await remote.uploadPack(writer);
      result.packsWritten++;
    }
    const size = (await remote.backend.stat(`packs/${packId}.pack`))?.size ?? 0;
    // Index first: the pack becomes invisible, then its bytes go.
    await remote.backend.remove(`packs/${packId}.idx`);
    await remote.backend.remove(`packs/${packId}.pack`);
    await remote.backend.remove(`gc/pending/${packId}`);
    fs.rmSync(path.join(remote.cacheDir, 'idx', `${packId}.idx`), { force: true });
    result.packsDeleted++;
    result.objectsErased += hit.length;
    result.bytesDeleted += size;
    o.onStep?.('pack');
  }
  result.bytesUploaded = remote.stats.bytesSent - sentBefore;
  return result;
}

/** inKeptPack says whether a pack that stays (not doomed, not marked by gc) holds `id`. */
function inKeptPack(remote: RemoteStore, id: ObjectId, doomed: ReadonlySet<ObjectId>): boolean {
  for (const [pid, idx] of remote.indexedPacks()) if (!doomed.has(pid) && !remote.isPending(pid) && idx.find(id)) return true;
  return false;
}

