// stagedTrees: the one walk over the trees kept with the index. Its order is
// what lets commit move them into objects/ so that a tree there never lacks
// one below it, even when the same folder appears twice in the tree.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadXxhash } from '../core/checksum.js';
import { NotFoundError } from '../core/errors.js';
import { treeLinks } from '../core/encoding.js';
import { sha256, type ObjectId } from '../core/id.js';
import { buildTrees, type FileEntry } from '../graph/trees.js';
import { Repository } from './repository.js';
import { promoteStaged, stagedTrees } from './snapshot.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  await loadXxhash();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-staged-trees-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const file = (p: string, content = p.split('/').pop()!): FileEntry => ({ path: p, kind: 'blob', id: sha256(Buffer.from(content)), size: content.length, exec: false });

/**
 * A repository whose index trees are kept: `a/` and `b/` hold the same files
 * (one tree named from two places), each with a shared subfolder `deep/x/`.
 */
function fixture() {
  const repo = Repository.init(path.join(dir, `r${n++}`));
  const files: FileEntry[] = [];
  for (const top of ['a', 'b']) for (const f of ['deep/x/1', 'deep/x/2', 'one', 'two']) files.push(file(`${top}/${f}`, f));
  files.push(file('c/deep/x/1', 'deep/x/1'), file('c/deep/x/2', 'deep/x/2'), file('c/z', 'z'), file('top', 'top'));
  const built = buildTrees(files);
  for (const bytes of built.objects.values()) repo.store.putStaged(bytes);
  return { repo, built };
}

/** children lists the trees `bytes` names. */
function children(id: ObjectId, bytes: Buffer): ObjectId[] {
  const links = treeLinks(bytes, id);
  return [...links.entries.filter((e) => e.kind === 'tree').map((e) => e.id), ...links.shards];
}

describe('stagedTrees', () => {
  it('lists every kept tree once, each after all the trees it names', () => {
    const { repo, built } = fixture();
    const order = [...stagedTrees(repo, built.root, { fault: 'throw' })!];
    expect(order.map(([id]) => id).sort()).toEqual([...built.objects.keys()].sort());
    // The shared folder is one tree named from several places.
    expect(built.objects.size).toBeLessThan(10);
    const at = new Map(order.map(([id], i) => [id, i]));
    for (const [id, bytes] of order) for (const c of children(id, bytes)) expect(at.get(c)!).toBeLessThan(at.get(id)!);
    expect(order[order.length - 1][0]).toBe(built.root);
  });

  it('promotes children first: stopped after any number of moves, no tree in objects/ lacks one below it', () => {
    const { repo, built } = fixture();
    const order = [...stagedTrees(repo, built.root, { fault: 'throw' })!.values()];
    const moved = new Set<ObjectId>();
    for (const bytes of order) {
      const id = repo.store.putObject(bytes);
      moved.add(id);
      for (const m of moved) for (const c of children(m, repo.store.getObject(m))) expect(repo.store.hasObject(c)).toBe(true);
    }
    promoteStaged(repo, built.root); // all there: moves nothing, fails on nothing
    for (const id of built.objects.keys()) expect(repo.store.hasObject(id)).toBe(true);
  });

  it('stops at trees objects/ holds, unless a kept copy is to be read first', () => {
    const { repo, built } = fixture();
    const a = treeLinks(built.objects.get(built.root)!, built.root).entries.find((e) => e.name === 'a')!.id;
    repo.store.putObject(built.objects.get(a)!);
    const plain = stagedTrees(repo, built.root, { fault: 'throw' })!;
    expect(plain.has(a)).toBe(false);
    expect(plain.has(built.root)).toBe(true);
    expect(stagedTrees(repo, built.root, { keptFirst: true, fault: 'throw' })!.has(a)).toBe(true);
  });

  it('gives up, throws or skips a damaged or missing kept tree as asked', () => {
    const { repo, built } = fixture();
    const c = treeLinks(built.objects.get(built.root)!, built.root).entries.find((e) => e.name === 'c')!.id;
    fs.writeFileSync(path.join(repo.store.stagedDir, c), 'not a tree');
    expect(stagedTrees(repo, built.root, { keptFirst: true, fault: 'give-up' })).toBeUndefined();
    expect(() => stagedTrees(repo, built.root, { fault: 'throw' })).toThrow(/corrupt/);
    const skipped = stagedTrees(repo, built.root, { fault: 'skip' })!;
    expect(skipped.has(c)).toBe(false);
    expect(skipped.has(built.root)).toBe(true);
    // The shared deep/x tree is still reached through a/ and b/.
    expect(skipped.size).toBe(built.objects.size - 1);
    repo.store.removeStaged(c);
    expect(() => promoteStaged(repo, built.root)).toThrow(NotFoundError);
  });
});
