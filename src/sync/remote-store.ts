/**
 * RemoteStore: a lode repository kept in a Backend.
 *
 *   packs/<pack id>.pack   objects back to back (immutable)
 *   packs/<pack id>.idx    where each object is in that pack (immutable)
 *   refs/heads/<branch>    "<commit id>\n" (updated with conditional writes)
 *   refs/tags/<tag>        "<commit id>\n"
 *
 * What the remote has is the union of its pack indexes. Indexes are cached
 * under .lode/remotes/<name>/idx, so each sync lists `packs/` once and
 * downloads only indexes it has not seen. A pack without its index is
 * invisible (an interrupted push): it is never read, and a later push
 * uploads its objects again in a new pack.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadXxhash } from '../core/checksum.js';
import { CorruptObjectError, NotFoundError, RefConflictError } from '../core/errors.js';
import { isObjectId, type ObjectId } from '../core/id.js';
import type { ProgressSink } from '../core/progress.js';
import type { Backend } from '../storage/backend.js';
import { writeFileAtomic } from '../storage/atomic.js';
import { coalesce, extract, PackIndex, type PackEntry, type PackWriter } from '../objects/pack.js';
import { refNameProblem, type RefKind } from '../graph/refs.js';

export interface RemoteRef {
  kind: RefKind;
  name: string;
  id: ObjectId;
  etag?: string;
}

/** Where an object lives on the remote. */
export interface Location extends PackEntry {
  packId: ObjectId;
}

export class RemoteStore {
  /** Object ID -> its location, for every object in every indexed pack. */
  readonly has = new Map<ObjectId, Location>();
  /**
   * Objects in packs not marked for deletion by `gc --remote`: the only ones
   * a push may rely on without sending them again.
   */
  readonly safe = new Set<ObjectId>();
  /** Packs marked for deletion, with the time they were marked (ms). */
  readonly pending = new Map<ObjectId, number>();
  /** Every indexed pack with its index. */
  readonly packs = new Map<ObjectId, PackIndex>();
  private readonly idxDir: string;
  /** Requests and bytes, for reports and the bench. */
  readonly stats = { requests: 0, bytesSent: 0, bytesReceived: 0 };

  constructor(
    readonly backend: Backend,
    cacheDir: string,
  ) {
    this.idxDir = path.join(cacheDir, 'idx');
  }

  /** refresh lists the remote's packs and loads every index (cached ones from disk). */
  async refresh(): Promise<void> {
    await loadXxhash();
    fs.mkdirSync(this.idxDir, { recursive: true });
    this.has.clear();
    this.safe.clear();
    this.pending.clear();
    this.packs.clear();
    this.stats.requests++;
    for await (const b of this.backend.list('gc/pending/')) {
      const id = b.key.slice('gc/pending/'.length);
      if (!isObjectId(id)) continue;
      let at = 0;
      try {
        at = Number((await this.backend.load(b.key)).toString('utf8').trim()) || 0;
      } catch {
        // removed meanwhile
      }
      this.pending.set(id, at);
    }
    const idxKeys: string[] = [];
    // Pack sizes from the listing: an index must not point past the end of its pack.
    const packSizes = new Map<string, number>();
    this.stats.requests++;
    for await (const b of this.backend.list('packs/')) {
      if (b.key.endsWith('.idx')) idxKeys.push(b.key);
      else if (b.key.endsWith('.pack')) packSizes.set(b.key.slice('packs/'.length, -'.pack'.length), b.size);
    }
    for (const key of idxKeys) {
      const packId = key.slice('packs/'.length, -'.idx'.length);
      if (!isObjectId(packId)) continue;
      const local = path.join(this.idxDir, `${packId}.idx`);
      const packSize = packSizes.get(packId);
      const cached = fs.existsSync(local);
      let buf: Buffer;
      if (cached) buf = fs.readFileSync(local);
      else {
        this.stats.requests++;
        buf = await this.backend.load(key);
        this.stats.bytesReceived += buf.length;
      }
      let idx: PackIndex;
      try {
        idx = PackIndex.decode(buf, packId, packSize);
      } catch (e) {
        if (cached) fs.rmSync(local, { force: true });
        if (!(e instanceof CorruptObjectError)) throw e;
        throw new CorruptObjectError(`${e.message} (${key} in ${this.backend.location})`, {
          objectId: packId,
          hint: 'the remote copy is damaged or forged: remove that pack and its index from the remote, then push again from a workspace that has the data',
          cause: e,
        });
      }
      // Cached only once checked.
      if (!cached) writeFileAtomic(local, buf);
      this.packs.set(packId, idx);
      const safe = !this.pending.has(packId);
      for (const e of idx.entries()) {
        if (!this.has.has(e.id)) this.has.set(e.id, { ...e, packId });
        if (safe) this.safe.add(e.id);
      }
    }
  }

