/** `lode clone`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import type { Cli } from '../context.js';
import { backendFlags, backendValues } from '../remote-flags.js';

export function register(program: Command, cli: Cli): void {
  const { globals, print, json, withProgress } = cli;
  const command = program
    .command('clone')
    .description('make a new workspace from a remote (a directory or s3://bucket/prefix)')
    .argument('<url>')
    .argument('[dir]', 'directory to create (default: the last part of the URL)')
    .option('-b, --branch <name>', 'branch to check out (default main)')
    .option('-o, --origin <name>', 'name of the remote (default origin)')
    .option('--all', "fetch the data of every version (default: the history's metadata, and the data of the checked-out commit only)")
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  lode clone /mnt/share/lode/cats\n  lode clone s3://team-data/cats cats --region eu-west-1');
  // The new remote's options are those of `lode remote add`.
  backendFlags(command).action(async (url: string, dir: string | undefined, o: { branch?: string; origin?: string; json?: boolean; all?: boolean }) => {
    const { clone } = await import('../../commands/sync.js');
    const r = await withProgress((progress) => clone({ ...backendValues(o), url, dir, cwd: globals().cwd, branch: o.branch, remote: o.origin, all: o.all, progress }));
    o.json ? json(r) : print(text.renderClone(r));
  });
}
