// The index's trees are kept beside it (.lode/staged-trees) when it is
// written, and a commit moves the ones it names into objects/. What a user
// sees must not depend on them: a status and a commit read them when they
// are there and build them when they are gone or damaged; gc and forget
// clear them; objects/ never holds a tree nothing committed.

import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { lodeJson, lodeOk, sha256File, writeFile } from '../test/helpers/cli.js';
import { newRepo, trackRepos, type Repo } from './repos.js';

const track = trackRepos();

interface Status {
  clean: boolean;
  staged: { path: string; status: string }[];
}

const stagedDir = (r: Repo) => path.join(r.dir, '.lode', 'staged-trees');
const staged = (r: Repo) => (fs.existsSync(stagedDir(r)) ? fs.readdirSync(stagedDir(r)) : []);

/** objectFiles lists every file under .lode/objects. */
function objectFiles(r: Repo): string[] {
  const root = path.join(r.dir, '.lode', 'objects');
  return fs.readdirSync(root).flatMap((d) => fs.readdirSync(path.join(root, d)).map((f) => d + f));
}

/** committedFiles is every file of HEAD as `lode ls -r` lists it, with the content hash of its workspace copy. */
async function committedFiles(r: Repo): Promise<string[]> {
  const out = (await lodeOk(['ls', '-r'], r.at)).stdout.trim().split('\n').filter(Boolean);
  return out.map((p) => `${p} ${sha256File(path.join(r.dir, p))}`).sort();
}

function workspaceFiles(r: Repo, dir = 'data'): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const n of fs.readdirSync(path.join(r.dir, rel))) {
      const p = `${rel}/${n}`;
      if (fs.statSync(path.join(r.dir, p)).isDirectory()) walk(p);
      else out.push(`${p} ${sha256File(path.join(r.dir, p))}`);
    }
  };
  walk(dir);
  return out.sort();
}

async function repo(): Promise<Repo> {
  const r = track(await newRepo('staged'));
  for (const d of ['a', 'b', 'c']) for (let i = 0; i < 4; i++) writeFile(r.dir, `data/${d}/f${i}.txt`, `${d}${i}\n`);
  await lodeOk(['add', 'data'], r.at);
  await lodeOk(['commit', '-m', 'v1'], r.at);
  return r;
}

