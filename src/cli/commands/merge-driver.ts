/** `lode merge-driver`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { type Cli, short } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { io, globals, setExitCode } = cli;
  program
    .command('merge-driver', { hidden: true })
    .description("git's merge driver for lode.lock (registered by install-hooks)")
    .argument('<base>')
    .argument('<ours>')
    .argument('<theirs>')
    .argument('[path]', 'the pin file path in git (locates the workspace)')
    .action(async (base: string, ours: string, theirs: string, pinPath: string | undefined) => {
      const { runMergeDriver } = await import('../../commands/git.js');
      const r = await runMergeDriver({ cwd: globals().cwd, base, ours, theirs, pinPath });
      if (r.outcome === 'merged') io.err(`lode: merged the pinned data into lode commit ${short(r.commit)}`);
      if (r.outcome === 'conflicts') {
        io.err(`lode: the pinned datasets conflict at ${r.conflicts.length} path(s): ${r.conflicts.slice(0, 10).join(', ')}`);
        io.err('lode: run `lode merge git:MERGE_HEAD` to merge the data, resolve, `lode commit`, then `git add lode.lock`');
        setExitCode(EXIT.DIFFERENT);
      }
    });
}
