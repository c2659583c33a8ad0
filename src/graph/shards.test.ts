import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTreeObject, encodeCommit, encodeTree, nameHash, shardRank, shardThreshold, treeLinks, type ShardNode, type TreeEntry } from '../core/encoding.js';
import { CorruptObjectError } from '../core/errors.js';
import { idToBytes, sha256, type ObjectId } from '../core/id.js';
import { compareNames } from '../core/paths.js';
import { reachableFrom } from './commits.js';
import { diffTrees } from './diff.js';
import { buildTrees, DEFAULT_SHARD_BITS, directoryEntries, directoryLeaves, encodeDirectory, lookupPath, objectTrees, walkFiles, type FileEntry, type TreeSource } from './trees.js';

const GOLDEN_URL = new URL('../../test/fixtures/sharded-tree-golden.json', import.meta.url);

// ---------------------------------------------------------------- helpers

/** memory keeps encoded tree objects and reads them back, counting object reads. */
function memory(objects = new Map<ObjectId, Buffer>()): TreeSource & { objects: Map<ObjectId, Buffer>; reads: ObjectId[] } {
  const reads: ObjectId[] = [];
  const src = objectTrees((id) => {
    reads.push(id);
    const b = objects.get(id);
    if (!b) throw new Error(`no object ${id}`);
    return decodeTreeObject(b, id);
  });
  return Object.assign(src, { objects, reads });
}

const fileId = (n: number): ObjectId => sha256(Buffer.from(`content ${n}`));

/** entry makes a file entry whose ID and size depend on `n`. */
function entry(name: string, n = 0): TreeEntry {
  return { name, kind: 'blob', id: fileId(n), size: n + 1, files: 1, exec: false };
}

const sortByName = (es: TreeEntry[]) => es.sort((a, b) => compareNames(a.name, b.name));

/** names of `count` files, in name order. */
function dir(count: number, prefix = 'f'): TreeEntry[] {
  return sortByName(Array.from({ length: count }, (_, i) => entry(`${prefix}${i}.bin`, i)));
}

/** sha256 of bytes written here, as an independent check of IDs. */
const idOf = (b: Buffer) => sha256(b);

