// The local cache keeps older versions of big files as chunks (issue 11,
// part 5): a 1 MiB edit inside a big file adds the changed chunks to .lode,
// not a second whole copy, while every version still checks out byte for
// byte, fsck stays clean, push and clone carry both versions, gc keeps what
// is referenced, and a kill -9 while a version is being split leaves a store
// where every committed version reads back.
//
// The file is 64 MiB and the chunking scaled down with it (avg 64 KiB, the
// ratio of a 1 GiB file to the default 1 MiB average), so the test affords it.

import { describe, it, expect, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LODE_BIN, lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, sha256, type RunOptions } from '../test/helpers/cli.js';

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

/** bytesUnder sums the sizes of the regular files under `dir`. */
function bytesUnder(dir: string): number {
  let n = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += bytesUnder(p);
    else if (e.isFile()) n += fs.statSync(p).size;
  }
  return n;
}

/** data is the content .lode holds for files: whole files and loose chunks. */
function dataBytes(ws: string): number {
  return bytesUnder(path.join(ws, '.lode', 'cache')) + bytesUnder(path.join(ws, '.lode', 'chunks'));
}

interface Setup {
  base: string;
  ws: string;
  at: RunOptions;
  v1: Buffer;
  v2: Buffer;
  before: { total: number; data: number };
}

/** twoVersions commits a 64 MiB file, then the same file with 1 MiB overwritten in the middle. */
async function twoVersions(prefix: string, extraEnv: Record<string, string> = {}): Promise<Setup> {
  const base = makeTempDir(`lode-chunkcache-${prefix}`);
  dirs.push(base);
  const ws = path.join(base, 'ws');
  fs.mkdirSync(ws);
  const at = { cwd: ws };
  await lodeOk(['init'], at);
  for (const [k, v] of [['chunking.min', '16384'], ['chunking.avg', '65536'], ['chunking.max', '262144']]) await lodeOk(['config', k, v], at);
  const v1 = pseudoRandomBytes(SIZE, 11);
  fs.mkdirSync(path.join(ws, 'data'));
  fs.writeFileSync(path.join(ws, 'data/big.bin'), v1);
  await lodeOk(['add', 'data'], at);
  await lodeOk(['commit', '-m', 'v1'], at);
  const before = { total: bytesUnder(path.join(ws, '.lode')), data: dataBytes(ws) };
  const v2 = Buffer.from(v1);
  pseudoRandomBytes(MiB, 12).copy(v2, 30 * MiB + 12345);
  fs.writeFileSync(path.join(ws, 'data/big.bin'), v2);
  await lodeOk(['add', 'data'], { ...at, env: extraEnv });
  await lodeOk(['commit', '-m', 'v2'], at);
  return { base, ws, at, v1, v2, before };
}

function idAt(ws: string, spec: string): Promise<string> {
  return lodeJson(['ls', spec], { cwd: ws }).then((r) => r.entries[0].id as string);
}

function cat(ws: string, spec: string): Buffer {
  const r = spawnSync(process.execPath, [LODE_BIN, 'cat', spec], { cwd: ws, maxBuffer: 256 * MiB, env: { ...process.env, NO_COLOR: '1', CI: '1' } });
  expect(r.status, r.stderr.toString()).toBe(0);
  return r.stdout;
}

function expectSame(actual: Buffer, want: Buffer): void {
  expect(actual.length).toBe(want.length);
  expect(sha256(actual)).toBe(sha256(want));
}

