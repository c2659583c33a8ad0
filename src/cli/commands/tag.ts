/** `lode tag`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { open, print, json } = cli;
  program
    .command('tag')
    .description('list, create or delete tags (fixed names for commits)')
    .argument('[name]', 'tag to create or delete')
    .argument('[rev]', 'commit to tag (default HEAD)')
    .option('-d, --delete', 'delete the tag')
    .option('-f, --force', 'move an existing tag')
    .addHelpText('after', '\n\nExamples:\n  lode tag                        # list\n  lode tag v1                     # tag HEAD\n  lode tag v0 HEAD~3\n  lode tag -d v0')
    .option('--json', 'print the result as JSON')
    .action(async (name: string | undefined, rev: string | undefined, o: { delete?: boolean; force?: boolean; json?: boolean }) => {
      const refsCmd = await import('../../commands/refs.js');
      const repo = open();
      if (!name) {
        const r = await refsCmd.listTags(repo);
        return o.json ? json(r) : print(r.tags.map((t) => `${t.name} ${t.commit.slice(0, 12)}`));
      }
      if (o.delete) {
        const r = await refsCmd.deleteTag(repo, { name });
        return o.json ? json(r) : print([`Deleted tag ${r.name} (was ${r.commit.slice(0, 12)})`]);
      }
      const r = await refsCmd.createTag(repo, { name, rev, force: o.force });
      o.json ? json(r) : print([`Tagged ${r.commit.slice(0, 12)} as ${r.name}`]);
    });
}
