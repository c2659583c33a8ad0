/**
 * Commands that tie lode to git: restoring the data a code commit pins,
 * installing hooks and the pin file's merge driver, the driver itself, and
 * the git history of pins for `lode log --git`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LodeError, UsageError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import type { ProgressSink } from '../core/progress.js';
import { isAncestor } from '../graph/commits.js';
import { refNameProblem } from '../graph/refs.js';
import { encodePin, parsePin, type Pin } from '../git/pin.js';
import { readFileOrUndefined, writeFileAtomic } from '../storage/atomic.js';
import { openRemote } from '../sync/open.js';
import { Repository } from '../repo/repository.js';
import { checkout, switchFetching, type CheckoutResult, type SwitchOptions } from './checkout.js';
import { currentGitHead } from '../repo/author.js';
import { planMerge, storeMergeCommit } from './merge.js';
import { push, type PushCommandResult } from './sync.js';
import { gitContext, pinOf, readPinAt, readWorkspacePin } from '../git/pin-file.js';
import { ensureCommit, pinnedCommit } from '../repo/revisions.js';

export interface RestorePinnedResult extends CheckoutResult {
  /** The pin that was restored, or null when there is no pin file (a plain restore of HEAD). */
  pin: { commit: ObjectId; branch: string | null } | null;
  /** Why HEAD was left detached at the pinned commit, when it was. */
  detachedBecause?: string;
  /** Objects fetched from the default remote because the cache lacked them. */
  fetched?: boolean;
}

/**
 * restorePinned is `lode checkout` without a revision: inside git with a pin
 * file, the workspace is made to match the pinned commit, and lode's branch
 * follows git's: git on branch G puts lode on branch G when G is at the
 * pinned commit, does not exist yet (it is created), or is behind it (it is
 * fast-forwarded); otherwise HEAD is left detached at the pinned commit, so
 * no lode commit is ever lost. Without a pin file it restores HEAD (or,
 * with `onlyPinned`, does nothing and returns undefined).
 * Like any checkout it refuses to overwrite uncommitted data unless `force`.
 * With `onlyPinned` (the hooks), a workspace whose HEAD already is the pinned
 * commit on git's branch is left as it is, local changes included.
 */
export async function restorePinned(repo: Repository, options: { force?: boolean; onlyPinned?: boolean; progress?: ProgressSink } = {}): Promise<RestorePinnedResult | undefined> {
  const ctx = gitContext(repo, false);
  const read = ctx ? readWorkspacePin(ctx) : undefined;
  if ((!ctx || !read) && options.onlyPinned) return undefined;
  if (!ctx || !read) return { ...(await checkout(repo, { force: options.force, progress: options.progress })), pin: null };
  // A commit `lode forget` replaced is followed to its rewritten commit.
  const pin = { ...read, commit: await pinnedCommit(repo, read.commit, 'lode.lock') };
  const gitHead = await ctx.git.head();
  const headId = repo.refs.headCommit() ?? null;
  const head = repo.refs.head();
  const base: SwitchOptions = { force: options.force, progress: options.progress, writePin: false };
  let plan: SwitchOptions;
  let detachedBecause: string | undefined;
  const g = gitHead.branch;
  const tip = g && !refNameProblem(g) ? repo.refs.get('heads', g) : undefined;
  if (g && refNameProblem(g)) detachedBecause = `git branch ${g} is not a valid lode branch name`;
  else if (!g) detachedBecause = 'git HEAD is detached';
  if (detachedBecause) {
    plan = head.kind === 'detached' && headId === pin.commit ? base : { ...base, rev: pin.commit };
  } else if (!tip) {
    plan = { ...base, rev: pin.commit, createBranch: g! };
  } else if (tip === pin.commit) {
    plan = head.kind === 'branch' && head.name === g ? base : { ...base, rev: g! };
  } else if (isAncestor(repo.store, tip, pin.commit)) {
    plan = { ...base, rev: pin.commit, advanceBranch: g!, advanceFrom: tip };
  } else {
    detachedBecause = `lode branch ${g} has commits the pin does not include`;
    plan = { ...base, rev: pin.commit };
  }
  // The hooks leave a workspace already at the pin alone (a `git pull` of code
  // only, a checkout of the branch git is on): its local changes are the user's.
  if (options.onlyPinned && plan.rev === undefined) {
    const none = { reflink: 0, hardlink: 0, copy: 0 };
    return { commit: headId, branch: head.kind === 'branch' ? head.name : null, moved: false, written: 0, removed: 0, unchanged: 0, methods: none, pinWritten: false, pin: { commit: pin.commit, branch: pin.branch } };
  }
  // A pin made on another machine may name data this cache never had: fetched, then tried once more.
  const { fetched, ...result } = await switchFetching(repo, plan, pin.commit);
  return { ...result, pin: { commit: pin.commit, branch: pin.branch }, ...(detachedBecause ? { detachedBecause } : {}), ...(fetched ? { fetched } : {}) };
}

