/** `lode rm`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { globals, open, print, json } = cli;
  program
    .command('rm')
    .description('stop tracking files (and delete them unless --cached)')
    .argument('<paths...>', 'tracked files or directories')
    .option('--cached', 'keep the files on disk')
    .option('-f, --force', 'delete files even if their changes were never added')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\n\nExamples:\n  lode rm data/old_run            # stop tracking and delete\n  lode rm --cached data/scratch   # stop tracking, keep the files')
    .action(async (paths: string[], o: { cached?: boolean; force?: boolean; json?: boolean }) => {
      const { rm } = await import('../../commands/rm.js');
      const r = await rm(open(), { paths, cwd: globals().cwd, cached: o.cached, force: o.force });
      o.json ? json(r) : print(text.renderRm(r));
    });
}
