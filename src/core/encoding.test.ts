import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_TREE } from '../graph/trees.js';
import {
  type ChunkList,
  type Commit,
  type TreeEntry,
  decodeChunkList,
  decodeCommit,
  decodeTree,
  encodeChunkList,
  encodeCommit,
  encodeTree,
  isCommitEncoding,
  isTreeEncoding,
  normaliseMessage,
  sortEntries,
} from './encoding.js';
import { MAX_CHUNK_LIMIT } from './chunker.js';
import { CorruptObjectError } from './errors.js';
import { sha256, type ObjectId } from './id.js';
import { nameProblem } from './paths.js';

const GOLDEN_URL = new URL('../../test/fixtures/encodings-golden.json', import.meta.url);

// ---------------------------------------------------------------- arbitraries

const objectId: fc.Arbitrary<ObjectId> = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => Buffer.from(b).toString('hex'));

/** Sizes that cross every varint length up to 2^40, not only small ones. */
const size = fc.oneof(fc.nat({ max: 300 }), fc.bigInt({ min: 0n, max: 2n ** 40n }).map(Number));

/** Valid entry names: any Unicode, but nothing nameProblem refuses. */
const entryName = fc
  .oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
    fc.string({ unit: fc.constantFrom('a', 'B', '.', '-', '0', 'é', '\u{1F600}', '\uFF21', ' '), minLength: 1, maxLength: 6 }),
  )
  .filter((n) => nameProblem(n) === undefined);

const treeEntry: fc.Arbitrary<TreeEntry> = fc.oneof(
  fc.record({
    name: entryName,
    kind: fc.constantFrom('blob' as const, 'chunked' as const),
    id: objectId,
    size,
    files: fc.constant(1),
    exec: fc.boolean(),
  }),
  fc.record({
    name: entryName,
    kind: fc.constant('tree' as const),
    id: objectId,
    size,
    files: fc.oneof(fc.nat({ max: 10 }), fc.bigInt({ min: 0n, max: 2n ** 40n }).map(Number)),
    exec: fc.constant(false),
  }),
);

const tree = fc.uniqueArray(treeEntry, { selector: (e) => e.name, maxLength: 20 }).map(sortEntries);

const chunkList: fc.Arbitrary<ChunkList> = fc
  .array(fc.record({ id: objectId, size: fc.oneof(fc.integer({ min: 1, max: 1 << 20 }), fc.integer({ min: 1, max: MAX_CHUNK_LIMIT })) }), {
    maxLength: 30,
  })
  .map((chunks) => ({ size: chunks.reduce((n, c) => n + c.size, 0), chunks }));

const oneLine = fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => !/[\n\r\0]/.test(s));

const commit: fc.Arbitrary<Commit> = fc
  .record(
    {
      tree: objectId,
      parents: fc.array(objectId, { maxLength: 3 }),
      author: oneLine,
      time: fc.oneof(fc.nat(), fc.maxSafeNat()),
      git: fc.stringMatching(/^[0-9a-f]{40}$/),
      record: objectId,
      datasets: fc.uniqueArray(fc.oneof(fc.constant(''), fc.array(entryName, { minLength: 1, maxLength: 3 }).map((p) => p.join('/'))), { maxLength: 4 }).map((d) => d.sort()),
      message: fc.oneof(
        fc.string({ unit: 'grapheme', maxLength: 60 }),
        fc.array(fc.constantFrom('Add data', '', ' ', '\t', 'line two  ', 'é\u{1F600}', '\r'), { maxLength: 6 }).map((l) => l.join('\n')),
      ),
    },
    { requiredKeys: ['tree', 'parents', 'author', 'time', 'datasets', 'message'] },
  );

// ---------------------------------------------------------------- raw tree bytes

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

interface RawEntry {
  kind?: number;
  flags?: number;
  size?: number;
  files?: number;
  id?: string;
  name: string | Uint8Array;
}

const ID_A = sha256(Buffer.from('a'));

/**
 * rawTree writes tree bytes by hand, straight from the format description in
 * encoding.ts, so the decoder can be fed what encodeTree would never produce.
 */
