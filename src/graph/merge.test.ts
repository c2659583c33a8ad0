import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTreeObject, encodeCommit } from '../core/encoding.js';
import { NotFoundError } from '../core/errors.js';
import { sha256, type ObjectId } from '../core/id.js';
import { comparePaths } from '../core/paths.js';
import type { CommitStore } from './commits.js';
import { mergeBase, mergeDatasets, mergeTrees, type MergeTreesResult } from './merge.js';
import { buildTrees, directoryEntries, EMPTY_TREE, walkFiles, type FileEntry, type TreeSource } from './trees.js';

// ---------------------------------------------------------------- trees in memory

/** MemoryTrees holds every tree built so far and reads them back (the merge's TreeSource). */
class MemoryTrees implements TreeSource {
  private readonly objects = new Map<ObjectId, Buffer>();

  /** build turns a file list (any order) into trees, keeps them, and returns the root. */
  build(files: readonly FileEntry[]): ObjectId {
    const built = buildTrees([...files].sort((a, b) => comparePaths(a.path, b.path)));
    this.keep(built.objects);
    return built.root;
  }

  keep(objects: Map<ObjectId, Buffer>): void {
    for (const [id, bytes] of objects) this.objects.set(id, bytes);
  }

  readObject(id: ObjectId) {
    const bytes = this.objects.get(id);
    if (!bytes) throw new Error(`tree ${id} not built`);
    return decodeTreeObject(bytes, id);
  }

  readTree(id: ObjectId) {
    return directoryEntries(this, id);
  }
}

/** merge runs mergeTrees on three file lists and keeps the merged trees so they can be walked. */
function merge(base: FileEntry[], ours: FileEntry[], theirs: FileEntry[], favor?: 'ours' | 'theirs'): MergeTreesResult & { src: MemoryTrees; merged: FileEntry[] } {
  const src = new MemoryTrees();
  const r = mergeTrees(src, src.build(base), src.build(ours), src.build(theirs), favor);
  src.keep(r.objects);
  return { ...r, src, merged: walkFiles(src, r.root) };
}

/** A content pool: size and kind go with the ID, as they do in a real store. */
const CONTENTS = ['one', 'two', 'three', 'four'].map((s, i) => ({
  id: sha256(Buffer.from(s)),
  size: 10 * (i + 1),
  kind: i % 2 === 0 ? ('blob' as const) : ('chunked' as const),
}));

const file = (path: string, content = 0, exec = false): FileEntry => ({ path, ...CONTENTS[content], exec });

/** Paths from a tiny alphabet so that sides touch the same paths and files meet directories. */
const filePath = fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 }).map((cs) => cs.join('/'));

/** validList keeps the first of two paths where one would be a directory of the other. */
function validList(files: FileEntry[]): FileEntry[] {
  const out: FileEntry[] = [];
  for (const f of files) {
    if (out.some((g) => g.path === f.path || g.path.startsWith(`${f.path}/`) || f.path.startsWith(`${g.path}/`))) continue;
    out.push(f);
  }
  return out.sort((a, b) => comparePaths(a.path, b.path));
}

const entry = fc.record({ path: filePath, content: fc.nat({ max: CONTENTS.length - 1 }), exec: fc.boolean() }).map((f) => file(f.path, f.content, f.exec));
const fileList = fc.array(entry, { maxLength: 10 }).map(validList);

/**
 * derived is `base` edited the way a branch edits it: some files kept, some
 * dropped, some given other content or another exec bit, some new paths
 * (which may turn a file into a directory or back).
 */
function derived(base: FileEntry[]): fc.Arbitrary<FileEntry[]> {
  return fc.tuple(fc.array(fc.nat({ max: 5 }), { minLength: base.length, maxLength: base.length }), fc.array(entry, { maxLength: 4 })).map(([ops, extra]) => {
    const kept: FileEntry[] = [];
    base.forEach((f, i) => {
      const op = ops[i];
      if (op === 1) return;
      if (op === 2) kept.push({ ...f, ...CONTENTS[(CONTENTS.findIndex((c) => c.id === f.id) + 1) % CONTENTS.length] });
      else if (op === 3) kept.push({ ...f, exec: !f.exec });
      else kept.push(f);
    });
    // New files go first so they win over what they clash with.
    return validList([...extra, ...kept]);
  });
}

