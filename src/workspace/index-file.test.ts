import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadXxhash, xxh64 } from '../core/checksum.js';
import { CorruptObjectError } from '../core/errors.js';
import { sha256 } from '../core/id.js';
import { comparePaths, repoPathProblem } from '../core/paths.js';
import { buildTrees } from '../graph/trees.js';
import { emptyIndex, readIndex, storedTable, trackedPaths, writeIndex, type IndexData, type IndexEntry } from './index-file.js';

let dir: string;
let counter = 0;
/** A fresh file name in the test's temp directory. */
const freshFile = () => path.join(dir, `index-${++counter}`);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-index-test-'));
  await loadXxhash();
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const U64_MAX = 2n ** 64n - 1n;

function entry(p: string, n: number, extra: Partial<IndexEntry> = {}): IndexEntry {
  return {
    path: p,
    kind: n % 2 === 0 ? 'blob' : 'chunked',
    id: sha256(Buffer.from(p)),
    size: n * 1000,
    exec: n % 3 === 0,
    mtimeNs: 1_700_000_000_123_456_789n + BigInt(n),
    ctimeNs: 1_700_000_001_000_000_000n + BigInt(n),
    ino: 1n << BigInt(40 + (n % 20)),
    xxh: U64_MAX - BigInt(n),
    ...extra,
  };
}

/** A small index with unicode paths, extreme bigints and every kind and flag. */
const SAMPLE: IndexData = {
  datasets: ['data', 'labels.csv', 'ünïcødé'],
  entries: [
    entry('data/a.bin', 0, { mtimeNs: 0n, ctimeNs: 0n, ino: 0n, xxh: 0n, size: 0 }),
    entry('data/images/\u{1F600}.png', 1, { mtimeNs: U64_MAX, ctimeNs: U64_MAX, ino: U64_MAX, size: 2 ** 50 + 1 }),
    entry('data/images/é.png', 2),
    entry('data/z', 3),
    entry('labels.csv', 4),
    entry('ünïcødé/\u4e2d\u6587.txt', 5),
  ].sort((a, b) => comparePaths(a.path, b.path)),
  stampNs: 0n,
};

async function expectCorrupt(file: string, why?: RegExp, label?: string): Promise<void> {
  const err = await readIndex(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, label).toBeInstanceOf(CorruptObjectError);
  expect((err as CorruptObjectError).path).toBe(file);
  if (why) expect((err as Error).message).toMatch(why);
}

/** withChecksum closes `body` with a fresh xxh64, so the parser, not the checksum, must catch what is wrong. */
function withChecksum(body: Buffer): Buffer {
  const out = Buffer.alloc(body.length + 8);
  body.copy(out);
  out.writeBigUInt64BE(xxh64(body), body.length);
  return out;
}

// ---------------------------------------------------------------- arbitraries

const component = fc.constantFrom('a', 'b', 'a.b', 'é', '\u{1F600}', 'Z 1', '\uFF21');
const u64 = fc.bigInt({ min: 0n, max: U64_MAX });

/** Unique, sorted paths of 1-3 components, none of them both a file and a directory. */
const paths = fc
  .uniqueArray(fc.array(component, { minLength: 1, maxLength: 3 }).map((cs) => cs.join('/')), { maxLength: 12 })
  .map((ps) => ps.filter((p) => !ps.some((q) => q.startsWith(`${p}/`))).sort(comparePaths));

const indexData: fc.Arbitrary<IndexData> = fc
  .record({
    // Dataset roots are valid repo paths: the index refuses any other on read.
    datasets: fc
      .uniqueArray(fc.string({ unit: 'grapheme', maxLength: 10 }).filter((d) => repoPathProblem(d) === undefined), { maxLength: 3 })
      .map((d) => d.sort()),
    paths,
  })
  .chain(({ datasets, paths }) =>
    fc
      .tuple(
        ...paths.map((p) =>
          fc.record({
            path: fc.constant(p),
            kind: fc.constantFrom('blob' as const, 'chunked' as const),
            id: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
            size: fc.bigInt({ min: 0n, max: 2n ** 48n }).map(Number), // 12 files cannot overflow a directory total
            exec: fc.boolean(),
            mtimeNs: u64,
            ctimeNs: u64,
            ino: u64,
            xxh: u64,
          }),
        ),
      )
      .map((entries) => ({ datasets, entries: entries.map((e) => ({ ...e })), stampNs: 0n })),
  );

