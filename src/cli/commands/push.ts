/** `lode push`: its flags, and a thin run from them to the command function and back to text or JSON. */
import { type Command, Option } from 'commander';
import { LodeError } from '../../core/errors.js';
import * as text from '../../ui/text.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { io, open, print, json, withProgress } = cli;
  program
    .command('push')
    .description('send a branch (data included) to a remote; only what it lacks travels')
    .argument('[remote]', 'remote name (default: the default remote)')
    .argument('[branch]', 'branch (default: the current one)')
    .option('--tags', 'also push every tag')
    .option('-f, --force', 'overwrite the remote branch even if that drops commits')
    .option('--delete <branch>', 'delete a branch on the remote (only if it still holds what you last fetched)')
    .option('--json', 'print the result as JSON')
    .addOption(new Option('--hook', 'run by the pre-push hook: push the current branch when a default remote is set').hideHelp())
    .addOption(new Option('--hook-branches <names>', 'with --hook: the git branches being pushed (space-separated)').hideHelp())
    .addOption(new Option('--hook-commits <shas>', 'with --hook: the git commits being pushed (space-separated); their pins must be on the remote').hideHelp())
    .addHelpText('after', '\nExamples:\n  lode push\n  lode push backup main\n  lode push --tags\n  lode push --delete old-experiment')
    .action(async (remoteName: string | undefined, branch: string | undefined, o: { tags?: boolean; force?: boolean; delete?: string; json?: boolean; hook?: boolean; hookBranches?: string; hookCommits?: string }) => {
      const repo = open();
      if (o.hook) {
        // From the pre-push hook (see hookPush); quietly nothing without a default remote.
        const { hookPush, unpushedPinsError } = await import('../../commands/git.js');
        const words = (s: string | undefined) => (s ?? '').split(/\s+/).filter(Boolean);
        const r = await hookPush(repo, { branches: words(o.hookBranches), gitCommits: words(o.hookCommits) });
        for (const one of r.pushed) for (const p of one.pushed) if (!p.upToDate) io.err(`lode: pushed ${p.ref} to ${one.remote} (${p.objects} objects)`);
        if (r.remote && r.unpushed.length > 0) throw unpushedPinsError(r.remote, r.unpushed);
        return;
      }
      if (o.delete !== undefined) {
        if (branch !== undefined || o.tags || o.force) throw new LodeError('USAGE', '--delete takes one branch, and no other branch, --tags or --force', { hint: 'e.g. `lode push --delete old-experiment` or `lode push origin --delete old-experiment`' });
        const { pushDelete } = await import('../../commands/sync.js');
        const r = await pushDelete(repo, { remote: remoteName, branch: o.delete });
        return o.json ? json(r) : print([`${r.remote}: deleted branch ${r.deleted.name} (was ${r.deleted.id.slice(0, 12)})`]);
      }
      const { push } = await import('../../commands/sync.js');
      const r = await withProgress((progress) => push(repo, { remote: remoteName, branch, tags: o.tags, force: o.force, progress }));
      o.json ? json(r) : print(text.renderPush(r));
    });
}
