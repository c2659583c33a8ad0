/** `lode unlock`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { open, print, json } = cli;
  program
    .command('unlock')
    .description('remove the repository lock after showing its owner (a lock from another host, or a damaged one)')
    .option('-f, --force', 'remove it even when its owner still runs on this host')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nA lock whose process is gone on this host is taken over automatically; this is for the rest.\nExample:\n  lode unlock')
    .action(async (o: { force?: boolean; json?: boolean }) => {
      const { unlock } = await import('../../commands/maintenance.js');
      const r = await unlock(open(), { force: o.force });
      o.json ? json(r) : print(text.renderUnlock(r));
    });
}
