/** `lode add`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { globals, open, print, json, withProgress } = cli;
  program
    .command('add')
    .description('stage files or directories: hash, store in the cache, track as datasets')
    .argument('<paths...>', 'files or directories to track')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nA directory becomes a dataset: new files under it show up in `lode status`.\nExamples:\n  lode add data/images data/labels.csv\n  lode add .            # re-stage every change under the given path')
    .action(async (paths: string[], o: { json?: boolean }) => {
      const { add } = await import('../../commands/add.js');
      const repo = open();
      const r = await withProgress((progress) => add(repo, { paths, cwd: globals().cwd, progress }));
      o.json ? json(r) : print(text.renderAdd(r));
    });
}
