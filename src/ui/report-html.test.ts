import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DiffResult, DirStat } from '../commands/diff.js';
import type { LineageResult } from '../commands/lineage.js';
import type { Change } from '../graph/diff.js';
import type { TableDiff, TableDiffFailure } from '../tabular/types.js';
import {
  esc,
  fmtShare,
  jsonForScript,
  renderHtmlReport,
  REPORT_CATEGORY_LIMIT,
  REPORT_COLUMN_LIMIT,
  REPORT_DIR_CHART_LIMIT,
  REPORT_FILE_LIMIT,
  REPORT_ROW_LIMIT,
} from './report-html.js';

// ---------------------------------------------------------------- fixtures

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const blob = (s: string, size: number) => ({ id: hex(s), size, kind: 'blob' as const, exec: false });
const WHEN = new Date('2025-01-02T03:04:05Z');

function dirStat(dir: string, before: number, after: number, counts: Partial<DirStat> = {}): DirStat {
  return { dir, added: 0, deleted: 0, modified: 0, renamed: 0, ...counts, before: { files: before, bytes: before * 1000 }, after: { files: after, bytes: after * 1000 } };
}

function labelsTable(overrides: Partial<TableDiff> = {}): TableDiff {
  return {
    path: 'labels.csv',
    format: 'csv',
    key: ['id'],
    rows: { before: 1000, after: 1200, added: 214, removed: 14, modified: 25, unchanged: 961 },
    schema: { added: [{ name: 'annotator', type: 'string' }], removed: [{ name: 'legacy', type: 'integer' }], renamed: [{ from: 'conf', to: 'confidence' }], typeChanged: [{ name: 'width', before: 'integer', after: 'number' }] },
    columns: [
      {
        name: 'label',
        before: { type: 'string', nulls: 0 },
        after: { type: 'string', nulls: 2 },
        changedCells: 25,
        categories: [
          { value: 'cat', before: 410, after: 396, shareBefore: 0.41, shareAfter: 0.33 },
          { value: 'dog', before: 590, after: 804, shareBefore: 0.59, shareAfter: 0.67 },
        ],
      },
      {
        name: 'width',
        before: { type: 'integer', nulls: 0, numeric: { count: 1000, min: 64, max: 1024, mean: 412.5 } },
        after: { type: 'number', nulls: 3, numeric: { count: 1197, min: -32, max: 20480, mean: 398.25 } },
        changedCells: 7,
      },
    ],
    rowChanges: [
      { kind: 'modified', key: { id: '7' }, rowBefore: 7, rowAfter: 7, before: { id: '7', label: 'cat', width: '64' }, after: { id: '7', label: 'dog', width: '64' }, changedColumns: ['label'] },
      { kind: 'added', key: { id: '1001' }, rowAfter: 1001, after: { id: '1001', label: 'dog', width: null } },
      { kind: 'removed', key: { id: '9' }, rowBefore: 9, before: { id: '9', label: 'cat', width: '32' } },
    ],
    ...overrides,
  };
}

function baseResult(overrides: Partial<DiffResult> = {}): DiffResult {
  const changes: Change[] = [
    { status: 'added', path: 'train/dog/d1.jpg', new: blob('d1', 2048) },
    { status: 'deleted', path: 'train/cat/c1.jpg', old: blob('c1', 4096) },
    { status: 'modified', path: 'labels.csv', old: blob('l1', 1000), new: blob('l2', 1500) },
    { status: 'renamed', path: 'train/dog/d2.jpg', oldPath: 'train/cat/d2.jpg', old: blob('d2', 10), new: blob('d2', 10) },
  ];
  return {
    from: { rev: 'v1', kind: 'commit', commit: hex('v1'), tree: hex('t1') },
    to: { rev: 'v2', kind: 'commit', commit: hex('v2'), tree: hex('t2') },
    changes,
    summary: { added: 1, deleted: 1, modified: 1, renamed: 1, bytesAdded: 3548, bytesDeleted: 5096, changedBytes: 2048 },
    stat: [dirStat('', 1001, 1001, { modified: 1 }), dirStat('train/cat', 500, 420, { deleted: 80 }), dirStat('train/dog', 500, 510, { added: 10, renamed: 1 })],
    tables: [labelsTable()],
    ...overrides,
  };
}