  /** refs lists the remote's branches and tags. */
  async refs(): Promise<RemoteRef[]> {
    const out: RemoteRef[] = [];
    this.stats.requests++;
    for await (const b of this.backend.list('refs/')) {
      const m = /^refs\/(heads|tags)\/(.+)$/.exec(b.key);
      if (!m || refNameProblem(m[2])) continue;
      const ref = await this.ref(m[1] as RefKind, m[2]);
      if (ref) out.push(ref);
    }
    return out;
  }

  /** ref reads one ref with its etag (for a conditional update), or undefined. */
  async ref(kind: RefKind, name: string): Promise<RemoteRef | undefined> {
    const key = `refs/${kind}/${name}`;
    this.stats.requests += 2;
    const st = await this.backend.stat(key);
    if (!st) return undefined;
    let data: Buffer;
    try {
      data = await this.backend.load(key);
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
    const id = data.toString('utf8').trim();
    if (!isObjectId(id)) throw new CorruptObjectError(`remote ref ${key} in ${this.backend.location} holds ${JSON.stringify(id.slice(0, 80))}`, { hint: 'fix or delete that ref on the remote' });
    return { kind, name, id, etag: st.etag };
  }

  /**
   * setRef points a remote ref at `id` if it still holds `expect` (undefined:
   * must not exist). RefConflictError when someone else moved it first.
   */
  async setRef(kind: RefKind, name: string, id: ObjectId, expect: RemoteRef | undefined): Promise<void> {
    this.stats.requests++;
    try {
      await this.backend.save(`refs/${kind}/${name}`, Buffer.from(`${id}\n`), expect ? { ifMatch: expect.etag } : { ifNoneMatch: true });
    } catch (e) {
      if (!(e instanceof RefConflictError)) throw e;
      throw new RefConflictError(`${this.backend.location} refused the update of ${kind === 'heads' ? 'branch' : 'tag'} ${name}: it moved while you pushed (someone else pushed first)`, {
        hint: 'run `lode pull`, then push again (or `lode push --force` to overwrite); the data you pushed is kept and will not be sent twice',
        cause: e,
      });
    }
  }

  /** uploadPack sends a pack, then its index: the index makes the objects visible. */
  async uploadPack(writer: PackWriter): Promise<ObjectId> {
    const { id, pack, index, entries } = writer.finish();
    this.stats.requests += 2;
    await this.backend.save(`packs/${id}.pack`, pack);
    await this.backend.save(`packs/${id}.idx`, index);
    this.stats.bytesSent += pack.length + index.length;
    writeFileAtomic(path.join(this.idxDir, `${id}.idx`), index);
    for (const e of entries) {
      if (!this.has.has(e.id)) this.has.set(e.id, { ...e, packId: id });
      this.safe.add(e.id);
    }
    return id;
  }

  /**
   * fetchObjects reads objects with coalesced ranged reads and calls `onObject`
   * with each one's verified bytes. Throws NotFoundError for an ID the
   * remote lacks.
   */
  async fetchObjects(
    ids: Iterable<ObjectId>,
    onObject: (id: ObjectId, data: Buffer) => void | Promise<void>,
    progress?: ProgressSink,
  ): Promise<void> {
    const byPack = new Map<ObjectId, PackEntry[]>();
    for (const id of ids) {
      const loc = this.has.get(id);
      if (!loc) throw new NotFoundError(`object ${id} is not on remote ${this.backend.location}`, { hint: 'the remote is missing data a ref needs; push it again from a workspace that has it' });
      const list = byPack.get(loc.packId) ?? [];
      list.push({ id, offset: loc.offset, length: loc.length });
      byPack.set(loc.packId, list);
    }
    let done = 0;
    let bytes = 0;
    let total = 0;
    let totalBytes = 0;
    for (const list of byPack.values()) for (const e of list) {
      total++;
      totalBytes += e.length;
    }
    if (total > 0) progress?.({ phase: 'pull', done: 0, total, bytes: 0, totalBytes });
    for (const [packId, entries] of byPack) {
      for (const span of coalesce(entries)) {
        this.stats.requests++;
        let got: Buffer;
        try {
          got = await this.backend.load(`packs/${packId}.pack`, { offset: span.offset, length: span.length });
        } catch (e) {
          // The index was checked against the listed size: a pack that is shorter now was damaged or replaced.
          if (!(e instanceof RangeError)) throw e;
          throw new CorruptObjectError(`pack ${packId} in ${this.backend.location} is shorter than its index says (${e.message})`, {
            objectId: packId,
            hint: 'the remote copy is damaged: push the data again from a workspace that has it',
            cause: e,
          });
        }
        this.stats.bytesReceived += got.length;
        for (const e of span.entries) {
          await onObject(e.id, extract(span, got, e, packId));
          done++;
        }
        bytes += span.entries.reduce((n, e) => n + e.length, 0);
        progress?.({ phase: 'pull', done, total, bytes, totalBytes, finished: done === total });
      }
    }
  }
}
