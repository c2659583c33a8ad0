/** `lode ls`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import * as text from '../../ui/text.js';
import type { Cli } from '../context.js';
import { backendFlags, backendValues } from '../remote-flags.js';

export function register(program: Command, cli: Cli): void {
  const { globals, open, print, json } = cli;
  const command = program
    .command('ls')
    .description('list a directory of any version (default HEAD, the top of the datasets) without a checkout; or of a remote, with no workspace (`lode ls URL [PATH]`)')
    .argument('[rev:path]', 'REV or REV:PATH (path from the top of the workspace; ./ or ../ from here); or a remote URL (s3://bucket/prefix, a directory remote)')
    .argument('[path]', 'with a URL: the path inside the version (default: the top)')
    .option('-l, --long', 'with kind (blob: one chunk, chunked, tree), file count, size and ID')
    .option('-r, --recursive', 'every file beneath, with its path')
    .option('--rev <rev>', "with a URL: the remote's branch, tag, NAME~N or commit ID (default main, or its only branch)")
    .option('--json', 'print the result as JSON (shape in docs/cli.md)')
    .addHelpText(
      'after',
      '\nExamples:\n  lode ls                      # the top of HEAD\n  lode ls v1:data -l\n  lode ls HEAD~3:data/images -r --json\n  lode ls s3://team-data/cats data --rev v1   # no workspace needed',
    );
  // A remote read takes the options of `lode remote add` (S3 endpoint, region, credentials...).
  backendFlags(command).action(async (spec: string | undefined, where: string | undefined, o: Record<string, unknown> & { long?: boolean; recursive?: boolean; json?: boolean; rev?: string }) => {
    const { looksLikeRemoteUrl } = await import('../../commands/remote-read.js');
    if (spec !== undefined && looksLikeRemoteUrl(spec, globals().cwd)) {
      const { lsRemote } = await import('../../commands/remote-read.js');
      const r = await lsRemote({ ...backendValues(o), url: spec, path: where, rev: o.rev, cwd: globals().cwd, recursive: o.recursive });
      o.json ? json(r) : print(text.renderLs(r, !!o.long));
      return;
    }
    if (where !== undefined || o.rev !== undefined) throw new UsageError('a PATH argument and --rev go with a remote URL', { hint: 'in a workspace, name both as REV:PATH (`lode ls v1:data`)' });
    const { ls } = await import('../../commands/ls.js');
    const r = await ls(open(), { spec, cwd: globals().cwd, recursive: o.recursive });
    o.json ? json(r) : print(text.renderLs(r, !!o.long));
  });
}
