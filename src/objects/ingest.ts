/**
 * Ingest: read a workspace file once, cut it into content-defined chunks, hash
 * each chunk, and (unless hashing only) write the same bytes into the cache.
 * What is stored is exactly what was hashed, because both come from the same
 * buffer. Memory is one 512 KiB read block per thread, whatever the file and
 * chunk sizes (a chunk spanning blocks is cut and hashed incrementally). Synchronous on purpose: it runs in worker threads, and sync
 * fs calls are several times faster than promises for many small files.
 */
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import type { ChunkerParams } from '../core/chunker.js';
import { ChunkWindow } from '../core/chunk-window.js';
import { encodeChunkList, type Chunk } from '../core/encoding.js';
import { CorruptObjectError, FileChangedError, NotFoundError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import { xxhashReady } from '../core/checksum.js';
import { errnoCode, rmQuiet, tempName } from '../storage/atomic.js';
import { SMALL_FILE_MAX, type LocalPackWriter } from './local-packs.js';
import type { LocalStore } from './store.js';

/** IngestResult says what a file is: its ID, kind, size, and the stat it was read at. */
export interface IngestResult {
  kind: 'blob' | 'chunked';
  id: ObjectId;
  size: number;
  /** xxh64 of the whole content, for quick re-validation in the index; 0n (unknown) above XXH_MAX_BYTES. */
  xxh: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
  exec: boolean;
  chunks: number;
}

/** Ingester holds the reusable read buffer of one thread. */
export class Ingester {
  private readonly window: ChunkWindow;

  constructor(
    private readonly params: ChunkerParams,
    private readonly store: LocalStore | undefined,
    /** Called with bytes read so far in big files (every 16 MiB), for progress. */
    private readonly onBytes?: (bytes: number) => void,
    /**
     * Where small whole files (at most SMALL_FILE_MAX bytes, one chunk) go
     * instead of a cache file each: a local pack writer of `store`, which
     * the caller finishes (makes visible) before it records what was ingested.
     */
    private readonly packer?: LocalPackWriter,
  ) {
    // One read block (a small file fits whole, for the pack), whatever the chunk sizes:
    // chunks spanning blocks are cut and hashed incrementally.
    // The buffer lives in the WebAssembly memory of the cut-point finder: no copy between reading and chunking.
    this.window = new ChunkWindow(Math.max(INGEST_BLOCK, SMALL_FILE_MAX), params);
  }

  /**
   * ingest hashes the file at `abs` (named `rel` in messages) and, when this
   * ingester has a store, writes its content into the cache. Throws
   * NotFoundError if the file is gone and FileChangedError if it changed size
   * or mtime while being read.
   */
  ingest(abs: string, rel: string): IngestResult {
    let fd: number;
    try {
      fd = fs.openSync(abs, 'r');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw new FileChangedError(rel, 'vanished');
      throw e;
    }
    let tmp: string | undefined;
    let out: number | undefined;
    try {
      const before = fs.fstatSync(fd, { bigint: true });
      if (!before.isFile()) throw new NotFoundError(`${rel} is not a regular file`);
      const size = Number(before.size);
      // Big files get no quick checksum: xxh64 would cost a third of the work
      // of ingesting them, and a big file whose mtime moved is re-hashed for
      // real instead (0n in the index means "unknown"; see workspace/compare.ts).
      const xh = size <= XXH_MAX_BYTES ? xxhashReady().create64() : undefined;
      const chunks: Chunk[] = [];
      const write = this.store !== undefined;
      // A small file is read whole into the window and, if it is one chunk, packed from there.
      const small = write && this.packer !== undefined && size <= SMALL_FILE_MAX;
      if (write && size > 0 && !small) {
        tmp = tempName(this.store!.tmpDir, 'file');
        out = fs.openSync(tmp, 'wx', 0o444);
        // Setting the final size first, then writing at offsets, runs about
        // twice as fast on ext4 as appending (no size update per write).
        fs.ftruncateSync(out, size);
      }
      // The file streams through one block: read it, cut and hash it, write
      // it to the cache, all while it is still in the core's cache (a chunk
      // spanning blocks is hashed incrementally), then read the next block
      // over it. Nothing is moved within the buffer and nothing is read twice.
      const win = this.window;
      const buf = win.buffer;
      win.restart();
      let read = 0; // bytes read from the file so far (the stream offset of the block's end)
      let eof = size === 0;
      let hash = createHash('sha256');
      let hashed = 0; // stream offset up to which bytes are in `hash` (the current chunk's start or later)
      let chunkStart = 0;
      while (!eof) {
        const base = read;
        let len = 0;
        while (len < buf.length) {
          const n = fs.readSync(fd, buf, len, buf.length - len, base + len);
          if (n === 0) {
            eof = true;
            break;
          }
          len += n;
          // All the bytes fstat announced: no read for the end of file (a file that
          // grew meanwhile is caught by the fstat after, which sees another size).
          if (base + len === size) {
            eof = true;
            break;
          }
        }
        // xxhash-wasm copies each update into WASM memory: 1 MiB slices stay fast.
        if (xh) for (let o = 0; o < len; o += XXH_SLICE) xh.update(buf.subarray(o, Math.min(o + XXH_SLICE, len)));
        read = base + len;
        if (this.onBytes && (read & PROGRESS_MASK) < len) this.onBytes(PROGRESS_STEP);
        for (let cut = win.nextCut(base, read, eof); cut >= 0; cut = win.nextCut(base, read, eof)) {
          hash.update(buf.subarray(hashed - base, cut - base));
          chunks.push({ id: hash.digest('hex'), size: cut - chunkStart });
          hash = createHash('sha256');
          hashed = chunkStart = cut;
        }
        if (hashed < read) {
          hash.update(buf.subarray(hashed - base, len));
          hashed = read;
        }
        // Written after the cut scan and SHA-256 read the block while it is
        // still hot from the read (the write's copy into the page cache would
        // push it out). The same bytes: what is stored is what was hashed.
        if (out !== undefined) writeAll(out, buf, 0, len, base);
      }
      const after = fs.fstatSync(fd, { bigint: true });
      if (read !== size || after.size !== before.size || after.mtimeNs !== before.mtimeNs) {
        throw new FileChangedError(rel, 'changed');
      }
      let kind: 'blob' | 'chunked';
      let id: ObjectId;
      if (chunks.length <= 1) {
        kind = 'blob';
        id = chunks.length === 1 ? chunks[0].id : EMPTY_ID;
      } else {
        kind = 'chunked';
        const encoded = encodeChunkList({ size, chunks });
        id = createHash('sha256').update(encoded).digest('hex');
        this.store?.putObject(encoded);
      }
      if (this.store) {
        if (small) this.storeSmall(kind, id, buf.subarray(0, size));
        else if (out !== undefined) {
          fs.closeSync(out);
          out = undefined;
          this.store.installFile(tmp!, id);
          tmp = undefined;
        } else {
          this.store.putFileBytes(new Uint8Array(0), id);
        }
      }
      return {
        kind,
        id,
        size,
        xxh: xh ? xh.digest() : 0n,
        mtimeNs: before.mtimeNs,
        ctimeNs: before.ctimeNs,
        ino: before.ino,
        exec: (Number(before.mode) & 0o111) !== 0,
        chunks: Math.max(chunks.length, 1),
      };
    } finally {
      if (out !== undefined) fs.closeSync(out);
      if (tmp !== undefined) rmQuiet(tmp);
      fs.closeSync(fd);
    }
  }

  /**
   * storeSmall keeps a small file's bytes (just hashed to `id`): a blob in
   * the pack being written, unless a local pack already holds an intact copy
   * (read and checked; a damaged one is superseded by the new copy); a
   * chunked one (tiny chunking settings) as a cache file.
   */
  private storeSmall(kind: 'blob' | 'chunked', id: ObjectId, bytes: Buffer): void {
    if (kind === 'chunked') {
      this.store!.putFileBytes(bytes, id);
      return;
    }
    const packs = this.store!.packs;
    if (packs.has(id)) {
      try {
        if (packs.read(id)) return;
      } catch (e) {
        if (!(e instanceof CorruptObjectError)) throw e;
      }
    }
    this.packer!.add(id, bytes);
  }
}

const XXH_SLICE = 1 << 20;
/**
 * Bytes read, hashed and written per step. 512 KiB, plus the page-cache
 * pages the write copies it into, stays within a core's L2 cache (2 MiB on
 * the bench machine) from the read through the cut-point scan, SHA-256 and
 * the write. Measured on 2 x 512 MiB (kernel 6.18, ext4): CPU 1.7-2.2 s
 * against 1.8-2.4 s with 1 MiB and 2.3-3.3 s with the former 9 MiB window,
 * whose writes cost several times the kernel time (bench/peers.js, write
 * patterns: 8 MiB writes against 1 MiB ones).
 */
const INGEST_BLOCK = 512 << 10;
/** Files larger than this get no xxh64 (IngestResult.xxh is 0n). */
export const XXH_MAX_BYTES = 64 << 20;
const PROGRESS_STEP = 16 << 20;
const PROGRESS_MASK = PROGRESS_STEP - 1;

/** EMPTY_ID is the SHA-256 of zero bytes: the ID of every empty file. */
export const EMPTY_ID: ObjectId = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function writeAll(fd: number, buf: Buffer, off: number, len: number, pos: number): void {
  while (len > 0) {
    const n = fs.writeSync(fd, buf, off, len, pos);
    off += n;
    pos += n;
    len -= n;
  }
}

/**
 * RESULT_RECORD is the size of one packed IngestResult: the ID (32 bytes),
 * then size, mtime, ctime, inode and xxh64 as big-endian u64 (the order and
 * encoding of an index row's fields, so one copy moves them there), the
 * chunk count (u32), the kind (1 blob, 2 chunked; 0 no result) and the exec
 * bit. A million results are 76 MB here, against about 350 as objects (a hex
 * ID string and four BigInts each): what an add of millions of files holds.
 */
export const RESULT_RECORD = 80;
/** Offset of the five u64 fields (size .. xxh64) in a record. */
export const RESULT_U64S = 32;
const RES_CHUNKS = 72;
const RES_KIND = 76;
const RES_EXEC = 77;

/** writeResult packs `r` into `buf` as record number `k`. */
export function writeResult(buf: Buffer, k: number, r: IngestResult): void {
  const at = k * RESULT_RECORD;
  buf.write(r.id, at, 32, 'hex');
  // A size is below 2^53: two 32-bit halves, no BigInt.
  buf.writeUInt32BE(Math.floor(r.size / 0x1_0000_0000), at + RESULT_U64S);
  buf.writeUInt32BE(r.size >>> 0, at + RESULT_U64S + 4);
  buf.writeBigUInt64BE(r.mtimeNs, at + 40);
  buf.writeBigUInt64BE(r.ctimeNs, at + 48);
  buf.writeBigUInt64BE(r.ino, at + 56);
  buf.writeBigUInt64BE(r.xxh, at + 64);
  buf.writeUInt32BE(r.chunks, at + RES_CHUNKS);
  buf[at + RES_KIND] = r.kind === 'blob' ? 1 : 2;
  buf[at + RES_EXEC] = r.exec ? 1 : 0;
}

/**
 * IngestResults holds one packed result per task, by task number, as the
 * threads answer (see RESULT_RECORD). `get` makes the object of one result;
 * an index builder copies records without making any.
 */
export class IngestResults {
  readonly buf: Buffer;
  /** How many tasks have a result. */
  done = 0;

  constructor(readonly count: number) {
    this.buf = Buffer.alloc(count * RESULT_RECORD);
  }

  /** set records the result of task `i`. */
  set(i: number, r: IngestResult): void {
    if (!this.has(i)) this.done++;
    writeResult(this.buf, i, r);
  }

  /** copy records task `i`'s result from record `k` of `from` (as a worker packed it). */
  copy(i: number, from: Buffer, k: number): void {
    if (!this.has(i)) this.done++;
    from.copy(this.buf, i * RESULT_RECORD, k * RESULT_RECORD, (k + 1) * RESULT_RECORD);
  }

  /** has says whether task `i` has a result (a file gone before it was read has none). */
  has(i: number): boolean {
    return this.buf[i * RESULT_RECORD + RES_KIND] !== 0;
  }

  kind(i: number): 'blob' | 'chunked' {
    return this.buf[i * RESULT_RECORD + RES_KIND] === 1 ? 'blob' : 'chunked';
  }

  exec(i: number): boolean {
    return this.buf[i * RESULT_RECORD + RES_EXEC] === 1;
  }

  size(i: number): number {
    const at = i * RESULT_RECORD + RESULT_U64S;
    return this.buf.readUInt32BE(at) * 0x1_0000_0000 + this.buf.readUInt32BE(at + 4);
  }

  id(i: number): ObjectId {
    return this.buf.toString('hex', i * RESULT_RECORD, i * RESULT_RECORD + 32);
  }

  /** get is task `i`'s result as an object, or undefined when it has none. */
  get(i: number): IngestResult | undefined {
    if (!this.has(i)) return undefined;
    const at = i * RESULT_RECORD;
    return {
      kind: this.kind(i),
      id: this.id(i),
      size: this.size(i),
      mtimeNs: this.buf.readBigUInt64BE(at + 40),
      ctimeNs: this.buf.readBigUInt64BE(at + 48),
      ino: this.buf.readBigUInt64BE(at + 56),
      xxh: this.buf.readBigUInt64BE(at + 64),
      exec: this.exec(i),
      chunks: this.buf.readUInt32BE(at + RES_CHUNKS),
    };
  }
}
