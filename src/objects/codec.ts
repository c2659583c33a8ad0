/**
 * Codecs for objects stored in remote packs. An object is compressed only
 * where it pays: a cheap probe turns away incompressible bytes (random,
 * encrypted, already compressed) before the real work. Object IDs are always
 * over the uncompressed bytes; a reader decompresses, bounded by the size the
 * pack index states, and then checks the ID.
 *
 * Brotli at quality 1 is the codec: node:zlib has it on every Node lode runs
 * on (20 and later), it compresses faster than deflate at level 1 with a
 * slightly better ratio on CSV and JSON, and it costs ~2 GB/s on random
 * bytes, so even a probe that says "compress" is never expensive. zstd would
 * be faster, but node:zlib has it only from Node 22.15 / 23.8: a Node 20
 * reader could not read such packs. Codec 2 is reserved for it.
 * Measurements in docs/formats.md ("Compressed packs").
 */
import * as zlib from 'node:zlib';
import { CorruptObjectError } from '../core/errors.js';

/** Codec numbers as stored in a pack index (one byte per object). */
export const CODEC_STORED = 0;
export const CODEC_BROTLI = 1;

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

function brotliOptions(size: number): zlib.BrotliOptions {
  return { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size } };
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

/** compressSync returns `raw` compressed (CODEC_BROTLI), or undefined when it is better stored. */
export function compressSync(raw: Uint8Array): Buffer | undefined {
  if (!worthTrying(raw)) return undefined;
  const out = zlib.brotliCompressSync(raw, brotliOptions(raw.length));
  return pays(out.length, raw.length) ? out : undefined;
}

/** compressAsync is compressSync in libuv's thread pool, off the main thread. */
export async function compressAsync(raw: Uint8Array): Promise<Buffer | undefined> {
  if (!worthTrying(raw)) return undefined;
  const out = await new Promise<Buffer>((resolve, reject) => zlib.brotliCompress(raw, brotliOptions(raw.length), (e, b) => (e ? reject(e) : resolve(b))));
  return pays(out.length, raw.length) ? out : undefined;
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
  if (codec !== CODEC_BROTLI) throw fail(`unknown codec ${codec}`);
  if (size > MAX_COMPRESSED_OBJECT) throw fail(`it claims ${size} bytes, more than a compressed object may have`);
  let r: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    // `info` gives the engine: how much input the stream really used.
    r = zlib.brotliDecompressSync(stored, { maxOutputLength: Math.max(size, 1), info: true } as zlib.BrotliOptions & { info: true }) as unknown as typeof r;
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw fail(code === 'ERR_BUFFER_TOO_LARGE' ? `it inflates past the ${size} bytes its index states` : (e as Error).message);
  }
  if (r.buffer.length !== size) throw fail(`it inflates to ${r.buffer.length} bytes, its index states ${size}`);
  if (r.engine.bytesWritten !== stored.length) throw fail(`${stored.length - r.engine.bytesWritten} bytes follow the end of its stream`);
  return r.buffer;
}
