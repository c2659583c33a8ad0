/** `lode branch`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import { LodeError } from '../../core/errors.js';
import * as text from '../../ui/text.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { style, open, print, json, withProgress } = cli;
  program
    .command('branch')
    .description('list, create, delete or switch branches')
    .argument('[name]', 'branch to create (or delete / switch to)')
    .argument('[start]', 'where a new branch starts (default HEAD)')
    .option('-d, --delete', 'delete the branch (refused if its commits would be lost)')
    .option('-D', 'delete the branch even if its commits are reachable from nothing else')
    .option('-r, --remotes', 'list remote-tracking branches (origin/main...): where each remote branch was at the last fetch or push')
    .option('-s, --switch', 'switch to the branch (same as `lode checkout NAME`)')
    .addHelpText('after', '\n\nExamples:\n  lode branch                     # list\n  lode branch relabel             # create at HEAD\n  lode branch fix v1              # create at tag v1\n  lode branch -s relabel          # switch\n  lode branch -r                  # remote-tracking branches (merge one: lode merge origin/main)\n  lode branch -d relabel          # delete (refused if commits would be lost)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string | undefined, start: string | undefined, o: { delete?: boolean; D?: boolean; switch?: boolean; remotes?: boolean; json?: boolean }) => {
      const refsCmd = await import('../../commands/refs.js');
      const repo = open();
      if (o.remotes) {
        if (name || o.delete || o.D || o.switch) throw new LodeError('USAGE', '-r only lists remote-tracking branches', { hint: 'to delete a branch on a remote: `lode push --delete BRANCH`' });
        const r = await refsCmd.listRemoteBranches(repo);
        return o.json ? json(r) : print(text.renderRemoteBranches(r));
      }
      if (!name) {
        if (o.delete || o.D || o.switch) throw new LodeError('USAGE', 'which branch?', { hint: 'give the branch name' });
        const r = await refsCmd.listBranches(repo);
        return o.json ? json(r) : print(text.renderBranches(r, style));
      }
      if (o.delete || o.D) {
        const r = await refsCmd.deleteBranch(repo, { name, force: o.D });
        return o.json ? json(r) : print([`Deleted branch ${r.name} (was ${r.commit.slice(0, 12)})`]);
      }
      if (o.switch) {
        const { checkout } = await import('../../commands/checkout.js');
        const r = await withProgress((progress) => checkout(repo, { rev: name, progress }));
        return o.json ? json(r) : print(text.renderCheckout(r));
      }
      const r = await refsCmd.createBranch(repo, { name, start });
      o.json ? json(r) : print([`Created branch ${r.name} at ${r.commit.slice(0, 12)}`]);
    });
}
