// A commit or tree in .lode/objects/ must never name a commit or tree that
// is not there: status, commit, diff and gc stop their walks at a tree
// objects/ holds. So objects are stored each after everything it names and
// deleted each before. Checked here by killing clone, gc and forget (kill -9)
// right after each object they store or delete, in a repository where one
// folder's tree is named at two depths (data/x and data/a/b/x), which is
// what a level-by-level order gets wrong.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeCommit, isCommitEncoding, isTreeEncoding, treeLinks } from '../src/core/encoding.js';
import { LODE_BIN, lodeJson, lodeOk, makeTempDir, removeDir, runLode, writeFile } from '../test/helpers/cli.js';

const KILLER = pathToFileURL(path.resolve(__dirname, '../test/helpers/kill-after-objects.mjs')).href;

/** run starts the CLI with the kill preload; returns how it ended. */
function run(args: string[], cwd: string, env: Record<string, string>): { code: number | null; signal: string | null; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', KILLER, LODE_BIN, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', CI: '1', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, signal: r.signal, stderr: r.stderr };
}

/** countedCalls runs the command once unkilled and counts the object files it stored (renameSync) or deleted (unlinkSync). */
function countedCalls(args: string[], cwd: string, call: 'renameSync' | 'unlinkSync', log: string): number {
  fs.rmSync(log, { force: true });
  const r = run(args, cwd, { LODE_KILL_LOG: log });
  expect(r.code, r.stderr).toBe(0);
  return fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith(`${call} `)).length : 0;
}

/** dangling lists, for every commit and tree in objects/, the commits and trees it names that objects/ lacks. */
function dangling(lodeDir: string): string[] {
  const root = path.join(lodeDir, 'objects');
  const file = (id: string) => path.join(root, id.slice(0, 2), id.slice(2));
  const out: string[] = [];
  for (const fan of fs.readdirSync(root)) {
    for (const rest of fs.readdirSync(path.join(root, fan))) {
      const id = fan + rest;
      const bytes = fs.readFileSync(path.join(root, fan, rest));
      let names: string[] = [];
      if (isCommitEncoding(bytes)) {
        const c = decodeCommit(bytes, id);
        names = [c.tree, ...c.parents];
      } else if (isTreeEncoding(bytes)) {
        const l = treeLinks(bytes, id);
        names = [...l.shards, ...l.entries.filter((e) => e.kind === 'tree').map((e) => e.id)];
      }
      for (const n of names) if (!fs.existsSync(file(n))) out.push(`${id.slice(0, 12)} names missing ${n.slice(0, 12)}`);
    }
  }
  return out;
}

/**
 * killEachRemoval copies workspace `dir` and runs `args` in each copy, killed
 * after its 1st, 2nd, ... deletion from objects/ (all but the last), and
 * checks objects/ after each; `after` runs on the killed copy too.
 */
async function killEachRemoval(base: string, dir: string, args: string[], after?: (ws: string) => Promise<void>): Promise<void> {
  const template = path.join(base, 'template');
  fs.cpSync(dir, template, { recursive: true });
  const total = countedCalls(args, dir, 'unlinkSync', path.join(base, 'log'));
  expect(total).toBeGreaterThan(3);
  for (let n = 1; n < total; n++) {
    const ws = path.join(base, `k${n}`);
    fs.cpSync(template, ws, { recursive: true });
    const r = run(args, ws, { LODE_KILL_AFTER_REMOVE: String(n) });
    expect(r.signal, `${args[0]} killed after ${n} of ${total}: ${r.stderr}`).toBe('SIGKILL');
    expect(dangling(path.join(ws, '.lode')), `after ${n} of ${total}`).toEqual([]);
    await after?.(ws);
    removeDir(ws);
  }
}

/** A workspace with data/x and data/a/b/x the same folder (one tree), two commits, pushed to a directory remote. */
async function source(base: string): Promise<{ dir: string; share: string }> {
  const dir = path.join(base, 'src');
  const share = path.join(base, 'share');
  fs.mkdirSync(dir);
  await lodeOk(['init'], { cwd: dir });
  for (const p of ['data/x', 'data/a/b/x', 'data/c/d/e/x']) {
    writeFile(dir, `${p}/f.txt`, 'the same folder\n');
    writeFile(dir, `${p}/g.txt`, 'in three places\n');
  }
  writeFile(dir, 'data/top.txt', 'v1\n');
  await lodeOk(['add', 'data'], { cwd: dir });
  await lodeOk(['commit', '-m', 'v1'], { cwd: dir });
  writeFile(dir, 'data/top.txt', 'v2\n');
  writeFile(dir, 'data/a/b/more.txt', 'b changes\n');
  await lodeOk(['add', 'data'], { cwd: dir });
  await lodeOk(['commit', '-m', 'v2'], { cwd: dir });
  await lodeOk(['remote', 'add', 'share', share], { cwd: dir });
  await lodeOk(['push'], { cwd: dir });
  return { dir, share };
}

/** inTempDir runs `fn` in a fresh temp directory, removed afterwards. */
async function inTempDir(prefix: string, fn: (base: string) => Promise<void>): Promise<void> {
  const base = makeTempDir(prefix);
  try {
    await fn(base);
  } finally {
    removeDir(base);
  }
}

/** treeIdAt is the ID of folder `name` in `folder` of revision `rev`. */
async function treeIdAt(dir: string, rev: string, folder: string, name: string): Promise<string> {
  return (await lodeJson<{ entries: { name: string; id: string }[] }>(['ls', `${rev}:${folder}`], { cwd: dir })).entries.find((e) => e.name === name)!.id;
}

