/**
 * LocalPacks keeps small whole files (blobs of at most SMALL_FILE_MAX bytes)
 * in packs inside the local store, `.lode/packs/<name>.pack` beside
 * `<name>.idx`, instead of one cache file each. A fetch writes what it
 * receives into a pack with a few large writes, so a clone of many small
 * files creates each file once (in the workspace) rather than twice (cache
 * and workspace): on ext4, creating a file costs far more than writing 4 KiB.
 *
 * Guarantees: a pack becomes visible only with its index (the pack is
 * renamed into place first, the index last), packs are immutable, and every
 * read is checked against the file's ID (`read` throws CorruptObjectError).
 * A pack name is random (not a content hash): nothing trusts a local pack by
 * its name. `drop` removes files by writing the survivors into a new pack
 * before the old one goes, so an interruption leaves duplicates, never gaps.
 * Layout: docs/formats.md ("Local packs").
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { CorruptObjectError } from '../core/errors.js';
import { bytesToId, ID_BYTES, idToBytes, isObjectId, writeId, type ObjectId } from '../core/id.js';
import { errnoCode, rmQuiet, tempName } from '../storage/atomic.js';

/** SMALL_FILE_MAX: blobs up to this size go to local packs when fetched (a reflink or hardlink gains nothing below it). */
export const SMALL_FILE_MAX = 64 << 10;
/**
 * A pack is sealed once it holds this many bytes; the next file starts
 * another. What an interrupted fetch had sealed is kept, so a resumed clone
 * downloads it no more.
 */
const PACK_TARGET = 32 << 20;
/** Writes are gathered into buffers of this size. */
const WRITE_BUFFER = 1 << 20;
/** Reads in pack order are served from a window of this size (LocalPacks.readRange). */
const READ_AHEAD = 1 << 20;

const PACK_MAGIC = Buffer.from('LODP\x01', 'latin1');
const NONCE_BYTES = 16;
const PACK_HEADER = PACK_MAGIC.length + NONCE_BYTES;
const INDEX_MAGIC = Buffer.from('LODL\x01', 'latin1');
const INDEX_HEAD = INDEX_MAGIC.length + ID_BYTES + 4;
const ENTRY_BYTES = ID_BYTES + 12;
const CHECKSUM_BYTES = 16;

/** PackedFile locates one file inside a local pack. */
export interface PackedFile {
  pack: string;
  offset: number;
  length: number;
}

/** A pack of at least this many files gets a fan-out table (256 KiB). */
const FAN_MIN = 16_384;

/**
 * LocalPackIndex answers where files are in one local pack (IDs sorted,
 * binary search). ID i is `ID_BYTES` bytes at `idAt + i * stride` of `ids`:
 * the index file's own bytes, read in place (copying 20,000 IDs out one
 * call at a time cost more than reading the file).
 */
class LocalPackIndex {
  /** The first 4 bytes of each ID as a number: the search runs on these (Buffer.compare costs far more per call). */
  private readonly prefixes: Uint32Array;

  constructor(
    readonly name: string,
    private readonly ids: Buffer,
    private readonly idAt: number,
    private readonly stride: number,
    private readonly offsets: Float64Array,
    private readonly lengths: Uint32Array,
  ) {
    this.prefixes = new Uint32Array(lengths.length);
    for (let i = 0; i < lengths.length; i++) this.prefixes[i] = ids.readUInt32BE(idAt + i * stride);
    if (lengths.length >= FAN_MIN) {
      // fan[h]: the first entry whose ID starts with 16 bits >= h.
      const fan = new Uint32Array(65537);
      let i = 0;
      for (let h = 0; h <= 65536; h++) {
        while (i < lengths.length && this.prefixes[i] >>> 16 < h) i++;
        fan[h] = i;
      }
      this.fan = fan;
    }
  }

  /**
   * A fan-out table over the first 16 bits of the IDs, for a large pack: a
   * binary search over a million random IDs misses the cache at most of its
   * twenty steps, and `add` looks up every unchanged file.
   */
  private readonly fan?: Uint32Array;

  get count(): number {
    return this.lengths.length;
  }

