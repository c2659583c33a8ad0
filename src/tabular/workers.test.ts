import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { tempTables } from './fixtures.test-support.js';
import type { TableDiff, TableDiffOptions, TableFormat, TableInput } from './index.js';


const t = tempTables('workers');
// The worker script exists only in the build: this test runs the compiled module (`npx tsc -p .` first).
const built = new URL('../../dist/tabular/index.js', import.meta.url);
const builtThreads = new URL('../../dist/tabular/scan-threads.js', import.meta.url);
const haveBuild = fs.existsSync(fileURLToPath(built));

type Built = {
  diffTable: (p: string, f: TableFormat, b: TableInput | null, a: TableInput | null, o: TableDiffOptions) => Promise<TableDiff>;
  TableError: new (...args: never[]) => Error;
};
type Jobs = { scans: number; cells: number; threadIds: Set<number> };

/** ran runs `f` and returns the jobs worker threads completed meanwhile, and the threads they ran on. */
async function ran<T>(jobs: Jobs, f: () => Promise<T>): Promise<{ value: T; scans: number; cells: number; threads: number[] }> {
  const scans = jobs.scans;
  const cells = jobs.cells;
  jobs.threadIds.clear();
  const value = await f();
  return { value, scans: jobs.scans - scans, cells: jobs.cells - cells, threads: [...jobs.threadIds] };
}

