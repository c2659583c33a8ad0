/** `lode merge`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import { LodeError } from '../../core/errors.js';
import * as text from '../../ui/text.js';
import { EXIT } from '../exit-codes.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { style, open, print, json, withProgress, setExitCode } = cli;
  program
    .command('merge')
    .description('three-way merge of another revision into HEAD; conflicts are listed by path')
    .argument('[rev]', 'what to merge (lode or git revision); omit to conclude a merge in progress with --ours/--theirs')
    .option('--ours', 'resolve every conflict with our version')
    .option('--theirs', 'resolve every conflict with their version')
    .option('--abort', 'give up a conflicted merge: back to HEAD')
    .option('--no-ff', 'make a merge commit even when a fast-forward would do')
    .option('-m, --message <text>', 'message of the merge commit')
    .option('-f, --force', 'overwrite uncommitted changes in the way')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  lode merge feature              # merge lode branch feature\n  lode merge git:main             # merge what git branch main pins\n  lode merge --theirs             # conclude a conflicted merge taking their files\n  lode merge --abort')
    .action(async (rev: string | undefined, o: { ours?: boolean; theirs?: boolean; abort?: boolean; ff?: boolean; message?: string; force?: boolean; json?: boolean }) => {
      if (o.ours && o.theirs) throw new LodeError('USAGE', '--ours and --theirs exclude each other');
      const { merge } = await import('../../commands/merge.js');
      const repo = open();
      const r = await withProgress((progress) =>
        merge(repo, { rev, favor: o.ours ? 'ours' : o.theirs ? 'theirs' : undefined, abort: o.abort, noFastForward: o.ff === false, message: o.message, force: o.force, progress }),
      );
      o.json ? json(r) : print(text.renderMerge(r, style));
      if (r.outcome === 'conflicts') setExitCode(EXIT.CONFLICT);
    });
}
