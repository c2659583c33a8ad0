/** `lode fsck`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import * as text from '../../ui/text.js';
import { EXIT } from '../exit-codes.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { style, open, print, json, withProgress, setExitCode } = cli;
  program
    .command('fsck')
    .description('verify every object and cached file against its ID, and every ref')
    .addHelpText('after', '\n\nExamples:\n  lode fsck || echo "damaged: see the list above"\n  lode fsck --remote origin --read-data-subset 1/10')
    .option('-r, --remote [name]', 'verify a remote instead: refs reach only present objects, every index matches its pack')
    .option('--read-data', 'with --remote: also read every object and check it against its ID')
    .option('--read-data-subset <n/m>', 'with --remote: read only packs in subset n of m (chosen by pack ID)')
    .option('--json', 'print the result as JSON')
    .action(async (o: { json?: boolean; remote?: string | boolean; readData?: boolean; readDataSubset?: string }) => {
      if (o.remote !== undefined) {
        const { remoteFsck } = await import('../../commands/remote-fsck.js');
        const repo = open();
        const r = await withProgress((progress) => remoteFsck(repo, { remote: typeof o.remote === 'string' ? o.remote : undefined, readData: o.readData, readDataSubset: o.readDataSubset, progress }));
        o.json ? json(r) : print(text.renderRemoteFsck(r, style));
        if (!r.ok) setExitCode(EXIT.CORRUPT);
        return;
      }
      if (o.readData || o.readDataSubset) throw new UsageError('--read-data and --read-data-subset need --remote', { hint: 'plain `lode fsck` always reads everything' });
      const { fsck } = await import('../../commands/maintenance.js');
      const repo = open();
      const r = await withProgress((progress) => fsck(repo, { progress }));
      o.json ? json(r) : print(text.renderFsck(r, style));
      if (!r.ok) setExitCode(EXIT.CORRUPT);
    });
}
