/**
 * writeNewFiles creates a batch of new workspace files from bytes already
 * verified against their IDs, and is also the body of the worker threads
 * that `placeSmallFiles` (place-small.ts) hands batches to. It imports
 * nothing of lode, so a worker starts in a few milliseconds.
 *
 * Each file is made with one open (O_CREAT|O_EXCL: never over anything that
 * stands there), one write and one fstat (the stat the index records), then
 * closed: four system calls, no temporary name, no rename.
 */
import * as fs from 'node:fs';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

/** SmallBatch is files to create: file `i` is `data[offsets[i], offsets[i + 1])`, written to `paths[i]` with `modes[i]`. */
export interface SmallBatch {
  seq: number;
  paths: string[];
  modes: number[];
  /** offsets.length === paths.length + 1 */
  offsets: number[];
  data: Uint8Array;
}

/** MadeStat is what the index records of a file this process made. */
export interface MadeStat {
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
}

/**
 * SmallBatchResult: `stats[i]` for each file made, in order; when file
 * `stats.length` could not be made, `failed` says why (the files after it
 * were not tried, and nothing was left at its path).
 */
export interface SmallBatchResult {
  seq: number;
  stats: MadeStat[];
  failed?: { code: string | undefined; message: string };
}

const CREATE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL;

/** writeNewFiles makes the files of `b` in order and stops at the first that fails. */
export function writeNewFiles(b: SmallBatch): SmallBatchResult {
  const stats: MadeStat[] = [];
  for (let i = 0; i < b.paths.length; i++) {
    const file = b.paths[i];
    let fd = -1;
    try {
      fd = fs.openSync(file, CREATE, b.modes[i]);
      const end = b.offsets[i + 1];
      let at = b.offsets[i];
      while (at < end) at += fs.writeSync(fd, b.data, at, end - at);
      const st = fs.fstatSync(fd, { bigint: true });
      fs.closeSync(fd);
      fd = -1;
      stats.push({ mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino });
    } catch (e) {
      // Only a file this call created is removed (an EEXIST never opened one).
      if (fd >= 0) {
        fs.closeSync(fd);
        try {
          fs.unlinkSync(file);
        } catch {
          // gone already
        }
      }
      return { seq: b.seq, stats, failed: { code: (e as NodeJS.ErrnoException).code, message: (e as Error).message } };
    }
  }
  return { seq: b.seq, stats };
}

/** SMALL_WRITER_ROLE marks this module's workers in workerData: only they listen for batches. */
export const SMALL_WRITER_ROLE = 'lode-small-writer';

if (!isMainThread && parentPort && (workerData as { role?: string } | undefined)?.role === SMALL_WRITER_ROLE) {
  const port = parentPort;
  port.on('message', (b: SmallBatch) => port.postMessage(writeNewFiles(b)));
}
