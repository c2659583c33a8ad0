// Edge cases found in review, each a way data could be lost or a workflow
// blocked: symbolic links above tracked paths, branches on an empty
// repository, ref names that are also folders, empty datasets, restoring
// from the index, and repairing a damaged cache file by adding it again.

import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, runLode, sha256, writeFile } from '../test/helpers/cli.js';
import { cacheFile, flipByte, newRepo, trackRepos } from './repos.js';

const track = trackRepos();

describe('symbolic links above tracked paths', () => {
  async function linkedRepo(prefix: string) {
    const repo = track(await newRepo(prefix));
    const outside = track({ dir: makeTempDir(`lode-e2e-${prefix}-outside`) }).dir;
    writeFile(repo.dir, 'data/sub/a.txt', 'tracked\n');
    await lodeOk(['add', 'data'], repo.at);
    await lodeOk(['commit', '-m', 'one'], repo.at);
    writeFile(outside, 'a.txt', 'PRECIOUS\n');
    fs.rmSync(path.join(repo.dir, 'data/sub'), { recursive: true });
    fs.symlinkSync(outside, path.join(repo.dir, 'data/sub'));
    return { ...repo, outside };
  }

  it('rm never deletes through a symlinked directory', async () => {
    const { at, outside } = await linkedRepo('link-rm');
    const r = await lodeJson(['rm', 'data'], at);
    expect(r.notDeleted).toEqual([{ path: 'data/sub/a.txt', reason: 'data/sub is a symbolic link' }]);
    expect(fs.readFileSync(path.join(outside, 'a.txt'), 'utf8')).toBe('PRECIOUS\n');
  });

  it('checkout refuses to write through it (7); with -f it replaces the link, not what it points to', async () => {
    const { dir, at, outside } = await linkedRepo('link-co');
    const err = expectLodeError(await runLode(['checkout'], at), 7);
    expect(err).toContain('symbolic link');
    expect(fs.readFileSync(path.join(outside, 'a.txt'), 'utf8')).toBe('PRECIOUS\n');
    await lodeOk(['checkout', '-f'], at);
    expect(fs.readFileSync(path.join(outside, 'a.txt'), 'utf8')).toBe('PRECIOUS\n');
    expect(fs.lstatSync(path.join(dir, 'data/sub')).isDirectory()).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'data/sub/a.txt'), 'utf8')).toBe('tracked\n');
  });
});

describe('branches', () => {
  it('checkout -b on an empty repository moves HEAD only; the first commit creates the branch', async () => {
    const { dir, at } = track(await newRepo('unborn-b'));
    await lodeOk(['checkout', '-b', 'foo'], at);
    expect(fs.existsSync(path.join(dir, '.lode/refs/heads/foo'))).toBe(false);
    expect((await lodeJson(['status'], at)).branch).toBe('foo');
    writeFile(dir, 'data/a', 'a\n');
    await lodeOk(['add', 'data'], at);
    const c = await lodeJson(['commit', '-m', 'first'], at);
    expect(c.branch).toBe('foo');
    expect(fs.readFileSync(path.join(dir, '.lode/refs/heads/foo'), 'utf8').trim()).toBe(c.id);
  });

  it('checkout -b carries local changes over, like git', async () => {
    const { dir, at } = track(await newRepo('carry-b'));
    writeFile(dir, 'data/a', 'a\n');
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'one'], at);
    writeFile(dir, 'data/a', 'changed\n');
    const r = await lodeJson(['checkout', '-b', 'feature'], at);
    expect(r).toMatchObject({ branch: 'feature', moved: true });
    expect(fs.readFileSync(path.join(dir, 'data/a'), 'utf8')).toBe('changed\n');
  });

  it('a name cannot be both a branch and a folder of branches; a tag and a branch folder coexist', async () => {
    const { dir, at } = track(await newRepo('ref-folders'));
    writeFile(dir, 'data/a', 'a\n');
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'one'], at);
    await lodeOk(['branch', 'zed'], at);
    expect(expectLodeError(await runLode(['branch', 'zed/y'], at), 7)).toContain('branch zed exists');
    await lodeOk(['branch', 'team/x'], at);
    expect(expectLodeError(await runLode(['branch', 'team'], at), 7)).toContain('team/');
    await lodeOk(['tag', 'feature'], at);
    await lodeOk(['branch', 'feature/x'], at);
    expect((await lodeJson(['log', 'feature'], at)).commits).toHaveLength(1);
  });
});

describe('datasets and the index', () => {
  it('an empty dataset can be removed; a deleted dataset root stops being one on add', async () => {
    const { dir, at } = track(await newRepo('empty-ds'));
    writeFile(dir, 'data/a', 'a\n');
    fs.mkdirSync(path.join(dir, 'empty'));
    fs.mkdirSync(path.join(dir, 'gone'));
    await lodeOk(['add', 'data', 'empty', 'gone'], at);
    await lodeOk(['commit', '-m', 'one'], at);
    expect((await lodeJson(['rm', 'empty'], at)).datasets).toEqual(['data', 'gone']);
    fs.rmdirSync(path.join(dir, 'gone'));
    expect((await runLode(['status', '--exit-code'], at)).code).toBe(1);
    await lodeOk(['commit', '-a', '-m', 'two'], at);
    const s = await lodeJson(['status'], at);
    expect(s).toMatchObject({ datasets: ['data'], clean: true });
  });

  it('checkout -- PATH without a revision restores the staged version, not HEAD', async () => {
    const { dir, at } = track(await newRepo('from-index'));
    writeFile(dir, 'data/a', 'v1\n');
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'c1'], at);
    writeFile(dir, 'data/a', 'v2 staged\n');
    await lodeOk(['add', 'data'], at);
    writeFile(dir, 'data/a', 'v3 unstaged\n');
    expectLodeError(await runLode(['checkout', '--', 'data/a'], at), 7);
    await lodeOk(['checkout', '-f', '--', 'data/a'], at);
    expect(fs.readFileSync(path.join(dir, 'data/a'), 'utf8')).toBe('v2 staged\n');
    const s = await lodeJson(['status'], at);
    expect(s.staged.map((c: { path: string }) => c.path)).toEqual(['data/a']);
    expect(s.unstaged).toEqual([]);
  });

  it('adding a file again repairs its damaged copy in the cache', async () => {
    const { dir, at } = track(await newRepo('repair'));
    // Larger than 64 KiB, so a cache file of its own (a packed copy's repair: e2e/small-add.test.ts).
    const content = 'good content, long enough to matter\n'.repeat(2000);
    writeFile(dir, 'data/a', content);
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'one'], at);
    const file = cacheFile(dir, sha256(Buffer.from(content)));
    flipByte(file, 2);
    expect((await runLode(['fsck'], at)).code).toBe(5);
    // Re-add the same bytes (touch so the stat cache does not skip the file).
    fs.utimesSync(path.join(dir, 'data/a'), new Date(), new Date(Date.now() + 5000));
    await lodeOk(['add', 'data'], at);
    expect((await runLode(['fsck'], at)).code).toBe(0);
  });
});