/** rawShardNode writes a shard node byte by byte, with none of the encoder's checks, to forge structures. */
function rawShardNode(node: ShardNode): Buffer {
  const parts: Buffer[] = [Buffer.from('LODT', 'latin1'), Buffer.from([2, node.bits, node.level])];
  const varint = (n: number) => {
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    out.push(n);
    return Buffer.from(out);
  };
  parts.push(varint(node.children.length));
  for (const c of node.children) {
    const name = Buffer.from(c.last, 'utf8');
    parts.push(idToBytes(c.id), varint(c.entries), varint(c.files), varint(c.size), varint(name.length), name);
  }
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------- the hash

describe('shard cuts', () => {
  it('nameHash is FNV-1a 32 finished with fmix32 (known values)', () => {
    // Computed by hand from the definitions in docs/formats.md.
    const fnv = (bytes: Buffer) => {
      let h = 0x811c9dc5n;
      for (const b of bytes) h = ((h ^ BigInt(b)) * 0x01000193n) & 0xffffffffn;
      h ^= h >> 16n;
      h = (h * 0x85ebca6bn) & 0xffffffffn;
      h ^= h >> 13n;
      h = (h * 0xc2b2ae35n) & 0xffffffffn;
      h ^= h >> 16n;
      return Number(h);
    };
    for (const name of ['a', 'file-000123.bin', 'é', '\u{1F600}x', 'Z'.repeat(200)]) expect(nameHash(name)).toBe(fnv(Buffer.from(name, 'utf8')));
  });

  it('shardRank counts whole groups of trailing one bits', () => {
    for (let i = 0; i < 2000; i++) {
      const name = `n${i}`;
      const h = nameHash(name);
      let ones = 0;
      while (ones < 32 && (h >>> ones) & 1) ones++;
      expect(shardRank(name, 3)).toBe(Math.floor(ones / 3));
      expect(shardRank(name, 8)).toBe(Math.floor(ones / 8));
    }
  });
});

// ---------------------------------------------------------------- building and reading

describe('sharded directories', () => {
  const bits = 3; // threshold 32 entries, leaves of about 8

  it('a directory at the threshold is one version-1 tree; one more entry shards it', () => {
    const objects = new Map<ObjectId, Buffer>();
    const small = encodeDirectory(dir(shardThreshold(bits)), objects, bits);
    expect(objects.get(small)!.equals(encodeTree(dir(shardThreshold(bits))))).toBe(true);
    const big = encodeDirectory(dir(shardThreshold(bits) + 1), objects, bits);
    expect(decodeTreeObject(objects.get(big)!, big).kind).toBe('shards');
  });

  it('reads back every entry, in order, across levels', () => {
    const src = memory();
    const entries = dir(3000);
    const id = encodeDirectory(entries, src.objects, bits);
    const root = decodeTreeObject(src.objects.get(id)!, id);
    expect(root.kind === 'shards' && root.node.level).toBeGreaterThanOrEqual(2);
    expect(directoryEntries(src, id)).toEqual(entries);
    // Each leaf stays small: no run of entries without a cut is stored whole.
    const leaves = directoryLeaves(src, id);
    expect(leaves.length).toBeGreaterThan(3000 / 64);
    expect(leaves.reduce((n, l) => n + l.entries, 0)).toBe(3000);
  });

  it('the ID depends only on the entries (canonical), whatever came before', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { minLength: 0, maxLength: 400 }), fc.integer({ min: 0, max: 5000 }), (ns, extra) => {
        const es = (xs: number[]) => sortByName(xs.map((n) => entry(`x${n}`, n)));
        const objects = new Map<ObjectId, Buffer>();
        const a = encodeDirectory(es(ns), objects, bits);
        // Add one, remove it again: back to the same ID.
        const withExtra = ns.includes(extra) ? ns.filter((n) => n !== extra) : [...ns, extra];
        encodeDirectory(es(withExtra), objects, bits);
        const back = ns.includes(extra) ? [...withExtra, extra] : withExtra.filter((n) => n !== extra);
        expect(encodeDirectory(es(back), objects, bits)).toBe(a);
        // Built in a different order of insertion: same ID.
        expect(encodeDirectory(es([...ns].reverse()), new Map(), bits)).toBe(a);
      }),
      { numRuns: 60 },
    );
  });

  it('one insertion or deletion rewrites one leaf (two when a cut moves) and the nodes above it', () => {
    const entries = dir(5000);
    const before = new Map<ObjectId, Buffer>();
    const a = encodeDirectory(entries, before, bits);
    const height = (decodeTreeObject(before.get(a)!, a) as { node: ShardNode }).node.level;
    for (const change of ['insert', 'delete', 'modify'] as const) {
      for (const k of [0, 17, 2500, 4999]) {
        let es = [...entries];
        if (change === 'insert') es = sortByName([...es, entry(`g${k}.new`, 99999)]);
        else if (change === 'delete') es.splice(k, 1);
        else es[k] = { ...es[k], id: fileId(123456), size: 7 };
        const after = new Map<ObjectId, Buffer>();
        encodeDirectory(es, after, bits);
        const fresh = [...after.keys()].filter((id) => !before.has(id));
        const freshLeaves = fresh.filter((id) => decodeTreeObject(after.get(id)!, id).kind === 'entries');
        expect(freshLeaves.length, `${change} at ${k}`).toBeGreaterThanOrEqual(1);
        expect(freshLeaves.length, `${change} at ${k}`).toBeLessThanOrEqual(2);
        expect(fresh.length - freshLeaves.length, `${change} at ${k}`).toBeLessThanOrEqual(2 * height);
        // Every object is small: one change costs a few KiB, not the directory.
        for (const id of fresh) expect(after.get(id)!.length).toBeLessThan(64 * 1024);
      }
    }
  });

  it('diff reads only the changed leaves and the shard nodes', () => {
    const entries = dir(5000);
    const modified = [...entries];
    modified[1234] = { ...modified[1234], id: fileId(777777), size: 3 };
    const src = memory();
    const a = buildTrees(entries.map((e) => ({ path: `d/${e.name}`, kind: 'blob', id: e.id, size: e.size, exec: false })), bits);
    const b = buildTrees(modified.map((e) => ({ path: `d/${e.name}`, kind: 'blob', id: e.id, size: e.size, exec: false })), bits);
    for (const [id, buf] of [...a.objects, ...b.objects]) src.objects.set(id, buf);
    const changes = diffTrees(src, a.root, b.root);
    expect(changes).toEqual([{ status: 'modified', path: `d/${modified[1234].name}`, old: { id: entries[1234].id, size: entries[1234].size, kind: 'blob', exec: false }, new: { id: fileId(777777), size: 3, kind: 'blob', exec: false } }]);
    const leafReads = new Set(src.reads.filter((id) => decodeTreeObject(src.objects.get(id)!, id).kind === 'entries'));
    // The two roots (one level up) and one leaf on each side.
    expect(leafReads.size).toBe(4);
    expect(new Set(src.reads).size).toBeLessThan(20);
  });

  it('diff, lookupPath and walkFiles agree with an unsharded (version-1) tree of the same files', () => {
    const files: FileEntry[] = dir(2000).map((e) => ({ path: `data/${e.name}`, kind: 'blob', id: e.id, size: e.size, exec: false }));
    const sharded = buildTrees(files, bits);
    const plain = buildTrees(files, 16); // threshold 262144: one tree per directory, as before sharding
    expect(sharded.root).not.toBe(plain.root);
    const src = memory(new Map([...sharded.objects, ...plain.objects]));
    expect(diffTrees(src, plain.root, sharded.root)).toEqual([]);
    expect(walkFiles(src, sharded.root)).toEqual(files);
    for (const f of [files[0], files[999], files[1999]]) expect(lookupPath(src, sharded.root, f.path)).toMatchObject({ id: f.id, size: f.size });
    expect(lookupPath(src, sharded.root, 'data/nope')).toBeUndefined();
    expect(lookupPath(src, sharded.root, 'data/f0.bin.x')).toBeUndefined();
    // A legacy version-1 tree of more than the threshold still reads (trees written before sharding).
    const legacy = encodeTree(dir(2000));
    src.objects.set(idOf(legacy), legacy);
    expect(directoryEntries(src, idOf(legacy))).toHaveLength(2000);
  });

  it('totals of a sharded directory show in its parent entry', () => {
    const files: FileEntry[] = dir(500).map((e) => ({ path: `d/${e.name}`, kind: 'blob', id: e.id, size: e.size, exec: false }));
    const built = buildTrees(files, bits);
    const src = memory(built.objects);
    const d = directoryEntries(src, built.root)[0];
    expect(d).toMatchObject({ name: 'd', kind: 'tree', files: 500, size: files.reduce((n, f) => n + f.size, 0) });
    expect(treeLinks(built.objects.get(d.id)!, d.id).shards.length).toBeGreaterThan(1);
  });
});

