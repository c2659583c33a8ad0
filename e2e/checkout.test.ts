// Checkout never loses work it was not told to discard: it refuses before
// changing anything, --force overrides, and local changes the switch does not
// touch survive it. Each test starts from its own two-version repository.

import { describe, it, expect, afterAll, afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { expectLodeError, lodeJson, lodeOk, readFile, removeDir, runLode, treeSnapshot, workspaceSnapshot, writeFile } from '../test/helpers/cli.js';
import { contentsOf, filesOf, twoVersions, V1, V2, type TwoVersions, removeTemplates } from './repos.js';

afterAll(removeTemplates);

let repo: TwoVersions | undefined;
afterEach(() => {
  if (repo) removeDir(repo.dir);
  repo = undefined;
});

async function setup(name: string): Promise<TwoVersions> {
  repo = await twoVersions(name);
  return repo;
}

describe('checkout safety', () => {
  it('refuses (exit 7) to overwrite a modified tracked file the switch changes, and changes nothing', async () => {
    const { dir, at } = await setup('co-modified');
    writeFile(dir, 'data/a.txt', 'local edit, not committed\n');
    const before = treeSnapshot(dir);
    const r = await runLode(['checkout', 'v1'], at);
    const err = expectLodeError(r, 7);
    expect(err).toContain('data/a.txt');
    expect(err).toMatch(/^hint: .*--force/m);
    expect(treeSnapshot(dir)).toEqual(before);
    expect((await lodeJson(['status'], at)).branch).toBe('main');
  });

  it('--force overwrites the modified file with the target version', async () => {
    const { dir, at, v1 } = await setup('co-force');
    writeFile(dir, 'data/a.txt', 'local edit, not committed\n');
    const r = await lodeJson(['checkout', '--force', 'v1'], at);
    expect(r).toMatchObject({ commit: v1, moved: true, branch: null });
    expect(contentsOf(dir, Object.keys(V1))).toEqual(V1);
    expect(filesOf(dir)).toEqual(Object.keys(V1).sort());
    expect(await lodeJson(['status'], at)).toMatchObject({ head: v1, clean: true });
  });

  it('refuses a staged change the switch would overwrite', async () => {
    const { dir, at } = await setup('co-staged');
    writeFile(dir, 'data/a.txt', 'staged, not committed\n');
    await lodeOk(['add', 'data'], at);
    const before = treeSnapshot(dir);
    expect(expectLodeError(await runLode(['checkout', 'v1'], at), 7)).toContain('data/a.txt');
    expect(treeSnapshot(dir)).toEqual(before);
  });

  it('refuses when an untracked file stands where the target puts a file', async () => {
    const { dir, at } = await setup('co-untracked');
    // v1 has data/old.txt; v2 deleted it. A new, different file with that name is in the way.
    writeFile(dir, 'data/old.txt', 'my own notes\n');
    const before = treeSnapshot(dir);
    const err = expectLodeError(await runLode(['checkout', 'v1'], at), 7);
    expect(err).toContain('data/old.txt');
    expect(treeSnapshot(dir)).toEqual(before);

    // With --force the target's version wins.
    await lodeOk(['checkout', '--force', 'v1'], at);
    expect(readFile(dir, 'data/old.txt').toString()).toBe(V1['data/old.txt']);
  });

  it('an untracked file identical to the target is not a conflict', async () => {
    const { dir, at, v1 } = await setup('co-identical');
    writeFile(dir, 'data/old.txt', V1['data/old.txt']);
    const r = await lodeJson(['checkout', 'v1'], at);
    expect(r.commit).toBe(v1);
    expect(contentsOf(dir, Object.keys(V1))).toEqual(V1);
    expect((await lodeJson(['status'], at)).clean).toBe(true);
  });

  it('refuses when an untracked directory stands where the target puts a file', async () => {
    const { dir, at } = await setup('co-dir');
    writeFile(dir, 'data/old.txt/inside.txt', 'a directory named like a v1 file\n');
    const before = treeSnapshot(dir);
    expect(expectLodeError(await runLode(['checkout', 'v1'], at), 7)).toContain('data/old.txt');
    expect(treeSnapshot(dir)).toEqual(before);
  });

  it('keeps a local modification to a file the switch does not touch', async () => {
    const { dir, at, v1, v2 } = await setup('co-keep');
    writeFile(dir, 'data/keep.txt', 'edited locally\n');
    const r = await lodeJson(['checkout', 'v1'], at);
    expect(r).toMatchObject({ commit: v1, moved: true });
    expect(readFile(dir, 'data/keep.txt').toString()).toBe('edited locally\n');
    expect(readFile(dir, 'data/a.txt').toString()).toBe(V1['data/a.txt']);
    const st = await lodeJson(['status'], at);
    expect(st).toMatchObject({ head: v1, staged: [], unstaged: [{ path: 'data/keep.txt', status: 'modified' }], untracked: [] });
    const text = await runLode(['checkout', 'main'], at);
    expect(text.code).toBe(0);
    expect(readFile(dir, 'data/keep.txt').toString()).toBe('edited locally\n');
    expect(await lodeJson(['status'], at)).toMatchObject({ head: v2, unstaged: [{ path: 'data/keep.txt', status: 'modified' }] });
  });

  it('removes files the target lacks and prunes the directories left empty', async () => {
    const { dir, at } = await setup('co-prune');
    const r = await lodeJson(['checkout', 'v1'], at);
    expect(r).toMatchObject({ removed: 2 });
    expect(filesOf(dir)).toEqual(Object.keys(V1).sort());
    expect(fs.existsSync(path.join(dir, 'data/sub'))).toBe(false);
    // Back again: the v2 files and their directories return.
    await lodeOk(['checkout', 'main'], at);
    expect(filesOf(dir)).toEqual(Object.keys(V2).sort());
    expect(contentsOf(dir, Object.keys(V2))).toEqual(V2);
  });

  it('never deletes untracked files, nor the directories holding them', async () => {
    const { dir, at } = await setup('co-untracked-kept');
    writeFile(dir, 'data/sub/inner/notes.md', 'untracked notes\n');
    await lodeOk(['checkout', 'v1'], at);
    expect(readFile(dir, 'data/sub/inner/notes.md').toString()).toBe('untracked notes\n');
    expect(filesOf(dir)).toEqual([...Object.keys(V1), 'data/sub/inner/notes.md'].sort());
    expect((await lodeJson(['status'], at)).untracked).toEqual(['data/sub/inner/notes.md']);
  });

  it('checkout with no arguments restores deleted files and refuses to drop edits without --force', async () => {
    const { dir, at } = await setup('co-restore');
    fs.rmSync(path.join(dir, 'data/sub'), { recursive: true });
    fs.rmSync(path.join(dir, 'data/a.txt'));
    const r = await lodeJson(['checkout'], at);
    expect(r).toMatchObject({ written: 3, removed: 0, moved: false, branch: 'main' });
    expect(contentsOf(dir, Object.keys(V2))).toEqual(V2);
    expect((await lodeJson(['status'], at)).clean).toBe(true);

    // `checkout HEAD` is the same restore: HEAD stays on the branch.
    fs.rmSync(path.join(dir, 'data/keep.txt'));
    expect(await lodeJson(['checkout', 'HEAD'], at)).toMatchObject({ written: 1, moved: false, branch: 'main' });
    expect(await lodeJson(['status'], at)).toMatchObject({ branch: 'main', clean: true });

    writeFile(dir, 'data/a.txt', 'edit\n');
    const before = treeSnapshot(dir);
    expectLodeError(await runLode(['checkout'], at), 7);
    expectLodeError(await runLode(['checkout', 'HEAD'], at), 7);
    expect(treeSnapshot(dir)).toEqual(before);
    await lodeOk(['checkout', '--force'], at);
    expect(readFile(dir, 'data/a.txt').toString()).toBe(V2['data/a.txt']);
  });

  it('switches between versions where one path is a file in one and a directory in the other', async () => {
    const { dir, at } = await setup('co-file-dir');
    // v3 turns the file data/a.txt into a directory of two files.
    fs.rmSync(path.join(dir, 'data/a.txt'));
    writeFile(dir, 'data/a.txt/one', '1\n');
    writeFile(dir, 'data/a.txt/deep/two', '2\n');
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v3: a.txt becomes a directory'], at);
    const v3 = workspaceSnapshot(dir);

    // Directory -> file: the tracked files go, the emptied directory is pruned, the file is written.
    const r = await lodeJson(['checkout', 'v1'], at);
    expect(r).toMatchObject({ moved: true, removed: 4 });
    expect(contentsOf(dir, Object.keys(V1))).toEqual(V1);
    expect(filesOf(dir)).toEqual(Object.keys(V1).sort());
    expect((await lodeJson(['status'], at)).clean).toBe(true);

    // File -> directory.
    await lodeOk(['checkout', 'main'], at);
    expect(workspaceSnapshot(dir)).toEqual(v3);
    expect((await lodeJson(['status'], at)).clean).toBe(true);

    // An untracked file inside the directory makes it a real obstacle.
    writeFile(dir, 'data/a.txt/untracked', 'mine\n');
    const before = treeSnapshot(dir);
    expect(expectLodeError(await runLode(['checkout', 'v1'], at), 7)).toContain('data/a.txt');
    expect(treeSnapshot(dir)).toEqual(before);
  });

  it('checkout -b refuses an existing branch name (a conflict, exit 7) and changes nothing', async () => {
    const { dir, at } = await setup('co-b-exists');
    await lodeOk(['branch', 'other'], at);
    const before = treeSnapshot(dir);
    expectLodeError(await runLode(['checkout', '-b', 'other'], at), 7);
    expect(treeSnapshot(dir)).toEqual(before);
  });

  it('checkout REV -- PATH of a path the revision lacks fails with 6 and changes nothing', async () => {
    const { dir, at } = await setup('co-path-missing');
    const before = treeSnapshot(dir);
    const err = expectLodeError(await runLode(['checkout', 'v1', '--', 'data/sub/new.txt'], at), 6);
    expect(err).toContain('data/sub/new.txt');
    expect(treeSnapshot(dir)).toEqual(before);
  });
});
