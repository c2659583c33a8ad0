/**
 * Codecs for objects stored in remote packs. An object is compressed only
 * where it pays: a cheap probe turns away incompressible bytes (random,
 * encrypted, already compressed) before the real work. Object IDs are always
 * over the uncompressed bytes; a reader decompresses, bounded by the size the
 * pack index states, and then checks the ID.
 *
 * Brotli is the codec: node:zlib has it on every Node lode runs on (20 and
 * later). Plain objects are compressed at quality 1 (faster than deflate at
 * level 1, with a slightly better ratio). Delimited text (CSV, TSV, flat JSON
 * lines) is first laid out column by column (columns.ts) and then compressed
 * at quality 1 as well: on the bench's CSV, whose rows are mostly random
 * digits, no codec a push can afford passes 2.8x row by row (brotli q10
 * reaches 3.1x at ~1 MB/s, zstd 19 2.95x at ~3 MB/s); column by column
 * brotli q1 passes 3x.
 * zstd would be faster, but node:zlib has it only from Node 22.15 / 23.8: a
 * Node 20 reader could not read such packs. Codec 2 is reserved for it.
 * Measurements in docs/formats.md ("Compressed packs").
 */
import * as zlib from 'node:zlib';
import { CorruptObjectError } from '../core/errors.js';
import { columnsBound, ColumnsError, fromColumns, tabularDelimiter, toColumns } from './columns.js';

/** Codec numbers as stored in a pack index (one byte per object). */
export const CODEC_STORED = 0;
/** Brotli (any quality: a decoder reads them all). */
export const CODEC_BROTLI = 1;
/** Brotli over the column layout of columns.ts (remote format 4: older lodes cannot read it). */
export const CODEC_BROTLI_COLUMNS = 3;

/** Compressed is an object's stored bytes and the codec that reads them back. */
export interface Compressed {
  codec: number;
  bytes: Buffer;
}

/**
 * MAX_COMPRESSED_OBJECT bounds the uncompressed size of one compressed
 * object (chunks are at most 64 MiB): larger objects are stored as they are,
 * and an index that claims more for a compressed object is forged — a
 * decompression bomb refused before anything is allocated.
 */
export const MAX_COMPRESSED_OBJECT = 64 << 20;

/** Objects smaller than this are stored: a few bytes saved do not pay for a codec call. */
const MIN_COMPRESS = 256;
/** The probe compresses this much of an object's start to decide. */
const PROBE_BYTES = 16 << 10;
/**
 * The order-0 entropy pre-check samples this much (a byte histogram: about
 * 2 µs, where a brotli call on 4 KiB costs 30): a push of 20,000 small random
 * files pays it 20,000 times.
 */
const ENTROPY_SAMPLE = 1 << 10;
/**
 * Above this many bits per byte an object is not worth probing: 1 KiB of
 * random bytes measures 7.75–7.85 (a sample that small reads below 8), CSV
 * about 4.3, Snappy-compressed Parquet 4–7.8.
 */
const MAX_ENTROPY = 7.5;
/** A compressed object must be at most raw / MIN_RATIO bytes, or it is stored. */
const MIN_RATIO = 1.1;
/** Objects from this size are compressed in the thread pool (`compressAsync`); smaller ones in place. */
export const ASYNC_FROM = 128 << 10;

/**
 * COLUMNS_QUALITY is the brotli quality for the column layout. Measured on
 * the bench's CSV in 1 MiB chunks (docs/formats.md): q1 3.3–3.5x, q2 3.6x
 * for ~40% more brotli CPU, q4 and above 2–5x the CPU for a few percent
 * more. The layout itself costs about as much CPU as brotli at q1, so q1
 * keeps a push of CSV within ~1.4x the CPU of plain brotli q1.
 */
const COLUMNS_QUALITY = 1;

function brotliOptions(size: number, quality = 1): zlib.BrotliOptions {
  return { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: quality, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size } };
}

/** plan says how `raw` would be compressed: the input to brotli, its quality and the codec that reads it back. */
function plan(raw: Uint8Array): { input: Uint8Array; quality: number; codec: number } {
  const delimiter = tabularDelimiter(raw);
  if (delimiter === undefined) return { input: raw, quality: 1, codec: CODEC_BROTLI };
  return { input: toColumns(raw, delimiter), quality: COLUMNS_QUALITY, codec: CODEC_BROTLI_COLUMNS };
}

/**
 * worthTrying is the cheap probe: false for objects too small to gain, for a
 * sample whose byte entropy says random, and (for objects larger than the
 * probe) when compressing their first PROBE_BYTES gains less than MIN_RATIO.
 */
