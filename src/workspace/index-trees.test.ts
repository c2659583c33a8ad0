// An index built on the one it replaces reuses the trees of unchanged
// folders: its root must be the root buildTrees makes from every entry,
// whatever was added, removed or replaced, with sharded folders too.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadXxhash } from '../core/checksum.js';
import { NotFoundError } from '../core/errors.js';
import { sha256, type ObjectId } from '../core/id.js';
import { comparePaths, isUnder } from '../core/paths.js';
import { buildTrees, EMPTY_TREE, TreePool, walkFiles } from '../graph/trees.js';
import { IndexBuilder, readIndex, storedTable, writeIndex, type IndexEntry, type IndexTable, type IndexTrees } from './index-file.js';

let dir: string;
beforeAll(async () => {
  await loadXxhash();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-index-trees-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  delete process.env.LODE_TEST_SHARD_BITS;
});

/** MemoryTrees is an object store in a Map, counting what is put. */
class MemoryTrees implements IndexTrees {
  readonly objects = new Map<ObjectId, Buffer>();
  puts = 0;
  /** Every put, stored before or not: a folder taken whole from the base is never put. */
  calls = 0;
  readonly src = new TreePool({
    getObject: (id: ObjectId) => {
      const b = this.objects.get(id);
      if (!b) throw new NotFoundError(`tree ${id} is missing`);
      return b;
    },
  });
  has(id: ObjectId): boolean {
    return this.objects.has(id);
  }
  put(bytes: Uint8Array): void {
    const b = Buffer.from(bytes);
    const id = sha256(b);
    this.calls++;
    if (!this.objects.has(id)) this.puts++;
    this.objects.set(id, b);
  }
}

function entry(p: string, version = 0): IndexEntry {
  return {
    path: p,
    kind: p.length % 2 === 0 ? 'blob' : 'chunked',
    id: sha256(Buffer.from(`${p}#${version}`)),
    size: p.length * 10 + version,
    exec: p.length % 3 === 0,
    mtimeNs: 1n,
    ctimeNs: 2n,
    ino: 3n,
    xxh: 4n,
  };
}

/** fresh builds an index of `entries` (sorted) with no base. */
function fresh(entries: IndexEntry[], trees?: MemoryTrees): IndexTable {
  const b = new IndexBuilder(entries.length, entries.reduce((n, e) => n + e.path.length * 3 + 4, 0));
  for (const e of entries) b.add(e);
  return storedTable(b.finish(['d'], trees))!;
}

/** onto builds `next` (sorted) on `base`, copying each entry the base has unchanged. */
function onto(base: IndexTable, baseEntries: IndexEntry[], next: IndexEntry[], trees: MemoryTrees, tree = base.tree()): IndexTable {
  const at = new Map(baseEntries.map((e, i) => [e.path, i]));
  const b = new IndexBuilder(next.length, next.reduce((n, e) => n + e.path.length * 3 + 4, 0) + base.count * 8, { table: base, tree });
  for (const e of next) {
    const i = at.get(e.path);
    if (i !== undefined && baseEntries[i].id === e.id && baseEntries[i].size === e.size && baseEntries[i].exec === e.exec && baseEntries[i].kind === e.kind) b.copyBase(i);
    else b.add(e);
  }
  return storedTable(b.finish(['d'], trees))!;
}

const sorted = (entries: IndexEntry[]) => [...entries].sort((a, b) => comparePaths(a.path, b.path));

/** A set of paths where no path is a folder of another. */
function validPaths(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of [...new Set(paths)].sort(comparePaths)) if (!out.some((q) => isUnder(p, q) || isUnder(q, p))) out.push(p);
  return out;
}

const segment = fc.constantFrom('a', 'b', 'a-b', 'a.b', 'a0', 'é', 'z', 'ab', '\u{1F600}');
const pathArb = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));

