// Partial clones and reading a remote with no workspace, through the built
// binary: a default clone holds the history's metadata and the data of the
// commit it checked out only, and fetches an older version's data when it is
// checked out (or says "not fetched yet" when it cannot); `clone --all` and
// `fetch REV` bring more; `gc --pushed` / `--keep-last` drop local data a
// remote holds and never the only copy; fsck calls such a store healthy;
// `lode ls URL` and `lode get URL PATH` read a directory or S3 remote
// directly, verified, refusing forged trees and unsafe targets.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, readFile, removeDir, runLode, sha256, workspaceSnapshot, writeFile, type RunOptions } from '../test/helpers/cli.js';
import { createBucket, MOTO_CREDENTIALS, startMoto, type TestServer } from '../test/helpers/s3-servers.js';
import { obj, rawCommit, rawTree, ready, writeRemote } from '../test/helpers/forge.js';

let base: string;
beforeAll(() => {
  base = makeTempDir('lode-e2e-partial');
});
afterAll(() => {
  if (base) removeDir(base);
});

type Snap = Record<string, string>;
const dataOf = (dir: string): Snap => Object.fromEntries(Object.entries(workspaceSnapshot(dir)).filter(([k]) => k.startsWith('data/')));

/**
 * history makes a workspace with three versions of a dataset (a multi-chunk
 * file edited in place, a small table, files added and removed), tags the
 * first v1, pushes main and the tag to `url`, and returns each version's
 * commit and files.
 */
async function history(name: string, url: string, extra: string[] = [], env: Record<string, string> = {}) {
  const seed = path.join(base, name);
  fs.mkdirSync(seed, { recursive: true });
  const s: RunOptions = { cwd: seed, env };
  await lodeOk(['init'], s);
  const big = pseudoRandomBytes(2_600_000, 7);
  const versions: { id: string; files: Snap }[] = [];
  for (let v = 1; v <= 3; v++) {
    if (v === 2) big.set(pseudoRandomBytes(100_000, 99), 1_200_000);
    writeFile(seed, 'data/big.bin', v === 3 ? Buffer.concat([big, pseudoRandomBytes(300_000, 3)]) : big);
    writeFile(seed, 'data/labels.csv', `id,label\n1,cat\n${v},v${v}\n`);
    if (v === 1) writeFile(seed, 'data/only-v1.txt', 'first\n');
    if (v === 2) fs.rmSync(path.join(seed, 'data/only-v1.txt'));
    if (v === 3) writeFile(seed, 'data/new.txt', 'third\n');
    await lodeOk(['add', 'data'], s);
    const c = await lodeJson(['commit', '-m', `v${v}`], s);
    if (v === 1) await lodeOk(['tag', 'v1'], s);
    versions.push({ id: c.id, files: dataOf(seed) });
  }
  await lodeOk(['remote', 'add', 'origin', url, ...extra], s);
  await lodeOk(['push', '--tags'], s);
  return { seed, versions };
}

/**
 * settle makes the workspace's files trustworthy by stat: files written in
 * the same clock tick as the index are "racy" (status re-reads them, gc
 * --pushed keeps their cache copy); a status a moment later records them.
 */
async function settle(cwd: string): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
  await lodeOk(['status'], { cwd });
}

/** offline runs `fn` with the directory remote `dir` out of reach (moved away), then puts it back. */
async function offline<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  fs.renameSync(dir, `${dir}.away`);
  try {
    return await fn();
  } finally {
    fs.renameSync(`${dir}.away`, dir);
  }
}

