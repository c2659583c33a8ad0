/** `lode show`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { style, open, print, json, withProgress } = cli;
  program
    .command('show')
    .description('one commit: its header and message, and what it changed against its first parent')
    .argument('[rev]', 'the commit (default HEAD)')
    .option('--stat', 'add the per-directory table, as diff --stat')
    .option('--key <column>', 'key column matching rows of table files (repeat for a compound key)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--no-tables', 'skip the row-level diff of table files')
    .option('--json', 'print the result as JSON (shape in docs/cli.md)')
    .addHelpText('after', '\nExamples:\n  lode show\n  lode show v1 --stat\n  lode show HEAD~1 --json')
    .action(async (rev: string | undefined, o: { stat?: boolean; key?: string[]; tables?: boolean; json?: boolean }) => {
      const { show } = await import('../../commands/show.js');
      const repo = open();
      const r = await withProgress((progress) => show(repo, { rev, stat: o.stat, key: o.key, tables: o.tables, progress }));
      o.json ? json(r) : print(text.renderShow(r, style));
    });
}
