// Wrong input, damaged data and contention: each case checks the exit code,
// an `error:` message with a `hint:` line, and that the repository is
// exactly as it was (treeSnapshot covers the workspace and .lode/).

import { describe, it, expect, afterAll, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  expectLodeError,
  lodeJson,
  lodeOk,
  makeTempDir,
  readFile,
  removeDir,
  runLode,
  sha256,
  treeSnapshot,
  writeFile,
} from '../test/helpers/cli.js';
import { contentPlace, flipByte, hasContent, newRepo, objectFile, twoVersions, V1, removeTemplates } from './repos.js';

afterAll(removeTemplates);

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) removeDir(d);
});
const track = <T extends { dir: string }>(r: T): T => {
  dirs.push(r.dir);
  return r;
};

describe('bad paths and names', () => {
  it('add of a missing path: 6, nothing staged', async () => {
    const { dir, at } = track(await twoVersions('bad-missing'));
    const before = treeSnapshot(dir);
    const err = expectLodeError(await runLode(['add', 'data/nope.csv'], at), 6);
    expect(err).toMatch(/^error: data\/nope\.csv does not exist/m);
    expect(treeSnapshot(dir)).toEqual(before);
  });

  it('add of a path outside the workspace: 2', async () => {
    const { dir, at } = track(await twoVersions('bad-outside'));
    const elsewhere = track({ dir: makeTempDir('lode-e2e-elsewhere') }).dir;
    writeFile(elsewhere, 'x.csv', 'x\n');
    const before = treeSnapshot(dir);
    for (const p of [path.join(elsewhere, 'x.csv'), '../', 'data/../../x.csv']) {
      const err = expectLodeError(await runLode(['add', p], at), 2);
      expect(err).toContain('outside the lode workspace');
    }
    expect(expectLodeError(await runLode(['add', '.lode/config'], at), 2)).toContain('.lode');
    expect(treeSnapshot(dir)).toEqual(before);
  });

  it('running outside a repository: 3, and nothing is created', async () => {
    const dir = track({ dir: makeTempDir('lode-e2e-norepo') }).dir;
    writeFile(dir, 'data/a.txt', 'a\n');
    const before = treeSnapshot(dir);
    for (const args of [['status'], ['add', 'data'], ['commit', '-m', 'x'], ['log'], ['diff'], ['checkout'], ['branch'], ['gc'], ['fsck'], ['config', '-l']]) {
      const err = expectLodeError(await runLode(args, { cwd: dir }), 3);
      expect(err).toMatch(/^error: not a lode repository/m);
      expect(err).toMatch(/^hint: .*lode init/m);
    }
    expect(treeSnapshot(dir)).toEqual(before);
  });

  it('-C runs in another directory; -C to a non-repository is 3', async () => {
    const { dir } = track(await twoVersions('bad-dash-c'));
    const other = track({ dir: makeTempDir('lode-e2e-other') }).dir;
    expect((await lodeJson(['-C', dir, 'status'], { cwd: other })).branch).toBe('main');
    expectLodeError(await runLode(['-C', other, 'status'], { cwd: dir }), 3);
  });

  it('unknown revisions: 6 from every command that takes one', async () => {
    const { dir, at } = track(await twoVersions('bad-rev'));
    const before = treeSnapshot(dir);
    for (const args of [
      ['diff', 'nosuch'],
      ['diff', 'v1', 'nosuch'],
      ['checkout', 'nosuch'],
      ['checkout', 'nosuch', '--', 'data/a.txt'],
      ['log', 'nosuch'],
      ['tag', 't', 'nosuch'],
      ['branch', 'b', 'nosuch'],
      ['diff', 'HEAD~5'],
      ['checkout', 'deadbeef'],
    ]) {
      const err = expectLodeError(await runLode(args, at), 6);
      expect(err, args.join(' ')).toMatch(/^error: unknown revision: /m);
    }
    expect(treeSnapshot(dir)).toEqual(before);
  });

  it('commit with nothing staged: 2', async () => {
    const fresh = track(await newRepo('bad-commit-empty'));
    expect(expectLodeError(await runLode(['commit', '-m', 'nothing'], fresh.at), 2)).toContain('nothing to commit');
    const { dir, at } = track(await twoVersions('bad-commit-same'));
    const before = treeSnapshot(dir);
    expect(expectLodeError(await runLode(['commit', '-m', 'again'], at), 2)).toContain('nothing to commit');
    expect(treeSnapshot(dir)).toEqual(before);
    // A commit needs a message.
    expect((await runLode(['commit'], at)).code).toBe(2);
    expect(treeSnapshot(dir)).toEqual(before);
  });

  it('init twice: 7, the first repository untouched', async () => {
    const { dir, at } = track(await twoVersions('bad-init-twice'));
    const before = treeSnapshot(dir);
    expect(expectLodeError(await runLode(['init'], at), 7)).toContain('already a lode workspace');
    expect(treeSnapshot(dir)).toEqual(before);
  });

  it('symbolic links are skipped and reported, never followed or tracked', async () => {
    const { dir, at } = track(await newRepo('bad-symlink'));
    const outside = track({ dir: makeTempDir('lode-e2e-target') }).dir;
    writeFile(outside, 'secret.txt', 'outside the workspace\n');
    writeFile(dir, 'data/real.txt', 'real\n');
    fs.symlinkSync('real.txt', path.join(dir, 'data/rel-link'));
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'data/abs-link'));
    fs.symlinkSync(outside, path.join(dir, 'data/dir-link'));
    const r = await lodeJson(['add', 'data'], at);
    expect(r.added).toBe(1);
    expect(r.skipped).toEqual([
      { path: 'data/abs-link', reason: 'symbolic link' },
      { path: 'data/dir-link', reason: 'symbolic link' },
      { path: 'data/rel-link', reason: 'symbolic link' },
    ]);
    const text = await runLode(['add', 'data'], at);
    expect(text.stdout).toMatch(/^Skipped 3 paths:$/m);
    expect(text.stdout).toMatch(/^\s+data\/abs-link \(symbolic link\)$/m);
    const st = await lodeJson(['status'], at);
    expect(st.staged.map((c: { path: string }) => c.path)).toEqual(['data/real.txt']);
    expect(st.skipped).toHaveLength(3);
    const c = await lodeJson(['commit', '-m', 'only the real file'], at);
    expect(c.files).toBe(1);
    // The link's target is not in the cache.
    expect(hasContent(dir, sha256(Buffer.from('outside the workspace\n')))).toBe(false);
    // A symlink given directly is skipped too.
    expect((await lodeJson(['add', 'data/rel-link'], at)).skipped).toEqual([{ path: 'data/rel-link', reason: 'symbolic link' }]);
  });
});

