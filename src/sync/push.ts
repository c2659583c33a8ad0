/**
 * pushBranch sends a branch to a remote: compare what the remote has (its
 * pack indexes), pack only the missing objects, upload packs and their
 * indexes, and move the remote branch last with a conditional write.
 *
 * Objects are packed dependencies first (file data, chunk lists, trees
 * bottom-up, commits oldest first), so whatever prefix of the packs reaches
 * the remote before an interruption is closed: an object the remote has
 * never lacks what it refers to, and a resumed push does not re-send
 * completed packs.
 *
 * The remote is not trusted to be closed, though: packs can be lost (a gc
 * with too short a grace period, a hand-deleted file), so every object the
 * pushed history reaches is checked against the remote's indexes, and only
 * objects in packs not marked for deletion count (`RemoteStore.isSafe`). The
 * walk reads local metadata only (no requests); what is missing is sent,
 * even when the remote ref already points at the commit.
 *
 * The walk stops at trees and commits an earlier push (or `status
 * --remote`) verified whole on this remote, as long as every pack that
 * verification relied on is still there and unmarked (`VerifiedRecord`):
 * a push costs what changed, and a remote that lost or marked a pack is
 * walked in full again, and repaired.
 */
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { DEFAULT_CHUNKING, type ChunkerParams } from '../core/chunker.js';
import { decodeChunkList, treeLinks } from '../core/encoding.js';
import { CorruptObjectError, NotFoundError, RefConflictError } from '../core/errors.js';
import { sha256, type ObjectId } from '../core/id.js';
import type { ProgressSink } from '../core/progress.js';
import { HASH_POOL_MIN_BYTES, HashPool, sharedBuffer } from '../objects/hash-pool.js';
import { PACK_HEADER, PackWriter } from '../objects/pack.js';
import type { LocalStore, Piece } from '../objects/store.js';
import { isAncestor, readCommit } from '../graph/commits.js';
import type { RefKind, RefStore } from '../graph/refs.js';
import { SHARDED_FORMAT, type RemoteStore } from './remote-store.js';
import { safePackFinder, VerifiedRecord } from './verified.js';
import { ChunkReads } from './chunk-reads.js';
import { sendPackFiles } from './push-files.js';

/** PACK_TARGET is the size at which a pack is sealed and uploaded. */
export const PACK_TARGET = 32 << 20;

export interface PushOptions {
  store: LocalStore;
  refs: RefStore;
  remote: RemoteStore;
  kind: RefKind;
  name: string;
  /** The local commit to push, read by the caller (default: the ref's value now). */
  tip?: ObjectId;
  force?: boolean;
  progress?: ProgressSink;
  /** Pack size target (tests use small packs). */
  packTarget?: number;
  /** The chunking parameters of the pushing repository (default: lode's defaults): recorded by the first push. */
  chunking?: ChunkerParams;
  /** With `force`: the remote ref must hold this commit (RefConflictError otherwise). */
  expectFrom?: ObjectId;
  /** Objects erased by an erasure record: pushing any of them (or a tip that reaches one) is refused. */
  refuse?: ReadonlySet<ObjectId>;
  /**
   * The commit an erasure record (`lode forget`) replaced `id` with, if any:
   * a remote ref at a replaced commit may move to a descendant of its
   * replacement without --force (the update stays conditional on what was read).
   */
  rewritten?: (id: ObjectId) => ObjectId | undefined;
  /** Called right before the ref update (the commit point): a check that may throw to stop the push there. */
  recheck?: () => Promise<void>;
}

export interface PushResult {
  ref: string;
  from: ObjectId | null;
  to: ObjectId;
  upToDate: boolean;
  /**
   * The remote ref already pointed at `to` but the remote lacked objects it
   * needs (or held them only in packs marked for deletion): those were sent.
   */
  repaired: boolean;
  objects: number;
  bytes: number;
  /** Bytes the packs took on the remote (file data compressed where it paid; `bytes` is before). */
  stored: number;
  packs: number;
  requests: number;
  /**
   * Set when the remote records other chunking parameters than the pushing
   * repository's: the push is complete and correct, but large files chunked
   * differently share fewer chunks with what is already there.
   */
  chunkingMismatch?: { remote: ChunkerParams; local: ChunkerParams };
  /**
   * Commits and trees this push read from the local store to find what the
   * remote lacks: what changed since the last push, not the whole history.
   */
  walked: { commits: number; trees: number };
}

