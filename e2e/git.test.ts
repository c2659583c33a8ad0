// lode beside git, driven as a user would: the real `git` binary and the
// built `lode` on temporary work trees. Pins written by `lode commit` and
// restored by `lode checkout`, git revisions, `lode log --git`, merges (lode's
// own and git's through the lode.lock merge driver), hooks, and the ways all
// this can go wrong. Every scenario works on its own small repositories, so
// they run concurrently; the common starting points (an empty work tree, a
// pinned history, a conflicted merge) are built once per file and copied, so
// each test starts fewer git and lode processes.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, readFile, removeDir, runLode, workspaceSnapshot, writeFile, type RunOptions, type RunResult } from '../test/helpers/cli.js';

const HEX64 = /^[0-9a-f]{64}$/;

const temps: string[] = [];
afterAll(() => {
  for (const d of temps) removeDir(d);
});

/** Sandbox is a temp directory with its own HOME, so the user's git config and hooks stay out. */
interface Sandbox {
  root: string;
  env: Record<string, string>;
}

function sandbox(name: string): Sandbox {
  const root = makeTempDir(`lode-git-${name}`);
  temps.push(root);
  const home = path.join(root, 'home');
  fs.mkdirSync(home);
  return {
    root,
    env: {
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: 'Ada Tester',
      GIT_AUTHOR_EMAIL: 'ada@example.com',
      GIT_COMMITTER_NAME: 'Ada Tester',
      GIT_COMMITTER_EMAIL: 'ada@example.com',
    },
  };
}

/** runGit runs the real git in `cwd` with the sandbox's environment. */
function runGit(sb: Sandbox, cwd: string, args: string[]): Promise<RunResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('GIT_')) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-c', 'init.defaultBranch=main', '-c', 'advice.detachedHead=false', ...args], { cwd, env: { ...env, NO_COLOR: '1', ...sb.env } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/** Work is a git work tree with a lode workspace at its root. */
interface Work {
  sb: Sandbox;
  dir: string;
  at: RunOptions;
  git(...args: string[]): Promise<RunResult>;
  /** gitOk runs git and returns stdout, trimmed; throws unless it exits 0. */
  gitOk(...args: string[]): Promise<string>;
  lode(...args: string[]): Promise<RunResult>;
  lodeOk(...args: string[]): Promise<RunResult>;
  json<T = any>(...args: string[]): Promise<T>;
  write(rel: string, content: string): void;
  read(rel: string): string;
}

