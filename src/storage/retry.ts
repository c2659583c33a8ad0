/**
 * RetryBackend embeds a Backend and retries what failed for a reason worth
 * retrying (RemoteError with `retryable`: resets, timeouts, 5xx, throttling,
 * bodies cut short), with capped exponential backoff and full jitter, until a
 * total time budget is spent. Every remote a sync opens goes through it (see
 * `openBackend` in registry.ts). The model is restic's backend_retry.go.
 *
 * The caller is guaranteed:
 * - a failure that is not retryable (not found, refused, a lost race, a bad
 *   range or key) passes through at once and unchanged;
 * - a ranged load returns exactly `range.length` bytes: a shorter answer is
 *   retried like a reset (the whole range is asked again);
 * - a listing yields each key once even when it had to be restarted;
 * - a conditional save whose earlier attempt may have landed (its answer was
 *   lost) is not reported as a conflict without reading the key back: if it
 *   holds exactly the bytes written, the save succeeded;
 * - when the budget is spent, one RemoteError names the operation, the key,
 *   the number of attempts and the last failure.
 *
 * It cannot tell a flipped byte from a good one: content is verified above it
 * (objects against their IDs, indexes by checksum), and those readers ask again.
 */
import { LodeError, RefConflictError, RemoteError } from '../core/errors.js';
import { DEFAULT_RETRY_MAX_TIME_MS, type Backend, type BlobInfo, type Range, type RemoveOptions, type SaveOptions } from './backend.js';
import { BackendWrapper } from './wrapper.js';

export interface RetryOptions {
  /** Give up when another wait would end after this much time since the first attempt (ms). Default 120 000. */
  maxTimeMs?: number;
  /** First backoff ceiling (ms); doubles per attempt. Default 100. */
  baseDelayMs?: number;
  /** Largest backoff ceiling (ms). Default 10 000. */
  maxDelayMs?: number;
  /**
   * Until one call has reached the store, the budget is at most this (ms):
   * a store never reached is more likely a wrong endpoint than a passing
   * fault, and the user should hear so soon. Default 10 000.
   */
  firstContactMs?: number;
  /** Smallest wait after the store asked to slow down (ms). Default 1 000. */
  throttleDelayMs?: number;
  /** Called before each wait (for progress or logs; never given secrets). */
  onRetry?: (info: { op: string; key: string; attempt: number; delayMs: number; error: RemoteError }) => void;
  /** For tests: the clock, the sleep and the random source. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export class RetryBackend extends BackendWrapper {
  private readonly maxTimeMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly throttleDelayMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly firstContactMs: number;
  /** Set once a call got an answer from the store (success, or a refusal that is not retryable). */
  private reached = false;
  /** Attempts that failed and were retried, for reports and tests. */
  retries = 0;

  constructor(
    inner: Backend,
    private readonly options: RetryOptions = {},
  ) {
    super(inner);
    this.maxTimeMs = options.maxTimeMs ?? DEFAULT_RETRY_MAX_TIME_MS;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    this.throttleDelayMs = options.throttleDelayMs ?? 1_000;
    this.firstContactMs = options.firstContactMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    // Blobs written in place (a directory remote): the move into place is one local rename, not retried.
    if (inner.stage && inner.adopt) {
      this.stage = () => inner.stage!();
      this.adopt = (tmp, key) => inner.adopt!(tmp, key);
    }
  }

  readonly stage?: () => string;
  readonly adopt?: (tmp: string, key: string) => Promise<void>;

  override async save(key: string, data: Uint8Array, options?: SaveOptions): Promise<{ etag: string }> {
    const conditional = options?.ifNoneMatch === true || options?.ifMatch !== undefined;
    let uncertain = false;
    return this.retry('writing', key, async () => {
      try {
        return await this.inner.save(key, data, options);
      } catch (e) {
        if (conditional && uncertain && e instanceof RefConflictError) {
          // An earlier attempt may have landed although its answer was lost:
          // then the conflict is with ourselves. Read back before believing it.
          const etag = await this.holds(key, data);
          if (etag !== undefined) return { etag };
        }
        if (isRetryable(e)) uncertain = true;
        throw e;
      }
    });
  }