export interface HookRestoreResult {
  /** Whether anything changed: files written or removed, or HEAD moved. */
  restored: boolean;
  commit: ObjectId | null;
  written: number;
  removed: number;
}

/**
 * hookRestore is `lode checkout --hook`, run by the post-checkout and
 * post-merge hooks: restorePinned with `onlyPinned` and never `force`, so a
 * workspace without a pin, or already at it, is left as it is.
 */
export async function hookRestore(repo: Repository): Promise<HookRestoreResult> {
  const r = await restorePinned(repo, { force: false, onlyPinned: true });
  if (!r) return { restored: false, commit: null, written: 0, removed: 0 };
  return { restored: r.written + r.removed > 0 || r.moved, commit: r.commit, written: r.written, removed: r.removed };
}

const HOOK_MARK = '# lode hook';

export interface InstallHooksOptions {
  /** How hooks run lode, e.g. `'/usr/bin/node' '/opt/lode/bin/lode.js'`; default `lode` on PATH. */
  lodeCommand?: string;
  /** Replace hooks that lode did not write. */
  force?: boolean;
}

export interface InstallHooksResult {
  hooks: string[];
  attributes: string;
  driver: string;
  /** Hooks lode replaced although they were not its own (only with `force`). */
  replaced: string[];
}

/**
 * installHooks writes git hooks (post-checkout and post-merge restore the
 * pinned data, pre-push pushes lode's branch first when a default remote is
 * set), registers the pin file's merge driver in .gitattributes and git
 * config. Existing hooks that lode did not write are left alone unless `force`.
 */
