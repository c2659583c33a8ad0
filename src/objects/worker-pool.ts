/**
 * WorkerPool is the machinery HashPool, CompressPool and PackFilePool
 * share: N copies of one worker script, each request numbered and sent to
 * the least loaded worker, each reply (matched by its number) settling the
 * request's promise.
 *
 * The workers hold a ref on the process only while a request is pending,
 * so an idle pool never keeps the process alive. When a worker errors or
 * exits with a non-zero code, every pending request rejects with that
 * error and the pool takes no more work (later requests reject with it
 * too); `close` does the same with "<name> pool closed" and stops the
 * workers.
 */
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';

/** defaultThreads is the workers a pool starts unless told: the machine's cores, at most 4. */
export function defaultThreads(): number {
  return Math.min(os.availableParallelism?.() ?? os.cpus().length, 4);
}

interface Waiting<Reply> {
  resolve: (reply: Reply) => void;
  reject: (e: unknown) => void;
  worker: number;
  load: number;
}

export class WorkerPool<Req, Reply extends { seq: number }> {
  private readonly workers: Worker[] = [];
  /** Load queued on each worker, in the caller's measure: a request goes to the least loaded. */
  private readonly load: number[] = [];
  private readonly waiting = new Map<number, Waiting<Reply>>();
  private seq = 0;
  private failure: unknown;

  /**
   * `script`: the worker's module; `name` names the pool in its errors
   * ("<name> worker exited with code N", "<name> pool closed");
   * `threads`: workers to start (at least one).
   */
  constructor(script: URL, private readonly name: string, threads: number) {
    for (let i = 0; i < Math.max(1, threads); i++) {
      const w = new Worker(script);
      w.on('message', (m: Reply) => this.settle(m));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`${name} worker exited with code ${code}`));
      });
      // After the listeners: adding a 'message' listener refs the worker again
      // (Node 20 and 26), and a pool that never got a request kept the process alive.
      w.unref();
      this.workers.push(w);
      this.load.push(0);
    }
  }

  /**
   * request sends `message(seq)` to the least loaded worker, counting
   * `load` against it until the reply, and resolves with the reply that
   * carries `seq`. After a failure it rejects at once without calling
   * `message`.
   */
  request(load: number, message: (seq: number) => Req): Promise<Reply> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    let k = 0;
    for (let i = 1; i < this.load.length; i++) if (this.load[i] < this.load[k]) k = i;
    const seq = this.seq++;
    const msg = message(seq);
    this.load[k] += load;
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject, worker: k, load });
      // A worker holds a ref on the process only while there is work.
      if (this.waiting.size === 1) for (const w of this.workers) w.ref();
      this.workers[k].postMessage(msg);
    });
  }

  private settle(m: Reply): void {
    const w = this.waiting.get(m.seq);
    if (!w) return;
    this.waiting.delete(m.seq);
    this.load[w.worker] -= w.load;
    if (this.waiting.size === 0) for (const x of this.workers) x.unref();
    w.resolve(m);
  }

  private fail(e: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
    for (const w of this.workers) w.unref();
  }

  /** failed says whether a worker failed or the pool was closed (it takes no more work). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** close stops the workers; requests still pending reject. */
  async close(): Promise<void> {
    this.fail(new Error(`${this.name} pool closed`));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
