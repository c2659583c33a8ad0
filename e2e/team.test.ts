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
