/**
 * RemoteStore: a lode repository kept in a Backend.
 *
 *   packs/<pack id>.pack   objects back to back (immutable)
 *   packs/<pack id>.idx    where each object is in that pack (immutable)
 *   refs/heads/<branch>    "<commit id>\n" (updated with conditional writes)
 *   refs/tags/<tag>        "<commit id>\n"
 *   config                 {"format": 1, "chunking": {...}} (written by the first push;
 *                          raised to 2 by sharded trees or records, to 3 by compressed packs)
 *
 *   gc/pending/<pack id>   a `gc --remote` mark: "<ms> <xxh64 of <ms>>\n"
 *
 * What the remote has is the union of its pack indexes. Indexes are cached
 * under .lode/remotes/<name>/idx, so each sync lists `packs/` once and
 * downloads only indexes it has not seen. A pack without its index is
 * invisible (an interrupted push, or one still uploading): it is never read,
 * a later push uploads its objects again in a new pack, and `gc --remote`
 * collects it a grace period after first seeing it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadXxhash, xxh64 } from '../core/checksum.js';
import { validateChunkerParams, type ChunkerParams } from '../core/chunker.js';
import { CorruptObjectError, NotFoundError, RefConflictError, UnsupportedFormatError } from '../core/errors.js';
import { isObjectId, type ObjectId } from '../core/id.js';
import type { ProgressSink } from '../core/progress.js';
import type { Backend } from '../storage/backend.js';
import { writeFileAtomic } from '../storage/atomic.js';
import { HASH_POOL_MIN_BYTES, HashPool, sharedBuffer } from '../objects/hash-pool.js';
import { checkSpanLength, coalesce, extract, hexWord, isCompressed, objectMismatch, PackIndex, spanRanges, type PackEntry, type PackWriter, type ReadSpan } from '../objects/pack.js';
import { refNameProblem, type RefKind } from '../graph/refs.js';
import type { ObjectReader } from '../objects/reader.js';
import type { WrittenPack } from '../objects/pack-file-pool.js';

/**
 * The highest remote format this lode reads; a remote whose `config` names a
 * higher one is refused. A remote is written in the lowest format its objects
 * need, so older lodes keep reading it: format 1 until a push sends a sharded
 * directory or a commit with a record (SHARDED_FORMAT), or a pack with
 * compressed objects (COMPRESSED_FORMAT) or objects in the column layout
 * (COLUMNS_FORMAT), which an older lode would take for corruption.
 */
export const REMOTE_FORMAT = 4;
/** SHARDED_FORMAT is the first remote format whose trees may be sharded (tree objects of version 2) and whose commits may name a record. */
export const SHARDED_FORMAT = 2;
/** COMPRESSED_FORMAT is the first remote format whose packs may hold compressed objects (packs of version 3, indexes of version 2). */
export const COMPRESSED_FORMAT = 3;
/** COLUMNS_FORMAT is the first remote format whose packs may hold objects in the column layout (codec 3, objects/columns.ts). */
export const COLUMNS_FORMAT = 4;
/** BASE_FORMAT is the format a new remote starts in. */
const BASE_FORMAT = 1;

/** RemoteConfig is the remote's `config` object: how its data is laid out and was chunked. */
export interface RemoteConfig {
  format: number;
  /** The chunking parameters of the first push: pushes with others dedup less against it. */
  chunking: ChunkerParams;
}

/** Reads of one blob or range before damage found by a content check is believed. */
const VERIFIED_READS = 3;

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

/**
 * RemoteStore is an ObjectReader over every object in the remote's indexed
 * packs (`has` / `get` / `getMany`, verified); what it learnt from its last
 * `refresh` (locations, packs, gc marks) is read through its methods.
 */
