import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { errorFromJSON, type SerializedError } from '../core/errors.js';
// Registers TableError, so that one thrown on a worker arrives as itself.
import './errors.js';
import { hashCells, type CellJob } from './cell-hashes.js';
import { scanSide, type ScanConfig, type ScanProgress, type ScanResult } from './scan.js';
import type { TableReader } from './reader.js';

/**
 * Running the scans of both sides of a diff at once, one worker thread per
 * side: the scan is CPU-bound (tokenizing, hashing, statistics), so two cores
 * halve the time. Without the compiled worker (tests running the TypeScript
 * sources) or for small files the scans run one after the other inline.
 */

const WORKER_URL = new URL('./scan-worker.js', import.meta.url);

/** workersAvailable: the compiled worker script exists beside this module. */
export function workersAvailable(): boolean {
  try {
    return fs.existsSync(fileURLToPath(WORKER_URL));
  } catch {
    return false;
  }
}

/**
 * workerJobs counts the jobs that worker threads completed in this process
 * (scans, and cell hash jobs), with the IDs of the threads they ran on: what
 * tells a caller (a test) that work really left the main thread.
 */
export const workerJobs: { scans: number; cells: number; threadIds: Set<number> } = { scans: 0, cells: 0, threadIds: new Set() };

function onWorker<T>(job: { scan: ScanConfig } | { cells: CellJob }, onProgress?: ScanProgress): { result: Promise<T>; stop: () => void } {
  const worker = new Worker(WORKER_URL);
  const result = new Promise<T>((resolve, reject) => {
    const onMessage = (m: { ok?: T; threadId?: number; error?: SerializedError; progress?: { rows: number; bytes: number } }) => {
      if (m.progress) {
        try {
          onProgress?.(m.progress.rows, m.progress.bytes);
        } catch {
          // Progress is best effort.
        }
        return;
      }
      worker.off('message', onMessage);
      if (m.ok) {
        if ('scan' in job) workerJobs.scans++;
        else workerJobs.cells++;
        if (m.threadId !== undefined) workerJobs.threadIds.add(m.threadId);
        resolve(m.ok);
      } else reject(m.error ? errorFromJSON(m.error) : new Error('scan worker failed'));
      void worker.terminate();
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`scan worker exited with code ${code}`)));
  });
  worker.postMessage(job);
  return { result, stop: () => void worker.terminate() };
}

/**
 * runScans runs one pass per side; `readers` are the caller's open readers
 * (used inline, or told what a worker found so they can fetch rows later).
 * `onProgress` hears each side's rows and bytes read in this pass.
 * When one side fails, the other is stopped and the first failure thrown.
 */
export async function runScans(
  jobs: ({ reader: TableReader; config: ScanConfig } | null)[],
  parallel: boolean,
  onProgress?: (side: number, rows: number, bytes: number) => void,
): Promise<(ScanResult | null)[]> {
  const progressOf = (i: number): ScanProgress | undefined => (onProgress ? (rows, bytes) => onProgress(i, rows, bytes) : undefined);
  if (!parallel) {
    const out: (ScanResult | null)[] = [];
    for (const [i, job] of jobs.entries()) out.push(job ? await scanSide(job.reader, job.config, progressOf(i)) : null);
    return out;
  }
  const running = jobs.map((job, i) => (job ? onWorker<ScanResult>({ scan: job.config }, progressOf(i)) : null));
  try {
    const out = await Promise.all(running.map((r) => r?.result ?? null));
    jobs.forEach((job, i) => {
      const r = out[i];
      if (job && r) job.reader.adopt(r.columns, r.rows);
    });
    return out;
  } catch (e) {
    for (const r of running) r?.stop();
    throw e;
  }
}

/**
 * runCellJobs computes hashCells for each side: on worker threads when
 * `parallel` (the caller's readers are not used then), else inline with
 * `readers`, one side after the other.
 */
export async function runCellJobs(jobs: [CellJob, CellJob], readers: [TableReader, TableReader], parallel: boolean): Promise<[Uint32Array, Uint32Array]> {
  if (!parallel) {
    const b = await hashCells(readers[0], jobs[0].wanted, jobs[0].hashed);
    const a = await hashCells(readers[1], jobs[1].wanted, jobs[1].hashed);
    return [b, a];
  }
  const running = jobs.map((job) => onWorker<Uint32Array>({ cells: job }));
  try {
    const [b, a] = await Promise.all(running.map((r) => r.result));
    return [b, a];
  } catch (e) {
    for (const r of running) r.stop();
    throw e;
  }
}