function rawTree(entries: RawEntry[], opts: { count?: number; version?: number; trailing?: number[] } = {}): Buffer {
  const bytes: number[] = [...Buffer.from('LODT', 'latin1'), opts.version ?? 1, ...varint(opts.count ?? entries.length)];
  for (const e of entries) {
    const kind = e.kind ?? 0x62;
    bytes.push(kind, e.flags ?? 0, ...varint(e.size ?? 0));
    if (kind === 0x74) bytes.push(...varint(e.files ?? 0));
    bytes.push(...Buffer.from(e.id ?? ID_A, 'hex'));
    const name = typeof e.name === 'string' ? Buffer.from(e.name, 'utf8') : e.name;
    bytes.push(...varint(name.length), ...name);
  }
  bytes.push(...(opts.trailing ?? []));
  return Buffer.from(bytes);
}

function expectCorrupt(decode: () => unknown, why?: RegExp): void {
  let caught: unknown;
  try {
    decode();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(CorruptObjectError);
  if (why) expect((caught as Error).message).toMatch(why);
}

const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 });

/**
 * rejectsOrCanonical: after overwriting a few bytes of a valid encoding, `decode`
 * either throws CorruptObjectError or accepted bytes that `encode` writes back
 * identically, so no object has a second encoding (and so a second ID).
 */
