// A directory large enough to be sharded over several tree objects goes
// through everything a user does with it: add, commit, diff, checkout, push,
// clone, fsck, ls. LODE_TEST_SHARD_BITS=4 (test-only, docs/formats.md) makes
// leaves of about 16 entries and shards directories of more than 64, so
// 20,000 files build a tree several shard levels deep; readers take the
// parameter from the objects, so the clone runs without it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { lodeJson, lodeOk, makeTempDir, removeDir, workspaceSnapshot, writeFile } from '../test/helpers/cli.js';

const FILES = 20_000;
const env = { LODE_TEST_SHARD_BITS: '4' };
const name = (i: number) => `f${String(i).padStart(5, '0')}.txt`;

let base: string;
let a: string;
let share: string;
const at = () => ({ cwd: a, env });

beforeAll(async () => {
  base = makeTempDir('lode-e2e-sharded');
  a = path.join(base, 'alice');
  share = path.join(base, 'share');
  fs.mkdirSync(a);
  await lodeOk(['init'], at());
  writeFile(a, 'data/readme.txt', 'small first\n');
  await lodeOk(['add', 'data'], at());
  await lodeOk(['commit', '-m', 'small'], at());
  await lodeOk(['remote', 'add', 'share', share], at());
  await lodeOk(['push'], at());
  const flat = path.join(a, 'data', 'flat');
  fs.mkdirSync(flat, { recursive: true });
  for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(flat, name(i)), `file ${i}\n`);
}, 300_000);

afterAll(() => removeDir(base), 300_000);

describe('a sharded directory of 20,000 files', () => {
  it('a remote holding no sharded tree stays in format 1 (older lodes still read it)', () => {
    expect(JSON.parse(fs.readFileSync(path.join(share, 'config'), 'utf8')).format).toBe(1);
  });

  it('add and commit; status is clean; ls lists every file with its totals', async () => {
    await lodeOk(['add', 'data'], at());
    await lodeOk(['commit', '-m', 'v1'], at());
    expect((await lodeJson(['status'], at())).clean).toBe(true);
    const top = await lodeJson(['ls', 'HEAD:data'], at());
    expect(top.entries.find((e: { name: string }) => e.name === 'flat')).toMatchObject({ kind: 'tree', files: FILES });
    const ls = await lodeJson(['ls', 'HEAD:data/flat'], at());
    expect(ls.entries).toHaveLength(FILES);
    expect(ls.entries.map((e: { name: string }) => e.name)).toEqual(Array.from({ length: FILES }, (_, i) => name(i)));
    const one = await lodeOk(['cat', `HEAD:data/flat/${name(12345)}`], at());
    expect(one.stdout).toBe('file 12345\n');
  }, 300_000);

  it('diff of a few changes lists exactly them', async () => {
    writeFile(a, `data/flat/${name(7)}`, 'changed 7\n');
    writeFile(a, `data/flat/${name(19_999)}`, 'changed last\n');
    fs.rmSync(path.join(a, 'data', 'flat', name(10_000)));
    writeFile(a, 'data/flat/f10000a.txt', 'new one\n');
    await lodeOk(['add', 'data'], at());
    await lodeOk(['commit', '-m', 'v2'], at());
    const d = await lodeJson(['diff', 'HEAD~1', 'HEAD'], at());
    expect(d.changes.map((c: { status: string; path: string }) => `${c.status} ${c.path}`)).toEqual([
      'deleted data/flat/f10000.txt',
      'added data/flat/f10000a.txt',
      'modified data/flat/f00007.txt',
      'modified data/flat/f19999.txt',
    ].sort((x, y) => (x.split(' ')[1] < y.split(' ')[1] ? -1 : 1)));
    expect((await lodeJson(['status'], at())).clean).toBe(true);
  }, 300_000);

  it('checkout back and forth restores each version', async () => {
    const v2 = workspaceSnapshot(a);
    await lodeOk(['checkout', 'HEAD~1'], at());
    expect(fs.readFileSync(path.join(a, 'data', 'flat', name(7)), 'utf8')).toBe('file 7\n');
    expect(fs.existsSync(path.join(a, 'data', 'flat', name(10_000)))).toBe(true);
    expect(fs.existsSync(path.join(a, 'data', 'flat', 'f10000a.txt'))).toBe(false);
    await lodeOk(['checkout', 'main'], at());
    expect(workspaceSnapshot(a)).toEqual(v2);
  }, 300_000);

  it('push raises the remote to format 2; a clone without the test setting gets every file; fsck passes', async () => {
    await lodeOk(['push'], at());
    expect(JSON.parse(fs.readFileSync(path.join(share, 'config'), 'utf8')).format).toBe(2);
    await lodeOk(['fsck', '--remote', 'share'], at());
    const b = path.join(base, 'bob');
    await lodeOk(['clone', share, b], { cwd: base });
    expect(workspaceSnapshot(b)).toEqual(workspaceSnapshot(a));
    await lodeOk(['fsck'], { cwd: b });
    expect((await lodeJson(['status'], { cwd: b })).clean).toBe(true);
    const d = await lodeJson(['diff', 'HEAD~1', 'HEAD'], { cwd: b });
    expect(d.changes).toHaveLength(4);
    // The clone writes with the default parameters (leaves of about 256): its next commit shards
    // the same directory differently, and diff still finds the one change.
    writeFile(b, `data/flat/${name(3)}`, 'bob was here\n');
    await lodeOk(['add', 'data'], { cwd: b });
    await lodeOk(['commit', '-m', 'bob'], { cwd: b });
    const db = await lodeJson(['diff', 'HEAD~1', 'HEAD'], { cwd: b });
    expect(db.changes.map((c: { path: string }) => c.path)).toEqual([`data/flat/${name(3)}`]);
  }, 300_000);
});
