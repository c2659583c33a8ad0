/** `lode install-hooks`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import { type Cli, lodeCommand } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { open, print, json } = cli;
  program
    .command('install-hooks')
    .description('install git hooks (restore data on checkout and merge, push data before code) and the lode.lock merge driver')
    .option('-f, --force', 'replace existing hooks that lode did not write')
    .option('--json', 'print the result as JSON')
    .action(async (o: { force?: boolean; json?: boolean }) => {
      const { installHooks } = await import('../../commands/git.js');
      const r = await installHooks(open(), { force: o.force, lodeCommand: lodeCommand() });
      o.json ? json(r) : print(text.renderInstallHooks(r));
    });
}
