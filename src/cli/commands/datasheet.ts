/** `lode datasheet`: its flags, and a thin run from them to the command function and back to Markdown, JSON or an HTML page. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { globals, open, io, json } = cli;
  program
    .command('datasheet')
    .description('the datasheet of a version: composition, provenance, changes, contract results and declared fields (datasheet.toml)')
    .argument('[rev]', 'a commit (default HEAD)')
    .option('--baseline <rev>', 'also say what changed since this version')
    .option('--md', 'print Markdown (the default)')
    .option('--json', 'print the result as JSON')
    .option('--html <file>', 'write a self-contained HTML page (charts inline, no network) instead')
    .option('--evaluate', 'evaluate the workspace contract now, even when the version recorded check results')
    .option('--fields <file>', 'read the declared fields from this file instead of datasheet.toml')
    .addHelpText(
      'after',
      '\nDeclared fields (purpose, collection_method, labelling_procedure, known_gaps_and_biases,\npersonal_data, retention) come from datasheet.toml at the top of the workspace; each one\nmissing is listed under Gaps, never filled in. The file is read as it is now in the workspace.\n\nExit 0: written (gaps and violations are content, not failures); 6: unknown revision;\n8: datasheet.toml does not parse, or holds an unknown key or a value that is not a string.\n\nExamples:\n  lode datasheet v2\n  lode datasheet v2 --baseline v1 --html v2-datasheet.html\n  lode datasheet HEAD --json',
    )
    .action(async (rev: string | undefined, o: { baseline?: string; md?: boolean; json?: boolean; html?: string; evaluate?: boolean; fields?: string }) => {
      if ([o.md, o.json, o.html !== undefined].filter(Boolean).length > 1) throw new UsageError('--md, --json and --html each pick the output: give one', { hint: 'lode datasheet v2 --html sheet.html' });
      const { datasheet } = await import('../../commands/datasheet.js');
      const cwd = globals().cwd;
      const r = await datasheet(open(), { rev: rev ?? 'HEAD', baseline: o.baseline, evaluate: o.evaluate, fieldsFile: o.fields === undefined ? undefined : resolve(cwd, o.fields) });
      if (o.json) return json(r);
      if (o.html !== undefined) {
        const { renderDatasheetHtml } = await import('../../ui/datasheet-html.js');
        const { writeFileAtomic } = await import('../../storage/atomic.js');
        const file = resolve(cwd, o.html);
        writeFileAtomic(file, renderDatasheetHtml(r));
        io.err(`Datasheet written to ${file}`);
        return;
      }
      const { renderDatasheetMarkdown } = await import('../../ui/datasheet-md.js');
      io.out(renderDatasheetMarkdown(r).trimEnd());
    });
}
