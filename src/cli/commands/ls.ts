/** `lode ls`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { globals, open, print, json } = cli;
  program
    .command('ls')
    .description('list a directory of any version (default HEAD, the top of the datasets) without a checkout')
    .argument('[rev:path]', 'REV or REV:PATH (path from the top of the workspace; ./ or ../ from here)')
    .option('-l, --long', 'with kind (blob: one chunk, chunked, tree), file count, size and ID')
    .option('-r, --recursive', 'every file beneath, with its path')
    .option('--json', 'print the result as JSON (shape in docs/cli.md)')
    .addHelpText('after', '\nExamples:\n  lode ls                      # the top of HEAD\n  lode ls v1:data -l\n  lode ls HEAD~3:data/images -r --json')
    .action(async (spec: string | undefined, o: { long?: boolean; recursive?: boolean; json?: boolean }) => {
      const { ls } = await import('../../commands/ls.js');
      const r = await ls(open(), { spec, cwd: globals().cwd, recursive: o.recursive });
      o.json ? json(r) : print(text.renderLs(r, !!o.long));
    });
}
