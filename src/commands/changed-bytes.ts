import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { cutPoint, type ChunkerParams } from '../core/chunker.js';
import type { Chunk } from '../core/encoding.js';
import type { Change } from '../graph/diff.js';
import type { Repository } from '../repo/repository.js';
import type { Snapshot } from '../repo/snapshot.js';

/**
 * Chunk-level change sizes for `lode diff`: how many bytes of a new version
 * are really new, as opposed to its file size.
 */

type FileSide = NonNullable<Change['new']>;

/**
 * changedBytesOf is the bytes of `c`'s new side that the old side does not
 * hold: the sizes of the distinct chunks in the new chunk list that are not
 * in the old one (what storing the new version adds to the cache). An added
 * file counts whole, a deleted or renamed one 0. When a side's chunk list is
 * unknown (a blob on one side, a chunk list missing from the cache) a
 * modified file counts whole. A workspace side's chunk list is cut again
 * from the file on disk (one more read of that file), as it is not stored.
 */
export function changedBytesOf(repo: Repository, c: Change, from: Snapshot, to: Snapshot): number {
  if (c.status === 'added') return c.new!.size;
  if (c.status !== 'modified') return 0;
  const after = chunksOf(repo, c.path, c.new!, to);
  const before = after ? chunksOf(repo, c.path, c.old!, from) : null;
  if (!after || !before) return c.new!.size;
  return newChunkBytes(before, after);
}

/** newChunkBytes sums the sizes of the distinct chunks of `after` that `before` does not have. */
export function newChunkBytes(before: readonly Chunk[], after: readonly Chunk[]): number {
  const old = new Set(before.map((x) => x.id));
  const seen = new Set<string>();
  let bytes = 0;
  for (const x of after) {
    if (old.has(x.id) || seen.has(x.id)) continue;
    seen.add(x.id);
    bytes += x.size;
  }
  return bytes;
}

function chunksOf(repo: Repository, file: string, side: FileSide, snap: Snapshot): Chunk[] | null {
  if (side.kind === 'blob') return [{ id: side.id, size: side.size }];
  if (repo.store.hasObject(side.id)) {
    try {
      return repo.store.getChunkList(side.id).chunks;
    } catch {
      return null;
    }
  }
  if (snap.kind !== 'workspace') return null;
  try {
    const chunks = cutFile(repo.abs(file), repo.settings.chunking);
    return chunks.reduce((n, x) => n + x.size, 0) === side.size ? chunks : null;
  } catch {
    return null;
  }
}

/** cutFile cuts a file into content-defined chunks as ingest does, keeping only their IDs and sizes. */
function cutFile(abs: string, params: ChunkerParams): Chunk[] {
  const fd = fs.openSync(abs, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.max(2 * params.max + (1 << 20), 1 << 20));
    const chunks: Chunk[] = [];
    let start = 0;
    let end = 0;
    let read = 0;
    let eof = false;
    while (true) {
      if (!eof && end - start < params.max) {
        if (start > 0) {
          buf.copyWithin(0, start, end);
          end -= start;
          start = 0;
        }
        while (end < buf.length) {
          const n = fs.readSync(fd, buf, end, buf.length - end, read);
          if (n === 0) {
            eof = true;
            break;
          }
          end += n;
          read += n;
        }
      }
      if (start === end) break;
      const len = cutPoint(buf, start, end, params);
      chunks.push({ id: createHash('sha256').update(buf.subarray(start, start + len)).digest('hex'), size: len });
      start += len;
    }
    return chunks;
  } finally {
    fs.closeSync(fd);
  }
}
