/**
 * The command tree: the global options and help, then one module per lode
 * command (cli/commands/*.ts: its flags and a thin run), assembled here in
 * the order `lode --help` lists them. Each module loads its command function
 * lazily, so `lode --version` and `lode status` pay only for what they run.
 */
import { Command } from 'commander';
import { colorWanted, makeStyle, type Style } from '../ui/text.js';
import { makeCli, positiveInt } from './context.js';
import { EXIT, exitCodesHelp } from './exit-codes.js';
import type { Output } from './main.js';
import { report } from './report.js';
import { usageHint } from './usage.js';
import * as add from './commands/add.js';
import * as branch from './commands/branch.js';
import * as cat from './commands/cat.js';
import * as checkout from './commands/checkout.js';
import * as clone from './commands/clone.js';
import * as commit from './commands/commit.js';
import * as config from './commands/config.js';
import * as diff from './commands/diff.js';
import * as fetch from './commands/fetch.js';
import * as forget from './commands/forget.js';
import * as fsck from './commands/fsck.js';
import * as get from './commands/get.js';
import * as gc from './commands/gc.js';
import * as init from './commands/init.js';
import * as installHooks from './commands/install-hooks.js';
import * as log from './commands/log.js';
import * as ls from './commands/ls.js';
import * as merge from './commands/merge.js';
import * as mergeDriver from './commands/merge-driver.js';
import * as pull from './commands/pull.js';
import * as push from './commands/push.js';
import * as remote from './commands/remote.js';
import * as rm from './commands/rm.js';
import * as check from './commands/check.js';
import * as lineage from './commands/lineage.js';
import * as datasheet from './commands/datasheet.js';
import * as runCmd from './commands/run.js';
import * as show from './commands/show.js';
import * as status from './commands/status.js';
import * as tag from './commands/tag.js';
import * as unlock from './commands/unlock.js';

/** COMMANDS in the order help lists them. */
const COMMANDS = [init, add, rm, status, commit, runCmd, check, log, show, lineage, datasheet, diff, ls, cat, get, checkout, merge, installHooks, mergeDriver, branch, tag, gc, forget, fsck, unlock, config, push, fetch, pull, clone, remote];

/**
 * buildProgram is the whole command tree of one run, ready to parse `argv`;
 * `setExitCode` receives the status a command asks for.
 */
export function buildProgram(argv: string[], io: Output, style: Style, version: string, setExitCode: (code: number) => void): Command {
  const program = new Command('lode');
  program
    .description('Version datasets beside git: content-addressed, chunked, verified.')
    .version(version, '-V, --version')
    .option('-C, --dir <path>', 'run as if lode was started in <path>')
    .option('-q, --quiet', 'no progress output')
    .option('--wait [seconds]', 'when another lode process holds the repository lock, wait for it (at most SECONDS; default core.lock-wait, else 0)', (v) => (v === '' ? Infinity : positiveInt(v, '--wait')))
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .exitOverride();
  program.addHelpText(
    'after',
    `
Revisions: a branch, a tag, a commit ID prefix (4+ hex digits), HEAD, HEAD~n, REV^n,
the special names :workspace (files on disk) and :index (what is staged), and
inside git any git revision (resolved through the lode.lock it committed).
A name lode knows wins; force a reading with lode:NAME or git:NAME.

${exitCodesHelp()}

Examples:
  lode init && lode add data/ && lode commit -m "first version"
  lode status
  lode diff HEAD~1 HEAD --stat
  lode checkout v1            # whole workspace as tagged v1
  lode checkout HEAD~2 -- data/labels.csv
  lode diff v1 v2 --key id --rows --report diff.html
  git checkout OLD_COMMIT && lode checkout   # the data that code pinned`,
  );

  const cli = makeCli(program, argv, io, style, setExitCode);
  for (const c of COMMANDS) c.register(program, cli);
  // Commander suggests the nearest-sounding command (`restore` -> `remote`);
  // usage.ts suggests only typos and known git/DVC habits. Option suggestions stay.
  const noCommandSuggestions = (c: Command) => {
    if (c.commands.length > 0) c.showSuggestionAfterError(false);
    c.commands.forEach(noCommandSuggestions);
  };
  noCommandSuggestions(program);
  return program;
}

/** run parses argv, executes the command and returns the exit code. */
export async function run(argv: string[], io: Output, version: string): Promise<number> {
  let exitCode: number = EXIT.OK;
  const style: Style = makeStyle(colorWanted(process.stdout));
  const program = buildProgram(argv, io, style, version, (code) => {
    exitCode = code;
  });

  // `--wait` takes an optional number: in `lode --wait add x`, `add` is the command, not its value.
  const dd = argv.indexOf('--');
  const args = argv.map((a, i) => (a === '--wait' && (dd < 0 || i < dd) && !/^\d+$/.test(argv[i + 1] ?? '') ? '--wait=' : a));
  try {
    await program.parseAsync(args);
    return exitCode;
  } catch (e) {
    return report(e, io, style, (ce) => usageHint(ce, program, argv.slice(2)));
  }
}
