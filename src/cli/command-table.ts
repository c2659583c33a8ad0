/**
 * COMMAND_TABLE: every top-level lode command as `lode --help` lists it, in
 * that order, with the module that registers it. A run imports only the
 * module of the command it runs (program.ts); help listings, unknown-command
 * hints and suggestions use the names, terms and summaries here, so they
 * cost no command module. test/cli-command-table.test.ts checks that the
 * table says what the modules themselves register.
 */
import type { Command } from 'commander';
import type { Cli } from './context.js';

/** CommandModule is a cli/commands/*.ts module: it adds its command(s) to the program. */
export interface CommandModule {
  register(program: Command, cli: Cli): void;
}

export interface CommandEntry {
  name: string;
  /** term is the left column of the help listing (name, `[options]`, arguments), as commander prints it. */
  term: string;
  /** summary is the one-line description of the help listing. */
  summary: string;
  hidden?: boolean;
  /** load imports the module that registers this command (one module may register several). */
  load: () => Promise<CommandModule>;
}

export const COMMAND_TABLE: readonly CommandEntry[] = [
  { name: 'init', term: 'init [options] [dir]', summary: 'create a lode workspace in the current directory (or DIR)', load: () => import('./commands/init.js') },
  { name: 'add', term: 'add [options] <paths...>', summary: 'stage files or directories: hash, store in the cache, track as datasets', load: () => import('./commands/add.js') },
  { name: 'rm', term: 'rm [options] <paths...>', summary: 'stop tracking files (and delete them unless --cached)', load: () => import('./commands/rm.js') },
  { name: 'status', term: 'status [options]', summary: 'show staged, unstaged and new files in the tracked datasets', load: () => import('./commands/status.js') },
  { name: 'commit', term: 'commit [options]', summary: 'record the staged datasets as a new commit', load: () => import('./commands/commit.js') },
  { name: 'run', term: 'run [options] [command...]', summary: 'run a preparation step and commit its outputs with a record of how they were made', load: () => import('./commands/run.js') },
  { name: 'rerun', term: 'rerun [options] <rev>', summary: 'run the step recorded in a commit again, at the current code, and say whether its outputs are byte-identical', load: () => import('./commands/run.js') },
  { name: 'check', term: 'check [options] [rev]', summary: 'evaluate the data contract (lode.checks.toml) on a version', load: () => import('./commands/check.js') },
  { name: 'log', term: 'log [options] [rev] [paths...]', summary: 'list commits, newest first', load: () => import('./commands/log.js') },
  { name: 'show', term: 'show [options] [rev]', summary: 'one commit: its header and message, and what it changed against its first parent', load: () => import('./commands/show.js') },
  { name: 'lineage', term: 'lineage [options] [spec]', summary: 'how a version (or a path in it) was made: steps, inputs, code commits, external sources', load: () => import('./commands/lineage.js') },
  { name: 'datasheet', term: 'datasheet [options] [rev]', summary: 'the datasheet of a version: composition, provenance, changes, contract results and declared fields (datasheet.toml)', load: () => import('./commands/datasheet.js') },
  { name: 'diff', term: 'diff [options] [from] [to] [paths...]', summary: 'what changed between two versions: files, per-directory balance, and table files row by row', load: () => import('./commands/diff.js') },
  { name: 'ls', term: 'ls [options] [rev:path] [path]', summary: 'list a directory of any version (default HEAD, the top of the datasets) without a checkout; or of a remote, with no workspace (`lode ls URL [PATH]`)', load: () => import('./commands/ls.js') },
  { name: 'cat', term: 'cat [options] <rev:path>', summary: 'write a file of any version to stdout (verified; fetched from the default remote when the cache lacks it)', load: () => import('./commands/cat.js') },
  { name: 'get', term: 'get [options] <url> <path>', summary: 'copy a file or directory of a version on a remote to here, with no workspace: only its objects are read, every byte verified', load: () => import('./commands/get.js') },
  { name: 'checkout', term: 'checkout [options] [rev] [paths...]', summary: 'make the workspace match a revision, or restore paths from it; with no revision inside git, restore what lode.lock pins', load: () => import('./commands/checkout.js') },
  { name: 'merge', term: 'merge [options] [rev]', summary: 'three-way merge of another revision into HEAD; conflicts are listed by path', load: () => import('./commands/merge.js') },
  { name: 'install-hooks', term: 'install-hooks [options]', summary: 'install git hooks (restore data on checkout and merge, push data before code) and the lode.lock merge driver', load: () => import('./commands/install-hooks.js') },
  { name: 'merge-driver', term: 'merge-driver <base> <ours> <theirs> [path]', summary: "git's merge driver for lode.lock (registered by install-hooks)", hidden: true, load: () => import('./commands/merge-driver.js') },
  { name: 'branch', term: 'branch [options] [name] [start]', summary: 'list, create, delete or switch branches', load: () => import('./commands/branch.js') },
  { name: 'tag', term: 'tag [options] [name] [rev]', summary: 'list, create or delete tags (fixed names for commits)', load: () => import('./commands/tag.js') },
  { name: 'gc', term: 'gc [options]', summary: 'delete cached data that no branch, tag, HEAD, the index or a git-pinned lode.lock reaches', load: () => import('./commands/gc.js') },
  { name: 'forget', term: 'forget [options] [paths...]', summary: 'erase files, or rows of tables, from every version: history is rewritten and the erased content deleted', load: () => import('./commands/forget.js') },
  { name: 'fsck', term: 'fsck [options]', summary: 'verify every object and cached file against its ID, and every ref', load: () => import('./commands/fsck.js') },
  { name: 'unlock', term: 'unlock [options]', summary: 'remove the repository lock after showing its owner (a lock from another host, or a damaged one)', load: () => import('./commands/unlock.js') },
  { name: 'config', term: 'config [options] [key] [value]', summary: 'get, set or list settings (.lode/config; --local for .lode/config.local)', load: () => import('./commands/config.js') },
  { name: 'push', term: 'push [options] [remote] [branch]', summary: 'send a branch (data included) to a remote; only what it lacks travels', load: () => import('./commands/push.js') },
  { name: 'fetch', term: 'fetch [options] [remote] [revs...]', summary: 'download the history (commits, trees, chunk lists) of every branch and tag of a remote, and the file data of REVs (default: of the remote branch the current branch follows); the workspace is not touched', load: () => import('./commands/fetch.js') },
  { name: 'pull', term: 'pull [options] [remote] [paths...]', summary: 'fetch the current branch and fast-forward the workspace to it, or merge it when both sides have new commits (or update only some paths)', load: () => import('./commands/pull.js') },
  { name: 'clone', term: 'clone [options] <url> [dir]', summary: 'make a new workspace from a remote (a directory or s3://bucket/prefix)', load: () => import('./commands/clone.js') },
  { name: 'remote', term: 'remote', summary: 'configure remotes: S3 buckets (s3://bucket/prefix) or directories', load: () => import('./commands/remote.js') },
];
