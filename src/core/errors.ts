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

/** isLodeError narrows `e` to LodeError, optionally of one code. */
export function isLodeError(e: unknown, code?: ErrorCode): e is LodeError {
  return e instanceof LodeError && (code === undefined || e.code === code);
}