describe('older versions kept as chunks', () => {
  it('a 1 MiB edit of a 64 MiB file grows .lode by at most 5% of the file; both versions check out byte for byte; fsck is clean', async () => {
    const { ws, at, v1, v2, before } = await twoVersions('growth');
    const after = { total: bytesUnder(path.join(ws, '.lode')), data: dataBytes(ws) };
    // File data: the changed chunks only. Everything: that plus metadata
    // (the new chunk list, tree, commit, split marker: well under 256 KiB).
    expect(after.data - before.data).toBeLessThanOrEqual(0.05 * SIZE);
    expect(after.total - before.total).toBeLessThanOrEqual(0.05 * SIZE + 256 * 1024);
    // It is not merely small: the old version is split, the new one whole.
    const id1 = await idAt(ws, 'HEAD~1:data/big.bin');
    const id2 = await idAt(ws, 'HEAD:data/big.bin');
    const cache = (id: string) => path.join(ws, '.lode', 'cache', id.slice(0, 2), id.slice(2));
    expect(fs.existsSync(cache(id1))).toBe(false);
    expect(sha256(fs.readFileSync(cache(id2)))).toBe(sha256(v2));

    const fsck = await runLode(['fsck'], at);
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);

    // Both versions, compared with copies of what was committed.
    const r1 = await lodeJson(['checkout', 'HEAD~1'], at);
    expect(r1.methods.copy + r1.methods.reflink + r1.methods.hardlink).toBe(1);
    expectSame(fs.readFileSync(path.join(ws, 'data/big.bin')), v1);
    expect((await lodeJson(['status'], at)).clean).toBe(true);
    await lodeOk(['checkout', 'main'], at);
    expectSame(fs.readFileSync(path.join(ws, 'data/big.bin')), v2);
    expectSame(cat(ws, 'HEAD~1:data/big.bin'), v1);
    expectSame(cat(ws, 'HEAD:data/big.bin'), v2);
    // Even with the hardlink method configured, the split version is a copy (nothing to link) and correct.
    await lodeOk(['config', 'cache.type', 'hardlink,copy'], at);
    const r3 = await lodeJson(['checkout', 'HEAD~1'], at);
    expect(r3.methods).toEqual({ reflink: 0, hardlink: 0, copy: 1 });
    expectSame(fs.readFileSync(path.join(ws, 'data/big.bin')), v1);
    // Adding the checked-out old version again reads nothing: it is known.
    const add = await lodeJson(['add', 'data'], at);
    expect(add.bytesHashed).toBe(0);
  }, 300_000);

  it('push and clone carry both versions; gc keeps every referenced version and drops what only a deleted branch needed', async () => {
    const { base, ws, at, v1, v2 } = await twoVersions('sync');
    const share = path.join(base, 'share');
    await lodeOk(['remote', 'add', 'origin', share], at);
    await lodeOk(['push'], at);
    const clone = path.join(base, 'clone');
    await lodeOk(['clone', share, clone], { cwd: base });
    expectSame(fs.readFileSync(path.join(clone, 'data/big.bin')), v2);
    expectSame(cat(clone, 'HEAD~1:data/big.bin'), v1);
    await lodeOk(['checkout', 'HEAD~1'], { cwd: clone });
    expectSame(fs.readFileSync(path.join(clone, 'data/big.bin')), v1);
    expect((await runLode(['fsck'], { cwd: clone })).code).toBe(0);

    // A branch at v1, and a third version on main.
    await lodeOk(['branch', 'old', 'HEAD~1'], at);
    const v3 = Buffer.from(v2);
    pseudoRandomBytes(MiB, 13).copy(v3, 5 * MiB);
    fs.writeFileSync(path.join(ws, 'data/big.bin'), v3);
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v3'], at);
    const gc = await lodeJson(['gc'], at);
    expect(gc.filesRemoved).toBe(0);
    expect((await runLode(['fsck'], at)).code).toBe(0);
    expectSame(cat(ws, 'old:data/big.bin'), v1);
    expectSame(cat(ws, 'HEAD~1:data/big.bin'), v2);
    expectSame(cat(ws, 'HEAD:data/big.bin'), v3);

    // Without the branch, v1 is history of main still: kept. gc twice is stable.
    await lodeOk(['branch', '-d', 'old'], at);
    await lodeOk(['gc'], at);
    await lodeOk(['gc'], at);
    expect((await runLode(['fsck'], at)).code).toBe(0);
    for (const [spec, want] of [['HEAD~2', v1], ['HEAD~1', v2], ['HEAD', v3]] as const) expectSame(cat(ws, `${spec}:data/big.bin`), want);

    // A version only a deleted branch reached goes, chunks and all; the rest stays readable.
    await lodeOk(['checkout', '-b', 'side'], at);
    const v4 = Buffer.from(v3);
    pseudoRandomBytes(MiB, 14).copy(v4, 50 * MiB);
    fs.writeFileSync(path.join(ws, 'data/big.bin'), v4);
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v4'], at);
    await lodeOk(['checkout', 'main'], at);
    const id4 = await idAt(ws, 'side:data/big.bin');
    const id3 = await idAt(ws, 'main:data/big.bin');
    const cache = (id: string) => path.join(ws, '.lode', 'cache', id.slice(0, 2), id.slice(2));
    // v4 superseded v3 on side, so v3 (main's newest) is split and reads from v4.
    expect(fs.existsSync(cache(id3))).toBe(false);
    await lodeOk(['branch', '-D', 'side'], at);
    const before = bytesUnder(path.join(ws, '.lode'));
    const dropped = await lodeJson(['gc'], at);
    expect(dropped.filesRemoved).toBe(1);
    // Dropping v4 made main's newest version whole again (a reflink source),
    // not 64 MiB of loose chunks, and .lode did not grow.
    expect(fs.existsSync(cache(id4))).toBe(false);
    expect(sha256(fs.readFileSync(cache(id3)))).toBe(sha256(v3));
    expect(bytesUnder(path.join(ws, '.lode', 'chunks'))).toBeLessThan(0.1 * SIZE);
    expect(bytesUnder(path.join(ws, '.lode'))).toBeLessThanOrEqual(before);
    expect((await runLode(['fsck'], at)).code).toBe(0);
    for (const [spec, want] of [['HEAD~2', v1], ['HEAD~1', v2], ['HEAD', v3]] as const) expectSame(cat(ws, `${spec}:data/big.bin`), want);

    // The remote got every chunk of the split versions: a fresh clone reads v3 and v1.
    await lodeOk(['push'], at);
    const clone2 = path.join(base, 'clone2');
    await lodeOk(['clone', share, clone2], { cwd: base });
    expectSame(cat(clone2, 'HEAD:data/big.bin'), v3);
    expectSame(cat(clone2, 'HEAD~2:data/big.bin'), v1);
  }, 600_000);

  it('clone --all keeps the older version as chunks: its cache holds about one copy of the file, and both versions read back', async () => {
    const { base, ws, at, v1, v2 } = await twoVersions('clone-all');
    const share = path.join(base, 'share');
    await lodeOk(['remote', 'add', 'origin', share], at);
    await lodeOk(['push'], at);
    const clone = path.join(base, 'clone');
    await lodeOk(['clone', '--all', share, clone], { cwd: base });
    // Two whole copies would be 128 MiB; the second version adds about 1 MiB of chunks.
    expect(dataBytes(clone)).toBeLessThanOrEqual(SIZE * 1.05 + 256 * 1024);
    expectSame(fs.readFileSync(path.join(clone, 'data/big.bin')), v2);
    expectSame(cat(clone, 'HEAD~1:data/big.bin'), v1);
    expect((await runLode(['fsck'], { cwd: clone })).code).toBe(0);
  });

  it('a pull that brings a 1 MiB edit keeps the replaced version as chunks: .lode grows by at most 5% of the file', async () => {
    const base = makeTempDir('lode-chunkcache-pull');
    dirs.push(base);
    const alice = path.join(base, 'alice');
    fs.mkdirSync(alice);
    const at = { cwd: alice };
    await lodeOk(['init'], at);
    for (const [k, v] of [['chunking.min', '16384'], ['chunking.avg', '65536'], ['chunking.max', '262144']]) await lodeOk(['config', k, v], at);
    const v1 = pseudoRandomBytes(SIZE, 31);
    fs.mkdirSync(path.join(alice, 'data'));
    fs.writeFileSync(path.join(alice, 'data/big.bin'), v1);
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v1'], at);
    const share = path.join(base, 'share');
    await lodeOk(['remote', 'add', 'origin', share], at);
    await lodeOk(['push'], at);
    const bob = path.join(base, 'bob');
    await lodeOk(['clone', share, bob], { cwd: base });
    const before = bytesUnder(path.join(bob, '.lode'));

    const v2 = Buffer.from(v1);
    pseudoRandomBytes(MiB, 32).copy(v2, 40 * MiB);
    fs.writeFileSync(path.join(alice, 'data/big.bin'), v2);
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v2'], at);
    await lodeOk(['push'], at);

    await lodeOk(['pull'], { cwd: bob });
    expectSame(fs.readFileSync(path.join(bob, 'data/big.bin')), v2);
    expect(bytesUnder(path.join(bob, '.lode')) - before).toBeLessThanOrEqual(0.05 * SIZE + 256 * 1024);
    expectSame(cat(bob, 'HEAD~1:data/big.bin'), v1);
    expect((await runLode(['fsck'], { cwd: bob })).code).toBe(0);
  }, 300_000);

  it('gc --pushed drops an older version kept as chunks that the remote holds; cat fetches it back byte for byte', async () => {
    const { base, ws, at, v1, v2 } = await twoVersions('pushed');
    await lodeOk(['remote', 'add', 'origin', path.join(base, 'share')], at);
    await lodeOk(['push'], at);
    const id1 = await idAt(ws, 'HEAD~1:data/big.bin');
    expect(fs.existsSync(path.join(ws, '.lode', 'split', id1.slice(0, 2), id1.slice(2)))).toBe(true);
    const r = await lodeJson(['gc', '--pushed'], at);
    expect(r.pushed.filesDropped).toBeGreaterThanOrEqual(1);
    expect(fs.existsSync(path.join(ws, '.lode', 'split', id1.slice(0, 2), id1.slice(2)))).toBe(false);
    expect(bytesUnder(path.join(ws, '.lode', 'chunks'))).toBe(0);
    const fsck = await lodeJson(['fsck'], at);
    expect(fsck.ok).toBe(true);
    expect(fsck.notFetched.map((n: { id: string }) => n.id)).toContain(id1);
    expectSame(fs.readFileSync(path.join(ws, 'data/big.bin')), v2);
    expectSame(cat(ws, 'HEAD~1:data/big.bin'), v1);
  }, 300_000);

  it('fsck reports a lost loose chunk of an older version as missing (exit 5), and checkout of that version refuses', async () => {
    const { ws, at } = await twoVersions('fsck');
    const chunks = path.join(ws, '.lode', 'chunks');
    const fan = fs.readdirSync(chunks)[0];
    const name = fs.readdirSync(path.join(chunks, fan))[0];
    fs.rmSync(path.join(chunks, fan, name));
    const r = await runLode(['fsck'], at);
    expect(r.code).toBe(5);
    expect(r.stdout + r.stderr).toMatch(new RegExp(`chunk ${(fan + name).slice(0, 12)}.* is missing`));
    const co = await runLode(['checkout', 'HEAD~1'], at);
    expect(co.code).not.toBe(0);
    // The newest version is unaffected.
    expect((await runLode(['checkout', 'HEAD'], at)).code).toBe(0);
  }, 300_000);
});

