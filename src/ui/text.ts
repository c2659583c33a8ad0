/**
 * Text renderings of command results for people. Each function returns the
 * lines to print on stdout; `--json` bypasses this module entirely and prints
 * the result object itself. Long lists are cut at LIST_LIMIT with a pointer
 * to --json, so a 100,000-file change does not flood the terminal.
 */
import type { AddResult } from '../commands/add.js';
import type { CheckoutResult } from '../commands/checkout.js';
import type { CommitResult } from '../commands/commit.js';
import type { ConfigResult } from '../commands/config.js';
import type { DiffResult } from '../commands/diff.js';
import type { LogResult } from '../commands/log.js';
import type { LsResult } from '../commands/ls.js';
import type { GetRemoteResult } from '../commands/remote-read.js';
import type { ShowResult } from '../commands/show.js';
import type { FsckResult, GcResult, UnlockResult } from '../commands/maintenance.js';
import type { BranchListResult, RemoteBranchListResult } from '../commands/refs.js';
import type { RmResult } from '../commands/rm.js';
import type { StatusResult } from '../commands/status.js';
import type { InitResult } from '../commands/init.js';
import type { CloneResult, FetchCommandResult, PullResult, PushCommandResult, RemoteStatusResult } from '../commands/sync.js';
import type { RemoteGcResult } from '../sync/gc.js';
import type { RemoteFsckResult } from '../commands/remote-fsck.js';
import type { Change } from '../graph/diff.js';
import type { MergeResult } from '../commands/merge.js';
import type { TableDiffEntry } from '../tabular/types.js';
import type { InstallHooksResult } from '../commands/git.js';
import { formatBytes, formatCount } from './progress-format.js';
import { foldByFolder, isFolded } from './fold.js';
import { checksBadge, provenanceLine, renderCommitChecks, renderRecord } from './governance.js';

export const LIST_LIMIT = 200;

/**
 * colorWanted says whether to colour what goes to `stream`: a terminal, not
 * TERM=dumb, and NO_COLOR unset or empty (no-color.org: any non-empty value
 * turns colour off). Every coloured output of lode asks this.
 */
