// Two people, one remote, through the built binary: the push race loser
// follows the hint and gets their commits in; conflicting edits stop a pull
// the way they stop `lode merge`; remote-tracking names are revisions; a
// branch `x/y` beside a remote branch `x` is refused, and a remote that holds
// both anyway is still cloned and fetched (the one ref skipped and reported).

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, readFile, removeDir, runLode, writeFile } from '../test/helpers/cli.js';
import { createBucket, MOTO_CREDENTIALS, startMoto, type TestServer } from '../test/helpers/s3-servers.js';

let base: string;
beforeAll(() => {
  base = makeTempDir('lode-e2e-team');
});
afterAll(() => {
  if (base) removeDir(base);
});

/** team makes a directory remote with one commit on main, cloned by A and B. */
async function team(name: string, remoteUrl?: (dir: string) => string, env: Record<string, string> = {}, remoteArgs: string[] = []) {
  const root = path.join(base, name);
  fs.mkdirSync(root);
  const seed = path.join(root, 'seed');
  fs.mkdirSync(seed);
  const url = remoteUrl ? remoteUrl(root) : path.join(root, 'remote');
  const s = { cwd: seed, env };
  await lodeOk(['init'], s);
  writeFile(seed, 'data/shared.txt', 'base\n');
  writeFile(seed, 'data/labels.csv', 'id,label\n1,cat\n');
  await lodeOk(['add', 'data'], s);
  await lodeOk(['commit', '-m', 'base'], s);
  await lodeOk(['remote', 'add', 'origin', url, ...remoteArgs], s);
  await lodeOk(['push'], s);
  const a = path.join(root, 'a');
  const b = path.join(root, 'b');
  await lodeOk(['clone', url, a, ...remoteArgs], { cwd: root, env });
  await lodeOk(['clone', url, b, ...remoteArgs], { cwd: root, env });
  return { root, url, seed, a: { cwd: a, env }, b: { cwd: b, env } };
}

