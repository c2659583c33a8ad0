/** `lode log`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import { LodeError } from '../../core/errors.js';
import { type Cli, positiveInt, splitDashDash } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { argv, globals, style, open, print, json } = cli;
  program
    .command('log')
    .description('list commits, newest first')
    .argument('[rev]', 'start from this revision', undefined)
    .argument('[paths...]', 'after --: only commits that changed these paths')
    .option('-n, --max-count <n>', 'show at most n commits', (v) => positiveInt(v, '--max-count'))
    .option('--all', 'commits of every branch and tag')
    .option('--oneline', 'one line per commit')
    .option('--git', 'show the git commits that pinned each lode commit')
    .addHelpText('after', '\n\nExamples:\n  lode log --oneline\n  lode log -n 5 v1\n  lode log --git              # which code commits pinned each data version\n  lode log --oneline -- data/labels.csv   # commits that changed one file\n  lode log --all --json')
    .option('--json', 'print the result as JSON')
    .action(async (rev: string | undefined, rest: string[], o: { maxCount?: number; all?: boolean; oneline?: boolean; git?: boolean; json?: boolean }) => {
      const { log } = await import('../../commands/log.js');
      const [revs, paths] = splitDashDash(argv, [rev, ...rest].filter((x): x is string => x !== undefined));
      if (revs.length > 1) throw new LodeError('USAGE', `log takes one revision, got: ${revs.join(' ')}`, { hint: 'put paths after --, e.g. `lode log -- data/labels.csv`' });
      const r = await log(open(), { rev: revs[0], all: o.all, limit: o.maxCount, git: o.git, paths, cwd: globals().cwd });
      o.json ? json(r) : print(text.renderLog(r, style, !!o.oneline));
    });
}
