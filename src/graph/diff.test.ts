import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTreeObject } from '../core/encoding.js';
import { sha256, type ObjectId } from '../core/id.js';
import { comparePaths } from '../core/paths.js';
import { diffCounts, diffTrees, pairRenames, type Change } from './diff.js';
import { buildTrees, directoryEntries, lookupPath, objectTrees, walkFiles, type FileEntry, type TreeSource } from './trees.js';

// ---------------------------------------------------------------- helpers

/** memoryTrees reads trees from the encoded objects that buildTrees returned. */
function memoryTrees(...builds: { objects: Map<ObjectId, Buffer> }[]): TreeSource {
  const objects = new Map<ObjectId, Buffer>();
  for (const b of builds) for (const [id, bytes] of b.objects) objects.set(id, bytes);
  return objectTrees((id) => {
    const bytes = objects.get(id);
    if (!bytes) throw new Error(`tree ${id} not built`);
    return decodeTreeObject(bytes, id);
  });
}

/** countingTrees wraps a source and records every tree it is asked for. */
function countingTrees(src: TreeSource): TreeSource & { reads: ObjectId[] } {
  const reads: ObjectId[] = [];
  const counted: TreeSource & { reads: ObjectId[] } = {
    reads,
    readObject(id) {
      reads.push(id);
      return src.readObject(id);
    },
    readTree: (id) => directoryEntries(counted, id),
  };
  return counted;
}

const sorted = (files: FileEntry[]) => [...files].sort((a, b) => comparePaths(a.path, b.path));

/** A content pool: equal IDs mean equal content, so size and kind go with the ID. */
const CONTENTS = ['one', 'two', 'three', 'four', 'five'].map((s, i) => ({
  id: sha256(Buffer.from(s)),
  size: 10 * (i + 1),
  kind: i % 2 === 0 ? ('blob' as const) : ('chunked' as const),
}));

/** Paths of 1-3 components from a small alphabet, so trees overlap and collide. */
const component = fc.constantFrom('a', 'b', 'a.b', 'c0', 'é');
const filePath = fc.array(component, { minLength: 1, maxLength: 3 }).map((cs) => cs.join('/'));

/**
 * A valid file list: unique paths, none both a file and a directory, each file
 * with content from the small pool (so renames happen) and a random exec bit.
 */
const fileList: fc.Arbitrary<FileEntry[]> = fc
  .uniqueArray(fc.record({ path: filePath, content: fc.nat({ max: CONTENTS.length - 1 }), exec: fc.boolean() }), {
    selector: (f) => f.path,
    maxLength: 15,
  })
  .map((fs) =>
    sorted(
      fs
        .filter((f) => !fs.some((g) => g.path.startsWith(`${f.path}/`)))
        .map((f) => ({ path: f.path, ...CONTENTS[f.content], exec: f.exec })),
    ),
  );

/**
 * A pair of related lists: b is a with some files dropped, some changed, some
 * moved and some added, so diffs are neither empty nor total.
 */
const listPair: fc.Arbitrary<[FileEntry[], FileEntry[]]> = fc.oneof(
  fc.tuple(fileList, fileList),
  fc.tuple(fileList, fileList, fc.array(fc.nat({ max: 3 }), { maxLength: 15 })).map(([a, extra, ops]) => {
    const byPath = new Map<string, FileEntry>();
    a.forEach((f, i) => {
      const op = ops[i] ?? 0;
      if (op === 1) return; // dropped
      if (op === 2) byPath.set(f.path, { ...f, ...CONTENTS[(CONTENTS.findIndex((c) => c.id === f.id) + 1) % CONTENTS.length] });
      else if (op === 3) byPath.set(f.path, { ...f, exec: !f.exec });
      else byPath.set(f.path, f);
    });
    for (const f of extra) if (!byPath.has(f.path)) byPath.set(f.path, f);
    const paths = [...byPath.keys()];
    const b = [...byPath.values()].filter((f) => !paths.some((p) => p.startsWith(`${f.path}/`)));
    return [a, sorted(b)] as [FileEntry[], FileEntry[]];
  }),
);