describe('a pushed-over branch is not a dead end', () => {
  it('B loses the push race, follows the hint (`lode pull` merges), pushes; A pulls and has both', async () => {
    const t = await team('race');
    writeFile(t.a.cwd, 'data/a.txt', 'from A\n');
    await lodeOk(['add', 'data'], t.a);
    await lodeOk(['commit', '-m', 'A'], t.a);
    writeFile(t.b.cwd, 'data/b.txt', 'from B\n');
    await lodeOk(['add', 'data'], t.b);
    await lodeOk(['commit', '-m', 'B'], t.b);
    await lodeOk(['push'], t.a);

    const refused = await runLode(['push'], t.b);
    const err = expectLodeError(refused, 7);
    expect(err).toMatch(/^hint: .*`lode pull`/m);

    const pulled = await lodeJson(['pull'], t.b);
    expect(pulled.outcome).toBe('merged');
    expect(pulled.merge.conflicts).toEqual([]);
    expect(readFile(t.b.cwd, 'data/a.txt').toString()).toBe('from A\n');
    expect(readFile(t.b.cwd, 'data/b.txt').toString()).toBe('from B\n');
    const log = await lodeJson(['log', '-n', '1'], t.b);
    expect(log.commits[0].parents).toHaveLength(2);
    await lodeOk(['push'], t.b);

    const back = await lodeJson(['pull'], t.a);
    expect(back.outcome).toBe('fastForward');
    expect(readFile(t.a.cwd, 'data/a.txt').toString()).toBe('from A\n');
    expect(readFile(t.a.cwd, 'data/b.txt').toString()).toBe('from B\n');
  }, 300_000);

  it('remote-tracking names are revisions: `lode merge origin/main`, log, diff and branch -r', async () => {
    const t = await team('tracking');
    writeFile(t.a.cwd, 'data/a.txt', 'from A\n');
    await lodeOk(['add', 'data'], t.a);
    await lodeOk(['commit', '-m', 'A'], t.a);
    await lodeOk(['push'], t.a);
    await lodeOk(['branch', 'feature'], t.a);
    await lodeOk(['push', 'origin', 'feature'], t.a);
    writeFile(t.b.cwd, 'data/b.txt', 'from B\n');
    await lodeOk(['add', 'data'], t.b);
    await lodeOk(['commit', '-m', 'B'], t.b);

    await lodeOk(['fetch'], t.b);
    const remotes = await lodeJson(['branch', '-r'], t.b);
    const aHead = (await lodeJson(['log', '-n', '1'], t.a)).commits[0].id;
    expect(remotes.branches.map((x: { ref: string; id: string }) => [x.ref, x.id])).toEqual([
      ['origin/feature', aHead],
      ['origin/main', aHead],
    ]);
    const text = await lodeOk(['branch', '-r'], t.b);
    expect(text.stdout).toMatch(/^ {2}origin\/main [0-9a-f]{12}$/m);
    const log = await lodeJson(['log', 'origin/main'], t.b);
    expect(log.commits[0].id).toBe(aHead);
    expect((await lodeJson(['log', 'origin/main~1', '-n', '1'], t.b)).commits[0].message).toMatch(/base/);
    const diff = await lodeJson(['diff', 'HEAD', 'origin/main'], t.b);
    expect(JSON.stringify(diff)).toContain('data/a.txt');

    const m = await lodeJson(['merge', 'origin/main'], t.b);
    expect(m.outcome).toBe('merged');
    expect(readFile(t.b.cwd, 'data/a.txt').toString()).toBe('from A\n');
    await lodeOk(['push'], t.b);
    // An unknown remote-tracking name is still an unknown revision (exit 6).
    expectLodeError(await runLode(['log', 'origin/nope'], t.b), 6);

    // A branch other than the current one: the hint names the commands that merge it, and they work.
    await lodeOk(['branch', 'feature', 'origin/feature'], t.b);
    await lodeOk(['checkout', 'feature'], t.b);
    writeFile(t.b.cwd, 'data/feature-b.txt', 'B on feature\n');
    await lodeOk(['add', 'data'], t.b);
    await lodeOk(['commit', '-m', 'B feature'], t.b);
    await lodeOk(['checkout', 'main'], t.b);
    await lodeOk(['checkout', 'feature'], t.a);
    writeFile(t.a.cwd, 'data/feature-a.txt', 'A on feature\n');
    await lodeOk(['add', 'data'], t.a);
    await lodeOk(['commit', '-m', 'A feature'], t.a);
    await lodeOk(['push', 'origin', 'feature'], t.a);
    const other = expectLodeError(await runLode(['push', 'origin', 'feature'], t.b), 7);
    const hint = other.split('\n').find((l) => l.startsWith('hint:'))!;
    expect(hint).toContain('`lode merge origin/feature`');
    for (const m of hint.matchAll(/`(lode [^`]+)`/g)) {
      if (m[1].includes('--force')) continue;
      await lodeOk(m[1].split(' ').slice(1), t.b);
    }
    await lodeOk(['push', 'origin', 'feature'], t.b);
    await lodeOk(['pull'], t.a);
    expect(readFile(t.a.cwd, 'data/feature-b.txt').toString()).toBe('B on feature\n');
  }, 300_000);

  it('conflicting edits stop the pull like merge (exit 7); --theirs, or add + commit, resolves it', async () => {
    const t = await team('conflict');
    for (const [w, who] of [
      [t.a, 'A'],
      [t.b, 'B'],
    ] as const) {
      writeFile(w.cwd, 'data/shared.txt', `edited by ${who}\n`);
      await lodeOk(['commit', '-a', '-m', who], w);
    }
    await lodeOk(['push'], t.a);
    expectLodeError(await runLode(['push'], t.b), 7);

    const stopped = await runLode(['pull'], t.b);
    expect(stopped.code).toBe(7);
    expect(stopped.stdout).toMatch(/^.*data\/shared\.txt$/m);
    expect(stopped.stdout).toMatch(/lode merge --ours/);
    expect(readFile(t.b.cwd, 'data/shared.txt').toString()).toBe('edited by B\n');
    const pushWhileOpen = await runLode(['push'], t.b);
    expect(pushWhileOpen.code).not.toBe(0);

    const done = await lodeJson(['merge', '--theirs'], t.b);
    expect(done.outcome).toBe('merged');
    expect(readFile(t.b.cwd, 'data/shared.txt').toString()).toBe('edited by A\n');
    await lodeOk(['push'], t.b);
    const back = await lodeJson(['pull'], t.a);
    expect(back.outcome).toBe('fastForward');

    // Second round, resolved by hand: edit, add, commit.
    writeFile(t.a.cwd, 'data/labels.csv', 'id,label\n1,dog\n');
    await lodeOk(['commit', '-a', '-m', 'A2'], t.a);
    await lodeOk(['push'], t.a);
    writeFile(t.b.cwd, 'data/labels.csv', 'id,label\n1,bird\n');
    await lodeOk(['commit', '-a', '-m', 'B2'], t.b);
    const json = await runLode(['pull', '--json'], t.b);
    expect(json.code).toBe(7);
    expect(JSON.parse(json.stdout).outcome).toBe('conflicts');
    writeFile(t.b.cwd, 'data/labels.csv', 'id,label\n1,dog-or-bird\n');
    await lodeOk(['add', 'data/labels.csv'], t.b);
    await lodeOk(['commit', '-m', 'resolved'], t.b);
    await lodeOk(['push'], t.b);
    await lodeOk(['pull'], t.a);
    expect(readFile(t.a.cwd, 'data/labels.csv').toString()).toBe('id,label\n1,dog-or-bird\n');
  }, 300_000);
});

/** commitOn makes branch `name` in a workspace with one new file, without switching the workspace away for long. */
async function commitOn(w: { cwd: string; env: Record<string, string> }, name: string, file: string) {
  await lodeOk(['checkout', '-b', name], w);
  writeFile(w.cwd, `data/${file}`, `${name}\n`);
  await lodeOk(['add', 'data'], w);
  await lodeOk(['commit', '-m', name], w);
}

describe('branch x/y beside a remote branch x (directory remote)', () => {
  it('the push is refused in both orders (exit 7, nothing written); `lode push --delete` frees the name', async () => {
    const t = await team('xy-dir');
    await commitOn(t.a, 'x', 'x.txt');
    await lodeOk(['push', 'origin', 'x'], t.a);
    await commitOn(t.b, 'x/y', 'xy.txt');
    const refused = await runLode(['push', 'origin', 'x/y'], t.b);
    expect(expectLodeError(refused, 7)).toMatch(/^error: .*branch x exists/m);
    expect(refused.stderr).toMatch(/^hint: .*lode push --delete x/m);
    expect(fs.existsSync(path.join(t.url, 'refs/heads/x'))).toBe(true);
    expect(fs.statSync(path.join(t.url, 'refs/heads/x')).isFile()).toBe(true);

    // The other order: p/q on the remote, then p.
    await commitOn(t.a, 'p/q', 'pq.txt');
    await lodeOk(['push', 'origin', 'p/q'], t.a);
    await commitOn(t.b, 'p', 'p.txt');
    expect(expectLodeError(await runLode(['push', 'origin', 'p'], t.b), 7)).toMatch(/^error: .*branch p\/q exists/m);

    // B has not fetched x: deleting it is refused (it would drop commits B never saw).
    const unseen = await runLode(['push', '--delete', 'x'], t.b);
    expectLodeError(unseen, 7);
    expect(fs.existsSync(path.join(t.url, 'refs/heads/x'))).toBe(true);
    // A moves x after B fetched it: B's delete is refused again.
    await lodeOk(['fetch'], t.b);
    await lodeOk(['checkout', 'x'], t.a);
    writeFile(t.a.cwd, 'data/x2.txt', 'more\n');
    await lodeOk(['add', 'data'], t.a);
    await lodeOk(['commit', '-m', 'x2'], t.a);
    await lodeOk(['push', 'origin', 'x'], t.a);
    expectLodeError(await runLode(['push', '--delete', 'x'], t.b), 7);
    // A, who has seen it, deletes it; B's push of x/y now goes through.
    const del = await lodeJson(['push', '--delete', 'x'], t.a);
    expect(del).toMatchObject({ remote: 'origin', deleted: { name: 'x' } });
    expect(fs.existsSync(path.join(t.url, 'refs/heads/x'))).toBe(false);
    expect((await lodeJson(['branch', '-r'], t.a)).branches.map((x: { ref: string }) => x.ref)).not.toContain('origin/x');
    expectLodeError(await runLode(['push', '--delete', 'x'], t.a), 6);
    await lodeOk(['push', 'origin', 'x/y'], t.b);
    // B's stale origin/x goes away with a full fetch, and origin/x/y takes its place.
    await lodeOk(['fetch'], t.b);
    const refs = (await lodeJson(['branch', '-r'], t.b)).branches.map((x: { ref: string }) => x.ref);
    expect(refs).toContain('origin/x/y');
    expect(refs).not.toContain('origin/x');
  }, 300_000);
});

describe('on S3 (moto): x/y refused, a remote holding both still clones, push --delete is conditional', () => {
  let moto: TestServer;
  const env = { AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };
  beforeAll(async () => {
    moto = await startMoto();
    await createBucket(moto.endpoint, 'team-refs');
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('refuses x/y beside x; clone and fetch skip a ref they cannot hold and say so; push --delete', async () => {
    const remoteArgs = ['--endpoint', moto.endpoint, '--path-style'];
    const t = await team('xy-s3', () => 's3://team-refs/data', env, remoteArgs);
    await commitOn(t.a, 'x', 'x.txt');
    await lodeOk(['push', 'origin', 'x'], t.a);
    await commitOn(t.b, 'x/y', 'xy.txt');
    expect(expectLodeError(await runLode(['push', 'origin', 'x/y'], t.b), 7)).toMatch(/^error: .*branch x exists/m);

    // A remote written by an older lode holds both x and x/y (S3 keys are flat).
    const { S3Client, PutObjectCommand, HeadObjectCommand } = await import('@aws-sdk/client-s3');
    const s3 = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: MOTO_CREDENTIALS });
    const bHead = (await lodeJson(['log', '-n', '1'], t.b)).commits[0].id as string;
    // Put B's data there under another name, then forge the clashing ref.
    await lodeOk(['checkout', '-b', 'xy-data'], t.b);
    await lodeOk(['push', 'origin', 'xy-data'], t.b);
    await s3.send(new PutObjectCommand({ Bucket: 'team-refs', Key: 'data/refs/heads/x/y', Body: `${bHead}\n` }));

    const c = path.join(t.root, 'c');
    const cloned = await runLode(['clone', 's3://team-refs/data', c, ...remoteArgs], { cwd: t.root, env });
    expect(cloned.code).toBe(0);
    expect(cloned.stdout).toMatch(/^warning: skipped origin\/x\/y \([0-9a-f]{12}\): branch x exists too/m);
    expect(readFile(c, 'data/shared.txt').toString()).toBe('base\n');
    const fetched = await lodeJson(['fetch'], { cwd: c, env });
    expect(fetched.skipped).toEqual([{ kind: 'heads', name: 'x/y', id: bHead, reason: expect.stringContaining('branch x') }]);
    expect(fetched.refs.map((x: { name: string }) => x.name).sort()).toEqual(['main', 'x', 'xy-data']);
    const fetchText = await lodeOk(['fetch'], { cwd: c, env });
    expect(fetchText.stdout).toMatch(/^warning: skipped origin\/x\/y/m);

    // Pulling into x/y cannot hold the remote's x/y either: a conflict that says why, not a missing branch.
    await lodeOk(['checkout', 'x/y'], t.b);
    expect(expectLodeError(await runLode(['pull'], t.b), 7)).toMatch(/^error: cannot pull origin\/x\/y: branch x exists too/m);

    // push --delete: refused while A has not seen x/y, done once fetched; conditional on S3 (If-Match).
    expectLodeError(await runLode(['push', '--delete', 'x/y'], t.a), 7);
    // c skipped x/y, so it never saw it: the delete is refused there too.
    expectLodeError(await runLode(['push', '--delete', 'x/y'], { cwd: c, env }), 7);
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'team-refs', Key: 'data/refs/heads/x/y' }))).ETag).toBeTruthy();
    const del = await lodeJson(['push', '--delete', 'x'], t.a);
    expect(del.deleted.name).toBe('x');
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'team-refs', Key: 'data/refs/heads/x' }))).rejects.toThrow();
    const after = await lodeJson(['fetch'], { cwd: c, env });
    expect(after.skipped).toEqual([]);
    expect(after.refs.map((x: { name: string }) => x.name).sort()).toEqual(['main', 'x/y', 'xy-data']);
    s3.destroy();
  }, 300_000);
});
