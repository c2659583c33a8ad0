/** `lode forget`: its flags, and a thin run from them to the command function and back to text or JSON. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { renderForget, renderVerify } from '../../ui/forget-text.js';
import type { Cli } from '../context.js';
import { EXIT } from '../exit-codes.js';

interface ForgetFlags {
  rows?: string;
  key?: string[];
  keysFrom?: string;
  where?: string;
  dryRun?: boolean;
  push?: string | boolean;
  verify?: boolean;
  remote?: string[];
  json?: boolean;
}

export function register(program: Command, cli: Cli): void {
  const { globals, open, print, json, setExitCode, withProgress } = cli;
  program
    .command('forget')
    .description('erase files, or rows of tables, from every version: history is rewritten and the erased content deleted')
    .argument('[paths...]', 'files or folders to remove from every commit')
    .option('--rows <glob>', 'erase rows from the CSV, TSV, JSON Lines and Parquet files matching GLOB (`*.csv`, `data/**/*.parquet`)')
    .option('--key <column=value>', 'with --rows: remove rows whose COLUMN holds VALUE (repeatable; a row matching any key goes)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--keys-from <file>', 'with --rows: keys from a file: the column name on the first line, then one value per line')
    .option('--where <expr>', 'with --rows: remove rows where EXPR holds: COLUMN OP VALUE (= != < <= > >=) joined by and/or')
    .option('-n, --dry-run', 'list every commit, file and row count that would change; write nothing')
    .option('--push [remote]', 'then erase on the remote too (default remote): move its refs, repack and delete the packs that held erased content')
    .option('--verify', 'do not erase: check that nothing the rule matches remains (commits, local objects, --remote objects); exit 1 with the places otherwise')
    .option('--remote <name>', 'with --verify: also scan every object of this remote (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\n\nExamples:\n  lode forget --dry-run secrets/api-key.txt\n  lode forget --rows "customers*.csv" --key customer_id=4711 --push\n  lode forget --rows "*.csv" --keys-from erase-requests.txt\n  lode forget --verify --rows "*.csv" --key customer_id=4711 --remote origin\n\nA rule that matches nothing exits 1 and writes nothing. The erasure record\n(.lode/erasures/) keeps the map from old to new commit IDs, never the erased values.',
    )
    .action(async (paths: string[], o: ForgetFlags) => {
      const { forget, verifyForget, parseKeysFile } = await import('../../commands/forget.js');
      const g = globals();
      let rows: { tables: string; keys: { column: string; value: string }[]; where?: string } | undefined;
      if (o.rows !== undefined) {
        const keys = (o.key ?? []).map((k) => {
          const eq = k.indexOf('=');
          if (eq <= 0) throw new UsageError(`--key takes COLUMN=VALUE, not ${JSON.stringify(k)}`, { hint: 'e.g. --key customer_id=42' });
          return { column: k.slice(0, eq), value: k.slice(eq + 1) };
        });
        if (o.keysFrom !== undefined) keys.push(...parseKeysFile(fs.readFileSync(path.resolve(g.cwd, o.keysFrom), 'utf8')));
        rows = { tables: o.rows, keys, where: o.where };
      } else if (o.key || o.keysFrom || o.where) {
        throw new UsageError('--key, --keys-from and --where need --rows GLOB', { hint: 'e.g. --rows "*.csv" --key customer_id=42' });
      }
      const repo = open();
      if (o.verify) {
        const r = await withProgress((progress) => verifyForget(repo, { paths, rows, remotes: o.remote, cwd: g.cwd, progress }));
        if (!r.ok) setExitCode(EXIT.DIFFERENT);
        return o.json ? json(r) : print(renderVerify(r));
      }
      const r = await withProgress((progress) => forget(repo, { paths, rows, dryRun: o.dryRun, push: o.push, cwd: g.cwd, progress }));
      const remoteDid = !!r.remote && (r.remote.refsMoved.length > 0 || r.remote.packsDeleted > 0 || r.remote.recordsUploaded > 0);
      if (!r.matched && r.resumed.length === 0 && !remoteDid) setExitCode(EXIT.DIFFERENT);
      o.json ? json(r) : print(renderForget(r));
    });
}
