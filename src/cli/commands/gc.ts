/** `lode gc`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import { type Cli, positiveInt } from '../context.js';
import { LodeError, UsageError } from '../../core/errors.js';

export function register(program: Command, cli: Cli): void {
  const { open, print, json, withProgress } = cli;
  program
    .command('gc')
    .description('delete cached data that no branch, tag, HEAD, the index or a git-pinned lode.lock reaches')
    .option('-n, --dry-run', 'only report what would be removed')
    .option('-r, --remote [name]', 'collect on a remote instead: mark unreachable packs, delete those marked before the grace period')
    .option('--pushed [remote]', 'also drop cached file data the remote (default: the default remote) holds, checked against its pack indexes now; never what it lacks (unpushed data), nor what is checked out unless a clean workspace file holds it')
    .option('--keep-last <n>', 'with --pushed (implied): keep the data of the last N commits of each branch and of every tag (N=1: only what branches and tags point at)', (v) => positiveInt(v, '--keep-last'))
    .option('--erase', 'with --remote: apply every erasure record (lode forget) there now: move its refs, repack and delete the packs holding erased content (no grace period)')
    .option('--grace-hours <n>', 'with --remote: how long marked packs survive (default 6; a push must finish within it)', (v) => positiveInt(v, '--grace-hours'))
    .addHelpText('after', '\n\nExamples:\n  lode gc --dry-run\n  lode branch -D experiment && lode gc\n  lode gc --pushed              # free the cache of data already on the default remote\n  lode gc --keep-last 3 -n      # what keeping 3 versions per branch would free')
    .option('--json', 'print the result as JSON')
    .action(async (o: { dryRun?: boolean; json?: boolean; remote?: string | boolean; graceHours?: number; pushed?: string | boolean; keepLast?: number; erase?: boolean }) => {
      if (o.erase) {
        if (o.remote === undefined || o.dryRun) throw new UsageError('--erase goes with --remote (and not with --dry-run)', { hint: '`lode gc --remote --erase`; `lode forget --verify ... --remote NAME` checks the result' });
        const { forgetOnRemote } = await import('../../commands/forget.js');
        const { renderRemoteErase } = await import('../../ui/forget-text.js');
        const r = await forgetOnRemote(open(), typeof o.remote === 'string' ? o.remote : undefined);
        return o.json ? json(r) : print(renderRemoteErase(r));
      }
      if (o.remote !== undefined) {
        if (o.pushed !== undefined || o.keepLast !== undefined) throw new LodeError('USAGE', '--remote collects on the remote; --pushed and --keep-last free the local cache', { hint: 'run them as two commands' });
        const { remoteGc } = await import('../../commands/sync.js');
        const repo = open();
        const r = await withProgress((progress) =>
          remoteGc(repo, { remote: typeof o.remote === 'string' ? o.remote : undefined, dryRun: o.dryRun, graceMs: o.graceHours === undefined ? undefined : o.graceHours * 3600_000, progress }),
        );
        return o.json ? json(r) : print(text.renderRemoteGc(r));
      }
      const { gc } = await import('../../commands/maintenance.js');
      const repo = open();
      const r = await withProgress((progress) => gc(repo, { dryRun: o.dryRun, pushed: o.pushed === undefined ? undefined : typeof o.pushed === 'string' ? o.pushed : true, keepLast: o.keepLast, progress }));
      o.json ? json(r) : print(text.renderGc(r));
    });
}