describe('diff of a table whose older version is kept as chunks', () => {
  it('compares rows of both versions (the older one assembled from its chunks)', async () => {
    const base = makeTempDir('lode-chunkcache-diff');
    dirs.push(base);
    const at = { cwd: base };
    await lodeOk(['init'], at);
    for (const [k, v] of [['chunking.min', '4096'], ['chunking.avg', '16384'], ['chunking.max', '65536']]) await lodeOk(['config', k, v], at);
    const rows = (label: (i: number) => string) => 'id,label\n' + Array.from({ length: 20_000 }, (_, i) => `${i},${label(i)}`).join('\n') + '\n';
    fs.mkdirSync(path.join(base, 'data'));
    fs.writeFileSync(path.join(base, 'data/labels.csv'), rows((i) => `cat${i % 7}`));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v1'], at);
    const id1 = await idAt(base, 'HEAD:data/labels.csv');
    // Relabel 10 rows in the middle.
    fs.writeFileSync(path.join(base, 'data/labels.csv'), rows((i) => (i >= 10_000 && i < 10_010 ? 'dog' : `cat${i % 7}`)));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v2'], at);
    expect((await lodeJson(['ls', 'HEAD~1:data/labels.csv', '-l'], at)).entries[0].kind).toBe('chunked');
    expect(fs.existsSync(path.join(base, '.lode', 'cache', id1.slice(0, 2), id1.slice(2)))).toBe(false);
    const r = await lodeJson(['diff', 'HEAD~1', 'HEAD', '--key', 'id'], at);
    const t = r.tables.find((x: { path: string }) => x.path === 'data/labels.csv');
    expect(t.rows).toMatchObject({ before: 20_000, after: 20_000, modified: 10, added: 0, removed: 0 });
  }, 300_000);
});