/** mirror is what diff(b, a) should say, given diff(a, b). */
function mirror(c: Change): Change {
  switch (c.status) {
    case 'added':
      return { status: 'deleted', path: c.path, old: c.new };
    case 'deleted':
      return { status: 'added', path: c.path, new: c.old };
    case 'modified':
      return { status: 'modified', path: c.path, old: c.new, new: c.old };
    case 'renamed':
      return { status: 'renamed', path: c.oldPath!, oldPath: c.path, old: c.new, new: c.old };
  }
}

const byPath = (x: Change, y: Change) => comparePaths(x.path, y.path);

/** apply replays `changes` on a file list, checking each change's old side. */
function apply(files: FileEntry[], changes: Change[]): FileEntry[] {
  const m = new Map(files.map((f) => [f.path, f]));
  const fileOf = (path: string, s: NonNullable<Change['new']>): FileEntry => ({ path, ...s });
  for (const c of changes) {
    const oldPath = c.status === 'renamed' ? c.oldPath! : c.path;
    if (c.status !== 'added') {
      expect(m.get(oldPath), `${c.status} ${oldPath}`).toEqual(fileOf(oldPath, c.old!));
      m.delete(oldPath);
    }
    if (c.status !== 'deleted') {
      if (c.status !== 'modified') expect(m.has(c.path), `${c.status} ${c.path} exists`).toBe(false);
      m.set(c.path, fileOf(c.path, c.new!));
    }
  }
  return sorted([...m.values()]);
}

// ---------------------------------------------------------------- properties

describe('buildTrees', () => {
  it('walks back to the files it was built from', () => {
    fc.assert(
      fc.property(fileList, (files) => {
        const built = buildTrees(files);
        expect(walkFiles(memoryTrees(built), built.root)).toEqual(files);
        expect(built.files).toBe(files.length);
        expect(built.size).toBe(files.reduce((n, f) => n + f.size, 0));
      }),
    );
  });

  it('gives the same root whatever order the files came in, once sorted', () => {
    fc.assert(
      fc.property(
        fileList.chain((files) => fc.tuple(fc.constant(files), fc.shuffledSubarray(files, { minLength: files.length, maxLength: files.length }))),
        ([files, shuffled]) => {
          expect(buildTrees(sorted(shuffled)).root).toBe(buildTrees(files).root);
        },
      ),
    );
  });

  it('refuses unsorted or duplicate paths', () => {
    const f = (path: string): FileEntry => ({ path, ...CONTENTS[0], exec: false });
    expect(() => buildTrees([f('b'), f('a')])).toThrow(RangeError);
    expect(() => buildTrees([f('a'), f('a')])).toThrow(RangeError);
    expect(() => buildTrees([f('a.b'), f('a/b')])).toThrow(RangeError);
  });
});

