/** `lode run` and `lode rerun`: their flags, and a thin run from them to the command functions and back to text or JSON. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import * as gov from '../../ui/governance.js';
import { EXIT } from '../exit-codes.js';
import type { Cli } from '../context.js';

const many = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command, cli: Cli): void {
  const { argv, globals, style, open, print, json, withProgress, setExitCode } = cli;
  program
    .command('run')
    .description('run a preparation step and commit its outputs with a record of how they were made')
    .option('-i, --input <spec>', 'an input: PATH in the workspace, or REV:PATH (repeatable; exposed to the step as $LODE_INPUT_0, _1, ...)', many)
    .option('-o, --output <path>', 'an output the step writes in the workspace (repeatable; $LODE_OUTPUT_0, ...)', many)
    .option('-m, --message <text>', 'the commit message (default "run: CMD ARGS")')
    .option('--no-verify', 'commit even if the data contract finds violations (they are recorded)')
    .option('--json', 'print the result as JSON (the step\'s own output goes to stderr)')
    .argument('[command...]', 'after --: the command and its arguments')
    .addHelpText(
      'after',
      `
The command runs directly (no shell) in the current directory. A failing
command (exit status not 0) commits nothing and lode exits 11. An input given
as REV:PATH whose version differs from the workspace's is copied to a scratch
directory: read it through $LODE_INPUT_k.

Examples:
  lode run -i data/raw -o data/clean -- python steps/clean.py
  lode run -i v1:data/raw -o data/clean -- sh -c 'python clean.py "$LODE_INPUT_0" data/clean'`,
    )
    .action(async (_cmd: string[], o: { input?: string[]; output?: string[]; message?: string; verify: boolean; json?: boolean }) => {
      const dd = argv.indexOf('--');
      const command = dd >= 0 ? argv.slice(dd + 1) : _cmd;
      if (dd < 0 && command.length > 0) throw new UsageError('put the command after `--`', { hint: 'lode run -i IN -o OUT -- CMD ARGS...' });
      const { run } = await import('../../commands/run.js');
      const repo = open();
      const r = await withProgress((progress) =>
        run(repo, { inputs: o.input ?? [], outputs: o.output ?? [], command, message: o.message, cwd: globals().cwd, verify: o.verify, lodeVersion: program.version() ?? '0.0.0', stdout: o.json ? 'stderr' : 'inherit', progress }),
      );
      o.json ? json(r) : print(gov.renderRun(r, style));
    });

  program
    .command('rerun')
    .description('run the step recorded in a commit again, at the current code, and say whether its outputs are byte-identical')
    .argument('<rev>', 'a commit made by `lode run`')
    .option('--keep', 'keep the scratch copy of the workspace the step ran in')
    .option('--json', 'print the result as JSON (the step\'s own output goes to stderr)')
    .addHelpText(
      'after',
      `
The step runs in a scratch copy of the workspace under .lode/tmp/ (links to
the workspace's files, the recorded inputs copied in at their versions, the
outputs absent), in the directory it was recorded in. Nothing in the
workspace changes. Exit 0: byte-identical; 1: the outputs differ; 11: the
step failed.

Example:
  lode rerun HEAD~1`,
    )
    .action(async (rev: string, o: { keep?: boolean; json?: boolean }) => {
      const { rerun } = await import('../../commands/run.js');
      const r = await rerun(open(), { rev, keep: o.keep, stdout: o.json ? 'stderr' : 'inherit' });
      o.json ? json(r) : print(gov.renderRerun(r, style));
      if (!r.identical) setExitCode(EXIT.DIFFERENT);
    });
}
