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
});