  /** holds returns the etag of `key` if it holds exactly `data`, else undefined. */
  private async holds(key: string, data: Uint8Array): Promise<string | undefined> {
    const back = await this.retry('reading back', key, () => this.inner.load(key));
    if (!back.equals(data)) return undefined;
    const info = await this.retry('looking up', key, () => this.inner.stat(key));
    return info?.etag ?? '';
  }

  override load(key: string, range?: Range, into?: Buffer): Promise<Buffer> {
    return this.retry('reading', key, async () => {
      const got = await this.inner.load(key, range, into);
      if (range && got.length !== range.length) {
        throw new RemoteError(`reading ${key} in ${this.location}: received ${got.length} of ${range.length} bytes`, true);
      }
      return got;
    });
  }

  override stat(key: string): Promise<BlobInfo | undefined> {
    return this.retry('looking up', key, () => this.inner.stat(key));
  }

  override remove(key: string, options?: RemoveOptions): Promise<void> {
    let uncertain = false;
    return this.retry('removing', key, async () => {
      try {
        await this.inner.remove(key, options);
      } catch (e) {
        // A conditional remove whose earlier attempt may have landed: the key
        // being gone now is that attempt's doing, not a lost race.
        if (options?.ifMatch !== undefined && uncertain && e instanceof RefConflictError) {
          if ((await this.retry('looking up', key, () => this.inner.stat(key))) === undefined) return;
        }
        if (isRetryable(e)) uncertain = true;
        throw e;
      }
    });
  }

  /** list restarts a failed listing from the beginning and skips the keys already yielded. */
  override async *list(prefix: string): AsyncIterable<BlobInfo> {
    const seen = new Set<string>();
    const started = this.now();
    for (let attempt = 1; ; attempt++) {
      try {
        for await (const b of this.inner.list(prefix)) {
          this.reached = true;
          if (seen.has(b.key)) continue;
          seen.add(b.key);
          yield b;
        }
        this.reached = true;
        return;
      } catch (e) {
        await this.backoff('listing', prefix || '/', e, attempt, started);
      }
    }
  }

  private async retry<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    const started = this.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await fn();
        this.reached = true;
        return r;
      } catch (e) {
        await this.backoff(op, key, e, attempt, started);
      }
    }
  }

  /** backoff rethrows `e` unless it is retryable and the budget allows another attempt; else waits. */
  private async backoff(op: string, key: string, e: unknown, attempt: number, started: number): Promise<void> {
    if (!isRetryable(e)) {
      if (e instanceof LodeError) this.reached = true; // the store answered (not found, refused...)
      throw e;
    }
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    // Full jitter: concurrent clients that failed together do not retry together.
    let delay = Math.round(this.random() * ceiling);
    if (e.throttled) delay = Math.max(delay, Math.min(this.maxDelayMs, this.throttleDelayMs * 2 ** (attempt - 1)) * (0.5 + this.random() / 2));
    if (e.retryAfterMs !== undefined) delay = Math.max(delay, e.retryAfterMs);
    const elapsed = this.now() - started;
    const budget = this.reached ? this.maxTimeMs : Math.min(this.maxTimeMs, this.firstContactMs);
    if (elapsed + delay > budget) {
      if (!this.reached) {
        throw new RemoteError(`gave up ${op} ${key} in ${this.location} after ${attempt} attempt${attempt === 1 ? '' : 's'} in ${formatSeconds(elapsed)}: ${e.message}`, false, {
          cause: e,
          hint: e.hint ?? 'lode never reached this remote: check its URL and endpoint, your network, and that the store is running',
        });
      }
      throw new RemoteError(
        `gave up ${op} ${key} in ${this.location} after ${attempt} attempt${attempt === 1 ? '' : 's'} in ${formatSeconds(elapsed)}: ${e.message}`,
        // Not retryable any more: a wrapper above must not start the budget again.
        false,
        {
          cause: e,
          hint: `the remote kept failing; run the command again later (what was done is kept), or allow more time with \`lode remote modify NAME --retry-max-time SECONDS\` (now ${formatSeconds(this.maxTimeMs)})`,
        },
      );
    }
    this.retries++;
    this.options.onRetry?.({ op, key, attempt, delayMs: delay, error: e });
    await this.sleep(delay);
  }
}

/** isRetryable: a RemoteError that says trying again may help. */
export function isRetryable(e: unknown): e is RemoteError {
  return e instanceof RemoteError && e.retryable;
}

function formatSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
