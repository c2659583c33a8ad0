/**
 * Worker-thread entry for one job on one side of a table diff (see
 * scan-threads.ts): a scan (replies with the ScanResult, whose in-memory
 * index partitions are transferred rather than copied) or the cell hashes of
 * rows read again (replies with them, transferred). A scan also posts
 * `{ progress: { rows, bytes } }` messages as it goes. Each reply names the
 * thread it ran on; an error crosses as a SerializedError.
 */
import { parentPort, threadId } from 'node:worker_threads';
import { errorToJSON } from '../core/errors.js';
import { hashCells, type CellJob } from './cell-hashes.js';
import { openReader } from './formats.js';
import { scanSide, type ScanConfig } from './scan.js';

const PROGRESS_MS = 100;

parentPort?.once('message', async (job: { scan: ScanConfig } | { cells: CellJob }) => {
  try {
    const input = 'scan' in job ? job.scan.input : job.cells.input;
    const reader = await openReader('scan' in job ? job.scan.format : job.cells.format, input);
    try {
      if ('scan' in job) {
        // Progress at most every PROGRESS_MS: the main thread shows it, and a message per batch would only queue up.
        let last = 0;
        const result = await scanSide(reader, job.scan, (rows, bytes) => {
          const t = Date.now();
          if (t - last < PROGRESS_MS) return;
          last = t;
          parentPort?.postMessage({ progress: { rows, bytes } });
        });
        parentPort?.postMessage({ progress: { rows: result.rows, bytes: job.scan.input.size } });
        parentPort?.postMessage({ ok: result, threadId }, result.index.memory.map((m) => m.buffer as ArrayBuffer));
      } else {
        reader.adopt(job.cells.columns, job.cells.rows);
        const hashes = await hashCells(reader, job.cells.wanted, job.cells.hashed);
        parentPort?.postMessage({ ok: hashes, threadId }, [hashes.buffer as ArrayBuffer]);
      }
    } finally {
      await reader.close();
    }
  } catch (e) {
    parentPort?.postMessage({ error: errorToJSON(e) });
  }
});
