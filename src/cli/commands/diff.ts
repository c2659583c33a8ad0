/** `lode diff`: its flags, and a thin run from them to the command function and back to text or JSON. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { LodeError } from '../../core/errors.js';
import * as text from '../../ui/text.js';
import { EXIT } from '../exit-codes.js';
import { type Cli, positiveInt, splitDashDash } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { argv, io, style, globals, open, print, json, withProgress, setExitCode } = cli;
  program
    .command('diff')
    .description('what changed between two versions: files, per-directory balance, and table files row by row')
    .argument('[from]', 'old side (default HEAD)')
    .argument('[to]', 'new side (default :workspace)')
    .argument('[paths...]', 'after --: restrict to these paths')
    .option('--staged', 'compare HEAD with the index (what commit would record)')
    .option('--stat', 'add a per-directory table with file counts and sizes on both sides')
    .option('--summary', 'summary first: counts per status and per directory, and each table\'s row and column counts, without the file list')
    .option('--no-fold', 'list every added or deleted file (by default a folder with more than 10 of them is one line)')
    .option('--key <column>', 'key column matching rows of table files (repeat for a compound key)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--no-auto-key', 'without --key, match rows by content only (by default a column unique on both sides, such as id, is tried as the key)')
    .option('--rows', 'list changed rows of table files')
    .option('--limit <n>', 'list at most n rows per table file (default 20)', (v) => positiveInt(v, '--limit'))
    .option('--no-tables', 'skip the row-level diff of table files (CSV, TSV, JSON Lines, Parquet)')
    .option('--report <file>', 'also write a self-contained HTML report (summary, per-directory balance, table changes with charts)')
    .option('--json', 'print the result as JSON (shape in docs/cli.md)')
    .option('--exit-code', 'exit with 1 when there are differences')
    .addHelpText('after', '\nExamples:\n  lode diff                    # HEAD vs the files on disk\n  lode diff v1 v2 --stat\n  lode diff v1 v2 --summary     # counts only: per status, per directory, per table\n  lode diff HEAD~3 HEAD -- data/labels.csv\n  lode diff main :index        # staged changes against main\n  lode diff v1 v2 --key id --rows            # row-level changes of table files, matched by id\n  lode diff v1 v2 --report diff.html         # the same as a page with charts')
    .action(async (from: string | undefined, to: string | undefined, rest: string[], o: { staged?: boolean; stat?: boolean; json?: boolean; exitCode?: boolean; key?: string[]; rows?: boolean; limit?: number; tables?: boolean; report?: string; summary?: boolean; fold?: boolean; autoKey?: boolean }) => {
      const { diff } = await import('../../commands/diff.js');
      const [revs, paths] = splitDashDash(argv, [from, to, ...rest].filter((x): x is string => x !== undefined));
      if (revs.length > 2) throw new LodeError('USAGE', `too many revisions: ${revs.join(' ')}`, { hint: 'put paths after --, e.g. `lode diff v1 v2 -- data/`' });
      const repo = open();
      const r = await withProgress((progress) =>
        diff(repo, {
          from: revs[0] ?? (o.staged ? 'HEAD' : undefined),
          to: revs[1] ?? (revs.length === 1 && !o.staged ? undefined : undefined),
          staged: o.staged,
          paths,
          cwd: globals().cwd,
          stat: o.stat || o.summary || o.report !== undefined,
          tables: o.tables,
          key: o.key,
          autoKey: o.autoKey,
          rows: o.rows || o.limit !== undefined,
          limit: o.limit,
          progress,
        }),
      );
      if (o.report !== undefined) {
        const { renderHtmlReport } = await import('../../ui/report-html.js');
        const { writeFileAtomic } = await import('../../storage/atomic.js');
        const file = resolve(globals().cwd, o.report);
        // The right-hand version's lineage, drawn as a graph when it has a record of its own.
        let lineageResult: import('../../commands/lineage.js').LineageResult | undefined;
        if (r.to.commit) {
          const { lineage } = await import('../../commands/lineage.js');
          const lin = await lineage(repo, { spec: r.to.commit });
          if (lin.steps[0]?.commit === r.to.commit) lineageResult = lin;
        }
        writeFileAtomic(file, renderHtmlReport(r, lineageResult ? { lineage: lineageResult } : {}));
        if (!o.json) io.err(`Report written to ${file}`);
      }
      o.json ? json(r) : print(text.renderDiff(r, style, { summary: o.summary, noFold: o.fold === false }));
      if (o.exitCode && r.changes.length > 0) setExitCode(EXIT.DIFFERENT);
    });
}