/** UPLOADS_IN_FLIGHT: packs being sent while the next is filled (each holds a buffer of about PACK_TARGET). */
const UPLOADS_IN_FLIGHT = 2;
/** Room past the target in a pack buffer, so a last object rarely needs a pack of its own. */
const PACK_SLACK = 4 << 20;

function corruptLocal(id: ObjectId): CorruptObjectError {
  return new CorruptObjectError(`local object ${id} is corrupt; nothing was pushed past it`, { objectId: id });
}

/**
 * A wanted object and where its bytes are locally: in memory (metadata), read
 * whole by the store (a small file), or a range of a cached file or local
 * pack; `read`, when given with a range, is the way to its bytes should the
 * range not check out (another copy: a packed file re-added since).
 */
interface Want {
  id: ObjectId;
  size: number;
  bytes?: Buffer;
  read?: () => Buffer;
  file?: string;
  offset?: number;
}

/** A small file in a local pack that the remote lacks: `size` bytes at `offset` of pack file `file`. */
interface SmallWant {
  id: ObjectId;
  size: number;
  file: string;
  offset: number;
}

/**
 * placeSmallRun places `small[from]` in `writer`, with the files after it
 * that follow it in the same local pack, fit the pack buffer without
 * growing it, and come before the pack reaches `target` bytes: the run is
 * read with one read straight into the pack buffer (its files lie back to
 * back there too) and each file is then hashed where it lies, against its
 * ID. A file whose bytes do not check out is taken from the store's other
 * copies (verified there, and here again), else CorruptObjectError: nothing
 * is uploaded past it. The caller makes room for `small[from]`. Returns how
 * many files it placed (at least one).
 */
function placeSmallRun(small: readonly SmallWant[], from: number, writer: PackWriter, target: number, files: FileReader, store: LocalStore): number {
  const first = small[from];
  const room = writer.room;
  const before = writer.bytes;
  let end = from + 1;
  let bytes = first.size;
  while (end < small.length && before + bytes < target) {
    const w = small[end];
    const prev = small[end - 1];
    if (w.file !== first.file || w.offset !== prev.offset + prev.size || bytes + w.size > room) break;
    bytes += w.size;
    end++;
  }
  const slots: (Buffer | undefined)[] = new Array(end - from);
  let contiguous = true;
  for (let k = from; k < end; k++) {
    const slot = writer.reserve(small[k].id, small[k].size, true);
    slots[k - from] = slot;
    // Slots follow one another unless an ID was already in the pack (then it has no slot) or the buffer grew.
    if (!slot || (k > from && (slots[k - from - 1] === undefined || slot.buffer !== slots[0]!.buffer || slot.byteOffset !== slots[k - from - 1]!.byteOffset + small[k - 1].size))) contiguous = false;
  }
  if (contiguous) files.read(first.file, first.offset, Buffer.from(slots[0]!.buffer, slots[0]!.byteOffset, bytes), first.id);
  else for (let k = from; k < end; k++) if (slots[k - from]) files.read(small[k].file, small[k].offset, slots[k - from]!, small[k].id);
  for (let k = from; k < end; k++) {
    const slot = slots[k - from];
    const id = small[k].id;
    if (slot && sha256(slot) !== id) refill(slot, id, () => readWhole(store, id));
  }
  return end - from;
}

/** Reads up to this size go through FileReader's read-ahead window. */
const SMALL_READ = 64 << 10;
const READ_AHEAD = 1 << 20;

/**
 * FileReader reads ranges of cached files and local packs, keeping the
 * current file open across its chunks; small ranges read in order (the
 * small files of a local pack) come from a 1 MiB read-ahead window, so a
 * pack of thousands of files costs one open and a few large reads.
 */
class FileReader {
  private path: string | undefined;
  private fd = -1;
  private window: Buffer | undefined;
  private winStart = 0;
  private winLength = 0;