export class RemoteStore implements ObjectReader {
  /**
   * Where objects are, over every indexed pack: built on the first lookup
   * after a `refresh` that changed the set of packs, extended in place for
   * packs that only came in (an upload, a refresh that found new ones).
   */
  private locator: PackLocator | undefined;
  /**
   * Packs marked for deletion, with the time they were marked (ms). A mark
   * that does not read back valid counts as marked at `refresh` time (see
   * `suspectMarks`): a damaged read must never make a mark look old.
   */
  private readonly pending = new Map<ObjectId, number>();
  /** Marks that were unreadable, damaged or in the old format (gc rewrites them). */
  private readonly suspectMarks = new Set<ObjectId>();
  /** Every indexed pack with its index. */
  private readonly packs = new Map<ObjectId, PackIndex>();
  /** Packs without an index (an interrupted push, or one in progress), with their size. */
  private readonly unindexed = new Map<ObjectId, number>();
  private readonly idxDir: string;
  /** Requests and bytes, for reports and the bench. */
  readonly stats = { requests: 0, bytesSent: 0, bytesReceived: 0, rereads: 0 };
  /** Whether uploaded packs compress their objects where it pays (see codec.ts). */
  compress = true;
  /** The raises (to COMPRESSED_FORMAT, COLUMNS_FORMAT) under way or done: concurrent uploads wait for one write each. */
  private readonly raising = new Map<number, Promise<void>>();

  constructor(
    readonly backend: Backend,
    /** .lode/remotes/<name>: cached indexes, and what sync records about this remote. */
    readonly cacheDir: string,
  ) {
    this.idxDir = path.join(cacheDir, 'idx');
  }

  /** location says where object `id` is, as of the last `refresh` (or upload); undefined when no indexed pack lists it. */
  location(id: ObjectId): Location | undefined {
    return this.locate().find(id);
  }

  /**
   * safeLocation is where a pack not marked by `gc --remote` holds `id`
   * (the first such pack), or undefined.
   */
  safeLocation(id: ObjectId): Location | undefined {
    return this.pending.size === 0 ? this.location(id) : this.locate().find(id, (packId) => !this.pending.has(packId));
  }

  /**
   * isSafe says whether a pack not marked by `gc --remote` holds `id`: only
   * such objects may a push rely on without sending them again.
   */
  isSafe(id: ObjectId): boolean {
    return this.safeLocation(id) !== undefined;
  }

  private locate(): PackLocator {
    if (!this.locator) {
      this.locator = new PackLocator();
      for (const [packId, idx] of this.packs) this.locator.add(packId, idx);
    }
    return this.locator;
  }

  /**
   * indexedPacks iterates every pack with an index, with that index. A
   * `refresh` (which `fetchObjects` may run) starts the list again: copy it
   * first to iterate across one.
   */
  indexedPacks(): IterableIterator<[ObjectId, PackIndex]> {
    return this.packs.entries();
  }

  /** packCount is how many packs have an index. */
  packCount(): number {
    return this.packs.size;
  }

  /** packIndex is the index of pack `packId`, undefined when that pack has none. */
  packIndex(packId: ObjectId): PackIndex | undefined {
    return this.packs.get(packId);
  }

  /** hasPack says whether pack `packId` has an index on the remote. */
  hasPack(packId: ObjectId): boolean {
    return this.packs.has(packId);
  }

  /** unindexedPacks lists packs without an index (an interrupted push, or one in progress), with their size. */
  unindexedPacks(): Map<ObjectId, number> {
    return new Map(this.unindexed);
  }

  /** isUnindexedPack says whether pack `packId` was listed without an index. */
  isUnindexedPack(packId: ObjectId): boolean {
    return this.unindexed.has(packId);
  }

  /**
   * pendingPacks lists packs marked for deletion by `gc --remote`, with the
   * time of the mark (ms); a mark that did not read back valid counts as
   * made at `refresh` time and is also in `suspectMarkIds`.
   */
  pendingPacks(): Map<ObjectId, number> {
    return new Map(this.pending);
  }

  /** isPending says whether pack `packId` is marked for deletion. */
  isPending(packId: ObjectId): boolean {
    return this.pending.has(packId);
  }

  /** suspectMarkIds lists packs whose mark was unreadable, damaged or in the old format (gc rewrites them). */
  suspectMarkIds(): ObjectId[] {
    return [...this.suspectMarks];
  }

  /** has says whether an indexed pack holds `id`, as of the last `refresh` (ObjectReader). */
  async has(id: ObjectId): Promise<boolean> {
    return this.location(id) !== undefined;
  }

  /** get reads one object, verified (ObjectReader): NotFoundError, or CorruptObjectError when damage persists over re-reads. */
  async get(id: ObjectId, _what?: string): Promise<Buffer> {
    let out: Buffer | undefined;
    await this.fetchObjects([id], (_id, bytes) => {
      out = bytes;
    });
    return out!;
  }