// ---------------------------------------------------------------- reading the page back

/** withoutScripts drops script bodies, where `<` is code, not markup. */
const withoutScripts = (html: string) => html.replace(/(<script\b[^>]*>)[\s\S]*?(<\/script>)/g, '$1$2');

/** tagNames lists every element name opened in the document (outside script bodies), sorted and unique. */
function tagNames(html: string): string[] {
  return [...new Set([...withoutScripts(html).matchAll(/<([a-zA-Z][\w-]*)/g)].map((m) => m[1].toLowerCase()))].sort();
}

/** attributeNames lists every attribute name used on an element, sorted and unique. */
function attributeNames(html: string): string[] {
  const names = new Set<string>();
  for (const tag of withoutScripts(html).matchAll(/<[a-zA-Z][\w-]*((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*\/?>/g)) {
    for (const a of tag[1].matchAll(/([\w:-]+)(?:="[^"]*")?/g)) names.add(a[1].toLowerCase());
  }
  return [...names].sort();
}

/** bars returns the chart bars as {label, side, value}, in document order. */
function bars(html: string): { label: string; side: string; value: number }[] {
  return [...html.matchAll(/<rect class="bar [^"]*" data-label="([^"]*)" data-side="(before|after)" data-value="([^"]*)"/g)].map((m) => ({
    label: m[1],
    side: m[2],
    value: Number(m[3]),
  }));
}

/** metaJson parses the inline JSON block back. */
function metaJson(html: string): Record<string, unknown> {
  const m = /<script type="application\/json" id="lode-report-meta">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no meta block');
  return JSON.parse(m[1]) as Record<string, unknown>;
}

const sectionOf = (html: string, id: string) => {
  const start = html.indexOf(`<section id="${id}">`);
  if (start < 0) throw new Error(`no section ${id}`);
  return html.slice(start, html.indexOf('</section>', start));
};

// ---------------------------------------------------------------- tests

describe('renderHtmlReport structure', () => {
  const html = renderHtmlReport(baseResult(), { generatedAt: WHEN });

  it('is one self-contained document: no network, only its own hashed script', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.match(/<html\b/g)).toHaveLength(1);
    expect(html.match(/<\/html>/g)).toHaveLength(1);
    expect(html).not.toMatch(/\b(?:src|href)=/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<link\b|@import|url\(/);
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((s) => s[1])).toEqual([' type="application/json" id="lode-report-meta"', '']);
    const hash = createHash('sha256').update(scripts[1][2]).digest('base64');
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src 'sha256-${hash}'`);
  });

  it('draws the lineage of the right-hand version only when given, self-contained and escaped', () => {
    const step = { commit: hex('s'), message: 'clean <b>', author: 'A', date: '2025-01-01T00:00:00.000Z', kind: 'run' as const, command: ['node', '<script>x</script>'], sources: ['s3-bucket/<i>drop</i>'], inputs: [{ spec: 'data/raw', path: 'data/raw', kind: 'tree', id: hex('r'), upstream: null }], outputs: [{ path: 'data/"clean"', kind: 'tree', id: hex('c') }] };
    const lineage: LineageResult = { rev: 'v2', commit: hex('s'), path: null, steps: [step], sources: step.sources, unrecorded: 0 };
    expect(renderHtmlReport(baseResult(), { generatedAt: WHEN })).not.toContain('id="lineage"');
    const page = renderHtmlReport(baseResult(), { generatedAt: WHEN, lineage });
    expect(sectionOf(page, 'lineage')).toContain('<svg class="lineage" data-nodes="4" data-edges="3"');
    expect(page).not.toMatch(/\b(?:src|href)=|url\(|<(?:b|i)>|<script>x/);
    expect(page).toContain('&lt;script&gt;x&lt;/script&gt;');
    // Only the graph's own elements: boxes, texts, edges; data never adds one.
    expect(tagNames(sectionOf(page, 'lineage'))).toEqual(['code', 'div', 'figcaption', 'figure', 'g', 'h2', 'p', 'path', 'rect', 'section', 'span', 'svg', 'text', 'title']);
  });

  it('heads the page with both revisions, short commit IDs and the summary counts', () => {
    expect(html).toContain('<title>lode diff v1 → v2</title>');
    expect(html).toContain(`<span class="rev">v1</span><code class="commit" title="${hex('v1')}">${hex('v1').slice(0, 12)}</code>`);
    expect(html).toContain(`<span class="rev">v2</span><code class="commit" title="${hex('v2')}">${hex('v2').slice(0, 12)}</code>`);
    const summary = /<div class="cards" id="summary">([\s\S]*?)<\/div>\n/.exec(html)![1];
    const card = (cls: string) => new RegExp(`<div class="card ${cls}"><span class="n">([^<]*)</span>`).exec(summary)?.[1];
    expect(card('total')).toBe('4');
    expect(card('added')).toBe('1');
    expect(card('deleted')).toBe('1');
    expect(card('modified')).toBe('1');
    expect(card('renamed')).toBe('1');
    expect(card('bytes-added')).toBe('+3.5 KiB');
    expect(card('bytes-deleted')).toBe('−5.0 KiB');
    expect(card('bytes-new')).toBe('+2.0 KiB');
    expect(html).toContain('Generated by lode on 2025-01-02 03:04:05 UTC.');
  });

  it('shows sides that are not commits by kind, and an empty diff plainly', () => {
    const empty = renderHtmlReport(
      { ...baseResult(), to: { rev: ':workspace', kind: 'workspace', commit: null, tree: hex('w') }, changes: [], summary: { added: 0, deleted: 0, modified: 0, renamed: 0, bytesAdded: 0, bytesDeleted: 0 }, stat: undefined, tables: undefined },
      { generatedAt: WHEN, title: 'My data' },
    );
    expect(empty).toContain('<span class="rev">:workspace</span><span class="kind">workspace</span></div>');
    expect(empty).toContain('No differences between v1 and :workspace.');
    expect(empty).toContain('<h1>My data</h1>');
    expect(empty).not.toContain('<svg');
    expect(empty).not.toContain('id="files"');
    expect(metaJson(empty)).toMatchObject({ charts: 0, bars: 0 });
  });

  it('tabulates each directory and charts siblings before and after with their shares', () => {
    const dirs = sectionOf(html, 'directories');
    expect(dirs).toContain('<td class="path">train/cat/</td>');
    expect(dirs).toContain('500 → 420 <span class="delta down">−80</span>');
    expect(dirs).toContain('500 → 510 <span class="delta up">+10</span>');
    expect(dirs).toContain('488 KiB → 410 KiB');
    // The root has no siblings: no chart for it, one chart for train/.
    expect(dirs.match(/<svg class="chart" data-chart="dir-files"/g)).toHaveLength(1);
    expect(dirs).toContain('data-chart="dir-files" data-parent="train"');
    expect(bars(dirs)).toEqual([
      { label: 'train/cat', side: 'before', value: 500 },
      { label: 'train/cat', side: 'after', value: 420 },
      { label: 'train/dog', side: 'before', value: 500 },
      { label: 'train/dog', side: 'after', value: 510 },
    ]);
    // Shares among siblings: 420 of 930 after is 45%, 510 of 930 is 55%.
    expect(dirs).toContain('>500 · 50%</text>');
    expect(dirs).toContain('>420 · 45%</text>');
    expect(dirs).toContain('>510 · 55%</text>');
    expect(dirs).toMatch(/<title>train\/cat\/ after: 420 files, 45% of the listed directories in train\/<\/title>/);
  });

  it('draws bar lengths in proportion to the values', () => {
    const widths = [...html.matchAll(/data-label="train\/(\w+)" data-side="(\w+)" data-value="\d+" x="[\d.]+" y="[\d.]+" width="([\d.]+)"/g)].map((m) => Number(m[3]));
    expect(widths).toHaveLength(4);
    expect(widths[1] / widths[3]).toBeCloseTo(420 / 510, 2);
    expect(widths[0]).toBeCloseTo(widths[2], 5);
  });

  it('reports a table: rows, schema, column statistics, category shares, changed rows', () => {
    const t = sectionOf(html, 'tables');
    expect(t).toContain('<span class="n">1,000 → 1,200</span>');
    for (const [cls, n] of [['added', '214'], ['deleted', '14'], ['modified', '25'], ['unchanged', '961']]) {
      expect(t).toMatch(new RegExp(`<div class="card ${cls}"><span class="n">${n}</span>`));
    }
    expect(t).toContain('<code>annotator</code> <span class="type">string</span>');
    expect(t).toContain('<li class="deleted"><span class="sigil">−</span> <code>legacy</code>');
    expect(t).toContain('<code>conf</code> → <code>confidence</code>');
    expect(t).toContain('<code>width</code> <span class="type">integer → number</span>');
    const width = /<tr data-column="width">([\s\S]*?)<\/tr>/.exec(t)![1];
    expect(width).toContain('<td class="num">0 → 3</td>');
    expect(width).toContain('<td class="num">64 → −32</td>');
    expect(width).toContain('<td class="num">412.5 → 398.3</td>');
    expect(width).toContain('<td class="num">1,024 → 20,480</td>');
    expect(t).toContain('data-chart="categories" data-table="labels.csv" data-column="label"');
    expect(bars(t)).toEqual([
      { label: 'cat', side: 'before', value: 0.41 },
      { label: 'cat', side: 'after', value: 0.33 },
      { label: 'dog', side: 'before', value: 0.59 },
      { label: 'dog', side: 'after', value: 0.67 },
    ]);
    for (const s of ['>41%</text>', '>33%</text>', '>59%</text>', '>67%</text>', '>−8 pp</text>', '>+8 pp</text>']) expect(t).toContain(s);
    expect(t).toContain('<title>cat before: 41% (410 rows)</title>');
    // The changed cell of the modified row is marked, with both values.
    expect(t).toContain('<td class="changed" data-column="label"><del>cat</del> <ins>dog</ins></td>');
    expect(t.match(/<td class="changed"/g)).toHaveLength(1);
    expect(t).toContain('<tr class="row-added" data-kind="added">');
    expect(t).toContain('<span class="null">null</span>');
    expect(t).toContain('<th class="key">id</th>');
  });

  it('shows a table that could not be compared as a notice with its hint', () => {
    const failure: TableDiffFailure = { path: 'boxes.parquet', format: 'parquet', error: { message: 'unsupported codec LZ4_RAW', hint: 'rewrite it with zstd' } };
    const out = renderHtmlReport(baseResult({ tables: [failure, labelsTable()] }), { generatedAt: WHEN });
    expect(out).toMatch(/<article class="table-diff failed" data-path="boxes.parquet">[\s\S]*?<div class="notice" role="note">/);
    expect(out).toContain('<span class="message">unsupported codec LZ4_RAW</span><div class="hint">hint: rewrite it with zstd</div>');
    expect(out.indexOf('boxes.parquet')).toBeLessThan(out.indexOf('labels.csv</code>'));
  });

  it('lists changed files with status, old and new path, and sizes', () => {
    const files = sectionOf(html, 'files');
    expect(files).toContain('<span class="count">4</span>');
    expect(files).toContain('<td class="path">train/cat/d2.jpg <span class="arrow">→</span> train/dog/d2.jpg</td>');
    expect(files).toContain('<td class="num">1000 B → 1.5 KiB</td>');
    expect(files.match(/<tr class="(added|deleted|modified|renamed)">/g)).toHaveLength(4);
    expect(files).not.toContain('more');
  });

  it('records what it drew in the inline JSON, for the page script to check', () => {
    expect(metaJson(html)).toEqual({ from: 'v1', to: 'v2', generatedAt: '2025-01-02T03:04:05.000Z', charts: 2, bars: 8 });
    expect(html.match(/<rect class="bar/g)).toHaveLength(8);
    expect(html.match(/<svg class="chart"/g)).toHaveLength(2);
  });
});

describe('renderHtmlReport truncation', () => {
  it(`lists at most ${REPORT_FILE_LIMIT} files and counts the rest`, () => {
    const changes: Change[] = Array.from({ length: REPORT_FILE_LIMIT + 234 }, (_, i) => ({ status: 'added', path: `f/${String(i).padStart(5, '0')}`, new: blob(String(i), i) }));
    const html = renderHtmlReport(baseResult({ changes }), { generatedAt: WHEN });
    const files = sectionOf(html, 'files');
    expect(files.match(/<tr class="added">/g)).toHaveLength(REPORT_FILE_LIMIT);
    expect(files).toContain(`f/${String(REPORT_FILE_LIMIT - 1).padStart(5, '0')}`);
    expect(files).not.toContain(`f/${String(REPORT_FILE_LIMIT).padStart(5, '0')}`);
    expect(files).toContain('<span class="count">1,234</span>');
    expect(files).toContain('and 234 more');
  });

  it('caps the directory table, the directory charts and the bars in each', () => {
    const big = Array.from({ length: REPORT_ROW_LIMIT }, (_, i) => dirStat(`big/${String(i).padStart(4, '0')}`, 1, 2, { added: 1 }));
    const pairs = Array.from({ length: REPORT_DIR_CHART_LIMIT + 5 }, (_, i) => [`p${String(i).padStart(3, '0')}/a`, `p${String(i).padStart(3, '0')}/b`])
      .flat()
      .map((d) => dirStat(d, 3, 1, { deleted: 2 }));
    const html = renderHtmlReport(baseResult({ stat: [...big, ...pairs], tables: undefined }), { generatedAt: WHEN });
    const dirs = sectionOf(html, 'directories');
    expect(dirs.match(/<tr><td class="path">/g)).toHaveLength(REPORT_ROW_LIMIT);
    expect(dirs).toContain(`and ${pairs.length} more directories (see`);
    const charts = dirs.match(/<svg class="chart"/g)!;
    expect(charts).toHaveLength(REPORT_DIR_CHART_LIMIT);
    // big/ is drawn first with its first directories; each takes 1 of all 1,000 siblings' files.
    expect(bars(dirs).filter((b) => b.label.startsWith('big/'))).toHaveLength(2 * REPORT_DIR_CHART_LIMIT);
    expect(dirs).toContain(`and ${REPORT_ROW_LIMIT - REPORT_DIR_CHART_LIMIT} more directories</p>`);
    expect(dirs).toContain('>1 · 0.1%</text>');
    expect(dirs).toContain('and 6 more directory charts not drawn');
  });

  it('caps category charts and row-listing columns, and says so', () => {
    const categories = Array.from({ length: REPORT_CATEGORY_LIMIT + 5 }, (_, i) => ({ value: `v${i}`, before: 1, after: 1, shareBefore: 0.01, shareAfter: 0.01 }));
    const wide = Object.fromEntries(Array.from({ length: REPORT_COLUMN_LIMIT + 7 }, (_, i) => [`c${i}`, i]));
    const table = labelsTable({
      key: null,
      columns: [{ name: 'v', before: { type: 'string', nulls: 0 }, after: { type: 'string', nulls: 0 }, changedCells: 0, categories }],
      rowChanges: [{ kind: 'added', key: null, after: wide }],
      rowChangesTruncated: true,
    });
    const html = renderHtmlReport(baseResult({ tables: [table], stat: undefined }), { generatedAt: WHEN });
    expect(bars(html)).toHaveLength(2 * REPORT_CATEGORY_LIMIT);
    expect(html).toContain('and 5 more values');
    expect(html).toContain('and 7 more columns not shown');
    expect(html).toContain('More rows changed than are listed here');
    expect(html).toContain('matched by whole-row content');
  });

  it('clips long labels and cell values but keeps them whole in a tooltip', () => {
    const long = 'x'.repeat(300);
    const table = labelsTable({
      columns: [{ name: 'label', before: null, after: { type: 'string', nulls: 0 }, changedCells: 0, categories: [{ value: long, before: 0, after: 5, shareBefore: 0, shareAfter: 1 }] }],
      rowChanges: [{ kind: 'added', key: null, after: { note: long } }],
    });
    const html = renderHtmlReport(baseResult({ tables: [table] }), { generatedAt: WHEN });
    expect(html).toContain(`>${'x'.repeat(27)}…<title>${long}</title></text>`);
    expect(html).toContain(`data-label="${long}"`);
    expect(html).toContain(`<span title="${long}">${'x'.repeat(119)}…</span>`);
  });
});

describe('renderHtmlReport escaping', () => {
  const HOSTILE = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&amp;<!--`;
  const EXPECTED_TEXT = '&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;&amp;amp;&lt;!--';

  /** everywhere puts `s` in every slot that data can reach. */
  function everywhere(s: string): DiffResult {
    const table: TableDiff = {
      path: `${s}.csv`,
      format: 'csv',
      key: [s],
      rows: { before: 1, after: 1, added: 0, removed: 0, modified: 1, unchanged: 0 },
      schema: { added: [{ name: s, type: 'string' }], removed: [{ name: s, type: 'string' }], renamed: [{ from: s, to: s }], typeChanged: [{ name: s, before: 'integer', after: 'string' }] },
      columns: [{ name: s, before: { type: 'string', nulls: 0 }, after: { type: 'string', nulls: 0 }, changedCells: 1, categories: [{ value: s, before: 1, after: 1, shareBefore: 1, shareAfter: 1 }] }],
      rowChanges: [{ kind: 'modified', key: { [s]: s }, before: { [s]: s, [`${s}2`]: { [s]: [s] } }, after: { [s]: `${s}!`, [`${s}2`]: s }, changedColumns: [s] }],
    };
    const failure: TableDiffFailure = { path: s, format: 'parquet', error: { message: s, hint: s } };
    return {
      from: { rev: s, kind: 'commit', commit: hex('a'), tree: hex('b') },
      to: { rev: s, kind: 'commit', commit: hex('c'), tree: hex('d') },
      changes: [
        { status: 'renamed', path: `${s}/b`, oldPath: `${s}/a`, old: blob('x', 1), new: blob('x', 1) },
        { status: 'added', path: s, new: blob('y', 1) },
      ],
      summary: { added: 1, deleted: 0, modified: 0, renamed: 1, bytesAdded: 1, bytesDeleted: 0 },
      stat: [dirStat(`${s}/a`, 1, 0), dirStat(`${s}/b`, 0, 1)],
      tables: [table, failure],
    };
  }

  const reference = renderHtmlReport(everywhere('x'), { generatedAt: WHEN, title: 'x' });

  it('renders hostile paths, revisions, columns, values and messages as text', () => {
    const html = renderHtmlReport(everywhere(HOSTILE), { generatedAt: WHEN, title: HOSTILE });
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<!--');
    expect(html).toContain(`<h1>${EXPECTED_TEXT}</h1>`);
    expect(html).toContain(`<span class="message">${EXPECTED_TEXT}</span>`);
    expect(html).toContain(`data-label="${EXPECTED_TEXT}"`);
    expect(html).toContain(`<th class="key">${EXPECTED_TEXT}</th>`);
    expect(html.match(/<script\b/g)).toHaveLength(2);
    // The same elements and attributes as with harmless data: nothing was injected.
    expect(tagNames(html)).toEqual(tagNames(reference));
    expect(attributeNames(html)).toEqual(attributeNames(reference));
    expect(attributeNames(html).filter((a) => a.startsWith('on'))).toEqual([]);
  });

  it('keeps the inline JSON closed against </script> and parses it back intact', () => {
    const rev = '</script><script>alert(1)</script><!-- \u2028 &';
    const html = renderHtmlReport(baseResult({ from: { rev, kind: 'commit', commit: null, tree: hex('t') } }), { generatedAt: WHEN });
    const block = /<script type="application\/json" id="lode-report-meta">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(block).not.toMatch(/[<>&\u2028]/);
    expect(metaJson(html).from).toBe(rev);
    expect(jsonForScript({ a: '</script>' })).toBe('{"a":"\\u003c/script\\u003e"}');
  });

  it('shows control characters as visible symbols', () => {
    expect(esc('a\u0000b\u001bc\u007fd\te\nf')).toBe('a\u2400b\u241bc\u2421d\te\nf');
  });

  it('never lets any string add markup (property)', () => {
    const refTags = tagNames(reference);
    const refAttrs = attributeNames(reference);
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40, unit: fc.constantFrom('<', '>', '/', '"', "'", '&', '=', ' ', 's', 'c', 'r', 'i', 'p', 't', '!', '-', '\u2028', '\u0000') }), (s) => {
        const html = renderHtmlReport(everywhere(s), { generatedAt: WHEN, title: s });
        expect(tagNames(html)).toEqual(refTags);
        expect(attributeNames(html)).toEqual(refAttrs);
        expect(metaJson(html).from).toBe(s);
      }),
      { numRuns: 150 },
    );
  });
});

describe('fmtShare', () => {
  it('writes whole percents from 10% up and one decimal below', () => {
    expect([0.41, 0.33, 1, 0.095, 0.0004, 0, 0.1234, 0.0449].map(fmtShare)).toEqual(['41%', '33%', '100%', '9.5%', '<0.1%', '0%', '12%', '4.5%']);
  });
});