// ---------------------------------------------------------------- tests

describe('index file', () => {
  it('reads back what was written: datasets, unicode paths, 64-bit fields', async () => {
    const file = freshFile();
    await writeIndex(file, SAMPLE);
    const back = await readIndex(file);
    expect(back.datasets).toEqual(SAMPLE.datasets);
    expect(back.entries.map(plain)).toStrictEqual(SAMPLE.entries.map(smudged));
    expect(back.stampNs).toBe(fs.statSync(file, { bigint: true }).mtimeNs);
    expect(back.tree).toBe(buildTrees(SAMPLE.entries).root);
  });

  it('refuses dataset roots that leave the workspace or name .git or .lode', async () => {
    for (const d of ['../outside', '/etc', '.lode', 'data/.GIT', 'git~1']) {
      const file = freshFile();
      await writeIndex(file, { datasets: [d], entries: [], stampNs: 0n });
      await expectCorrupt(file, /unsafe dataset path/, d);
    }
  });

  it('stores mtime 0 for entries modified at or after the write (racy): they are re-checked, never trusted', async () => {
    const file = freshFile();
    const now = BigInt(Date.now()) * 1_000_000n;
    const data = { datasets: ['d'], entries: [entry('d/old', 1, { mtimeNs: now - 10_000_000_000n }), entry('d/racy', 2, { mtimeNs: now + 5_000_000_000n })], stampNs: 0n };
    await writeIndex(file, data);
    const back = await readIndex(file);
    expect(back.entries.map((e) => e.mtimeNs)).toEqual([now - 10_000_000_000n, 0n]);
  });

  it('round-trips any valid index', async () => {
    const file = freshFile();
    await fc.assert(
      fc.asyncProperty(indexData, async (data) => {
        await writeIndex(file, data);
        const back = await readIndex(file);
        expect(back.datasets).toEqual(data.datasets);
        expect(back.entries.map(plain)).toStrictEqual(data.entries.map(smudged));
      }),
      { numRuns: 40 },
    );
  });

  it('reads a missing file as an empty index', async () => {
    expect(await readIndex(path.join(dir, 'no-such-index'))).toEqual(emptyIndex());
  });

  it('rewrites an existing index in place', async () => {
    const file = freshFile();
    await writeIndex(file, SAMPLE);
    await writeIndex(file, { datasets: ['x'], entries: [entry('x', 7)], stampNs: 0n });
    const back = await readIndex(file);
    expect(back.datasets).toEqual(['x']);
    expect(back.entries.map((e) => e.path)).toEqual(['x']);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith(`${path.basename(file)}.`) || n.startsWith('.'))).toEqual([]);
  });

  it('refuses to write unsorted or duplicate paths, leaving the old index as it was', async () => {
    const file = freshFile();
    await writeIndex(file, SAMPLE);
    const before = fs.readFileSync(file);
    await expect(writeIndex(file, { datasets: [], entries: [entry('b', 1), entry('a', 2)], stampNs: 0n })).rejects.toThrow(RangeError);
    await expect(writeIndex(file, { datasets: [], entries: [entry('a', 1), entry('a', 2)], stampNs: 0n })).rejects.toThrow(RangeError);
    // comparePaths order, not string order: 'a/b' sorts before 'a.b'.
    await expect(writeIndex(file, { datasets: [], entries: [entry('a.b', 1), entry('a/b', 2)], stampNs: 0n })).rejects.toThrow(RangeError);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses a file with any byte flipped', async () => {
    const file = freshFile();
    await writeIndex(file, SAMPLE);
    const good = fs.readFileSync(file);
    const bad = freshFile();
    // Every position: the file is a few hundred bytes, and the trailer counts too.
    for (let pos = 0; pos < good.length; pos++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const copy = Buffer.from(good);
        copy[pos] ^= mask;
        fs.writeFileSync(bad, copy);
        await expectCorrupt(bad);
      }
    }
  });

  it('refuses a truncated file, at every length', async () => {
    const file = freshFile();
    await writeIndex(file, SAMPLE);
    const good = fs.readFileSync(file);
    const bad = freshFile();
    for (let n = 0; n < good.length; n++) {
      fs.writeFileSync(bad, good.subarray(0, n));
      await expectCorrupt(bad);
    }
  });

  it('refuses a file with bytes appended', async () => {
    const file = freshFile();
    await writeIndex(file, SAMPLE);
    fs.appendFileSync(file, Buffer.from([0]));
    await expectCorrupt(file);
  });

  describe('with a valid checksum over malformed contents', () => {
    let good: Buffer;
    beforeAll(async () => {
      const file = freshFile();
      await writeIndex(file, { datasets: ['d'], entries: [entry('d/x', 0)], stampNs: 0n });
      good = fs.readFileSync(file);
    });
    // Layout: magic(4) version(1) pad(3) tree(32) datasetCount(4) [len(2) bytes]* entryCount(4) pathBytes(4) rows...
    const DATASETS_AT = 40;
    const ENTRIES_AT = DATASETS_AT + 4 + 2 + 1;
    const body = () => Buffer.from(good.subarray(0, good.length - 8));

    it('the layout assumed below matches what writeIndex wrote', () => {
      expect(good.readUInt32BE(DATASETS_AT)).toBe(1);
      expect(good.readUInt32BE(ENTRIES_AT)).toBe(1);
    });

    it('refuses a bad magic or version', async () => {
      const file = freshFile();
      const b = body();
      b.write('XODI', 0, 'latin1');
      fs.writeFileSync(file, withChecksum(b));
      await expectCorrupt(file, /magic/);
      const v = body();
      v[4] = 3;
      fs.writeFileSync(file, withChecksum(v));
      await expectCorrupt(file, /version/);
    });

    it('refuses counts and lengths that run past the end', async () => {
      const file = freshFile();
      const edits: Record<string, (b: Buffer) => void> = {
        'dataset count': (b) => b.writeUInt32BE(0xffffffff, DATASETS_AT),
        'dataset name length': (b) => b.writeUInt16BE(0xffff, DATASETS_AT + 4),
        'huge entry count': (b) => b.writeUInt32BE(0xffffffff, ENTRIES_AT),
        'one entry too many': (b) => b.writeUInt32BE(2, ENTRIES_AT),
        'path bytes': (b) => b.writeUInt32BE(0xffff, ENTRIES_AT + 4),
        'path bytes short': (b) => b.writeUInt32BE(1, ENTRIES_AT + 4),
      };
      for (const [what, edit] of Object.entries(edits)) {
        const b = body();
        edit(b);
        fs.writeFileSync(file, withChecksum(b));
        await expectCorrupt(file, undefined, what);
      }
    });

    it('refuses an unknown entry kind', async () => {
      const file = freshFile();
      const b = body();
      const kindAt = ENTRIES_AT + 8; // the first row
      expect(b[kindAt]).toBe(0x62);
      b[kindAt] = 0x74;
      fs.writeFileSync(file, withChecksum(b));
      await expectCorrupt(file, /kind/);
    });

    it('refuses bytes after the last entry', async () => {
      const file = freshFile();
      fs.writeFileSync(file, withChecksum(Buffer.concat([body(), Buffer.from([0, 0, 0, 0])])));
      await expectCorrupt(file, /trailing/);
    });
  });
});