describe('partial clone (directory remote)', () => {
  it('a default clone has only the checked-out data; older versions come on checkout or `fetch REV`; --all has everything', async () => {
    const remote = path.join(base, 'share-1');
    const { versions } = await history('seed-1', remote);
    const [v1, v2, v3] = versions;

    const c = path.join(base, 'clone-1');
    const cloned = await lodeJson(['clone', remote, c], { cwd: base });
    expect(cloned.fetched.data).toEqual([v3.id]);
    expect(dataOf(c)).toEqual(v3.files);
    // Every version is listable (metadata came), though its data did not.
    const log = await lodeJson(['log'], { cwd: c });
    expect(log.commits.map((x: { id: string }) => x.id)).toEqual([v3.id, v2.id, v1.id]);
    expect((await lodeJson(['ls', 'v1:data'], { cwd: c })).entries.map((e: { name: string }) => e.name)).toContain('only-v1.txt');
    const fsck = await runLode(['fsck', '--json'], { cwd: c });
    expect(fsck.code).toBe(0);
    const report = JSON.parse(fsck.stdout);
    expect(report.ok).toBe(true);
    expect(report.notFetched.length).toBeGreaterThan(0);
    expect(new Set(report.notFetched.map((n: { remote: string }) => n.remote))).toEqual(new Set(['origin']));
    expect(report.files).toBe(Object.keys(v3.files).length);
    const text = await lodeOk(['fsck'], { cwd: c });
    expect(text.stdout).toMatch(/^\d+ files? not fetched yet \(on remote origin\): not a problem/m);
    expect(fs.existsSync(path.join(c, '.lode', 'complete-metadata'))).toBe(true);

    const all = path.join(base, 'clone-1-all');
    const whole = await lodeJson(['clone', '--all', remote, all], { cwd: base });
    expect(whole.fetched.data).toBe('all');
    expect(whole.fetched.bytes).toBeGreaterThan(cloned.fetched.bytes);
    expect((await lodeJson(['fsck', '--json'], { cwd: all })).notFetched).toEqual([]);

    // An older version's data is fetched when it is checked out.
    const co = await lodeJson(['checkout', 'v1'], { cwd: c });
    expect(co.fetched).toBe(true);
    expect(dataOf(c)).toEqual(v1.files);
    await lodeOk(['checkout', 'main'], { cwd: c });

    // Offline: what was fetched checks out; what was not is named "not fetched yet", never blamed on gc.
    await offline(remote, async () => {
      await lodeOk(['checkout', 'v1'], { cwd: c });
      expect(dataOf(c)).toEqual(v1.files);
      const missing = await runLode(['checkout', v2.id], { cwd: c });
      const msg = expectLodeError(missing, 6);
      expect(msg).toMatch(/not fetched yet/);
      expect(missing.stderr).toMatch(new RegExp(`^hint: .*\`lode fetch origin ${v2.id.slice(0, 12)}\``, 'm'));
      expect(missing.stderr).not.toMatch(/garbage|gc/);
      expect(dataOf(c)).toEqual(v1.files); // nothing changed
      // fsck with the remote out of reach: still healthy, the rest presumed not fetched.
      expect((await runLode(['fsck'], { cwd: c })).code).toBe(0);
    });

    // `lode fetch REV`: that version's data (and not the others'), usable offline.
    const f = await lodeJson(['fetch', 'origin', 'main~1', '--json'], { cwd: c });
    expect(f.data).toEqual([v2.id]);
    expect(f.files).toBeGreaterThan(0);
    await offline(remote, async () => {
      const back = await lodeJson(['checkout', 'main~1'], { cwd: c });
      expect(back.fetched).toBeUndefined();
      expect(dataOf(c)).toEqual(v2.files);
    });
    // A first argument that names no remote is a revision of the default remote.
    const again = await lodeJson(['fetch', 'v1', '--json'], { cwd: c });
    expect(again.data).toEqual([v1.id]);
    expect(again.files).toBe(0);
  }, 300_000);

  it('`lode fetch` with no REV brings the data of the current branch on the remote; pull fetches what it checks out', async () => {
    const remote = path.join(base, 'share-2');
    const { seed, versions } = await history('seed-2', remote);
    const c = path.join(base, 'clone-2');
    await lodeOk(['clone', remote, c], { cwd: base });
    writeFile(seed, 'data/labels.csv', 'id,label\n1,cat\n4,v4\n');
    await lodeOk(['add', 'data'], { cwd: seed });
    const v4 = await lodeJson(['commit', '-m', 'v4'], { cwd: seed });
    await lodeOk(['push'], { cwd: seed });

    const f = await lodeJson(['fetch', '--json'], { cwd: c });
    expect(f.data).toEqual([v4.id]);
    expect(f.files).toBe(1); // only the changed table: the rest of v4 was here
    const text = await lodeOk(['fetch'], { cwd: c });
    expect(text.stdout).toMatch(/^File data: of [0-9a-f]{12} only/m);
    const pulled = await lodeJson(['pull'], { cwd: c });
    expect(pulled.outcome).toBe('fastForward');
    expect(dataOf(c)).toEqual(dataOf(seed));
    // `fetch --all`: every version's data; fsck then finds nothing unfetched.
    const everything = await lodeJson(['fetch', '--all', '--json'], { cwd: c });
    expect(everything.data).toBe('all');
    expect((await lodeJson(['fsck', '--json'], { cwd: c })).notFetched).toEqual([]);
    expect(versions).toHaveLength(3);
  }, 300_000);
});