export async function installHooks(repo: Repository, options: InstallHooksOptions = {}): Promise<InstallHooksResult> {
  const ctx = gitContext(repo, true)!;
  const lode = options.lodeCommand ?? 'lode';
  const rel = path.relative(ctx.git.workTree, repo.root).split(path.sep).join('/') || '.';
  const dir = await ctx.git.hooksDir();
  const scripts = hookScripts(lode, rel);
  const replaced: string[] = [];
  for (const name of Object.keys(scripts)) {
    const file = path.join(dir, name);
    const old = readFileOrUndefined(file)?.toString('utf8');
    if (old !== undefined && !old.includes(HOOK_MARK)) {
      if (!options.force) {
        throw new LodeError('CONFLICT', `git already has a ${name} hook that lode did not write (${file})`, {
          hint: 'add lode to it by hand (see docs/git.md), or run `lode install-hooks --force` to replace it',
        });
      }
      replaced.push(file);
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  const hooks: string[] = [];
  for (const [name, text] of Object.entries(scripts)) {
    const file = path.join(dir, name);
    writeFileAtomic(file, text, { mode: 0o755 });
    fs.chmodSync(file, 0o755);
    hooks.push(file);
  }
  const attributes = path.join(ctx.git.workTree, '.gitattributes');
  const line = `${attributePattern(ctx.pinGitPath)} merge=lode`;
  const have = readFileOrUndefined(attributes)?.toString('utf8') ?? '';
  if (!have.split(/\r?\n/).includes(line)) writeFileAtomic(attributes, `${have}${have === '' || have.endsWith('\n') ? '' : '\n'}${line}\n`);
  const driver = `${lode} merge-driver %O %A %B %P`;
  await ctx.git.setConfig('merge.lode.name', 'lode pin file (three-way merge of the pinned datasets)');
  await ctx.git.setConfig('merge.lode.driver', driver);
  return { hooks, attributes, driver, replaced };
}

/**
 * attributePattern anchors a path as a .gitattributes pattern: glob
 * characters escaped, and C-quoted when it holds spaces, quotes or
 * backslashes (git reads an unquoted space as the end of the pattern).
 */
export function attributePattern(gitPath: string): string {
  const pattern = `/${gitPath.replace(/[*?[\\]/g, '\\$&')}`;
  if (!/[\s"\\]/.test(pattern)) return pattern;
  return `"${pattern.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function hookScripts(lode: string, rel: string): Record<string, string> {
  const head = (what: string) => `#!/bin/sh
${HOOK_MARK} (written by \`lode install-hooks\`): ${what}
# Set LODE_SKIP_HOOKS=1 to skip it once.
[ -n "$LODE_SKIP_HOOKS" ] && exit 0
cd ${shellQuote(rel)} 2>/dev/null || exit 0
[ -d .lode ] || exit 0
`;
  return {
    'post-checkout': `${head('restore the data the checked-out code pins.')}# $3 is 1 for a branch or commit checkout, 0 for a file checkout.
[ "$3" = "1" ] || exit 0
${lode} checkout --hook || echo "lode: the data was not restored; run \\\`lode checkout\\\` when ready" >&2
exit 0
`,
    'post-merge': `${head('restore the data the merged code pins.')}${lode} checkout --hook || echo "lode: the data was not restored; run \\\`lode checkout\\\` when ready" >&2
exit 0
`,
    'pre-push': `${head('push the lode branches of the git branches being pushed, before the code that pins them.')}# git writes one line per ref it pushes: <local ref> <local sha> <remote ref> <remote sha>.
branches=""
commits=""
while read -r local_ref local_sha remote_ref remote_sha; do
  case "$local_ref" in refs/heads/*) branches="$branches \${local_ref#refs/heads/}" ;; esac
  case "$local_sha" in *[!0]*) commits="$commits $local_sha" ;; esac
done
if ! ${lode} push --hook --hook-branches "$branches" --hook-commits "$commits"; then
  echo "lode: the data push failed, so git push stops here; fix it, or \\\`git push --no-verify\\\` to push the code alone" >&2
  exit 1
fi
exit 0
`,
  };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface MergeDriverResult {
  outcome: 'unchanged' | 'ours' | 'theirs' | 'merged' | 'conflicts';
  commit: ObjectId | null;
  conflicts: string[];
}

/**
 * mergeDriver is git's merge driver for the pin file (`lode merge-driver
 * %O %A %B %P`): it merges the two pinned lode commits with the same
 * three-way merge as `lode merge`, stores the merge commit (no ref moves: the
 * post-merge hook's checkout fast-forwards the branch) and writes the merged
 * pin to `oursFile`. On a data conflict it writes conflict markers and
 * reports the conflicting paths.
 */
export async function mergeDriver(repo: Repository, files: { base: string; ours: string; theirs: string }): Promise<MergeDriverResult> {
  try {
    return await mergeDriverUnguarded(repo, files);
  } catch (e) {
    // git takes the file as it stands: without markers, a failed driver would
    // look like a clean merge that kept our pin and silently dropped theirs.
    writeConflictMarkers(files);
    throw e;
  }
}

/**
 * runMergeDriver is `lode merge-driver BASE OURS THEIRS [PATH]` as git calls
 * it: file names are relative to `cwd`, and the workspace is the directory of
 * the pin file `pinPath` (else `cwd`). When the workspace cannot even be
 * opened, lode.lock still gets conflict markers before the error is thrown,
 * so git never takes a failed driver for a clean merge.
 */
export async function runMergeDriver(o: { cwd: string; base: string; ours: string; theirs: string; pinPath?: string }): Promise<MergeDriverResult> {
  const abs = (f: string) => path.resolve(o.cwd, f);
  const files = { base: abs(o.base), ours: abs(o.ours), theirs: abs(o.theirs) };
  let repo: Repository;
  try {
    repo = Repository.open(o.pinPath ? path.dirname(path.resolve(o.cwd, o.pinPath)) : o.cwd);
  } catch (e) {
    writeConflictMarkers(files);
    throw e;
  }
  return mergeDriver(repo, files);
}

/** writeConflictMarkers leaves both sides of lode.lock in `files.ours` between git's conflict markers. */
export function writeConflictMarkers(files: { ours: string; theirs: string }): void {
  const oursText = readFileOrUndefined(files.ours)?.toString('utf8') ?? '';
  const theirsText = readFileOrUndefined(files.theirs)?.toString('utf8') ?? '';
  if (oursText.startsWith('<<<<<<< ')) return;
  const nl = (t: string) => (t === '' || t.endsWith('\n') ? t : `${t}\n`);
  writeFileAtomic(files.ours, `<<<<<<< ours\n${nl(oursText)}=======\n${nl(theirsText)}>>>>>>> theirs\n`);
}

async function mergeDriverUnguarded(repo: Repository, files: { base: string; ours: string; theirs: string }): Promise<MergeDriverResult> {
  const read = (f: string, label: string): Pin | undefined => {
    const text = readFileOrUndefined(f)?.toString('utf8') ?? '';
    return text.trim() === '' ? undefined : parsePin(text, `${label} lode.lock`);
  };
  const ours = read(files.ours, 'our');
  const theirs = read(files.theirs, 'their');
  if (!ours || !theirs) throw new UsageError('the merge driver needs both sides of lode.lock');
  if (ours.commit === theirs.commit) return { outcome: 'unchanged', commit: ours.commit, conflicts: [] };
  await ensureCommit(repo, ours.commit, 'our lode.lock');
  await ensureCommit(repo, theirs.commit, 'their lode.lock');
  if (isAncestor(repo.store, theirs.commit, ours.commit)) return { outcome: 'ours', commit: ours.commit, conflicts: [] };
  if (isAncestor(repo.store, ours.commit, theirs.commit)) {
    writeFileAtomic(files.ours, encodePin({ ...pinOf(repo, theirs.commit, ours.branch) }));
    return { outcome: 'theirs', commit: theirs.commit, conflicts: [] };
  }
  const plan = planMerge(repo, ours.commit, theirs.commit);
  if (plan.conflicts.length > 0) {
    writeConflictMarkers(files);
    return { outcome: 'conflicts', commit: null, conflicts: plan.conflicts.map((c) => c.path) };
  }
  const id = storeMergeCommit(repo, plan, `Merge lode commit ${theirs.commit.slice(0, 12)} (git merge of lode.lock)`, { git: await currentGitHead(repo) });
  writeFileAtomic(files.ours, encodePin(pinOf(repo, id, ours.branch)));
  return { outcome: 'merged', commit: id, conflicts: [] };
}

/** UnpushedPin is a git commit being pushed whose lode.lock names a commit the remote lacks. */
export interface UnpushedPin {
  git: string;
  commit: ObjectId;
}

/**
 * unpushedPins checks, for git commits about to be pushed, that the lode
 * commit each one's lode.lock pins is on the default remote: code pushed
 * without its data cannot be restored by anyone else. Commits without a pin
 * are skipped.
 */
export async function unpushedPins(repo: Repository, gitCommits: string[]): Promise<UnpushedPin[]> {
  const ctx = gitContext(repo, false);
  if (!ctx || gitCommits.length === 0) return [];
  const pins = new Map<string, ObjectId>();
  for (const oid of gitCommits) {
    try {
      pins.set(oid, (await readPinAt(ctx, oid, oid)).commit);
    } catch {
      // no pin at that commit (or not one lode can read): nothing to check
    }
  }
  if (pins.size === 0) return [];
  const r = await openRemote(repo, undefined);
  try {
    await r.store.refresh();
    return [...pins].filter(([, id]) => !r.store.location(id)).map(([git, commit]) => ({ git, commit }));
  } finally {
    await r.store.backend.close?.();
  }
}

export interface HookPushResult {
  /** The default remote, or null when none is set (then nothing is pushed or checked). */
  remote: string | null;
  /** One push per lode branch pushed. */
  pushed: PushCommandResult[];
  /** Git commits being pushed whose pinned lode commit the remote lacks (see unpushedPinsError). */
  unpushed: UnpushedPin[];
}

/**
 * hookPush is `lode push --hook`, run by git's pre-push hook: it pushes the
 * lode branches named like the git branches being pushed (the current one
 * when git named none) to the default remote, then checks that every git
 * commit being pushed pins data the remote has. Without a default remote it
 * does nothing.
 */
export async function hookPush(repo: Repository, o: { branches: string[]; gitCommits: string[] }): Promise<HookPushResult> {
  const remote = repo.config.defaultRemote() ?? null;
  if (!remote) return { remote: null, pushed: [], unpushed: [] };
  const head = repo.refs.head();
  const wanted = o.branches.length > 0 ? o.branches : head.kind === 'branch' ? [head.name] : [];
  const pushed: PushCommandResult[] = [];
  for (const b of wanted.filter((x) => { try { return !!repo.refs.get('heads', x); } catch { return false; } })) {
    pushed.push(await push(repo, { branch: b }));
  }
  // The code being pushed must not pin data the remote lacks (a commit made on a detached lode HEAD, say).
  const unpushed = await unpushedPins(repo, o.gitCommits.filter((x) => /^[0-9a-f]{40,64}$/.test(x)));
  return { remote, pushed, unpushed };
}

/** unpushedPinsError is the refusal of a git push whose code pins lode commits the remote lacks. */
export function unpushedPinsError(remote: string, missing: UnpushedPin[]): LodeError {
  const m = missing[0];
  return new LodeError('REMOTE', `git commit ${m.git.slice(0, 10)} pins lode commit ${m.commit.slice(0, 12)}, which remote ${remote} does not have${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`, {
    hint: `put it on a branch and push it: \`lode branch NAME ${m.commit.slice(0, 12)}\` then \`lode push ${remote} NAME\``,
  });
}
