/** `lode pull`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import { LodeError } from '../../core/errors.js';
import * as text from '../../ui/text.js';
import { type Cli, splitDashDash } from '../context.js';
import { EXIT } from '../exit-codes.js';

export function register(program: Command, cli: Cli): void {
  const { argv, globals, open, print, json, withProgress, style, setExitCode } = cli;
  program
    .command('pull')
    .description('fetch the current branch and fast-forward the workspace to it, or merge it when both sides have new commits (or update only some paths)')
    .argument('[remote]', 'remote name (default: the default remote)')
    .argument('[paths...]', 'after --: only these paths (HEAD does not move)')
    .option('-f, --force', 'overwrite uncommitted changes in the way')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  lode pull\n  lode pull -- data/images/cats      # just that folder')
    .action(async (remoteArg: string | undefined, rest: string[], o: { force?: boolean; json?: boolean }) => {
      const { pull } = await import('../../commands/sync.js');
      const [names, paths] = splitDashDash(argv, [remoteArg, ...rest].filter((x): x is string => x !== undefined));
      if (names.length > 1) throw new LodeError('USAGE', `pull takes one remote, got: ${names.join(' ')}`, { hint: 'put paths after --' });
      const repo = open();
      const r = await withProgress((progress) => pull(repo, { remote: names[0], paths, cwd: globals().cwd, force: o.force, progress }));
      o.json ? json(r) : print(text.renderPull(r, style));
      // Conflicts stop a pull as they stop `lode merge`: same exit code, same ways out.
      if (r.outcome === 'conflicts') setExitCode(EXIT.CONFLICT);
    });
}
