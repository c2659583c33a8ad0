// The datasheet renderers on a hand-made result with hostile strings: data
// must never become Markdown structure or HTML markup; and the declared-fields
// parser's positions for unknown keys and wrong types.

import { describe, expect, it } from 'vitest';
import { parseDeclared, type DatasheetResult } from '../commands/datasheet.js';
import { isLodeError } from '../core/errors.js';
import { renderDatasheetHtml } from './datasheet-html.js';
import { DATASHEET_SECTIONS, renderDatasheetMarkdown } from './datasheet-md.js';

const ID = 'a'.repeat(64);
const HOSTILE = '</code><script>alert(1)</script>\n## Injected heading | x';

function fixture(): DatasheetResult {
  const field = (key: string, title: string, value: string | null) => ({ key, title, value });
  return {
    rev: 'v2',
    commit: ID,
    message: 'label\n\nbody',
    author: 'Ada <ada@example.com>',
    date: '2026-12-01T00:00:00.000Z',
    refs: ['tag: v2'],
    datasets: ['data'],
    declared: {
      file: 'datasheet.toml',
      found: true,
      fields: [field('purpose', 'Purpose', `line one\n# not a heading\n${HOSTILE}`), field('retention', 'Retention', null)],
      optional: [field('title', 'Title', null)],
    },
    composition: {
      files: 3,
      bytes: 30,
      entries: [{ path: 'data', kind: 'tree', files: 3, bytes: 30 }],
      fileTypes: [{ ext: 'jpg', files: 3, bytes: 30 }],
      classFolders: [
        {
          path: 'data/img',
          source: 'detected',
          files: 3,
          bytes: 30,
          classes: [
            { name: HOSTILE, files: 2, bytes: 20, share: 2 / 3 },
            { name: 'b|c', files: 1, bytes: 10, share: 1 / 3 },
          ],
          imbalance: 2,
        },
      ],
      tables: [{ path: 'data/t.csv', format: 'csv', bytes: 9, rows: 2, columns: [{ name: 'label', type: 'string', nulls: 0, nullRate: 0, min: null, max: null, distinct: 1, top: [{ value: HOSTILE, count: 2, share: 1 }] }] }],
      tablesSkipped: 0,
    },
    provenance: { record: false, lineage: { rev: 'v2', commit: ID, path: null, steps: [], sources: [], unrecorded: 1 } },
    changes: { sinceParent: null },
    contract: null,
    gaps: [{ section: 'declared', field: 'retention', message: HOSTILE }],
  };
}

describe('renderDatasheetMarkdown', () => {
  it('has every section once, in order, and data cannot add headings or table cells', () => {
    const md = renderDatasheetMarkdown(fixture());
    const lines = md.split('\n');
    expect(lines.filter((l) => l.startsWith('## '))).toEqual(DATASHEET_SECTIONS.map((s) => `## ${s}`));
    expect(lines.filter((l) => /^#+ /.test(l) && /Injected|not a heading/.test(l))).toEqual([]);
    // outside code spans (which render as literal text), no raw tag
    expect(md.replace(/`[^`\n]*`/g, '')).not.toMatch(/(^|[^\\])<script/m);
    // every row of the class table has as many unescaped cell separators as its header
    const rows = lines.filter((l) => l.startsWith('| ') && l.includes('| 2 |'));
    const header = lines.find((l) => l.startsWith('| Class |'))!;
    const cells = (l: string) => l.split(/(?<!\\)\|/).length;
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows.filter((l) => lines.indexOf(l) > lines.indexOf(header))) expect(cells(r)).toBe(cells(header));
    expect(lines).toContain('*Not declared (a gap).*');
  });
});

describe('renderDatasheetHtml', () => {
  it('escapes data, allows no requests, and counts its charts', () => {
    const html = renderDatasheetHtml(fixture(), { generatedAt: new Date(0) });
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toMatch(/Content-Security-Policy" content="default-src 'none';/);
    expect(html.match(/<svg class="chart"/g)).toHaveLength(3); // file types, classes, label values
    expect(html.match(/<rect class="bar"/g)).toHaveLength(4);
    expect(html).toContain('"charts":3,"bars":4');
  });
});

describe('parseDeclared', () => {
  const message = (text: string) => {
    try {
      parseDeclared(text);
    } catch (e) {
      if (isLodeError(e)) return `${e.code} ${e.message}`;
      throw e;
    }
    return 'ok';
  };
  it('names the line and column of an unknown key, a quoted one and a table', () => {
    expect(message('purpose = "x"\n\n   colour = "red"\n')).toBe('CONFIG datasheet.toml:3:4: unknown key "colour"');
    expect(message('"purpose" = "x"\n"odd key" = "y"\n')).toBe('CONFIG datasheet.toml:2:1: unknown key "odd key"');
    expect(message('purpose = "x"\n[extra]\na = "b"\n')).toBe('CONFIG datasheet.toml:2:1: unknown key "extra"');
  });
  it('refuses a value that is not a string, and a syntax error with its position', () => {
    expect(message('retention = 24\n')).toBe('CONFIG datasheet.toml:1:1: retention must be a string');
    expect(message('purpose = """ok"""\npersonal_data = ["names"]\n')).toBe('CONFIG datasheet.toml:2:1: personal_data must be a string');
    expect(message('purpose = "x"\nretention = \n')).toMatch(/^CONFIG datasheet\.toml:2:\d+: /);
    expect(message('purpose = "x"\nretention = "y"\n')).toBe('ok');
  });
});
