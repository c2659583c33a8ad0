// `lode status` with the walk split across two threads (walk-split.ts; on
// by itself from 100,000 tracked files, forced here on a small tree with
// LODE_TEST_WALK_SPLIT=1) reports exactly what the one-thread walk reports:
// changes on either side of the split, in the helper thread's half too,
// and what the walk passes over (symbolic links, unsafe names, ignored files).

import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { lodeJson, lodeOk, writeFile } from '../test/helpers/cli.js';
import { newRepo, trackRepos, type Repo } from './repos.js';

const track = trackRepos();
const SPLIT = { LODE_TEST_WALK_SPLIT: '1' };

interface Status {
  clean: boolean;
  unstaged: { path: string; status: string }[];
  untracked: string[];
  skipped: { path: string; reason: string }[];
  missingDatasets: string[];
}

/** A dataset whose top directory has names on both sides of the split (files and folders, sorted: a*, b..., then z*). */
async function tree(): Promise<Repo> {
  const r = track(await newRepo('split'));
  writeFile(r.dir, 'data/a-first.txt', 'first file\n');
  for (const d of ['b1', 'b2', 'm1', 'm2', 'y1', 'y2']) {
    for (let i = 0; i < 5; i++) writeFile(r.dir, `data/${d}/f${i}.txt`, `${d} ${i}\n`);
    writeFile(r.dir, `data/${d}/deep/g.txt`, `${d} deep\n`);
  }
  writeFile(r.dir, 'data/z-last.txt', 'last file\n');
  // Ignored in the second half: never reported, split or not.
  writeFile(r.dir, 'data/y2/.lodeignore', '*.tmp\n');
  await lodeOk(['add', 'data'], r.at);
  await lodeOk(['commit', '-m', 'v1'], r.at);
  return r;
}

const status = (r: Repo, env: Record<string, string> = {}) => lodeJson<Status>(['status', '--json'], { ...r.at, env });

