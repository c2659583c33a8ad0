/**
 * How a failed run ends: an error printed as `error:` + `hint:` lines, and
 * the exit code for it (see exit-codes.ts and docs/cli.md).
 */
import { CommanderError } from 'commander';
import { ChecksFailedError, LodeError } from '../core/errors.js';
import type { CheckViolation } from '../core/record.js';
import { renderViolations } from '../ui/governance.js';
import { redactUrl } from '../storage/registry.js';
import type { Style } from '../ui/text.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import type { Output } from './main.js';

const IO_HINTS: Record<string, string> = {
  EACCES: 'check the permissions of that path',
  EPERM: 'check the permissions of that path',
  ENOSPC: 'free some disk space (`lode gc` drops unreachable cache data), then run the command again',
  EROFS: 'the file system is read-only',
  EMFILE: 'too many open files: raise the limit (ulimit -n) and run the command again',
};

/**
 * report prints an error as `error:` + `hint:` lines and picks the exit code.
 * Commander has printed its own `error:` line already; `usageHint` gives the
 * `hint:` for it.
 */
export function report(e: unknown, io: Output, st: Style, usageHint?: (e: CommanderError) => string | undefined): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
    const hint = usageHint?.(e);
    if (hint) io.err(`${st.dim('hint:')}  ${hint}`);
    return EXIT.USAGE;
  }
  if (e instanceof LodeError) {
    // Credentials in a URL never reach the screen, whichever layer let one into a message.
    io.err(`${st.red('error:')} ${redactUrl(e.message)}`);
    if (e instanceof ChecksFailedError) for (const l of renderViolations(e.violations as CheckViolation[], st)) io.err(l);
    if (e.hint) io.err(`${st.dim('hint:')}  ${redactUrl(e.hint)}`);
    return exitCodeFor(e.code);
  }
  const errno = (e as NodeJS.ErrnoException)?.code;
  if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) {
    io.err(`${st.red('error:')} ${(e as Error).message}`);
    if (IO_HINTS[errno]) io.err(`${st.dim('hint:')}  ${IO_HINTS[errno]}`);
    return EXIT.IO;
  }
  io.err(`${st.red('error:')} internal error: ${(e as Error)?.stack ?? String(e)}`);
  io.err(`${st.dim('hint:')}  this is a bug in lode; please report it with the command you ran`);
  return EXIT.INTERNAL;
}

