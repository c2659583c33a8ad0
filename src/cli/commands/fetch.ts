/** `lode fetch`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { open, print, json, withProgress } = cli;
  program
    .command('fetch')
    .description(
      'download the history (commits, trees, chunk lists) of every branch and tag of a remote, and the file data of REVs ' +
        '(default: of the remote branch the current branch follows); the workspace is not touched',
    )
    .argument('[remote]', 'remote name (default: the default remote; a first argument that names no remote is a REV)')
    .argument('[revs...]', 'revisions whose data to fetch: a remote branch or tag, REMOTE/BRANCH, a commit ID, main~3')
    .option('--all', 'fetch the data of every version of every branch and tag (history included)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  lode fetch                 # history, and the data of origin/<current branch>\n  lode fetch origin v1 main~2\n  lode fetch --all           # everything, for offline work')
    .action(async (remoteName: string | undefined, revs: string[], o: { json?: boolean; all?: boolean }) => {
      const { fetch } = await import('../../commands/sync.js');
      const repo = open();
      // `lode fetch v1`: a first argument that names no remote is a revision of the default remote.
      if (remoteName !== undefined && !repo.config.remoteOptions(remoteName)) {
        revs = [remoteName, ...revs];
        remoteName = undefined;
      }
      const r = await withProgress((progress) => fetch(repo, { remote: remoteName, revs, all: o.all, progress }));
      o.json ? json(r) : print(text.renderFetch(r));
    });
}