describe('gc --pushed and --keep-last', () => {
  it('drops data the remote holds, never the only copy; dropped data is "not fetched" and comes back on checkout', async () => {
    const remote = path.join(base, 'share-3');
    const { versions } = await history('seed-3', remote);
    const [, v2, v3] = versions;
    const c = path.join(base, 'clone-3');
    await lodeOk(['clone', '--all', remote, c], { cwd: base });
    // An unpushed commit: its new file exists nowhere else.
    writeFile(c, 'data/unpushed.txt', 'only here\n');
    await lodeOk(['add', 'data'], { cwd: c });
    const mine = await lodeJson(['commit', '-m', 'not pushed'], { cwd: c });
    const mineFiles = dataOf(c);
    await lodeOk(['checkout', 'v1'], { cwd: c });
    await settle(c);

    const dry = await lodeJson(['gc', '--pushed', '--dry-run', '--json'], { cwd: c });
    expect(dry.pushed.filesDropped).toBeGreaterThan(0);
    const before = (await lodeJson(['fsck', '--json'], { cwd: c })).files;
    expect(before).toBeGreaterThan(Object.keys(v3.files).length);
    const gc = await lodeJson(['gc', '--pushed', '--json'], { cwd: c });
    expect(gc.pushed.remote).toBe('origin');
    expect(gc.pushed.filesDropped).toBe(dry.pushed.filesDropped);
    expect(gc.pushed.notOnRemote.files).toBe(1); // data/unpushed.txt: the only copy stays
    expect(gc.pushed.bytesDropped).toBeGreaterThan(2_000_000);
    const after = await runLode(['fsck', '--json'], { cwd: c });
    expect(after.code).toBe(0);
    const report = JSON.parse(after.stdout);
    expect(report.files).toBe(before - gc.pushed.filesDropped);
    expect(report.notFetched.length).toBe(gc.pushed.filesDropped);
    expect(report.notFetched.every((n: { remote: string }) => n.remote === 'origin')).toBe(true);

    await offline(remote, async () => {
      // What is checked out (v1) was kept; the unpushed file too.
      expect((await lodeOk(['checkout', '-f', 'v1'], { cwd: c })).code).toBe(0);
      expect((await runLode(['cat', '--no-fetch', 'main:data/unpushed.txt'], { cwd: c })).stdout).toBe('only here\n');
      expect((await runLode(['fsck'], { cwd: c })).code).toBe(0);
      const missing = await runLode(['checkout', 'main'], { cwd: c });
      expect(expectLodeError(missing, 6)).toMatch(/not fetched yet/);
    });
    // Back online, checking out main fetches what gc dropped.
    const co = await lodeJson(['checkout', 'main'], { cwd: c });
    expect(co.fetched).toBe(true);
    expect(dataOf(c)).toEqual(mineFiles);
    expect(mine.id).toMatch(/^[0-9a-f]{64}$/);
    // What is checked out is dropped too when a clean workspace file holds it;
    // restoring an edited file then fetches it again.
    await settle(c);
    const held = await lodeJson(['gc', '--pushed', '--json'], { cwd: c });
    expect(held.pushed.filesDropped).toBeGreaterThan(0);
    expect(held.pushed.notOnRemote.files).toBe(1); // the unpushed file, clean in the workspace, is still the only copy
    writeFile(c, 'data/labels.csv', 'edited\n');
    const restored = await lodeJson(['checkout', '-f', '--', 'data/labels.csv'], { cwd: c });
    expect(restored.fetched).toBe(true);
    expect(dataOf(c)).toEqual(mineFiles);
    // --remote and --pushed are different jobs.
    expectLodeError(await runLode(['gc', '--remote', '--pushed'], { cwd: c }), 2);
    expect(v2.id).not.toBe(v3.id);
  }, 300_000);

  it('--keep-last 1 keeps what branches and tags point at, drops older data the remote holds', async () => {
    const remote = path.join(base, 'share-4');
    const { versions } = await history('seed-4', remote);
    const [v1, v2, v3] = versions;
    const c = path.join(base, 'clone-4');
    await lodeOk(['clone', '--all', remote, c], { cwd: base });
    const gc = await lodeJson(['gc', '--keep-last', '1', '--json'], { cwd: c });
    expect(gc.pushed.keepLast).toBe(1);
    expect(gc.pushed.filesDropped).toBeGreaterThan(0);
    expect(gc.pushed.notOnRemote.files).toBe(0);
    await offline(remote, async () => {
      await lodeOk(['checkout', 'v1'], { cwd: c }); // a tag: kept
      expect(dataOf(c)).toEqual(v1.files);
      await lodeOk(['checkout', 'main'], { cwd: c }); // the branch tip: kept
      expect(dataOf(c)).toEqual(v3.files);
      expect(expectLodeError(await runLode(['checkout', v2.id], { cwd: c }), 6)).toMatch(/not fetched yet/);
    });
    const text = await lodeOk(['gc', '--keep-last', '1', '-n'], { cwd: c });
    expect(text.stdout).toMatch(/^Would drop 0 cached files .* that remote origin holds/m);
  }, 300_000);
});