  /** find is the entry of the ID in `key` at `kat` (32 bytes), or -1. */
  find(key: Uint8Array, kat = 0): number {
    const k = ((key[kat] << 24) | (key[kat + 1] << 16) | (key[kat + 2] << 8) | key[kat + 3]) >>> 0;
    const pre = this.prefixes;
    const fan = this.fan;
    let lo = fan ? fan[k >>> 16] : 0;
    let hi = fan ? fan[(k >>> 16) + 1] - 1 : this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (pre[mid] < k) lo = mid + 1;
      else hi = mid - 1;
    }
    // `lo` is the first ID whose prefix is not below the key's: compare the rest byte by byte while the prefix matches
    // (a loop, not Buffer.compare: a lookup per tracked file is millions of calls).
    const ids = this.ids;
    next: for (let i = lo; i < this.count && pre[i] === k; i++) {
      const at = this.idAt + i * this.stride;
      for (let j = 4; j < ID_BYTES; j++) {
        const d = ids[at + j] - key[kat + j];
        if (d < 0) continue next;
        if (d > 0) return -1;
      }
      return i;
    }
    return -1;
  }

  at(i: number): PackedFile & { id: ObjectId } {
    return { id: bytesToId(this.ids, this.idAt + i * this.stride), pack: this.name, offset: this.offsets[i], length: this.lengths[i] };
  }

  /** place is where entry `i` is (`at` without its ID: a lookup by ID knows it already). */
  place(i: number): PackedFile {
    return { pack: this.name, offset: this.offsets[i], length: this.lengths[i] };
  }
}

/**
 * encodeLocalIndex: "LODL" 0x01, the pack name (32 bytes), u32 count, then
 * per file (sorted by ID, unique) ID (32) + u64 offset + u32 length, then the
 * first 16 bytes of the SHA-256 of everything before them.
 */
function encodeLocalIndex(name: string, entries: { id: ObjectId; offset: number; length: number }[]): Buffer {
  const buf = Buffer.alloc(INDEX_HEAD + entries.length * ENTRY_BYTES + CHECKSUM_BYTES);
  let pos = INDEX_MAGIC.copy(buf, 0);
  pos += idToBytes(name).copy(buf, pos);
  buf.writeUInt32BE(entries.length, pos);
  pos += 4;
  for (const e of entries) {
    // Written in place, the u64 offset as two u32: no Buffer or BigInt per file (a pack holds thousands).
    writeId(buf, pos, e.id);
    buf.writeUInt32BE(Math.floor(e.offset / 0x100000000), pos + ID_BYTES);
    buf.writeUInt32BE(e.offset >>> 0, pos + ID_BYTES + 4);
    buf.writeUInt32BE(e.length, pos + ID_BYTES + 8);
    pos += ENTRY_BYTES;
  }
  createHash('sha256').update(buf.subarray(0, pos)).digest().copy(buf, pos, 0, CHECKSUM_BYTES);
  return buf;
}

function decodeLocalIndex(buf: Buffer, name: string, packSize: number): LocalPackIndex {
  const fail = (why: string) => new CorruptObjectError(`local pack index ${name}.idx is corrupt: ${why}`, { hint: 'run `lode fsck`; delete that index (and its pack) and fetch again to restore what it held' });
  if (buf.length < INDEX_HEAD + CHECKSUM_BYTES || !buf.subarray(0, INDEX_MAGIC.length).equals(INDEX_MAGIC)) throw fail('bad header');
  const body = buf.subarray(0, buf.length - CHECKSUM_BYTES);
  if (!createHash('sha256').update(body).digest().subarray(0, CHECKSUM_BYTES).equals(buf.subarray(buf.length - CHECKSUM_BYTES))) throw fail('checksum mismatch');
  if (bytesToId(buf, INDEX_MAGIC.length) !== name) throw fail('it names another pack');
  const count = buf.readUInt32BE(INDEX_MAGIC.length + ID_BYTES);
  if (buf.length !== INDEX_HEAD + count * ENTRY_BYTES + CHECKSUM_BYTES) throw fail('wrong length');
  const offsets = new Float64Array(count);
  const lengths = new Uint32Array(count);
  let pos = INDEX_HEAD;
  for (let i = 0; i < count; i++) {
    // ID i must sort after ID i - 1 (their first words settle almost every pair without a compare call).
    if (i > 0) {
      const a = buf.readUInt32BE(pos - ENTRY_BYTES);
      const b = buf.readUInt32BE(pos);
      if (a > b || (a === b && buf.compare(buf, pos - ENTRY_BYTES, pos - ENTRY_BYTES + ID_BYTES, pos, pos + ID_BYTES) <= 0)) throw fail('IDs not sorted');
    }
    // u64 as two u32: no BigInt per entry.
    const off = buf.readUInt32BE(pos + ID_BYTES) * 0x100000000 + buf.readUInt32BE(pos + ID_BYTES + 4);
    const len = buf.readUInt32BE(pos + ID_BYTES + 8);
    if (off < PACK_HEADER || off + len > packSize) throw fail(`file ${i} lies outside the pack`);
    offsets[i] = off;
    lengths[i] = len;
    pos += ENTRY_BYTES;
  }
  return new LocalPackIndex(name, buf, INDEX_HEAD, ENTRY_BYTES, offsets, lengths);
}

