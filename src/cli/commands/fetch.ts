/** `lode fetch`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { open, print, json, withProgress } = cli;
  program
    .command('fetch')
    .description('download every branch and tag of a remote, data included; the workspace is not touched')
    .argument('[remote]', 'remote name (default: the default remote)')
    .option('--json', 'print the result as JSON')
    .action(async (remoteName: string | undefined, o: { json?: boolean }) => {
      const { fetch } = await import('../../commands/sync.js');
      const repo = open();
      const r = await withProgress((progress) => fetch(repo, { remote: remoteName, progress }));
      o.json ? json(r) : print(text.renderFetch(r));
    });
}
