import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvReader, parseRecord } from './csv.js';
import { diffTable } from './diff.js';
import type { Batch, TableReader } from './reader.js';
import { SideScanner, type ScanConfig } from './scan.js';
import type { TableInput } from './types.js';
import { kindOfBytes, kindOfText, textNumber } from './values.js';

/**
 * The byte-level fast paths (CSV cells as byte ranges, kinds and numbers read
 * from bytes) against the plain string path they replace: same statistics,
 * same row matching, whatever the quoting and line endings.
 */

let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-tabular-cells-'));
  fs.mkdirSync(path.join(dir, 'tmp'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function write(content: string): TableInput {
  const file = path.join(dir, `t${fileNo++}.csv`);
  fs.writeFileSync(file, content);
  return { file, size: fs.statSync(file).size, label: path.basename(file) };
}

/** Cell texts that probe number, date and boolean inference at their edges. */
const ODD_CELLS = [
  '', '0', '-0', '+0', '12', ' 12', '12 ', '1e3', '1E-3', '1e', '1e+', '-1.5e+10', '.5', '5.', '.', '-', '+', '-.', '0x10', '0b1', 'NaN', 'nan',
  'Infinity', '-Infinity', 'true', 'TRUE', 'True', 'false', 'FALSE', 'fals', 'truee', '1234567890123456', '12345678901234567890', '0.1234567890123456789',
  '00012', '1,5', '1.2.3', '2024-01-31', '2024-13-01', '2024-02-30', '2024-01-31T10:00', '2024-01-31 10:00', '2024-01-31x', '2024-1-31', 'é', 'ñ12', '12é',
  '日本', 'a"b', '"', 'a\nb', 'a\r\nb', 'x,y', 'cat', 'dog',
];

const cellArb = fc.oneof(fc.constantFrom(...ODD_CELLS), fc.string({ maxLength: 6 }), fc.double({ noNaN: false }).map(String), fc.integer().map(String));

describe('kindOfBytes', () => {
  it('infers the kind and number that kindOfText infers', () => {
    fc.assert(
      fc.property(cellArb, (s) => {
        fc.pre(s !== '');
        const kt = kindOfText(s);
        const nt = textNumber;
        const b = Buffer.from(`,${s},`, 'utf8');
        const kb = kindOfBytes(b, 1, b.length - 1);
        expect(kb).toBe(kt);
        if ((kt & 3) !== 0) expect(Object.is(textNumber, nt)).toBe(true);
      }),
      { numRuns: 2000 },
    );
    for (const s of ODD_CELLS.filter((x) => x !== '')) {
      const kt = kindOfText(s);
      const b = Buffer.from(s, 'utf8');
      expect([s, kindOfBytes(b, 0, b.length)]).toEqual([s, kt]);
    }
  });
});

/** A table as cell texts, and how to write it: which cells get quoted, and the line ending. */
const tableArb = fc
  .integer({ min: 1, max: 4 })
  .chain((ncols) =>
    fc.record({
      header: fc.constant(Array.from({ length: ncols }, (_, i) => `c${i}`)),
      rows: fc.array(fc.array(cellArb, { minLength: ncols, maxLength: ncols }), { maxLength: 30 }),
      quoteAll: fc.double({ min: 0, max: 1, noNaN: true }),
      crlf: fc.boolean(),
      finalNewline: fc.boolean(),
      seed: fc.integer(),
    }),
  );

type Table = { header: string[]; rows: string[][]; quoteAll: number; crlf: boolean; finalNewline: boolean; seed: number };

/** serialize writes a table as CSV; cells that need it are always quoted, others with probability quoteAll. */
function serialize(t: Table, quoteAll = t.quoteAll, seed = t.seed): string {
  let s = seed >>> 0;
  const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
  const cell = (v: string, only: boolean) => {
    const needs = /[",\r\n]/.test(v) || (only && v === '') || v.trim() !== v;
    return needs || rand() < quoteAll ? `"${v.replace(/"/g, '""')}"` : v;
  };
  const eol = t.crlf ? '\r\n' : '\n';
  // A row whose only cell is empty must be quoted, or it would be a blank line.
  const lines = [t.header, ...t.rows].map((r) => r.map((v) => cell(v, r.length === 1)).join(','));
  return lines.join(eol) + (t.finalNewline ? eol : '');
}

const config = (input: TableInput, key: string[] | null): ScanConfig => ({
  format: 'csv',
  input,
  key,
  rowHash: 'line',
  hashed: null,
  stats: true,
  categoryLimit: 5,
  layout: { parts: 1, capacity: 1 << 16, dir: path.join(dir, 'tmp'), tag: `s${fileNo++}` },
});

/** referenceReader parses the whole text with parseRecord and hands the cells as strings, as readers did before cells were bytes. */
function referenceReader(text: string): TableReader {
  const records: string[][] = [];
  let pos = 0;
  while (pos < text.length) {
    const rec = parseRecord(text, pos, true, 44, true)!;
    pos = rec.end;
    records.push(rec.fields);
  }
  const [columns, ...rows] = records;
  const data = rows.filter((r) => !(r.length === 1 && r[0] === '' && columns.length > 1));
  return {
    format: 'csv',
    label: 'reference',
    columns,
    headerFirst: true,
    untyped: true,
    estimateRows: () => data.length,
    async scan(onBatch: (b: Batch) => void) {
      const n = data.length;
      onBatch({ n, firstRow: 1, columns: columns.map((_, c) => data.map((r) => r[c])), positions: new Float64Array(n), rowHashes: new Uint32Array(2 * n) });
    },
    fetch: async () => {},
    adopt: () => {},
    close: async () => {},
  };
}

async function summaries(reader: TableReader, input: TableInput) {
  const scanner = new SideScanner(reader, config(input, null));
  await reader.scan((b) => scanner.onBatch(b), { rowHashes: true });
  const r = scanner.result();
  return { rows: r.rows, columns: r.columns, summaries: r.summaries!.map((s) => ({ ...s, categories: s.categories && [...s.categories].sort() })) };
}

describe('CSV cells as bytes', () => {
  it('give the statistics that strings give, whatever the quoting', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, async (t) => {
        const text = serialize(t);
        const input = write(text);
        const reader = await CsvReader.open(input, 'csv');
        try {
          const fast = await summaries(reader, input);
          const slow = await summaries(referenceReader(text), input);
          expect(fast).toEqual(slow);
        } finally {
          await reader.close();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('match rows across sides by their values, not by how they are quoted', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean(), async (t, quoteOther, crlfOther) => {
        const a = write(serialize(t));
        const b = write(serialize({ ...t, crlf: crlfOther }, quoteOther, t.seed + 1));
        for (const key of [null, ['c0']]) {
          // Keyed diffs need unique keys.
          if (key && new Set(t.rows.map((r) => r[0])).size !== t.rows.length) continue;
          const d = await diffTable('t.csv', 'csv', a, b, { tmpDir: path.join(dir, 'tmp'), key: key ?? undefined, categoryLimit: 5 });
          expect(d.rows).toEqual({ before: t.rows.length, after: t.rows.length, added: 0, removed: 0, modified: 0, unchanged: t.rows.length });
          expect(d.columns).toEqual([]);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('tell apart rows that differ in one cell, however they are quoted', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, fc.nat(), cellArb, async (t, at, value) => {
        fc.pre(t.rows.length > 0);
        const r = at % t.rows.length;
        const c = Math.floor(at / t.rows.length) % t.header.length;
        fc.pre(t.rows[r][c] !== value);
        const rows = t.rows.map((row) => [...row]);
        rows[r][c] = value;
        // A row of one empty cell and an empty row are the same thing only when the table has one column.
        const a = write(serialize(t));
        const b = write(serialize({ ...t, rows }, 0.5, t.seed + 7));
        const d = await diffTable('t.csv', 'csv', a, b, { tmpDir: path.join(dir, 'tmp'), autoKey: false });
        expect(d.rows.added).toBe(1);
        expect(d.rows.removed).toBe(1);
      }),
      { numRuns: 150 },
    );
  });
});

describe('CSV records across chunk boundaries', () => {
  it('give the statistics that strings give in a file of several chunks', async () => {
    const rows: string[][] = [];
    let size = 0;
    for (let i = 0; size < 2.5 * (1 << 20); i++) {
      // Every 7th row has a quoted cell with line breaks and quotes, some of them astride a 1 MiB chunk boundary.
      const note = i % 7 === 0 ? `line one\nline "two"\r\nthree ${i}` : `n${i % 13}`;
      const row = [String(i), i % 3 === 0 ? '' : (i * 0.25).toFixed(2), note, i % 11 === 0 ? 'é' : 'x'];
      rows.push(row);
      size += 40;
    }
    const text = serialize({ header: ['id', 'x', 'note', 'y'], rows, quoteAll: 0.1, crlf: true, finalNewline: true, seed: 5 });
    const input = write(text);
    const reader = await CsvReader.open(input, 'csv');
    try {
      expect(await summaries(reader, input)).toEqual(await summaries(referenceReader(text), input));
    } finally {
      await reader.close();
    }
  });
});

describe('typed Parquet columns', () => {
  /** tableReader hands fixed columns, typed or not, as batches of rows. */
  function tableReader(columns: string[], batches: ArrayLike<unknown>[][]): TableReader {
    const n = (b: ArrayLike<unknown>[]) => b[0].length;
    return {
      format: 'parquet',
      label: 'typed',
      columns,
      headerFirst: true,
      untyped: false,
      estimateRows: () => batches.reduce((t, b) => t + n(b), 0),
      async scan(onBatch: (b: Batch) => void) {
        let first = 1;
        for (const b of batches) {
          onBatch({ n: n(b), firstRow: first, columns: b, positions: new Float64Array(n(b)) });
          first += n(b);
        }
      },
      fetch: async () => {},
      adopt: () => {},
      close: async () => {},
    };
  }

  async function scanOf(reader: TableReader) {
    const cfg: ScanConfig = { ...config(write(''), ['k']), format: 'parquet', rowHash: 'columns' };
    const scanner = new SideScanner(reader, cfg);
    await reader.scan((b) => scanner.onBatch(b));
    const r = scanner.result();
    // Categories in any order: the diff sorts them.
    return { summaries: r.summaries!.map((x) => ({ ...x, categories: x.categories && [...x.categories].sort() })), index: [...r.index.memory[0]] };
  }

  it('give the statistics and hashes that plain values give', async () => {
    const big = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: -(2n ** 53n) - 2n, max: 2n ** 53n + 2n }), fc.constantFrom(0n, -1n, 1n, 5n));
    const dbl = fc.oneof(fc.double(), fc.constantFrom(0, -0, 1, 2, NaN, Infinity, 0.5));
    const i32 = fc.oneof(fc.integer(), fc.constantFrom(0, 1, 2, 3));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(big, dbl, i32), { minLength: 1, maxLength: 40 }), async (rows) => {
        const n = rows.length;
        const keys = rows.map((_, i) => BigInt(i));
        const names = ['k', 'b', 'd', 'i'];
        const typed = [BigInt64Array.from(keys), BigInt64Array.from(rows.map((r) => r[0])), Float64Array.from(rows.map((r) => r[1])), Int32Array.from(rows.map((r) => r[2]))];
        // A last row of nulls keeps the plain arrays off every fast path: they take the general one, value by value.
        const nulls = [[BigInt(n)], [null], [null], [null]];
        const plain = [[...keys, BigInt(n)], [...rows.map((r) => r[0]), null], [...rows.map((r) => r[1]), null], [...rows.map((r) => r[2]), null]];
        const numbers = [keys, rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])];
        const expected = await scanOf(tableReader(names, [plain]));
        expect(await scanOf(tableReader(names, [typed, nulls]))).toEqual(expected);
        // Plain arrays of numbers (as hyparquet gives some INT32 columns) take the typed path too.
        expect(await scanOf(tableReader(names, [numbers, nulls]))).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('hash every NaN alike, whatever its payload bits', async () => {
    const odd = new Float64Array(3);
    new Uint32Array(odd.buffer).set([1, 0x7ff80000, 0, 0xfff80000, 5, 0x7ff00000]);
    expect(odd.every((x) => Number.isNaN(x))).toBe(true);
    const keys = BigInt64Array.from([1n, 2n, 3n]);
    const names = ['k', 'd'];
    expect(await scanOf(tableReader(names, [[keys, odd], [[4n], [null]]]))).toEqual(await scanOf(tableReader(names, [[[1n, 2n, 3n, 4n], [NaN, NaN, NaN, null]]])));
  });
});