/** LocalPacks is the set of local packs of one store, loaded lazily. */
export class LocalPacks {
  private indexes: LocalPackIndex[] | undefined;
  /** Indexes that could not be read, with why (fsck reports them). */
  private broken: { name: string; problem: string }[] = [];
  private readonly fds = new Map<string, number>();

  constructor(
    readonly dir: string,
    private readonly tmpDir: string,
  ) {}

  private load(): LocalPackIndex[] {
    if (this.indexes) return this.indexes;
    const out: LocalPackIndex[] = [];
    this.broken = [];
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
      names = [];
    }
    for (const n of names) {
      if (!n.endsWith('.idx')) continue;
      const name = n.slice(0, -4);
      if (!isObjectId(name)) continue;
      try {
        const packSize = fs.statSync(this.packPath(name)).size;
        out.push(decodeLocalIndex(fs.readFileSync(path.join(this.dir, n)), name, packSize));
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') this.broken.push({ name, problem: 'its pack is missing' });
        else if (e instanceof CorruptObjectError) this.broken.push({ name, problem: e.message });
        else throw e;
      }
    }
    // Largest first: most lookups end at the first pack they search.
    out.sort((a, b) => b.count - a.count);
    this.indexes = out;
    return out;
  }

  /** reload forgets what was loaded (after packs were added or removed). */
  reload(): void {
    this.close();
    this.indexes = undefined;
  }

  packPath(name: string): string {
    let p = this.paths.get(name);
    if (p === undefined) {
      p = path.join(this.dir, `${name}.pack`);
      this.paths.set(name, p);
    }
    return p;
  }

  private readonly paths = new Map<string, string>();

  /** locate says where file `id` is packed (its first copy), or undefined. */
  locate(id: ObjectId): PackedFile | undefined {
    const idx = this.load();
    if (idx.length === 0) return undefined;
    const key = idToBytes(id);
    for (const p of idx) {
      const i = p.find(key);
      if (i >= 0) return p.place(i);
    }
    return undefined;
  }

  /** locateAll lists every packed copy of file `id` (a file added again while packed has two). */
  locateAll(id: ObjectId): PackedFile[] {
    const idx = this.load();
    if (idx.length === 0) return [];
    const key = idToBytes(id);
    const out: PackedFile[] = [];
    for (const p of idx) {
      const i = p.find(key);
      if (i >= 0) out.push(p.place(i));
    }
    return out;
  }

  has(id: ObjectId): boolean {
    return this.locate(id) !== undefined;
  }

  /** hasKey says whether the file whose ID is the 32 bytes of `key` at `at` is packed. */
  hasKey(key: Uint8Array, at = 0): boolean {
    for (const p of this.load()) if (p.find(key, at) >= 0) return true;
    return false;
  }

  /**
   * read returns packed file `id`'s bytes, checked against its ID (the first
   * copy that checks out when several packs hold it); undefined when no pack
   * holds it. CorruptObjectError when no copy matches. With `scratch` (at
   * least SMALL_FILE_MAX bytes), the bytes are returned in it (valid until
   * its next use) rather than in a new buffer. A copy in a pack this object
   * wrote from checked bytes a moment ago (`writer(true)`: a fetch) is not
   * hashed again, as installFile's `verified` files are copied unhashed.
   */
  read(id: ObjectId, scratch?: Buffer): Buffer | undefined {
    const all = this.locateAll(id);
    if (all.length === 0) return undefined;
    for (const at of all) {
      const buf = scratch && scratch.length >= at.length ? scratch.subarray(0, at.length) : Buffer.allocUnsafe(at.length);
      if (!this.readRange(at, buf)) continue;
      if (this.checkedNow.has(at.pack) || createHash('sha256').update(buf).digest('hex') === id) return buf;
    }
    const at = all[0];
    throw new CorruptObjectError(`cached file ${id} is corrupt: its bytes in local pack ${at.pack}.pack do not match its ID`, { objectId: id, path: this.packPath(at.pack) });
  }

  /**
   * readRange reads a packed file's bytes into `into` (false when the pack is
   * shorter). Reads that follow one another through a pack (a checkout in
   * the order a fetch packed) are served from a read-ahead window of
   * READ_AHEAD bytes; any other read reads just its range.
   */
  private readRange(at: PackedFile, into: Buffer): boolean {
    const w = this.ahead;
    const sequential = w !== undefined && w.pack === at.pack && at.offset === w.lastEnd;
    if (w && w.pack === at.pack && at.offset >= w.start && at.offset + at.length <= w.start + w.length) {
      w.buf.copy(into, 0, at.offset - w.start, at.offset - w.start + at.length);
      w.lastEnd = at.offset + at.length;
      return true;
    }
    const fd = this.fdOf(at.pack);
    if (sequential && at.length <= READ_AHEAD / 4) {
      const win = w!;
      win.start = at.offset;
      win.length = 0;
      while (win.length < at.length) {
        const n = fs.readSync(fd, win.buf, win.length, win.buf.length - win.length, at.offset + win.length);
        if (n === 0) return false;
        win.length += n;
      }
      win.buf.copy(into, 0, 0, at.length);
      win.lastEnd = at.offset + at.length;
      return true;
    }
    let done = 0;
    while (done < at.length) {
      const n = fs.readSync(fd, into, done, at.length - done, at.offset + done);
      if (n === 0) return false;
      done += n;
    }
    // Remember where this read ended: the next one may follow it.
    if (w) Object.assign(w, { pack: at.pack, start: 0, length: 0, lastEnd: at.offset + at.length });
    else this.ahead = { pack: at.pack, start: 0, length: 0, lastEnd: at.offset + at.length, buf: Buffer.allocUnsafe(READ_AHEAD) };
    return true;
  }

  /** The read-ahead window of `readRange` (bytes `start`..`start + length` of `pack`), and where the last read ended. */
  private ahead: { pack: string; start: number; length: number; lastEnd: number; buf: Buffer } | undefined;

  private fdOf(name: string): number {
    let fd = this.fds.get(name);
    if (fd === undefined) {
      fd = fs.openSync(this.packPath(name), 'r');
      this.fds.set(name, fd);
    }
    return fd;
  }

  /** ids yields every packed file's ID once. */
  *ids(): Generator<ObjectId> {
    const seen = new Set<ObjectId>();
    for (const p of this.load()) {
      for (let i = 0; i < p.count; i++) {
        const { id } = p.at(i);
        if (seen.has(id)) continue;
        seen.add(id);
        yield id;
      }
    }
  }

  /** problems lists local pack indexes that could not be read (fsck). */
  problems(): { name: string; problem: string }[] {
    this.load();
    return [...this.broken];
  }

  /**
   * writer starts a new set of packs; nothing it adds is visible before
   * `finish`. `checked`: the caller guarantees it hashed every file's bytes
   * against its ID just now, in this process (see `read`).
   */
  writer(checked = false): LocalPackWriter {
    return new LocalPackWriter(this, this.tmpDir, checked);
  }

  /** Packs this object's `checked` writers sealed: read back without a second hash. */
  private readonly checkedNow = new Set<string>();

  /** installed is called by a writer once pack `name` and its index are in place. */
  installed(name: string, checked: boolean): void {
    if (checked) this.checkedNow.add(name);
    this.reload();
  }

  /**
   * drop removes packed files `dead`: a pack holding only dead files is
   * deleted; one holding some is rewritten with the rest first (their bytes
   * copied as they are). Returns how many files and bytes went.
   */
  drop(dead: ReadonlySet<ObjectId>): { files: number; bytes: number } {
    const gone = new Set<ObjectId>();
    let bytes = 0;
    const packs = this.load();
    const doomed: string[] = [];
    const w = this.writer();
    try {
      for (const p of packs) {
        const live: (PackedFile & { id: ObjectId })[] = [];
        let deadHere = 0;
        for (let i = 0; i < p.count; i++) {
          const e = p.at(i);
          if (dead.has(e.id)) {
            deadHere++;
            if (!gone.has(e.id)) bytes += e.length;
            gone.add(e.id);
          } else live.push(e);
        }
        if (deadHere === 0) continue;
        const fd = this.fdOf(p.name);
        for (const e of live) {
          const buf = Buffer.allocUnsafe(e.length);
          if (fs.readSync(fd, buf, 0, e.length, e.offset) !== e.length) throw new CorruptObjectError(`local pack ${p.name}.pack is shorter than its index says`, { path: this.packPath(p.name) });
          w.add(e.id, buf);
        }
        doomed.push(p.name);
      }
      w.finish();
    } catch (e) {
      w.abort();
      throw e;
    }
    this.close();
    // The survivors are in their new pack: only now may the old ones go (index first: it makes them visible).
    for (const name of doomed) {
      rmQuiet(path.join(this.dir, `${name}.idx`));
      rmQuiet(this.packPath(name));
    }
    this.reload();
    return { files: gone.size, bytes };
  }

  /** removeOrphans deletes packs without an index (left by an interrupted write) older than `olderThanMs`. */
  removeOrphans(olderThanMs: number): number {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return 0;
    }
    const have = new Set(names);
    let removed = 0;
    for (const n of names) {
      if (!n.endsWith('.pack') || have.has(`${n.slice(0, -5)}.idx`)) continue;
      try {
        if (olderThanMs > 0 && Date.now() - fs.statSync(path.join(this.dir, n)).mtimeMs < olderThanMs) continue;
        fs.rmSync(path.join(this.dir, n), { force: true });
        removed++;
      } catch {
        // gone already
      }
    }
    return removed;
  }

  /** close releases the open pack files (and forgets the read-ahead window). */
  close(): void {
    this.ahead = undefined;
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }
}