export function colorWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return !!stream.isTTY && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** Style colours text when colorWanted says so (makeStyle(false) leaves text plain). */
export interface Style {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

export function makeStyle(enabled: boolean): Style {
  const wrap = (a: number, b: number) => (s: string) => (enabled ? `\x1b[${a}m${s}\x1b[${b}m` : s);
  return { green: wrap(32, 39), red: wrap(31, 39), yellow: wrap(33, 39), bold: wrap(1, 22), dim: wrap(2, 22) };
}

const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;
const short = (id: string | null | undefined) => (id ? id.slice(0, 12) : '(none)');

function capped<T>(items: T[], render: (x: T) => string, indent = '  '): string[] {
  const out = items.slice(0, LIST_LIMIT).map((x) => indent + render(x));
  if (items.length > LIST_LIMIT) out.push(`${indent}… and ${formatCount(items.length - LIST_LIMIT)} more (use --json for the full list)`);
  return out;
}

export function renderInit(r: InitResult): string[] {
  const lines = [`Initialised an empty lode workspace in ${r.root} (branch ${r.branch})`];
  if (r.gitRoot) lines.push(`Inside the git repository ${r.gitRoot}: \`lode add\` will keep tracked data out of git via .gitignore`);
  lines.push('Next: `lode add DATA_PATH` then `lode commit -m "first version"`');
  return lines;
}

export function renderAdd(r: AddResult): string[] {
  const parts = [];
  if (r.added) parts.push(`${formatCount(r.added)} added`);
  if (r.modified) parts.push(`${formatCount(r.modified)} modified`);
  if (r.removed) parts.push(`${formatCount(r.removed)} removed`);
  parts.push(`${formatCount(r.unchanged)} unchanged`);
  const lines = [`Staged: ${parts.join(', ')} (${formatBytes(r.bytesHashed)} hashed)`];
  if (r.gitignored.length) lines.push(`Added to .gitignore: ${r.gitignored.join(' ')}`);
  if (r.skipped.length) {
    lines.push(`Skipped ${plural(r.skipped.length, 'path')}:`);
    lines.push(...capped(r.skipped, (s) => `${s.path} (${s.reason})`));
  }
  if (r.resolved?.length) lines.push(`Marked resolved (merge): ${r.resolved.join(', ')}`);
  return lines;
}

export function renderRm(r: RmResult): string[] {
  const lines = [
    r.deletedFromDisk && r.notDeleted.length === 0
      ? `Removed ${plural(r.removed.length, 'file')}`
      : `Stopped tracking ${plural(r.removed.length, 'file')}${r.deletedFromDisk ? `, deleted ${formatCount(r.removed.length - r.notDeleted.length)}` : ''}`,
  ];
  if (r.notDeleted.length) {
    lines.push(`Left on disk (no longer tracked):`);
    lines.push(...capped(r.notDeleted, (n) => `${n.path} (${n.reason})`));
  }
  if (r.resolved?.length) lines.push(`Marked resolved (merge): ${r.resolved.join(', ')}`);
  return lines;
}

function changeLine(c: Change, st: Style): string {
  switch (c.status) {
    case 'added':
      return `${st.green('added:    ')} ${c.path} (${formatBytes(c.new!.size)})`;
    case 'deleted':
      return `${st.red('deleted:  ')} ${c.path}`;
    case 'modified':
      return `${st.yellow('modified: ')} ${c.path} (${formatBytes(c.old!.size)} → ${formatBytes(c.new!.size)})`;
    case 'renamed':
      return `${st.yellow('renamed:  ')} ${c.oldPath} → ${c.path}`;
  }
}

/**
 * foldUntracked lists the untracked files with each wholly untracked folder
 * as one entry, "data/new/ (37 files)", in the place of its first file.
 */
function foldUntracked(r: StatusResult): string[] {
  const folders = r.untrackedFolders ?? [];
  if (folders.length === 0) return r.untracked;
  const out: string[] = [];
  const shown = new Set<string>();
  for (const p of r.untracked) {
    const f = folders.find((x) => p.startsWith(x.folder));
    if (!f) out.push(p);
    else if (!shown.has(f.folder)) {
      shown.add(f.folder);
      out.push(`${f.folder} (${plural(f.files, 'file')})`);
    }
  }
  return out;
}

/** renderStatus: `allUntracked` lists every untracked file instead of one line per new folder. */
export function renderStatus(r: StatusResult, st: Style, options: { allUntracked?: boolean } = {}): string[] {
  const lines: string[] = [];
  lines.push(r.branch !== null ? `On branch ${st.bold(r.branch)}${r.head ? ` at ${short(r.head)}` : ' (no commits yet)'}` : `HEAD detached at ${short(r.head)}`);
  lines.push(r.datasets.length ? `Datasets: ${r.datasets.map((d) => d || '.').join(', ')}` : 'No datasets tracked yet: `lode add PATH` starts tracking one');
  if (r.staged.length) {
    lines.push('', 'Changes to be committed:');
    lines.push(...capped(r.staged, (c) => changeLine(c, st)));
  }
  if (r.unstaged.length) {
    lines.push('', 'Changes not staged (`lode add PATH` stages them, `lode checkout -f -- PATH` discards them):');
    lines.push(...capped(r.unstaged, (u) => (u.status === 'modified' ? `${st.yellow('modified: ')} ${u.path}` : `${st.red('deleted:  ')} ${u.path}`)));
  }
  if (r.untracked.length) {
    lines.push('', 'New files in datasets (`lode add PATH` tracks them):');
    lines.push(...capped(options.allUntracked ? r.untracked : foldUntracked(r), (p) => st.red(p)));
  }
  if (r.missingDatasets.length) lines.push('', `Missing dataset paths: ${r.missingDatasets.join(', ')}`);
  if (r.skipped.length) {
    lines.push('', `Not tracked (${plural(r.skipped.length, 'path')}):`);
    lines.push(...capped(r.skipped, (s) => `${s.path} (${s.reason})`));
  }
  if (r.merging) {
    lines.push('', `Merging ${short(r.merging)}: resolve conflicting files, \`lode add\` them and \`lode commit\` (or \`lode merge --ours\`/\`--theirs\`, or \`lode merge --abort\`)`);
    if (r.unresolved?.length) {
      lines.push('Unresolved conflicts:');
      lines.push(...capped(r.unresolved, (p) => st.red(p)));
    } else lines.push('All conflicts resolved: `lode commit` concludes the merge');
  }
  if (r.pin?.problem) lines.push('', st.red(`lode.lock: ${r.pin.problem}`));
  else if (r.pin && !r.pin.matchesHead) lines.push('', `lode.lock pins ${short(r.pin.commit)}, HEAD is ${r.head ? short(r.head) : 'unborn'}: \`lode checkout\` restores the pinned data, \`lode commit\` pins HEAD`);
  if (r.clean) lines.push('', 'Nothing to commit: the workspace matches HEAD');
  return lines;
}

export function renderCommit(r: CommitResult, st?: Style): string[] {
  const c = r.changes;
  const where = r.branch ? r.branch : 'detached HEAD';
  const lines = [
    `[${where} ${short(r.id)}]${r.merged ? ` merge of ${short(r.merged)},` : ''} ${plural(r.files, 'file')}, ${formatBytes(r.bytes)}`,
    ` ${formatCount(c.added)} added, ${formatCount(c.modified)} modified, ${formatCount(c.deleted)} deleted, ${formatCount(c.renamed)} renamed`,
  ];
  if (r.provenance) lines.push(` Made: ${provenanceLine({ kind: r.provenance.kind, command: r.provenance.command, inputs: r.provenance.inputs.map((i) => i.spec), outputs: [], sources: r.provenance.sources })}`);
  lines.push(...renderCommitChecks(r.checks, st ?? makeStyle(false)));
  if (r.pinFile) lines.push(` Pinned in lode.lock: \`git add lode.lock\` and commit it with the code`);
  return lines;
}

export function renderLog(r: LogResult, st: Style, oneline: boolean): string[] {
  if (r.commits.length === 0) return ['No commits yet'];
  const lines: string[] = [];
  for (const c of r.commits) {
    const refs = c.refs.length ? ` (${c.refs.join(', ')})` : '';
    const subject = c.message.split('\n')[0];
    if (oneline) {
      const pinned = c.pinnedBy?.length ? ` [git ${c.pinnedBy.map((p) => p.oid.slice(0, 7)).join(' ')}]` : '';
      const badge = checksBadge(c.checks, st);
      lines.push(`${st.yellow(short(c.id))}${refs}${badge ? ` [${badge}]` : ''} ${subject}${pinned}`);
      continue;
    }
    lines.push(st.yellow(`commit ${c.id}`) + refs);
    if (c.parents.length > 1) lines.push(`Merge:  ${c.parents.map(short).join(' ')}`);
    lines.push(`Author: ${c.author}`);
    lines.push(`Date:   ${c.date}`);
    lines.push(`Data:   ${plural(c.files, 'file')}, ${formatBytes(c.bytes)}${c.datasets.length ? ` in ${c.datasets.join(', ')}` : ''}`);
    if (c.git) lines.push(`Git:    made on ${c.git}`);
    if (c.provenance) lines.push(`Made:   ${provenanceLine(c.provenance)}`);
    if (c.checks) lines.push(`Checks: ${checksBadge(c.checks, st)}`);
    for (const p of c.pinnedBy ?? []) lines.push(`Pinned: ${p.oid.slice(0, 10)} ${p.summary} (${p.date.slice(0, 10)})`);
    lines.push('');
    for (const m of c.message.replace(/\n$/, '').split('\n')) lines.push(`    ${m}`);
    lines.push('');
  }
  if (!oneline && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** renderLs prints names relative to the listed directory (directories end in `/`); `long` adds kind, size and ID. */
export function renderLs(r: LsResult, long: boolean): string[] {
  const name = (e: LsResult['entries'][number]) => (e.kind === 'tree' ? `${e.name}/` : e.name);
  if (!long) return r.entries.map(name);
  const rows = r.entries.map((e) => [e.kind, e.kind === 'tree' ? plural(e.files, 'file') : '', formatBytes(e.size), e.id.slice(0, 12), name(e)]);
  const widths = [0, 1, 2].map((i) => Math.max(0, ...rows.map((x) => x[i].length)));
  return rows.map((x) => `${x[0].padEnd(widths[0])}  ${x[1].padStart(widths[1])}  ${x[2].padStart(widths[2])}  ${x[3]}  ${x[4]}`);
}

/** renderGet says what `lode get` wrote. */
export function renderGet(r: GetRemoteResult): string[] {
  return [`Wrote ${r.out}: ${plural(r.files, 'file')}, ${formatBytes(r.bytes)} (${r.path || 'the top'} at ${r.rev}, ${short(r.commit)}, verified; ${plural(r.requests, 'request')})`];
}

/** renderShow is the commit as `log` prints it, then its change as `diff` prints it. */
export function renderShow(r: ShowResult, st: Style): string[] {
  const log = renderLog({ commits: [r.commit] }, st, false);
  // The record in full replaces the one-line marks of log.
  const record = r.record ? renderRecord(r.record, st) : [];
  const head = r.record ? log.filter((l) => !l.startsWith('Made:   ') && !l.startsWith('Checks: ')) : log;
  const at = head.findIndex((l) => l === '');
  if (record.length > 0 && at >= 0) head.splice(at, 0, ...record);
  return [...head, '', ...renderDiff(r.diff, st)];
}

/** DiffTextOptions: how `lode diff` lays out its text. */
export interface DiffTextOptions {
  /** Only the counts: per status, per directory (`r.stat`), and each table's row and column counts. */
  summary?: boolean;
  /** List every added or deleted file instead of folding a folder's run of them into one line. */
  noFold?: boolean;
}

export function renderDiff(r: DiffResult, st: Style, options: DiffTextOptions = {}): string[] {
  const lines: string[] = [];
  const code = { added: st.green('A'), deleted: st.red('D'), modified: st.yellow('M'), renamed: st.yellow('R') };
  if (!options.summary) {
    const items = r.changes.map((c) => ({ path: c.path, status: c.status, bytes: (c.new ?? c.old)!.size, foldable: c.status === 'added' || c.status === 'deleted', change: c }));
    const listed = options.noFold ? items : foldByFolder(items);
    const rows = listed.map((x) => {
      if (isFolded(x)) {
        const sign = x.status === 'added' ? '+' : '-';
        return { code: code[x.status as keyof typeof code], name: x.folder, size: `(${sign}${plural(x.files, 'file')}, ${formatBytes(x.bytes)})` };
      }
      const c = x.change;
      const name = c.status === 'renamed' ? `${c.oldPath} → ${c.path}` : c.path;
      const size =
        c.status === 'modified'
          ? `${formatBytes(c.old!.size)} → ${formatBytes(c.new!.size)}${c.changedBytes !== undefined && c.changedBytes < c.new!.size ? ` (${formatBytes(c.changedBytes)} new)` : ''}`
          : formatBytes((c.new ?? c.old)!.size);
      return { code: code[c.status], name, size };
    });
    const width = Math.min(80, Math.max(0, ...rows.slice(0, LIST_LIMIT).map((x) => x.name.length)));
    lines.push(...capped(rows, (x) => `${x.code}  ${x.name.padEnd(width)}  ${x.size}`, ''));
  }
  if (r.stat) {
    if (lines.length) lines.push('');
    const head = ['directory', 'added', 'deleted', 'modified', 'renamed', 'files before → after', 'bytes before → after', 'new bytes'];
    const table = r.stat.map((d) => [
      d.dir === '' ? '.' : `${d.dir}/`,
      formatCount(d.added),
      formatCount(d.deleted),
      formatCount(d.modified),
      formatCount(d.renamed),
      `${formatCount(d.before.files)} → ${formatCount(d.after.files)}`,
      `${formatBytes(d.before.bytes)} → ${formatBytes(d.after.bytes)}`,
      formatBytes(d.changedBytes),
    ]);
    lines.push(...formatTable(head, table));
  }
  for (const t of r.tables ?? []) {
    if (lines.length) lines.push('');
    lines.push(...renderTableDiff(t, st, { summary: options.summary }));
  }
  if (r.tablesSkipped) lines.push('', `${plural(r.tablesSkipped, 'more table file')} changed without a row-level diff here: name them after -- to compare them`);
  const s = r.summary;
  const total = s.added + s.deleted + s.modified + s.renamed;
  if (total === 0) lines.push(`No differences between ${r.from.rev} and ${r.to.rev}`);
  else {
    if (lines.length) lines.push('');
    lines.push(
      `${plural(total, 'file')} changed: ${formatCount(s.added)} added, ${formatCount(s.deleted)} deleted, ${formatCount(s.modified)} modified, ${formatCount(s.renamed)} renamed` +
        ` (files +${formatBytes(s.bytesAdded)}, -${formatBytes(s.bytesDeleted)}; ${formatBytes(s.changedBytes)} of new content)`,
    );
  }
  if (r.from.checks || r.to.checks) lines.push(`Checks: ${r.from.rev} ${checksBadge(r.from.checks, st) || 'none recorded'}, ${r.to.rev} ${checksBadge(r.to.checks, st) || 'none recorded'}`);
  return lines;
}

/** formatTable aligns columns: the first left, the rest right. */
export function formatTable(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}

export function renderCheckout(r: CheckoutResult & { pin?: { commit: string } | null; detachedBecause?: string; fetched?: boolean }): string[] {
  const lines: string[] = [];
  if (r.pin) lines.push(`Restoring the data lode.lock pins: ${short(r.pin.commit)}${r.fetched ? ' (fetched from the default remote)' : ''}`);
  else if (r.fetched) lines.push("Fetched this version's data from the default remote (it was not fetched yet)");
  const methods = Object.entries(r.methods).filter(([, n]) => n > 0).map(([m, n]) => `${formatCount(n)} by ${m}`).join(', ');
  lines.push(`Checked out ${plural(r.written, 'file')}${methods ? ` (${methods})` : ''}, removed ${formatCount(r.removed)}, ${formatCount(r.unchanged)} already up to date`);
  if (r.moved) {
    lines.push(r.branch ? `Switched to branch ${r.branch}${r.commit ? ` at ${short(r.commit)}` : ' (no commits yet)'}` : `HEAD is now detached at ${short(r.commit)}${r.detachedBecause ? ` (${r.detachedBecause})` : ''}`);
  }
  // The pin file is tracked by git: a checkout that rewrites it leaves git a change to commit.
  if (r.pinWritten) lines.push(`lode.lock now pins ${short(r.commit)} (commit it with git to record it)`);
  return lines;
}

export function renderBranches(r: BranchListResult, st: Style): string[] {
  const lines = r.branches.map((b) => (b.current ? `* ${st.green(b.name)} ${short(b.commit)}` : `  ${b.name} ${short(b.commit)}`));
  if (r.detached) lines.unshift(`* ${st.red(`(HEAD detached at ${short(r.detached)})`)}`);
  if (r.current && !r.branches.some((b) => b.current)) lines.unshift(`* ${st.green(r.current)} (no commits yet)`);
  return lines;
}

export function renderRemoteBranches(r: RemoteBranchListResult): string[] {
  if (r.branches.length === 0) return ['No remote-tracking branches: `lode fetch` records those of the default remote'];
  return r.branches.map((b) => `  ${b.ref} ${short(b.id)}`);
}

export function renderGc(r: GcResult): string[] {
  const verb = r.dryRun ? 'Would remove' : 'Removed';
  const lines = [`${verb} ${plural(r.filesRemoved, 'cached file')} and ${plural(r.objectsRemoved, 'object')}, ${formatBytes(r.bytesFreed - (r.pushed?.bytesDropped ?? 0))}; kept ${formatCount(r.filesKept)} files and ${formatCount(r.objectsKept)} objects`];
  const p = r.pushed;
  if (p) {
    const keep = p.keepLast
      ? `the last ${plural(p.keepLast, 'commit')} of each branch, every tag and what is checked out (and not held by clean workspace files)`
      : 'what is checked out (and not held by clean workspace files)';
    lines.push(`${r.dryRun ? 'Would drop' : 'Dropped'} ${plural(p.filesDropped, 'cached file')} (${formatBytes(p.bytesDropped)}) that remote ${p.remote} holds; kept ${formatCount(p.filesNeeded)} needed by ${keep}`);
    if (p.notOnRemote.files > 0) lines.push(`Kept ${plural(p.notOnRemote.files, 'file')} (${formatBytes(p.notOnRemote.bytes)}) that ${p.remote} lacks: the only copy (\`lode push\` them, then gc again)`);
    if (p.filesDropped > 0 && !r.dryRun) lines.push(`Dropped data is listed by \`lode fsck\` as not fetched; \`lode checkout\` of an older version fetches it again`);
  }
  if (r.filesSplit > 0 || r.chunksRemoved > 0) {
    lines.push(`${r.dryRun ? 'Would keep' : 'Kept'} ${plural(r.filesSplit, 'older file version')} as chunks (${plural(r.chunksWritten, 'chunk')} written); ${plural(r.chunksRemoved, 'unneeded chunk')} ${r.dryRun ? 'to remove' : 'removed'}`);
  }
  return lines;
}

export function renderUnlock(r: UnlockResult): string[] {
  if (!r.owner) return [r.removed ? 'Removed an interrupted lock takeover; the repository was not locked' : 'The repository is not locked'];
  const o = r.owner;
  const why = r.state === 'stale' ? 'no longer running' : r.state === 'foreign' ? 'on another host' : r.state === 'live' ? 'still running (--force)' : 'unreadable';
  return [`Removed the lock of \`lode ${o.command}\` (pid ${o.pid} on ${o.host}, since ${o.started}; ${why})`];
}

export function renderFsck(r: FsckResult, st: Style): string[] {
  const lines = [`Checked ${plural(r.objects, 'object')}, ${plural(r.files, 'cached file')} (${formatBytes(r.bytes)}) and ${plural(r.refs, 'ref')}`];
  if (r.notFetched.length > 0) {
    const remotes = [...new Set(r.notFetched.map((n) => n.remote))];
    const where = remotes.length === 1 && remotes[0] !== null ? ` (on remote ${remotes[0]})` : '';
    lines.push(`${plural(r.notFetched.length, 'file')} not fetched yet${where}: not a problem; \`lode checkout REV\` or \`lode fetch REMOTE REV\` fetches a version's data, \`lode fetch --all\` every version's`);
  }
  if (r.remoteNote && (r.notFetched.length > 0 || !r.ok)) lines.push(st.yellow(`note: ${r.remoteNote}`));
  if (r.ok) lines.push(st.green('No problems found'));
  else {
    lines.push(st.red(`${plural(r.problems.length, 'problem')} found:`));
    lines.push(...capped(r.problems, (p) => `${p.kind}: ${p.message}`));
    if (r.problems.some((p) => p.kind === 'missing')) lines.push('hint: `lode fetch --all` brings back what a remote still has');
    if (r.completeNote) lines.push(st.yellow(`note: ${r.completeNote}`));
  }
  return lines;
}

export function renderRemoteFsck(r: RemoteFsckResult, st: Style): string[] {
  const data = r.packsRead ? `; read ${plural(r.packsRead, 'pack')} (${formatBytes(r.bytesRead)})${r.subset ? `, subset ${r.subset}` : ''}` : '';
  const lines = [`${r.remote}: checked ${plural(r.refs, 'ref')}, ${plural(r.packs, 'pack')} listing ${plural(r.objects, 'object')}, ${formatCount(r.reachable)} reachable${data}`];
  if (r.warnings.length > 0) {
    lines.push(st.yellow(`${plural(r.warnings.length, 'warning')}:`));
    lines.push(...capped(r.warnings, (w) => `${w.kind}: ${w.message}`));
  }
  if (r.ok) lines.push(st.green('No problems found'));
  else {
    lines.push(st.red(`${plural(r.problems.length, 'problem')} found:`));
    lines.push(...capped(r.problems, (p) => `${p.kind}: ${p.message}`));
  }
  return lines;
}

export function renderConfig(r: ConfigResult): string[] {
  switch (r.action) {
    case 'list': {
      const lines = r.entries.map((e) => `${e.key} = ${JSON.stringify(e.value)}${e.scope === 'local' ? '  (local)' : ''}`);
      if (lines.length === 0) lines.push('No settings: everything is at its default. Keys:', ...Object.entries(r.known).map(([k, h]) => `  ${k}  ${h}`));
      return lines;
    }
    case 'get':
      return [r.value === undefined ? '(not set: default applies)' : Array.isArray(r.value) ? r.value.join(',') : String(r.value)];
    case 'set':
      return [`${r.key} = ${JSON.stringify(r.value)}${r.scope === 'local' ? ' (in .lode/config.local)' : ''}`];
    case 'unset':
      return [r.removed ? `Removed ${r.key}` : `${r.key} was not set`];
  }
}

/** storedNote says how much less the remote stored than was sent, when compression saved at least a tenth. */
function storedNote(p: { bytes: number; stored?: number }): string {
  if (p.stored === undefined || p.stored === 0 || p.stored > p.bytes * 0.9) return '';
  return `, ${formatBytes(p.stored)} stored (${(p.bytes / p.stored).toFixed(1)}x smaller)`;
}

export function renderPush(r: PushCommandResult): string[] {
  const lines = r.pushed.map((p) =>
    p.upToDate
      ? `${r.remote}: ${p.ref} is up to date (${short(p.to)})`
      : p.repaired
        ? `${r.remote}: ${p.ref} was at ${short(p.to)} but the remote lacked data it needs: re-sent ${plural(p.objects, 'object')}, ${formatBytes(p.bytes)} in ${plural(p.packs, 'pack')}`
        : `${r.remote}: ${p.ref} ${p.from ? `${short(p.from)}..${short(p.to)}` : `new at ${short(p.to)}`}: ${plural(p.objects, 'object')}, ${formatBytes(p.bytes)} in ${plural(p.packs, 'pack')}${storedNote(p)} (${plural(p.requests, 'request')})`,
  );
  const m = r.pushed.find((p) => p.chunkingMismatch)?.chunkingMismatch;
  if (m) {
    const fmt = (c: { min: number; avg: number; max: number }) => `${c.min}/${c.avg}/${c.max}`;
    lines.push(
      `note: ${r.remote} chunks large files with min/avg/max ${fmt(m.remote)} bytes, this repository with ${fmt(m.local)}: large files share fewer chunks with the remote's. ` +
        `To match it: lode config chunking.min ${m.remote.min}; lode config chunking.avg ${m.remote.avg}; lode config chunking.max ${m.remote.max} (files added afterwards)`,
    );
  }
  return lines;
}

export function renderFetch(r: FetchCommandResult): string[] {
  const lines = r.refs.map((x) => `${r.remote}/${x.kind === 'tags' ? 'tag ' : ''}${x.name}: ${x.old === x.id ? 'unchanged' : x.old ? `${short(x.old)}..${short(x.id)}` : `new at ${short(x.id)}`}`);
  lines.push(`Fetched ${plural(r.objects, 'object')} and ${plural(r.files, 'file')}, ${formatBytes(r.bytes)} (${plural(r.requests, 'request')})`);
  lines.push(fetchedDataLine(r));
  if (r.erasures) lines.push(`Applied ${plural(r.erasures.records.length, 'erasure')} (lode forget): moved ${r.erasures.refsMoved.join(', ') || 'no ref'}, updated ${plural(r.erasures.workspaceFiles.length, 'workspace file')}, deleted ${plural(r.erasures.objectsDeleted, 'object')} from the cache`);
  return [...lines, ...renderSkippedRefs(r)];
}

/** fetchedDataLine says whose file data a fetch brought: every version's, or a few commits' (the rest is history metadata). */
function fetchedDataLine(r: FetchCommandResult): string {
  if (r.data === 'all') return 'File data: every version (history included)';
  if (r.data.length === 0) return `File data: none (history metadata only; \`lode fetch ${r.remote} REV\` or a checkout brings a version's data)`;
  return `File data: of ${r.data.map(short).join(', ')} only (older versions are fetched when checked out, or with \`lode fetch --all\`)`;
}

/** renderSkippedRefs warns of remote refs a fetch left out because the workspace cannot hold them. */
function renderSkippedRefs(r: FetchCommandResult): string[] {
  return r.skipped.map(
    (x) => `warning: skipped ${r.remote}/${x.kind === 'tags' ? 'tag ' : ''}${x.name} (${short(x.id)}): ${x.reason}; whoever owns it can rename it and \`lode push --delete ${x.name}\``,
  );
}

export function renderPull(r: PullResult, st: Style = makeStyle(false)): string[] {
  const reused = r.fetched.reused ? ` (${formatBytes(r.fetched.reused)} reused from local files)` : '';
  const lines = [`Fetched ${plural(r.fetched.files, 'file')}, ${formatBytes(r.fetched.bytes)} from ${r.remote}${reused}`, ...renderSkippedRefs(r.fetched)];
  if (r.outcome === 'upToDate') lines.push(`Branch ${r.branch} is up to date`);
  if (r.merge) {
    lines.push(`Branch ${r.branch} and ${r.remote}/${r.branch} had diverged: merging ${r.remote}/${r.branch}`);
    lines.push(...renderMerge(r.merge, st));
    if (r.outcome === 'merged') lines.push(`Then \`lode push\` sends the merge to ${r.remote}`);
    return lines;
  }
  if (r.checkout) lines.push(...renderCheckout(r.checkout));
  return lines;
}

export function renderClone(r: CloneResult): string[] {
  const which = r.fetched.data === 'all' ? 'data of every version' : 'data of the checked-out commit only; `lode fetch --all` for every version';
  return [
    `${r.resumed ? 'Resumed the interrupted clone in' : 'Cloned into'} ${r.root}: branch ${r.branch} at ${short(r.commit)}, ${plural(r.fetched.files, 'file')}, ${formatBytes(r.fetched.bytes)} (${which})`,
    ...renderSkippedRefs(r.fetched),
  ];
}

export function renderRemoteStatus(r: RemoteStatusResult): string[] {
  const where = `${r.remote}/${r.branch}`;
  const push = r.toPush.objects ? `; push would send ${plural(r.toPush.objects, 'object')}, ${formatBytes(r.toPush.bytes)}` : '';
  switch (r.state) {
    case 'upToDate':
      return [`Branch ${r.branch} is up to date with ${where} (${short(r.local)})`];
    case 'incomplete':
      return [`${where} is at ${short(r.local)} like branch ${r.branch}, but the remote lacks data it needs (or holds it only in packs marked for deletion)${push}`];
    case 'noRemoteBranch':
      return [`${where} does not exist yet: \`lode push\` creates it${push}`];
    case 'ahead':
      return [`Branch ${r.branch} is ${plural(r.ahead, 'commit')} ahead of ${where}${push}`];
    case 'behind':
      return [`Branch ${r.branch} is ${plural(r.behind ?? 0, 'commit')} behind ${where}: \`lode pull\` fast-forwards`];
    case 'diverged':
      return [`Branch ${r.branch} and ${where} have diverged (${formatCount(r.ahead)} and ${formatCount(r.behind ?? 0)} commits): \`lode pull\` merges them`];
    case 'unknown':
      return [`${where} is at ${short(r.remoteTip)}, which you have not fetched: \`lode fetch\` to compare${push}`];
  }
}

export function renderRemoteGc(r: RemoteGcResult & { remote: string }): string[] {
  const verb = r.dryRun ? 'would' : '';
  return [
    `${r.remote}: ${plural(r.packs, 'pack')}, ${formatCount(r.liveObjects)} live and ${formatCount(r.deadObjects)} unreachable objects`,
    `${r.dryRun ? 'Would mark' : 'Marked'} ${plural(r.marked, 'pack')} for deletion (${formatCount(r.repacked)} repacked first), ${verb ? 'would delete' : 'deleted'} ${plural(r.deleted, 'pack')} marked earlier (${formatBytes(r.bytesFreed)}), kept ${formatCount(r.revived)} that became reachable again`,
    ...(r.unindexed ? [`Packs without an index (interrupted or running pushes): ${formatCount(r.unindexed)}, collected like unreachable ones`] : []),
    ...(r.rewrittenMarks ? [`${plural(r.rewrittenMarks, 'mark')} did not read back valid: ${r.dryRun ? 'would restart' : 'restarted'} their grace period`] : []),
  ];
}

export function renderMerge(r: MergeResult, st: Style): string[] {
  const lines: string[] = [];
  switch (r.outcome) {
    case 'upToDate':
      return ['Already up to date: HEAD contains that commit'];
    case 'aborted':
      return [`Merge of ${short(r.theirs)} aborted: the workspace and index are back at HEAD`];
    case 'fastForward':
      lines.push(`Fast-forward to ${short(r.commit)}`);
      break;
    case 'merged':
      lines.push(`Merged ${short(r.theirs)} into ${short(r.ours)} (base ${r.base ? short(r.base) : 'none'}): merge commit ${short(r.commit)}, ${plural(r.fromTheirs, 'path')} from theirs`);
      if (r.resolvedWith) lines.push(`${plural(r.conflicts.length, 'conflict')} resolved with ${r.resolvedWith}:`);
      break;
    case 'conflicts':
      lines.push(st.red(`Merge of ${short(r.theirs)} stopped: ${plural(r.conflicts.length, 'path')} changed differently on both sides`));
      break;
  }
  if (r.conflicts.length > 0) lines.push(...capped(r.conflicts, (c) => `${st.red(c.kind.padEnd(14))} ${c.path}`));
  if (r.outcome === 'conflicts') {
    lines.push(
      '',
      'The workspace holds the merged files, with our version at each conflicting path. Then either:',
      '  edit them (their version: `lode checkout MERGE_HEAD -- PATH`), `lode add` them and `lode commit -m ...`',
      '  `lode merge --ours` or `lode merge --theirs` to take one side for every conflict',
      '  `lode merge --abort` to go back',
    );
  }
  if (r.checkout?.pinFile) lines.push('Pinned in lode.lock: `git add lode.lock` and commit it with the code');
  return lines;
}

export function renderInstallHooks(r: InstallHooksResult): string[] {
  return [
    ...r.hooks.map((h) => `Installed ${h}`),
    ...r.replaced.map((h) => `Replaced ${h} (it was not lode's)`),
    `Merge driver: ${r.driver} (registered in .git/config and ${r.attributes})`,
    'Commit .gitattributes so clones merge lode.lock the same way; hooks stay local to this clone.',
  ];
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const num = (x: number) => (Number.isInteger(x) ? formatCount(x) : Math.abs(x) >= 1000 ? x.toFixed(0) : Number(x.toPrecision(4)).toString());
const cell = (v: unknown) => {
  const text = v === null || v === undefined ? '∅' : typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
};
/** rowText shows a row's first fields (a wide table would fill the screen); --json has them all. */
const ROW_FIELDS = 8;
const rowText = (row: Record<string, unknown> | null | undefined) => {
  if (!row) return '';
  const fields = Object.entries(row);
  const shown = fields.slice(0, ROW_FIELDS).map(([k, v]) => `${k}=${cell(v)}`).join(' ');
  return fields.length > ROW_FIELDS ? `${shown} … (+${fields.length - ROW_FIELDS} columns)` : shown;
};

/** renderTableDiff is the row-level and distribution part of `lode diff` for one table file. */
export function renderTableDiff(t: TableDiffEntry, st: Style, options: { summary?: boolean } = {}): string[] {
  if ('error' in t) return [`${st.bold(t.path)} (${t.format}): ${st.red('no row-level diff')}: ${t.error.message}`, ...(t.error.hint ? [`  hint: ${t.error.hint}`] : [])];
  const lines: string[] = [];
  const r = t.rows;
  const matched = t.key
    ? `rows matched by ${t.key.join(', ')}${t.keySource === 'auto' ? ', chosen automatically as unique on both sides (--key to choose)' : ''}`
    : t.matchedOn
      ? `rows matched by content of the common columns: ${t.matchedOn.length > 8 ? `${t.matchedOn.slice(0, 8).join(', ')}, …` : t.matchedOn.join(', ') || 'none'}`
      : 'rows matched by content';
  lines.push(`${st.bold(t.path)} (${t.format}, ${matched})`);
  const parts = [st.green(`+${formatCount(r.added)} added`), st.red(`-${formatCount(r.removed)} removed`)];
  if (t.key) parts.push(st.yellow(`~${formatCount(r.modified)} modified`));
  parts.push(`${formatCount(r.unchanged)} unchanged`);
  lines.push(`  rows: ${formatCount(r.before)} → ${formatCount(r.after)}: ${parts.join(', ')}`);
  const sc = t.schema;
  const schema = [
    ...sc.added.map((c) => st.green(`+${c.name} (${c.type})`)),
    ...sc.removed.map((c) => st.red(`-${c.name} (${c.type})`)),
    ...sc.renamed.map((c) => `${c.from} → ${c.to} (renamed)`),
    ...sc.typeChanged.map((c) => `${c.name}: ${c.before} → ${c.after}`),
  ];
  if (schema.length) lines.push(`  columns: ${schema.join(', ')}`);
  if (t.keyHint) lines.push(`  hint: ${t.keyHint}`);
  if (options.summary) return lines;
  // Key columns present on both sides are left out: their spread only restates which rows came and went.
  for (const c of t.columns.filter((x) => !(t.key?.includes(x.name) && x.before && x.after && x.before.type === x.after.type && x.changedCells === 0))) {
    const facts: string[] = [];
    if (c.changedCells) facts.push(`${formatCount(c.changedCells)} cells changed`);
    const b = c.before;
    const a = c.after;
    if (b && a && b.nulls !== a.nulls) facts.push(`nulls ${formatCount(b.nulls)} → ${formatCount(a.nulls)}`);
    const nb = b?.numeric;
    const na = a?.numeric;
    if (nb && na) {
      for (const k of ['min', 'mean', 'max'] as const) if (nb[k] !== na[k]) facts.push(`${k} ${num(nb[k])} → ${num(na[k])}`);
    } else if (na && !b) facts.push(`min ${num(na.min)} mean ${num(na.mean)} max ${num(na.max)}`);
    if (!b) facts.unshift('new column');
    if (!a) facts.unshift('dropped');
    lines.push(`  ${c.name}${facts.length ? `: ${facts.join(' · ')}` : ''}`);
    if (c.categories?.length) {
      const w = Math.min(24, Math.max(...c.categories.map((x) => x.value.length)));
      for (const x of c.categories) {
        const d = (x.shareAfter - x.shareBefore) * 100;
        const delta = Math.abs(d) < 0.05 ? '' : `  (${d > 0 ? '+' : ''}${d.toFixed(1)} pp)`;
        lines.push(`      ${cell(x.value).padEnd(w)}  ${pct(x.shareBefore).padStart(6)} → ${pct(x.shareAfter).padStart(6)}  ${formatCount(x.before)} → ${formatCount(x.after)}${delta}`);
      }
    }
  }
  if (t.rowChanges?.length) {
    lines.push(`  changed rows${t.rowChangesTruncated ? ` (first ${t.rowChanges.length}; --limit shows more)` : ''}:`);
    for (const x of t.rowChanges) {
      const where = x.rowAfter !== undefined ? `row ${formatCount(x.rowAfter)}` : x.rowBefore !== undefined ? `old row ${formatCount(x.rowBefore)}` : '';
      const key = x.key ? `${rowText(x.key)} ` : '';
      if (x.kind === 'modified') {
        const changes = (x.changedColumns ?? []).map((k) => `${k}: ${cell(x.before?.[k])} → ${cell(x.after?.[k])}`).join(', ');
        lines.push(`    ${st.yellow('~')} ${where} ${key}${changes}`);
      } else if (x.kind === 'added') lines.push(`    ${st.green('+')} ${where} ${rowText(x.after)}`);
      else lines.push(`    ${st.red('-')} ${where} ${rowText(x.before)}`);
    }
  }
  return lines;
}