/**
 * smudged is what writeIndex stores for an entry: an mtime not older than the
 * write (here: anything after the test started) becomes 0, so it is re-checked.
 */
const TEST_START_NS = BigInt(Date.now()) * 1_000_000n;
function smudged(e: IndexEntry): IndexEntry {
  return e.mtimeNs >= TEST_START_NS ? { ...e, mtimeNs: 0n } : e;
}

/** plain copies an entry's fields (read entries decode lazily through getters). */
function plain(e: IndexEntry): IndexEntry {
  const { path, kind, id, size, exec, mtimeNs, ctimeNs, ino, xxh } = e;
  return { path, kind, id, size, exec, mtimeNs, ctimeNs, ino, xxh };
}

/**
 * encodeV1 writes the version 1 layout of docs/formats.md (each entry: u16
 * path length, path, kind, flags, size, mtime, ctime, inode, xxh64, ID), as
 * lode wrote it before version 2, with a tree ID of the caller's choosing.
 */
function encodeV1(data: IndexData, tree: Buffer): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(40);
  head.write('LODI', 0, 'latin1');
  head[4] = 1;
  tree.copy(head, 8);
  parts.push(head);
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const str = (t: string) => {
    const b = Buffer.from(t, 'utf8');
    const l = Buffer.alloc(2);
    l.writeUInt16BE(b.length);
    return Buffer.concat([l, b]);
  };
  parts.push(u32(data.datasets.length), ...data.datasets.map(str), u32(data.entries.length));
  for (const e of data.entries) {
    const f = Buffer.alloc(2 + 40 + 32);
    f[0] = e.kind === 'blob' ? 0x62 : 0x63;
    f[1] = e.exec ? 1 : 0;
    f.writeBigUInt64BE(BigInt(e.size), 2);
    f.writeBigUInt64BE(e.mtimeNs, 10);
    f.writeBigUInt64BE(e.ctimeNs, 18);
    f.writeBigUInt64BE(e.ino, 26);
    f.writeBigUInt64BE(e.xxh, 34);
    Buffer.from(e.id, 'hex').copy(f, 42);
    parts.push(str(e.path), f);
  }
  return withChecksum(Buffer.concat(parts));
}

