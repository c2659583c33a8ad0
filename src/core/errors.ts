/**
 * Errors every layer throws. Each kind has a stable `code` (for scripts and
 * `--json`) and a `hint` telling the user what to do next. Only `cli/` maps
 * codes to exit statuses and prints them.
 */

export type ErrorCode =
  | 'USAGE'
  | 'NOT_A_REPO'
  | 'ALREADY_EXISTS'
  | 'NOT_FOUND'
  | 'UNKNOWN_REVISION'
  | 'CORRUPT'
  | 'LOCKED'
  | 'CONFLICT'
  | 'REF_CONFLICT'
  | 'CONFIG'
  | 'CHANGED_DURING_ADD'
  | 'INVALID_NAME'
  | 'REMOTE'
  | 'UNSUPPORTED_FORMAT'
  | 'CHECKS_FAILED'
  | 'STEP_FAILED'
  | 'INTERNAL';

export interface LodeErrorOptions {
  hint?: string;
  cause?: unknown;
}

/**
 * LodeError is the base of every error lode raises on purpose.
 * `message` is one line saying what happened; `hint` says what to do next.
 */
export class LodeError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: LodeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** UsageError: the command line or API call itself is wrong. */
export class UsageError extends LodeError {
  constructor(message: string, options: LodeErrorOptions = {}) {
    super('USAGE', message, options);
  }
}

/** NotARepoError: no `.lode` directory at or above the working directory. */
export class NotARepoError extends LodeError {
  constructor(from: string) {
    super('NOT_A_REPO', `not a lode repository (or any parent up to /): ${from}`, {
      hint: 'run `lode init` to create one here, or cd into an existing lode workspace',
    });
  }
}

/** NotFoundError: a path, object or name the caller asked for does not exist. */
export class NotFoundError extends LodeError {
  constructor(message: string, options: LodeErrorOptions = {}) {
    super('NOT_FOUND', message, options);
  }
}

/** MissingContentError: file content the cache should hold is absent (fetching it from a remote may help). */
export class MissingContentError extends NotFoundError {}

/** NOT_FETCHED_HINT is the hint of a MissingContentError: data the cache lacks was most often simply not fetched. */
export const NOT_FETCHED_HINT =
  '`lode fetch REMOTE REV` downloads that version\'s data (`lode checkout REV` fetches it from the default remote itself; `lode remote add NAME URL` first if none is set); `lode fsck` tells content not fetched yet from content lost';

/** UnknownRevisionError: a revision string names nothing. */
export class UnknownRevisionError extends LodeError {
  readonly revision: string;
  constructor(revision: string, options: LodeErrorOptions = {}) {
    super('UNKNOWN_REVISION', `unknown revision: ${revision}`, {
      hint: options.hint ?? 'use a branch, a tag, a commit ID prefix, HEAD~n, or :workspace (see `lode log`, `lode branch`, `lode tag`)',
      cause: options.cause,
    });
    this.revision = revision;
  }
}

/**
 * CorruptObjectError: bytes read back do not match their object ID, or an
 * encoding cannot be decoded. Names the object and where it was read from.
 */
export class CorruptObjectError extends LodeError {
  readonly objectId?: string;
  readonly path?: string;
  constructor(message: string, details: { objectId?: string; path?: string; hint?: string; cause?: unknown } = {}) {
    super('CORRUPT', message, {
      hint: details.hint ?? 'run `lode fsck` to list every damaged object; restore them from a remote or re-add the files',
      cause: details.cause,
    });
    this.objectId = details.objectId;
    this.path = details.path;
  }
}

/** LockedError: another lode process holds the repository lock. */
export class LockedError extends LodeError {
  readonly stale: boolean;
  constructor(message: string, stale: boolean, hint: string) {
    super('LOCKED', message, { hint });
    this.stale = stale;
  }
}

/**
 * ConflictError: the operation would destroy work that is not committed
 * (a modified tracked file, an untracked file in the way).
 */
export class ConflictError extends LodeError {
  readonly paths: string[];
  constructor(message: string, paths: string[], hint: string) {
    super('CONFLICT', message, { hint });
    this.paths = paths;
  }
}