function rejectsOrCanonical<T>(valid: fc.Arbitrary<T>, encode: (x: T) => Buffer, decode: (b: Buffer) => T, numRuns = 500): void {
  fc.assert(
    fc.property(valid, edits, (x, changes) => {
      const bytes = Buffer.from(encode(x));
      for (const [pos, value] of changes) bytes[pos % bytes.length] = value;
      let back: T;
      try {
        back = decode(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(CorruptObjectError);
        return;
      }
      expect(encode(back).equals(bytes)).toBe(true);
    }),
    { numRuns },
  );
}

// ---------------------------------------------------------------- round trips

describe('round trips', () => {
  it('decodeTree(encodeTree(t)) equals t, and the bytes re-encode identically', () => {
    fc.assert(
      fc.property(tree, (entries) => {
        const bytes = encodeTree(entries);
        expect(isTreeEncoding(bytes)).toBe(true);
        const back = decodeTree(bytes);
        expect(back).toEqual(entries);
        expect(encodeTree(back).equals(bytes)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('decodeChunkList(encodeChunkList(l)) equals l, and the bytes re-encode identically', () => {
    fc.assert(
      fc.property(chunkList, (list) => {
        const bytes = encodeChunkList(list);
        const back = decodeChunkList(bytes);
        expect(back).toEqual(list);
        expect(encodeChunkList(back).equals(bytes)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('decodeCommit(encodeCommit(c)) equals c with its message normalised, and the bytes re-encode identically', () => {
    fc.assert(
      fc.property(commit, (c) => {
        const bytes = encodeCommit(c);
        expect(isCommitEncoding(bytes)).toBe(true);
        const back = decodeCommit(bytes);
        expect(back).toStrictEqual({ ...c, message: normaliseMessage(c.message) });
        expect(encodeCommit(back).equals(bytes)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('normaliseMessage is idempotent and ends in exactly one newline unless empty', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (m) => {
        const n = normaliseMessage(m);
        expect(normaliseMessage(n)).toBe(n);
        if (n !== '') expect(n).toMatch(/\S\n$/u);
      }),
    );
  });

  it('encodeCommit sorts datasets itself', () => {
    const c: Commit = { tree: ID_A, parents: [], author: 'a', time: 1, datasets: ['b', 'a'], message: 'm' };
    expect(decodeCommit(encodeCommit(c)).datasets).toEqual(['a', 'b']);
  });
});

// ---------------------------------------------------------------- encoders refuse

describe('encoders refuse what they could not decode', () => {
  const file = (name: string): TreeEntry => ({ name, kind: 'blob', id: ID_A, size: 1, files: 1, exec: false });

  it('encodeTree refuses unsorted, duplicate and unsafe names and bad IDs', () => {
    expect(() => encodeTree([file('b'), file('a')])).toThrow(RangeError);
    expect(() => encodeTree([file('a'), file('a')])).toThrow(RangeError);
    for (const bad of ['', '.', '..', 'a/b', 'a\\b', 'a\0b']) expect(() => encodeTree([file(bad)])).toThrow(RangeError);
    expect(() => encodeTree([{ ...file('a'), id: ID_A.slice(1) }])).toThrow(RangeError);
    expect(() => encodeTree([{ ...file('a'), id: `${ID_A.slice(0, 63)}g` }])).toThrow(RangeError);
    expect(() => encodeTree([{ ...file('a'), id: `z${ID_A.slice(1)}` }])).toThrow(RangeError);
    expect(() => encodeTree([{ ...file('a'), size: -1 }])).toThrow(RangeError);
    expect(() => encodeTree([{ ...file('a'), size: 2 ** 53 }])).toThrow(RangeError);
  });

  it('encodeChunkList refuses empty chunks and sizes that do not add up', () => {
    expect(() => encodeChunkList({ size: 0, chunks: [{ id: ID_A, size: 0 }] })).toThrow(RangeError);
    expect(() => encodeChunkList({ size: 5, chunks: [{ id: ID_A, size: 4 }] })).toThrow(RangeError);
  });

  it('encodeCommit refuses multi-line header values and bad times', () => {
    const c: Commit = { tree: ID_A, parents: [], author: 'a', time: 1, datasets: [], message: '' };
    expect(() => encodeCommit({ ...c, author: 'a\nparent x' })).toThrow(RangeError);
    expect(() => encodeCommit({ ...c, git: 'a\rb' })).toThrow(RangeError);
    expect(() => encodeCommit({ ...c, datasets: ['a\0'] })).toThrow(RangeError);
    for (const d of ['../outside', '/etc', '.lode', 'a/.git', 'x/', 'a//b']) expect(() => encodeCommit({ ...c, datasets: [d] }), d).toThrow(RangeError);
    expect(() => encodeCommit({ ...c, time: -1 })).toThrow(RangeError);
    expect(() => encodeCommit({ ...c, time: 1.5 })).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------- decoders reject

describe('decodeTree rejects', () => {
  const sample: TreeEntry[] = sortEntries([
    { name: 'a', kind: 'blob', id: ID_A, size: 5, files: 1, exec: true },
    { name: 'dir', kind: 'tree', id: sha256(Buffer.from('d')), size: 2 ** 33, files: 300, exec: false },
    { name: 'é.bin', kind: 'chunked', id: sha256(Buffer.from('c')), size: 70_000, files: 1, exec: false },
  ]);

  it('the hand-built bytes of a valid tree, so the cases below fail for their own reason', () => {
    const raw = rawTree([
      { name: 'a', flags: 1, size: 5 },
      { name: 'dir', kind: 0x74, size: 2 ** 33, files: 300, id: sample[1].id },
      { name: 'é.bin', kind: 0x63, size: 70_000, id: sample[2].id },
    ]);
    expect(raw.equals(encodeTree(sample))).toBe(true);
    expect(decodeTree(raw)).toEqual(sample);
  });

  it('every truncation of a valid encoding', () => {
    const bytes = encodeTree(sample);
    for (let n = 0; n < bytes.length; n++) expectCorrupt(() => decodeTree(bytes.subarray(0, n)));
  });

  it('trailing bytes', () => {
    expectCorrupt(() => decodeTree(Buffer.concat([encodeTree(sample), Buffer.from([0])])), /trailing/);
    expectCorrupt(() => decodeTree(rawTree([], { trailing: [0x62] })), /trailing/);
  });

  it('unsorted and duplicate names', () => {
    expectCorrupt(() => decodeTree(rawTree([{ name: 'b' }, { name: 'a' }])), /not sorted/);
    expectCorrupt(() => decodeTree(rawTree([{ name: 'a' }, { name: 'a' }])), /not sorted/);
    expectCorrupt(() => decodeTree(rawTree([{ name: 'a' }, { name: 'a', kind: 0x74 }])), /not sorted/);
    // Sorted by UTF-16 code units but not by UTF-8 bytes.
    expectCorrupt(() => decodeTree(rawTree([{ name: '\u{1F600}' }, { name: '\uFF21' }])), /not sorted/);
  });

  it('names that could escape the workspace or are not names at all', () => {
    for (const name of ['..', '.', 'a/b', '/etc', '../etc', 'a\\b', 'a\0b', '\0', 'a\nb', '', 'x'.repeat(256)]) {
      expectCorrupt(() => decodeTree(rawTree([{ name }])), /unsafe entry name/);
    }
    for (const name of ['.git', '.GIT', '.lode', '.git.', '.git ', 'git~1', '.g\u200cit', '.git::$INDEX_ALLOCATION']) {
      expectCorrupt(() => decodeTree(rawTree([{ name, kind: 0x74 }])), /unsafe entry name .*(\.git|\.lode)/);
    }
    expectCorrupt(() => decodeTree(rawTree([{ name: Uint8Array.from([0x61, 0xff]) }])), /not UTF-8/);
    expectCorrupt(() => decodeTree(rawTree([{ name: Uint8Array.from([0xed, 0xa0, 0x80]) }])), /not UTF-8/); // a lone surrogate
  });

  it('bad magic, version, kind or flags', () => {
    const good = encodeTree(sample);
    expectCorrupt(() => decodeTree(Buffer.concat([Buffer.from('LODC'), good.subarray(4)])), /not a tree/);
    expectCorrupt(() => decodeTree(rawTree([], { version: 2 })), /version/);
    expectCorrupt(() => decodeTree(rawTree([{ name: 'a', kind: 0x78 }])), /kind/);
    expectCorrupt(() => decodeTree(rawTree([{ name: 'a', flags: 2 }])), /flags/);
    expectCorrupt(() => decodeTree(rawTree([{ name: 'a', kind: 0x74, flags: 1 }])), /flags/);
  });

  it('non-canonical and oversized varints', () => {
    // Size 1 written as 0x81 0x00: a second encoding of the same tree.
    const canonical = rawTree([{ name: 'a', size: 1 }]);
    const at = 4 + 1 + 1 + 2; // magic, version, count, kind and flags
    expect(canonical[at]).toBe(1);
    const padded = Buffer.concat([canonical.subarray(0, at), Buffer.from([0x81, 0x00]), canonical.subarray(at + 1)]);
    expectCorrupt(() => decodeTree(padded), /non-canonical/);
    expectCorrupt(() => decodeTree(rawTree([{ name: 'a', size: 2 ** 53 }])), /too large/);
  });

  it('an entry count larger than the object could hold', () => {
    expectCorrupt(() => decodeTree(rawTree([{ name: 'a' }], { count: 2 })));
    expectCorrupt(() => decodeTree(rawTree([{ name: 'a' }], { count: 2 ** 40 })));
    expectCorrupt(() => decodeTree(rawTree([{ name: 'a' }], { count: 2 ** 32 })));
  });

  it('any corruption it does not reject, it decodes to the tree those bytes canonically encode', () => {
    rejectsOrCanonical(tree, encodeTree, decodeTree);
  });

  it('names the object in the error', () => {
    const id = sha256(Buffer.from('x'));
    try {
      decodeTree(Buffer.from('LODT'), id);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CorruptObjectError);
      expect((e as CorruptObjectError).objectId).toBe(id);
      expect((e as Error).message).toContain(id);
      expect((e as CorruptObjectError).code).toBe('CORRUPT');
    }
  });
});

describe('decodeChunkList rejects', () => {
  const list: ChunkList = { size: 300_000, chunks: [{ id: ID_A, size: 100_000 }, { id: sha256(Buffer.from('b')), size: 200_000 }] };
  const raw = (size: number, chunks: { size: number; id?: string }[], count = chunks.length) =>
    Buffer.from([
      ...Buffer.from('LODC', 'latin1'),
      1,
      ...varint(size),
      ...varint(count),
      ...chunks.flatMap((c) => [...varint(c.size), ...Buffer.from(c.id ?? ID_A, 'hex')]),
    ]);

  it('the hand-built bytes of a valid chunk list', () => {
    expect(raw(300_000, list.chunks).equals(encodeChunkList(list))).toBe(true);
  });

  it('every truncation of a valid encoding', () => {
    const bytes = encodeChunkList(list);
    for (let n = 0; n < bytes.length; n++) expectCorrupt(() => decodeChunkList(bytes.subarray(0, n)));
  });

  it('any corruption it does not reject, it decodes to the list those bytes canonically encode', () => {
    rejectsOrCanonical(chunkList, encodeChunkList, decodeChunkList);
  });

  it('trailing bytes, bad magic, sizes that do not add up, empty chunks, huge counts', () => {
    expectCorrupt(() => decodeChunkList(Buffer.concat([encodeChunkList(list), Buffer.from([0])])), /trailing/);
    expectCorrupt(() => decodeChunkList(encodeTree([])), /not a chunk list/);
    expectCorrupt(() => decodeChunkList(raw(10, [{ size: 4 }, { size: 5 }])), /add to 9/);
    expectCorrupt(() => decodeChunkList(raw(4, [{ size: 4 }, { size: 0 }])), /empty chunk/);
    expectCorrupt(() => decodeChunkList(raw(4, [{ size: 4 }], 2 ** 40)));
    expectCorrupt(() => decodeChunkList(raw(4, [{ size: 4 }], 2)), /count larger/);
  });

  it('a chunk larger than any chunk can be (a forged list declaring gigabytes)', () => {
    expectCorrupt(() => decodeChunkList(raw(3 * 2 ** 30 + 11, [{ size: 3 * 2 ** 30 }, { size: 11 }])), /chunk 0 declares 3221225472 bytes/);
    expect(decodeChunkList(raw(MAX_CHUNK_LIMIT + 1, [{ size: MAX_CHUNK_LIMIT }, { size: 1 }])).size).toBe(MAX_CHUNK_LIMIT + 1);
    expectCorrupt(() => decodeChunkList(raw(MAX_CHUNK_LIMIT + 2, [{ size: MAX_CHUNK_LIMIT + 1 }, { size: 1 }])), /more than a chunk/);
    expect(() => encodeChunkList({ size: MAX_CHUNK_LIMIT + 1, chunks: [{ id: ID_A, size: MAX_CHUNK_LIMIT + 1 }] })).toThrow(RangeError);
  });
});

describe('decodeCommit rejects', () => {
  const c: Commit = {
    tree: ID_A,
    parents: [sha256(Buffer.from('p1'))],
    author: 'Ada <ada@example.org>',
    time: 1_700_000_000_000,
    git: 'deadbeef',
    datasets: ['images', 'labels.csv'],
    message: 'Add images\n\nMore detail.\n',
  };
  const text = encodeCommit(c).toString('utf8');
  const edit = (from: string, to: string) => {
    expect(text).toContain(from);
    return Buffer.from(text.replace(from, to), 'utf8');
  };

  it('every truncation inside the header', () => {
    const bytes = encodeCommit(c);
    const headerEnd = text.indexOf('\n\n') + 1;
    for (let n = 0; n <= headerEnd; n++) expectCorrupt(() => decodeCommit(bytes.subarray(0, n)));
  });

  it('a truncated message, unless it is cut at a line end (only the object ID catches that)', () => {
    const bytes = encodeCommit(c);
    const bodyStart = text.indexOf('\n\n') + 2;
    for (let n = bodyStart + 1; n < bytes.length; n++) {
      const prefix = bytes.subarray(0, n);
      if (prefix[n - 1] === 0x0a && prefix[n - 2] !== 0x0a) expect(decodeCommit(prefix).message).toBe(prefix.subarray(bodyStart).toString());
      else expectCorrupt(() => decodeCommit(prefix));
    }
  });

  it('headers that are unknown, repeated, missing, malformed or out of order', () => {
    expectCorrupt(() => decodeCommit(edit('lode commit 1', 'lode commit 2')), /not a commit/);
    expectCorrupt(() => decodeCommit(edit('author ', 'colour blue\nauthor ')), /unknown header/);
    expectCorrupt(() => decodeCommit(edit(`tree ${ID_A}\n`, '')), /missing/);
    expectCorrupt(() => decodeCommit(edit(`tree ${ID_A}`, `tree ${ID_A.slice(1)}`)), /bad tree/);
    expectCorrupt(() => decodeCommit(edit(`tree ${ID_A}`, `tree ${ID_A}\ntree ${ID_A}`)), /bad tree/);
    expectCorrupt(() => decodeCommit(edit('parent ', 'parent X')), /bad parent/);
    expectCorrupt(() => decodeCommit(edit('author Ada', 'author Ada\nauthor Bob')), /two author/);
    expectCorrupt(() => decodeCommit(edit('git deadbeef', 'git deadbeef\ngit cafe')), /two git/);
    expectCorrupt(() => decodeCommit(edit('time 1700000000000', 'time -1')), /bad time/);
    expectCorrupt(() => decodeCommit(edit('time 1700000000000', 'time 1e12')), /bad time/);
    expectCorrupt(() => decodeCommit(edit('time 1700000000000\n', '')), /missing/);
    expectCorrupt(() => decodeCommit(edit('dataset labels.csv', `dataset labels.csv\nparent ${ID_A}`)), /out of order/);
    expectCorrupt(() => decodeCommit(edit(`tree ${ID_A}\nparent`, `parent ${ID_A}\ntree ${ID_A}\nparent`)), /out of order/);
    expectCorrupt(() => decodeCommit(edit('author', 'author\nnospace')), /bad header line/);
    expectCorrupt(() => decodeCommit(Buffer.from(text.replace('\n\n', '\n'))), /blank line|bad header|unknown header/);
  });

  it('any corruption it does not reject, it decodes to the commit those bytes canonically encode', () => {
    rejectsOrCanonical(commit, encodeCommit, decodeCommit, 1000);
  });

  it('dataset paths that leave the workspace or name git or lode metadata', () => {
    for (const d of ['../outside', '/etc', '.lode', '.git', 'data/.GIT', 'sub/git~1', 'a//b', 'x/']) {
      expectCorrupt(() => decodeCommit(edit('dataset images\n', `dataset ${d}\n`)), /unsafe dataset path/);
    }
  });

  it('bytes that are not UTF-8', () => {
    expectCorrupt(() => decodeCommit(Buffer.concat([encodeCommit(c), Buffer.from([0xff])])), /UTF-8/);
  });

  it('encodings encodeCommit would never write', () => {
    // A second encoding of one commit would give it a second ID.
    expectCorrupt(() => decodeCommit(edit('time 1700000000000', 'time 01700000000000')));
    expectCorrupt(() => decodeCommit(edit('dataset images\ndataset labels.csv', 'dataset labels.csv\ndataset images')));
    expectCorrupt(() => decodeCommit(edit('More detail.\n', 'More detail.')));
    expectCorrupt(() => decodeCommit(edit('More detail.\n', 'More detail.  \n')));
    expectCorrupt(() => decodeCommit(edit('Ada', 'Ada\r')));
    // A time over 2^53 cannot be held exactly, so it could not be written back.
    expectCorrupt(() => decodeCommit(edit('time 1700000000000', 'time 9999999999999999')));
  });
});

// ---------------------------------------------------------------- golden fixture

interface GoldenCase<T> {
  input: T;
  hex: string;
  id: string;
}

interface Golden {
  note: string;
  emptyTree: { hex: string; id: string };
  tree: GoldenCase<TreeEntry[]>;
  chunkList: GoldenCase<ChunkList>;
  commit: GoldenCase<Commit>;
}

const idOf = (label: string) => sha256(Buffer.from(`lode golden: ${label}`));

function goldenInputs(): { tree: TreeEntry[]; chunkList: ChunkList; commit: Commit } {
  const chunkList: ChunkList = {
    size: 3 * 2 ** 20 + 12_345,
    chunks: [
      { id: idOf('chunk 1'), size: 2 ** 20 },
      { id: idOf('chunk 2'), size: 2 * 2 ** 20 },
      { id: idOf('chunk 3'), size: 12_345 },
    ],
  };
  const tree: TreeEntry[] = [
    { name: 'big.bin', kind: 'chunked', id: sha256(encodeChunkList(chunkList)), size: chunkList.size, files: 1, exec: false },
    { name: 'images', kind: 'tree', id: idOf('images tree'), size: 5 * 2 ** 32 + 7, files: 1_000, exec: false },
    { name: 'run.sh', kind: 'blob', id: idOf('run.sh'), size: 120, files: 1, exec: true },
  ];
  const commit: Commit = {
    tree: sha256(encodeTree(tree)),
    parents: [idOf('parent 1'), idOf('parent 2')],
    author: 'Ada Lovelace <ada@example.org>',
    time: 1_700_000_000_123,
    git: '0123456789abcdef0123456789abcdef01234567',
    datasets: ['images', 'labels.csv'],
    message: 'Merge the 2024 capture\n\nImages from camera B, relabelled.\n',
  };
  return { tree, chunkList, commit };
}

function computeGolden(): Golden {
  const { tree, chunkList, commit } = goldenInputs();
  const pin = <T>(input: T, bytes: Buffer): GoldenCase<T> => ({ input, hex: bytes.toString('hex'), id: sha256(bytes) });
  const empty = encodeTree([]);
  return {
    note:
      'Pins the encodings of src/core/encoding.ts: an object ID is the SHA-256 of these bytes, so a mismatch ' +
      'means existing repositories would no longer verify or deduplicate. Regenerate only for a deliberate ' +
      'format change: LODE_UPDATE_GOLDEN=1 npx vitest run src/core/encoding.test.ts',
    emptyTree: { hex: empty.toString('hex'), id: sha256(empty) },
    tree: pin(tree, encodeTree(tree)),
    chunkList: pin(chunkList, encodeChunkList(chunkList)),
    commit: pin(commit, encodeCommit(commit)),
  };
}

describe('golden fixture', () => {
  if (process.env.LODE_UPDATE_GOLDEN === '1') {
    writeFileSync(GOLDEN_URL, JSON.stringify(computeGolden(), null, 2) + '\n');
  }
  const golden = JSON.parse(readFileSync(GOLDEN_URL, 'utf8')) as Golden;

  it('pins the inputs the fixture was made from', () => {
    const inputs = goldenInputs();
    expect(golden.tree.input).toEqual(inputs.tree);
    expect(golden.chunkList.input).toEqual(inputs.chunkList);
    expect(golden.commit.input).toEqual(inputs.commit);
  });

  it('pins the empty tree', () => {
    const bytes = encodeTree([]);
    expect(bytes.toString('hex')).toBe(golden.emptyTree.hex);
    expect(sha256(bytes)).toBe(golden.emptyTree.id);
    expect(EMPTY_TREE).toBe(golden.emptyTree.id);
  });

  it('pins a tree with a chunked file, a subtree and an executable', () => {
    const bytes = encodeTree(golden.tree.input);
    expect(bytes.toString('hex')).toBe(golden.tree.hex);
    expect(sha256(bytes)).toBe(golden.tree.id);
    expect(decodeTree(Buffer.from(golden.tree.hex, 'hex'))).toEqual(golden.tree.input);
  });

  it('pins a chunk list', () => {
    const bytes = encodeChunkList(golden.chunkList.input);
    expect(bytes.toString('hex')).toBe(golden.chunkList.hex);
    expect(sha256(bytes)).toBe(golden.chunkList.id);
    expect(golden.tree.input[0].id).toBe(golden.chunkList.id);
    expect(decodeChunkList(Buffer.from(golden.chunkList.hex, 'hex'))).toEqual(golden.chunkList.input);
  });

  it('pins a merge commit with a git line, two datasets and a multi-line message', () => {
    const bytes = encodeCommit(golden.commit.input);
    expect(bytes.toString('hex')).toBe(golden.commit.hex);
    expect(sha256(bytes)).toBe(golden.commit.id);
    expect(golden.commit.input.tree).toBe(golden.tree.id);
    expect(decodeCommit(Buffer.from(golden.commit.hex, 'hex'))).toStrictEqual(golden.commit.input);
  });
});