describe('lode ls URL / lode get URL PATH (no workspace)', () => {
  it('lists and copies any version of a directory remote, verified; absent paths, bad revisions and unsafe targets are refused', async () => {
    const remote = path.join(base, 'share-5');
    const { versions } = await history('seed-5', remote);
    const [v1, , v3] = versions;
    const out = path.join(base, 'nowhere-5');
    fs.mkdirSync(out);
    const o = { cwd: out };

    const top = await lodeJson(['ls', remote, '--json'], o);
    expect(top.commit).toBe(v3.id);
    expect(top.entries.map((e: { name: string; kind: string }) => [e.name, e.kind])).toEqual([['data', 'tree']]);
    const old = await lodeJson(['ls', remote, 'data', '--rev', 'v1', '--json'], o);
    expect(old.entries.map((e: { name: string }) => e.name).sort()).toEqual(['big.bin', 'labels.csv', 'only-v1.txt']);
    expect(old.entries.find((e: { name: string }) => e.name === 'big.bin').kind).toBe('chunked');
    const byId = await lodeJson(['ls', remote, 'data', '--rev', v1.id.slice(0, 10), '-r', '--json'], o);
    expect(byId.commit).toBe(v1.id);
    const previous = await lodeJson(['ls', remote, '--rev', 'main~2', '--json'], o);
    expect(previous.commit).toBe(v1.id);
    const text = await lodeOk(['ls', remote, 'data', '-l'], o);
    expect(text.stdout).toMatch(/^chunked +\S+ \S+ +[0-9a-f]{12} +big\.bin$/m);

    // get: one file, a directory, an older version.
    await lodeOk(['get', remote, 'data/big.bin'], o);
    expect(sha256(readFile(out, 'big.bin'))).toBe(v3.files['data/big.bin']);
    const got = await lodeJson(['get', remote, 'data', '-o', 'v1-data', '--rev', 'v1', '--json'], o);
    expect(got.files).toBe(3);
    const snap = Object.fromEntries(Object.entries(workspaceSnapshot(path.join(out, 'v1-data'))).map(([k, v]) => [`data/${k}`, v]));
    expect(snap).toEqual(v1.files);
    // Nothing temporary left beside the targets.
    expect(fs.readdirSync(out).sort()).toEqual(['big.bin', 'v1-data']);

    expect(expectLodeError(await runLode(['ls', remote, 'data/nope'], o), 6)).toMatch(/data\/nope is not in main/);
    expect(expectLodeError(await runLode(['get', remote, 'data/nope'], o), 6)).toMatch(/is not in main/);
    expectLodeError(await runLode(['ls', remote, '--rev', 'nosuch'], o), 6);
    expectLodeError(await runLode(['get', remote, '../etc/passwd'], o), 2);
    // An existing target is not overwritten (a file only with --force); a target inside .lode or .git is refused.
    expect(expectLodeError(await runLode(['get', remote, 'data/big.bin'], o), 7)).toMatch(/exists/);
    await lodeOk(['get', remote, 'data/big.bin', '--rev', 'v1', '--force'], o);
    expect(sha256(readFile(out, 'big.bin'))).toBe(v1.files['data/big.bin']);
    fs.mkdirSync(path.join(out, '.git'));
    expect(expectLodeError(await runLode(['get', remote, 'data/labels.csv', '-o', '.git/hooks-x'], o), 2)).toMatch(/inside a \.git directory/);
    expect(fs.existsSync(path.join(out, '.git', 'hooks-x'))).toBe(false);
    expect(expectLodeError(await runLode(['ls', path.join(base, 'no-such-remote')], o), 9)).toMatch(/does not exist/);
  }, 300_000);

  it('a forged remote (a tree naming ../x, a file larger than its tree says) writes nothing', async () => {
    await ready();
    const out = path.join(base, 'nowhere-6');
    fs.mkdirSync(out);
    const content = Buffer.from('pwned\n');
    const file = obj(content);
    const evil = rawTree([{ name: '../escaped.txt', kind: 'blob', id: file.id, size: content.length }]);
    const top = rawTree([{ name: 'data', kind: 'tree', id: evil.id, size: content.length, files: 1 }]);
    const commit = rawCommit(top.id, ['data']);
    const forged = path.join(base, 'forged-6');
    writeRemote(forged, [file, evil, top, commit], { main: commit.id });
    const r = await runLode(['get', forged, 'data', '-o', 'x'], { cwd: out });
    expect(expectLodeError(r, 5)).toMatch(/unsafe entry name/);
    expect(fs.existsSync(path.join(base, 'escaped.txt'))).toBe(false);
    expect(fs.readdirSync(out)).toEqual([]);

    // A tree that declares a size the object does not have.
    const liar = rawTree([{ name: 'f.txt', kind: 'blob', id: file.id, size: 3 }]);
    const top2 = rawTree([{ name: 'data', kind: 'tree', id: liar.id, size: 3, files: 1 }]);
    const commit2 = rawCommit(top2.id, ['data']);
    const forged2 = path.join(base, 'forged-7');
    writeRemote(forged2, [file, liar, top2, commit2], { main: commit2.id });
    expect(expectLodeError(await runLode(['get', forged2, 'data'], { cwd: out }), 5)).toMatch(/tree says 3/);
    expect(fs.readdirSync(out)).toEqual([]);
  }, 120_000);
});