describe('a kill -9 while a version is split leaves every committed version readable', () => {
  for (const point of ['split-chunks-written', 'split-marked', 'split-removed']) {
    it(`killed at ${point}`, async () => {
      const base = makeTempDir(`lode-chunkcache-kill-${point}`);
      dirs.push(base);
      const ws = path.join(base, 'ws');
      fs.mkdirSync(ws);
      const at = { cwd: ws };
      await lodeOk(['init'], at);
      for (const [k, v] of [['chunking.min', '16384'], ['chunking.avg', '65536'], ['chunking.max', '262144']]) await lodeOk(['config', k, v], at);
      const v1 = pseudoRandomBytes(8 * MiB, 21);
      fs.mkdirSync(path.join(ws, 'data'));
      fs.writeFileSync(path.join(ws, 'data/big.bin'), v1);
      await lodeOk(['add', 'data'], at);
      await lodeOk(['commit', '-m', 'v1'], at);
      const v2 = Buffer.from(v1);
      pseudoRandomBytes(MiB, 22).copy(v2, 3 * MiB);
      fs.writeFileSync(path.join(ws, 'data/big.bin'), v2);
      // `lode add` splits the version it supersedes; the hook kills it with SIGKILL there.
      const killed = spawnSync(process.execPath, [LODE_BIN, 'add', 'data'], { cwd: ws, env: { ...process.env, NO_COLOR: '1', CI: '1', LODE_TEST_KILL_AT: point } });
      expect(killed.signal).toBe('SIGKILL');
      // The committed version reads back, and so does the new one once committed.
      expectSame(cat(ws, 'HEAD:data/big.bin'), v1);
      await lodeOk(['add', 'data'], at);
      await lodeOk(['commit', '-m', 'v2'], at);
      const fsck = await runLode(['fsck'], at);
      expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
      expectSame(cat(ws, 'HEAD~1:data/big.bin'), v1);
      expectSame(cat(ws, 'HEAD:data/big.bin'), v2);
      await lodeOk(['checkout', 'HEAD~1'], at);
      expectSame(fs.readFileSync(path.join(ws, 'data/big.bin')), v1);
      await lodeOk(['checkout', 'main'], at);

      // gc finishes what the kill interrupted, and is itself killed safely.
      const gcKilled = spawnSync(process.execPath, [LODE_BIN, 'gc'], { cwd: ws, env: { ...process.env, NO_COLOR: '1', CI: '1', LODE_TEST_KILL_AT: point } });
      expect([null, 'SIGKILL']).toContain(gcKilled.signal);
      expectSame(cat(ws, 'HEAD~1:data/big.bin'), v1);
      await lodeOk(['gc'], at);
      expect((await runLode(['fsck'], at)).code).toBe(0);
      expectSame(cat(ws, 'HEAD~1:data/big.bin'), v1);
      expectSame(cat(ws, 'HEAD:data/big.bin'), v2);
    }, 300_000);
  }
});