describe('status with a split walk', () => {
  it('is clean on an unchanged tree, as the one-thread walk is', async () => {
    const r = await tree();
    const split = await status(r, SPLIT);
    expect(split.clean).toBe(true);
    expect(split).toEqual(await status(r));
  });

  it('reports changes in both halves, and in the same order as the one-thread walk', async () => {
    const r = await tree();
    // First half (this thread).
    writeFile(r.dir, 'data/b1/f0.txt', 'B1 0\n'); // same size, other bytes
    fs.rmSync(path.join(r.dir, 'data/b2/f3.txt'));
    writeFile(r.dir, 'data/b2/new.txt', 'new\n');
    // Second half (the helper thread).
    writeFile(r.dir, 'data/y1/f2.txt', 'Y1 2\n');
    writeFile(r.dir, 'data/y1/deep/g.txt', 'a longer content than before\n');
    fs.rmSync(path.join(r.dir, 'data/y2/f4.txt'));
    writeFile(r.dir, 'data/y2/new.txt', 'new\n');
    writeFile(r.dir, 'data/y2/scratch.tmp', 'ignored\n');
    fs.mkdirSync(path.join(r.dir, 'data/y3/inner'), { recursive: true });
    writeFile(r.dir, 'data/y3/inner/h.txt', 'untracked folder\n');
    fs.symlinkSync('/etc/hostname', path.join(r.dir, 'data/y1/link'));
    writeFile(r.dir, 'data/y1/bad\u0001name', 'control character\n');
    // A folder replaced by a file of its name.
    fs.rmSync(path.join(r.dir, 'data/m2'), { recursive: true });
    writeFile(r.dir, 'data/m2', 'now a file\n');
    writeFile(r.dir, 'data/z-last.txt', 'LAST FILE\n');

    const split = await status(r, SPLIT);
    expect(split.clean).toBe(false);
    const m2Gone = [0, 1, 2, 3, 4].map((i) => ({ path: `data/m2/f${i}.txt`, status: 'deleted' }));
    expect(split.unstaged).toEqual(
      [
        { path: 'data/b1/f0.txt', status: 'modified' },
        { path: 'data/b2/f3.txt', status: 'deleted' },
        { path: 'data/m2/deep/g.txt', status: 'deleted' },
        ...m2Gone,
        { path: 'data/y1/deep/g.txt', status: 'modified' },
        { path: 'data/y1/f2.txt', status: 'modified' },
        { path: 'data/y2/f4.txt', status: 'deleted' },
        { path: 'data/z-last.txt', status: 'modified' },
      ].sort((a, b) => (a.path < b.path ? -1 : 1)),
    );
    expect(split.untracked.sort()).toEqual(['data/b2/new.txt', 'data/m2', 'data/y2/new.txt', 'data/y3/inner/h.txt']);
    expect(split.skipped.map((s) => s.path).sort()).toEqual(['data/y1/bad\u0001name', 'data/y1/link']);
    expect(split).toEqual(await status(r));
  });

  it("walks the helper's half itself when the helper thread cannot start, instead of waiting for it forever", async () => {
    const r = await tree();
    writeFile(r.dir, 'data/y1/f2.txt', 'Y1 2\n');
    // A preload that fails in every worker thread: the helper dies before it runs a line of lode.
    const pre = path.join(r.dir, 'no-threads.cjs');
    fs.writeFileSync(pre, "if (!require('node:worker_threads').isMainThread) throw new Error('no helper threads here');\n");
    const split = await status(r, { ...SPLIT, NODE_OPTIONS: `--require ${pre}` });
    expect(split.unstaged).toEqual([{ path: 'data/y1/f2.txt', status: 'modified' }]);
    expect(split).toEqual(await status(r));
  });

  it('reports the second half gone when its folders are deleted', async () => {
    const r = await tree();
    for (const d of ['y1', 'y2']) fs.rmSync(path.join(r.dir, 'data', d), { recursive: true });
    fs.rmSync(path.join(r.dir, 'data/z-last.txt'));
    const split = await status(r, SPLIT);
    expect(split.unstaged.filter((u) => u.status === 'deleted')).toHaveLength(2 * 6 + 1);
    expect(split.unstaged.every((u) => /^data\/(y1|y2|z-last)/.test(u.path))).toBe(true);
    expect(split).toEqual(await status(r));
  });
});

describe('status after touching files (same bytes)', () => {
  const touch = (dir: string, rel: string) => {
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(path.join(dir, rel), later, later);
  };

  it('hashes one touched file and leaves a large index alone; many touched files refresh it', async () => {
    const r = track(await newRepo('refresh'));
    for (let i = 0; i < 1500; i++) writeFile(r.dir, `data/d${i % 10}/f${String(i).padStart(4, '0')}.txt`, `file ${i}\n`);
    await lodeOk(['add', 'data'], r.at);
    await lodeOk(['commit', '-m', 'v1'], r.at);
    const indexFile = path.join(r.dir, '.lode/index');
    // Settle: whatever refresh the fresh files need (racy entries) happens first.
    expect((await status(r)).clean).toBe(true);
    expect((await status(r)).clean).toBe(true);
    const before = fs.readFileSync(indexFile);

    touch(r.dir, 'data/d3/f0003.txt');
    expect((await status(r)).clean).toBe(true);
    expect(fs.readFileSync(indexFile).equals(before)).toBe(true);
    // Still re-read (and still clean) the next time; a real edit of it is seen.
    expect((await status(r)).clean).toBe(true);
    writeFile(r.dir, 'data/d3/f0003.txt', 'FILE 3\n');
    touch(r.dir, 'data/d3/f0003.txt');
    expect((await status(r)).unstaged).toEqual([{ path: 'data/d3/f0003.txt', status: 'modified' }]);
    writeFile(r.dir, 'data/d3/f0003.txt', 'file 3\n');

    for (let i = 0; i < 1500; i += 3) touch(r.dir, `data/d${i % 10}/f${String(i).padStart(4, '0')}.txt`);
    expect((await status(r)).clean).toBe(true);
    expect(fs.readFileSync(indexFile).equals(before)).toBe(false);
  });
});
