/**
 * streamCachedFile reads a file of the cache as a stream of verified pieces:
 * a one-chunk file ('blob') whole, a chunked file chunk by chunk as its chunk
 * list cuts it, from its whole copy or, for a split file, from wherever each
 * chunk is stored. Each piece is checked against its ID before it is yielded,
 * so a reader never sees a byte that does not match the version it asked
 * for, and a chunked file is never held in memory whole (one chunk at most,
 * 4 MiB by default).
 */
import * as fs from 'node:fs';
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
  // Whole or split (chunks loose or inside other whole files): `pieces` says where each is.
  const pieces = store.pieces(ref, label);
  const corrupt = (what: string, file: string) =>
    new CorruptObjectError(`cached file ${ref.id} (${label}) is corrupt: ${what}`, { objectId: ref.id, path: file });
  const whole = store.filePath(ref.id);
  if (pieces.length > 0 && pieces[0].source === whole) {
    let size: number;
    try {
      size = (await fs.promises.stat(whole)).size;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw new MissingContentError(`the cache has no content for ${label} (${ref.id.slice(0, 12)})`, { hint: 'fetch it: `lode fetch`' });
      throw e;
    }
    if (size !== ref.size) throw corrupt(`its size is ${size}, expected ${ref.size}`, whole);
  }
  let offset = 0;
  for (const piece of pieces) {
    let buf: Buffer;
    try {
      buf = store.readPiece(piece);
    } catch (e) {
      if (!(e instanceof CorruptObjectError)) throw e;
      throw corrupt(ref.kind === 'blob' ? 'its content does not match its ID' : `the chunk at offset ${offset} does not match its ID`, piece.source);
    }
    offset += piece.size;
    yield buf;
    // Let other work run between chunks, as the asynchronous reads used to.
    await new Promise<void>((r) => setImmediate(r));
  }
  if (offset !== ref.size) throw corrupt(`its chunks total ${offset} bytes, expected ${ref.size}`, whole);
}