describe('damaged data', () => {
  it('a corrupt cached file: fsck exits 5 naming it; a verified checkout needing it fails with 5', async () => {
    const { dir, at } = track(await twoVersions('bad-corrupt-cache', { 'cache.type': 'copy' }));
    const id = sha256(Buffer.from(V1['data/old.txt']));
    // A small file: its bytes lie in a local pack (read-only like a cache file).
    const { file, offset } = contentPlace(dir, id);
    expect(fs.statSync(file).mode & 0o777).toBe(0o444);
    flipByte(file, offset + 3);

    const fsck = await runLode(['fsck'], at);
    expect(fsck.code).toBe(5);
    expect(fsck.stdout).toMatch(/1 problem found/);
    expect(fsck.stdout).toContain(id);
    const fj = await runLode(['fsck', '--json'], at);
    expect(fj.code).toBe(5);
    expect(JSON.parse(fj.stdout)).toMatchObject({ ok: false, problems: [{ kind: 'corrupt', id }] });

    const refs = (d: string) => {
      const s = treeSnapshot(d);
      return { head: s['.lode/HEAD'], index: s['.lode/index'], main: s['.lode/refs/heads/main'] };
    };
    const before = refs(dir);
    const wholeBefore = treeSnapshot(dir);
    const err = expectLodeError(await runLode(['checkout', 'v1'], at), 5);
    expect(err).toContain(id);
    expect(err).toMatch(/^hint: .*lode fsck/m);
    // Nothing moved: HEAD, the index, and every workspace file (files are
    // verified under temporary names before the first one is replaced).
    expect(refs(dir)).toEqual(before);
    expect(treeSnapshot(dir)).toEqual(wholeBefore);
    // The damaged bytes never reach the workspace.
    expect(fs.existsSync(path.join(dir, 'data/old.txt'))).toBe(false);

    // Restoring just that file fails the same way.
    expectLodeError(await runLode(['checkout', 'v1', '--', 'data/old.txt'], at), 5);
    expect(fs.existsSync(path.join(dir, 'data/old.txt'))).toBe(false);
  });

  it('a corrupt tree object: diff of that commit fails with 5 and names it; fsck finds it', async () => {
    const { dir, at, v1 } = track(await twoVersions('bad-corrupt-tree'));
    const log = await lodeJson(['log', 'v1'], at);
    const tree: string = log.commits[0].tree;
    expect(log.commits[0].id).toBe(v1);
    flipByte(objectFile(dir, tree), 5);
    const before = treeSnapshot(dir);

    for (const args of [['diff', 'v1', 'HEAD'], ['diff', 'v1'], ['checkout', 'v1'], ['gc']]) {
      const err = expectLodeError(await runLode(args, at), 5);
      expect(err, args.join(' ')).toContain(tree.slice(0, 12));
    }
    expect(treeSnapshot(dir)).toEqual(before);
    const fsck = await runLode(['fsck', '--json'], at);
    expect(fsck.code).toBe(5);
    expect(JSON.parse(fsck.stdout).problems).toContainEqual(expect.objectContaining({ kind: 'corrupt', id: tree }));
    // What does not need the damaged tree still works.
    expect((await runLode(['status', '--exit-code'], at)).code).toBe(0);
  });

  it('a truncated or edited index is refused, not trusted', async () => {
    const { dir, at } = track(await twoVersions('bad-index'));
    const idx = path.join(dir, '.lode', 'index');
    flipByte(idx, 20);
    const before = treeSnapshot(dir);
    const err = expectLodeError(await runLode(['status'], at), 5);
    expect(err).toMatch(/index/);
    expect(treeSnapshot(dir)).toEqual(before);
  });
});

