/** `lode gc`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import { type Cli, positiveInt } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { open, print, json, withProgress } = cli;
  program
    .command('gc')
    .description('delete cached data that no branch, tag, HEAD, the index or a git-pinned lode.lock reaches')
    .option('-n, --dry-run', 'only report what would be removed')
    .option('-r, --remote [name]', 'collect on a remote instead: mark unreachable packs, delete those marked before the grace period')
    .option('--grace-hours <n>', 'with --remote: how long marked packs survive (default 6; a push must finish within it)', (v) => positiveInt(v, '--grace-hours'))
    .addHelpText('after', '\n\nExamples:\n  lode gc --dry-run\n  lode branch -D experiment && lode gc')
    .option('--json', 'print the result as JSON')
    .action(async (o: { dryRun?: boolean; json?: boolean; remote?: string | boolean; graceHours?: number }) => {
      if (o.remote !== undefined) {
        const { remoteGc } = await import('../../commands/sync.js');
        const repo = open();
        const r = await withProgress((progress) =>
          remoteGc(repo, { remote: typeof o.remote === 'string' ? o.remote : undefined, dryRun: o.dryRun, graceMs: o.graceHours === undefined ? undefined : o.graceHours * 3600_000, progress }),
        );
        return o.json ? json(r) : print(text.renderRemoteGc(r));
      }
      const { gc } = await import('../../commands/maintenance.js');
      const repo = open();
      const r = await withProgress((progress) => gc(repo, { dryRun: o.dryRun, progress }));
      o.json ? json(r) : print(text.renderGc(r));
    });
}