describe('on S3 (moto)', () => {
  let moto: TestServer;
  const env = { AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };
  beforeAll(async () => {
    moto = await startMoto();
    await createBucket(moto.endpoint, 'partial');
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('default clone, checkout of an older version, fsck, gc --pushed, ls and get', async () => {
    const args = ['--endpoint', moto.endpoint, '--path-style'];
    const url = 's3://partial/cats';
    const { versions } = await history('seed-s3', url, args, env);
    const [v1, v2, v3] = versions;
    const c = path.join(base, 'clone-s3');
    const cloned = await lodeJson(['clone', url, c, ...args], { cwd: base, env });
    expect(cloned.fetched.data).toEqual([v3.id]);
    expect(dataOf(c)).toEqual(v3.files);
    const fsck = await runLode(['fsck', '--json'], { cwd: c, env });
    expect(fsck.code).toBe(0);
    expect(JSON.parse(fsck.stdout).notFetched.length).toBeGreaterThan(0);
    expect((await lodeJson(['checkout', v2.id], { cwd: c, env })).fetched).toBe(true);
    expect(dataOf(c)).toEqual(v2.files);
    await lodeOk(['checkout', 'main'], { cwd: c, env });
    const gc = await lodeJson(['gc', '--pushed', '--json'], { cwd: c, env });
    expect(gc.pushed.filesDropped).toBeGreaterThan(0);
    expect((await runLode(['fsck'], { cwd: c, env })).code).toBe(0);
    expect((await lodeJson(['checkout', v2.id], { cwd: c, env })).fetched).toBe(true);
    expect(dataOf(c)).toEqual(v2.files);

    const out = path.join(base, 'nowhere-s3');
    fs.mkdirSync(out);
    const ls = await lodeJson(['ls', url, 'data', '--rev', 'v1', '--json', ...args], { cwd: out, env });
    expect(ls.url).toBe(url);
    expect(ls.entries.map((e: { name: string }) => e.name).sort()).toEqual(['big.bin', 'labels.csv', 'only-v1.txt']);
    await lodeOk(['get', url, 'data/big.bin', '-o', 'big-v1.bin', '--rev', 'v1', ...args], { cwd: out, env });
    expect(sha256(readFile(out, 'big-v1.bin'))).toBe(v1.files['data/big.bin']);
    expectLodeError(await runLode(['get', url, 'data/absent.bin', ...args], { cwd: out, env }), 6);
    expect(fs.readdirSync(out)).toEqual(['big-v1.bin']);
  }, 300_000);
});
