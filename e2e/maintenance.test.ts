// Keeping a repository healthy: gc drops only what nothing reaches, fsck
// agrees afterwards, hardlink checkouts share the cache's read-only inodes,
// and inside git `lode add` keeps data out of git.

import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { lodeJson, lodeOk, readFile, runLode, sha256, treeSnapshot, workspaceSnapshot, writeFile } from '../test/helpers/cli.js';
import { cacheFile, contentsOf, hasContent, newRepo, twoVersions, V1, V2, trackRepos } from './repos.js';

const track = trackRepos();

describe('gc and fsck', () => {
  it('gc keeps everything a branch, tag or HEAD reaches; removes a deleted branch’s data; fsck passes after', async () => {
    const { dir, at } = track(await twoVersions('gc'));
    // A side branch with one file nobody else has.
    // Larger than 64 KiB: a cache file of its own (small files are packed: e2e/small-add.test.ts).
    const sideOnly = 'only on the side branch\n'.repeat(3000);
    await lodeOk(['checkout', '-b', 'side'], at);
    writeFile(dir, 'data/side.txt', sideOnly);
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'side work'], at);
    await lodeOk(['checkout', 'main'], at);
    const sideFile = cacheFile(dir, sha256(Buffer.from(sideOnly)));
    expect(fs.existsSync(sideFile)).toBe(true);

    // Everything is reachable: nothing to collect.
    const none = await lodeJson(['gc', '--dry-run'], at);
    expect(none).toMatchObject({ dryRun: true, filesRemoved: 0, objectsRemoved: 0, bytesFreed: 0 });

    await lodeOk(['branch', '-D', 'side'], at);
    const before = treeSnapshot(dir);
    const dry = await lodeJson(['gc', '--dry-run'], at);
    // The side commit, its root tree and its data/ tree; the one file.
    expect(dry).toMatchObject({ dryRun: true, filesRemoved: 1, objectsRemoved: 3 });
    expect(dry.bytesFreed).toBeGreaterThan(Buffer.byteLength(sideOnly));
    const text = await runLode(['gc', '--dry-run'], at);
    expect(text.stdout).toMatch(/^Would remove 1 cached file and 3 objects/);
    expect(treeSnapshot(dir)).toEqual(before);

    const done = await lodeJson(['gc'], at);
    expect(done).toMatchObject({ dryRun: false, filesRemoved: 1, objectsRemoved: 3, bytesFreed: dry.bytesFreed, filesKept: dry.filesKept, objectsKept: dry.objectsKept });
    expect(fs.existsSync(sideFile)).toBe(false);
    const after = treeSnapshot(dir);
    const gone = Object.keys(before).filter((k) => !(k in after));
    expect(gone).toHaveLength(4);
    expect(gone.every((k) => k.startsWith('.lode/objects/') || k.startsWith('.lode/cache/'))).toBe(true);

    const fsck = await runLode(['fsck', '--json'], at);
    expect(fsck.code).toBe(0);
    expect(JSON.parse(fsck.stdout)).toMatchObject({ ok: true, problems: [], refs: 2 });
    expect((await runLode(['fsck'], at)).stdout).toContain('No problems found');
    expect((await lodeJson(['gc'], at))).toMatchObject({ filesRemoved: 0, objectsRemoved: 0 });

    // Both kept versions still check out byte for byte.
    await lodeOk(['checkout', 'v1'], at);
    expect(contentsOf(dir, Object.keys(V1))).toEqual(V1);
    await lodeOk(['checkout', 'main'], at);
    expect(contentsOf(dir, Object.keys(V2))).toEqual(V2);
  });

  it('gc keeps staged content that no commit has yet', async () => {
    const { dir, at } = track(await twoVersions('gc-staged'));
    writeFile(dir, 'data/staged.txt', 'staged only\n');
    await lodeOk(['add', 'data'], at);
    // A small file: in a local pack, not a cache file of its own.
    const staged = sha256(Buffer.from('staged only\n'));
    expect(hasContent(dir, staged)).toBe(true);
    expect(await lodeJson(['gc'], at)).toMatchObject({ filesRemoved: 0 });
    expect(hasContent(dir, staged)).toBe(true);
    // Replaced before it was committed: now it is garbage.
    writeFile(dir, 'data/staged.txt', 'staged, second try\n');
    await lodeOk(['add', 'data'], at);
    expect(await lodeJson(['gc'], at)).toMatchObject({ filesRemoved: 1 });
    expect(hasContent(dir, staged)).toBe(false);
    await lodeOk(['commit', '-m', 'v3'], at);
    expect((await runLode(['fsck'], at)).code).toBe(0);
  });
});