  read(file: string, offset: number, into: Buffer, id: ObjectId): void {
    if (file !== this.path) {
      this.close();
      try {
        this.fd = fs.openSync(file, 'r');
      } catch {
        throw missing(id);
      }
      this.path = file;
    }
    if (into.length <= SMALL_READ) {
      if (offset < this.winStart || offset + into.length > this.winStart + this.winLength) {
        const win = (this.window ??= Buffer.allocUnsafe(READ_AHEAD));
        this.winStart = offset;
        this.winLength = 0;
        while (this.winLength < into.length) {
          const n = fs.readSync(this.fd, win, this.winLength, win.length - this.winLength, offset + this.winLength);
          if (n === 0) throw shorter(file, id);
          this.winLength += n;
        }
      }
      this.window!.copy(into, 0, offset - this.winStart, offset - this.winStart + into.length);
      return;
    }
    let done = 0;
    while (done < into.length) {
      const n = fs.readSync(this.fd, into, done, into.length - done, offset + done);
      if (n === 0) throw shorter(file, id);
      done += n;
    }
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    this.path = undefined;
    this.winStart = 0;
    this.winLength = 0;
  }
}

/** refill puts another copy of object `id` into `slot` (from `read`), checked; corruptLocal when there is none that matches. */
function refill(slot: Buffer, id: ObjectId, read: (() => Buffer) | undefined): void {
  if (read === undefined) throw corruptLocal(id);
  const other = read();
  if (other.length !== slot.length) throw corruptLocal(id);
  other.copy(slot);
  if (createHash('sha256').update(slot).digest('hex') !== id) throw corruptLocal(id);
}

/** checkedBytes returns a wanted object's bytes, read from where the store keeps them and checked against its ID (or another copy taken: refill). */
function checkedBytes(w: Want, files: FileReader): Buffer {
  if (w.bytes) return w.bytes;
  const slot = Buffer.allocUnsafe(w.size);
  if (w.file !== undefined) files.read(w.file, w.offset ?? 0, slot, w.id);
  else w.read!().copy(slot);
  if (createHash('sha256').update(slot).digest('hex') !== w.id) refill(slot, w.id, w.file !== undefined ? w.read : undefined);
  return slot;
}

function shorter(file: string, id: ObjectId): CorruptObjectError {
  return new CorruptObjectError(`cached file ${file} is shorter than its index or chunk list says`, { objectId: id, path: file });
}

