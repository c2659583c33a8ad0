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
  /** The command of `lode run` / `lode rerun` failed (nothing was committed). */
  STEP_FAILED: 11,
  IO: 74,
  INTERNAL: 70,
  INTERRUPTED: 130,
} as const;

/**
 * EXIT_MEANING is the few words `lode --help` prints beside each code;
 * docs/cli.md and the README say more (a test checks all three list every code).
 */
export const EXIT_MEANING: Record<keyof typeof EXIT, string> = {
  OK: 'ok',
  DIFFERENT: 'differences (--exit-code) or violations (check) or not reproducible (rerun)',
  USAGE: 'usage',
  NOT_A_REPO: 'not a repository',
  LOCKED: 'locked',
  CORRUPT: 'corrupt data',
  NOT_FOUND: 'not found',
  CONFLICT: 'conflict',
  CONFIG: 'bad config',
  REMOTE: 'remote failure',
  UNSUPPORTED_FORMAT: 'unsupported remote format (upgrade lode)',
  STEP_FAILED: 'step failed (run/rerun)',
  IO: 'I/O',
  INTERNAL: 'internal',
  INTERRUPTED: 'interrupted',
};

/** exitCodesHelp is the "Exit codes:" paragraph of `lode --help`, every code in order, wrapped at `width`. */
export function exitCodesHelp(width = 80): string {
  const items = (Object.keys(EXIT) as (keyof typeof EXIT)[]).sort((a, b) => EXIT[a] - EXIT[b]).map((k) => `${EXIT[k]} ${EXIT_MEANING[k]}`);
  const lines: string[] = [];
  let line = 'Exit codes:';
  items.forEach((item, i) => {
    const word = `${item}${i === items.length - 1 ? '.' : ','}`;
    if (line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line += ` ${word}`;
  });
  lines.push(line);
  return lines.join('\n');
}

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
  CHECKS_FAILED: EXIT.DIFFERENT,
  STEP_FAILED: EXIT.STEP_FAILED,
  INTERNAL: EXIT.INTERNAL,
};

export function exitCodeFor(code: ErrorCode): number {
  return BY_CODE[code] ?? EXIT.INTERNAL;
}
