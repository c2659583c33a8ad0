/** `lode checkout`: its flags, and a thin run from them to the command function and back to text or JSON. */
import { type Command, Option } from 'commander';
import { LodeError } from '../../core/errors.js';
import * as text from '../../ui/text.js';
import { type Cli, short, splitDashDash } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { argv, io, globals, open, print, json, withProgress } = cli;
  program
    .command('checkout')
    .description('make the workspace match a revision, or restore paths from it; with no revision inside git, restore what lode.lock pins')
    .argument('[rev]', 'branch, tag, commit or git revision (default: what lode.lock pins inside git, else HEAD)')
    .argument('[paths...]', 'after --: only these paths')
    .option('-b, --branch <name>', 'create a branch at REV and switch to it')
    .option('-f, --force', 'overwrite uncommitted changes')
    .option('--json', 'print the result as JSON')
    .addOption(new Option('--hook', 'run by the git hooks: restore the pinned data quietly').hideHelp())
    .addHelpText('after', '\nExamples:\n  lode checkout v1                     # switch the whole workspace\n  lode checkout                        # restore what lode.lock pins (or HEAD outside git)\n  lode checkout git:HEAD~3             # the data the code three git commits ago pinned\n  lode checkout HEAD~1 -- data/a.csv   # bring one file back\n  lode checkout -b relabel             # new branch here')
    .action(async (rev: string | undefined, rest: string[], o: { branch?: string; force?: boolean; json?: boolean; hook?: boolean }) => {
      const { checkoutFetching } = await import('../../commands/checkout.js');
      const [revs, paths] = splitDashDash(argv, [rev, ...rest].filter((x): x is string => x !== undefined));
      if (revs.length > 1) throw new LodeError('USAGE', `checkout takes one revision, got: ${revs.join(' ')}`, { hint: 'put paths after --, e.g. `lode checkout v1 -- data/`' });
      const repo = open();
      if (revs.length === 0 && paths.length === 0 && !o.branch) {
        const { hookRestore, restorePinned } = await import('../../commands/git.js');
        if (o.hook) {
          const r = await hookRestore(repo);
          if (r.restored) io.err(`lode: restored the data lode.lock pins (${short(r.commit)}): ${r.written} written, ${r.removed} removed`);
          return;
        }
        const r = (await withProgress((progress) => restorePinned(repo, { force: o.force, progress })))!;
        o.json ? json(r) : print(text.renderCheckout(r));
        return;
      }
      const r = await withProgress((progress) => checkoutFetching(repo, { rev: revs[0], paths, cwd: globals().cwd, force: o.force, createBranch: o.branch, progress }));
      o.json ? json(r) : print(text.renderCheckout(r));
    });
}
