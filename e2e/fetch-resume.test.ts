// An interrupted pull, then a successful re-run, through the built binary: the
// second pull must leave a repository that fsck finds clean, whose log works
// and which pushes to another remote; and `lode fetch` repairs a store left
// with a gap (a commit present, its parent missing) by an older lode.

import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, workspaceSnapshot, writeFile } from '../test/helpers/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

const packsOf = (share: string) => new Set(fs.existsSync(path.join(share, 'packs')) ? fs.readdirSync(path.join(share, 'packs')).filter((f) => f.endsWith('.pack')) : []);

/** pushVersion commits version n in `a` and pushes it on its own; returns the commit and the pack that push added. */
async function pushVersion(a: string, share: string, n: number): Promise<{ id: string; pack: string }> {
  writeFile(a, 'data/changing.bin', pseudoRandomBytes(50_000, 1000 + n));
  for (let i = 0; i < 10; i++) writeFile(a, `data/v${n}/f${i}.bin`, pseudoRandomBytes(3000 + i, n * 100 + i));
  await lodeOk(['add', 'data'], { cwd: a });
  const id = (await lodeJson(['commit', '-m', `v${n}`], { cwd: a })).id as string;
  const before = packsOf(share);
  await lodeOk(['push', 'share'], { cwd: a });
  const added = [...packsOf(share)].filter((p) => !before.has(p));
  expect(added).toHaveLength(1);
  return { id, pack: path.join(share, 'packs', added[0]) };
}

async function setup(prefix: string) {
  const base = makeTempDir(`lode-e2e-${prefix}`);
  dirs.push(base);
  const a = path.join(base, 'alice');
  const b = path.join(base, 'bob');
  const share = path.join(base, 'share');
  fs.mkdirSync(a);
  await lodeOk(['init'], { cwd: a });
  await lodeOk(['remote', 'add', 'share', share], { cwd: a });
  const v1 = await pushVersion(a, share, 1);
  await lodeOk(['clone', share, b], { cwd: base });
  const v2 = await pushVersion(a, share, 2);
  const v3 = await pushVersion(a, share, 3);
  return { base, a, b, share, commits: [v1.id, v2.id, v3.id], packs: [v1.pack, v2.pack, v3.pack] };
}

const objectFile = (ws: string, id: string) => path.join(ws, '.lode', 'objects', id.slice(0, 2), id.slice(2));

/** expectSound: fsck clean, log lists every commit, a push to a new remote works and clones back equal. */
async function expectSound(base: string, a: string, b: string, commits: string[]): Promise<void> {
  expect((await runLode(['fsck'], { cwd: b })).code).toBe(0);
  expect((await lodeJson(['log'], { cwd: b })).commits.map((c: { id: string }) => c.id)).toEqual([...commits].reverse());
  const other = path.join(base, 'other');
  await lodeOk(['remote', 'add', 'other', other], { cwd: b });
  // A pull brings the data of the tip only: seeding a new remote needs every version's.
  await lodeOk(['fetch', '--all', 'share'], { cwd: b });
  await lodeOk(['push', 'other'], { cwd: b });
  const c = path.join(base, 'carol');
  await lodeOk(['clone', other, c], { cwd: base });
  expect((await runLode(['fsck'], { cwd: c })).code).toBe(0);
  expect(workspaceSnapshot(c)).toEqual(workspaceSnapshot(a));
}

describe('an interrupted pull', () => {
  it('is completed by a re-run (its tip commit already stored): fsck clean, log works, push to another remote works', async () => {
    const { base, a, b, commits, packs } = await setup('pull-resume');
    // The newest version's pack is damaged at its start (file data is packed
    // first) while bob pulls: the pull (which brings the data of the tip it
    // checks out) dies once every commit and tree is stored, before the
    // newest version's files are.
    const whole = fs.readFileSync(packs[2]);
    const damaged = Buffer.from(whole);
    for (let i = 21; i < 121; i++) damaged[i] ^= 0xff;
    fs.writeFileSync(packs[2], damaged);
    const failed = await runLode(['pull'], { cwd: b });
    expect(failed.code).toBe(5);
    expect(failed.stderr).toMatch(/does not match its ID/);
    expect(fs.existsSync(objectFile(b, commits[2]))).toBe(true);
    expect(fs.existsSync(objectFile(b, commits[1]))).toBe(true);
    expect((await lodeJson(['log'], { cwd: b })).commits.map((c: { id: string }) => c.id)).toEqual([commits[0]]);

    fs.writeFileSync(packs[2], whole);
    expect((await lodeJson(['pull'], { cwd: b })).outcome).toBe('fastForward');
    expect(workspaceSnapshot(b)).toEqual(workspaceSnapshot(a));
    await expectSound(base, a, b, commits);
  });

  it('fetch repairs a store an older lode left with a gap (commit present, parent missing)', async () => {
    const { base, a, b, commits } = await setup('fetch-gap');
    expect((await lodeJson(['pull'], { cwd: b })).outcome).toBe('fastForward');
    // What an older lode's re-run left: the parent gone, and no record of complete commits.
    fs.rmSync(objectFile(b, commits[1]));
    fs.rmSync(path.join(b, '.lode', 'complete'), { force: true });
    const broken = await runLode(['fsck'], { cwd: b });
    expect(broken.code).toBe(5);
    expect(broken.stdout).toMatch(new RegExp(`^ *missing: .*${commits[1]}`, 'm'));
    expect(broken.stdout).toMatch(/^hint: .*lode fetch/m);
    expect((await runLode(['log'], { cwd: b })).code).not.toBe(0);

    // --all: every version's data, so the whole closure is verified and recorded complete.
    await lodeOk(['fetch', '--all'], { cwd: b });
    expect((await runLode(['fsck'], { cwd: b })).code).toBe(0);
    expect(fs.existsSync(path.join(b, '.lode', 'complete'))).toBe(true);

    // Damage below a commit recorded complete: fsck forgets the record, so
    // the fetch it suggests walks everything again.
    fs.rmSync(objectFile(b, commits[1]));
    expect((await runLode(['fsck'], { cwd: b })).code).toBe(5);
    expect(fs.existsSync(path.join(b, '.lode', 'complete'))).toBe(false);
    await lodeOk(['fetch', '--all'], { cwd: b });
    await expectSound(base, a, b, commits);
  });
});
