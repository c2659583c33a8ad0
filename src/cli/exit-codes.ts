/**
 * Exit codes: the one place errors become process statuses. Documented in
 * docs/cli.md; scripts rely on them, so a change here is a breaking change.
 */
import type { ErrorCode } from '../core/errors.js';

export const EXIT = {
  OK: 0,
  /** diff/status --exit-code: differences found, or the workspace is not clean. */
  DIFFERENT: 1,
  USAGE: 2,
  NOT_A_REPO: 3,
  LOCKED: 4,
  CORRUPT: 5,
  NOT_FOUND: 6,
  CONFLICT: 7,
  CONFIG: 8,
  REMOTE: 9,
  /** A remote (or repository) written in a format version this lode does not know. */
  UNSUPPORTED_FORMAT: 10,
  IO: 74,
  INTERNAL: 70,
  INTERRUPTED: 130,
} as const;

const BY_CODE: Record<ErrorCode, number> = {
  USAGE: EXIT.USAGE,
  INVALID_NAME: EXIT.USAGE,
  NOT_A_REPO: EXIT.NOT_A_REPO,
  ALREADY_EXISTS: EXIT.CONFLICT,
  NOT_FOUND: EXIT.NOT_FOUND,
  UNKNOWN_REVISION: EXIT.NOT_FOUND,
  CORRUPT: EXIT.CORRUPT,
  LOCKED: EXIT.LOCKED,
  CONFLICT: EXIT.CONFLICT,
  REF_CONFLICT: EXIT.CONFLICT,
  CHANGED_DURING_ADD: EXIT.CONFLICT,
  CONFIG: EXIT.CONFIG,
  REMOTE: EXIT.REMOTE,
  UNSUPPORTED_FORMAT: EXIT.UNSUPPORTED_FORMAT,
  INTERNAL: EXIT.INTERNAL,
};

export function exitCodeFor(code: ErrorCode): number {
  return BY_CODE[code] ?? EXIT.INTERNAL;
}