export async function pushRef(o: PushOptions): Promise<PushResult> {
  const { store, remote } = o;
  const label = `${o.kind === 'heads' ? 'branch' : 'tag'} ${o.name}`;
  const local = o.tip ?? o.refs.get(o.kind, o.name);
  if (!local) throw new NotFoundError(`no local ${label}`, { hint: o.kind === 'heads' ? '`lode branch` lists branches' : '`lode tag` lists tags' });
  await remote.refresh();
  const chunking = o.chunking ?? DEFAULT_CHUNKING;
  const config = await remote.ensureConfig(chunking);
  const theirs = await remote.ref(o.kind, o.name);
  if (!theirs) {
    // Before any upload: a ref beside a folder of refs of the same name would break every later clone and fetch.
    const clash = await remote.refNameClash(o.kind, o.name);
    if (clash !== undefined) {
      const what = o.kind === 'heads' ? 'branch' : 'tag';
      throw new RefConflictError(`cannot create ${label} on ${remote.backend.location}: ${what} ${clash} exists there, and a name cannot be both a ${what} and a folder of ${what === 'branch' ? 'branches' : 'tags'}`, {
        hint: o.kind === 'heads'
          ? `rename yours (\`lode checkout -b NEW\`, then \`lode push\`), or delete the remote one first if it is done with (\`lode push --delete ${clash}\`)`
          : 'use another tag name',
      });
    }
  }
  if (o.expectFrom !== undefined && theirs?.id !== o.expectFrom) {
    throw new RefConflictError(`remote ${label} moved (it holds ${theirs ? theirs.id.slice(0, 12) : 'nothing'}, expected ${o.expectFrom.slice(0, 12)})`, { hint: 'run `lode fetch`, then try again' });
  }
  const verified = VerifiedRecord.load(remote);
  const plan = collect(store, remote, local, verified);
  const { small, wants } = plan;
  const sending = small.length + wants.length;
  if (o.refuse && o.refuse.size > 0) {
    const bad = o.refuse.has(local) ? local : (small.find((w) => o.refuse!.has(w.id)) ?? wants.find((w) => o.refuse!.has(w.id)))?.id;
    if (bad) {
      throw new RefConflictError(`pushing ${label} would bring back content an erasure removed (object ${bad.slice(0, 12)})`, {
        hint: '`lode fetch` applies the erasure to your history (or `lode forget` resumes one made here); then push again',
      });
    }
  }
  const result: PushResult = { ref: `${o.kind === 'heads' ? '' : 'tag '}${o.name}`, from: theirs?.id ?? null, to: local, upToDate: false, repaired: false, objects: 0, bytes: 0, stored: 0, packs: 0, requests: 0, walked: plan.walked };
  const sentBefore = remote.stats.bytesSent;
  if (config.chunking.min !== chunking.min || config.chunking.avg !== chunking.avg || config.chunking.max !== chunking.max) {
    result.chunkingMismatch = { remote: config.chunking, local: { min: chunking.min, avg: chunking.avg, max: chunking.max } };
  }
  if (sending === 0) {
    verified.add(plan.whole, plan.relied);
    verified.save();
  }
  if (theirs?.id === local && sending === 0) {
    result.upToDate = true;
    result.requests = remote.stats.requests;
    return result;
  }
  const replacement = theirs && theirs.id !== local ? o.rewritten?.(theirs.id) : undefined;
  const replaced = replacement !== undefined && store.hasObject(replacement) && (replacement === local || isAncestor(store, replacement, local));
  if (theirs && theirs.id !== local && !o.force && !replaced) {
    if (o.kind === 'tags') throw new RefConflictError(`remote ${label} points elsewhere (${theirs.id.slice(0, 12)})`, { hint: 'tags do not move: use another name, or --force to repoint it' });
    if (!store.hasObject(theirs.id)) {
      throw new RefConflictError(`remote ${label} has commits you do not have`, { hint: 'run `lode pull` (it fetches and merges them), then push again; `--force` overwrites them' });
    }
    if (!isAncestor(store, theirs.id, local)) {
      throw new RefConflictError(`pushing ${label} would drop commits that are on the remote: it moved since your last fetch`, { hint: 'run `lode pull`, then push again (or `lode push --force` to overwrite)' });
    }
  }

  // Sharded trees need a remote format that an older lode refuses cleanly.
  if (plan.sharded || plan.recorded) await remote.raiseFormat(SHARDED_FORMAT);
  const total = sending;
  const totalBytes = plan.smallBytes + wants.reduce((s, w) => s + w.size, 0);
  o.progress?.({ phase: 'push', done: 0, total, bytes: 0, totalBytes });
  const target = o.packTarget ?? PACK_TARGET;
  // Each object is read once, straight into its place in the pack buffer,
  // and hashed once there (against its ID); the pack is named from its table
  // of contents, so nothing hashes it again. Up to UPLOADS_IN_FLIGHT packs
  // travel while the next one is filled; their indexes land in order.
  //
  // With much to send, the hashing runs on worker threads (pack buffers are
  // shared with them, so nothing is copied): the main thread keeps reading
  // while the other cores check. A pack leaves only once every object in it
  // and in the packs before it has matched its ID, so nothing is uploaded
  // past a corrupt object. That wait also orders the check before `seal`
  // (in uploadPack), which compresses objects in place in the same buffer:
  // the workers always hash the object's own, uncompressed bytes.
  // A large push to a directory remote writes its pack files on workers (push-files.ts), not through pack buffers.
  // Small files in local packs are not part of it: they go first, through pack buffers, hashed on this thread (placeSmallRun).
  const large = totalBytes - plan.smallBytes >= HASH_POOL_MIN_BYTES;
  const packFiles = large ? remote.packFiles() : undefined;
  const pool = large && !packFiles ? new HashPool() : undefined;
  const allocate = () => (pool ? sharedBuffer(target + PACK_SLACK) : Buffer.allocUnsafe(target + PACK_SLACK));
  /** All checks of the packs filled so far: a pack is uploaded after this settles. */
  let checked: Promise<unknown> = Promise.resolve();
  let checks: Promise<void>[] = [];
  const free: Buffer[] = [];
  const uploads: { done: Promise<ObjectId>; buffer: Buffer }[] = [];
  const uploaded: ObjectId[] = [];
  const files = new FileReader();
  // Chunks of cached files (a large push) are read and checked off the main thread, run by run.
  const reads = pool ? new ChunkReads(pool, { missing, shorter, corrupt: corruptLocal }) : undefined;
  const settle = async () => {
    const u = uploads.shift()!;
    uploaded.push(await u.done);
    result.packs++;
    free.push(u.buffer);
  };
  const send = async (w: PackWriter, buffer: Buffer) => {
    // The pack's last reads start before waiting for a buffer to come back.
    if (reads) checks.push(...reads.take());
    if (uploads.length >= UPLOADS_IN_FLIGHT) await settle();
    checked = Promise.all([checked, ...checks]);
    checks = [];
    const previous = uploads[uploads.length - 1]?.done;
    const done = checked.then(() => remote.uploadPack(w, previous));
    done.catch(() => {}); // observed when settled; a failure must not go unhandled meanwhile
    uploads.push({ done, buffer });
  };
  let writer: PackWriter | undefined;
  let buffer: Buffer | undefined;
  /** ship sends the pack being filled and reports progress. */
  const ship = async () => {
    await send(writer!, buffer!);
    writer = undefined;
    o.progress?.({ phase: 'push', done: result.objects, total, bytes: result.bytes, totalBytes });
  };
  /**
   * writerFor returns the pack an object of `size` bytes goes in: the one
   * being filled, unless that is started and too full for it (then it ships
   * and another starts, in a buffer an upload gave back when there is one:
   * a writer that had to grow used another, so this one is free then too).
   */
  const writerFor = async (size: number): Promise<PackWriter> => {
    if (writer && writer.bytes > PACK_HEADER && size > writer.room) await ship();
    if (!writer) {
      buffer = free.pop() ?? allocate();
      writer = new PackWriter(buffer);
    }
    return writer;
  };
  try {
    // Small files in local packs first, a run of neighbours at a time.
    for (let i = 0; i < small.length; ) {
      const placed = placeSmallRun(small, i, await writerFor(small[i].size), target, files, store);
      for (let k = i; k < i + placed; k++) result.bytes += small[k].size;
      result.objects += placed;
      i += placed;
      if (writer!.bytes >= target) await ship();
    }
    if (packFiles) {
      // The small files' last pack, and every pack before, lands before the pack files: dependencies first.
      if (writer && writer.count > 0) await send(writer, buffer!);
      writer = undefined;
      while (uploads.length > 0) await settle();
      const named = await sendPackFiles({
        remote,
        files: packFiles,
        target,
        slack: PACK_SLACK,
        faults: { missing, shorter, corrupt: corruptLocal },
        wants: wants.map((w) => (w.file !== undefined && w.read === undefined
          ? { id: w.id, size: w.size, file: w.file, offset: w.offset, data: true }
          : { id: w.id, size: w.size, data: w.bytes === undefined, bytes: () => checkedBytes(w, files) })),
        progress: (done, bytes) => o.progress?.({ phase: 'push', done: small.length + done, total, bytes: plan.smallBytes + bytes, totalBytes }),
      });
      uploaded.push(...named);
      result.packs += named.length;
      result.objects += wants.length;
      result.bytes += totalBytes - plan.smallBytes;
    }
    for (const w of packFiles ? [] : wants) {
      // File data (read from the cache) may be compressed when the pack is sealed; metadata stays raw.
      const slot = (await writerFor(w.size)).reserve(w.id, w.size, w.bytes === undefined);
      if (slot && reads && w.file !== undefined && w.read === undefined) reads.add(slot, w.file, w.offset ?? 0, w.id);
      else if (slot) {
        if (w.file !== undefined) files.read(w.file, w.offset ?? 0, slot, w.id);
        else (w.bytes ?? w.read!()).copy(slot);
        // Hashed on the main thread when there is little to send, while packs
        // already filled are written in the thread pool. (WebCrypto's digest in
        // the pool was tried: it copies every byte first and cost twice the CPU.)
        // A packed file whose range does not check out is taken from the
        // store's other copies (verified there, and here again).
        const other = w.file !== undefined ? w.read : undefined;
        if (pool) {
          const id = w.id;
          const check = pool.verify(slot, [{ start: 0, end: slot.length, id }]).then((bad) => {
            if (bad >= 0) refill(slot, id, other);
          });
          check.catch(() => {}); // observed through `checked` before the pack is sent
          checks.push(check);
        } else if (createHash('sha256').update(slot).digest('hex') !== w.id) refill(slot, w.id, other);
      }
      result.objects++;
      result.bytes += w.size;
      if (writer!.bytes >= target) await ship();
    }
    if (writer && writer.count > 0) await send(writer, buffer!);
    while (uploads.length > 0) await settle();
  } finally {
    files.close();
    // After a failure: let uploads already started finish (or fail) before returning, so none writes after the command ends.
    await Promise.allSettled(uploads.map((u) => u.done));
    await pool?.close();
  }
  result.stored = remote.stats.bytesSent - sentBefore;
  // Everything the pushed history reaches is on the remote now, whatever happens to the ref.
  if (sending > 0) {
    verified.add(plan.whole, [...plan.relied, ...uploaded]);
    verified.save();
  }
  o.progress?.({ phase: 'push', done: result.objects, total, bytes: result.bytes, totalBytes, finished: true });
  // The ref last: it is the commit point of a push.
  await o.recheck?.();
  if (theirs?.id === local) result.repaired = true;
  else await remote.setRef(o.kind, o.name, local, theirs);
  result.requests = remote.stats.requests;
  return result;
}

