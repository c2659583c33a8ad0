// A directory large enough to be sharded over several tree objects goes
// through everything a user does with it: add, commit, diff, checkout, push,
// clone, fsck, ls. LODE_TEST_SHARD_BITS=4 (test-only, docs/formats.md) makes
// leaves of about 16 entries and shards directories of more than 64, so
// 20,000 files build a tree several shard levels deep; readers take the
// parameter from the objects, so the clone runs without it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, removeDir, runLode, workspaceSnapshot, writeFile } from '../test/helpers/cli.js';
import { obj, rawCommit, rawTree, ready, writeRemote, type Obj } from '../test/helpers/forge.js';
import { shardRank } from '../src/core/encoding.js';

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
    // The clone writes with the default parameters (leaves of about 64): its next commit shards
    // the same directory differently, and diff still finds the one change.
    writeFile(b, `data/flat/${name(3)}`, 'bob was here\n');
    await lodeOk(['add', 'data'], { cwd: b });
    await lodeOk(['commit', '-m', 'bob'], { cwd: b });
    const db = await lodeJson(['diff', 'HEAD~1', 'HEAD'], { cwd: b });
    expect(db.changes.map((c: { path: string }) => c.path)).toEqual([`data/flat/${name(3)}`]);
  }, 300_000);
});

/** rawShardNode writes a shard node byte by byte (docs/formats.md), records as given. */
function rawShardNode(bits: number, level: number, children: { id: string; entries: number; files: number; size: number; last: string }[]): Obj {
  const varint = (n: number) => {
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    out.push(n);
    return out;
  };
  const bytes = [...Buffer.from('LODT'), 2, bits, level, ...varint(children.length)];
  for (const c of children) {
    const name = Buffer.from(c.last, 'utf8');
    bytes.push(...Buffer.from(c.id, 'hex'), ...varint(c.entries), ...varint(c.files), ...varint(c.size), ...varint(name.length), ...name);
  }
  return obj(Buffer.from(bytes));
}

describe('a forged sharded directory on a remote', () => {
  it('whose shard records do not match its leaves: clone refuses it (exit 5) and leaves nothing', async () => {
    await ready();
    const dir = makeTempDir('lode-e2e-sharded-forged');
    try {
      const blob = obj(Buffer.from('x'));
      // Two leaves (bits 2): the first ends at a name of rank exactly 1, as a real cut would.
      const names = Array.from({ length: 60 }, (_, i) => `n${String(i).padStart(2, '0')}`);
      const cut = names.findIndex((n, i) => i >= 8 && shardRank(n, 2) === 1);
      expect(cut).toBeGreaterThan(0);
      const leafOf = (ns: string[]) => rawTree(ns.map((name) => ({ name, kind: 'blob', id: blob.id, size: 1 })));
      const first = names.slice(0, cut + 1);
      const second = names.slice(cut + 1, cut + 21);
      const l1 = leafOf(first);
      const l2 = leafOf(second);
      const total = first.length + second.length;
      // The first record claims one entry more than its leaf holds.
      const root = rawShardNode(2, 1, [
        { id: l1.id, entries: first.length + 1, files: first.length, size: first.length, last: first[first.length - 1] },
        { id: l2.id, entries: second.length, files: second.length, size: second.length, last: second[second.length - 1] },
      ]);
      const top = rawTree([{ name: 'data', kind: 'tree', id: root.id, size: total, files: total }]);
      const commit = rawCommit(top.id, ['data']);
      const remote = path.join(dir, 'remote');
      writeRemote(remote, [blob, l1, l2, root, top, commit], { main: commit.id });
      const err = expectLodeError(await runLode(['clone', remote, 'ws'], { cwd: dir }), 5);
      expect(err.split('\n').find((l) => l.startsWith('error: '))).toMatch(new RegExp(`^error: tree object ${l1.id} is corrupt: shard leaf: ${first.length} entries where its parent records ${first.length + 1}`));
      expect(fs.existsSync(path.join(dir, 'ws'))).toBe(false);
    } finally {
      removeDir(dir);
    }
  }, 120_000);
});