/**
 * LocalPackWriter appends files to local packs (sealing one at PACK_TARGET
 * bytes and starting the next). The caller guarantees each file's bytes hash
 * to its ID (and checks `has` first when a second copy is unwanted); a file
 * added twice to one writer is kept once.
 */
export class LocalPackWriter {
  private current: { name: string; tmp: string; fd: number; size: number; entries: { id: ObjectId; offset: number; length: number }[] } | undefined;
  private buf = Buffer.allocUnsafe(WRITE_BUFFER);
  private buffered = 0;
  private readonly added = new Set<ObjectId>();
  /** Files added, and packs sealed. */
  files = 0;
  sealed = 0;

  constructor(
    private readonly store: LocalPacks,
    private readonly tmpDir: string,
    private readonly checked: boolean,
  ) {}

  add(id: ObjectId, data: Uint8Array): void {
    if (this.added.has(id)) return;
    this.added.add(id);
    if (!this.current) this.start();
    const c = this.current!;
    c.entries.push({ id, offset: c.size, length: data.length });
    c.size += data.length;
    this.files++;
    if (this.buffered + data.length > this.buf.length) this.flush();
    if (data.length > this.buf.length) this.writeAll(data);
    else {
      this.buf.set(data, this.buffered);
      this.buffered += data.length;
    }
    if (c.size >= PACK_TARGET) this.seal();
  }

