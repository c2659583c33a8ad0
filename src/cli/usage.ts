/**
 * The `hint:` line of a command-line mistake commander caught (an unknown
 * option or command, a missing required option, too many arguments): which
 * `--help` to read, and for a command lode does not have, the lode command a
 * git or DVC habit is looking for. A suggestion is made only when it is
 * right: a near-identical spelling (a typo) or a known habit, never the
 * nearest-sounding command (`restore` is not `remote`).
 */
import type { Command, CommanderError } from 'commander';

/**
 * HABITS maps commands of git and DVC that lode has no command of that name
 * for to what a lode user types instead. Every hint names commands and flags
 * that exist (checked by e2e/papercuts.test.ts).
 */
const HABITS: Record<string, string> = {
  restore: 'to bring files back, use `lode checkout REV -- PATH` (from what is staged: `lode checkout -- PATH`)',
  switch: 'to switch branches, use `lode checkout BRANCH` (a new one: `lode checkout -b NAME`)',
  stash: 'lode has no stash: commit the work on a branch of its own (`lode checkout -b NAME`, then `lode commit -a -m ...`)',
  reset: 'to discard uncommitted changes, use `lode checkout -f HEAD` (one path: `lode checkout -f HEAD -- PATH`)',
  revert: 'to undo a change, bring the old version back with `lode checkout REV -- PATH`, then `lode commit`',
  mv: 'move the files on disk, then `lode add OLD NEW` stages the move',
  move: 'move the files on disk, then `lode add OLD NEW` stages the move',
  remove: 'to stop tracking files, use `lode rm`',
  delete: 'to stop tracking files, use `lode rm` (a branch: `lode branch -d NAME`)',
  track: 'to track files, use `lode add`',
  untrack: 'to stop tracking files but keep them on disk, use `lode rm --cached`',
  unstage: 'lode has no unstage: `lode status` shows what is staged, `lode checkout HEAD -- PATH` puts a path back as HEAD has it',
  history: 'to see the history, use `lode log`',
  branches: 'to list branches, use `lode branch`',
  tags: 'to list tags, use `lode tag`',
  remotes: 'to list remotes, use `lode remote list`',
  rebase: 'lode has no rebase: `lode merge REV` joins two histories',
  sync: 'use `lode push` to send commits and `lode pull` to receive them',
  upload: 'to send commits to a remote, use `lode push`',
  download: 'to receive commits from a remote, use `lode fetch` or `lode pull`',
  verify: 'to verify data, use `lode fsck` (a remote: `lode fsck --remote`)',
  check: 'to verify data, use `lode fsck` (a remote: `lode fsck --remote`)',
  prune: 'to free space, use `lode gc` (a remote: `lode gc --remote`)',
  setup: 'to start a repository, use `lode init`; to link lode to git, `lode install-hooks`',
};

/** commandPath is the command a user ran (`commit`, `remote add`), or '' for lode itself. */
export function commandPath(program: Command, args: string[]): string {
  const path: string[] = [];
  let cmd = program;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') break;
    // Global options that take a value in the next argument.
    if (path.length === 0 && (a === '-C' || a === '--dir' || (a === '--wait' && /^\d+$/.test(args[i + 1] ?? '')))) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    path.push(sub.name());
    cmd = sub;
  }
  return path.join(' ');
}

/**
 * usageHint is the hint for commander's error `e`; `args` are the arguments
 * after the program name. Help and version requests get none.
 */
export function usageHint(e: CommanderError, program: Command, args: string[]): string | undefined {
  if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return undefined;
  const where = commandPath(program, args);
  const help = `\`lode ${where ? `${where} ` : ''}--help\``;
  if (e.code === 'commander.unknownCommand') {
    const name = /unknown command '([^']*)'/.exec(e.message)?.[1] ?? '';
    let parent: Command = program;
    for (const p of where ? where.split(' ') : []) parent = parent.commands.find((c) => c.name() === p) ?? parent;
    const names = parent.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden).map((c) => c.name());
    const habit = where === '' ? HABITS[name.toLowerCase()] : undefined;
    if (habit) return habit;
    const typo = closest(name, names);
    if (typo) return `did you mean \`lode ${where ? `${where} ` : ''}${typo}\`? (${help} lists the commands)`;
    return `run ${help} for the list of commands`;
  }
  return `run ${help} for its options and examples`;
}

/**
 * closest is the one name a typo of `word` would be: at most one edit away
 * (two for long words), counting a swap of neighbours as one edit; nothing
 * when no name, or several, are that close.
 */
export function closest(word: string, names: string[]): string | undefined {
  const w = word.toLowerCase();
  const limit = w.length >= 8 ? 2 : 1;
  if (w.length < 3) return undefined;
  const hits = names.filter((n) => editDistance(w, n) <= limit);
  return hits.length === 1 ? hits[0] : undefined;
}

/** editDistance is the optimal-string-alignment distance (insert, delete, substitute, swap neighbours). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