/** planPush says what a push of `tip` would send (after `remote.refresh()`), without sending it. */
export function planPush(store: LocalStore, remote: RemoteStore, tip: ObjectId): { objects: number; bytes: number } {
  const verified = VerifiedRecord.load(remote);
  const { small, smallBytes, wants, whole, relied } = collect(store, remote, tip, verified);
  if (small.length + wants.length === 0) {
    verified.add(whole, relied);
    verified.save();
  }
  return { objects: small.length + wants.length, bytes: smallBytes + wants.reduce((s, w) => s + w.size, 0) };
}

/** Plan is what a push of one tip must send, and what it will then have verified. */
interface Plan {
  /** Small files the remote lacks that are in local packs, by pack and offset: sent first (placeSmallRun). */
  small: SmallWant[];
  smallBytes: number;
  /** What else the remote lacks, dependencies first. */
  wants: Want[];
  /** Trees and commits walked whose closure is whole on the remote once `wants` are there. */
  whole: ObjectId[];
  /** Unmarked remote packs holding the objects of those closures that are not sent. */
  relied: Set<ObjectId>;
  walked: { commits: number; trees: number };
  /** Whether the walk met a sharded directory (the remote must be at SHARDED_FORMAT or above). */
  sharded: boolean;
  /** Whether a commit sent carries a `record` header (the remote must be at RECORD_FORMAT or above). */
  recorded: boolean;
}

