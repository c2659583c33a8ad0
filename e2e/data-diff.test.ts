// The data-aware diff through the built binary: a folder-per-class image
// dataset with a labels table, relabelled, grown and pruned between two
// versions. `lode diff` must say how the table changed (rows, cells, class
// shares), show every class folder's balance, survive malformed tables, and
// write an HTML report that opens in headless Chromium with its charts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { lodeJson, lodeOk, makeTempDir, removeDir, runLode, writeFile, type RunOptions } from '../test/helpers/cli.js';
import { dumpDom } from '../test/helpers/chromium.js';

interface TableJson {
  path: string;
  format: string;
  key: string[] | null;
  rows: { before: number; after: number; added: number; removed: number; modified: number; unchanged: number };
  schema: { added: { name: string }[]; removed: { name: string }[]; renamed: { from: string; to: string }[]; typeChanged: { name: string; before: string; after: string }[] };
  columns: { name: string; changedCells: number; categories?: { value: string; before: number; after: number; shareBefore: number; shareAfter: number }[] }[];
  rowChanges?: { kind: string; key: Record<string, unknown> | null; changedColumns?: string[]; before?: Record<string, unknown>; after?: Record<string, unknown> }[];
  rowChangesTruncated?: boolean;
  error?: { message: string; hint?: string };
}
interface DiffJson {
  changes: { status: string; path: string }[];
  stat?: { dir: string; before: { files: number }; after: { files: number } }[];
  tables?: TableJson[];
}

let dir: string;
let opts: RunOptions;

/** 100 labelled images: 40 cat, 35 dog, 25 bird (v1); v2 relabels 8 cats as dogs, adds 5 birds, drops 2 dogs. */
function labels(version: 1 | 2): string {
  const rows: string[] = ['id,file,label,score'];
  const classes: string[] = [...Array(40).fill('cat'), ...Array(35).fill('dog'), ...Array(25).fill('bird')];
  for (let i = 0; i < classes.length; i++) {
    let label = classes[i];
    if (version === 2 && i < 8) label = 'dog';
    if (version === 2 && (i === 41 || i === 42)) continue;
    rows.push(`${i},img_${i}.jpg,${label},${(i % 10) / 10}`);
  }
  if (version === 2) for (let i = 100; i < 105; i++) rows.push(`${i},img_${i}.jpg,bird,0.5`);
  return `${rows.join('\n')}\n`;
}

beforeAll(async () => {
  dir = makeTempDir('lode-datadiff-');
  opts = { cwd: dir };
  writeFile(dir, 'data/labels.csv', labels(1));
  for (const c of ['cat', 'dog', 'bird']) for (let i = 0; i < 4; i++) writeFile(dir, `data/images/${c}/${i}.jpg`, `${c}${i}`);
  await lodeOk(['init'], opts);
  await lodeOk(['add', 'data'], opts);
  await lodeOk(['commit', '-m', 'v1'], opts);
  await lodeOk(['tag', 'v1'], opts);
  writeFile(dir, 'data/labels.csv', labels(2));
  writeFile(dir, 'data/images/bird/9.jpg', 'new bird');
  await lodeOk(['commit', '-a', '-m', 'v2'], opts);
}, 60_000);

afterAll(() => removeDir(dir));