describe('configuration', () => {
  it('a config file that is not TOML: every command exits 8 naming the line', async () => {
    const { dir, at } = track(await twoVersions('bad-toml'));
    fs.writeFileSync(path.join(dir, '.lode', 'config'), '# lode\n[cache]\ntype = ["copy"]\n\n[chunking\nmin = 1\n');
    const before = treeSnapshot(dir);
    for (const args of [
      ['status'],
      ['add', 'data'],
      ['commit', '-m', 'x'],
      ['log'],
      ['diff'],
      ['checkout', 'v1'],
      ['branch'],
      ['tag'],
      ['gc'],
      ['fsck'],
      ['config', '-l'],
      ['config', 'cache.type', 'copy'],
    ]) {
      const err = expectLodeError(await runLode(args, at), 8);
      expect(err, args.join(' ')).toMatch(/^error: cannot parse .*\.lode\/config at line 5\b/m);
    }
    expect(treeSnapshot(dir)).toEqual(before);
  });

  it('an invalid value in the file is caught when the repository opens: 8 naming the key', async () => {
    const { dir, at } = track(await twoVersions('bad-value-file'));
    fs.writeFileSync(path.join(dir, '.lode', 'config.local'), '[cache]\ntype = ["teleport"]\n');
    const before = treeSnapshot(dir);
    const err = expectLodeError(await runLode(['checkout', 'v1'], at), 8);
    expect(err).toContain('cache.type');
    expect(treeSnapshot(dir)).toEqual(before);
  });

  it('lode config refuses invalid values and unknown keys: 8, file unchanged', async () => {
    const { dir, at } = track(await twoVersions('bad-config-set'));
    await lodeOk(['config', 'user.name', 'Ada'], at);
    const before = treeSnapshot(dir);
    const cfg = readFile(dir, '.lode/config').toString();
    expect(expectLodeError(await runLode(['config', 'cache.type', 'foo'], at), 8)).toContain('cache.type');
    expect(expectLodeError(await runLode(['config', 'cache.type', 'reflink,foo'], at), 8)).toContain('cache.type');
    expect(expectLodeError(await runLode(['config', 'no.such.key', '1'], at), 8)).toContain('no.such.key');
    // chunking.avg must be a power of two, and min <= avg <= max.
    expect(expectLodeError(await runLode(['config', 'chunking.avg', '1000000'], at), 8)).toContain('chunking');
    expect(readFile(dir, '.lode/config').toString()).toBe(cfg);
    expect(treeSnapshot(dir)).toEqual(before);
    expect((await runLode(['config', 'user.name'], at)).stdout.trim()).toBe('Ada');
  });
});

