/** `lode get`: a file or directory of a remote's version, with no workspace (like `dvc get`). */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import type { Cli } from '../context.js';
import { backendFlags, backendValues } from '../remote-flags.js';

export function register(program: Command, cli: Cli): void {
  const { globals, print, json, withProgress } = cli;
  const command = program
    .command('get')
    .description('copy a file or directory of a version on a remote to here, with no workspace: only its objects are read, every byte verified')
    .argument('<url>', 'the remote: s3://bucket/prefix or a directory remote')
    .argument('<path>', 'path inside the version (a file or a directory)')
    .option('-o, --out <target>', 'where to write it (default: its name, in the current directory); must not exist')
    .option('--rev <rev>', "the remote's branch, tag, NAME~N or commit ID (default main, or its only branch)")
    .option('-f, --force', 'replace an existing file at the target (never a directory)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  lode get s3://team-data/cats data/labels.csv\n  lode get /mnt/share/lode/cats data/images -o images --rev v1');
  backendFlags(command).action(async (url: string, where: string, o: Record<string, unknown> & { out?: string; rev?: string; force?: boolean; json?: boolean }) => {
    const { getRemote } = await import('../../commands/remote-read.js');
    const r = await withProgress((progress) => getRemote({ ...backendValues(o), url, path: where, out: o.out, rev: o.rev, force: o.force, cwd: globals().cwd, progress }));
    o.json ? json(r) : print(text.renderGet(r));
  });
}