/**
 * collect lists what the remote lacks to have `tip` and everything it
 * reaches, dependencies first. It walks the history locally rather than
 * stopping at objects the remote has: that is what notices a remote missing
 * objects below a tree or commit it still has. It stops only at trees and
 * commits `verified` holds (whole on the remote, by packs still there).
 */
function collect(store: LocalStore, remote: RemoteStore, tip: ObjectId, verified: VerifiedRecord): Plan {
  const data: Want[] = [];
  const packed: SmallWant[] = [];
  let packedBytes = 0;
  const lists: Want[] = [];
  const trees: Want[] = [];
  const commits: Want[] = [];
  const seen = new Set<ObjectId>();
  const whole: ObjectId[] = [];
  const relied = new Set<ObjectId>();
  const walked = { commits: 0, trees: 0 };
  let sharded = false;
  // Whether a commit sent names a record (a header an older lode takes for corruption).
  let recorded = false;
  // Trees and chunk lists whose closure this walk could not see (below): never recorded as verified.
  const unseen = new Set<ObjectId>();
  let unsure = false;
  const meta = (id: ObjectId): Want => {
    const bytes = store.getObject(id);
    return { id, size: bytes.length, bytes };
  };
  // present: the remote has `id` in an unmarked pack; that pack is noted for the record.
  const safePackOf = safePackFinder(remote);
  const present = (id: ObjectId): boolean => {
    if (!remote.isSafe(id)) return false;
    const p = safePackOf(id);
    if (p) relied.add(p);
    else unsure = true;
    return true;
  };
  // Metadata the local store lacks (a pull limited to some paths fetches only
  // their chunk lists) cannot be walked; if the remote has it, trust it.
  const unknowable = (id: ObjectId) => remote.isSafe(id) && !store.hasObject(id);
  /** walkTree returns whether the closure of `id` was seen whole (walked now, or verified before). */
  const walkTree = (id: ObjectId): boolean => {
    if (verified.has(id)) return true;
    if (seen.has(id)) return !unseen.has(id);
    seen.add(id);
    if (unknowable(id)) {
      present(id);
      unseen.add(id);
      return false;
    }
    walked.trees++;
    let known = true;
    const w = meta(id);
    const links = treeLinks(w.bytes!, id);
    if (links.shards.length > 0) sharded = true;
    for (const s of links.shards) if (!walkTree(s)) known = false;
    for (const e of links.entries) {
      if (e.kind === 'tree') {
        if (!walkTree(e.id)) known = false;
      } else if (e.kind === 'blob') {
        if (seen.has(e.id)) continue;
        seen.add(e.id);
        if (present(e.id)) continue;
        // A small file in a local pack is read from there in pack order (runs
        // of neighbours in one read: placeSmallRun); any other through the store.
        const at = store.packs.locate(e.id);
        if (at && at.length === e.size) {
          packed.push({ id: e.id, size: e.size, file: store.packs.packPath(at.pack), offset: at.offset });
          packedBytes += e.size;
        } else data.push({ id: e.id, size: e.size, read: () => readWhole(store, e.id) });
      } else if (seen.has(e.id)) {
        if (unseen.has(e.id)) known = false;
      } else {
        seen.add(e.id);
        if (unknowable(e.id)) {
          present(e.id);
          unseen.add(e.id);
          known = false;
          continue;
        }
        const list = meta(e.id);
        const file = store.filePath(e.id);
        // A split file (an older version kept as chunks) has no whole copy:
        // each chunk is read where the store keeps it (loose, or inside
        // another whole file), found once for the file.
        let pieces: Piece[] | undefined;
        if (!store.hasWhole(e.id) && store.isSplit(e.id)) {
          try {
            pieces = store.pieces({ kind: 'chunked', id: e.id, size: e.size });
          } catch {
            pieces = undefined; // read from `file` below: reported missing there
          }
        }
        let off = 0;
        const chunks = decodeChunkList(list.bytes!, e.id).chunks;
        for (let i = 0; i < chunks.length; i++) {
          const c = chunks[i];
          const at = off;
          off += c.size;
          if (seen.has(c.id)) continue;
          seen.add(c.id);
          if (present(c.id)) continue;
          const p = pieces?.[i];
          data.push({ id: c.id, size: c.size, file: p ? p.source : file, offset: p ? p.at : at });
        }
        if (!present(e.id)) lists.push(list);
      }
    }
    if (!present(id)) trees.push(w); // after its children: bottom-up
    if (known) whole.push(id);
    else unseen.add(id);
    return known;
  };
  let allKnown = true;
  const walkedCommits: ObjectId[] = [];
  const stack = [tip];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    if (verified.has(id)) continue; // and so are its ancestors
    walked.commits++;
    const c = readCommit(store, id);
    // The record a commit names travels with it, before it (with the trees).
    if (c.record && !present(id)) recorded = true;
    if (c.record && !seen.has(c.record)) {
      seen.add(c.record);
      if (!present(c.record)) trees.push(meta(c.record));
    }
    if (!present(id)) commits.push(meta(id));
    if (!walkTree(c.tree)) allKnown = false;
    walkedCommits.push(id);
    stack.push(...c.parents);
  }
  if (allKnown) whole.push(...walkedCommits);
  // Oldest commits first: a commit is only visible once its parents are.
  packed.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.offset - b.offset));
  return { small: packed, smallBytes: packedBytes, wants: [...data, ...lists, ...trees, ...commits.reverse()], whole: unsure ? [] : whole, relied, walked, sharded, recorded };
}

function missing(id: ObjectId): NotFoundError {
  return new NotFoundError(`the cache has no content for ${id.slice(0, 12)}, which the pushed history needs`, {
    hint: 'this workspace has not fetched it (a default clone holds the data of the versions it checked out): `lode fetch --all REMOTE` from a remote that has it, then push again; `lode fsck` tells not fetched from lost',
  });
}

function readWhole(store: LocalStore, id: ObjectId): Buffer {
  try {
    return store.readBlob(id);
  } catch (e) {
    if (e instanceof CorruptObjectError) throw e;
    throw missing(id);
  }
}
