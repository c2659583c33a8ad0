/**
 * FaultyBackend embeds a Backend and injects failures on purpose: for tests
 * and for a torture run, never for users (the model is kopia's
 * blobtesting/faulty.go). Rules pick calls by method, key pattern, and either
 * by their count (the 1st, 3rd... matching call) or by a probability drawn
 * from a seeded generator, so a failing run can be replayed exactly.
 *
 * Faults, as the real backends report them:
 * - `reset`: a retryable RemoteError before the call reaches the store;
 * - `lost-answer` (save, remove): the call reaches the store, then a retryable
 *   RemoteError, as when a connection drops after the store acted;
 * - `error500`, `slowdown` (503, throttled), `throttle429` (with Retry-After);
 * - `fatal`: a RemoteError that is not retryable;
 * - `short` (load): a ranged load returns fewer bytes than asked; a whole-blob
 *   load fails as a body cut short (real backends check the announced length);
 *   a listing stops half-way with a reset;
 * - `flip` (load): one byte of the answer is flipped (only content checks see it);
 * - `delay`: the call waits `delayMs` first, then runs.
 */
import { RemoteError } from '../core/errors.js';
import type { Backend, BlobInfo, Range, RemoveOptions, SaveOptions } from './backend.js';
import { BackendWrapper } from './wrapper.js';

export type FaultMethod = 'save' | 'load' | 'stat' | 'list' | 'remove';
export type FaultKind = 'reset' | 'lost-answer' | 'error500' | 'slowdown' | 'throttle429' | 'fatal' | 'short' | 'flip' | 'delay';

export interface FaultRule {
  /** Methods the rule applies to (default: all). */
  methods?: FaultMethod[];
  /** Keys (or list prefixes) the rule applies to (default: all). */
  keys?: RegExp;
  /** The fault, or several to draw from. Kinds that do not fit a method are skipped for it. */
  kind: FaultKind | FaultKind[];
  /** Fault these matching calls, counted from 1 per rule. */
  calls?: number[];
  /** Or fault each matching call with this probability. */
  probability?: number;
  /** At most this many faults from this rule. */
  limit?: number;
  /** For `delay` (default 50 ms); for `throttle429`, the Retry-After (default 0). */
  delayMs?: number;
}

export interface InjectedFault {
  method: FaultMethod;
  key: string;
  kind: FaultKind;
}

const FITS: Record<FaultKind, FaultMethod[]> = {
  reset: ['save', 'load', 'stat', 'list', 'remove'],
  'lost-answer': ['save', 'remove'],
  error500: ['save', 'load', 'stat', 'list', 'remove'],
  slowdown: ['save', 'load', 'stat', 'list', 'remove'],
  throttle429: ['save', 'load', 'stat', 'list', 'remove'],
  fatal: ['save', 'load', 'stat', 'list', 'remove'],
  short: ['load', 'list'],
  flip: ['load'],
  delay: ['save', 'load', 'stat', 'list', 'remove'],
};

export class FaultyBackend extends BackendWrapper {
  /** Every fault injected so far, in order. */
  readonly injected: InjectedFault[] = [];
  private readonly counts: number[];
  private readonly fired: number[];
  private readonly random: () => number;

  constructor(
    inner: Backend,
    public rules: FaultRule[],
    options: { seed?: number } = {},
  ) {
    super(inner);
    this.counts = rules.map(() => 0);
    this.fired = rules.map(() => 0);
    this.random = mulberry32(options.seed ?? 1);
  }

  /** pick returns the fault for this call, if a rule fires. */
  private pick(method: FaultMethod, key: string): { kind: FaultKind; rule: FaultRule } | undefined {
    for (const [i, rule] of this.rules.entries()) {
      if (rule.methods && !rule.methods.includes(method)) continue;
      if (rule.keys && !rule.keys.test(key)) continue;
      const kinds = (Array.isArray(rule.kind) ? rule.kind : [rule.kind]).filter((k) => FITS[k].includes(method));
      if (kinds.length === 0) continue;
      const n = ++this.counts[i];
      if (rule.limit !== undefined && this.fired[i] >= rule.limit) continue;
      const fires = rule.calls ? rule.calls.includes(n) : rule.probability !== undefined && this.random() < rule.probability;
      if (!fires) continue;
      this.fired[i]++;
      const kind = kinds[Math.floor(this.random() * kinds.length)];
      this.injected.push({ method, key, kind });
      return { kind, rule };
    }
    return undefined;
  }

  /** before throws or waits for faults that strike before the call reaches the store. */
  private async before(f: { kind: FaultKind; rule: FaultRule } | undefined, method: FaultMethod, key: string): Promise<void> {
    if (!f) return;
    const where = `${method} ${key} (injected)`;
    switch (f.kind) {
      case 'reset':
        throw new RemoteError(`connection reset during ${where}`, true);
      case 'error500':
        throw new RemoteError(`HTTP 500 InternalError during ${where}`, true);
      case 'slowdown':
        throw new RemoteError(`HTTP 503 SlowDown during ${where}`, true, { throttled: true });
      case 'throttle429':
        throw new RemoteError(`HTTP 429 Too Many Requests during ${where}`, true, { throttled: true, retryAfterMs: f.rule.delayMs ?? 0 });
      case 'fatal':
        throw new RemoteError(`HTTP 400 BadRequest during ${where}`, false);
      case 'delay':
        await new Promise((resolve) => setTimeout(resolve, f.rule.delayMs ?? 50));
        return;
      default:
        return;
    }
  }

  override async save(key: string, data: Uint8Array, options?: SaveOptions): Promise<{ etag: string }> {
    const f = this.pick('save', key);
    await this.before(f, 'save', key);
    const r = await this.inner.save(key, data, options);
    if (f?.kind === 'lost-answer') throw new RemoteError(`connection reset after save ${key} reached the store (injected)`, true);
    return r;
  }

  override async load(key: string, range?: Range, into?: Buffer): Promise<Buffer> {
    const f = this.pick('load', key);
    await this.before(f, 'load', key);
    const data = await this.inner.load(key, range, into);
    if (f?.kind === 'short') {
      if (!range) throw new RemoteError(`load ${key}: the body ended early (injected)`, true);
      return data.subarray(0, Math.floor(data.length / 2));
    }
    if (f?.kind === 'flip' && data.length > 0) {
      const copy = Buffer.from(data);
      copy[Math.floor(this.random() * copy.length)] ^= 1 << Math.floor(this.random() * 8);
      return copy;
    }
    return data;
  }

  override async stat(key: string): Promise<BlobInfo | undefined> {
    await this.before(this.pick('stat', key), 'stat', key);
    return this.inner.stat(key);
  }

  override async *list(prefix: string): AsyncIterable<BlobInfo> {
    const f = this.pick('list', prefix);
    await this.before(f, 'list', prefix);
    let n = 0;
    for await (const b of this.inner.list(prefix)) {
      // A listing cut short: some keys arrive, then the connection drops.
      if (f?.kind === 'short' && n >= 1) throw new RemoteError(`listing ${prefix || '/'} was cut short (injected)`, true);
      n++;
      yield b;
    }
  }

  override async remove(key: string, options?: RemoveOptions): Promise<void> {
    const f = this.pick('remove', key);
    await this.before(f, 'remove', key);
    await this.inner.remove(key, options);
    if (f?.kind === 'lost-answer') throw new RemoteError(`connection reset after remove ${key} reached the store (injected)`, true);
  }
}

/** mulberry32 is a small seeded PRNG: the same seed replays the same faults. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