/** RefConflictError: a ref moved, exists already, or cannot be updated as asked. */
export class RefConflictError extends LodeError {
  constructor(message: string, options: LodeErrorOptions = {}) {
    super('REF_CONFLICT', message, options);
  }
}

/** ConfigError: a config file cannot be parsed or holds an invalid value. */
export class ConfigError extends LodeError {
  constructor(message: string, options: LodeErrorOptions = {}) {
    super('CONFIG', message, options);
  }
}

/** InvalidNameError: a path or name is unsafe or malformed (`..`, absolute, NUL, separators). */
export class InvalidNameError extends LodeError {
  constructor(message: string, options: LodeErrorOptions = {}) {
    super('INVALID_NAME', message, options);
  }
}

/** FileChangedError: a file changed or vanished while lode was reading it. */
export class FileChangedError extends LodeError {
  readonly path: string;
  constructor(path: string, what: string) {
    super('CHANGED_DURING_ADD', `${path} ${what} while it was being read`, {
      hint: 'wait until whatever writes the file is done, then run the command again',
    });
    this.path = path;
  }
}

export interface RemoteErrorOptions extends LodeErrorOptions {
  /** The store asked to slow down (S3 503 SlowDown, HTTP 429): back off longer. */
  throttled?: boolean;
  /** How long the store asked to wait before trying again (a Retry-After header), in ms. */
  retryAfterMs?: number;
}

/**
 * RemoteError: a remote failed; `retryable` says whether trying again may
 * help, `throttled` and `retryAfterMs` how long to wait first.
 */
export class RemoteError extends LodeError {
  readonly retryable: boolean;
  readonly throttled: boolean;
  readonly retryAfterMs?: number;
  constructor(message: string, retryable: boolean, options: RemoteErrorOptions = {}) {
    super('REMOTE', message, options);
    this.retryable = retryable;
    this.throttled = options.throttled ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * UnsupportedFormatError: data written by a newer lode (a remote's format
 * version this lode does not know). Nothing is read or written past it.
 */
export class UnsupportedFormatError extends LodeError {
  constructor(message: string, options: LodeErrorOptions = {}) {
    super('UNSUPPORTED_FORMAT', message, { hint: options.hint ?? 'upgrade lode (npm install -g lode@latest, or your package manager) and run the command again', cause: options.cause });
  }
}

/**
 * ChecksFailedError: the data contract found violations, so the commit was
 * refused. `violations` lists them (path, rule, observed, allowed, message).
 */
export class ChecksFailedError extends LodeError {
  readonly violations: { path: string; rule: string; observed: unknown; allowed: unknown; message: string }[];
  constructor(message: string, violations: ChecksFailedError['violations'], options: LodeErrorOptions = {}) {
    super('CHECKS_FAILED', message, options);
    this.violations = violations;
  }
}

/** StepFailedError: the command of `lode run` or `lode rerun` failed; nothing was committed. */
export class StepFailedError extends LodeError {
  readonly exitStatus: number | null;
  constructor(message: string, exitStatus: number | null, options: LodeErrorOptions = {}) {
    super('STEP_FAILED', message, options);
    this.exitStatus = exitStatus;
  }
}

/** isLodeError narrows `e` to LodeError, optionally of one code. */
export function isLodeError(e: unknown, code?: ErrorCode): e is LodeError {
  return e instanceof LodeError && (code === undefined || e.code === code);
}

// ---------------------------------------------------------------- errors as data

/**
 * SerializedError is an error as plain data: it survives a structured clone
 * (worker threads) and JSON, and errorFromJSON rebuilds from it an error of
 * the same class with the same message, code, hint and fields.
 */
export interface SerializedError {
  /** The class name: a registered LodeError subclass, or an Error's name (TypeError, Error...). */
  name: string;
  message: string;
  /** Whether the error was a LodeError (`code` is then an ErrorCode). */
  lode: boolean;
  /** A LodeError's code, or an operating-system error's (ENOENT, ENOSPC...). */
  code?: string;
  hint?: string;
  stack?: string;
  /** The error's other own fields that are plain data (a path, an object ID, `retryable`, errno, syscall...). */
  fields?: Record<string, unknown>;
  cause?: SerializedError;
}

/** ErrorClass is a LodeError subclass, whatever its constructor takes. */
export type ErrorClass = abstract new (...args: never[]) => LodeError;

const ERROR_CLASSES = new Map<string, ErrorClass>();

/**
 * registerErrorClasses lets errorFromJSON rebuild these LodeError subclasses
 * by name. Every subclass that may cross a thread boundary must be
 * registered, by the module that defines it (core's are below); an
 * unregistered one arrives as a plain LodeError with the same name, code,
 * hint and fields.
 */
export function registerErrorClasses(...classes: ErrorClass[]): void {
  for (const c of classes) ERROR_CLASSES.set(c.name, c);
}

/** Fields errorToJSON carries apart, or never (cause is serialized on its own). */
const OWN_KEYS = new Set(['name', 'message', 'stack', 'code', 'hint', 'cause']);

/**
 * errorToJSON turns any thrown value into a SerializedError: for a LodeError
 * its class name, code, hint and plain-data fields; for another Error its
 * name, message, stack and fields (a system error's code, errno, syscall,
 * path); anything else becomes an Error of its text. A cause is kept, to a
 * small depth.
 */
export function errorToJSON(e: unknown, depth = 0): SerializedError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e), lode: false };
  const out: SerializedError = { name: e.name, message: e.message, lode: e instanceof LodeError };
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (e instanceof LodeError && e.hint !== undefined) out.hint = e.hint;
  if (typeof e.stack === 'string') out.stack = e.stack;
  const fields: Record<string, unknown> = {};
  let any = false;
  for (const k of Object.keys(e)) {
    if (OWN_KEYS.has(k)) continue;
    const v = (e as unknown as Record<string, unknown>)[k];
    if (isPlainData(v, 0)) {
      fields[k] = v;
      any = true;
    }
  }
  if (any) out.fields = fields;
  if (e.cause !== undefined && depth < 4) out.cause = errorToJSON(e.cause, depth + 1);
  return out;
}

