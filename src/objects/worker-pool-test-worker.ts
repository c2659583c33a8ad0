/**
 * Worker thread body for worker-pool.test.ts (a tiny pool worker, not used
 * by lode itself): answers `{ seq, value }` with twice the value and its
 * thread ID; `hang` never answers, `exit` ends the thread with that code
 * (its port closed, its event loop runs dry: only the cli layer ends the
 * process), `throw` throws.
 */
import { parentPort, threadId } from 'node:worker_threads';

export interface TestRequest {
  seq: number;
  value: number;
  hang?: boolean;
  exit?: number;
  throw?: string;
}

export interface TestReply {
  seq: number;
  doubled: number;
  thread: number;
}

parentPort?.on('message', (m: TestRequest) => {
  if (m.hang) return;
  if (m.exit !== undefined) {
    process.exitCode = m.exit;
    parentPort!.close();
    return;
  }
  if (m.throw !== undefined) throw new Error(m.throw);
  parentPort!.postMessage({ seq: m.seq, doubled: m.value * 2, thread: threadId } satisfies TestReply);
});
