/**
 * checkRemote verifies a remote the way `fsck` verifies the local store,
 * trusting nothing cached about it:
 *
 * - every pack index (read from the remote, not the local cache) decodes,
 *   names its pack, and places every object inside that pack; every index has
 *   its pack (else its objects are lost) and every pack its index (else it is
 *   an orphan: an interrupted push, or one still running — a warning, since
 *   `gc --remote` collects it);
 * - every ref reaches only present objects: commits, trees and chunk lists
 *   are read from the remote (each verified against its ID) and walked down
 *   to every file and chunk, which must be listed in some index;
 * - with `readData`, every object of every pack (or of a deterministic subset
 *   of packs, chosen by pack ID like restic's `--read-data-subset n/m`) is
 *   read and hashed, and so is each pack as a whole against its name.
 *
 * Problems are collected, not thrown, so one run reports them all; only a
 * failure to reach the remote at all is thrown.
 */
import { decodeChunkList, decodeCommit, treeLinks } from '../core/encoding.js';
import { decodeRecord } from '../core/record.js';
import { CorruptObjectError, NotFoundError, UsageError } from '../core/errors.js';
import { isObjectId, type ObjectId } from '../core/id.js';
import { joinPath } from '../core/paths.js';
import type { ProgressSink } from '../core/progress.js';
import { loadXxhash } from '../core/checksum.js';
import { coalesce, objectBytes, PackIndex, packNameMatches, type PackEntry } from '../objects/pack.js';
import { refNameProblem } from '../graph/refs.js';
import type { Backend } from '../storage/backend.js';

/** DataSubset selects pack number `n` of `m` (1 <= n <= m) by pack ID. */
export interface DataSubset {
  n: number;
  m: number;
}

export interface RemoteCheckOptions {
  backend: Backend;
  /** Read and hash every object (of the subset's packs, when given). */
  readData?: boolean;
  subset?: DataSubset;
  progress?: ProgressSink;
}

export interface RemoteCheckProblem {
  /**
   * missing: a ref reaches an object no index lists; corrupt: bytes do not
   * match their ID or do not decode; index: an index is unreadable, wrong, or
   * has no pack; ref: a ref is unreadable.
   */
  kind: 'missing' | 'corrupt' | 'index' | 'ref';
  message: string;
  id?: ObjectId;
  pack?: ObjectId;
  /** The ref and path through which a missing object was reached. */
  ref?: string;
  path?: string;
}

export interface RemoteCheckWarning {
  /** orphanPack: a pack without an index; marked: a ref reaches objects held only in packs marked by gc; stray: an unexpected key under packs/. */
  kind: 'orphanPack' | 'marked' | 'stray';
  message: string;
  pack?: ObjectId;
}

export interface RemoteCheckResult {
  location: string;
  refs: number;
  packs: number;
  /** Objects listed in the indexes. */
  objects: number;
  /** Objects the refs reach. */
  reachable: number;
  /** Packs whose data was read (with readData). */
  packsRead: number;
  bytesRead: number;
  /** "n/m" when only a subset of packs was read. */
  subset?: string;
  problems: RemoteCheckProblem[];
  warnings: RemoteCheckWarning[];
  ok: boolean;
}

/** parseSubset reads "n/m" (1 <= n <= m); UsageError otherwise. */
export function parseSubset(text: string): DataSubset {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const n = m ? Number(m[1]) : NaN;
  const of = m ? Number(m[2]) : NaN;
  if (!m || !(n >= 1 && n <= of && of <= 1_000_000)) throw new UsageError(`invalid subset ${JSON.stringify(text)}`, { hint: 'give n/m with 1 <= n <= m, e.g. --read-data-subset 1/10' });
  return { n, m: of };
}

/** inSubset says whether a pack belongs to subset n/m: its ID's first 32 bits modulo m equal n - 1. */
export function inSubset(packId: ObjectId, s: DataSubset): boolean {
  return Number.parseInt(packId.slice(0, 8), 16) % s.m === s.n - 1;
}

interface Reached {
  id: ObjectId;
  ref: string;
  path: string;
}

