/** `lode fsck`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import { EXIT } from '../exit-codes.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { style, open, print, json, withProgress, setExitCode } = cli;
  program
    .command('fsck')
    .description('verify every object and cached file against its ID, and every ref')
    .addHelpText('after', '\n\nExample:\n  lode fsck || echo "damaged: see the list above"')
    .option('--json', 'print the result as JSON')
    .action(async (o: { json?: boolean }) => {
      const { fsck } = await import('../../commands/maintenance.js');
      const repo = open();
      const r = await withProgress((progress) => fsck(repo, { progress }));
      o.json ? json(r) : print(text.renderFsck(r, style));
      if (!r.ok) setExitCode(EXIT.CORRUPT);
    });
}