/**
 * errorFromJSON rebuilds the error errorToJSON described: a registered
 * LodeError subclass comes back as that class (`instanceof` holds) without
 * running its constructor, with the same message, code, hint and fields;
 * a built-in error class (TypeError...) as itself; anything else as Error.
 * The stack is the original one.
 */
export function errorFromJSON(s: SerializedError): Error {
  const cause = s.cause ? errorFromJSON(s.cause) : undefined;
  let e: Error;
  if (s.lode) {
    const cls = ERROR_CLASSES.get(s.name) ?? LodeError;
    // Error's constructor with the subclass as new.target: a real Error whose prototype is the subclass's.
    e = Reflect.construct(Error, cause === undefined ? [s.message] : [s.message, { cause }], cls) as Error;
    Object.assign(e, { name: s.name, code: s.code, hint: s.hint });
  } else {
    const builtin = (globalThis as Record<string, unknown>)[s.name];
    const cls = typeof builtin === 'function' && (builtin === Error || builtin.prototype instanceof Error) ? (builtin as ErrorConstructor) : Error;
    e = cause === undefined ? new cls(s.message) : new cls(s.message, { cause });
    if (e.name !== s.name) e.name = s.name;
    if (s.code !== undefined) Object.assign(e, { code: s.code });
  }
  if (s.fields) Object.assign(e, s.fields);
  if (s.stack !== undefined) e.stack = s.stack;
  return e;
}

/** isPlainData: `v` is made of strings, numbers, booleans, null, undefined, arrays and plain objects only. */
function isPlainData(v: unknown, depth: number): boolean {
  if (v === null || v === undefined) return true;
  const t = typeof v;
  if (t === 'string' || t === 'number' || t === 'boolean') return true;
  if (t !== 'object' || depth > 4) return false;
  if (Array.isArray(v)) return v.every((x) => isPlainData(x, depth + 1));
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(v as object).every((x) => isPlainData(x, depth + 1));
}

registerErrorClasses(
  LodeError,
  ChecksFailedError,
  StepFailedError,
  UsageError,
  NotARepoError,
  NotFoundError,
  MissingContentError,
  UnknownRevisionError,
  CorruptObjectError,
  LockedError,
  ConflictError,
  RefConflictError,
  ConfigError,
  InvalidNameError,
  FileChangedError,
  RemoteError,
  UnsupportedFormatError,
);