export function worthTrying(raw: Uint8Array): boolean {
  if (raw.length < MIN_COMPRESS || raw.length > MAX_COMPRESSED_OBJECT) return false;
  if (byteEntropy(raw, Math.min(raw.length, ENTROPY_SAMPLE)) > MAX_ENTROPY) return false;
  if (raw.length <= PROBE_BYTES) return true;
  const probe = raw.subarray(0, PROBE_BYTES);
  return zlib.brotliCompressSync(probe, brotliOptions(probe.length)).length * MIN_RATIO <= probe.length;
}

/** C_LOG2C[c] is c·log2(c), for every count a sample can reach. */
const C_LOG2C = new Float64Array(ENTROPY_SAMPLE + 1);
for (let c = 2; c <= ENTROPY_SAMPLE; c++) C_LOG2C[c] = c * Math.log2(c);
const counts = new Uint32Array(256);

/**
 * byteEntropy is the order-0 entropy of `b[0, n)` (n <= ENTROPY_SAMPLE) in
 * bits per byte: log2(n) - Σ c·log2(c) / n over the byte counts c, from a
 * table (no logarithm per call: a push of 20,000 small files calls this
 * 20,000 times).
 */
function byteEntropy(b: Uint8Array, n: number): number {
  counts.fill(0);
  for (let i = 0; i < n; i++) counts[b[i]]++;
  let s = 0;
  for (let i = 0; i < 256; i++) s += C_LOG2C[counts[i]];
  return n > 0 ? Math.log2(n) - s / n : 0;
}

/** pays says whether `compressed` bytes are worth keeping instead of `raw` bytes. */
function pays(compressed: number, raw: number): boolean {
  return compressed * MIN_RATIO <= raw;
}

/**
 * compressSync returns `raw` compressed (CODEC_BROTLI, or CODEC_BROTLI_COLUMNS
 * for delimited text), or undefined when it is better stored.
 */
export function compressSync(raw: Uint8Array): Compressed | undefined {
  if (!worthTrying(raw)) return undefined;
  const { input, quality, codec } = plan(raw);
  const out = zlib.brotliCompressSync(input, brotliOptions(input.length, quality));
  return pays(out.length, raw.length) ? { codec, bytes: out } : undefined;
}

/** compressAsync is compressSync with brotli in libuv's thread pool, off the main thread. */
export async function compressAsync(raw: Uint8Array): Promise<Compressed | undefined> {
  if (!worthTrying(raw)) return undefined;
  const { input, quality, codec } = plan(raw);
  const out = await new Promise<Buffer>((resolve, reject) => zlib.brotliCompress(input, brotliOptions(input.length, quality), (e, b) => (e ? reject(e) : resolve(b))));
  return pays(out.length, raw.length) ? { codec, bytes: out } : undefined;
}

/** isKnownCodec says whether this lode reads objects stored with `codec`. */
export function isKnownCodec(codec: number): boolean {
  return codec === CODEC_STORED || codec === CODEC_BROTLI || codec === CODEC_BROTLI_COLUMNS;
}

/**
 * decompress returns the `size` bytes object `what` was stored as. Nothing
 * about `stored` is trusted: output beyond `size` stops the decoder (a
 * decompression bomb), and a stream that ends early, decodes to fewer bytes,
 * or leaves bytes unread is refused with CorruptObjectError. The caller
 * checks the result against its ID.
 */
export function decompress(codec: number, stored: Buffer, size: number, what: string): Buffer {
  if (codec === CODEC_STORED) return stored;
  const fail = (why: string) => new CorruptObjectError(`${what} does not decompress: ${why}`, { hint: 'the remote copy is damaged or forged: push it again from a workspace that has it' });
  if (codec !== CODEC_BROTLI && codec !== CODEC_BROTLI_COLUMNS) throw fail(`unknown codec ${codec}`);
  if (size > MAX_COMPRESSED_OBJECT) throw fail(`it claims ${size} bytes, more than a compressed object may have`);
  // The column layout is a little larger than the object it rebuilds: its bound, not `size`, stops the decoder.
  const bound = codec === CODEC_BROTLI ? size : columnsBound(size);
  let r: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    // `info` gives the engine: how much input the stream really used.
    r = zlib.brotliDecompressSync(stored, { maxOutputLength: Math.max(bound, 1), info: true } as zlib.BrotliOptions & { info: true }) as unknown as typeof r;
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw fail(code === 'ERR_BUFFER_TOO_LARGE' ? `it inflates past the ${bound} bytes its index allows` : (e as Error).message);
  }
  if (r.engine.bytesWritten !== stored.length) throw fail(`${stored.length - r.engine.bytesWritten} bytes follow the end of its stream`);
  if (codec === CODEC_BROTLI) {
    if (r.buffer.length !== size) throw fail(`it inflates to ${r.buffer.length} bytes, its index states ${size}`);
    return r.buffer;
  }
  try {
    return fromColumns(r.buffer, size);
  } catch (e) {
    if (e instanceof ColumnsError) throw fail(`its column layout is damaged: ${e.message}`);
    throw e;
  }
}
