/** `lode commit`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { open, print, json, withProgress } = cli;
  program
    .command('commit')
    .description('record the staged datasets as a new commit')
    .requiredOption('-m, --message <text>', 'what changed and why')
    .option('-a, --all', 'stage every change in tracked datasets first')
    .option('--allow-empty', 'commit even if nothing changed')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  lode commit -am "relabelled 37 cats"')
    .action(async (o: { message: string; all?: boolean; allowEmpty?: boolean; json?: boolean }) => {
      const { commit } = await import('../../commands/commit.js');
      const repo = open();
      const r = await withProgress((progress) => commit(repo, { message: o.message, all: o.all, allowEmpty: o.allowEmpty, progress }));
      o.json ? json(r) : print(text.renderCommit(r));
    });
}
