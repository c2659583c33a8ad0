/**
 * cli — commander wiring. Parses arguments, opens the repository, runs one
 * command function, renders its result (text or --json) and maps errors to
 * exit codes. The only layer that prints or chooses a process status.
 * Command modules are imported lazily so `lode --version` stays fast.
 */
import { readFileSync } from 'node:fs';
import { EXIT, exitCodeFor } from './exit-codes.js';

const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/** Output is where a run prints; tests pass their own. */
export interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
}

const stdio: Output = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

/** main runs the CLI with `argv` (as process.argv) and resolves to the exit code. */
export async function main(argv: string[], io: Output = stdio): Promise<number> {
  const args = argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    io.out(VERSION);
    return EXIT.OK;
  }
  // Ctrl-C or a kill: exit through process.exit so 'exit' handlers run and the
  // repository lock is released. Writes are atomic, so stopping anywhere is safe.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      io.err(`\ninterrupted (${signal}): nothing half-written was kept`);
      process.exit(EXIT.INTERRUPTED);
    });
  }
  // A reader that went away (`lode log | head`) is not an error: stop quietly, as git does.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.OK);
    throw e;
  });
  const { run } = await import('./program.js');
  return run(argv, io, VERSION);
}