/** A base and two branches made from it. */
const triple = fileList.chain((base) => fc.tuple(fc.constant(base), derived(base), derived(base)));

const same = (a: FileEntry | undefined, b: FileEntry | undefined) => (!a || !b ? a === b : a.id === b.id && a.exec === b.exec && a.kind === b.kind);

/**
 * model is the merge defined path by path: a side that left a path as the base
 * had it yields to the other side; both sides changing it the same way is
 * clean; otherwise the path conflicts and `favor` picks. `clashes` lists the
 * files that stand where a directory is, in that result or in the one with the
 * other choice at the conflicts (the model does not say how that is resolved:
 * it only says the path must be reported whichever side is favoured).
 */
function model(base: FileEntry[], ours: FileEntry[], theirs: FileEntry[], favor: 'ours' | 'theirs') {
  const b = new Map(base.map((f) => [f.path, f]));
  const o = new Map(ours.map((f) => [f.path, f]));
  const t = new Map(theirs.map((f) => [f.path, f]));
  const merged: FileEntry[] = [];
  const conflicts: string[] = [];
  // What either choice at a conflict could put in the tree.
  const candidates: FileEntry[] = [];
  for (const p of new Set([...b.keys(), ...o.keys(), ...t.keys()])) {
    const [bf, of, tf] = [b.get(p), o.get(p), t.get(p)];
    let pick: FileEntry | undefined;
    if (same(of, tf)) pick = of;
    else if (same(of, bf)) pick = tf;
    else if (same(tf, bf)) pick = of;
    else {
      conflicts.push(p);
      pick = favor === 'ours' ? of : tf;
      for (const f of [of, tf]) if (f) candidates.push(f);
    }
    if (pick) merged.push(pick);
  }
  candidates.push(...merged);
  const clashes = [...new Set(candidates.filter((f) => candidates.some((g) => g.path.startsWith(`${f.path}/`))).map((f) => f.path))];
  return { merged: merged.sort((x, y) => comparePaths(x.path, y.path)), conflicts: conflicts.sort(comparePaths), clashes };
}

const uniquePaths = (r: MergeTreesResult) => [...new Set(r.conflicts.map((c) => c.path))].sort(comparePaths);

// ---------------------------------------------------------------- mergeTrees laws