describe('diffTrees', () => {
  for (const renames of [false, true]) {
    describe(renames ? 'with renames' : 'without renames', () => {
      it('finds nothing between a tree and itself', () => {
        fc.assert(
          fc.property(fileList, (files) => {
            const built = buildTrees(files);
            expect(diffTrees(memoryTrees(built), built.root, built.root, { renames })).toEqual([]);
          }),
        );
      });

      it('diff(b, a) mirrors diff(a, b)', () => {
        fc.assert(
          fc.property(listPair, ([a, b]) => {
            const ta = buildTrees(a);
            const tb = buildTrees(b);
            const src = memoryTrees(ta, tb);
            const forward = diffTrees(src, ta.root, tb.root, { renames });
            const backward = diffTrees(src, tb.root, ta.root, { renames });
            expect([...backward].sort(byPath)).toEqual(forward.map(mirror).sort(byPath));
          }),
          { numRuns: 500 },
        );
      });

      it('diff(a, b) applied to the files of a gives the files of b', () => {
        fc.assert(
          fc.property(listPair, ([a, b]) => {
            const ta = buildTrees(a);
            const tb = buildTrees(b);
            expect(apply(a, diffTrees(memoryTrees(ta, tb), ta.root, tb.root, { renames }))).toEqual(b);
          }),
          { numRuns: 500 },
        );
      });

      it('treats an undefined side as an empty tree', () => {
        fc.assert(
          fc.property(fileList, (files) => {
            const built = buildTrees(files);
            const src = memoryTrees(built);
            const added = diffTrees(src, undefined, built.root, { renames });
            expect(added.every((c) => c.status === 'added')).toBe(true);
            expect(apply([], added)).toEqual(files);
            expect(diffTrees(src, built.root, undefined, { renames })).toEqual(added.map(mirror));
          }),
        );
      });
    });
  }

  it('diffCounts counts what diffTrees lists, renames paired, whatever the trees', () => {
    const count = (changes: Change[]) => {
      const n = { added: 0, deleted: 0, modified: 0, renamed: 0 };
      for (const c of changes) n[c.status]++;
      return n;
    };
    fc.assert(
      fc.property(listPair, ([a, b]) => {
        const ta = buildTrees(a);
        const tb = buildTrees(b);
        const src = memoryTrees(ta, tb);
        expect(diffCounts(src, ta.root, tb.root)).toEqual(count(diffTrees(src, ta.root, tb.root)));
        expect(diffCounts(src, undefined, tb.root)).toEqual(count(diffTrees(src, undefined, tb.root)));
      }),
      { numRuns: 500 },
    );
  });

  it('reports each path once, in path order', () => {
    fc.assert(
      fc.property(listPair, ([a, b]) => {
        const ta = buildTrees(a);
        const tb = buildTrees(b);
        const changes = diffTrees(memoryTrees(ta, tb), ta.root, tb.root);
        const paths = changes.map((c) => c.path);
        expect(new Set(paths).size).toBe(paths.length);
        expect(paths).toEqual([...paths].sort(comparePaths));
      }),
    );
  });

  it('pairs a move as a rename, preferring the same base name', () => {
    const [x, y] = CONTENTS;
    const a: FileEntry[] = [
      { path: 'old/p.bin', ...x, exec: false },
      { path: 'old/q.bin', ...x, exec: false },
      { path: 'stay', ...y, exec: false },
    ];
    const b: FileEntry[] = [
      { path: 'new/q.bin', ...x, exec: false },
      { path: 'stay', ...y, exec: true },
    ];
    const ta = buildTrees(a);
    const tb = buildTrees(b);
    expect(diffTrees(memoryTrees(ta, tb), ta.root, tb.root)).toEqual([
      { status: 'renamed', path: 'new/q.bin', oldPath: 'old/q.bin', old: { id: x.id, size: x.size, kind: x.kind, exec: false }, new: { id: x.id, size: x.size, kind: x.kind, exec: false } },
      { status: 'deleted', path: 'old/p.bin', old: { id: x.id, size: x.size, kind: x.kind, exec: false } },
      { status: 'modified', path: 'stay', old: { id: y.id, size: y.size, kind: y.kind, exec: false }, new: { id: y.id, size: y.size, kind: y.kind, exec: true } },
    ]);
  });

  it('does not let an earlier addition take the deletion a later one matches by name', () => {
    // 'a/x' comes first but has no same-named deletion; it must not take 'p/f', which 'r/f' matches.
    const side = { id: CONTENTS[0].id, size: CONTENTS[0].size, kind: CONTENTS[0].kind, exec: false };
    const renamed = pairRenames([
      { status: 'added', path: 'a/x', new: side },
      { status: 'deleted', path: 'p/f', old: side },
      { status: 'deleted', path: 'q/g', old: side },
      { status: 'added', path: 'r/f', new: side },
    ]);
    expect(renamed.filter((c) => c.status === 'renamed').map((c) => [c.oldPath, c.path]).sort()).toEqual([
      ['p/f', 'r/f'],
      ['q/g', 'a/x'],
    ]);
  });

  it('restricts to the given paths', () => {
    fc.assert(
      fc.property(listPair, filePath, ([a, b], filter) => {
        const ta = buildTrees(a);
        const tb = buildTrees(b);
        const src = memoryTrees(ta, tb);
        const under = (p: string) => p === filter || p.startsWith(`${filter}/`);
        const all = diffTrees(src, ta.root, tb.root, { renames: false });
        expect(diffTrees(src, ta.root, tb.root, { renames: false, paths: [filter] })).toEqual(all.filter((c) => under(c.path)));
      }),
    );
  });

  describe('reads only the trees on the path to a change', () => {
    // 1000 files in 100 directories, two levels deep: d0..d9 / e0..e9 / f0..f9.
    const DEPTH = 2;
    const files: FileEntry[] = [];
    for (let d = 0; d < 10; d++)
      for (let e = 0; e < 10; e++)
        for (let f = 0; f < 10; f++) files.push({ path: `d${d}/e${e}/f${f}`, ...CONTENTS[(d + e + f) % CONTENTS.length], exec: false });
    const base = buildTrees(sorted(files));

    const variants: Record<string, FileEntry[]> = {
      'one file modified': files.map((f) => (f.path === 'd3/e7/f5' ? { ...f, ...CONTENTS[(CONTENTS.findIndex((c) => c.id === f.id) + 1) % CONTENTS.length] } : f)),
      'one file made executable': files.map((f) => (f.path === 'd9/e0/f0' ? { ...f, exec: true } : f)),
      'one file deleted': files.filter((f) => f.path !== 'd0/e0/f9'),
      'one file added': [...files, { path: 'd5/e5/new', ...CONTENTS[0], exec: false }],
      'one file moved to another directory': files.map((f) => (f.path === 'd1/e1/f1' ? { ...f, path: 'd1/e2/f1x' } : f)),
    };

    for (const [name, changed] of Object.entries(variants)) {
      it(name, () => {
        const other = buildTrees(sorted(changed));
        const src = memoryTrees(base, other);
        const counting = countingTrees(src);
        const changes = diffTrees(counting, base.root, other.root);
        expect(changes.length).toBeGreaterThan(0);
        expect(changes.length).toBeLessThanOrEqual(2);

        // The trees read are exactly the roots and, on each side, the directories
        // above each changed path (old and new), where that side has them.
        const dirsOf = (p: string) => [p.split('/').slice(0, 1).join('/'), p.split('/').slice(0, 2).join('/')];
        const expected = new Set<ObjectId>([base.root, other.root]);
        for (const c of changes) {
          for (const root of [base.root, other.root]) {
            for (const d of [c.path, c.oldPath ?? c.path].flatMap(dirsOf)) {
              const e = lookupPath(src, root, d);
              if (e?.kind === 'tree') expected.add(e.id);
            }
          }
        }
        expect(new Set(counting.reads)).toEqual(expected);
        expect(new Set(counting.reads).size).toBe(counting.reads.length); // none read twice
        // At most the root plus one tree per level, per side, per changed directory.
        const changedDirs = new Set(changes.flatMap((c) => [c.path, c.oldPath ?? c.path].map((p) => p.slice(0, p.lastIndexOf('/')))));
        expect(counting.reads.length).toBeLessThanOrEqual(2 * (1 + DEPTH * changedDirs.size));
      });
    }

    it('reads nothing at all for identical roots', () => {
      const counting = countingTrees(memoryTrees(base));
      expect(diffTrees(counting, base.root, buildTrees(sorted([...files].reverse())).root)).toEqual([]);
      expect(counting.reads).toEqual([]);
    });
  });
});