/** deletedBranch commits `files` on a branch, goes back to main and deletes the branch; returns the branch's commit, which gc then collects. */
async function deletedBranch(dir: string, files: string[]): Promise<string> {
  const at = { cwd: dir };
  await lodeOk(['checkout', '-b', 'side'], at);
  for (const f of files) writeFile(dir, f, 'side only\n');
  await lodeOk(['add', 'data'], at);
  const { id } = await lodeJson<{ id: string }>(['commit', '-m', 'side'], at);
  await lodeOk(['checkout', 'main'], at);
  await lodeOk(['branch', '-D', 'side'], at);
  return id;
}

describe('objects/ never holds a tree naming one it lacks', () => {
  it('clone killed after each object it stores', async () => {
    await inTempDir('lode-tree-order-clone-', async (base) => {
      const { share } = await source(base);
      const total = countedCalls(['clone', share, path.join(base, 'full')], base, 'renameSync', path.join(base, 'log'));
      expect(total).toBeGreaterThan(5);
      for (let n = 1; n < total; n++) {
        const dest = path.join(base, `c${n}`);
        const r = run(['clone', share, dest], base, { LODE_KILL_AFTER_PUT: String(n) });
        expect(r.signal, `clone killed after ${n} of ${total}: ${r.stderr}`).toBe('SIGKILL');
        expect(dangling(path.join(dest, '.lode')), `after ${n} of ${total}`).toEqual([]);
        removeDir(dest);
      }
    });
  });

  it('gc killed after each object it deletes', async () => {
    await inTempDir('lode-tree-order-gc-', async (base) => {
      const { dir } = await source(base);
      // A branch's commits, then the branch deleted: gc removes its commits and trees.
      await deletedBranch(dir, ['data/y/h.txt', 'data/a/b/y/h.txt', 'data/c/d/e/x/y/h.txt']);
      await killEachRemoval(base, dir, ['gc'], async (ws) => {
        // The next gc finishes the job.
        expect((await lodeJson<{ dryRun: boolean }>(['gc'], { cwd: ws })).dryRun).toBe(false);
        expect(dangling(path.join(ws, '.lode'))).toEqual([]);
      });
    });
  });

  it('forget killed after each object it deletes', async () => {
    await inTempDir('lode-tree-order-forget-', async (base) => {
      const { dir } = await source(base);
      // Erasing the shared folder's file rewrites every tree above each copy of it.
      await killEachRemoval(base, dir, ['forget', 'data/a/b/x/f.txt', 'data/x/f.txt', 'data/c/d/e/x/f.txt']);
    });
  });

  it('diff --staged and ls :index read a tree missing from objects/ but kept with the index (a store an older lode left)', async () => {
    await inTempDir('lode-tree-order-index-', async (base) => {
      const dir = path.join(base, 'ws');
      fs.mkdirSync(dir);
      const at = { cwd: dir };
      await lodeOk(['init'], at);
      writeFile(dir, 'data/a/b/x/f.txt', 'one\n');
      writeFile(dir, 'data/top.txt', 'top\n');
      await lodeOk(['add', 'data'], at);
      await lodeOk(['commit', '-m', 'v1'], at);
      const x1 = await treeIdAt(dir, 'HEAD', 'data/a/b', 'x');
      writeFile(dir, 'data/a/b/x/f.txt', 'two\n');
      await lodeOk(['add', 'data'], at);
      await lodeOk(['commit', '-m', 'v2'], at);
      // Back to v1's content: the index names v1's trees, which objects/ holds.
      writeFile(dir, 'data/a/b/x/f.txt', 'one\n');
      writeFile(dir, 'data/new.txt', 'new\n');
      await lodeOk(['add', 'data'], at);
      // v1's data/a/b/x as an older lode's killed clone could leave it: kept with the index, not in objects/.
      const from = path.join(dir, '.lode', 'objects', x1.slice(0, 2), x1.slice(2));
      fs.mkdirSync(path.join(dir, '.lode', 'staged-trees'), { recursive: true });
      fs.renameSync(from, path.join(dir, '.lode', 'staged-trees', x1));
      const d = await lodeJson<{ changes: { path: string; status: string }[] }>(['diff', '--staged'], at);
      expect(d.changes.map((f) => `${f.status} ${f.path}`).sort()).toEqual(['added data/new.txt', 'modified data/a/b/x/f.txt']);
      const ls = await lodeJson<{ entries: { path: string }[] }>(['ls', ':index:data/a/b/x'], at);
      expect(ls.entries.map((e) => e.path)).toEqual(['data/a/b/x/f.txt']);
    });
  });

  it('fsck reports a tree nothing reaches that names a missing one, and gc clears it', async () => {
    await inTempDir('lode-tree-order-fsck-', async (base) => {
      const { dir } = await source(base);
      const at = { cwd: dir };
      const side = await treeIdAt(dir, await deletedBranch(dir, ['data/a/b/side/s.txt']), 'data/a/b', 'side');
      // As an older lode's interrupted gc could leave it: the side commit's data/a/b stays, its side/ is gone.
      fs.rmSync(path.join(dir, '.lode', 'objects', side.slice(0, 2), side.slice(2)));
      expect(dangling(path.join(dir, '.lode'))).toHaveLength(1);
      const r = await runLode(['fsck', '--json'], at);
      expect(r.code).toBe(5);
      const report = JSON.parse(r.stdout) as { ok: boolean; problems: { kind: string; id?: string; message: string }[] };
      expect(report.problems).toEqual([expect.objectContaining({ kind: 'missing', id: side })]);
      expect(report.problems[0].message).toMatch(/no ref reaches.*lode gc/);
      await lodeOk(['gc'], at);
      expect(dangling(path.join(dir, '.lode'))).toEqual([]);
      expect((await lodeJson<{ ok: boolean }>(['fsck'], at)).ok).toBe(true);
    });
  });
});
