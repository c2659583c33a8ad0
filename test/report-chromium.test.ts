// The HTML diff report, opened in a real browser: headless Chromium loads the
// file from disk, runs its inline script (which checks that every bar with a
// value was laid out with a width and that no label spills out of its chart),
// and the test reads the outcome from the dumped DOM and from a screenshot.
//
// There is no skip: without Chromium this file fails and says how to install
// it (`apt-get install -y chromium`; CI does). The report and screenshot are
// left in test-artifacts/ for a person to look at.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DiffResult, DirStat } from '../src/commands/diff.js';
import type { Change } from '../src/graph/diff.js';
import type { TableDiff, TableDiffFailure } from '../src/tabular/types.js';
import { renderHtmlReport } from '../src/ui/report-html.js';
import { decodePng, dumpDom, findChromium, requireChromium, screenshot } from './helpers/chromium.js';

const ARTIFACTS = path.resolve('test-artifacts');
const HOSTILE_PATH = 'data/images/train/cat/<img src=x onerror="document.body.dataset.pwned=1">.jpg';
const HOSTILE_VALUE = '</script><script>document.body.dataset.pwned="1"</script>';

const id = (s: string) => createHash('sha256').update(s).digest('hex');
const file = (p: string, size: number) => ({ id: id(p + size), size, kind: 'blob' as const, exec: false });

/**
 * classShiftFixture is `lode diff v1 v2 --stat` on a folder-per-class image
 * dataset where cats were pruned and birds added, plus the table diff of its
 * labels.csv (cat falls from 41% to 33% of rows, `conf` became `confidence`)
 * and a Parquet file that could not be compared.
 */
function classShiftFixture(): DiffResult {
  const changes: Change[] = [];
  for (let i = 0; i < 79; i++) changes.push({ status: 'deleted', path: `data/images/train/cat/cat_${String(i).padStart(4, '0')}.jpg`, old: file(`c${i}`, 48_000 + i) });
  changes.push({ status: 'deleted', path: HOSTILE_PATH, old: file('hostile', 51_234) });
  for (let i = 0; i < 10; i++) changes.push({ status: 'added', path: `data/images/train/dog/dog_${String(500 + i).padStart(4, '0')}.jpg`, new: file(`d${i}`, 52_000 + i) });
  for (let i = 0; i < 330; i++) changes.push({ status: 'added', path: `data/images/train/bird/bird_${String(i).padStart(4, '0')}.jpg`, new: file(`b${i}`, 40_000 + i) });
  changes.push({ status: 'renamed', path: 'data/images/val/dog/dog_0007.jpg', oldPath: 'data/images/val/cat/cat_0007.jpg', old: file('r', 47_000), new: file('r', 47_000) });
  changes.push({ status: 'modified', path: 'data/labels.csv', old: file('l1', 61_440), new: file('l2', 74_100) });
  changes.sort((a, b) => (a.path < b.path ? -1 : 1));
  const summary = { added: 0, deleted: 0, modified: 0, renamed: 0, bytesAdded: 0, bytesDeleted: 0 };
  for (const c of changes) {
    summary[c.status]++;
    if (c.status === 'added' || c.status === 'modified') summary.bytesAdded += c.new!.size;
    if (c.status === 'deleted' || c.status === 'modified') summary.bytesDeleted += c.old!.size;
  }
  const dir = (d: string, before: number, after: number, counts: Partial<DirStat>): DirStat => ({
    dir: d,
    added: 0,
    deleted: 0,
    modified: 0,
    renamed: 0,
    ...counts,
    before: { files: before, bytes: before * 48_100 },
    after: { files: after, bytes: after * 47_700 },
  });
  const stat: DirStat[] = [
    dir('data', 1551, 1812, { modified: 1 }),
    dir('data/images/train/bird', 0, 330, { added: 330 }),
    dir('data/images/train/cat', 500, 420, { deleted: 80 }),
    dir('data/images/train/dog', 500, 510, { added: 10 }),
    dir('data/images/val/cat', 25, 24, {}),
    dir('data/images/val/dog', 25, 26, { renamed: 1 }),
  ];
  const labels: TableDiff = {
    path: 'data/labels.csv',
    format: 'csv',
    key: ['image'],
    rows: { before: 1000, after: 1200, added: 214, removed: 14, modified: 25, unchanged: 961 },
    schema: {
      added: [{ name: 'annotator', type: 'string' }],
      removed: [],
      renamed: [{ from: 'conf', to: 'confidence' }],
      typeChanged: [{ name: 'width', before: 'integer', after: 'number' }],
    },
    columns: [
      {
        name: 'label',
        before: { type: 'string', nulls: 0 },
        after: { type: 'string', nulls: 0 },
        changedCells: 25,
        categories: [
          { value: 'bird', before: 200, after: 360, shareBefore: 0.2, shareAfter: 0.3 },
          { value: 'cat', before: 410, after: 396, shareBefore: 0.41, shareAfter: 0.33 },
          { value: 'dog', before: 390, after: 444, shareBefore: 0.39, shareAfter: 0.37 },
        ],
      },
      {
        name: 'width',
        before: { type: 'integer', nulls: 0, numeric: { count: 1000, min: 64, max: 1024, mean: 412.5 } },
        after: { type: 'number', nulls: 3, numeric: { count: 1197, min: 32, max: 2048, mean: 398.25 } },
        changedCells: 7,
      },
      { name: 'annotator', before: null, after: { type: 'string', nulls: 1000 }, changedCells: 0 },
    ],
    rowChanges: [
      {
        kind: 'modified',
        key: { image: 'train/cat/cat_0042.jpg' },
        rowBefore: 42,
        rowAfter: 40,
        before: { image: 'train/cat/cat_0042.jpg', label: 'cat', width: '640', confidence: '0.91', note: '' },
        after: { image: 'train/cat/cat_0042.jpg', label: 'dog', width: '640', confidence: '0.91', note: HOSTILE_VALUE, annotator: 'ana' },
        changedColumns: ['label', 'note'],
      },
      {
        kind: 'removed',
        key: { image: 'train/cat/cat_0077.jpg' },
        rowBefore: 77,
        before: { image: 'train/cat/cat_0077.jpg', label: 'cat', width: '512', confidence: '0.55', note: 'blurry' },
      },
      {
        kind: 'added',
        key: { image: 'train/bird/bird_0000.jpg' },
        rowAfter: 1001,
        after: { image: 'train/bird/bird_0000.jpg', label: 'bird', width: '800.5', confidence: '0.97', note: '', annotator: 'bo' },
      },
    ],
    rowChangesTruncated: true,
  };
  const boxes: TableDiffFailure = {
    path: 'data/meta/boxes.parquet',
    format: 'parquet',
    error: { message: 'data/meta/boxes.parquet at v2 uses the LZ4_RAW codec, which lode cannot read', hint: 'rewrite it with snappy or zstd compression' },
  };
  return {
    from: { rev: 'v1', kind: 'commit', commit: id('commit v1'), tree: id('tree v1') },
    to: { rev: 'v2', kind: 'commit', commit: id('commit v2'), tree: id('tree v2') },
    changes,
    summary,
    stat,
    tables: [labels, boxes],
  };
}

