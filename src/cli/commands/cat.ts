/** `lode cat`: one file of any version, raw bytes on stdout. */
import { once } from 'node:events';
import type { Command } from 'commander';
import type { Cli } from '../context.js';

export function register(program: Command, cli: Cli): void {
  const { io, globals, open, withProgress } = cli;
  program
    .command('cat')
    .description('write a file of any version to stdout (verified; fetched from the default remote when the cache lacks it)')
    .argument('<rev:path>', 'REV:PATH (path from the top of the workspace; ./ or ../ from here), or PATH for HEAD:PATH')
    .option('--no-fetch', 'fail instead of fetching content the cache lacks')
    .addHelpText('after', '\nExamples:\n  lode cat v1:data/labels.csv | head\n  lode cat HEAD~2:data/images/cat.jpg > old-cat.jpg\n  lode cat git:HEAD~1:data/labels.csv   # what the code one git commit ago pinned')
    .action(async (spec: string, o: { fetch?: boolean }) => {
      const { cat } = await import('../../commands/cat.js');
      const repo = open();
      const r = await withProgress((progress) => cat(repo, { spec, cwd: globals().cwd, fetch: o.fetch, progress }));
      if (r.fetched && !globals().quiet) io.err(`lode: fetched ${r.path} from ${r.fetched.remote}`);
      await writeAll(r.content, process.stdout);
    });
}

/**
 * writeAll copies verified pieces to stdout, waiting when the pipe is full.
 * A reader that went away (`lode cat x | head`) ends the run quietly: main's
 * stdout error handler exits 0 on EPIPE, as git does.
 */
async function writeAll(pieces: AsyncIterable<Buffer>, out: NodeJS.WriteStream): Promise<void> {
  for await (const piece of pieces) {
    if (!out.write(piece)) await once(out, 'drain');
  }
}