describe.skipIf(!haveBuild)('scans on worker threads', () => {
  it('give the same diff as inline scans, and pass errors back intact', async () => {
    const m = (await import(built.href)) as Built;
    const { workerJobs } = (await import(builtThreads.href)) as { workerJobs: Jobs };
    const rows = (edit: boolean) =>
      'id,label,x\n' + Array.from({ length: 20000 }, (_, i) => `${i},${edit && i % 100 === 0 ? 'new' : ['a', 'b'][i % 2]},${i % 13}`).join('\n') + '\n';
    const a = t.write('w1.csv', rows(false));
    const b = t.write('w2.csv', rows(true));
    const options = { tmpDir: t.tmp(), key: ['id'], rows: true, limit: 5 };
    const inline = await ran(workerJobs, () => m.diffTable('t', 'csv', a, b, { ...options, parallel: false }));
    const threaded = await ran(workerJobs, () => m.diffTable('t', 'csv', a, b, { ...options, parallel: true }));
    expect(threaded.value).toEqual(inline.value);
    expect(inline.value.rows.modified).toBe(200);
    // The inline diff used no worker; the threaded one scanned each side on a thread other than this one.
    expect([inline.scans, inline.cells]).toEqual([0, 0]);
    expect(threaded.scans).toBe(2);
    expect(threaded.threads.length).toBe(2);
    expect(threaded.threads).not.toContain(threadId);

    // A TableError thrown on a worker arrives as the class this thread knows, with every field the inline one has.
    const bad = t.write('w3.csv', 'id,label,x\n1,a,1\n2,b\n');
    const fail = (parallel: boolean) =>
      m.diffTable('t', 'csv', a, bad, { ...options, parallel }).then(
        () => expect.fail('the diff should fail'),
        (e: unknown) => e as Error & { code: string; hint: string },
      );
    const inlineErr = await fail(false);
    const err = await fail(true);
    expect(err).toBeInstanceOf(m.TableError);
    expect(inlineErr).toBeInstanceOf(m.TableError);
    expect(err).toMatchObject({ code: 'CORRUPT', row: 2 });
    expect(err.message).toContain('w3.csv at test: row 2: has 2 fields');
    expect({ ...err, message: err.message }).toEqual({ ...inlineErr, message: inlineErr.message });
    expect(err.hint).toBeTruthy();
    // It was thrown there: its stack is the worker's.
    expect(err.stack).toContain('scan-worker.js');
    expect(inlineErr.stack).not.toContain('scan-worker.js');
  });

  it('read modified rows again on worker threads with the same counts as inline, for CSV and Parquet', async () => {
    const m = (await import(built.href)) as Built;
    const { workerJobs } = (await import(builtThreads.href)) as { workerJobs: Jobs };
    const { parquetWriteFile } = await import('hyparquet-writer');
    const n = 30000;
    // Every 4th row modified (more than enough to use workers), in one of two columns; quoting alone changes some others.
    const label = (i: number, edit: boolean) => (edit && i % 4 === 0 ? 'new' : ['a', 'b'][i % 2]);
    const x = (i: number, edit: boolean) => (edit && i % 8 === 1 ? i % 13 + 0.5 : i % 13);
    const csv = (edit: boolean) =>
      'id,label,x\n' + Array.from({ length: n }, (_, i) => `${i},${edit && i % 10 === 3 ? `"${label(i, edit)}"` : label(i, edit)},${x(i, edit)}`).join('\n') + '\n';
    const options = { tmpDir: t.tmp(), key: ['id'], rows: true, limit: 5 };
    const a = t.write('m1.csv', csv(false));
    const b = t.write('m2.csv', csv(true));
    const inline = await m.diffTable('t', 'csv', a, b, { ...options, parallel: false });
    const threaded = await ran(workerJobs, () => m.diffTable('t', 'csv', a, b, { ...options, parallel: true }));
    expect(threaded.value).toEqual(inline);
    // Both sides' modified rows were read again on worker threads, not here.
    expect(threaded.cells).toBeGreaterThanOrEqual(2);
    expect(threaded.threads).not.toContain(threadId);
    expect(inline.rows.modified).toBe(n / 4 + n / 8);
    expect(inline.columns.map((c) => [c.name, c.changedCells])).toEqual([
      ['label', n / 4],
      ['x', n / 8],
    ]);
    const pq = (name: string, edit: boolean) => {
      const file = path.join(t.dir(), name);
      const ids = Array.from({ length: n }, (_, i) => BigInt(i));
      parquetWriteFile({
        filename: file,
        columnData: [
          { name: 'id', data: ids, type: 'INT64' },
          { name: 'label', data: ids.map((_, i) => label(i, edit)), type: 'STRING' },
          { name: 'x', data: ids.map((_, i) => x(i, edit)), type: 'DOUBLE' },
        ],
        rowGroupSize: 7000,
      });
      return { file, size: fs.statSync(file).size, label: `${name} at test` };
    };
    const pa = pq('m1.parquet', false);
    const pb = pq('m2.parquet', true);
    const pInline = await m.diffTable('t', 'parquet', pa, pb, { ...options, parallel: false });
    const pThreaded = await ran(workerJobs, () => m.diffTable('t', 'parquet', pa, pb, { ...options, parallel: true }));
    expect(pThreaded.value).toEqual(pInline);
    expect(pThreaded.scans).toBe(2);
    expect(pThreaded.threads).not.toContain(threadId);
    expect(pInline.columns.map((c) => [c.name, c.changedCells])).toEqual([
      ['label', n / 4],
      ['x', n / 8],
    ]);
  });

  it('report the same progress from worker threads as inline: rows of every pass, bytes up to both sizes, never going back', async () => {
    const m = (await import(built.href)) as Built;
    const { parquetWriteFile } = await import('hyparquet-writer');
    const n = 24000;
    const pq = (name: string, edit: boolean) => {
      const file = path.join(t.dir(), name);
      const ids = Array.from({ length: n }, (_, i) => BigInt(i));
      parquetWriteFile({
        filename: file,
        columnData: [
          { name: 'id', data: ids, type: 'INT64' },
          { name: 'x', data: ids.map((_, i) => (edit && i % 5 === 0 ? i + 0.5 : i)), type: 'DOUBLE' },
        ],
        rowGroupSize: 3000, // eight row groups: several progress reports per side
      });
      return { file, size: fs.statSync(file).size, label: `${name} at test` };
    };
    const a = pq('p1.parquet', false);
    const b = pq('p2.parquet', true);
    const run = async (parallel: boolean) => {
      const seen: { rows: number; bytes: number }[] = [];
      const diff = await m.diffTable('t', 'parquet', a, b, { tmpDir: t.tmp(), key: ['id'], parallel, progress: (p) => seen.push(p) });
      return { diff, seen };
    };
    const inline = await run(false);
    const threaded = await run(true);
    expect(threaded.diff).toEqual(inline.diff);
    expect(inline.diff.rows.modified).toBe(n / 5);
    for (const { seen } of [inline, threaded]) {
      expect(seen.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < seen.length; i++) {
        expect(seen[i].rows).toBeGreaterThanOrEqual(seen[i - 1].rows);
        expect(seen[i].bytes).toBeGreaterThanOrEqual(seen[i - 1].bytes);
      }
      // One keyed pass over both sides: every row once, every byte of both inputs.
      expect(seen[seen.length - 1]).toEqual({ rows: 2 * n, bytes: a.size + b.size });
    }
    // Inline, the first side's rows arrive in row-group steps: progress came before the scan ended.
    expect(inline.seen.some((p) => p.rows > 0 && p.rows < n)).toBe(true);
  });

  it('give the exact Parquet diff from worker threads and inline: nulls, dictionaries of up to 17 bits, row groups, multibyte text', async () => {
    const m = (await import(built.href)) as Built;
    const { ParquetWriter } = await import('hyparquet-writer');
    const { fileWriter } = await import('hyparquet-writer/src/node.js');
    const n = 90000;
    const labels = ['chat', 'Hund', 'oiseau ü', '魚', 'ίππος', '🐄'];
    type Row = { id: bigint; label: string | null; wide: string; x: number; k: number | null };
    const row = (i: number): Row => ({
      id: BigInt(i),
      label: i % 11 === 0 ? null : labels[i % labels.length],
      // About 70,000 distinct values: dictionary indexes of 17 bits.
      wide: `w${(i * 7919) % 70001}ß`,
      x: (i % 1000) / 8,
      k: i % 5 === 0 ? null : i % 300,
    });
    const before: Row[] = [];
    const after: Row[] = [];
    for (let i = 0; i < n; i++) {
      const r = row(i);
      before.push(r);
      if (i % 89 === 0) continue; // removed
      const e = { ...r };
      if (i % 97 === 0) e.label = e.label === null ? '新' : null;
      if (i % 101 === 0) e.x = -e.x - 1;
      if (i % 103 === 0) e.wide = `${e.wide}é`;
      after.push(e);
      if (i % 211 === 0) after.push({ ...row(i), id: BigInt(n + i) }); // added
    }
    const write = (name: string, rows: Row[]): TableInput => {
      const file = path.join(t.dir(), name);
      const schema = [
        { name: 'root', num_children: 5 },
        { name: 'id', type: 'INT64', repetition_type: 'REQUIRED' },
        { name: 'label', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'wide', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        { name: 'x', type: 'DOUBLE', repetition_type: 'REQUIRED' },
        { name: 'k', type: 'INT32', repetition_type: 'OPTIONAL' },
      ];
      const writer = new ParquetWriter({ writer: fileWriter(file), schema, codec: 'SNAPPY' } as unknown as ConstructorParameters<typeof ParquetWriter>[0]);
      const col = <K extends keyof Row>(k: K) => rows.map((r) => r[k]);
      writer.write({
        columnData: [
          { name: 'id', data: col('id') },
          { name: 'label', data: col('label'), encoding: 'RLE_DICTIONARY' },
          { name: 'wide', data: col('wide'), encoding: 'RLE_DICTIONARY' },
          { name: 'x', data: col('x') },
          { name: 'k', data: col('k'), encoding: 'RLE_DICTIONARY' },
        ],
        rowGroupSize: 75000,
      } as unknown as Parameters<ParquetWriter['write']>[0]);
      writer.finish();
      return { file, size: fs.statSync(file).size, label: `${name} at test` };
    };
    const pb = write('exact1.parquet', before);
    const pa = write('exact2.parquet', after);
    // The oracle: rows matched by id, cells compared as values.
    const byId = new Map(before.map((r) => [r.id, r]));
    const afterIds = new Set(after.map((r) => r.id));
    const want = { added: 0, removed: before.filter((r) => !afterIds.has(r.id)).length, modified: 0, cells: { label: 0, wide: 0, x: 0 } as Record<string, number> };
    for (const r of after) {
      const b = byId.get(r.id);
      if (!b) {
        want.added++;
        continue;
      }
      const changed = (['label', 'wide', 'x'] as const).filter((c) => b[c] !== r[c]);
      for (const c of changed) want.cells[c]++;
      if (changed.length > 0) want.modified++;
    }
    const options = { tmpDir: t.tmp(), key: ['id'], rows: true, limit: 5 };
    const inline = await m.diffTable('t', 'parquet', pb, pa, { ...options, parallel: false });
    const small = await m.diffTable('t', 'parquet', pb, pa, { ...options, parallel: false, memoryBudget: 64 * 1024 });
    const threaded = await m.diffTable('t', 'parquet', pb, pa, { ...options, parallel: true });
    expect(threaded).toEqual(inline);
    expect(small).toEqual(inline);
    expect(inline.rows).toMatchObject({ before: before.length, after: after.length, added: want.added, removed: want.removed, modified: want.modified });
    expect(Object.fromEntries(inline.columns.filter((c) => c.changedCells > 0).map((c) => [c.name, c.changedCells]))).toEqual(want.cells);
  }, 120_000);
});