/** bodyAttrs reads the attributes of the dumped document's <body> tag. */
function bodyAttrs(dom: string): Record<string, string> {
  const tag = /<body\b([^>]*)>/.exec(dom)?.[1] ?? '';
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w-]+)="([^"]*)"/g)) out[m[1]] = m[2];
  return out;
}

/** renderedWidth reads the on-screen width the page's script recorded on one bar. */
function renderedWidth(dom: string, label: string, side: 'before' | 'after'): number {
  const re = new RegExp(`<rect[^>]*data-label="${label}" data-side="${side}"[^>]*data-rendered-width="([\\d.]+)"`);
  const m = re.exec(dom);
  if (!m) throw new Error(`no rendered bar for ${label} ${side}`);
  return Number(m[1]);
}

describe('HTML report in headless Chromium', () => {
  it('finds a Chromium binary (install one: apt-get install -y chromium)', () => {
    expect(() => requireChromium()).not.toThrow();
    expect(findChromium()).toMatch(/chrom/i);
  });

  it('renders the charts, shows the numbers, and keeps hostile data inert', async () => {
    const bin = requireChromium();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const html = path.join(ARTIFACTS, 'report.html');
    fs.writeFileSync(html, renderHtmlReport(classShiftFixture(), { generatedAt: new Date('2025-01-02T03:04:05Z') }));

    const png = path.join(ARTIFACTS, 'report.png');
    const [dom] = await Promise.all([dumpDom(html, { bin }), screenshot(html, png, { bin })]);

    const body = bodyAttrs(dom);
    expect(body['data-pwned']).toBeUndefined();
    // Three charts: class balance of train/ and of val/, label shares in labels.csv.
    expect(body['data-charts']).toBe('3');
    expect(body['data-bars']).toBe('16');
    // train/bird had no files before: its "before" bar is the one bar without a width.
    expect(body['data-bars-expected']).toBe('15');
    expect(body['data-bars-visible']).toBe('15');
    expect(body['data-overflow']).toBe('0');
    expect(body['data-rendered']).toBe('ok');

    // Rendered widths follow the data: cat's share fell, train/bird grew from nothing.
    const catBefore = renderedWidth(dom, 'cat', 'before');
    const catAfter = renderedWidth(dom, 'cat', 'after');
    expect(catBefore).toBeGreaterThan(catAfter);
    expect(catAfter / catBefore).toBeCloseTo(0.33 / 0.41, 1);
    expect(renderedWidth(dom, 'data/images/train/bird', 'before')).toBe(0);
    expect(renderedWidth(dom, 'data/images/train/bird', 'after')).toBeGreaterThan(renderedWidth(dom, 'data/images/train/dog', 'after') / 2);

    expect(dom).toContain('data-label="cat" data-side="before" data-value="0.41"');
    expect(dom).toContain('data-label="cat" data-side="after" data-value="0.33"');
    for (const text of ['41%', '33%', '−8 pp', '500 · 50%', '420 · 33%', '1,000 → 1,200', 'LZ4_RAW', 'confidence']) expect(dom).toContain(text);
    // Hostile strings arrive as text.
    expect(dom).toContain('&lt;img src=x onerror="document.body.dataset.pwned=1"&gt;.jpg');
    expect(dom).toContain('&lt;/script&gt;&lt;script&gt;document.body.dataset.pwned="1"&lt;/script&gt;');

    const image = decodePng(fs.readFileSync(png));
    expect([image.width, image.height]).toEqual([1280, 2000]);
    let after = 0;
    let ink = 0;
    for (let y = 0; y < image.height; y += 2) {
      for (let x = 0; x < image.width; x += 2) {
        const [r, g, b] = image.pixel(x, y);
        if (Math.abs(r - 0x1d) < 16 && Math.abs(g - 0x4e) < 16 && Math.abs(b - 0xd8) < 16) after++;
        if (r + g + b < 600) ink++;
      }
    }
    // The "after" bars are painted in their blue, and the page is not blank.
    expect(after).toBeGreaterThan(500);
    expect(ink / ((image.width * image.height) / 4)).toBeGreaterThan(0.01);
  });
});
