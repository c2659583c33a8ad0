/**
 * The command tree: one commander command per lode command, each a thin
 * adapter from flags to a command function's options and from its result to
 * text or JSON.
 */
import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import * as nodePath from 'node:path';
import * as nodeFs from 'node:fs';
import { LodeError } from '../core/errors.js';
import type { ProgressSink } from '../core/progress.js';
import { Repository } from '../repo/repository.js';
import { chooseProgressMode, createProgressReporter } from '../ui/progress.js';
import { makeStyle, type Style } from '../ui/text.js';
import * as text from '../ui/text.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import type { Output } from './main.js';

interface Globals {
  cwd: string;
  quiet: boolean;
}

/** run parses argv, executes the command and returns the exit code. */
export async function run(argv: string[], io: Output, version: string): Promise<number> {
  let exitCode: number = EXIT.OK;
  const style: Style = makeStyle(!!process.stdout.isTTY && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb');
  const program = new Command('lode');
  program
    .description('Version datasets beside git: content-addressed, chunked, verified.')
    .version(version, '-V, --version')
    .option('-C, --dir <path>', 'run as if lode was started in <path>')
    .option('-q, --quiet', 'no progress output')
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .exitOverride();
  program.addHelpText(
    'after',
    `
Revisions: a branch, a tag, a commit ID prefix (4+ hex digits), HEAD, HEAD~n, REV^n,
the special names :workspace (files on disk) and :index (what is staged), and
inside git any git revision (resolved through the lode.lock it committed).
A name lode knows wins; force a reading with lode:NAME or git:NAME.

Exit codes: 0 ok, 1 differences (--exit-code), 2 usage, 3 not a repository,
4 locked, 5 corrupt data, 6 not found, 7 conflict, 8 bad config, 70 internal, 74 I/O.

Examples:
  lode init && lode add data/ && lode commit -m "first version"
  lode status
  lode diff HEAD~1 HEAD --stat
  lode checkout v1            # whole workspace as tagged v1
  lode checkout HEAD~2 -- data/labels.csv
  lode diff v1 v2 --key id --rows --report diff.html
  git checkout OLD_COMMIT && lode checkout   # the data that code pinned`,
  );

  const globals = (): Globals => {
    const o = program.opts<{ dir?: string; quiet?: boolean }>();
    return { cwd: resolve(process.cwd(), o.dir ?? '.'), quiet: !!o.quiet };
  };
  const open = () => Repository.open(globals().cwd);
  const print = (lines: string[]) => lines.forEach((l) => io.out(l));
  const json = (v: unknown) => io.out(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2));
  /** withProgress gives a command a progress sink rendered on stderr (ink on a TTY). */
  const withProgress = async <T>(fn: (sink: ProgressSink) => Promise<T>): Promise<T> => {
    const g = globals();
    const reporter = await createProgressReporter(chooseProgressMode({ quiet: g.quiet, stream: process.stderr }), process.stderr);
    try {
      return await fn(reporter.sink);
    } finally {
      await reporter.close();
    }
  };

  program
    .command('init')
    .description('create a lode workspace in the current directory (or DIR)')
    .argument('[dir]', 'directory to initialise')
    .option('-b, --branch <name>', 'name of the first branch', 'main')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  lode init && lode add data/ && lode commit -m "raw data"')
    .action(async (dir: string | undefined, o: { branch: string; json?: boolean }) => {
      const { init } = await import('../commands/init.js');
      const r = await init({ dir: resolve(globals().cwd, dir ?? '.'), branch: o.branch });
      o.json ? json(r) : print(text.renderInit(r));
    });

  program
    .command('add')
    .description('stage files or directories: hash, store in the cache, track as datasets')
    .argument('<paths...>', 'files or directories to track')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nA directory becomes a dataset: new files under it show up in `lode status`.\nExamples:\n  lode add data/images data/labels.csv\n  lode add .            # re-stage every change under the given path')
    .action(async (paths: string[], o: { json?: boolean }) => {
      const { add } = await import('../commands/add.js');
      const repo = open();
      const r = await withProgress((progress) => add(repo, { paths, cwd: globals().cwd, progress }));
      o.json ? json(r) : print(text.renderAdd(r));
    });

  program
    .command('rm')
    .description('stop tracking files (and delete them unless --cached)')
    .argument('<paths...>', 'tracked files or directories')
    .option('--cached', 'keep the files on disk')
    .option('-f, --force', 'delete files even if their changes were never added')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\n\nExamples:\n  lode rm data/old_run            # stop tracking and delete\n  lode rm --cached data/scratch   # stop tracking, keep the files')
    .action(async (paths: string[], o: { cached?: boolean; force?: boolean; json?: boolean }) => {
      const { rm } = await import('../commands/rm.js');
      const r = await rm(open(), { paths, cwd: globals().cwd, cached: o.cached, force: o.force });
      o.json ? json(r) : print(text.renderRm(r));
    });

  program
    .command('status')
    .description('show staged, unstaged and new files in the tracked datasets')
    .option('--json', 'print the result as JSON')
    .option('--exit-code', 'exit with 1 when the workspace is not clean')
    .option('-r, --remote [name]', 'instead: compare the current branch with a remote (what push or pull would move)')
    .addHelpText('after', '\n\nExamples:\n  lode status\n  lode status --json | jq .unstaged\n  lode status --exit-code || echo "uncommitted data changes"')
    .action(async (o: { json?: boolean; exitCode?: boolean; remote?: string | boolean }) => {
      if (o.remote !== undefined) {
        const { remoteStatus } = await import('../commands/sync.js');
        const r = await remoteStatus(open(), { remote: typeof o.remote === 'string' ? o.remote : undefined });
        o.json ? json(r) : print(text.renderRemoteStatus(r));
        if (o.exitCode && r.state !== 'upToDate') exitCode = EXIT.DIFFERENT;
        return;
      }
      const { status } = await import('../commands/status.js');
      const r = await status(open());
      o.json ? json(r) : print(text.renderStatus(r, style));
      if (o.exitCode && !r.clean) exitCode = EXIT.DIFFERENT;
    });

  program
    .command('commit')
    .description('record the staged datasets as a new commit')
    .requiredOption('-m, --message <text>', 'what changed and why')
    .option('-a, --all', 'stage every change in tracked datasets first')
    .option('--allow-empty', 'commit even if nothing changed')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  lode commit -am "relabelled 37 cats"')
    .action(async (o: { message: string; all?: boolean; allowEmpty?: boolean; json?: boolean }) => {
      const { commit } = await import('../commands/commit.js');
      const repo = open();
      const r = await withProgress((progress) => commit(repo, { message: o.message, all: o.all, allowEmpty: o.allowEmpty, progress }));
      o.json ? json(r) : print(text.renderCommit(r));
    });

  program
    .command('log')
    .description('list commits, newest first')
    .argument('[rev]', 'start from this revision', undefined)
    .option('-n, --max-count <n>', 'show at most n commits', (v) => positiveInt(v, '--max-count'))
    .option('--all', 'commits of every branch and tag')
    .option('--oneline', 'one line per commit')
    .option('--git', 'show the git commits that pinned each lode commit')
    .addHelpText('after', '\n\nExamples:\n  lode log --oneline\n  lode log -n 5 v1\n  lode log --git              # which code commits pinned each data version\n  lode log --all --json')
    .option('--json', 'print the result as JSON')
    .action(async (rev: string | undefined, o: { maxCount?: number; all?: boolean; oneline?: boolean; git?: boolean; json?: boolean }) => {
      const { log } = await import('../commands/log.js');
      const r = await log(open(), { rev, all: o.all, limit: o.maxCount, git: o.git });
      o.json ? json(r) : print(text.renderLog(r, style, !!o.oneline));
    });

  program
    .command('diff')
    .description('what changed between two versions: files, per-directory balance, and table files row by row')
    .argument('[from]', 'old side (default HEAD)')
    .argument('[to]', 'new side (default :workspace)')
    .argument('[paths...]', 'after --: restrict to these paths')
    .option('--staged', 'compare HEAD with the index (what commit would record)')
    .option('--stat', 'add a per-directory table with file counts and sizes on both sides')
    .option('--key <column>', 'key column matching rows of table files (repeat for a compound key)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--rows', 'list changed rows of table files')
    .option('--limit <n>', 'list at most n rows per table file (default 20)', (v) => positiveInt(v, '--limit'))
    .option('--no-tables', 'skip the row-level diff of table files (CSV, TSV, JSON Lines, Parquet)')
    .option('--report <file>', 'also write a self-contained HTML report (summary, per-directory balance, table changes with charts)')
    .option('--json', 'print the result as JSON (shape in docs/cli.md)')
    .option('--exit-code', 'exit with 1 when there are differences')
    .addHelpText('after', '\nExamples:\n  lode diff                    # HEAD vs the files on disk\n  lode diff v1 v2 --stat\n  lode diff HEAD~3 HEAD -- data/labels.csv\n  lode diff main :index        # staged changes against main\n  lode diff v1 v2 --key id --rows            # row-level changes of table files, matched by id\n  lode diff v1 v2 --report diff.html         # the same as a page with charts')
    .action(async (from: string | undefined, to: string | undefined, rest: string[], o: { staged?: boolean; stat?: boolean; json?: boolean; exitCode?: boolean; key?: string[]; rows?: boolean; limit?: number; tables?: boolean; report?: string }) => {
      const { diff } = await import('../commands/diff.js');
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
          stat: o.stat || o.report !== undefined,
          tables: o.tables,
          key: o.key,
          rows: o.rows || o.limit !== undefined,
          limit: o.limit,
          progress,
        }),
      );
      if (o.report !== undefined) {
        const { renderHtmlReport } = await import('../ui/report-html.js');
        const { writeFileAtomic } = await import('../storage/atomic.js');
        const file = resolve(globals().cwd, o.report);
        writeFileAtomic(file, renderHtmlReport(r));
        if (!o.json) io.err(`Report written to ${file}`);
      }
      o.json ? json(r) : print(text.renderDiff(r, style));
      if (o.exitCode && r.changes.length > 0) exitCode = EXIT.DIFFERENT;
    });

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
      const { checkoutFetching } = await import('../commands/checkout.js');
      const [revs, paths] = splitDashDash(argv, [rev, ...rest].filter((x): x is string => x !== undefined));
      if (revs.length > 1) throw new LodeError('USAGE', `checkout takes one revision, got: ${revs.join(' ')}`, { hint: 'put paths after --, e.g. `lode checkout v1 -- data/`' });
      const repo = open();
      if (revs.length === 0 && paths.length === 0 && !o.branch) {
        const { restorePinned } = await import('../commands/git.js');
        if (o.hook) {
          const r = await restorePinned(repo, { force: false, onlyPinned: true });
          if (r && (r.written + r.removed > 0 || r.moved)) io.err(`lode: restored the data lode.lock pins (${short(r.commit)}): ${r.written} written, ${r.removed} removed`);
          return;
        }
        const r = (await withProgress((progress) => restorePinned(repo, { force: o.force, progress })))!;
        o.json ? json(r) : print(text.renderCheckout(r));
        return;
      }
      const r = await withProgress((progress) => checkoutFetching(repo, { rev: revs[0], paths, cwd: globals().cwd, force: o.force, createBranch: o.branch, progress }));
      o.json ? json(r) : print(text.renderCheckout(r));
    });

  program
    .command('merge')
    .description('three-way merge of another revision into HEAD; conflicts are listed by path')
    .argument('[rev]', 'what to merge (lode or git revision); omit to conclude a merge in progress with --ours/--theirs')
    .option('--ours', 'resolve every conflict with our version')
    .option('--theirs', 'resolve every conflict with their version')
    .option('--abort', 'give up a conflicted merge: back to HEAD')
    .option('--no-ff', 'make a merge commit even when a fast-forward would do')
    .option('-m, --message <text>', 'message of the merge commit')
    .option('-f, --force', 'overwrite uncommitted changes in the way')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  lode merge feature              # merge lode branch feature\n  lode merge git:main             # merge what git branch main pins\n  lode merge --theirs             # conclude a conflicted merge taking their files\n  lode merge --abort')
    .action(async (rev: string | undefined, o: { ours?: boolean; theirs?: boolean; abort?: boolean; ff?: boolean; message?: string; force?: boolean; json?: boolean }) => {
      if (o.ours && o.theirs) throw new LodeError('USAGE', '--ours and --theirs exclude each other');
      const { merge } = await import('../commands/merge.js');
      const repo = open();
      const r = await withProgress((progress) =>
        merge(repo, { rev, favor: o.ours ? 'ours' : o.theirs ? 'theirs' : undefined, abort: o.abort, noFastForward: o.ff === false, message: o.message, force: o.force, progress }),
      );
      o.json ? json(r) : print(text.renderMerge(r, style));
      if (r.outcome === 'conflicts') exitCode = EXIT.CONFLICT;
    });

  program
    .command('install-hooks')
    .description('install git hooks (restore data on checkout and merge, push data before code) and the lode.lock merge driver')
    .option('-f, --force', 'replace existing hooks that lode did not write')
    .option('--json', 'print the result as JSON')
    .action(async (o: { force?: boolean; json?: boolean }) => {
      const { installHooks } = await import('../commands/git.js');
      const r = await installHooks(open(), { force: o.force, lodeCommand: lodeCommand() });
      o.json ? json(r) : print(text.renderInstallHooks(r));
    });

  program
    .command('merge-driver', { hidden: true })
    .description("git's merge driver for lode.lock (registered by install-hooks)")
    .argument('<base>')
    .argument('<ours>')
    .argument('<theirs>')
    .argument('[path]', 'the pin file path in git (locates the workspace)')
    .action(async (base: string, ours: string, theirs: string, pinPath: string | undefined) => {
      const { mergeDriver, writeConflictMarkers } = await import('../commands/git.js');
      const cwd = globals().cwd;
      const abs = (f: string) => nodePath.resolve(cwd, f);
      const files = { base: abs(base), ours: abs(ours), theirs: abs(theirs) };
      let repo: Repository;
      try {
        repo = Repository.open(pinPath ? nodePath.dirname(nodePath.resolve(cwd, pinPath)) : cwd);
      } catch (e) {
        writeConflictMarkers(files);
        throw e;
      }
      const r = await mergeDriver(repo, files);
      if (r.outcome === 'merged') io.err(`lode: merged the pinned data into lode commit ${short(r.commit)}`);
      if (r.outcome === 'conflicts') {
        io.err(`lode: the pinned datasets conflict at ${r.conflicts.length} path(s): ${r.conflicts.slice(0, 10).join(', ')}`);
        io.err('lode: run `lode merge git:MERGE_HEAD` to merge the data, resolve, `lode commit`, then `git add lode.lock`');
        exitCode = EXIT.DIFFERENT;
      }
    });

  program
    .command('branch')
    .description('list, create, delete or switch branches')
    .argument('[name]', 'branch to create (or delete / switch to)')
    .argument('[start]', 'where a new branch starts (default HEAD)')
    .option('-d, --delete', 'delete the branch (refused if its commits would be lost)')
    .option('-D', 'delete the branch even if its commits are reachable from nothing else')
    .option('-s, --switch', 'switch to the branch (same as `lode checkout NAME`)')
    .addHelpText('after', '\n\nExamples:\n  lode branch                     # list\n  lode branch relabel             # create at HEAD\n  lode branch fix v1              # create at tag v1\n  lode branch -s relabel          # switch\n  lode branch -d relabel          # delete (refused if commits would be lost)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string | undefined, start: string | undefined, o: { delete?: boolean; D?: boolean; switch?: boolean; json?: boolean }) => {
      const refsCmd = await import('../commands/refs.js');
      const repo = open();
      if (!name) {
        if (o.delete || o.D || o.switch) throw new LodeError('USAGE', 'which branch?', { hint: 'give the branch name' });
        const r = await refsCmd.listBranches(repo);
        return o.json ? json(r) : print(text.renderBranches(r, style));
      }
      if (o.delete || o.D) {
        const r = await refsCmd.deleteBranch(repo, { name, force: o.D });
        return o.json ? json(r) : print([`Deleted branch ${r.name} (was ${r.commit.slice(0, 12)})`]);
      }
      if (o.switch) {
        const { checkout } = await import('../commands/checkout.js');
        const r = await withProgress((progress) => checkout(repo, { rev: name, progress }));
        return o.json ? json(r) : print(text.renderCheckout(r));
      }
      const r = await refsCmd.createBranch(repo, { name, start });
      o.json ? json(r) : print([`Created branch ${r.name} at ${r.commit.slice(0, 12)}`]);
    });

  program
    .command('tag')
    .description('list, create or delete tags (fixed names for commits)')
    .argument('[name]', 'tag to create or delete')
    .argument('[rev]', 'commit to tag (default HEAD)')
    .option('-d, --delete', 'delete the tag')
    .option('-f, --force', 'move an existing tag')
    .addHelpText('after', '\n\nExamples:\n  lode tag                        # list\n  lode tag v1                     # tag HEAD\n  lode tag v0 HEAD~3\n  lode tag -d v0')
    .option('--json', 'print the result as JSON')
    .action(async (name: string | undefined, rev: string | undefined, o: { delete?: boolean; force?: boolean; json?: boolean }) => {
      const refsCmd = await import('../commands/refs.js');
      const repo = open();
      if (!name) {
        const r = await refsCmd.listTags(repo);
        return o.json ? json(r) : print(r.tags.map((t) => `${t.name} ${t.commit.slice(0, 12)}`));
      }
      if (o.delete) {
        const r = await refsCmd.deleteTag(repo, { name });
        return o.json ? json(r) : print([`Deleted tag ${r.name} (was ${r.commit.slice(0, 12)})`]);
      }
      const r = await refsCmd.createTag(repo, { name, rev, force: o.force });
      o.json ? json(r) : print([`Tagged ${r.commit.slice(0, 12)} as ${r.name}`]);
    });

  program
    .command('gc')
    .description('delete cached data that no branch, tag, HEAD, the index or a git-pinned lode.lock reaches')
    .option('-n, --dry-run', 'only report what would be removed')
    .option('-r, --remote [name]', 'collect on a remote instead: mark unreachable packs, delete those marked before the grace period')
    .option('--grace-hours <n>', 'with --remote: how long marked packs survive (default 6; a push must finish within it)', (v) => positiveInt(v, '--grace-hours'))
    .addHelpText('after', '\n\nExamples:\n  lode gc --dry-run\n  lode branch -D experiment && lode gc')
    .option('--json', 'print the result as JSON')
    .action(async (o: { dryRun?: boolean; json?: boolean; remote?: string | boolean; graceHours?: number }) => {
      if (o.remote !== undefined) {
        const { remoteGc } = await import('../commands/sync.js');
        const repo = open();
        const r = await withProgress((progress) =>
          remoteGc(repo, { remote: typeof o.remote === 'string' ? o.remote : undefined, dryRun: o.dryRun, graceMs: o.graceHours === undefined ? undefined : o.graceHours * 3600_000, progress }),
        );
        return o.json ? json(r) : print(text.renderRemoteGc(r));
      }
      const { gc } = await import('../commands/maintenance.js');
      const repo = open();
      const r = await withProgress((progress) => gc(repo, { dryRun: o.dryRun, progress }));
      o.json ? json(r) : print(text.renderGc(r));
    });

  program
    .command('fsck')
    .description('verify every object and cached file against its ID, and every ref')
    .addHelpText('after', '\n\nExamples:\n  lode fsck || echo "damaged: see the list above"\n  lode fsck --remote origin --read-data-subset 1/10')
    .option('-r, --remote [name]', 'verify a remote instead: refs reach only present objects, every index matches its pack')
    .option('--read-data', 'with --remote: also read every object and check it against its ID')
    .option('--read-data-subset <n/m>', 'with --remote: read only packs in subset n of m (chosen by pack ID)')
    .option('--json', 'print the result as JSON')
    .action(async (o: { json?: boolean; remote?: string | boolean; readData?: boolean; readDataSubset?: string }) => {
      if (o.remote !== undefined) {
        const { remoteFsck } = await import('../commands/remote-fsck.js');
        const repo = open();
        const r = await withProgress((progress) => remoteFsck(repo, { remote: typeof o.remote === 'string' ? o.remote : undefined, readData: o.readData, readDataSubset: o.readDataSubset, progress }));
        o.json ? json(r) : print(text.renderRemoteFsck(r, style));
        if (!r.ok) exitCode = EXIT.CORRUPT;
        return;
      }
      if (o.readData || o.readDataSubset) throw new LodeError('USAGE', '--read-data and --read-data-subset need --remote', { hint: 'plain `lode fsck` always reads everything' });
      const { fsck } = await import('../commands/maintenance.js');
      const repo = open();
      const r = await withProgress((progress) => fsck(repo, { progress }));
      o.json ? json(r) : print(text.renderFsck(r, style));
      if (!r.ok) exitCode = EXIT.CORRUPT;
    });

  program
    .command('config')
    .description('get, set or list settings (.lode/config; --local for .lode/config.local)')
    .argument('[key]', 'dotted key, e.g. cache.type')
    .argument('[value]', 'new value (lists are comma-separated)')
    .option('--unset', 'remove the key')
    .option('-l, --list', 'list every setting')
    .option('--local', 'use .lode/config.local (never tracked; for credentials)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nKeys: chunking.min, chunking.avg, chunking.max, cache.type, user.name, user.email\nExamples:\n  lode config cache.type reflink,hardlink,copy\n  lode config user.name "Ada Lovelace"')
    .action(async (key: string | undefined, value: string | undefined, o: { unset?: boolean; list?: boolean; local?: boolean; json?: boolean }) => {
      const { config } = await import('../commands/config.js');
      const r = await config(open(), { key, value, unset: o.unset, list: o.list, local: o.local });
      o.json ? json(r) : print(text.renderConfig(r));
    });

  program
    .command('push')
    .description('send a branch (data included) to a remote; only what it lacks travels')
    .argument('[remote]', 'remote name (default: the default remote)')
    .argument('[branch]', 'branch (default: the current one)')
    .option('--tags', 'also push every tag')
    .option('-f, --force', 'overwrite the remote branch even if that drops commits')
    .option('--json', 'print the result as JSON')
    .addOption(new Option('--hook', 'run by the pre-push hook: push the current branch when a default remote is set').hideHelp())
    .addOption(new Option('--hook-branches <names>', 'with --hook: the git branches being pushed (space-separated)').hideHelp())
    .addOption(new Option('--hook-commits <shas>', 'with --hook: the git commits being pushed (space-separated); their pins must be on the remote').hideHelp())
    .addHelpText('after', '\nExamples:\n  lode push\n  lode push backup main\n  lode push --tags')
    .action(async (remoteName: string | undefined, branch: string | undefined, o: { tags?: boolean; force?: boolean; json?: boolean; hook?: boolean; hookBranches?: string; hookCommits?: string }) => {
      const { push } = await import('../commands/sync.js');
      const repo = open();
      if (o.hook) {
        // From the pre-push hook: push the lode branches named like the git branches being pushed
        // (the current one when git named none); quietly nothing without a default remote.
        if (!repo.config.defaultRemote()) return;
        const head = repo.refs.head();
        const named = (o.hookBranches ?? '').split(/\s+/).filter(Boolean);
        const wanted = named.length > 0 ? named : head.kind === 'branch' ? [head.name] : [];
        for (const b of wanted.filter((x) => { try { return !!repo.refs.get('heads', x); } catch { return false; } })) {
          const r = await push(repo, { branch: b });
          for (const p of r.pushed) if (!p.upToDate) io.err(`lode: pushed ${p.ref} to ${r.remote} (${p.objects} objects)`);
        }
        // The code being pushed must not pin data the remote lacks (a commit made on a detached lode HEAD, say).
        const { unpushedPins } = await import('../commands/git.js');
        const missing = await unpushedPins(repo, (o.hookCommits ?? '').split(/\s+/).filter((x) => /^[0-9a-f]{40,64}$/.test(x)));
        if (missing.length > 0) {
          const m = missing[0];
          throw new LodeError('REMOTE', `git commit ${m.git.slice(0, 10)} pins lode commit ${m.commit.slice(0, 12)}, which remote ${repo.config.defaultRemote()} does not have${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`, {
            hint: `put it on a branch and push it: \`lode branch NAME ${m.commit.slice(0, 12)}\` then \`lode push ${repo.config.defaultRemote()} NAME\``,
          });
        }
        return;
      }
      const r = await withProgress((progress) => push(repo, { remote: remoteName, branch, tags: o.tags, force: o.force, progress }));
      o.json ? json(r) : print(text.renderPush(r));
    });

  program
    .command('fetch')
    .description('download every branch and tag of a remote, data included; the workspace is not touched')
    .argument('[remote]', 'remote name (default: the default remote)')
    .option('--json', 'print the result as JSON')
    .action(async (remoteName: string | undefined, o: { json?: boolean }) => {
      const { fetch } = await import('../commands/sync.js');
      const repo = open();
      const r = await withProgress((progress) => fetch(repo, { remote: remoteName, progress }));
      o.json ? json(r) : print(text.renderFetch(r));
    });

  program
    .command('pull')
    .description('fetch the current branch and fast-forward the workspace to it (or only some paths)')
    .argument('[remote]', 'remote name (default: the default remote)')
    .argument('[paths...]', 'after --: only these paths (HEAD does not move)')
    .option('-f, --force', 'overwrite uncommitted changes in the way')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  lode pull\n  lode pull -- data/images/cats      # just that folder')
    .action(async (remoteArg: string | undefined, rest: string[], o: { force?: boolean; json?: boolean }) => {
      const { pull } = await import('../commands/sync.js');
      const [names, paths] = splitDashDash(argv, [remoteArg, ...rest].filter((x): x is string => x !== undefined));
      if (names.length > 1) throw new LodeError('USAGE', `pull takes one remote, got: ${names.join(' ')}`, { hint: 'put paths after --' });
      const repo = open();
      const r = await withProgress((progress) => pull(repo, { remote: names[0], paths, cwd: globals().cwd, force: o.force, progress }));
      o.json ? json(r) : print(text.renderPull(r));
    });

  program
    .command('clone')
    .description('make a new workspace from a remote (a directory or s3://bucket/prefix)')
    .argument('<url>')
    .argument('[dir]', 'directory to create (default: the last part of the URL)')
    .option('-b, --branch <name>', 'branch to check out (default main)')
    .option('-o, --origin <name>', 'name of the remote (default origin)')
    .option('--endpoint <url>', 'S3-compatible endpoint (or set AWS_ENDPOINT_URL_S3)')
    .option('--region <name>', 'S3 region')
    .option('--profile <name>', 'AWS profile for credentials')
    .option('--path-style', 'path-style bucket addressing')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  lode clone /mnt/share/lode/cats\n  lode clone s3://team-data/cats cats')
    .action(async (url: string, dir: string | undefined, o: { branch?: string; origin?: string; endpoint?: string; region?: string; profile?: string; pathStyle?: boolean; json?: boolean }) => {
      const { clone } = await import('../commands/sync.js');
      const r = await withProgress((progress) =>
        clone({ url, dir, cwd: globals().cwd, branch: o.branch, remote: o.origin, endpoint: o.endpoint, region: o.region, profile: o.profile, pathStyle: o.pathStyle, progress }),
      );
      o.json ? json(r) : print(text.renderClone(r));
    });

  const remote = program
    .command('remote')
    .description('configure remotes: S3 buckets (s3://bucket/prefix) or directories')
    .addHelpText(
      'after',
      `
Credentials go to .lode/config.local (never tracked, never printed), or come from
the usual AWS chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws.

Examples:
  lode remote add backup /mnt/share/lode
  lode remote add origin s3://team-data/projects/cats --region eu-west-1
  lode remote add minio s3://lode --endpoint http://127.0.0.1:9000 --path-style
  lode remote list
  lode remote default origin`,
    );
  const remoteOptions = (c: Command) =>
    c
      .option('--endpoint <url>', 'S3-compatible endpoint (MinIO, Ceph, R2, ...)')
      .option('--region <name>', 'S3 region')
      .option('--profile <name>', 'AWS profile for credentials')
      .option('--path-style', 'path-style bucket addressing (most S3-compatible stores)')
      .option('--checksum-mode <mode>', 'when-required (default, safe for S3-compatible stores) or when-supported')
      .option('--access-key-id <id>', 'stored in .lode/config.local only')
      .option('--secret-access-key <key>', 'stored in .lode/config.local only')
      .option('--default', 'make it the default remote')
      .option('--json', 'print the result as JSON');
  type RemoteFlags = { endpoint?: string; region?: string; profile?: string; pathStyle?: boolean; checksumMode?: string; accessKeyId?: string; secretAccessKey?: string; default?: boolean; json?: boolean };
  const describeRemote = (r: { name: string; url: string; endpoint?: string; region?: string; hasCredentials: boolean }, isDefault: boolean) =>
    `${isDefault ? '*' : ' '} ${r.name}  ${r.url}${r.endpoint ? `  (endpoint ${r.endpoint})` : ''}${r.region ? `  (region ${r.region})` : ''}${r.hasCredentials ? '  (credentials in .lode/config.local)' : ''}`;
  remoteOptions(remote.command('add').description('add a remote').argument('<name>').argument('<url>', 's3://bucket/prefix or a directory')).action(
    async (name: string, url: string, o: RemoteFlags) => {
      const { addRemote } = await import('../commands/remote.js');
      const r = await addRemote(open(), { name, url, cwd: globals().cwd, ...o, makeDefault: o.default });
      o.json ? json(r) : print([`Added remote ${r.name} → ${r.url}`]);
    },
  );
  remoteOptions(remote.command('modify').description('change settings of a remote').argument('<name>').option('--url <url>', 'new URL')).action(
    async (name: string, o: RemoteFlags & { url?: string }) => {
      const { modifyRemote } = await import('../commands/remote.js');
      const r = await modifyRemote(open(), { name, cwd: globals().cwd, ...o, makeDefault: o.default });
      o.json ? json(r) : print([`Updated remote ${r.name}`]);
    },
  );
  remote
    .command('list', { isDefault: true })
    .description('list remotes (the default marked *)')
    .option('--json', 'print the result as JSON')
    .action(async (o: { json?: boolean }) => {
      const { listRemotes } = await import('../commands/remote.js');
      const r = await listRemotes(open());
      if (o.json) return json(r);
      print(r.remotes.length ? r.remotes.map((x) => describeRemote(x, x.name === r.default)) : ['No remotes: add one with `lode remote add NAME URL`']);
    });
  remote
    .command('remove')
    .description('forget a remote (its data stays where it is)')
    .argument('<name>')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const { removeRemote } = await import('../commands/remote.js');
      const r = await removeRemote(open(), { name });
      o.json ? json(r) : print([`Removed remote ${r.name}`]);
    });
  remote
    .command('rename')
    .description('rename a remote')
    .argument('<old>')
    .argument('<new>')
    .option('--json', 'print the result as JSON')
    .action(async (from: string, to: string, o: { json?: boolean }) => {
      const { renameRemote } = await import('../commands/remote.js');
      const r = await renameRemote(open(), { from, to });
      o.json ? json(r) : print([`Renamed remote ${from} to ${r.name}`]);
    });
  remote
    .command('default')
    .description('show or set the default remote')
    .argument('[name]')
    .option('--json', 'print the result as JSON')
    .action(async (name: string | undefined, o: { json?: boolean }) => {
      const cmds = await import('../commands/remote.js');
      const r = name ? await cmds.setDefaultRemote(open(), { name }) : await cmds.listRemotes(open());
      o.json ? json(r) : print([r.default ? `Default remote: ${r.default}` : 'No default remote']);
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (e) {
    return report(e, io, style);
  }
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new LodeError('USAGE', `${flag} takes a whole number, not ${JSON.stringify(v)}`);
  return n;
}

const short = (id: string | null | undefined) => (id ? id.slice(0, 12) : '(none)');

/**
 * lodeCommand is how hooks and the merge driver should start this very lode:
 * the node binary and script path when they are known, else `lode` on PATH.
 */
function lodeCommand(): string {
  const script = process.argv[1];
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  if (script && nodeFs.existsSync(script)) return `${q(process.execPath)} ${q(nodeFs.realpathSync(script))}`;
  return 'lode';
}

/** splitDashDash separates revisions from the paths given after `--`. */
function splitDashDash(raw: string[], operands: string[]): [string[], string[]] {
  const dd = raw.indexOf('--');
  if (dd < 0) return [operands, []];
  const after = raw.slice(dd + 1);
  const before = operands.slice(0, operands.length - after.length);
  return [before, after];
}

const IO_HINTS: Record<string, string> = {
  EACCES: 'check the permissions of that path',
  EPERM: 'check the permissions of that path',
  ENOSPC: 'free some disk space (`lode gc` drops unreachable cache data), then run the command again',
  EROFS: 'the file system is read-only',
  EMFILE: 'too many open files: raise the limit (ulimit -n) and run the command again',
};

/** report prints an error as `error:` + `hint:` lines and picks the exit code. */
function report(e: unknown, io: Output, st: Style): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
    return EXIT.USAGE;
  }
  if (e instanceof LodeError) {
    io.err(`${st.red('error:')} ${e.message}`);
    if (e.hint) io.err(`${st.dim('hint:')}  ${e.hint}`);
    return exitCodeFor(e.code);
  }
  const errno = (e as NodeJS.ErrnoException)?.code;
  if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) {
    io.err(`${st.red('error:')} ${(e as Error).message}`);
    if (IO_HINTS[errno]) io.err(`${st.dim('hint:')}  ${IO_HINTS[errno]}`);
    return EXIT.IO;
  }
  io.err(`${st.red('error:')} internal error: ${(e as Error)?.stack ?? String(e)}`);
  io.err(`${st.dim('hint:')}  this is a bug in lode; please report it with the command you ran`);
  return EXIT.INTERNAL;
}