export async function checkRemote(o: RemoteCheckOptions): Promise<RemoteCheckResult> {
  const { backend } = o;
  await loadXxhash();
  const problems: RemoteCheckProblem[] = [];
  const warnings: RemoteCheckWarning[] = [];
  const result: RemoteCheckResult = { location: backend.location, refs: 0, packs: 0, objects: 0, reachable: 0, packsRead: 0, bytesRead: 0, problems, warnings, ok: false };
  if (o.subset) result.subset = `${o.subset.n}/${o.subset.m}`;

  // Packs, indexes and marks as the remote lists them.
  const packSize = new Map<ObjectId, number>();
  const idxKeys = new Set<ObjectId>();
  for await (const b of backend.list('packs/')) {
    const m = /^packs\/([0-9a-f]{64})\.(pack|idx)$/.exec(b.key);
    if (!m) {
      warnings.push({ kind: 'stray', message: `unexpected key ${b.key} under packs/` });
      continue;
    }
    if (m[2] === 'pack') packSize.set(m[1], b.size);
    else idxKeys.add(m[1]);
  }
  const marked = new Set<ObjectId>();
  for await (const b of backend.list('gc/pending/')) {
    const id = b.key.slice('gc/pending/'.length);
    if (isObjectId(id)) marked.add(id);
  }
  result.packs = packSize.size;

  /** Where each object is: the first unmarked pack listing it, else a marked one. */
  const where = new Map<ObjectId, { pack: ObjectId; entry: PackEntry }>();
  const indexes = new Map<ObjectId, PackIndex>();
  for (const packId of [...idxKeys].sort()) {
    const size = packSize.get(packId);
    let idx: PackIndex;
    try {
      idx = PackIndex.decode(await backend.load(`packs/${packId}.idx`), packId, size);
    } catch (e) {
      if (e instanceof NotFoundError) continue; // removed meanwhile (a gc sweep)
      if (!(e instanceof CorruptObjectError)) throw e;
      problems.push({ kind: 'index', pack: packId, message: `${e.message}${size === undefined ? '' : ` (pack ${packId.slice(0, 12)}: ${size} bytes)`}` });
      continue;
    }
    result.objects += idx.count;
    if (size === undefined) {
      problems.push({ kind: 'index', pack: packId, message: `pack ${packId} is missing: its index lists ${idx.count} objects that cannot be read` });
      continue;
    }
    indexes.set(packId, idx);
    for (const e of idx.entries()) {
      const cur = where.get(e.id);
      if (!cur || (marked.has(cur.pack) && !marked.has(packId))) where.set(e.id, { pack: packId, entry: e });
    }
  }
  for (const [packId, size] of packSize) {
    if (!idxKeys.has(packId)) warnings.push({ kind: 'orphanPack', pack: packId, message: `pack ${packId} (${size} bytes) has no index: an interrupted push (or one still running); \`lode gc --remote\` collects it after the grace period` });
  }

  // Refs, then everything they reach.
  const tips: Reached[] = [];
  for await (const b of backend.list('refs/')) {
    const m = /^refs\/(heads|tags)\/(.+)$/.exec(b.key);
    if (!m || refNameProblem(m[2])) {
      warnings.push({ kind: 'stray', message: `unexpected key ${b.key} under refs/` });
      continue;
    }
    result.refs++;
    const label = `${m[1] === 'heads' ? '' : 'tag '}${m[2]}`;
    let text: string;
    try {
      text = (await backend.load(b.key)).toString('utf8').trim();
    } catch (e) {
      if (e instanceof NotFoundError) continue;
      throw e;
    }
    if (!isObjectId(text)) problems.push({ kind: 'ref', ref: label, message: `ref ${b.key} holds ${JSON.stringify(text.slice(0, 80))}, not a commit ID` });
    else tips.push({ id: text, ref: label, path: '' });
  }

  const seen = new Set<ObjectId>();
  const markedOnly = new Map<ObjectId, number>();
  /** present checks that a reached object is listed; false (and a problem) if not. */
  const present = (r: Reached, what: string): boolean => {
    const loc = where.get(r.id);
    if (!loc) {
      problems.push({ kind: 'missing', id: r.id, ref: r.ref, path: r.path || undefined, message: `${what} ${r.id} is missing (reached from ${r.ref}${r.path ? ` at ${r.path}` : ''})` });
      return false;
    }
    if (marked.has(loc.pack)) markedOnly.set(loc.pack, (markedOnly.get(loc.pack) ?? 0) + 1);
    return true;
  };
  /** readAll reads metadata objects (verified), calling `use` for each good one. */
  const readAll = async (items: Reached[], what: string, use: (r: Reached, data: Buffer) => void): Promise<void> => {
    const byPack = new Map<ObjectId, PackEntry[]>();
    const byId = new Map<ObjectId, Reached>();
    for (const r of items) {
      if (!present(r, what)) continue;
      byId.set(r.id, r);
      const loc = where.get(r.id)!;
      byPack.set(loc.pack, [...(byPack.get(loc.pack) ?? []), loc.entry]);
    }
    for (const [packId, entries] of byPack) {
      for (const span of coalesce(entries)) {
        const got = await backend.load(`packs/${packId}.pack`, { offset: span.offset, length: span.length });
        for (const e of span.entries) {
          const r = byId.get(e.id)!;
          let data: Buffer;
          try {
            if (got.length !== span.length) throw new CorruptObjectError('short read');
            data = objectBytes(got.subarray(e.offset - span.offset, e.offset - span.offset + e.length), e, packId);
          } catch (err) {
            if (!(err instanceof CorruptObjectError)) throw err;
            // objectBytes says "object ID in pack P <what is wrong>": name the kind of object instead.
            const message = got.length !== span.length ? `${what} ${e.id} in pack ${packId} does not match its ID` : err.message.replace(/^object /, `${what} `);
            problems.push({ kind: 'corrupt', id: e.id, pack: packId, ref: r.ref, path: r.path || undefined, message });
            continue;
          }
          try {
            use(r, data);
          } catch (err) {
            problems.push({ kind: 'corrupt', id: e.id, pack: packId, ref: r.ref, message: `${what} ${e.id} in pack ${packId} does not decode: ${(err as Error).message}` });
          }
        }
      }
    }
  };

  const once = (list: Reached[]) => list.filter((r) => !seen.has(r.id) && (seen.add(r.id), true));
  let commits = once(tips);
  let trees: Reached[] = [];
  const records: Reached[] = [];
  while (commits.length > 0) {
    const next: Reached[] = [];
    await readAll(commits, 'commit', (r, data) => {
      const c = decodeCommit(data, r.id);
      if (c.record) records.push({ id: c.record, ref: r.ref, path: '' });
      trees.push({ id: c.tree, ref: r.ref, path: '' });
      for (const p of c.parents) next.push({ id: p, ref: r.ref, path: '' });
    });
    commits = once(next);
  }
  await readAll(once(records), 'record', (r, data) => {
    decodeRecord(data, r.id);
  });
  trees = once(trees);
  const lists: Reached[] = [];
  while (trees.length > 0) {
    const next: Reached[] = [];
    await readAll(trees, 'tree', (r, data) => {
      const links = treeLinks(data, r.id);
      // Shards are more of the same directory: same path.
      for (const s of links.shards) next.push({ id: s, ref: r.ref, path: r.path });
      for (const e of links.entries) {
        const at: Reached = { id: e.id, ref: r.ref, path: joinPath(r.path, e.name) };
        if (e.kind === 'tree') next.push(at);
        else if (seen.has(e.id)) continue;
        else if (e.kind === 'blob') {
          seen.add(e.id);
          present(at, 'file');
        } else {
          seen.add(e.id);
          lists.push(at);
        }
      }
    });
    trees = once(next);
  }
  await readAll(lists, 'chunk list', (r, data) => {
    for (const c of decodeChunkList(data, r.id).chunks) {
      if (seen.has(c.id)) continue;
      seen.add(c.id);
      present({ id: c.id, ref: r.ref, path: r.path }, 'chunk');
    }
  });
  result.reachable = seen.size;
  for (const [packId, n] of markedOnly) {
    warnings.push({ kind: 'marked', pack: packId, message: `refs reach ${n} objects held only in pack ${packId}, which gc marked for deletion; the next \`lode gc --remote\` keeps it` });
  }

  // Data: each selected pack read whole, hashed against its name, each object against its ID.
  if (o.readData) {
    const chosen = [...indexes.keys()].filter((id) => !o.subset || inSubset(id, o.subset));
    const totalBytes = chosen.reduce((s, id) => s + packSize.get(id)!, 0);
    o.progress?.({ phase: 'fsck', done: 0, total: chosen.length, bytes: 0, totalBytes });
    for (const packId of chosen) {
      const pack = await backend.load(`packs/${packId}.pack`);
      result.packsRead++;
      result.bytesRead += pack.length;
      const bad: { id: ObjectId; message: string }[] = [];
      for (const e of indexes.get(packId)!.entries()) {
        try {
          objectBytes(pack.subarray(e.offset, e.offset + e.length), e, packId);
        } catch (err) {
          if (!(err instanceof CorruptObjectError)) throw err;
          bad.push({ id: e.id, message: err.message });
        }
      }
      for (const b of bad) problems.push({ kind: 'corrupt', id: b.id, pack: packId, message: b.message });
      if (bad.length === 0 && !packNameMatches(pack, packId, indexes.get(packId)!.entries())) {
        problems.push({ kind: 'corrupt', pack: packId, message: `pack ${packId} does not match its name (damage outside its objects)` });
      }
      o.progress?.({ phase: 'fsck', done: result.packsRead, total: chosen.length, bytes: result.bytesRead, totalBytes, finished: result.packsRead === chosen.length });
    }
  }
  result.ok = problems.length === 0;
  return result;
}
