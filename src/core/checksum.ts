/**
 * Fast non-cryptographic checksums (xxh64 through xxhash-wasm) for everything
 * that is not an identity: index and pack-index trailers, quick re-validation
 * of files whose mtime moved. Never use these as object IDs.
 */
import type { XXHashAPI } from 'xxhash-wasm';

let api: XXHashAPI | undefined;
let loading: Promise<XXHashAPI> | undefined;

/** loadXxhash instantiates the WASM module once per thread. */
export async function loadXxhash(): Promise<XXHashAPI> {
  if (api) return api;
  loading ??= import('xxhash-wasm').then(async (m) => {
    api = await m.default();
    return api;
  });
  return loading;
}

/** xxhashReady returns the API if loadXxhash has finished, else throws. */
export function xxhashReady(): XXHashAPI {
  if (!api) throw new Error('xxhash not loaded: await loadXxhash() first');
  return api;
}

const SLICE = 1 << 20;

/**
 * xxh64 returns the xxh64 of `data` as 16 hex digits. Large inputs go through
 * the streaming API in 1 MiB slices: the one-shot call copies the whole input
 * into WASM memory and is slow on big buffers.
 */
export function xxh64(data: Uint8Array): bigint {
  const x = xxhashReady();
  if (data.length <= SLICE) return x.h64Raw(data);
  const h = x.create64();
  for (let off = 0; off < data.length; off += SLICE) h.update(data.subarray(off, Math.min(off + SLICE, data.length)));
  return h.digest();
}