describe('staged trees', () => {
  it('an add keeps only the changed folders trees; status reads them; a commit moves them into objects/ and clears the rest', async () => {
    const r = await repo();
    expect(staged(r)).toEqual([]);
    const before = new Set(objectFiles(r));
    writeFile(r.dir, 'data/b/f1.txt', 'changed\n');
    await lodeOk(['add', 'data'], r.at);
    // data/b, data and the top: nothing in objects/ yet.
    expect(staged(r)).toHaveLength(3);
    expect(objectFiles(r).filter((o) => !before.has(o))).toEqual([]);
    const st = await lodeJson<Status>(['status', '--json'], r.at);
    expect(st.staged).toEqual([expect.objectContaining({ path: 'data/b/f1.txt', status: 'modified' })]);
    const diff = await lodeJson<{ to: { tree: string }; changes: { path: string; status: string }[] }>(['diff', '--staged', '--json'], r.at);
    expect(diff.changes).toEqual([expect.objectContaining({ path: 'data/b/f1.txt', status: 'modified' })]);
    // The index's side is the tree it keeps, read, not built again.
    expect(staged(r)).toContain(diff.to.tree);
    // A second add before committing: the trees of the first stay until gc or a commit.
    writeFile(r.dir, 'data/c/new.txt', 'new\n');
    await lodeOk(['add', 'data'], r.at);
    expect(staged(r).length).toBeGreaterThan(3);
    await lodeOk(['commit', '-m', 'v2'], r.at);
    expect(staged(r)).toEqual([]);
    expect(await committedFiles(r)).toEqual(workspaceFiles(r));
    expect((await lodeOk(['fsck'], r.at)).stdout).toMatch(/No problems found/);
  });

  it('status and commit build the trees when staged ones are gone or damaged, and the commit is whole', async () => {
    // 'planted': an empty file in objects/ under each staged tree's ID (as a crash could leave one), the staged ones intact.
    // 'folder': a directory where each kept tree was.
    for (const damage of ['remove', 'empty', 'flip', 'planted', 'folder'] as const) {
      const r = await repo();
      writeFile(r.dir, 'data/a/f0.txt', `changed ${damage}\n`);
      writeFile(r.dir, 'data/c/x/deep.txt', 'deep\n');
      await lodeOk(['add', 'data'], r.at);
      for (const f of staged(r)) {
        const p = path.join(stagedDir(r), f);
        fs.chmodSync(p, 0o644);
        if (damage === 'planted') {
          const obj = path.join(r.dir, '.lode', 'objects', f.slice(0, 2), f.slice(2));
          fs.writeFileSync(obj, '');
        } else if (damage === 'folder') {
          fs.rmSync(p);
          fs.mkdirSync(p);
        } else if (damage === 'remove') fs.rmSync(p);
        else if (damage === 'empty') fs.writeFileSync(p, '');
        else {
          const b = fs.readFileSync(p);
          b[b.length >> 1] ^= 1;
          fs.writeFileSync(p, b);
        }
      }
      const st = await lodeJson<Status>(['status', '--json'], r.at);
      expect(st.staged.map((c) => c.path).sort(), damage).toEqual(['data/a/f0.txt', 'data/c/x/deep.txt']);
      const diff = await lodeJson<{ changes: { path: string }[] }>(['diff', '--staged', '--json'], r.at);
      expect(diff.changes.map((c) => c.path).sort(), damage).toEqual(['data/a/f0.txt', 'data/c/x/deep.txt']);
      await lodeOk(['commit', '-m', 'v2'], r.at);
      expect(await committedFiles(r), damage).toEqual(workspaceFiles(r));
      expect((await lodeOk(['fsck'], r.at)).stdout, damage).toMatch(/No problems found/);
      expect((await lodeJson<Status>(['status', '--json'], r.at)).clean, damage).toBe(true);
    }
  });

  it('a commit is whole when objects/ holds a tree without one below it (an interrupted fetch or gc leaves such)', async () => {
    const r = await repo();
    await lodeOk(['checkout', '-b', 'other'], r.at);
    writeFile(r.dir, 'data/x/sub/g.txt', 'g\n');
    await lodeOk(['add', 'data'], r.at);
    await lodeOk(['commit', '-m', 'other'], r.at);
    await lodeOk(['checkout', 'main'], r.at);
    const sub = (await lodeJson<{ entries: { name: string; id: string }[] }>(['ls', '-l', '--json', 'other:data/x'], r.at)).entries.find((e) => e.name === 'sub')!.id;
    // data/x stays in objects/, the folder below it goes; nothing names them once the branch is gone.
    fs.rmSync(path.join(r.dir, '.lode', 'objects', sub.slice(0, 2), sub.slice(2)), { force: true });
    await lodeOk(['branch', '-D', 'other'], r.at);
    writeFile(r.dir, 'data/x/sub/g.txt', 'g\n');
    await lodeOk(['add', 'data'], r.at);
    await lodeOk(['commit', '-m', 'same folder again'], r.at);
    expect((await lodeOk(['fsck'], r.at)).stdout).toMatch(/No problems found/);
    expect(await committedFiles(r)).toEqual(workspaceFiles(r));
  });

  it('gc removes staged trees the index no longer names and keeps its own', async () => {
    const r = await repo();
    writeFile(r.dir, 'data/a/f0.txt', 'one\n');
    await lodeOk(['add', 'data'], r.at);
    const first = new Set(staged(r));
    writeFile(r.dir, 'data/a/f0.txt', 'two\n');
    await lodeOk(['add', 'data'], r.at);
    const second = staged(r).filter((t) => !first.has(t));
    expect(second).toHaveLength(3);
    await lodeOk(['gc'], r.at);
    expect(staged(r).sort()).toEqual(second.sort());
    await lodeOk(['commit', '-m', 'v2'], r.at);
    expect(await committedFiles(r)).toEqual(workspaceFiles(r));
  });

  it('forget leaves no staged tree naming the erased file', async () => {
    const r = await repo();
    writeFile(r.dir, 'data/people/alice_smith.csv', 'alice,secret\n');
    await lodeOk(['add', 'data'], r.at);
    await lodeOk(['commit', '-m', 'v2'], r.at);
    writeFile(r.dir, 'data/people/bob.csv', 'bob\n');
    await lodeOk(['add', 'data'], r.at);
    expect(staged(r).some((t) => fs.readFileSync(path.join(stagedDir(r), t)).includes('alice_smith'))).toBe(true);
    await lodeOk(['forget', 'data/people/alice_smith.csv'], r.at);
    for (const t of staged(r)) expect(fs.readFileSync(path.join(stagedDir(r), t)).includes('alice_smith')).toBe(false);
    for (const o of objectFiles(r)) expect(fs.readFileSync(path.join(r.dir, '.lode', 'objects', o.slice(0, 2), o.slice(2))).includes('alice_smith'), o).toBe(false);
    await lodeOk(['commit', '-m', 'v3'], r.at);
    expect(await committedFiles(r)).toEqual(workspaceFiles(r).filter((f) => !f.startsWith('data/people/alice_smith.csv')));
  });
});