function work(sb: Sandbox, dir: string): Work {
  const at: RunOptions = { cwd: dir, env: sb.env };
  const git = (...args: string[]) => runGit(sb, dir, args);
  return {
    sb,
    dir,
    at,
    git,
    async gitOk(...args) {
      const r = await git(...args);
      if (r.code !== 0) throw new Error(`git ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      return r.stdout.trim();
    },
    lode: (...args) => runLode(args, at),
    lodeOk: (...args) => lodeOk(args, at),
    json: (...args) => lodeJson(args, at),
    write: (rel, content) => void writeFile(dir, rel, content),
    read: (rel) => readFile(dir, rel).toString('utf8'),
  };
}

/** A sandbox built once per file and copied, whole, for each test that starts from it. */
interface Template<T> {
  root: string;
  /** The work tree's path inside the sandbox. */
  rel: string;
  value: T;
}
const templates = new Map<string, Promise<Template<unknown>>>();

/**
 * fromTemplate gives a new sandbox named `name` holding a copy of what
 * `build` made (once per `key` in this file), and build's value. Everything
 * in a sandbox is relative (git and lode keep no absolute paths), so a copy
 * works as the original would. With `settle`, `git status` and `lode status`
 * run once on the copy, so both indexes match its new inodes before a test
 * compares snapshots.
 */
async function fromTemplate<T>(name: string, key: string, build: (name: string) => Promise<{ w: Work; value: T }>, settle = false): Promise<{ w: Work; value: T }> {
  let template = templates.get(key) as Promise<Template<T>> | undefined;
  if (!template) {
    template = build(`template-${key.replace(/[^a-z0-9]+/gi, '-')}`).then(({ w, value }) => ({ root: w.sb.root, rel: path.relative(w.sb.root, w.dir), value }));
    templates.set(key, template);
  }
  const t = await template;
  const sb = sandbox(name);
  fs.cpSync(t.root, sb.root, { recursive: true, preserveTimestamps: true });
  const w = work(sb, path.join(sb.root, t.rel));
  if (settle) {
    await w.gitOk('status', '--porcelain');
    await w.lodeOk('status');
  }
  return { w, value: t.value };
}

/**
 * gitWork gives a new sandbox with `git init` + `lode init` done, optionally
 * with hooks installed; with `sub`, the lode workspace is that subdirectory of
 * the git work tree (a project whose data lives in `ml/`).
 */
async function gitWork(name: string, options: { hooks?: boolean; sub?: string } = {}): Promise<Work> {
  const { w } = await fromTemplate(name, `init ${JSON.stringify(options)}`, async (n) => ({ w: await newGitWork(n, options), value: null }));
  return w;
}

async function newGitWork(name: string, options: { hooks?: boolean; sub?: string }): Promise<Work> {
  const sb = sandbox(name);
  const top = path.join(sb.root, 'work');
  const dir = options.sub ? path.join(top, options.sub) : top;
  fs.mkdirSync(dir, { recursive: true });
  await runGit(sb, top, ['init', '-q']);
  const w = work(sb, dir);
  await w.lodeOk('init');
  if (options.hooks) await w.lodeOk('install-hooks');
  return w;
}

/** commitBoth records the data as a lode commit, then the code (and lode.lock) as a git commit. Returns both IDs. */
async function commitBoth(w: Work, message: string): Promise<{ lode: string; git: string }> {
  const c = await w.json('commit', '-am', message);
  await w.gitOk('add', '-A');
  await w.gitOk('commit', '-q', '-m', message);
  return { lode: c.id, git: await w.gitOk('rev-parse', 'HEAD') };
}

/** firstData starts tracking `files` (rel -> content) with lode and commits both sides. */
async function firstData(w: Work, files: Record<string, string>, roots: string[], message = 'first data'): Promise<{ lode: string; git: string }> {
  for (const [rel, content] of Object.entries(files)) w.write(rel, content);
  await w.lodeOk('add', ...roots);
  return commitBoth(w, message);
}

/** pinLines is lode.lock without its comments. */
function pinLines(w: Work): string[] {
  return w.read('lode.lock').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

const headOf = async (w: Work) => (await w.json('status')).head as string | null;

// Generous: the tests run concurrently, each starting dozens of git and lode
// processes, so on a busy two-core machine one may take minutes of wall time.
describe.concurrent('lode beside git', { timeout: 240_000 }, () => {
  it('pins each lode commit in lode.lock and restores it across three git commits', async () => {
    const w = await gitWork('pins');
    const v1 = await firstData(w, { 'data/a.txt': 'alpha v1\n', 'data/b.txt': 'bravo\n' }, ['data'], 'g1');
    expect(pinLines(w)).toEqual(['lode-pin 1', `commit ${v1.lode}`, 'branch main', expect.stringMatching(/^dataset tree [0-9a-f]{64} 2 15 data$/)]);
    expect(w.read('.gitignore')).toContain('/data/');
    w.write('data/a.txt', 'alpha v2, longer\n');
    const v2 = await commitBoth(w, 'g2');
    w.write('data/a.txt', 'alpha v3\n');
    w.write('data/c.txt', 'charlie, new in v3\n');
    await w.lodeOk('add', 'data');
    const v3 = await commitBoth(w, 'g3');
    expect(pinLines(w)).toEqual(['lode-pin 1', `commit ${v3.lode}`, 'branch main', expect.stringMatching(/^dataset tree [0-9a-f]{64} 3 34 data$/)]);

    // Each lode commit records the git HEAD it was made on: the code commit before the one that pins it.
    const log = await w.json('log');
    expect(log.commits.map((c: any) => [c.id, c.git ?? null])).toEqual([
      [v3.lode, v2.git],
      [v2.lode, v1.git],
      [v1.lode, null],
    ]);

    // Old code, then `lode checkout`: the old data, lode detached like git.
    await w.gitOk('checkout', '-q', 'HEAD~2');
    const back = await w.json('checkout');
    expect(back).toMatchObject({ commit: v1.lode, branch: null, pin: { commit: v1.lode, branch: 'main' }, detachedBecause: expect.stringContaining('detached') });
    expect(w.read('data/a.txt')).toBe('alpha v1\n');
    expect(fs.existsSync(path.join(w.dir, 'data/c.txt'))).toBe(false);
    // Restoring a pin does not rewrite it: git sees nothing to commit.
    expect(await w.gitOk('status', '--porcelain')).toBe('');

    await w.gitOk('checkout', '-q', 'main');
    const latest = await w.json('checkout');
    expect(latest).toMatchObject({ commit: v3.lode, branch: 'main' });
    expect(latest.detachedBecause).toBeUndefined();
    expect(w.read('data/a.txt')).toBe('alpha v3\n');
    expect(w.read('data/c.txt')).toBe('charlie, new in v3\n');
    expect(await w.json('status')).toMatchObject({ branch: 'main', head: v3.lode, clean: true, pin: { commit: v3.lode, matchesHead: true } });

    // One file from what older code pinned, without moving HEAD.
    await w.lodeOk('checkout', 'git:HEAD~1', '--', 'data/a.txt');
    expect(w.read('data/a.txt')).toBe('alpha v2, longer\n');
    expect(await headOf(w)).toBe(v3.lode);
  });

  it('reads git revisions: git:REV, a git-only name, lode: forcing lode, and log --git', async () => {
    const w = await gitWork('revs');
    const v1 = await firstData(w, { 'data/a.txt': 'one\n' }, ['data'], 'g1: first data');
    w.write('data/a.txt', 'two\n');
    const v2 = await commitBoth(w, 'g2: second');
    w.write('data/a.txt', 'three\n');
    w.write('data/new.txt', 'added\n');
    await w.lodeOk('add', 'data');
    const v3 = await commitBoth(w, 'g3: third');
    // A code-only commit pins nothing new.
    w.write('README', 'code only\n');
    await w.gitOk('add', 'README');
    await w.gitOk('commit', '-q', '-m', 'g4: docs');

    const d = await w.json('diff', 'git:HEAD~3', 'git:HEAD');
    expect(d.from).toMatchObject({ rev: 'git:HEAD~3', commit: v1.lode });
    expect(d.to).toMatchObject({ rev: 'git:HEAD', commit: v3.lode });
    expect(d.changes.map((c: any) => [c.status, c.path])).toEqual([
      ['modified', 'data/a.txt'],
      ['added', 'data/new.txt'],
    ]);
    // A git SHA prefix works too.
    expect((await w.json('diff', `git:${v2.git.slice(0, 8)}`, 'git:HEAD')).from.commit).toBe(v2.lode);

    // HEAD~3 is lode's history even where lode's is shorter than git's: no silent switch to git's HEAD~3.
    const past = expectLodeError(await w.lode('diff', 'HEAD~3', 'HEAD'), 6);
    expect(past).toContain('unknown revision: HEAD~3');
    expect(past).toContain('shorter');
    expect((await w.json('diff', 'git:HEAD~3', 'HEAD')).from.commit).toBe(v1.lode);

    // A name only git has (`old`) is read as a git revision; lode:old refuses it.
    await w.gitOk('branch', 'old', v1.git);
    expect((await w.json('diff', 'old', 'main')).from).toMatchObject({ commit: v1.lode });
    expect(expectLodeError(await w.lode('diff', 'lode:old', 'main'), 6)).toContain('unknown revision: lode:old');

    // A name both have: the bare name is lode's, git: is git's.
    await w.gitOk('checkout', '-q', '-b', 'feature');
    await w.lodeOk('checkout'); // lode follows: creates lode branch feature at the pin
    w.write('data/a.txt', 'feature data, not pinned by any git commit\n');
    const lodeOnly = (await w.json('commit', '-am', 'lode only')).id;
    const both = await w.json('diff', 'git:feature', 'feature');
    expect(both.from.commit).toBe(v3.lode);
    expect(both.to.commit).toBe(lodeOnly);
    expect(both.changes.map((c: any) => c.path)).toEqual(['data/a.txt']);
    expect((await w.json('log', '-n', '1', 'git:feature')).commits[0].id).toBe(v3.lode);

    // branch and tag take git revisions too.
    await w.lodeOk('branch', 'from-git', 'git:HEAD~2');
    await w.lodeOk('tag', 'pinned-by-g2', 'git:HEAD~2');
    const refs = await w.json('log', '-n', '1', 'from-git');
    expect(refs.commits[0]).toMatchObject({ id: v2.lode, refs: expect.arrayContaining(['from-git', 'tag: pinned-by-g2']) });

    // log --git: which code commit pinned which data commit.
    await w.gitOk('checkout', '-q', '-f', 'main');
    const log = await w.json('log', '--git', 'main');
    const pinned = Object.fromEntries(log.commits.map((c: any) => [c.id, c.pinnedBy.map((p: any) => [p.oid, p.summary])]));
    expect(pinned).toEqual({
      [v3.lode]: [[v3.git, 'g3: third']],
      [v2.lode]: [[v2.git, 'g2: second']],
      [v1.lode]: [[v1.git, 'g1: first data']],
    });
    expect(log.commits[0].pinnedBy[0].date).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('merges two git branches that changed different datasets through the merge driver, hooks doing the rest (workspace in a subdirectory)', async () => {
    const w = await gitWork('gitmerge', { hooks: true, sub: 'ml' });
    expect(await w.gitOk('config', 'merge.lode.driver')).toContain('merge-driver %O %A %B %P');
    expect(w.read('../.gitattributes')).toBe('/ml/lode.lock merge=lode\n');
    const base = await firstData(w, { 'images/i.bin': 'image v1\n', 'labels/l.csv': 'id,label\n1,cat\n' }, ['images', 'labels'], 'base');
    await w.gitOk('checkout', '-q', '-b', 'feature');
    expect(await w.json('status')).toMatchObject({ branch: 'feature', head: base.lode });
    w.write('labels/l.csv', 'id,label\n1,dog\n');
    const feature = await commitBoth(w, 'relabel');

    const sw = await w.git('checkout', 'main');
    expect(sw.code).toBe(0);
    expect(sw.stderr).toContain('lode: restored the data lode.lock pins');
    expect(w.read('labels/l.csv')).toBe('id,label\n1,cat\n');
    w.write('images/i.bin', 'image v2\n');
    const main = await commitBoth(w, 'new images');

    const m = await w.git('merge', '--no-edit', 'feature');
    expect(m.code, m.stdout + m.stderr).toBe(0);
    expect(m.stderr).toContain('lode: merged the pinned data');
    // The post-merge hook checked the merged data out.
    expect(w.read('images/i.bin')).toBe('image v2\n');
    expect(w.read('labels/l.csv')).toBe('id,label\n1,dog\n');
    const [merged] = (await w.json('log', '-n', '1')).commits;
    expect(merged.parents).toEqual([main.lode, feature.lode]);
    expect(await w.json('status')).toMatchObject({ branch: 'main', head: merged.id, clean: true, pin: { commit: merged.id, matchesHead: true } });
    // git committed the merged pin itself.
    expect(await w.gitOk('status', '--porcelain')).toBe('');
    expect(await w.gitOk('show', 'HEAD:ml/lode.lock')).toContain(`commit ${merged.id}`);
    expect((await w.json('log', '--git', '-n', '1')).commits[0].pinnedBy.map((p: any) => p.oid)).toEqual([await w.gitOk('rev-parse', 'HEAD')]);
  });

  describe('a git merge whose branches changed the same file', () => {
    /** conflicted leaves a git merge stopped on lode.lock: main and feature both changed data/x.txt. */
    async function conflicted(name: string) {
      const { w, value } = await fromTemplate(name, 'conflicted', buildConflicted, true);
      return { w, ...value };
    }

    async function buildConflicted(name: string) {
      const w = await gitWork(name, { hooks: true });
      await firstData(w, { 'data/x.txt': 'base\n', 'data/y.txt': 'same\n' }, ['data'], 'base');
      await w.gitOk('checkout', '-q', '-b', 'feature');
      w.write('data/x.txt', 'theirs\n');
      w.write('data/z.txt', 'only on feature\n');
      await w.lodeOk('add', 'data');
      const theirs = await commitBoth(w, 'feature edit');
      await w.gitOk('checkout', '-q', 'main');
      w.write('data/x.txt', 'ours\n');
      const ours = await commitBoth(w, 'main edit');
      const m = await w.git('merge', '--no-edit', 'feature');
      expect(m.code).toBe(1);
      expect(m.stdout).toContain('CONFLICT (content): Merge conflict in lode.lock');
      expect(m.stderr).toContain('data/x.txt');
      // Anything that needs the pin now says why it cannot read it, and changes nothing.
      const co = await w.lode('checkout');
      expect(expectLodeError(co, 7)).toContain('lode.lock has unresolved merge conflict markers');
      expect(w.read('data/x.txt')).toBe('ours\n');
      // lode merges the data of git's MERGE_HEAD and lists the conflict.
      const lm = await w.lode('merge', 'git:MERGE_HEAD');
      expect(lm.code, lm.stderr).toBe(7);
      expect(lm.stdout).toMatch(/content\s+data\/x\.txt/);
      const st = await w.json('status');
      expect(st).toMatchObject({ head: ours.lode, merging: theirs.lode, clean: false });
      expect(w.read('data/x.txt')).toBe('ours\n');
      expect(w.read('data/z.txt')).toBe('only on feature\n');
      return { w, value: { ours, theirs } };
    }

    /** concluded checks the lode merge commit and finishes the git merge. */
    async function concluded(w: Work, ours: string, theirs: string) {
      const [c] = (await w.json('log', '-n', '1')).commits;
      expect(c.parents).toEqual([ours, theirs]);
      expect(await w.json('status')).toMatchObject({ branch: 'main', head: c.id, clean: true, pin: { commit: c.id, matchesHead: true } });
      expect((await w.json('status')).merging).toBeUndefined();
      await w.gitOk('add', 'lode.lock');
      await w.gitOk('commit', '-q', '--no-edit');
      expect(await w.gitOk('status', '--porcelain')).toBe('');
      expect((await w.json('diff', 'git:HEAD', 'HEAD')).changes).toEqual([]);
      return c.id as string;
    }

    it('is resolved with `lode merge --theirs`', async () => {
      const { w, ours, theirs } = await conflicted('conflict-theirs');
      const r = await w.json('merge', '--theirs');
      expect(r).toMatchObject({ outcome: 'merged', resolvedWith: 'theirs', ours: ours.lode, theirs: theirs.lode });
      expect(r.conflicts.map((c: any) => c.path)).toEqual(['data/x.txt']);
      expect(w.read('data/x.txt')).toBe('theirs\n');
      expect(w.read('data/y.txt')).toBe('same\n');
      expect(w.read('data/z.txt')).toBe('only on feature\n');
      await concluded(w, ours.lode, theirs.lode);
    });

    it('is resolved by editing the file, `lode add` and `lode commit`', async () => {
      const { w, ours, theirs } = await conflicted('conflict-edit');
      await w.lodeOk('checkout', 'MERGE_HEAD', '--', 'data/x.txt');
      expect(w.read('data/x.txt')).toBe('theirs\n');
      w.write('data/x.txt', 'ours and theirs, by hand\n');
      await w.lodeOk('add', 'data/x.txt');
      const c = await w.json('commit', '-m', 'merge feature data');
      expect(c.merged).toBe(theirs.lode);
      await concluded(w, ours.lode, theirs.lode);
      expect(w.read('data/x.txt')).toBe('ours and theirs, by hand\n');
      expect(w.read('data/z.txt')).toBe('only on feature\n');
    });
  });

  it('merges lode branches: fast-forward, --no-ff, clean three-way, conflict and --abort', async () => {
    const w = await gitWork('lodemerge');
    const base = await firstData(w, { 'data/a.txt': 'a0\n', 'data/b.txt': 'b0\n' }, ['data']);
    // Fast-forward: main is behind ff.
    await w.lodeOk('branch', 'ff');
    await w.lodeOk('checkout', 'ff');
    w.write('data/a.txt', 'a1 on ff\n');
    const ff = (await w.json('commit', '-am', 'ff')).id;
    await w.lodeOk('checkout', 'main');
    expect(await w.json('merge', 'ff')).toMatchObject({ outcome: 'fastForward', commit: ff });
    expect(await w.json('status')).toMatchObject({ branch: 'main', head: ff, clean: true });
    expect(w.read('data/a.txt')).toBe('a1 on ff\n');
    expect(pinLines(w)[1]).toBe(`commit ${ff}`);
    expect(await w.json('merge', 'ff')).toMatchObject({ outcome: 'upToDate', commit: ff });

    // --no-ff makes a merge commit even so.
    await w.lodeOk('checkout', '-b', 'noff', base.lode);
    const nf = await w.json('merge', '--no-ff', '-m', 'merge ff, no fast-forward', 'ff');
    expect(nf.outcome).toBe('merged');
    const [nfc] = (await w.json('log', '-n', '1')).commits;
    expect(nfc).toMatchObject({ id: nf.commit, parents: [base.lode, ff], message: 'merge ff, no fast-forward\n' });

    // Clean three-way merge: different files on each side.
    await w.lodeOk('checkout', '-b', 'side', ff);
    w.write('data/b.txt', 'b1 on side\n');
    const side = (await w.json('commit', '-am', 'side')).id;
    await w.lodeOk('checkout', 'main');
    w.write('data/c.txt', 'c on main\n');
    await w.lodeOk('add', 'data');
    const mainTip = (await w.json('commit', '-m', 'main adds c')).id;
    const clean = await w.json('merge', 'side');
    expect(clean).toMatchObject({ outcome: 'merged', base: ff, conflicts: [], fromTheirs: 1 });
    expect((await w.json('log', '-n', '1')).commits[0].parents).toEqual([mainTip, side]);
    expect([w.read('data/a.txt'), w.read('data/b.txt'), w.read('data/c.txt')]).toEqual(['a1 on ff\n', 'b1 on side\n', 'c on main\n']);
    expect(await w.json('status')).toMatchObject({ branch: 'main', head: clean.commit, clean: true });

    // Conflict, then --abort puts everything back.
    await w.lodeOk('checkout', '-b', 'other', clean.commit);
    w.write('data/a.txt', 'a on other\n');
    w.write('data/d.txt', 'd on other\n');
    await w.lodeOk('add', 'data');
    const other = (await w.json('commit', '-m', 'other')).id;
    await w.lodeOk('checkout', 'main');
    w.write('data/a.txt', 'a on main\n');
    const mine = (await w.json('commit', '-am', 'main a')).id;
    const before = workspaceSnapshot(w.dir);
    const lockBefore = w.read('lode.lock');
    const r = await w.lode('merge', 'other');
    expect(r.code, r.stderr).toBe(7);
    expect(r.stdout).toMatch(/content\s+data\/a\.txt/);
    expect(w.read('data/a.txt')).toBe('a on main\n');
    expect(w.read('data/d.txt')).toBe('d on other\n');
    expect(await w.json('status')).toMatchObject({ head: mine, merging: other });
    // A second merge is refused while this one waits.
    expect(expectLodeError(await w.lode('merge', 'side'), 7)).toContain('in progress');
    expect(await w.json('merge', '--abort')).toMatchObject({ outcome: 'aborted' });
    expect(workspaceSnapshot(w.dir)).toEqual(before);
    expect(w.read('lode.lock')).toBe(lockBefore);
    const st = await w.json('status');
    expect(st).toMatchObject({ branch: 'main', head: mine, clean: true });
    expect(st.merging).toBeUndefined();
    expect(expectLodeError(await w.lode('merge', '--abort'), 2)).toContain('no merge is in progress');
  });

  it('a conflicted merge guards its state: abort keeps unrelated edits, commit waits for every conflict, HEAD stays put', async () => {
    const w = await gitWork('mergestate');
    await firstData(w, { 'data/a.txt': 'a0\n', 'data/c.txt': 'c0\n' }, ['data']);
    await w.lodeOk('branch', 'feat');
    await w.lodeOk('checkout', 'feat');
    w.write('data/a.txt', 'theirs\n');
    w.write('data/new.txt', 'from feat\n');
    await w.lodeOk('add', 'data');
    const feat = (await w.json('commit', '-m', 'feat')).id;
    await w.lodeOk('checkout', 'main');
    w.write('data/a.txt', 'ours\n');
    const mine = (await w.json('commit', '-am', 'ours')).id;
    // An unrelated, uncommitted edit before the merge.
    w.write('data/c.txt', 'precious, not committed\n');

    expect((await w.lode('merge', 'feat')).code).toBe(7);
    expect(await w.json('status')).toMatchObject({ merging: feat, unresolved: ['data/a.txt'], clean: false });
    // Nothing may move HEAD or conclude the merge while a conflict is unresolved.
    expect(expectLodeError(await w.lode('commit', '-m', 'too early'), 7)).toContain('unresolved');
    expect(expectLodeError(await w.lode('commit', '-a', '-m', 'too early'), 7)).toContain('unresolved');
    expect(expectLodeError(await w.lode('checkout', 'feat'), 7)).toContain('in progress');
    expect(await headOf(w)).toBe(mine);

    // --abort undoes what the merge staged and nothing else.
    expect(await w.json('merge', '--abort')).toMatchObject({ outcome: 'aborted' });
    expect(w.read('data/c.txt')).toBe('precious, not committed\n');
    expect(w.read('data/a.txt')).toBe('ours\n');
    expect(fs.existsSync(path.join(w.dir, 'data/new.txt'))).toBe(false);
    expect((await w.json('status')).unstaged).toEqual([{ path: 'data/c.txt', status: 'modified' }]);

    // Again, resolved by hand: `lode add` marks the path resolved, then commit records both parents.
    await w.lodeOk('checkout', '-f', '--', 'data/c.txt');
    expect((await w.lode('merge', 'feat')).code).toBe(7);
    w.write('data/a.txt', 'both, by hand\n');
    await w.lodeOk('add', 'data/a.txt');
    expect((await w.json('status')).unresolved).toEqual([]);
    const done = await w.json('commit', '-m', 'merged by hand');
    expect(done.merged).toBe(feat);
    expect((await w.json('log', '-n', '1')).commits[0].parents).toEqual([mine, feat]);
    expect([w.read('data/a.txt'), w.read('data/new.txt')]).toEqual(['both, by hand\n', 'from feat\n']);
    expect((await w.json('status')).merging).toBeUndefined();
  });

  it('resolutions made with lode add / lode rm survive --theirs and are undone by --abort; gc keeps a waiting merge', async () => {
    const w = await gitWork('resolutions');
    await firstData(w, { 'data/a.txt': 'a0\n', 'data/b.txt': 'b0\n', 'data/c.txt': 'c0\n' }, ['data']);
    await w.lodeOk('branch', 'feat');
    await w.lodeOk('checkout', 'feat');
    for (const f of ['a', 'b', 'c']) w.write(`data/${f}.txt`, `${f} theirs\n`);
    const feat = (await w.json('commit', '-am', 'feat')).id;
    await w.lodeOk('checkout', 'main');
    w.write('data/a.txt', 'a ours\n');
    w.write('data/b.txt', 'b ours\n');
    await w.lodeOk('rm', 'data/c.txt');
    const mine = (await w.json('commit', '-am', 'ours')).id;

    expect((await w.lode('merge', 'feat')).code).toBe(7);
    expect((await w.json('status')).unresolved).toEqual(['data/a.txt', 'data/b.txt', 'data/c.txt']);
    // gc while the merge waits must not break --abort or the merge.
    await w.lodeOk('gc');
    // a.txt resolved by hand; c.txt (ours deleted it) resolved as deleted, though it is already gone.
    w.write('data/a.txt', 'a merged by hand\n');
    const added = await w.json('add', 'data/a.txt');
    expect(added.resolved).toEqual(['data/a.txt']);
    expect((await w.json('rm', 'data/c.txt')).resolved).toEqual(['data/c.txt']);
    // --abort undoes the resolutions too: back to exactly HEAD.
    expect(await w.json('merge', '--abort')).toMatchObject({ outcome: 'aborted' });
    expect([w.read('data/a.txt'), w.read('data/b.txt'), fs.existsSync(path.join(w.dir, 'data/c.txt'))]).toEqual(['a ours\n', 'b ours\n', false]);
    expect(await w.json('status')).toMatchObject({ head: mine, clean: true, staged: [] });

    // Again, and this time --theirs decides only what is still open.
    expect((await w.lode('merge', 'feat')).code).toBe(7);
    w.write('data/a.txt', 'a merged by hand\n');
    await w.lodeOk('add', 'data/a.txt');
    const r = await w.json('merge', '--theirs');
    expect(r).toMatchObject({ outcome: 'merged', resolvedWith: 'theirs' });
    expect(r.conflicts.map((c: { path: string }) => c.path)).toEqual(['data/b.txt', 'data/c.txt']);
    expect([w.read('data/a.txt'), w.read('data/b.txt'), w.read('data/c.txt')]).toEqual(['a merged by hand\n', 'b theirs\n', 'c theirs\n']);
    expect((await w.json('log', '-n', '1')).commits[0].parents).toEqual([mine, feat]);
    expect(await w.json('status')).toMatchObject({ clean: true });
    expect((await w.lode('fsck')).code).toBe(0);
  });

  it('a linked git worktree and a damaged merge state get clear errors, nothing changed', async () => {
    const w = await gitWork('worktree');
    await firstData(w, { 'data/a.txt': 'a\n' }, ['data']);
    const linked = path.join(w.sb.root, 'linked');
    await w.gitOk('worktree', 'add', '-q', linked);
    const l = work(w.sb, linked);
    await l.lodeOk('init');
    expect(expectLodeError(await l.lode('install-hooks'), 2)).toContain('linked git worktree');
    expect(expectLodeError(await l.lode('diff', 'git:HEAD'), 2)).toContain('linked git worktree');

    const before = workspaceSnapshot(w.dir);
    fs.writeFileSync(path.join(w.dir, '.lode', 'MERGE'), '{"theirs": "not an id"');
    expect(expectLodeError(await w.lode('commit', '--allow-empty', '-m', 'x'), 5)).toContain('MERGE');
    expect(expectLodeError(await w.lode('status'), 5)).toContain('MERGE');
    expect(workspaceSnapshot(w.dir)).toEqual(before);
  });

  it('a merge keeps a dataset one side dropped while the other changed files in it', async () => {
    const w = await gitWork('mergeroots');
    await firstData(w, { 'd/a': '1\n', 'e/b': '2\n' }, ['d', 'e']);
    await w.lodeOk('branch', 'feat');
    await w.lodeOk('rm', 'd');
    await w.lodeOk('commit', '-m', 'drop d');
    await w.lodeOk('checkout', 'feat');
    w.write('d/new', 'new\n');
    await w.lodeOk('add', 'd');
    await w.lodeOk('commit', '-m', 'add d/new');
    await w.lodeOk('checkout', 'main');
    expect((await w.json('merge', 'feat')).outcome).toBe('merged');
    expect((await w.json('status')).datasets).toEqual(['d', 'e']);
    w.write('d/new', 'edited\n');
    expect((await w.json('status')).unstaged).toEqual([{ path: 'd/new', status: 'modified' }]);
  });

  it('the merge driver leaves conflict markers when it cannot merge, and .gitattributes works for a path with spaces', async () => {
    const w = await gitWork('driverfail', { hooks: true, sub: 'ml data' });
    const attrs = await runGit(w.sb, path.dirname(w.dir), ['check-attr', 'merge', '--', 'ml data/lode.lock']);
    expect(attrs.stdout.trim()).toBe('ml data/lode.lock: merge: lode');
    await firstData(w, { 'data/a.txt': 'a\n' }, ['data']);
    await w.gitOk('checkout', '-q', '-b', 'fake');
    // A pin naming a lode commit nobody has (no remote either): the driver must fail loudly.
    w.write('lode.lock', w.read('lode.lock').replace(/^commit [0-9a-f]{64}$/m, `commit ${'e'.repeat(64)}`));
    await w.gitOk('commit', '-q', '-am', 'pin a commit nobody has');
    await w.gitOk('checkout', '-q', 'main');
    w.write('data/a.txt', 'a2\n');
    await commitBoth(w, 'main moves');
    const r = await w.git('merge', '--no-edit', 'fake');
    expect(r.code).not.toBe(0);
    const pin = w.read('lode.lock');
    expect(pin).toMatch(/^<<<<<<< ours$/m);
    expect(pin).toContain(`commit ${'e'.repeat(64)}`);
    expect(expectLodeError(await w.lode('checkout'), 7)).toContain('conflict markers');
  });

  it('restores data on `git checkout` through the hooks, and never clobbers uncommitted data', async () => {
    const w = await gitWork('hooks', { hooks: true });
    const v1 = await firstData(w, { 'data/a.txt': 'main data\n' }, ['data']);
    await w.gitOk('checkout', '-q', '-b', 'feature');
    w.write('data/a.txt', 'feature data\n');
    const f = await commitBoth(w, 'feature data');

    const toMain = await w.git('checkout', 'main');
    expect(toMain.code).toBe(0);
    expect(w.read('data/a.txt')).toBe('main data\n');
    expect(await w.json('status')).toMatchObject({ branch: 'main', head: v1.lode, clean: true });
    await w.gitOk('checkout', '-q', 'feature');
    expect(w.read('data/a.txt')).toBe('feature data\n');
    expect(await w.json('status')).toMatchObject({ branch: 'feature', head: f.lode });
    // A detached git checkout detaches lode too.
    await w.gitOk('checkout', '-q', '--detach', 'main');
    expect(await w.json('status')).toMatchObject({ branch: null, head: v1.lode });
    await w.gitOk('checkout', '-q', 'feature');

    // Uncommitted data: the hook leaves it and says so; git's checkout itself goes ahead.
    w.write('data/a.txt', 'precious local edit\n');
    const r = await w.git('checkout', 'main');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('data/a.txt');
    expect(r.stderr).toContain('lode: the data was not restored');
    expect(w.read('data/a.txt')).toBe('precious local edit\n');
    expect(await w.json('status')).toMatchObject({ branch: 'feature', head: f.lode, pin: { commit: v1.lode, matchesHead: false } });

    // Code-only git moves that leave the pin as it is do not touch (or complain about) local data edits.
    await w.gitOk('checkout', '-q', 'feature');
    await w.lodeOk('checkout', '--force');
    w.write('data/a.txt', 'another local edit\n');
    const same = await w.git('checkout', 'feature');
    expect(same.code).toBe(0);
    expect(same.stderr).not.toContain('lode');
    await w.gitOk('checkout', '-q', '-b', 'docs');
    w.write('NOTES', 'code only\n');
    await w.gitOk('add', 'NOTES');
    await w.gitOk('commit', '-q', '-m', 'notes');
    await w.gitOk('checkout', '-q', 'feature');
    const pull = await w.git('merge', '--no-edit', 'docs');
    expect(pull.code).toBe(0);
    expect(pull.stderr).not.toContain('lode');
    expect(w.read('data/a.txt')).toBe('another local edit\n');
    expect(await w.json('status')).toMatchObject({ branch: 'feature', head: f.lode, unstaged: [{ path: 'data/a.txt', status: 'modified' }] });
    await w.gitOk('checkout', '-q', 'main');

    // Once the edit is gone, `lode checkout` catches up with git.
    w.write('data/a.txt', 'feature data\n');
    await w.lodeOk('checkout');
    expect(w.read('data/a.txt')).toBe('main data\n');

    // LODE_SKIP_HOOKS=1 skips them once.
    const skipped = await runGit({ ...w.sb, env: { ...w.sb.env, LODE_SKIP_HOOKS: '1' } }, w.dir, ['checkout', '-q', 'feature']);
    expect(skipped.code).toBe(0);
    expect(w.read('data/a.txt')).toBe('main data\n');
    expect(await headOf(w)).toBe(v1.lode);
    await w.lodeOk('checkout');
    expect(w.read('data/a.txt')).toBe('feature data\n');
  });

  it('pushes the lode branch before the code (pre-push), so a fresh clone can restore the data', async () => {
    const w = await gitWork('prepush', { hooks: true });
    const lodeRemote = path.join(w.sb.root, 'lode-remote');
    const gitRemote = path.join(w.sb.root, 'code.git');
    fs.mkdirSync(lodeRemote);
    await runGit(w.sb, w.sb.root, ['init', '-q', '--bare', gitRemote]);
    await w.gitOk('remote', 'add', 'origin', gitRemote);
    await w.lodeOk('remote', 'add', 'origin', lodeRemote);
    await w.lodeOk('remote', 'default', 'origin');
    const v1 = await firstData(w, { 'data/a.txt': 'shared data\n', 'data/big.bin': 'x'.repeat(5000) }, ['data']);
    expect(await w.json('status', '--remote')).toMatchObject({ remote: 'origin', remoteTip: null, state: 'noRemoteBranch' });

    const p = await w.git('push', '-q', 'origin', 'main');
    expect(p.code, p.stderr).toBe(0);
    expect(await w.json('status', '--remote')).toMatchObject({ remoteTip: v1.lode, state: 'upToDate' });

    // A teammate clones the code: .lode/config came along, `lode checkout` fetches what lode.lock pins.
    const cloneDir = path.join(w.sb.root, 'clone');
    await runGit(w.sb, w.sb.root, ['clone', '-q', '-b', 'main', gitRemote, cloneDir]);
    const c = work(w.sb, cloneDir);
    expect(fs.existsSync(path.join(cloneDir, 'data'))).toBe(false);
    await c.lodeOk('init');
    const co = await c.json('checkout');
    expect(co).toMatchObject({ commit: v1.lode, branch: 'main', fetched: true });
    expect(c.read('data/a.txt')).toBe('shared data\n');
    expect(c.read('data/big.bin')).toBe('x'.repeat(5000));

    // Code that pins a lode commit on no pushed branch (made on a detached lode HEAD) is refused too.
    await w.lodeOk('checkout', v1.lode);
    w.write('data/a.txt', 'detached data\n');
    const detached = (await w.json('commit', '-am', 'detached')).id;
    await w.gitOk('commit', '-q', '-am', 'pins detached data');
    const refused = await w.git('push', '-q', 'origin', 'HEAD:main');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`pins lode commit ${detached.slice(0, 12)}`);
    await w.lodeOk('branch', 'kept', detached);
    await w.lodeOk('push', 'origin', 'kept');
    expect((await w.git('push', '-q', 'origin', 'HEAD:main')).code).toBe(0);
    await w.gitOk('reset', '-q', '--hard', 'HEAD~1');
    await w.lodeOk('checkout', 'main');

    // When the data cannot be pushed, the code is not pushed either (a file stands where the remote should be).
    fs.writeFileSync(path.join(w.sb.root, 'a-file'), 'not a directory\n');
    await w.lodeOk('remote', 'add', 'gone', path.join(w.sb.root, 'a-file', 'lode'));
    await w.lodeOk('remote', 'default', 'gone');
    w.write('data/a.txt', 'v2\n');
    await commitBoth(w, 'v2');
    const before = await runGit(w.sb, gitRemote, ['rev-parse', 'main']);
    const failed = await w.git('push', '-q', 'origin', 'main');
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('lode: the data push failed');
    expect((await runGit(w.sb, gitRemote, ['rev-parse', 'main'])).stdout).toBe(before.stdout);
  });

  it('gc keeps data that a git branch pins even when no lode ref reaches it', async () => {
    const w = await gitWork('gc-pins');
    const v1 = await firstData(w, { 'data/a.csv': 'id\n1\n' }, ['data']);
    // Detach lode, commit data there and pin it on a git branch: only git knows this commit.
    await w.lodeOk('checkout', v1.lode);
    w.write('data/a.csv', 'id\n1\n2\n');
    const detached = await w.json('commit', '-am', 'pinned only by git');
    await w.gitOk('checkout', '-q', '-b', 'experiment');
    await w.gitOk('commit', '-q', '-am', 'experiment data');
    await w.gitOk('checkout', '-q', 'main');
    await w.lodeOk('checkout');
    expect(await headOf(w)).toBe(v1.lode);
    await w.lodeOk('gc');
    // The git branch's pin still restores: its commit and file survived gc.
    await w.gitOk('checkout', '-q', 'experiment');
    await w.lodeOk('checkout');
    expect(await headOf(w)).toBe(detached.id);
    expect(w.read('data/a.csv')).toBe('id\n1\n2\n');
    expect((await w.lode('fsck')).code).toBe(0);
  });

  it('outside git: no lode.lock, no errors, `lode checkout` restores HEAD, git revisions refused clearly', async () => {
    const sb = sandbox('nogit');
    const dir = path.join(sb.root, 'plain');
    fs.mkdirSync(dir);
    const w = work(sb, dir);
    await w.lodeOk('init');
    w.write('data/a.txt', 'plain\n');
    await w.lodeOk('add', 'data');
    const c = await w.json('commit', '-m', 'one');
    expect(c.pinFile).toBeUndefined();
    expect(c.git).toBeUndefined();
    expect(fs.existsSync(path.join(dir, 'lode.lock'))).toBe(false);
    fs.rmSync(path.join(dir, 'data/a.txt'));
    const co = await w.json('checkout');
    expect(co).toMatchObject({ commit: c.id, branch: 'main', pin: null, written: 1 });
    expect(w.read('data/a.txt')).toBe('plain\n');
    expect((await w.json('status')).pin).toBeUndefined();
    expect(expectLodeError(await w.lode('diff', 'git:HEAD', 'HEAD'), 2)).toContain('not inside a git work tree');
    expect(expectLodeError(await w.lode('log', '--git'), 2)).toContain('not inside a git work tree');
    expect(expectLodeError(await w.lode('install-hooks'), 2)).toContain('not inside a git work tree');
    // Without git, an unknown name is just unknown.
    expect(expectLodeError(await w.lode('diff', 'nope'), 6)).toContain('nope');
    expect(fs.existsSync(path.join(dir, 'lode.lock'))).toBe(false);
  });

  describe('bad input', () => {
    /** pinned is a work tree with two pinned versions; v2 checked out. */
    async function pinned(name: string) {
      const { w, value } = await fromTemplate(
        name,
        'pinned',
        async (n) => {
          const w = await gitWork(n);
          w.write('README', 'code before any data\n');
          await w.gitOk('add', 'README');
          await w.gitOk('commit', '-q', '-m', 'no data yet');
          const v1 = await firstData(w, { 'data/a.txt': 'v1\n' }, ['data']);
          w.write('data/a.txt', 'v2\n');
          const v2 = await commitBoth(w, 'v2');
          return { w, value: { v1, v2 } };
        },
        true,
      );
      return { w, ...value };
    }

    it('a git revision that does not exist, or pins nothing: exit 6, nothing changed', async () => {
      const { w, v2 } = await pinned('bad-rev');
      const before = workspaceSnapshot(w.dir);
      expect(expectLodeError(await w.lode('diff', 'git:no-such-branch', 'HEAD'), 6)).toContain('git:no-such-branch');
      expect(expectLodeError(await w.lode('checkout', 'git:HEAD~9'), 6)).toMatch(/git:HEAD~9[\s\S]*shorter/);
      expect(expectLodeError(await w.lode('diff', 'git:HEAD^2'), 6)).toMatch(/git:HEAD\^2[\s\S]*has no parent number 2/);
      const neither = expectLodeError(await w.lode('checkout', 'nowhere'), 6);
      expect(neither).toContain('neither lode nor git');
      const noPin = expectLodeError(await w.lode('checkout', 'git:HEAD~2'), 6);
      expect(noPin).toMatch(/has no lode\.lock/);
      expect(workspaceSnapshot(w.dir)).toEqual(before);
      expect(await headOf(w)).toBe(v2.lode);
    });

    it('a pin file edited into nonsense: exit 5 naming lode.lock and the line, nothing changed', async () => {
      const { w, v2 } = await pinned('bad-pin');
      await w.gitOk('checkout', '-q', 'HEAD~1'); // git is elsewhere: a restore would move lode
      w.write('lode.lock', w.read('lode.lock').replace(/^commit [0-9a-f]+$/m, 'commit 1234abcd'));
      const before = workspaceSnapshot(w.dir);
      const err = expectLodeError(await w.lode('checkout'), 5);
      expect(err).toContain('lode.lock is not a valid pin file (line 4: the commit is not a 64-digit hex ID)');
      expect(err).toMatch(/^hint: .*git checkout -- lode\.lock/m);
      expect(workspaceSnapshot(w.dir)).toEqual(before);
      const st = await w.json('status');
      expect(st).toMatchObject({ head: v2.lode, pin: { commit: null, problem: expect.stringContaining('line 4') } });

      // The same nonsense committed to git is reported where it was read.
      await w.gitOk('checkout', '-q', '-f', 'main');
      w.write('lode.lock', 'lode-pin 1\ncommit 1234abcd\n');
      await w.gitOk('commit', '-q', '-am', 'broken pin');
      expect(expectLodeError(await w.lode('diff', 'git:HEAD', 'HEAD'), 5)).toContain('lode.lock at git HEAD is not a valid pin file (line 2');
    });

    it('a pin naming a commit neither the cache nor the remote has: NOT_FOUND with a hint, nothing changed', async () => {
      const { w, v2 } = await pinned('missing-commit');
      const ghost = 'ab'.repeat(32);
      w.write('lode.lock', w.read('lode.lock').replace(/^commit [0-9a-f]+$/m, `commit ${ghost}`));
      let before = workspaceSnapshot(w.dir);
      const noRemote = expectLodeError(await w.lode('checkout'), 6);
      expect(noRemote).toContain(`lode.lock names lode commit ${ghost.slice(0, 12)}, which is not in the local store`);
      expect(noRemote).toMatch(/^hint: .*lode remote add/m);

      const remote = path.join(w.sb.root, 'lode-remote');
      fs.mkdirSync(remote);
      await w.lodeOk('remote', 'add', 'origin', remote);
      await w.lodeOk('remote', 'default', 'origin');
      await w.lodeOk('push');
      expect(workspaceSnapshot(w.dir)).toEqual(before);
      before = workspaceSnapshot(w.dir);
      const withRemote = expectLodeError(await w.lode('checkout'), 6);
      expect(withRemote).toContain('nor on remote origin');
      expect(withRemote).toMatch(/^hint: .*lode push/m);
      expect(workspaceSnapshot(w.dir)).toEqual(before);
      expect(await headOf(w)).toBe(v2.lode);
    });

    it('left-over conflict markers in lode.lock: CONFLICT, nothing changed', async () => {
      const { w, v2 } = await pinned('markers');
      const pin = w.read('lode.lock');
      w.write('lode.lock', `<<<<<<< HEAD\n${pin}=======\n${pin}>>>>>>> other\n`);
      const before = workspaceSnapshot(w.dir);
      const err = expectLodeError(await w.lode('checkout'), 7);
      expect(err).toContain('lode.lock has unresolved merge conflict markers (line 1)');
      expect(err).toMatch(/^hint: .*lode merge/m);
      expect(workspaceSnapshot(w.dir)).toEqual(before);
      expect(await headOf(w)).toBe(v2.lode);
      expect((await w.json('status')).pin.problem).toContain('conflict markers');
    });

    it('detached git HEAD: lode detaches at the pin, and a commit there pins without a branch', async () => {
      const { w, v1 } = await pinned('detached');
      await w.gitOk('checkout', '-q', '--detach', 'HEAD~1');
      expect(await w.json('checkout')).toMatchObject({ commit: v1.lode, branch: null, detachedBecause: 'git HEAD is detached' });
      expect(w.read('data/a.txt')).toBe('v1\n');
      w.write('data/a.txt', 'made while detached\n');
      const c = await w.json('commit', '-am', 'detached work');
      expect(c.branch).toBeNull();
      expect(pinLines(w)).toEqual(['lode-pin 1', `commit ${c.id}`, expect.stringMatching(/^dataset tree /)]);
      await w.gitOk('commit', '-q', '-am', 'detached code');
      expect((await w.json('diff', 'git:HEAD~1', 'git:HEAD')).to.commit).toBe(c.id);
    });

    it('a workspace inside a bare repository: plain lode works, git features refuse clearly', async () => {
      const sb = sandbox('bare');
      const bare = path.join(sb.root, 'repo.git');
      await runGit(sb, sb.root, ['init', '-q', '--bare', bare]);
      const dir = path.join(bare, 'ws');
      fs.mkdirSync(dir);
      const w = work(sb, dir);
      await w.lodeOk('init');
      w.write('data/a.txt', 'in a bare repo\n');
      await w.lodeOk('add', 'data');
      const c = await w.json('commit', '-m', 'one');
      expect(fs.existsSync(path.join(dir, 'lode.lock'))).toBe(false);
      for (const args of [['diff', 'git:HEAD', 'HEAD'], ['log', '--git'], ['install-hooks']]) {
        const err = expectLodeError(await w.lode(...args), 2);
        expect(err).toContain('is a bare git repository');
        expect(err).toMatch(/^hint: .*git clone/m);
      }
      expect(await headOf(w)).toBe(c.id);
    });

    it('a shallow clone: history beyond the cut is reported as such', async () => {
      const { w } = await pinned('shallow');
      const clone = path.join(w.sb.root, 'shallow');
      await runGit(w.sb, w.sb.root, ['clone', '-q', '--depth', '1', `file://${w.dir}`, clone]);
      const c = work(w.sb, clone);
      await c.lodeOk('init');
      const err = expectLodeError(await c.lode('diff', 'git:HEAD~1', 'git:HEAD'), 6);
      expect(err).toContain('git:HEAD~1');
      expect(err).toContain('shallow clone');
      expect(err).toContain('git fetch --unshallow');
    });
  });
});
