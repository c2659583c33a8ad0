/** `lode commit`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import * as text from '../../ui/text.js';
import type { Cli } from '../context.js';
import type { ProvenanceDraft } from '../../commands/commit.js';

export function register(program: Command, cli: Cli): void {
  const { open, print, json, withProgress, globals, style } = cli;
  const many = (v: string, prev: string[] = []) => [...prev, v];
  program
    .command('commit')
    .description('record the staged datasets as a new commit')
    .requiredOption('-m, --message <text>', 'what changed and why')
    .option('-a, --all', 'stage every change in tracked datasets first')
    .option('--allow-empty', 'commit even if nothing changed')
    .option('--source <url>', 'record where the data came from (a URL, a vendor drop; repeatable)', many)
    .option('--note <text>', 'record a note on how the data was made')
    .option('--input <spec>', 'record an input it was made from: REV:PATH or a workspace PATH (repeatable)', many)
    .option('--no-verify', 'commit even if the data contract (lode.checks.toml) finds violations (they are recorded)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  lode commit -am "relabelled 37 cats"\n  lode commit -m "vendor drop" --source https://vendor.example/2026-11.tar --note "as delivered"')
    .action(async (o: { message: string; all?: boolean; allowEmpty?: boolean; source?: string[]; note?: string; input?: string[]; verify: boolean; json?: boolean }) => {
      const { commit } = await import('../../commands/commit.js');
      const repo = open();
      let provenance: ProvenanceDraft | undefined;
      if (o.source || o.note !== undefined || o.input) {
        const { manualProvenance } = await import('../../commands/run.js');
        provenance = await manualProvenance(repo, { sources: o.source ?? [], note: o.note, inputs: o.input ?? [], cwd: globals().cwd, lodeVersion: program.version() ?? '0.0.0' });
      }
      const r = await withProgress((progress) => commit(repo, { message: o.message, all: o.all, allowEmpty: o.allowEmpty, provenance, verify: o.verify, progress }));
      o.json ? json(r) : print(text.renderCommit(r, style));
    });
}