  /** getMany is `fetchObjects` without progress (ObjectReader): one call, one batch of coalesced ranged reads. */
  async getMany(ids: Iterable<ObjectId>, onObject: (id: ObjectId, bytes: Buffer) => void | Promise<void>): Promise<void> {
    await this.fetchObjects(ids, onObject);
  }

  /** The remote's `config` object, as `refresh` read it (undefined: none yet, as before the first push). */
  config?: RemoteConfig;

  /**
   * refresh reads the remote's config (refusing a format it does not know),
   * lists its packs and loads every index (cached ones from disk). Packs are
   * immutable: an index already loaded (same pack, same size) is kept, so a
   * refresh costs what changed on the remote, not what it holds.
   */
  async refresh(): Promise<void> {
    await loadXxhash();
    this.config = await this.readConfig();
    fs.mkdirSync(this.idxDir, { recursive: true });
    const before = new Map(this.packs);
    this.pending.clear();
    this.suspectMarks.clear();
    this.packs.clear();
    this.unindexed.clear();
    this.stats.requests++;
    for await (const b of this.backend.list('gc/pending/')) {
      const id = b.key.slice('gc/pending/'.length);
      if (!isObjectId(id)) continue;
      this.stats.requests++;
      const at = await this.readMark(id);
      if (at === null) continue; // removed meanwhile
      if (at === undefined) this.suspectMarks.add(id);
      this.pending.set(id, at ?? Date.now());
    }
    const idxKeys: string[] = [];
    // Pack sizes from the listing: an index must not point past the end of its pack.
    const packSizes = new Map<ObjectId, number>();
    this.stats.requests++;
    for await (const b of this.backend.list('packs/')) {
      if (b.key.endsWith('.idx')) idxKeys.push(b.key);
      else if (b.key.endsWith('.pack')) {
        const id = b.key.slice('packs/'.length, -'.pack'.length);
        if (isObjectId(id)) packSizes.set(id, b.size);
      }
    }
    const indexed = new Set(idxKeys.map((k) => k.slice('packs/'.length, -'.idx'.length)));
    for (const [id, size] of packSizes) if (!indexed.has(id)) this.unindexed.set(id, size);
    for (const key of idxKeys) {
      const packId = key.slice('packs/'.length, -'.idx'.length);
      if (!isObjectId(packId)) continue;
      const packSize = packSizes.get(packId);
      const known = before.get(packId);
      if (known && known.fits(packSize)) {
        this.packs.set(packId, known);
        continue;
      }
      const local = path.join(this.idxDir, `${packId}.idx`);
      const cached = fs.existsSync(local);
      let buf: Buffer;
      if (cached) buf = fs.readFileSync(local);
      else {
        // Checked here too, so a damaged read is read again; the check below reports what persists.
        buf = (await this.loadVerified(key, undefined, (b) => PackIndex.decode(b, packId, packSize))).bytes;
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
    }
    // The lookup table stays when packs only came in (extended in listing
    // order); a pack gone, or order changed, means building it again when asked.
    const kept = [...before.keys()].filter((id) => this.packs.has(id));
    const order = [...this.packs.keys()];
    if (this.locator && kept.length === before.size && kept.every((id, i) => order[i] === id)) {
      for (const id of order.slice(kept.length)) this.locator.add(id, this.packs.get(id)!);
    } else this.locator = undefined;
  }

  /**
   * readMark reads `gc/pending/<packId>`: its time, undefined when the mark
   * exists but does not read back valid (damaged, truncated, old format),
   * null when it is gone.
   */
  async readMark(packId: ObjectId): Promise<number | undefined | null> {
    let data: Buffer;
    try {
      data = await this.backend.load(`gc/pending/${packId}`);
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      return undefined;
    }
    return decodeMark(data);
  }

  /** writeMark marks a pack for deletion as of `at` (ms). */
  async writeMark(packId: ObjectId, at: number): Promise<void> {
    await loadXxhash();
    this.stats.requests++;
    await this.backend.save(`gc/pending/${packId}`, encodeMark(at));
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
    this.stats.requests++; // and one in loadVerified
    const st = await this.backend.stat(key);
    if (!st) return undefined;
    let id: string;
    try {
      ({ value: id } = await this.loadVerified(key, undefined, (data) => {
        const text = data.toString('utf8').trim();
        if (!isObjectId(text)) throw new CorruptObjectError(`remote ref ${key} in ${this.backend.location} holds ${JSON.stringify(text.slice(0, 80))}`, { hint: 'fix or delete that ref on the remote' });
        return text;
      }));
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
    return { kind, name, id, etag: st.etag };
  }

  /**
   * setRef points a remote ref at `id` if it still holds `expect` (undefined:
   * must not exist). RefConflictError when someone else moved it first, and
   * also when the write was accepted but the ref does not hold `id` when read
   * back: a store that let two conditional writes both succeed (not atomic)
   * overwrote one push with the other, and that must never pass for success.
   */
  async setRef(kind: RefKind, name: string, id: ObjectId, expect: RemoteRef | undefined): Promise<void> {
    const label = `${kind === 'heads' ? 'branch' : 'tag'} ${name}`;
    this.stats.requests++;
    try {
      await this.backend.save(`refs/${kind}/${name}`, Buffer.from(`${id}\n`), expect ? { ifMatch: expect.etag } : { ifNoneMatch: true });
    } catch (e) {
      if (!(e instanceof RefConflictError)) throw e;
      throw new RefConflictError(`${this.backend.location} refused the update of ${label}: it moved while you pushed (someone else pushed first)`, {
        hint: 'run `lode pull`, then push again (or `lode push --force` to overwrite); the data you pushed is kept and will not be sent twice',
        cause: e,
      });
    }
    // Read back: the conditional write is only as atomic as the store makes it.
    let now: string | undefined;
    this.stats.requests++;
    try {
      now = (await this.backend.load(`refs/${kind}/${name}`)).toString('utf8').trim();
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
    if (now !== id) {
      const holds = now === undefined ? 'is gone' : isObjectId(now) ? `holds ${now.slice(0, 12)}` : 'holds something else';
      throw new RefConflictError(`your push of ${label} to ${this.backend.location} was overwritten: the store accepted it, but the ref now ${holds} (another push won at the same moment)`, {
        hint: 'nothing is lost locally and the data you sent stays on the remote: run `lode pull`, then push again',
      });
    }
  }

  /**
   * refNameClash returns the remote ref that keeps `name` from being created
   * beside it: `x` for `x/y`, or some `x/...` for `x`. Keys are flat on S3,
   * so the store would accept both, but no workspace can hold a ref that is
   * also a folder of refs: every later clone and fetch would trip on them.
   */
  async refNameClash(kind: RefKind, name: string): Promise<string | undefined> {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      this.stats.requests++;
      if (await this.backend.stat(`refs/${kind}/${prefix}`)) return prefix;
    }
    this.stats.requests++;
    for await (const b of this.backend.list(`refs/${kind}/${name}/`)) return b.key.slice(`refs/${kind}/`.length);
    return undefined;
  }

  /**
   * deleteRef removes a remote ref if it still holds what `expect` read
   * (its etag): RefConflictError when someone moved it first, and also when
   * it is back after the delete (recreated at the same moment).
   */
  async deleteRef(kind: RefKind, name: string, expect: RemoteRef): Promise<void> {
    const label = `${kind === 'heads' ? 'branch' : 'tag'} ${name}`;
    const key = `refs/${kind}/${name}`;
    this.stats.requests++;
    try {
      await this.backend.remove(key, { ifMatch: expect.etag ?? '' });
    } catch (e) {
      if (!(e instanceof RefConflictError)) throw e;
      throw new RefConflictError(`${this.backend.location} refused to delete ${label}: it moved since you last fetched it (someone pushed to it)`, {
        hint: '`lode fetch`, look at what it holds now, then delete again if you still mean to',
        cause: e,
      });
    }
    // Read back: a delete is only as conditional as the store makes it.
    this.stats.requests++;
    const now = await this.backend.stat(key);
    if (now) {
      throw new RefConflictError(`${label} is back on ${this.backend.location} right after it was deleted (someone pushed it at the same moment)`, {
        hint: '`lode fetch` shows what it holds now; delete again if you still mean to',
      });
    }
  }

  /** readConfig reads and checks the `config` object; undefined when there is none. */
  private async readConfig(): Promise<RemoteConfig | undefined> {
    try {
      return (await this.loadVerified('config', undefined, (bytes) => parseRemoteConfig(bytes, this.backend.location))).value;
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
  }

  /**
   * raiseFormat rewrites the remote's config (after ensureConfig) to name at
   * least `format`, before the objects that need it are uploaded: an older
   * lode then refuses the remote as too new (exit 10) instead of finding
   * objects it cannot read. Concurrent raises write the same bytes.
   */
  async raiseFormat(format: number): Promise<void> {
    const config = this.config;
    if (!config) throw new Error('raiseFormat before ensureConfig');
    if (config.format >= format) return;
    const raised: RemoteConfig = { format, chunking: config.chunking };
    this.stats.requests++;
    await this.backend.save('config', Buffer.from(`${JSON.stringify(raised)}\n`));
    this.config = raised;
  }

  /** raiseOnce is raiseFormat once per format for this store (concurrent uploads share the write). */
  private raiseOnce(format: number): Promise<void> {
    let raise = this.raising.get(format);
    if (!raise) {
      // Raises run one after the other, so a lower one never writes over a higher one under way.
      const before = [...this.raising.values()];
      raise = Promise.allSettled(before).then(() => this.raiseFormat(format));
      this.raising.set(format, raise);
    }
    return raise;
  }

  /**
   * ensureConfig returns the remote's config, writing one (format and the
   * given chunking parameters) if the remote has none: the first push does.
   * A concurrent first push may win; its config is then the one returned.
   */
  async ensureConfig(chunking: ChunkerParams): Promise<RemoteConfig> {
    if (this.config) return this.config;
    const config: RemoteConfig = { format: BASE_FORMAT, chunking: { min: chunking.min, avg: chunking.avg, max: chunking.max } };
    this.stats.requests++;
    try {
      await this.backend.save('config', Buffer.from(`${JSON.stringify(config)}\n`), this.backend.conditionalWrites ? { ifNoneMatch: true } : undefined);
      this.config = config;
    } catch (e) {
      if (!(e instanceof RefConflictError)) throw e;
      this.config = await this.readConfig();
      if (!this.config) throw e;
    }
    return this.config;
  }

  /**
   * loadVerified reads `key` (or a range of it) and runs `check` on the bytes;
   * when the check finds them damaged (CorruptObjectError), it reads again,
   * up to VERIFIED_READS times: a byte flipped in transit is fetched again,
   * never kept. Damage that persists is reported as it was found. `check`
   * may be async (the bytes checked on worker threads).
   */
  private async loadVerified<T>(key: string, range: { offset: number; length: number } | undefined, check: (bytes: Buffer) => T | Promise<T>, into?: Buffer): Promise<{ bytes: Buffer; value: T }> {
    for (let attempt = 1; ; attempt++) {
      this.stats.requests++;
      const bytes = await this.backend.load(key, range, into);
      this.stats.bytesReceived += bytes.length;
      try {
        return { bytes, value: await check(bytes) };
      } catch (e) {
        if (!(e instanceof CorruptObjectError) || attempt >= VERIFIED_READS) throw e;
        this.stats.rereads++;
      }
    }
  }

  /**
   * uploadPack sends a pack, then its index: the index makes the objects
   * visible. With `after`, the index waits for that promise (the previous
   * pack's upload), so packs sent concurrently still become visible in the
   * order they were filled, dependencies first; the pack bytes themselves
   * travel at once.
   */
  async uploadPack(writer: PackWriter, after?: Promise<unknown>): Promise<ObjectId> {
    // Objects are compressed where it pays, unless the store has no config to
    // raise (only a remote some push wrote one to takes compressed packs).
    const { id, pack, index, entries, compressed, columns } = await writer.seal({ compress: this.compress && this.config !== undefined });
    // Before the pack: an older lode must find the remote too new, not its packs corrupt.
    if (compressed) await this.raiseOnce(columns ? COLUMNS_FORMAT : COMPRESSED_FORMAT);
    this.stats.requests += 2;
    await this.backend.save(`packs/${id}.pack`, pack);
    await after;
    await this.backend.save(`packs/${id}.idx`, index);
    this.stats.bytesSent += pack.length + index.length;
    writeFileAtomic(path.join(this.idxDir, `${id}.idx`), index);
    void entries;
    this.packs.set(id, PackIndex.decode(index, id, pack.length));
    // Built again on the next lookup: a push uploads pack after pack and looks nothing up in between.
    this.locator = undefined;
    return id;
  }

  /**
   * packFiles says where a push may write pack files itself (a store on the
   * local file system: a directory remote), and whether their objects may be
   * compressed (as `uploadPack` decides); undefined for other stores.
   */
  packFiles(): { stage: () => string; compress: boolean } | undefined {
    const b = this.backend;
    if (!b.stage || !b.adopt) return undefined;
    return { stage: () => b.stage!(), compress: this.compress && this.config !== undefined };
  }

  /**
   * adoptPack names a pack file a push wrote under a name from
   * `packFiles().stage` (every object in it checked against its ID), then
   * uploads its index: as `uploadPack` does for a pack in memory. The caller
   * adopts packs in the order they were filled, dependencies first.
   */
  async adoptPack(tmp: string, w: WrittenPack): Promise<ObjectId> {
    if (w.compressed) await this.raiseOnce(w.columns ? COLUMNS_FORMAT : COMPRESSED_FORMAT);
    this.stats.requests += 2;
    await this.backend.adopt!(tmp, `packs/${w.id}.pack`);
    await this.backend.save(`packs/${w.id}.idx`, w.index);
    this.stats.bytesSent += w.size + w.index.length;
    writeFileAtomic(path.join(this.idxDir, `${w.id}.idx`), w.index);
    this.packs.set(w.id, PackIndex.decode(w.index, w.id, w.size));
    this.locator = undefined;
    return w.id;
  }

  /**
   * fetchObjects reads objects with coalesced ranged reads and calls `onObject`
   * with each one's verified bytes. Throws NotFoundError for an ID the
   * remote lacks, after listing its packs once more.
   *
   * With `transient` (large fetches that write the bytes out and keep
   * nothing), the bytes handed to `onObject` are valid only until the
   * promise it returns settles: ranges are read into a few shared buffers
   * that are reused (no allocation per read, no staging copy for the hash
   * workers). `onObject` is then called for every object of a read in
   * order without waiting in between, and its promises are awaited together
   * before that read's buffer is reused.
   */
  async fetchObjects(
    ids: Iterable<ObjectId>,
    onObject: (id: ObjectId, data: Buffer) => void | Promise<void>,
    progress?: ProgressSink,
    { transient = false }: { transient?: boolean } = {},
  ): Promise<void> {
    const byPack = new Map<ObjectId, PackEntry[]>();
    let relisted = false;
    for (const id of ids) {
      let loc = this.location(id);
      if (!loc && !relisted) {
        // A push may have landed since the packs were listed (a ref read
        // after the listing can name its objects): look again before
        // declaring the remote incomplete. Packs are immutable, so the
        // locations gathered so far stay valid.
        relisted = true;
        await this.refresh();
        loc = this.location(id);
      }
      if (!loc) throw new NotFoundError(`object ${id} is not on remote ${this.backend.location}`, { hint: 'the remote is missing data a ref needs; push it again from a workspace that has it' });
      const list = byPack.get(loc.packId) ?? [];
      list.push({ id, offset: loc.offset, length: loc.length, size: loc.size, codec: loc.codec, check: loc.check });
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
    // Up to READS_IN_FLIGHT ranged reads travel at once (a directory remote
    // reads large ranges in the thread pool, S3 runs requests in parallel);
    // objects are still handed on in order, span by span.
    const spans: { packId: ObjectId; span: ReadSpan }[] = [];
    for (const [packId, entries] of byPack) for (const span of coalesce(entries)) spans.push({ packId, span });
    // Much to fetch: spans are hashed on worker threads while the next
    // ranges are read and the objects before are written; few bytes: on
    // this thread. Only objects stored raw go to the workers (their stored
    // bytes are what hashes to their ID); a compressed object is
    // decompressed and hashed here (objectBytes), as are all objects of a
    // small fetch, and small objects (POOL_OBJECT_MIN: the files of a
    // many-small-files clone), for which a staging copy and a message cost
    // more than the hash. Large incompressible data stays raw, so it is what
    // the workers see.
    const pooled = (e: PackEntry) => !isCompressed(e) && e.length >= POOL_OBJECT_MIN;
    let rawBytes = 0;
    for (const list of byPack.values()) for (const e of list) if (pooled(e)) rawBytes += e.length;
    const pool = rawBytes >= HASH_POOL_MIN_BYTES ? new HashPool() : undefined;
    const verifyInPool = async (span: ReadSpan, got: Buffer, packId: ObjectId): Promise<Buffer[]> => {
      checkSpanLength(span, got, packId);
      const raw = span.entries.filter(pooled);
      // Started first (the span is copied to a staging buffer now), so the workers hash while this thread decompresses.
      const hashed = raw.length > 0 ? pool!.verify(got, spanRanges(span, raw)) : Promise.resolve(-1);
      let objects: Buffer[];
      try {
        objects = span.entries.map((e) => (pooled(e) ? got.subarray(e.offset - span.offset, e.offset - span.offset + e.length) : extract(span, got, e, packId)));
      } catch (e) {
        hashed.catch(() => {}); // the first damage found is reported; the workers' answer no longer matters
        throw e;
      }
      const bad = await hashed;
      if (bad >= 0) throw objectMismatch(raw[bad], packId);
      return objects;
    };
    // Read buffers lent to the backend (transient fetches through the pool):
    // shared, so the workers hash them where they are; reused once the
    // objects read into one have been handed on and let go.
    const lending = transient && pool !== undefined;
    const spare: Buffer[] = [];
    const borrow = (size: number): Buffer => {
      const i = spare.findIndex((b) => b.length >= size);
      return i >= 0 ? spare.splice(i, 1)[0] : sharedBuffer(Math.max(size, 16 << 20));
    };
    const lent = new Map<number, Buffer>();
    const load = ({ packId, span }: { packId: ObjectId; span: ReadSpan }, k: number) => {
      const into = lending ? borrow(span.length) : undefined;
      if (into) lent.set(k, into);
      // Every object of the span is verified before any is handed on, so a damaged read is re-read whole.
      const p = this.loadVerified(`packs/${packId}.pack`, { offset: span.offset, length: span.length }, (got) =>
        pool ? verifyInPool(span, got, packId) : span.entries.map((e) => extract(span, got, e, packId)),
      into).catch((e: unknown) => {
        // The index was checked against the listed size: a pack that is shorter now was damaged or replaced.
        if (!(e instanceof RangeError)) throw e;
        throw new CorruptObjectError(`pack ${packId} in ${this.backend.location} is shorter than its index says (${e.message})`, {
          objectId: packId,
          hint: 'the remote copy is damaged: push the data again from a workspace that has it',
          cause: e,
        });
      });
      p.catch(() => {}); // observed in order below; a failure must not go unhandled meanwhile
      return p;
    };
    const inFlight: Promise<{ value: Buffer[] }>[] = [];
    let next = 0;
    try {
      for (let k = 0; k < spans.length; k++) {
        while (next < spans.length && next < k + READS_IN_FLIGHT) {
          inFlight.push(load(spans[next], next));
          next++;
        }
        const { value: objects } = await inFlight.shift()!;
        const { span } = spans[k];
        if (lending) {
          // Handed on in order, awaited together: the buffer is free once all are done with it.
          const handed: (void | Promise<void>)[] = [];
          try {
            for (const [i, e] of span.entries.entries()) handed.push(onObject(e.id, objects[i]));
          } finally {
            await Promise.allSettled(handed);
          }
          for (const h of handed) await h;
          done += span.entries.length;
          spare.push(lent.get(k)!);
          lent.delete(k);
        } else {
          for (const [i, e] of span.entries.entries()) {
            await onObject(e.id, objects[i]);
            done++;
          }
        }
        bytes += span.entries.reduce((n, e) => n + e.length, 0);
        progress?.({ phase: 'pull', done, total, bytes, totalBytes, finished: done === total });
      }
    } finally {
      // After a failure, no read keeps running past this call.
      await Promise.allSettled(inFlight);
      await pool?.close();
    }
  }
}

/** Objects smaller than this are hashed on the main thread in fetchObjects, never in the HashPool. */
const POOL_OBJECT_MIN = 64 << 10;

/** Ranged reads of packs in flight at once in fetchObjects (each up to 16 MiB). */
const READS_IN_FLIGHT = 3;

/**
 * encodeMark: "<ms> <xxh64 of the decimal ms, 16 hex digits>\n". The checksum
 * lets a reader tell a damaged mark from an old one. loadXxhash() must have run.
 */
export function encodeMark(at: number): Buffer {
  const ms = String(Math.floor(at));
  return Buffer.from(`${ms} ${xxh64(Buffer.from(ms)).toString(16).padStart(16, '0')}\n`);
}

/**
 * decodeMark returns a mark's time, or undefined unless it is a well-formed
 * mark whose checksum matches. Marks of older versions ("<ms>\n", no
 * checksum) are undefined too: their time cannot be trusted, so they count
 * as just marked. loadXxhash() must have run.
 */
export function decodeMark(data: Buffer): number | undefined {
  const m = /^(\d{1,15}) ([0-9a-f]{16})\n?$/.exec(data.toString('latin1'));
  if (!m) return undefined;
  if (xxh64(Buffer.from(m[1])).toString(16).padStart(16, '0') !== m[2]) return undefined;
  return Number(m[1]);
}

/** parseRemoteConfig decodes a remote's `config`: CorruptObjectError if it is not one, UnsupportedFormatError if it is newer than this lode. */
export function parseRemoteConfig(bytes: Buffer, location: string): RemoteConfig {
  const corrupt = (why: string) => new CorruptObjectError(`the config object of ${location} is damaged: ${why}`, { hint: 'restore it from a copy of the remote, or delete it: the next push writes a new one' });
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw corrupt('not JSON');
  }
  const o = v as { format?: unknown; chunking?: Partial<Record<keyof ChunkerParams, unknown>> };
  if (!o || typeof o !== 'object' || !Number.isSafeInteger(o.format) || (o.format as number) < 1) throw corrupt('no valid "format"');
  if ((o.format as number) > REMOTE_FORMAT) {
    throw new UnsupportedFormatError(`${location} is in remote format ${o.format as number}, and this lode knows only format ${REMOTE_FORMAT}: it was written by a newer lode`);
  }
  const c = o.chunking;
  const chunking = { min: c?.min, avg: c?.avg, max: c?.max };
  if (!Object.values(chunking).every((n) => Number.isSafeInteger(n))) throw corrupt('no valid "chunking"');
  try {
    validateChunkerParams(chunking as ChunkerParams);
  } catch (e) {
    throw corrupt((e as Error).message);
  }
  return { format: o.format as number, chunking: chunking as ChunkerParams };
}

/**
 * PackLocator finds objects across packs without a string or an object per
 * entry: an open-addressing table keyed by the first four bytes of each ID
 * (IDs are SHA-256, so those are evenly spread), holding (pack, entry)
 * numbers. Packs are added in listing order; for an ID in several packs,
 * lookups meet the copies in the order their packs were added.
 */
class PackLocator {
  private readonly packIds: ObjectId[] = [];
  private readonly indexes: PackIndex[] = [];
  private slotPack = new Int32Array(0);
  private slotEntry = new Int32Array(0);
  private mask = -1;
  private count = 0;

  add(packId: ObjectId, idx: PackIndex): void {
    const p = this.packIds.length;
    this.packIds.push(packId);
    this.indexes.push(idx);
    if ((this.count + idx.count) * 2 > this.slotPack.length) this.grow(this.count + idx.count);
    else for (let i = 0; i < idx.count; i++) this.insert(p, i);
  }

  private grow(atLeast: number): void {
    let cap = 1024;
    while (cap < atLeast * 2) cap *= 2;
    this.slotPack = new Int32Array(cap).fill(-1);
    this.slotEntry = new Int32Array(cap);
    this.mask = cap - 1;
    this.count = 0;
    // Packs in the order they came, entries in ID order: equal IDs keep that order in their probe chain.
    for (let p = 0; p < this.indexes.length; p++) for (let i = 0; i < this.indexes[p].count; i++) this.insert(p, i);
  }

  private insert(p: number, i: number): void {
    let s = this.indexes[p].wordAt(i, 0) & this.mask;
    while (this.slotPack[s] !== -1) s = (s + 1) & this.mask;
    this.slotPack[s] = p;
    this.slotEntry[s] = i;
    this.count++;
  }

  /** find returns the first copy of `id` (whose pack `accept` takes, when given), or undefined. */
  find(id: ObjectId, accept?: (packId: ObjectId) => boolean): Location | undefined {
    if (this.count === 0 || id.length !== 64) return undefined;
    // Not hex: NaN probes from slot 0 and matches nothing (the whole ID is compared below).
    const w0 = hexWord(id, 0);
    for (let s = w0 & this.mask; this.slotPack[s] !== -1; s = (s + 1) & this.mask) {
      const p = this.slotPack[s];
      const i = this.slotEntry[s];
      const idx = this.indexes[p];
      // The first word settles almost every mismatch without making a string; the whole ID settles a match.
      if (idx.wordAt(i, 0) !== w0 || !idx.idIsAt(i, id) || (accept !== undefined && !accept(this.packIds[p]))) continue;
      return { ...idx.entryAt(i, id), packId: this.packIds[p] };
    }
    return undefined;
  }
}