describe('mergeTrees', () => {
  it('merge(base, x, base) = x: a side that changed nothing takes the other', () => {
    fc.assert(
      fc.property(triple, ([base, x]) => {
        for (const favor of ['ours', 'theirs'] as const) {
          const r = merge(base, x, base, favor);
          expect(r.conflicts).toEqual([]);
          expect(r.merged).toEqual(x);
          expect(r.fromTheirs).toBe(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('merge(base, base, y) = y', () => {
    fc.assert(
      fc.property(triple, ([base, , y]) => {
        for (const favor of ['ours', 'theirs'] as const) {
          const r = merge(base, base, y, favor);
          expect(r.conflicts).toEqual([]);
          expect(r.merged).toEqual(y);
          expect(r.root).toBe(buildTrees(y).root);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('merge(base, x, x) = x with no conflicts', () => {
    fc.assert(
      fc.property(triple, ([base, x]) => {
        const r = merge(base, x, x);
        expect(r.conflicts).toEqual([]);
        expect(r.merged).toEqual(x);
        expect(r.fromTheirs).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with the path-by-path model wherever no file meets a directory', () => {
    let checked = 0;
    fc.assert(
      fc.property(triple, fc.constantFrom('ours' as const, 'theirs' as const), ([base, x, y], favor) => {
        const want = model(base, x, y, favor);
        const r = merge(base, x, y, favor);
        if (want.clashes.length > 0) {
          // Each clash is listed at the file's path (as file/directory, or as the conflict already there).
          for (const p of want.clashes) expect(r.conflicts.map((c) => c.path)).toContain(p);
          return;
        }
        checked++;
        expect(r.merged).toEqual(want.merged);
        expect(r.conflicts.map((c) => c.path)).toEqual(want.conflicts);
        expect(r.files).toBe(want.merged.length);
      }),
      { numRuns: 1000 },
    );
    expect(checked).toBeGreaterThan(200);
  });

  it('always yields a valid tree in which each side wins where it alone changed something', () => {
    fc.assert(
      fc.property(triple, fc.constantFrom('ours' as const, 'theirs' as const), ([base, x, y], favor) => {
        const r = merge(base, x, y, favor);
        const paths = r.merged.map((f) => f.path);
        for (const p of paths) expect(paths.some((q) => q.startsWith(`${p}/`)), `${p} is a file and a directory`).toBe(false);
        const conflicted = new Set(r.conflicts.map((c) => c.path));
        const at = (l: FileEntry[], p: string) => l.find((f) => f.path === p);
        for (const p of new Set([...x, ...y].map((f) => f.path))) {
          // Paths under or over a reported clash were settled by the clash rule.
          if ([...conflicted].some((c) => c === p || p.startsWith(`${c}/`) || c.startsWith(`${p}/`))) continue;
          const [bf, xf, yf] = [at(base, p), at(x, p), at(y, p)];
          if (same(xf, bf)) expect(same(at(r.merged, p), yf), `${p}: only theirs changed it`).toBe(true);
          if (same(yf, bf)) expect(same(at(r.merged, p), xf), `${p}: only ours changed it`).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('reports the same conflicting paths when ours and theirs swap, and favouring theirs = swapping and favouring ours', () => {
    fc.assert(
      fc.property(triple, ([base, x, y]) => {
        const xy = merge(base, x, y, 'ours');
        const yx = merge(base, y, x, 'ours');
        expect(uniquePaths(yx)).toEqual(uniquePaths(xy));
        expect(merge(base, x, y, 'theirs').root).toBe(yx.root);
      }),
      { numRuns: 1000 },
    );
  });

  it('lists each conflicting path once', () => {
    fc.assert(
      fc.property(triple, fc.constantFrom('ours' as const, 'theirs' as const), ([base, x, y], favor) => {
        const r = merge(base, x, y, favor);
        expect(r.conflicts.map((c) => c.path)).toEqual(uniquePaths(r));
      }),
      { numRuns: 1000 },
    );
  });

  it('names each kind of conflict, with both sides', () => {
    const base = [file('m', 0), file('d1', 0), file('d2', 0), file('keep', 0)];
    const ours = [file('m', 1), file('d2', 1), file('keep', 0), file('new', 2)];
    const theirs = [file('m', 2), file('d1', 1), file('keep', 0), file('new', 3)];
    const r = merge(base, ours, theirs);
    expect(r.conflicts.map((c) => [c.path, c.kind])).toEqual([
      ['d1', 'delete/modify'],
      ['d2', 'modify/delete'],
      ['m', 'content'],
      ['new', 'content'],
    ]);
    const m = r.conflicts.find((c) => c.path === 'm')!;
    expect([m.base?.id, m.ours?.id, m.theirs?.id]).toEqual([CONTENTS[0].id, CONTENTS[1].id, CONTENTS[2].id]);
    expect(r.conflicts.find((c) => c.path === 'd1')!.ours).toBeNull();
    expect(r.conflicts.find((c) => c.path === 'new')!.base).toBeNull();
    // Unfavoured, every conflicting path keeps ours.
    expect(r.merged).toEqual([file('d2', 1), file('keep', 0), file('m', 1), file('new', 2)]);
    expect(merge(base, ours, theirs, 'theirs').merged).toEqual([file('d1', 1), file('keep', 0), file('m', 2), file('new', 3)]);
  });

  it('an exec-bit change against a content change is a conflict; the same exec change on both sides is not', () => {
    const base = [file('f', 0)];
    expect(merge(base, [file('f', 0, true)], [file('f', 1)]).conflicts.map((c) => c.kind)).toEqual(['content']);
    expect(merge(base, [file('f', 0, true)], [file('f', 0, true)]).conflicts).toEqual([]);
  });

  describe('a file on one side where the other has a directory', () => {
    // ours adds file `a`; theirs adds `a/x` and `a/y`.
    const ours = [file('a', 0), file('z', 0)];
    const theirs = [file('a/x', 1), file('a/y', 2), file('z', 0)];

    it('is reported at the file path whichever side has the file', () => {
      const r1 = merge([file('z', 0)], ours, theirs);
      const r2 = merge([file('z', 0)], theirs, ours);
      for (const r of [r1, r2]) {
        expect(r.conflicts.map((c) => c.path)).toEqual(['a']);
        expect(r.conflicts[0].kind).toBe('file/directory');
      }
    });

    it('keeps the favoured side and drops the other', () => {
      expect(merge([file('z', 0)], ours, theirs, 'ours').merged).toEqual(ours);
      expect(merge([file('z', 0)], ours, theirs, 'theirs').merged).toEqual(theirs);
      expect(merge([file('z', 0)], theirs, ours, 'ours').merged).toEqual(theirs);
      expect(merge([file('z', 0)], theirs, ours, 'theirs').merged).toEqual(ours);
    });

    it('is reported when a deeper file meets a file at its parent directory', () => {
      const r = merge([], [file('a/b', 0)], [file('a/b/c', 1)]);
      expect(r.conflicts.map((c) => [c.path, c.kind])).toEqual([['a/b', 'file/directory']]);
      expect(r.merged).toEqual([file('a/b', 0)]);
    });
  });

  it('merges from an empty base (histories that share nothing)', () => {
    const r = merge([], [file('a', 0)], [file('b', 1)]);
    expect(r.conflicts).toEqual([]);
    expect(r.merged).toEqual([file('a', 0), file('b', 1)]);
    expect(r.fromTheirs).toBe(1);
    const src = new MemoryTrees();
    expect(src.build([])).toBe(EMPTY_TREE);
    expect(mergeTrees(src, EMPTY_TREE, EMPTY_TREE, EMPTY_TREE).root).toBe(EMPTY_TREE);
  });
});

// ---------------------------------------------------------------- mergeDatasets

describe('mergeDatasets', () => {
  it('keeps roots both sides keep, adds roots either side added, drops roots either side dropped', () => {
    expect(mergeDatasets(['a', 'b', 'c'], ['a', 'b', 'x'], ['a', 'c', 'y'])).toEqual(['a', 'x', 'y']);
    expect(mergeDatasets([], ['n'], ['n'])).toEqual(['n']);
  });

  it('obeys the merge laws', () => {
    const roots = fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e'));
    const sorted = (l: string[]) => [...l].sort();
    fc.assert(
      fc.property(roots, roots, roots, (b, x, y) => {
        expect(mergeDatasets(b, x, b)).toEqual(sorted(x));
        expect(mergeDatasets(b, b, y)).toEqual(sorted(y));
        expect(mergeDatasets(b, x, x)).toEqual(sorted(x));
        expect(mergeDatasets(b, x, y)).toEqual(mergeDatasets(b, y, x));
      }),
    );
  });
});

// ---------------------------------------------------------------- mergeBase

/** MemoryCommits is a Map-backed CommitStore; `commit` adds a commit with the given parents. */
class MemoryCommits implements CommitStore {
  readonly objects = new Map<ObjectId, Buffer>();
  private clock = 1_000;

  commit(parents: ObjectId[], message = 'c', time?: number): ObjectId {
    const bytes = encodeCommit({ tree: EMPTY_TREE, parents, author: 't <t@e>', time: time ?? (this.clock += 1_000), datasets: [], message: `${message}\n` });
    const id = sha256(bytes);
    this.objects.set(id, bytes);
    return id;
  }

  getObject(id: ObjectId): Buffer {
    const b = this.objects.get(id);
    if (!b) throw new NotFoundError(`object ${id} not found`);
    return b;
  }

  findObjectsByPrefix(prefix: string): ObjectId[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix));
  }

  hasObject(id: ObjectId): boolean {
    return this.objects.has(id);
  }
}

describe('mergeBase', () => {
  it('finds the fork point, a commit itself when it is an ancestor, and nothing for unrelated histories', () => {
    const s = new MemoryCommits();
    const a = s.commit([], 'a');
    const b = s.commit([a], 'b');
    const c = s.commit([b], 'c'); // main
    const d = s.commit([b], 'd'); // feature
    const e = s.commit([d], 'e');
    const other = s.commit([], 'unrelated');
    expect(mergeBase(s, c, e)).toBe(b);
    expect(mergeBase(s, e, c)).toBe(b);
    expect(mergeBase(s, c, a)).toBe(a);
    expect(mergeBase(s, a, c)).toBe(a);
    expect(mergeBase(s, c, c)).toBe(c);
    expect(mergeBase(s, c, other)).toBeUndefined();
  });

  it('after merging feature into main, the next merge starts from feature’s merged tip', () => {
    const s = new MemoryCommits();
    const a = s.commit([]);
    const m1 = s.commit([a], 'main 1');
    const f1 = s.commit([a], 'feature 1');
    const merged = s.commit([m1, f1], 'merge feature');
    const m2 = s.commit([merged], 'main 2');
    const f2 = s.commit([f1], 'feature 2');
    expect(mergeBase(s, m2, f2)).toBe(f1);
    expect(mergeBase(s, f2, m2)).toBe(f1);
  });

  it('picks a best common ancestor in a criss-cross history, the same one from both sides', () => {
    const s = new MemoryCommits();
    const root = s.commit([]);
    const p = s.commit([root], 'p', 10_000);
    const q = s.commit([root], 'q', 20_000);
    const x = s.commit([p, q], 'x');
    const y = s.commit([q, p], 'y');
    const x2 = s.commit([x]);
    const y2 = s.commit([y]);
    // p and q are both best (neither is an ancestor of the other): the newer wins.
    expect(mergeBase(s, x2, y2)).toBe(q);
    expect(mergeBase(s, y2, x2)).toBe(q);
  });

  it('returns a common ancestor that no other common ancestor descends from, whatever the graph', () => {
    // Commit i has up to two parents among commits 0..i-1; several roots may exist.
    const graph = fc
      .array(fc.tuple(fc.nat(), fc.nat(), fc.nat({ max: 3 })), { minLength: 1, maxLength: 14 })
      .map((spec) => spec.map(([p1, p2, n], i) => (i === 0 || n === 0 ? [] : n === 1 ? [p1 % i] : [...new Set([p1 % i, p2 % i])])));
    fc.assert(
      fc.property(graph, fc.nat(), fc.nat(), (parents, ai, bi) => {
        const s = new MemoryCommits();
        const ids: ObjectId[] = [];
        parents.forEach((ps, i) => ids.push(s.commit(ps.map((p) => ids[p]), `c${i}`, 1_000 * (i + 1))));
        const ancestorsOf = (i: number): Set<number> => {
          const out = new Set<number>([i]);
          for (const p of parents[i]) for (const q of ancestorsOf(p)) out.add(q);
          return out;
        };
        const a = ai % ids.length;
        const b = bi % ids.length;
        const common = [...ancestorsOf(a)].filter((i) => ancestorsOf(b).has(i));
        const got = mergeBase(s, ids[a], ids[b]);
        expect(mergeBase(s, ids[b], ids[a])).toBe(got);
        if (common.length === 0) {
          expect(got).toBeUndefined();
          return;
        }
        const gi = ids.indexOf(got!);
        expect(common).toContain(gi);
        for (const c of common) if (c !== gi) expect(ancestorsOf(c).has(gi), `base c${gi} is an ancestor of common ancestor c${c}`).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