// ---------------------------------------------------------------- forged structures

describe('forged shard structures are corrupt', () => {
  const bits = 3;
  // Names that end no level-1 node: the whole directory is one level-1 node over its leaves.
  const entries = sortByName(
    Array.from({ length: 400 }, (_, i) => entry(`f${i}.bin`, i))
      .filter((e) => shardRank(e.name, bits) < 2)
      .slice(0, 200),
  );
  /** The real leaves and level-1 refs of a 200-entry directory, to rearrange. */
  function parts() {
    const objects = new Map<ObjectId, Buffer>();
    const root = encodeDirectory(entries, objects, bits);
    const src = memory(objects);
    return { objects, root, src, leaves: directoryLeaves(src, root) };
  }
  const put = (objects: Map<ObjectId, Buffer>, b: Buffer) => {
    const id = sha256(b);
    objects.set(id, b);
    return id;
  };
  const refOf = (l: { id: ObjectId; entries: number; files: number; size: number; last: string }) => ({ id: l.id, entries: l.entries, files: l.files, size: l.size, last: l.last });
  const expectCorrupt = (src: TreeSource, id: ObjectId, why: RegExp) => {
    expect(() => directoryEntries(src, id)).toThrow(CorruptObjectError);
    expect(() => directoryEntries(src, id)).toThrow(why);
  };

  it('the built one reads (the forgeries below differ in one thing)', () => {
    const { src, root } = parts();
    expect(directoryEntries(src, root)).toEqual(entries);
  });

  it('a leaf count that differs from the record', () => {
    const { objects, src, leaves } = parts();
    const refs = leaves.map(refOf);
    refs[1] = { ...refs[1], entries: refs[1].entries + 1 };
    const forged = put(objects, rawShardNode({ bits, level: 1, children: refs }));
    expectCorrupt(src, forged, /entries where its parent records/);
  });

  it('totals that differ from the record', () => {
    const { objects, src, leaves } = parts();
    const refs = leaves.map(refOf);
    refs[0] = { ...refs[0], size: refs[0].size + 1 };
    expectCorrupt(src, put(objects, rawShardNode({ bits, level: 1, children: refs })), /totals differ/);
  });

  it('overlapping ranges: a leaf repeated under a later name', () => {
    const { objects, src, leaves } = parts();
    const refs = leaves.map(refOf);
    // Leaf 0's entries again under leaf 1's last name: sorted records, overlapping contents.
    refs[1] = { ...refs[0], last: refs[1].last };
    const forged = put(objects, rawShardNode({ bits, level: 1, children: refs }));
    expectCorrupt(src, forged, /last name differs|overlaps/);
  });

  it('children out of order in a shard node', () => {
    const { objects, src, leaves } = parts();
    const refs = leaves.map(refOf);
    [refs[0], refs[1]] = [refs[1], refs[0]];
    expectCorrupt(src, put(objects, rawShardNode({ bits, level: 1, children: refs })), /out of order/);
  });

  it('two leaves merged into one (a cut inside a leaf)', () => {
    const { objects, src, leaves } = parts();
    const leafEntries = (k: number) => (decodeTreeObject(objects.get(leaves[k].id)!) as { entries: TreeEntry[] }).entries;
    const merged = put(objects, encodeTree([...leafEntries(0), ...leafEntries(1)]));
    const refs = leaves.map(refOf).slice(1);
    refs[0] = { id: merged, entries: leaves[0].entries + leaves[1].entries, files: leaves[0].files + leaves[1].files, size: leaves[0].size + leaves[1].size, last: leaves[1].last };
    expectCorrupt(src, put(objects, rawShardNode({ bits, level: 1, children: refs })), /a cut inside the leaf/);
  });

  it('a root smaller than the threshold, or a lone child at a higher level', () => {
    const { objects, src, leaves } = parts();
    const one = leaves.map(refOf).slice(0, 1);
    expectCorrupt(src, put(objects, rawShardNode({ bits, level: 1, children: one })), /no more than the/);
    const l1 = put(objects, rawShardNode({ bits, level: 1, children: leaves.map(refOf) }));
    const all = leaves.reduce((n, l) => n + l.entries, 0);
    const lone = put(objects, rawShardNode({ bits, level: 2, children: [{ id: l1, entries: all, files: all, size: leaves.reduce((n, l) => n + l.size, 0), last: leaves[leaves.length - 1].last }] }));
    expectCorrupt(src, lone, /single child/);
  });

  it('a level that does not step down, or a leaf where a node belongs', () => {
    const objects = new Map<ObjectId, Buffer>();
    const root = encodeDirectory(dir(3000), objects, bits);
    const src = memory(objects);
    const node = (id: ObjectId) => (decodeTreeObject(objects.get(id)!) as { node: ShardNode }).node;
    const top = node(root);
    expect(top.level).toBeGreaterThanOrEqual(2);
    // Replace the root's first child by its own first child (one level too low), keeping the record.
    const grandchild = node(top.children[0].id).children[0].id;
    const forged = put(objects, rawShardNode({ ...top, children: [{ ...top.children[0], id: grandchild }, ...top.children.slice(1)] }));
    expectCorrupt(src, forged, top.level === 2 ? /a leaf where a level-1 shard node belongs/ : /shard node of level \d+ \(bits 3\) under level/);
    // A leaf where a shard node belongs.
    const leaf = directoryLeaves(src, root)[0].id;
    const forged2 = put(objects, rawShardNode({ ...top, children: [{ ...top.children[0], id: leaf }, ...top.children.slice(1)] }));
    expectCorrupt(src, forged2, /a leaf where a level-\d+ shard node belongs/);
  });

  it('a non-last child that does not end at a cut of its level', () => {
    const { leaves } = parts();
    const refs = leaves.map(refOf);
    // A name with no cut, between the first two leaves' last names.
    const noCut = entries.find((e) => shardRank(e.name, bits) === 0 && compareNames(e.name, refs[1].last) < 0 && compareNames(e.name, refs[0].last) > 0)!;
    expect(noCut).toBeDefined();
    refs[0] = { ...refs[0], last: noCut.name };
    const b = rawShardNode({ bits, level: 1, children: refs });
    expect(() => decodeTreeObject(b, sha256(b))).toThrow(/does not end at a level-1 cut/);
  });

  it('reachableFrom (fsck, gc) reports a forged sharded directory that every object of decodes alone', () => {
    const { objects, leaves } = parts();
    const refs = leaves.map(refOf);
    refs[1] = { ...refs[1], entries: refs[1].entries + 1 };
    const forged = put(objects, rawShardNode({ bits, level: 1, children: refs }));
    const top = put(objects, encodeTree([{ name: 'big', kind: 'tree', id: forged, size: 1, files: 1, exec: false }]));
    const commit = put(objects, encodeCommit({ tree: top, parents: [], author: 'a <a@b>', time: 0, datasets: [], message: 'm' }));
    const store = { getObject: (id: ObjectId) => objects.get(id)!, hasObject: (id: ObjectId) => objects.has(id), findObjectsByPrefix: () => [] };
    const r = reachableFrom(store, [commit]);
    expect(r.problems.get(forged)).toMatch(/entries where its parent records/);
    // The real one: no problem.
    const ok = parts();
    const top2 = put(ok.objects, encodeTree([{ name: 'big', kind: 'tree', id: ok.root, size: 1, files: 1, exec: false }]));
    const c2 = put(ok.objects, encodeCommit({ tree: top2, parents: [], author: 'a <a@b>', time: 0, datasets: [], message: 'm' }));
    expect(reachableFrom({ getObject: (id: ObjectId) => ok.objects.get(id)!, hasObject: (id: ObjectId) => ok.objects.has(id), findObjectsByPrefix: () => [] }, [c2]).problems.size).toBe(0);
  });

  it('a forged shard node is refused by decodeTreeObject: bad bits, level, count, trailing bytes', () => {
    const { leaves } = parts();
    const refs = leaves.map(refOf);
    const good = rawShardNode({ bits, level: 1, children: refs });
    expect(() => decodeTreeObject(good)).not.toThrow();
    expect(() => decodeTreeObject(rawShardNode({ bits: 1, level: 1, children: refs }))).toThrow(/bits 1 out of range/);
    expect(() => decodeTreeObject(rawShardNode({ bits, level: 0, children: refs }))).toThrow(/level 0 out of range/);
    expect(() => decodeTreeObject(rawShardNode({ bits, level: 1, children: [] }))).toThrow(/no children/);
    expect(() => decodeTreeObject(Buffer.concat([good, Buffer.from([0])]))).toThrow(/trailing bytes/);
    expect(() => decodeTreeObject(good.subarray(0, good.length - 1))).toThrow(/truncated/);
    expect(() => decodeTreeObject(rawShardNode({ bits, level: 1, children: refs.map((r, i) => (i === 2 ? { ...r, last: '..' } : r)) }))).toThrow(/unsafe name/);
  });
});

