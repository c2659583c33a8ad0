/** `lode init`: its flags, and a thin run from them to the command function and back to text or JSON. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { globals, print, json } = cli;
  program
    .command('init')
    .description('create a lode workspace in the current directory (or DIR)')
    .argument('[dir]', 'directory to initialise')
    .option('-b, --branch <name>', 'name of the first branch', 'main')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  lode init && lode add data/ && lode commit -m "raw data"')
    .action(async (dir: string | undefined, o: { branch: string; json?: boolean }) => {
      const { init } = await import('../../commands/init.js');
      const r = await init({ dir: resolve(globals().cwd, dir ?? '.'), branch: o.branch });
      o.json ? json(r) : print(text.renderInit(r));
    });
}
