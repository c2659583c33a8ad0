/**
 * Splitting a walk across two threads. For a workspace of hundreds of
 * thousands of files a walk is mostly lstat calls (one per file, each a
 * system call plus an fs.Stats): a helper thread walks the second half of a
 * root's top directory while this thread walks the first, then its files
 * are replayed here in order, so the caller's merge with the sorted index
 * sees exactly what a one-thread walk would show, in the same order.
 *
 * The walk is synchronous, so this thread waits for the helper with
 * Atomics.wait and takes its messages with receiveMessageOnPort.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { errorFromJSON, type SerializedError } from '../core/errors.js';
import type { FileStat, Skipped, Visit, WalkSplit } from './scan.js';

/** An index with at least this many entries has its walk split (below, starting a thread costs more than it saves). */
export const SPLIT_MIN_ENTRIES = 100_000;

/**
 * HELPER_SHARE of a root's top folder goes to the helper: this thread also
 * reads the index and merges every file (the helper's too). Measured on 1M
 * files in 1,000 folders (CPU per thread): half to the helper left 2.9 s
 * here and about 2.3 s there; 60% left 2.2 s here and 2.6 s there.
 */
const HELPER_SHARE = 0.55;

/**
 * Batches (of 4,096 files) the helper may have posted and this thread not yet
 * replayed. This thread replays only after walking its own part, so the
 * helper's whole share waits in memory (about 64 bytes a file); past a
 * million files the helper pauses instead, which bounds that memory (about
 * 70 MB) and gives up some of the overlap.
 */
export const MAX_IN_FLIGHT = 256;

/**
 * HELPER_START_MS: a helper that has not started running after this long
 * (it starts in 30–60 ms; much longer only on a machine starved of CPU, or
 * never when its thread failed to start) is stopped, and this thread walks
 * its share. The result is the same either way; only the time differs.
 */
const HELPER_START_MS = 5000;

/** Values per file in a SplitFiles message: mode, size, ino, mtimeMs, ctimeMs. */
export const STAT_FIELDS = 5;

/** SplitJob is the helper's workerData. */
export interface SplitJob {
  root: string;
  relDir: string;
  absDir: string;
  names: string[];
  port: MessagePort;
  /** Three Int32 counters, for Atomics.wait on either side: messages posted (0), batches replayed (1), and 1 once the helper runs (2). */
  counters: SharedArrayBuffer;
}

/** SplitMessage is what the helper posts: files in walk order (paths joined by '\n', which no walked name holds), then the end. */
export type SplitMessage = { type: 'files'; rels: string; stats: Float64Array } | { type: 'done'; skipped: Skipped[] } | { type: 'error'; error: SerializedError };

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK } = fs.constants;

/** PackedStat is a FileStat sent back by the helper. */
class PackedStat implements FileStat {
  constructor(
    readonly mode: number,
    readonly size: number,
    readonly ino: number,
    readonly mtimeMs: number,
    readonly ctimeMs: number,
  ) {}
  isFile(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }
  isDirectory(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }
}

/** splitWanted says whether a walk meeting an index of `entries` entries should be split. */
export function splitWanted(entries: number): boolean {
  if (process.env.LODE_TEST_WALK_SPLIT === '1') return true; // tests: a split walk on a small tree
  return entries >= SPLIT_MIN_ENTRIES && os.availableParallelism() >= 2;
}

/** ThreadSplit is a WalkSplit onto one helper thread per root, for the workspace at `root`. */
export class ThreadSplit implements WalkSplit {
  constructor(private readonly root: string) {}

  start(relDir: string, absDir: string, names: readonly string[]): { from: number; finish(visit: Visit, skipped: Skipped[]): boolean; abort(): void } | undefined {
    if (names.length < 2) return undefined;
    const from = Math.min(names.length - 1, Math.max(1, Math.round(names.length * (1 - HELPER_SHARE))));
    const counters = new SharedArrayBuffer(12);
    const count = new Int32Array(counters);
    const { port1, port2 } = new MessageChannel();
    const job: SplitJob = { root: this.root, relDir, absDir, names: names.slice(from), port: port2, counters };
    const worker = new Worker(new URL('./walk-worker.js', import.meta.url), { workerData: job, transferList: [port2] });
    // Its errors reach this thread as messages; one that stops it before it runs is met by the start deadline in `finish`.
    worker.on('error', () => {});
    worker.unref();
    const finish = (visit: Visit, skipped: Skipped[]): boolean => {
      const deadline = Date.now() + HELPER_START_MS;
      try {
        while (true) {
          const seen = Atomics.load(count, 0);
          const got = receiveMessageOnPort(port1);
          if (!got) {
            // Posted messages are queued before the counter moves: wait for it to move.
            if (Atomics.load(count, 2) !== 0) {
              Atomics.wait(count, 0, seen);
              continue;
            }
            // A helper that never runs (it failed to start: this thread
            // cannot hear its 'error' while it waits here) posts nothing.
            const left = deadline - Date.now();
            if (left <= 0) return false;
            Atomics.wait(count, 0, seen, Math.min(left, 50));
            continue;
          }
          const m = got.message as SplitMessage;
          if (m.type === 'error') throw errorFromJSON(m.error);
          if (m.type === 'done') {
            skipped.push(...m.skipped);
            return true;
          }
          const rels = m.rels.split('\n');
          const s = m.stats;
          for (let k = 0; k < rels.length; k++) {
            const at = k * STAT_FIELDS;
            visit(rels[k], new PackedStat(s[at], s[at + 1], s[at + 2], s[at + 3], s[at + 4]));
          }
          Atomics.add(count, 1, 1);
          Atomics.notify(count, 1);
        }
      } finally {
        abort();
      }
    };
    const abort = (): void => {
      // Release a helper paused for replay (it would wait forever), then stop it.
      Atomics.store(count, 1, 1 << 30);
      Atomics.notify(count, 1);
      port1.close();
      void worker.terminate();
    };
    return { from, finish, abort };
  }
}