// ---------------------------------------------------------------- golden

describe('golden sharded tree', () => {
  it('pins the objects of a sharded directory', () => {
    const files: FileEntry[] = Array.from({ length: 120 }, (_, i) => ({ path: `img/p${String(i).padStart(4, '0')}.png`, kind: 'blob' as const, id: fileId(i), size: 100 + i, exec: i % 7 === 0 }));
    const built = buildTrees(files, 3);
    const objects = [...built.objects].map(([id, b]) => ({ id, hex: b.toString('hex') })).sort((a, b) => (a.id < b.id ? -1 : 1));
    // And the default writer (DEFAULT_SHARD_BITS) over 1,100 files: the root ID of its sharded directory.
    const many: FileEntry[] = Array.from({ length: 1100 }, (_, i) => ({ path: `many/f${String(i).padStart(4, "0")}`, kind: 'blob' as const, id: fileId(i), size: i, exec: false }));
    const defaultRoot = buildTrees(many, DEFAULT_SHARD_BITS).root;
    const actual = { bits: 3, files: files.map((f) => ({ path: f.path, id: f.id, size: f.size, exec: f.exec })), root: built.root, objects, defaultBits: { files: 'many/f<i, 4 digits> for i < 1100, id = sha256("content <i>"), size i', root: defaultRoot } };
    if (process.env.LODE_UPDATE_GOLDEN === '1') writeFileSync(GOLDEN_URL, `${JSON.stringify({ note: 'Pins sharded trees (tree objects of version 2 over version-1 leaves): a mismatch means sharded directories would get new IDs. Regenerate only for a deliberate format change: LODE_UPDATE_GOLDEN=1 npx vitest run src/graph/shards.test.ts', ...actual }, null, 2)}\n`);
    const golden = JSON.parse(readFileSync(GOLDEN_URL, 'utf8')) as typeof actual;
    expect(actual.root).toBe(golden.root);
    expect(actual.defaultBits.root).toBe(golden.defaultBits.root);
    expect(actual.objects).toEqual(golden.objects);
    for (const o of golden.objects) expect(sha256(Buffer.from(o.hex, 'hex'))).toBe(o.id);
  });
});