describe('IndexBuilder on a base', () => {
  it('gives the root buildTrees gives, after any adds, removals and replacements (sharded folders too)', () => {
    fc.assert(
      fc.property(
        fc.array(pathArb, { minLength: 0, maxLength: 60 }),
        fc.array(pathArb, { maxLength: 15 }),
        fc.array(fc.nat(), { maxLength: 15 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.constantFrom('', '2', '3'),
        (basePaths, addPaths, removeAt, replaceAt, bits) => {
          if (bits) process.env.LODE_TEST_SHARD_BITS = bits;
          else delete process.env.LODE_TEST_SHARD_BITS;
          const trees = new MemoryTrees();
          const baseEntries = validPaths(basePaths).map((p) => entry(p));
          const base = fresh(baseEntries, trees);
          expect(base.tree()).toBe(buildTrees(baseEntries).root);
          // The next index: some removed, some replaced, some added (a new path may displace an old one above or below it).
          const removed = new Set(removeAt.map((k) => baseEntries[k % Math.max(1, baseEntries.length)]?.path));
          const replaced = new Set(replaceAt.map((k) => baseEntries[k % Math.max(1, baseEntries.length)]?.path));
          let next = baseEntries.filter((e) => !removed.has(e.path)).map((e) => (replaced.has(e.path) ? entry(e.path, 1) : e));
          for (const p of addPaths) {
            next = next.filter((e) => !isUnder(e.path, p) && !isUnder(p, e.path));
            next.push(entry(p, 2));
          }
          next = sorted(next);
          trees.calls = 0;
          const built = onto(base, baseEntries, next, trees);
          const full = buildTrees(next);
          expect(built.tree()).toBe(full.root);
          // Folders above a changed, added or removed path are encoded again; a folder of the
          // new index with none of them below it is taken whole, so fewer trees are put than all.
          const key = (e: IndexEntry) => `${e.path} ${e.id} ${e.size} ${e.exec} ${e.kind}`;
          const before = new Set(baseEntries.map(key));
          const after = new Set(next.map(key));
          const changed = [...baseEntries.filter((e) => !after.has(key(e))), ...next.filter((e) => !before.has(key(e)))].map((e) => e.path);
          const folders = (p: string) => p.split('/').slice(0, -1).map((_, k, parts) => parts.slice(0, k + 1).join('/'));
          const dirty = new Set(changed.flatMap(folders));
          const untouched = next.some((e) => folders(e.path).some((d) => !dirty.has(d)));
          if (changed.length > 0 && untouched) expect(trees.calls).toBeLessThan(full.objects.size);
          // Every tree it names is stored: the files read back are the entries.
          const files = walkFiles(trees.src, built.tree());
          expect(files.map((f) => `${f.path} ${f.id} ${f.size}`)).toEqual(next.map((e) => `${e.path} ${e.id} ${e.size}`));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('encodes only the folders that changed', () => {
    const entries: IndexEntry[] = [];
    for (let d = 0; d < 50; d++) for (let f = 0; f < 20; f++) entries.push(entry(`s/d${String(d).padStart(2, '0')}/f${String(f).padStart(2, '0')}`));
    const trees = new MemoryTrees();
    const base = fresh(sorted(entries), trees);
    trees.puts = 0;
    const next = sorted(entries.map((e) => (e.path === 's/d07/f03' ? entry(e.path, 1) : e)));
    trees.calls = 0;
    const built = onto(base, sorted(entries), next, trees);
    expect(built.tree()).toBe(buildTrees(next).root);
    // d07, s and the top: three new trees, nothing else encoded again.
    expect(trees.puts).toBe(3);
    expect(trees.calls).toBe(3);
  });

  it('keeps the base tree when nothing changed, and builds all when the base tree is not stored', () => {
    const entries = sorted(['x/1', 'x/2', 'y'].map((p) => entry(p)));
    const trees = new MemoryTrees();
    const base = fresh(entries, trees);
    expect(onto(base, entries, entries, trees).tree()).toBe(base.tree());
    const bare = new MemoryTrees();
    const next = sorted([...entries, entry('x/3')]);
    expect(onto(base, entries, next, bare).tree()).toBe(buildTrees(next).root);
    expect(bare.has(buildTrees(next).root)).toBe(true);
  });

  it('does not take a folder from a base tree that holds other files than the base index', () => {
    // The base names a tree whose folder y has one file more than the index: the count check refuses to reuse it.
    const entries = sorted(['x/1', 'y/1', 'y/2'].map((p) => entry(p)));
    const trees = new MemoryTrees();
    const base = fresh(entries, trees);
    const other = fresh(sorted([...entries, entry('y/3')]), trees);
    const next = sorted([entry('x/1', 1), ...entries.slice(1)]);
    expect(onto(base, entries, next, trees, other.tree()).tree()).toBe(buildTrees(next).root);
    // Nothing changed, but the named tree is another: not taken either.
    expect(onto(base, entries, entries, trees, other.tree()).tree()).toBe(buildTrees(entries).root);
  });

  it('builds every tree when a tree of the base is missing from the store', () => {
    const entries = sorted(['a/x/1', 'a/x/2', 'a/y/1', 'a/y/2'].map((p) => entry(p)));
    const trees = new MemoryTrees();
    const base = fresh(entries, trees);
    // Only the top is left: taking a/y whole means reading folder a, which is gone.
    const top = trees.objects.get(base.tree())!;
    trees.objects.clear();
    trees.objects.set(base.tree(), top);
    const next = sorted([entry('a/x/1', 1), ...entries.slice(1)]);
    trees.calls = 0;
    const built = onto(base, entries, next, trees);
    expect(built.tree()).toBe(buildTrees(next).root);
    // Every tree was put: the top, a, a/x and a/y.
    expect(trees.calls).toBe(4);
  });

  it('builds an empty index on a base as the empty tree', () => {
    const entries = sorted(['x/1'].map((p) => entry(p)));
    const trees = new MemoryTrees();
    const base = fresh(entries, trees);
    expect(onto(base, entries, [], trees).tree()).toBe(EMPTY_TREE);
  });
});

describe('writeIndex of entries read from an index', () => {
  it('copies unchanged rows, writes changed ones, and encodes only the changed folders', async () => {
    const file = path.join(dir, 'index');
    const trees = new MemoryTrees();
    const start: IndexEntry[] = [];
    for (let d = 0; d < 20; d++) for (let f = 0; f < 10; f++) start.push(entry(`s/d${String(d).padStart(2, '0')}/f${f}`));
    await writeIndex(file, { datasets: ['s'], entries: sorted(start), stampNs: 0n }, dir, trees);
    const read = await readIndex(file);
    expect(read.tree).toBe(buildTrees(sorted(start)).root);
    // A checkout's kind of change: one file gone (d03), one replaced by a new entry (d05),
    // one given a new ID in place (d07), one new file (d09), and stats refreshed in d11 (no tree change).
    const entries = read.entries.filter((e) => e.path !== 's/d03/f1');
    const at = (p: string) => entries.findIndex((e) => e.path === p);
    entries[at('s/d05/f2')] = entry('s/d05/f2', 1);
    entries[at('s/d07/f4')].id = sha256(Buffer.from('new content'));
    entries.splice(at('s/d09/f9') + 1, 0, entry('s/d09/g'));
    const refreshed = entries[at('s/d11/f0')];
    refreshed.mtimeNs = 123_456_789n;
    refreshed.ino = 77n;
    const want = entries.map((e) => ({ ...e.toJSON?.() ?? e }) as IndexEntry);
    trees.calls = 0;
    await writeIndex(file, { datasets: ['s'], entries, stampNs: 0n }, dir, trees);
    const back = await readIndex(file);
    expect(back.tree).toBe(buildTrees(want).root);
    const got = back.entries.map((e) => `${e.path} ${e.id} ${e.size} ${e.kind} ${e.exec} ${e.mtimeNs} ${e.ino} ${e.xxh}`);
    expect(got).toEqual(want.map((e) => `${e.path} ${e.id} ${e.size} ${e.kind} ${e.exec} ${e.mtimeNs} ${e.ino} ${e.xxh}`));
    // d03, d05, d07, d09, s and the top: six trees put, not the 22 of a full build.
    expect(trees.calls).toBe(6);
  });

  it('smudges a copied row whose mtime is not before the index write', async () => {
    const file = path.join(dir, 'index-racy');
    const far = 4_000_000_000_000_000_000n; // year 2096
    await writeIndex(file, { datasets: ['s'], entries: [{ ...entry('s/a'), mtimeNs: 5n }, { ...entry('s/b'), mtimeNs: 5n }], stampNs: 0n }, dir);
    const read = await readIndex(file);
    const entries = read.entries.slice();
    entries[1].mtimeNs = far; // reassigned: written from the entry, then smudged
    await writeIndex(file, { datasets: ['s'], entries, stampNs: 0n }, dir);
    const back = await readIndex(file);
    expect(back.entries.map((e) => e.mtimeNs)).toEqual([5n, 0n]);
  });
});