  /** finish seals the pack being written; its files are visible afterwards. */
  finish(): void {
    if (this.current) this.seal();
  }

  /** abort drops the pack being written (sealed ones stay). */
  abort(): void {
    const c = this.current;
    this.current = undefined;
    if (!c) return;
    try {
      fs.closeSync(c.fd);
    } catch {
      // already closed
    }
    rmQuiet(c.tmp);
  }

  private start(): void {
    fs.mkdirSync(this.store.dir, { recursive: true });
    const name = randomBytes(ID_BYTES).toString('hex');
    const tmp = tempName(this.tmpDir, 'pack');
    const fd = fs.openSync(tmp, 'wx', 0o444);
    this.current = { name, tmp, fd, size: PACK_HEADER, entries: [] };
    this.buffered = 0;
    this.buf.set(PACK_MAGIC, 0);
    randomBytes(NONCE_BYTES).copy(this.buf, PACK_MAGIC.length);
    this.buffered = PACK_HEADER;
  }

  private flush(): void {
    if (this.buffered === 0) return;
    this.writeAll(this.buf.subarray(0, this.buffered));
    this.buffered = 0;
  }

  private writeAll(data: Uint8Array): void {
    const fd = this.current!.fd;
    let w = 0;
    while (w < data.length) w += fs.writeSync(fd, data, w, data.length - w);
  }

  private seal(): void {
    const c = this.current!;
    try {
      this.flush();
      fs.closeSync(c.fd);
      c.fd = -1;
      const entries = c.entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      // The pack first, its index last: the index is what makes the files visible.
      fs.renameSync(c.tmp, this.store.packPath(c.name));
      const idxTmp = tempName(this.tmpDir, 'pack-idx');
      fs.writeFileSync(idxTmp, encodeLocalIndex(c.name, entries), { mode: 0o444, flag: 'wx' });
      fs.renameSync(idxTmp, path.join(this.store.dir, `${c.name}.idx`));
    } catch (e) {
      if (c.fd >= 0) fs.closeSync(c.fd);
      rmQuiet(c.tmp);
      throw e;
    }
    this.current = undefined;
    this.sealed++;
    this.store.installed(c.name, this.checked);
  }
}