/** manyEntries: n files in nested folders with long shared prefixes (more than one restart block). */
function manyEntries(n: number): IndexEntry[] {
  const out: IndexEntry[] = [];
  for (let i = 0; i < n; i++) out.push(entry(`data/folder-${String(i % 7).padStart(3, '0')}/file-${String(i).padStart(8, '0')}.bin`, i));
  return out.sort((a, b) => comparePaths(a.path, b.path));
}

describe('index file version 2', () => {
  it('reads a version 1 index, and the next write upgrades it to version 2 with the same entries', async () => {
    const file = freshFile();
    const entries = manyEntries(100);
    const tree = Buffer.alloc(32, 7);
    fs.writeFileSync(file, encodeV1({ datasets: ['data'], entries, stampNs: 0n }, tree));
    const v1 = await readIndex(file);
    expect(v1.datasets).toEqual(['data']);
    expect(v1.tree).toBe(tree.toString('hex'));
    expect(v1.entries.map(plain)).toEqual(entries.map(smudged));
    await writeIndex(file, v1);
    expect(fs.readFileSync(file)[4]).toBe(2);
    const v2 = await readIndex(file);
    expect(v2.entries.map(plain)).toEqual(entries.map(smudged));
    expect(v2.tree).toBe(buildTrees(entries).root);
  });

  it('refuses a version 1 index whose entries are out of order', async () => {
    const file = freshFile();
    const entries = manyEntries(20);
    [entries[3], entries[4]] = [entries[4], entries[3]];
    fs.writeFileSync(file, encodeV1({ datasets: ['data'], entries, stampNs: 0n }, Buffer.alloc(32)));
    await expectCorrupt(file, /sorted/);
  });

  it('stores shared path prefixes once: smaller than version 1 for the same entries', async () => {
    const file = freshFile();
    const entries = manyEntries(1000);
    await writeIndex(file, { datasets: ['data'], entries, stampNs: 0n });
    const v1Size = encodeV1({ datasets: ['data'], entries, stampNs: 0n }, Buffer.alloc(32)).length;
    const pathBytes = entries.reduce((n, e) => n + Buffer.byteLength(e.path), 0);
    // Each path here is 36 bytes sharing at least 22 with the one before.
    expect(fs.statSync(file).size).toBeLessThan(v1Size - pathBytes / 2);
  });

  it('finds every path by lookup, and none that is absent', async () => {
    const file = freshFile();
    const entries = manyEntries(333);
    await writeIndex(file, { datasets: ['data'], entries, stampNs: 0n });
    const index = await readIndex(file);
    const t = storedTable(index)!;
    expect(t.count).toBe(333);
    for (let i = 0; i < entries.length; i++) {
      expect(t.find(entries[i].path)).toBe(i);
      expect(t.pathAt(i)).toBe(entries[i].path);
      expect(t.id(i)).toBe(entries[i].id);
      expect(t.size(i)).toBe(entries[i].size);
    }
    for (const absent of ['', 'a', 'data', 'data/folder-000', 'data/folder-000/file-00000000.bi', 'data/folder-006/zz', 'zzz', 'data/folder-003/file-00000003.bin/x']) {
      const lb = entries.findIndex((e) => comparePaths(e.path, absent) >= 0);
      expect(t.find(absent), absent).toBe(-1);
      expect(t.lowerBound(absent), absent).toBe(lb === -1 ? entries.length : lb);
    }
    expect([...trackedPaths(index)]).toEqual(entries.map((e) => e.path));
    // Nothing above made an object per entry: the table is still the truth.
    expect(storedTable(index)).toBe(t);
  });

  it('lookups agree with a sorted array for any set of paths', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.array(component, { minLength: 1, maxLength: 4 }).map((cs) => cs.join('/')), { maxLength: 60 }),
        fc.array(fc.array(component, { minLength: 1, maxLength: 4 }).map((cs) => cs.join('/')), { maxLength: 5 }),
        async (ps, probes) => {
          const sorted = ps.filter((p) => !ps.some((q) => q.startsWith(`${p}/`))).sort(comparePaths);
          const file = freshFile();
          await writeIndex(file, { datasets: [], entries: sorted.map((p, i) => entry(p, i)), stampNs: 0n });
          const t = storedTable(await readIndex(file))!;
          for (const p of [...sorted, ...probes]) {
            const lb = sorted.findIndex((q) => comparePaths(q, p) >= 0);
            expect(t.lowerBound(p)).toBe(lb === -1 ? sorted.length : lb);
            expect(t.find(p)).toBe(sorted.indexOf(p));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('writes stats refreshed through the table, smudging racy ones', async () => {
    const file = freshFile();
    const entries = manyEntries(40);
    await writeIndex(file, { datasets: ['data'], entries, stampNs: 0n });
    const index = await readIndex(file);
    const t = storedTable(index)!;
    t.setStat(5, 1_600_000_000_000_000_001n, 1_600_000_000_000_000_002n, 42n);
    t.setXxh(5, 77n);
    const future = BigInt(Date.now() + 3_600_000) * 1_000_000n;
    t.setStat(6, future, future, 43n);
    await writeIndex(file, index);
    const back = (await readIndex(file)).entries.map(plain);
    expect(back[5]).toEqual({ ...plain(entries[5]), mtimeNs: 1_600_000_000_000_000_001n, ctimeNs: 1_600_000_000_000_000_002n, ino: 42n, xxh: 77n });
    expect(back[6]).toEqual({ ...plain(entries[6]), mtimeNs: 0n, ctimeNs: future, ino: 43n });
    expect(back.filter((_, i) => i !== 5 && i !== 6)).toEqual(entries.filter((_, i) => i !== 5 && i !== 6).map(plain));
  });

  it('writes replaced entries, not the table they were read with', async () => {
    const file = freshFile();
    const entries = manyEntries(40);
    await writeIndex(file, { datasets: ['data'], entries, stampNs: 0n });
    const index = await readIndex(file);
    expect(storedTable(index)).toBeDefined();
    await writeIndex(file, { ...index, entries: entries.slice(0, 3) });
    expect((await readIndex(file)).entries.map(plain)).toEqual(entries.slice(0, 3).map(plain));
    const again = await readIndex(file);
    again.datasets = ['data', 'more'];
    await writeIndex(file, again);
    expect((await readIndex(file)).datasets).toEqual(['data', 'more']);
  });

  it('reads lazily: the header first, the entries when asked, refused if the file changed in between', async () => {
    const file = freshFile();
    const entries = manyEntries(50);
    await writeIndex(file, { datasets: ['data'], entries, stampNs: 0n });
    const lazy = await readIndex(file, { lazy: true });
    expect(lazy.datasets).toEqual(['data']);
    expect(lazy.tree).toBe(buildTrees(entries).root);
    expect(lazy.entries.map(plain)).toEqual(entries.map(plain));
    const stale = await readIndex(file, { lazy: true });
    await writeIndex(file, { datasets: ['data'], entries: entries.slice(1), stampNs: 0n });
    expect(() => stale.entries).toThrow(CorruptObjectError);
    const b = fs.readFileSync(file);
    b[b.length - 20] ^= 1;
    fs.writeFileSync(file, b);
    await expectCorrupt(file, /checksum/);
    const err = await readIndex(file, { lazy: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptObjectError);
  });

  it('refuses paths out of order, even with a valid checksum', async () => {
    const file = freshFile();
    await writeIndex(file, { datasets: ['d'], entries: [entry('d/a', 0), entry('d/b', 1)], stampNs: 0n });
    const b = fs.readFileSync(file);
    // The last path record is "shared 2, length 1, 'b'": make it 'A' (before 'a').
    const at = b.length - 8 - 1;
    expect(String.fromCharCode(b[at])).toBe('b');
    b[at] = 0x41;
    fs.writeFileSync(file, withChecksum(b.subarray(0, b.length - 8)));
    await expectCorrupt(file, /sorted/);
  });
});
