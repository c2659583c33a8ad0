/**
 * What every CLI command module shares: the global flags, opening the
 * repository, printing text or JSON, progress on stderr, the exit code, and
 * the small argument helpers. Cheap to import: no command, and no progress
 * renderer (ink) until a command asks for progress.
 */
import * as nodeFs from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ProgressSink } from '../core/progress.js';
import { Repository } from '../repo/repository.js';
import type { Style } from '../ui/text.js';
import type { Output } from './main.js';

/** Globals are the options given before the command: `-C DIR`, `-q`, `--wait`. */
export interface Globals {
  cwd: string;
  quiet: boolean;
  /** --wait: ms to wait for the repository lock (Infinity: no limit); undefined: the configured default. */
  waitMs?: number;
}

/** Cli is one run of the CLI as a command module sees it. */
export interface Cli {
  /** The raw arguments (as process.argv): `--` is only visible here. */
  argv: string[];
  io: Output;
  style: Style;
  globals(): Globals;
  /**
   * open opens the repository at or above the working directory (`-C`),
   * with `--wait` applied and its notices (a stale lock taken over) printed
   * on stderr as `warning:` lines.
   */
  open(): Repository;
  print(lines: string[]): void;
  json(v: unknown): void;
  /** withProgress gives a command a progress sink rendered on stderr (ink on a TTY). */
  withProgress<T>(fn: (sink: ProgressSink) => Promise<T>): Promise<T>;
  /** setExitCode sets the status the run ends with when nothing fails. */
  setExitCode(code: number): void;
}

/** makeCli builds the shared context of a run; `program` holds the parsed global options. */
export function makeCli(program: Command, argv: string[], io: Output, style: Style, setExitCode: (code: number) => void): Cli {
  const globals = (): Globals => {
    const o = program.opts<{ dir?: string; quiet?: boolean; wait?: number | boolean }>();
    const waitMs = o.wait === true ? Infinity : typeof o.wait === 'number' ? o.wait * 1000 : undefined;
    return { cwd: resolve(process.cwd(), o.dir ?? '.'), quiet: !!o.quiet, ...(waitMs !== undefined ? { waitMs } : {}) };
  };
  const open = (): Repository => {
    const g = globals();
    const repo = Repository.open(g.cwd);
    if (g.waitMs !== undefined) repo.lockWaitMs = g.waitMs;
    repo.notice = (line) => io.err(`${style.yellow('warning:')} ${line}`);
    return repo;
  };
  return {
    argv,
    io,
    style,
    globals,
    open,
    print: (lines) => lines.forEach((l) => io.out(l)),
    json: (v) => io.out(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2)),
    withProgress: async (fn) => {
      const { chooseProgressMode, createProgressReporter, plainIntervalMs } = await import('../ui/progress.js');
      const g = globals();
      const intervalMs = plainIntervalMs();
      const reporter = await createProgressReporter(chooseProgressMode({ quiet: g.quiet, stream: process.stderr }), process.stderr, intervalMs !== undefined ? { intervalMs } : {});
      try {
        return await fn(reporter.sink);
      } finally {
        await reporter.close();
      }
    },
    setExitCode,
  };
}

export { positiveInt } from './args.js';

export const short = (id: string | null | undefined) => (id ? id.slice(0, 12) : '(none)');

/**
 * lodeCommand is how hooks and the merge driver should start this very lode:
 * the node binary and script path when they are known, else `lode` on PATH.
 */
export function lodeCommand(): string {
  const script = process.argv[1];
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  if (script && nodeFs.existsSync(script)) return `${q(process.execPath)} ${q(nodeFs.realpathSync(script))}`;
  return 'lode';
}

/** splitDashDash separates revisions from the paths given after `--`. */
export function splitDashDash(raw: string[], operands: string[]): [string[], string[]] {
  const dd = raw.indexOf('--');
  if (dd < 0) return [operands, []];
  const after = raw.slice(dd + 1);
  const before = operands.slice(0, operands.length - after.length);
  return [before, after];
}
