/** `lode config`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { open, print, json } = cli;
  program
    .command('config')
    .description('get, set or list settings (.lode/config; --local for .lode/config.local)')
    .argument('[key]', 'dotted key, e.g. cache.type')
    .argument('[value]', 'new value (lists are comma-separated)')
    .option('--unset', 'remove the key')
    .option('-l, --list', 'list every setting')
    .option('--local', 'use .lode/config.local (never tracked; for credentials)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nKeys: chunking.min, chunking.avg, chunking.max, cache.type, user.name, user.email\nExamples:\n  lode config cache.type reflink,hardlink,copy\n  lode config user.name "Ada Lovelace"')
    .action(async (key: string | undefined, value: string | undefined, o: { unset?: boolean; list?: boolean; local?: boolean; json?: boolean }) => {
      const { config } = await import('../../commands/config.js');
      const r = await config(open(), { key, value, unset: o.unset, list: o.list, local: o.local });
      o.json ? json(r) : print(text.renderConfig(r));
    });
}
