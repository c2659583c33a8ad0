/** `lode check`: its flags, and a thin run from them to the command function and back to text or JSON. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import * as gov from '../../ui/governance.js';
import { EXIT } from '../exit-codes.js';
import type { Cli } from '../context.js';

const many = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command, cli: Cli): void {
  const { argv, globals, style, open, print, json, withProgress, setExitCode } = cli;
  program
    .command('check')
    .description('evaluate the data contract (lode.checks.toml) on a version')
    .argument('[rev]', 'a commit, or :index (default: what the next commit would record)')
    .option('--contract <file>', 'use this contract file instead of lode.checks.toml')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExit 0: no violations; 1: violations (each with path, rule, observed and allowed values).\n\nExamples:\n  lode check\n  lode check v2 --json')
    .action(async (rev: string | undefined, o: { contract?: string; json?: boolean }) => {
      const { check } = await import('../../commands/check.js');
      const r = await check(open(), { rev, contract: o.contract });
      o.json ? json(r) : print(gov.renderCheck(r, style));
      if (!r.ok) setExitCode(EXIT.DIFFERENT);
    });
}
