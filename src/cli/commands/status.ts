/** `lode status`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import { LodeError } from '../../core/errors.js';
import * as text from '../../ui/text.js';
import { EXIT } from '../exit-codes.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { style, open, print, json, setExitCode } = cli;
  program
    .command('status')
    .description('show staged, unstaged and new files in the tracked datasets')
    .option('--json', 'print the result as JSON')
    .option('--exit-code', 'exit with 1 when the workspace is not clean')
    .option('-u, --untracked-files [mode]', 'normal: a new folder is one line (default); all (or no value): list every untracked file')
    .option('-r, --remote [name]', 'instead: compare the current branch with a remote (what push or pull would move)')
    .addHelpText('after', '\n\nExamples:\n  lode status\n  lode status -u               # every untracked file, not one line per new folder\n  lode status --json | jq .unstaged\n  lode status --exit-code || echo "uncommitted data changes"')
    .action(async (o: { json?: boolean; exitCode?: boolean; remote?: string | boolean; untrackedFiles?: string | boolean }) => {
      if (o.remote !== undefined) {
        const { remoteStatus } = await import('../../commands/sync.js');
        const r = await remoteStatus(open(), { remote: typeof o.remote === 'string' ? o.remote : undefined });
        o.json ? json(r) : print(text.renderRemoteStatus(r));
        if (o.exitCode && r.state !== 'upToDate') setExitCode(EXIT.DIFFERENT);
        return;
      }
      const mode = o.untrackedFiles === undefined ? 'normal' : o.untrackedFiles === true ? 'all' : o.untrackedFiles;
      if (mode !== 'normal' && mode !== 'all') throw new LodeError('USAGE', `unknown --untracked-files mode "${mode}"`, { hint: 'use -u (every file) or --untracked-files=normal|all' });
      const { status } = await import('../../commands/status.js');
      const r = await status(open());
      o.json ? json(r) : print(text.renderStatus(r, style, { allUntracked: mode === 'all' }));
      if (o.exitCode && !r.clean) setExitCode(EXIT.DIFFERENT);
    });
}
