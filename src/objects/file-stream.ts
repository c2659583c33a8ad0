/**
 * streamCachedFile reads a file of the cache as a stream of verified pieces:
 * a one-chunk file ('blob') whole, a chunked file chunk by chunk as its chunk
 * list cuts it. Each piece is checked against its ID before it is yielded,
 * so a reader never sees a byte that does not match the version it asked
 * for, and a chunked file is never held in memory whole (one chunk at most,
 * 4 MiB by default).
 */
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { CorruptObjectError, MissingContentError } from '../core/errors.js';
import { errnoCode } from '../storage/atomic.js';
import { EMPTY_ID } from './ingest.js';
import type { FileRef, LocalStore } from './store.js';

/**
 * streamCachedFile yields the content of cached file `ref` in verified
 * pieces. MissingContentError when the cache lacks it (before anything is
 * yielded); CorruptObjectError when a piece or the size does not match, at
 * the first bad piece (the pieces before it were good).
 */
export async function* streamCachedFile(store: LocalStore, ref: FileRef, label = ref.id): AsyncGenerator<Buffer> {
  // The empty file needs no cache entry to be read.
  if (ref.size === 0 && ref.id === EMPTY_ID) return;
  if (ref.kind === 'blob') {
    // A small file kept in a local pack: read whole, verified by the store.
    const packed = store.readPackedFile(ref.id);
    if (packed) {
      if (packed.length !== ref.size) throw new CorruptObjectError(`cached file ${ref.id} (${label}) is corrupt: its size is ${packed.length}, expected ${ref.size}`, { objectId: ref.id });
      yield packed;
      return;
    }
  }
  const file = store.filePath(ref.id);
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new MissingContentError(`the cache has no content for ${label} (${ref.id.slice(0, 12)})`, { hint: 'fetch it: `lode fetch`' });
    throw e;
  }
  try {
    const size = (await handle.stat()).size;
    const corrupt = (what: string) =>
      new CorruptObjectError(`cached file ${ref.id} (${label}) is corrupt: ${what}`, { objectId: ref.id, path: file });
    if (size !== ref.size) throw corrupt(`its size is ${size}, expected ${ref.size}`);
    const pieces = ref.kind === 'blob' ? [{ id: ref.id, size: ref.size }] : store.getChunkList(ref.id).chunks;
    let offset = 0;
    for (const piece of pieces) {
      const buf = Buffer.allocUnsafe(piece.size);
      let got = 0;
      while (got < piece.size) {
        const { bytesRead } = await handle.read(buf, got, piece.size - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got !== piece.size || createHash('sha256').update(buf).digest('hex') !== piece.id) {
        throw corrupt(ref.kind === 'blob' ? 'its content does not match its ID' : `the chunk at offset ${offset} does not match its ID`);
      }
      offset += piece.size;
      yield buf;
    }
    if (offset !== ref.size) throw corrupt(`its chunks total ${offset} bytes, expected ${ref.size}`);
  } finally {
    await handle.close();
  }
}