describe('hardlink checkouts', () => {
  it('with cache.type hardlink,copy, checked-out files are the cache’s read-only inodes', async () => {
    // Hardlinks from the start: `add` then keeps even small files as cache files (a hardlink needs one).
    const { dir, at } = track(await twoVersions('hardlink', { 'cache.type': 'hardlink,copy' }));
    const set = await lodeJson(['config', 'cache.type', 'hardlink,copy'], at);
    expect(set).toMatchObject({ key: 'cache.type', value: ['hardlink', 'copy'] });
    expect((await runLode(['config', 'cache.type'], at)).stdout.trim()).toBe('hardlink,copy');

    const r = await lodeJson(['checkout', 'v1'], at);
    expect(r.methods).toEqual({ reflink: 0, hardlink: 2, copy: 0 }); // a.txt and old.txt change
    for (const [rel, text] of Object.entries(V1)) {
      const abs = path.join(dir, rel);
      expect(readFile(dir, rel).toString()).toBe(text);
      if (rel === 'data/a.txt' || rel === 'data/old.txt') {
        const ws = fs.statSync(abs);
        const cached = fs.statSync(cacheFile(dir, sha256(Buffer.from(text))));
        expect(ws.ino, rel).toBe(cached.ino);
        expect(ws.dev).toBe(cached.dev);
        expect(ws.mode & 0o777).toBe(0o444);
      }
    }
    expect((await lodeJson(['status'], at)).clean).toBe(true);
    expect((await runLode(['fsck'], at)).code).toBe(0);

    // Back to main, then a restore of a deleted file: hardlinked too.
    await lodeOk(['checkout', 'main'], at);
    fs.rmSync(path.join(dir, 'data/keep.txt'));
    const restore = await lodeJson(['checkout'], at);
    expect(restore.methods.hardlink).toBe(1);
    expect(fs.statSync(path.join(dir, 'data/keep.txt')).ino).toBe(fs.statSync(cacheFile(dir, sha256(Buffer.from(V2['data/keep.txt'])))).ino);
    expect(workspaceSnapshot(dir)).toEqual(Object.fromEntries(Object.entries(V2).map(([k, v]) => [k, sha256(Buffer.from(v))])));
  });

  it('an executable file is copied, not hardlinked (the cache file is not executable)', async () => {
    const { dir, at } = track(await newRepo('hardlink-exec'));
    await lodeOk(['config', 'cache.type', 'hardlink,copy'], at);
    writeFile(dir, 'tools/run.sh', '#!/bin/sh\necho hi\n');
    fs.chmodSync(path.join(dir, 'tools/run.sh'), 0o755);
    writeFile(dir, 'tools/README', 'plain\n');
    await lodeOk(['add', 'tools'], at);
    await lodeOk(['commit', '-m', 'tools'], at);
    fs.rmSync(path.join(dir, 'tools'), { recursive: true });
    const r = await lodeJson(['checkout'], at);
    expect(r.methods).toEqual({ reflink: 0, hardlink: 1, copy: 1 });
    expect(fs.statSync(path.join(dir, 'tools/run.sh')).mode & 0o111).not.toBe(0);
    expect((await lodeJson(['status'], at)).clean).toBe(true);
  });
});

describe('inside a git repository', () => {
  it('lode add lists each dataset in .gitignore exactly once, keeping what was there', async () => {
    const { dir, at } = track(await newRepo('git'));
    const git = spawnSync('git', ['init', '-q', dir], { encoding: 'utf8' });
    expect(git.status, git.stderr).toBe(0);
    writeFile(dir, '.gitignore', '*.log\n');
    writeFile(dir, 'data/a.csv', 'a\n');
    writeFile(dir, 'data/sub/b.csv', 'b\n');
    writeFile(dir, 'models/m.bin', 'weights\n');

    const first = await lodeJson(['add', 'data'], at);
    expect(first.gitignored).toEqual(['/data/']);
    await lodeOk(['add', 'data'], at);
    await lodeOk(['add', 'data/sub'], at);
    writeFile(dir, 'data/c.csv', 'c\n');
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'data'], at);
    expect(readFile(dir, '.gitignore').toString()).toBe('*.log\n# lode datasets\n/data/\n');

    const second = await lodeJson(['add', 'models/m.bin'], at);
    expect(second.gitignored).toEqual(['/models/m.bin']);
    await lodeOk(['add', 'models/m.bin'], at);
    expect(readFile(dir, '.gitignore').toString()).toBe('*.log\n# lode datasets\n/data/\n/models/m.bin\n');

    // git agrees: the data is ignored, lode's shared config is not (nor the pin file, once something is committed).
    const ignored = spawnSync('git', ['-C', dir, 'check-ignore', 'data/a.csv', 'models/m.bin'], { encoding: 'utf8' });
    expect(ignored.stdout.trim().split('\n')).toEqual(['data/a.csv', 'models/m.bin']);
    const status = spawnSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=all'], { encoding: 'utf8' });
    expect(status.stdout.split('\n').filter(Boolean).sort()).toEqual(['?? .gitignore', '?? .lode/.gitignore', '?? .lode/config', '?? lode.lock']);
  });

  it('outside git, lode add writes no .gitignore', async () => {
    const { dir, at } = track(await newRepo('nogit'));
    writeFile(dir, 'data/a.csv', 'a\n');
    expect((await lodeJson(['add', 'data'], at)).gitignored).toEqual([]);
    expect(fs.existsSync(path.join(dir, '.gitignore'))).toBe(false);
  });
});