describe('the repository lock', () => {
  const lockOf = (pid: number) => JSON.stringify({ pid, host: os.hostname(), command: 'add', started: new Date().toISOString() });

  it('a lock held by a live process: 4 naming its pid; status still reads', async () => {
    const { dir, at } = track(await twoVersions('bad-lock-live'));
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(sleeper);
    const pid = sleeper.pid!;
    const lock = lockOf(pid);
    fs.writeFileSync(path.join(dir, '.lode', 'lock'), lock);
    writeFile(dir, 'data/a.txt', 'changed while locked\n');
    const before = treeSnapshot(dir);
    for (const args of [['add', 'data'], ['commit', '-am', 'x'], ['checkout', 'v1'], ['branch', 'b'], ['tag', 't'], ['gc']]) {
      const err = expectLodeError(await runLode(args, at), 4);
      expect(err, args.join(' ')).toContain(`pid ${pid}`);
      expect(err).not.toContain('stale');
    }
    expect(treeSnapshot(dir)).toEqual(before);
    expect(readFile(dir, '.lode/lock').toString()).toBe(lock);
    // Reading never waits for the lock.
    const st = await runLode(['status', '--json'], at);
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout).unstaged).toEqual([{ path: 'data/a.txt', status: 'modified' }]);
    expect((await runLode(['diff', 'v1', 'HEAD', '--exit-code'], at)).code).toBe(1);
  });

  it('a stale lock (its process is gone) is taken over, saying so in one line', async () => {
    const { dir, at, v1 } = track(await twoVersions('bad-lock-stale'));
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    const pid = gone.pid!;
    await new Promise((resolve) => gone.on('exit', resolve));
    const lockFile = path.join(dir, '.lode', 'lock');
    fs.writeFileSync(lockFile, lockOf(pid));
    const r = await runLode(['checkout', 'v1'], at);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning: '));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`pid ${pid}`);
    expect(warnings[0]).toMatch(/no longer running$/);
    expect(fs.existsSync(lockFile)).toBe(false);
    expect((await lodeJson(['status'], at)).head).toBe(v1);
  });
});

describe('files that change under lode', () => {
  it('a file written to while it is being added: 7 naming it, index unchanged', async () => {
    const { dir, at } = track(await newRepo('bad-changing'));
    // Large enough that reading it takes far longer than the writer's 1 ms period.
    const big = path.join(dir, 'data', 'growing.bin');
    fs.mkdirSync(path.dirname(big), { recursive: true });
    fs.writeFileSync(big, Buffer.alloc(64 << 20, 7));
    const before = treeSnapshot(dir);
    const writer = spawn(process.execPath, ['-e', `const fs=require('fs');setInterval(()=>fs.appendFileSync(${JSON.stringify(big)},'x'),1)`], { stdio: 'ignore' });
    children.push(writer);
    await new Promise((r) => setTimeout(r, 200));
    const r = await runLode(['add', 'data'], at);
    writer.kill('SIGKILL');
    const err = expectLodeError(r, 7);
    expect(err).toContain('data/growing.bin changed while it was being read');
    // The index and refs are as they were (cache/tmp may hold harmless unreferenced objects).
    const after = treeSnapshot(dir);
    for (const key of ['.lode/HEAD', '.lode/index']) expect(after[key]).toEqual(before[key]);
    expect(fs.readdirSync(path.join(dir, '.lode', 'tmp'))).toEqual([]);
  });
});