describe('lode diff on a table file', () => {
  it('counts rows added, removed and relabelled, matched by key', async () => {
    const r = await lodeJson<DiffJson>(['diff', 'v1', 'HEAD', '--key', 'id', '--json'], opts);
    const t = r.tables!.find((x) => x.path === 'data/labels.csv')!;
    expect(t.error).toBeUndefined();
    expect(t.key).toEqual(['id']);
    expect(t.rows).toEqual({ before: 100, after: 103, added: 5, removed: 2, modified: 8, unchanged: 90 });
    const label = t.columns.find((c) => c.name === 'label')!;
    expect(label.changedCells).toBe(8);
    const cat = label.categories!.find((c) => c.value === 'cat')!;
    expect(cat.before).toBe(40);
    expect(cat.after).toBe(32);
    expect(cat.shareBefore).toBeCloseTo(0.4, 5);
    expect(cat.shareAfter).toBeCloseTo(32 / 103, 5);
    // The score column did not change in any matched row and keeps its distribution closely, but rows came and went.
    expect(t.columns.find((c) => c.name === 'id')?.changedCells ?? 0).toBe(0);
  });

  // Changed with the automatic key (issue 11): plain `lode diff` now picks id, unique on both sides;
  // --no-auto-key keeps matching by content, which this test is about.
  it('without a key, a relabelled row is one removed and one added', async () => {
    const r = await lodeJson<DiffJson>(['diff', 'v1', 'HEAD', '--no-auto-key', '--json'], opts);
    const t = r.tables!.find((x) => x.path === 'data/labels.csv')!;
    expect(t.key).toBeNull();
    expect(t.rows.added).toBe(13);
    expect(t.rows.removed).toBe(10);
    expect(t.rows.modified).toBe(0);
    expect(t.rows.unchanged).toBe(90);
  });

  it('lists changed rows on request, within --limit', async () => {
    const r = await lodeJson<DiffJson>(['diff', 'v1', 'HEAD', '--key', 'id', '--rows', '--limit', '5', '--json'], opts);
    const t = r.tables!.find((x) => x.path === 'data/labels.csv')!;
    expect(t.rowChanges).toHaveLength(5);
    expect(t.rowChangesTruncated).toBe(true);
    const all = await lodeJson<DiffJson>(['diff', 'v1', 'HEAD', '--key', 'id', '--rows', '--limit', '100', '--json'], opts);
    const rows = all.tables!.find((x) => x.path === 'data/labels.csv')!.rowChanges!;
    expect(rows).toHaveLength(15);
    const relabelled = rows.filter((x) => x.kind === 'modified');
    expect(relabelled).toHaveLength(8);
    for (const x of relabelled) {
      expect(x.changedColumns).toEqual(['label']);
      expect(x.before!.label).toBe('cat');
      expect(x.after!.label).toBe('dog');
    }
    expect(rows.filter((x) => x.kind === 'removed').map((x) => String(x.key!.id)).sort()).toEqual(['41', '42']);
  });

  it('prints the shift as text: rows and label shares', async () => {
    const r = await lodeOk(['diff', 'v1', 'HEAD', '--key', 'id', '--rows'], opts);
    expect(r.stdout).toContain('data/labels.csv (csv, rows matched by id)');
    expect(r.stdout).toMatch(/rows: 100 → 103: \+5 added, -2 removed, ~8 modified, 90 unchanged/);
    expect(r.stdout).toMatch(/cat\s+40\.0% →\s+31\.1%/);
    expect(r.stdout).toMatch(/label: cat → dog/);
  });

  it('--stat shows every class folder beside a changed one, changed or not', async () => {
    const r = await lodeJson<DiffJson>(['diff', 'v1', 'HEAD', '--stat', '--no-tables', '--json'], opts);
    expect(r.tables).toBeUndefined();
    const dirs = Object.fromEntries(r.stat!.map((d) => [d.dir, [d.before.files, d.after.files]]));
    expect(dirs['data/images/bird']).toEqual([4, 5]);
    expect(dirs['data/images/cat']).toEqual([4, 4]);
    expect(dirs['data/images/dog']).toEqual([4, 4]);
  });

  it('a malformed table gets a clear message naming file and row; the file-level diff still stands', async () => {
    writeFile(dir, 'data/labels.csv', 'id,file,label,score\n1,a.jpg,cat,0.1\n2,b.jpg,dog\n');
    writeFile(dir, 'data/blob.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1, 2, 3, 0, 0xff]));
    const r = await runLode(['diff', '--json'], opts);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as DiffJson;
    expect(out.changes.map((c) => c.path)).toContain('data/labels.csv');
    const t = out.tables!.find((x) => x.path === 'data/labels.csv')!;
    expect(t.error!.message).toMatch(/labels\.csv/);
    expect(t.error!.message).toMatch(/row 2|line 3/);
    const text = await runLode(['diff'], opts);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/M\s+data\/labels\.csv/);
    expect(text.stdout).toContain('no row-level diff');
    await lodeOk(['checkout', '-f'], opts);
    fs.rmSync(path.join(dir, 'data/blob.csv'));
  });

  it('a key column that does not exist is reported, not a crash', async () => {
    const r = await lodeJson<DiffJson>(['diff', 'v1', 'HEAD', '--key', 'nope', '--json'], opts);
    const t = r.tables!.find((x) => x.path === 'data/labels.csv')!;
    expect(t.error!.message).toMatch(/nope/);
  });

  it('writes an HTML report that opens in headless Chromium with its charts', async () => {
    const report = path.join(dir, 'diff.html');
    await lodeOk(['diff', 'v1', 'HEAD', '--key', 'id', '--rows', '--report', report], opts);
    const html = fs.readFileSync(report, 'utf8');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?https?:/i);
    const dom = await dumpDom(report);
    expect(dom).toMatch(/data-rendered="ok"/);
    const bars = Number(/data-bars-visible="(\d+)"/.exec(dom)?.[1]);
    expect(bars).toBeGreaterThan(0);
    expect(dom).toContain('data/labels.csv');
    expect(dom).toContain('40%');
    expect(dom).toContain('31%');
    fs.mkdirSync('test-artifacts', { recursive: true });
    fs.copyFileSync(report, path.join('test-artifacts', 'e2e-diff-report.html'));
  }, 60_000);

  it('compares at most 100 table files row by row and counts the rest', async () => {
    const many = makeTempDir('lode-manytables-');
    try {
      const at = { cwd: many };
      for (let i = 0; i < 102; i++) writeFile(many, `t/${String(i).padStart(3, '0')}.csv`, `id,v\n1,${i}\n`);
      await lodeOk(['init'], at);
      await lodeOk(['add', 't'], at);
      await lodeOk(['commit', '-m', 'one'], at);
      for (let i = 0; i < 102; i++) writeFile(many, `t/${String(i).padStart(3, '0')}.csv`, `id,v\n1,${i + 1}\n`);
      const r = await lodeJson<DiffJson & { tablesSkipped?: number }>(['diff', '--key', 'id', '--json'], at);
      expect(r.changes).toHaveLength(102);
      expect(r.tables).toHaveLength(100);
      expect(r.tablesSkipped).toBe(2);
      expect(r.tables![0].rows.modified).toBe(1);
      const one = await lodeJson<DiffJson & { tablesSkipped?: number }>(['diff', '--key', 'id', '--json', '--', 't/101.csv'], at);
      expect(one.tables!.map((t) => t.path)).toEqual(['t/101.csv']);
      expect(one.tablesSkipped).toBeUndefined();
    } finally {
      removeDir(many);
    }
  }, 60_000);
});
