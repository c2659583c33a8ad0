/** `lode lineage`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import * as gov from '../../ui/governance.js';
import type { Cli } from '../context.js';

const many = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command, cli: Cli): void {
  const { argv, globals, style, open, print, json, withProgress, setExitCode } = cli;
  program
    .command('lineage')
    .description('how a version (or a path in it) was made: steps, inputs, code commits, external sources')
    .argument('[spec]', 'REV or REV:PATH (default HEAD); with --downstream, PATH or REV:PATH')
    .option('--downstream', 'list the versions derived from the path instead')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  lode lineage HEAD:data/labelled\n  lode lineage v2 --json\n  lode lineage --downstream data/raw')
    .action(async (spec: string | undefined, o: { downstream?: boolean; json?: boolean }) => {
      const m = await import('../../commands/lineage.js');
      const repo = open();
      if (o.downstream) {
        if (!spec) throw new UsageError('--downstream needs a PATH (or REV:PATH)', { hint: 'lode lineage --downstream data/raw' });
        const r = await m.downstream(repo, { spec, cwd: globals().cwd });
        o.json ? json(r) : print(gov.renderDownstream(r, style));
        return;
      }
      const r = await m.lineage(repo, { spec: spec ?? 'HEAD', cwd: globals().cwd });
      o.json ? json(r) : print(gov.renderLineage(r, style));
    });
}
