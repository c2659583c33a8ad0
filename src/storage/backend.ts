/**
 * Backend stores immutable blobs (and a few mutable refs) under string keys.
 * Every remote — a directory, an S3 bucket, memory in tests — implements it,
 * and every implementation passes the one contract suite in
 * test/backend-contract.ts.
 *
 * - `save` is atomic: a concurrent `load` sees the whole old blob, the whole
 *   new one, or NotFoundError; never a mix.
 * - `save` with `ifNoneMatch` creates only; with `ifMatch` replaces only a
 *   blob whose current etag is that value. A lost race throws
 *   RefConflictError and leaves the blob as the winner wrote it. Backends
 *   with `conditionalWrites: false` throw UsageError for either option; an
 *   S3-compatible store found (by probing) to ignore conditions turns the
 *   flag false and refuses from then on.
 * - `load` returns exactly the stored bytes (or the asked range, which must
 *   lie inside the blob); NotFoundError when the key is absent.
 * - `list` yields every key under `prefix` exactly once, in no particular
 *   order, with its size.
 * - `remove` of an absent key is not an error. With `ifMatch` it removes only
 *   a blob whose current etag is that value (refs: a branch deleted on a
 *   remote), and a lost race (changed or absent) throws RefConflictError;
 *   backends with `conditionalWrites: false` throw UsageError for it.
 * - Failures of the medium are RemoteError, with `retryable` set for the
 *   kinds worth retrying (timeouts, resets, 5xx, throttling).
 *
 * Keys are '/'-separated, relative, with no empty, '.' or '..' component.
 */
import { InvalidNameError } from '../core/errors.js';

/**
 * DEFAULT_RETRY_MAX_TIME_MS is how long a failing remote operation is retried
 * before lode gives up, unless a remote's `retryMaxTime` says otherwise
 * (RetryBackend's budget; the registry documents it in the option's help).
 */
export const DEFAULT_RETRY_MAX_TIME_MS = 120_000;

export interface BlobInfo {
  key: string;
  size: number;
  /** Opaque version tag, as `save` returned it (for ifMatch). */
  etag?: string;
}

export interface SaveOptions {
  /** Replace only if the blob's current etag is this. */
  ifMatch?: string;
  /** Create only: fail if the key exists. */
  ifNoneMatch?: boolean;
}

export interface RemoveOptions {
  /** Remove only if the blob's current etag is this. */
  ifMatch?: string;
}

export interface Range {
  offset: number;
  length: number;
}

export interface Backend {
  /** How the backend names itself in messages, e.g. `dir /mnt/share/lode` or `s3://bucket/prefix`. */
  readonly location: string;
  /** Requests worth running at once. */
  readonly maxConnections: number;
  /** Whether `ifMatch` / `ifNoneMatch` are honoured atomically. */
  readonly conditionalWrites: boolean;
  save(key: string, data: Uint8Array, options?: SaveOptions): Promise<{ etag: string }>;
  /**
   * load reads a blob or a range of it. `into` (optional, at least as long
   * as the range) is a buffer the caller lends: a backend may read the bytes
   * into it and return a view of it instead of a buffer of its own (the
   * directory backend does, so a fetch reuses a few buffers instead of
   * allocating one per read). Callers that lend a buffer treat the result
   * as valid only while they do not reuse `into`.
   */
  load(key: string, range?: Range, into?: Buffer): Promise<Buffer>;
  stat(key: string): Promise<BlobInfo | undefined>;
  list(prefix: string): AsyncIterable<BlobInfo>;
  remove(key: string, options?: RemoveOptions): Promise<void>;
  /** Release connections, servers, handles. Idempotent. */
  close?(): Promise<void>;
  /**
   * Stores on the local file system only (a directory remote): `stage`
   * returns a fresh temporary path on the store's file system, where the
   * caller may write a blob itself; `adopt` then moves that file into place
   * as `key`, atomically like `save` (a concurrent `load` sees all of it or
   * nothing), or removes it and throws. Both or neither are present.
   */
  stage?(): string;
  adopt?(tmp: string, key: string): Promise<void>;
}

/** validateKey throws InvalidNameError unless `key` is a safe backend key. */
export function validateKey(key: string): void {
  const bad = key === '' || key.startsWith('/') || key.split('/').some((p) => p === '' || p === '.' || p === '..') || /[\0\\]/.test(key);
  if (bad) throw new InvalidNameError(`invalid storage key ${JSON.stringify(key)}`, { hint: 'keys are relative, /-separated, without empty, "." or ".." parts' });
}

/** validatePrefix accepts '' or a key-like prefix (a trailing '/' allowed). */
export function validatePrefix(prefix: string): void {
  if (prefix === '') return;
  validateKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

/** checkRange throws RangeError unless `range` lies within a blob of `size` bytes. */
export function checkRange(range: Range, size: number, key: string): void {
  if (!Number.isSafeInteger(range.offset) || !Number.isSafeInteger(range.length) || range.offset < 0 || range.length < 0 || range.offset + range.length > size) {
    throw new RangeError(`range ${range.offset}+${range.length} is outside ${key} (${size} bytes)`);
  }
}
