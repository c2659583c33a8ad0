import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { eraseRows, parseWhere, writeKept, type ByteSource, type RowRule } from './erase.js';

const keys = (column: string, ...values: string[]): RowRule => ({ keys: new Map([[column, new Set(values)]]) });

describe('eraseRows keeps every other byte', () => {
  it('CSV: quoting, CRLF, a newline inside quotes, a byte order mark, blank lines and UTF-8 stay as they were', () => {
    const kept = ['\ufeffid,name,note\r\n', '1,"Ann ""A""","multi\r\nline"\r\n', '\r\n', '3,Zoë,plain\r\n', '5,"x,y",\n'];
    const gone = ['42,Bob,"has, comma"\r\n', '42,"Bob",again\r\n'];
    const text = kept[0] + kept[1] + gone[0] + kept[2] + kept[3] + gone[1] + kept[4];
    const r = eraseRows(Buffer.from(text), 'csv', keys('id', '42'));
    if (!r.ok) throw new Error(JSON.stringify(r));
    expect(r.removed).toBe(2);
    expect(r.rows).toBe(5);
    expect(r.bytes.toString()).toBe(kept.join(''));
  });

  it('CSV: a quoted key value matches its unquoted text; a last row without a newline can go', () => {
    const r = eraseRows(Buffer.from('id,v\n"7",a\n8,b\n7,c'), 'csv', keys('id', '7'));
    if (!r.ok) throw new Error(JSON.stringify(r));
    expect(r.bytes.toString()).toBe('id,v\n8,b\n');
  });

  it('TSV: quotes are data', () => {
    const r = eraseRows(Buffer.from('id\tname\n"1"\ta\n1\tb\n'), 'tsv', keys('id', '1'));
    if (!r.ok) throw new Error(JSON.stringify(r));
    expect(r.bytes.toString()).toBe('id\tname\n"1"\ta\n');
  });

  it('JSON Lines: numbers, strings and booleans match their text; other lines stay byte for byte', () => {
    const text = '{"id": 42, "n":"a"}\n{"id":"42"}\n{"id":420}\n\n{"id":true}\r\n{"other":1}\n';
    const r = eraseRows(Buffer.from(text), 'jsonl', { keys: new Map([['id', new Set(['42', 'true'])]]) });
    if (!r.ok) throw new Error(JSON.stringify(r));
    expect(r.removed).toBe(3);
    expect(r.bytes.toString()).toBe('{"id":420}\n\n{"other":1}\n');
  });

  it('several key columns: a row matching any of them goes', () => {
    const rule: RowRule = { keys: new Map([['id', new Set(['1'])], ['email', new Set(['b@x'])]]) };
    const r = eraseRows(Buffer.from('id,email\n1,a@x\n2,b@x\n3,c@x\n'), 'csv', rule);
    if (!r.ok) throw new Error(JSON.stringify(r));
    expect(r.bytes.toString()).toBe('id,email\n3,c@x\n');
  });
});

describe('eraseRows refuses what it cannot do safely', () => {
  it('names the missing key column', () => {
    expect(eraseRows(Buffer.from('ident,v\n1,a\n'), 'csv', keys('id', '1'))).toEqual({ ok: false, problem: 'missing-column', columns: ['id'] });
    expect(eraseRows(Buffer.from('{"x":1}\n'), 'jsonl', keys('id', '1'))).toMatchObject({ ok: false, problem: 'missing-column' });
  });

  it('reports a table that does not parse, with the row', () => {
    const r = eraseRows(Buffer.from('id,v\n1,a\n2,"open\n'), 'csv', keys('id', '1'));
    expect(r).toMatchObject({ ok: false, problem: 'unparsable' });
    expect(!r.ok && r.problem === 'unparsable' && r.message).toMatch(/line 3/);
    expect(eraseRows(Buffer.from('id,v\n1,a,extra\n'), 'csv', keys('id', '1'))).toMatchObject({ ok: false, problem: 'unparsable' });
    expect(eraseRows(Buffer.from('{"id":1}\nnot json\n'), 'jsonl', keys('id', '1'))).toMatchObject({ ok: false, problem: 'unparsable' });
  });
});

describe('parseWhere', () => {
  const cells = (o: Record<string, string>) => (c: string) => o[c];
  it('compares numbers as numbers and text as text, and binds and tighter than or', () => {
    const p = parseWhere('age >= 18 and country = "DE" or id = 7');
    expect(p.columns.sort()).toEqual(['age', 'country', 'id']);
    expect(p.test(cells({ age: '20', country: 'DE', id: '1' }))).toBe(true);
    expect(p.test(cells({ age: '9', country: 'DE', id: '1' }))).toBe(false);
    expect(p.test(cells({ age: '9', country: 'FR', id: '7' }))).toBe(true);
    expect(parseWhere('age < 10').test(cells({ age: '9' }))).toBe(true);
    expect(parseWhere('age < 10').test(cells({ age: '10' }))).toBe(false);
  });
  it('refuses what it cannot read', () => {
    expect(() => parseWhere('age >')).toThrow(SyntaxError);
    expect(() => parseWhere('age ~ 3')).toThrow(SyntaxError);
  });
  it('selects rows in eraseRows', () => {
    const r = eraseRows(Buffer.from('id,age\n1,10\n2,30\n'), 'csv', { keys: new Map(), where: parseWhere('age > 20') });
    if (!r.ok) throw new Error(JSON.stringify(r));
    expect(r.bytes.toString()).toBe('id,age\n1,10\n');
  });
});

describe('the fast path for key rules agrees with the full parser', () => {
  it('on generated tables with and without quotes, CRLF and UTF-8', () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    for (let t = 0; t < 50; t++) {
      const rows = ['id,name,note'];
      for (let i = 0; i < 40; i++) {
        const id = String(Math.floor(rnd() * 6));
        const name = rnd() < 0.3 ? `"N, ${i} ""q"""` : `n${i}é`;
        const note = rnd() < 0.2 ? `"two\nlines"` : `x${i}`;
        rows.push(`${rnd() < 0.2 ? `"${id}"` : id},${name},${note}`);
      }
      const eol = rnd() < 0.5 ? '\r\n' : '\n';
      const text = Buffer.from(rows.join(eol) + (rnd() < 0.5 ? eol : ''));
      const fast = eraseRows(text, 'csv', keys('id', '3', '4'));
      const slow = eraseRows(text, 'csv', { keys: new Map(), where: parseWhere('id = 3 or id = 4') });
      if (!fast.ok || !slow.ok) throw new Error('parse');
      expect(fast.bytes.equals(slow.bytes)).toBe(true);
      expect(fast.removed).toBe(slow.removed);
      expect(fast.rows).toBe(slow.rows);
      // Read through tiny windows (records cut at every possible place), both paths give the same.
      for (const window of [1, 7, 64]) {
        for (const rule of [keys('id', '3', '4'), { keys: new Map(), where: parseWhere('id = 3 or id = 4') }]) {
          const w = eraseRows(text, 'csv', rule, false, window);
          if (!w.ok) throw new Error('parse');
          expect(w.bytes.equals(slow.bytes)).toBe(true);
          expect(w.removedRanges).toEqual(slow.removedRanges);
        }
      }
    }
  });
});

/** windowed is `data` as a ByteSource that records the largest range asked of it. */
function windowed(data: Buffer): ByteSource & { largest: number; bytesRead: number } {
  const src = {
    length: data.length,
    largest: 0,
    bytesRead: 0,
    read(from: number, to: number) {
      expect(from).toBeGreaterThanOrEqual(0);
      expect(to).toBeLessThanOrEqual(data.length);
      src.largest = Math.max(src.largest, to - from);
      src.bytesRead += to - from;
      return Buffer.from(data.subarray(from, to));
    },
  };
  return src;
}

describe('eraseRows over a ByteSource reads it in windows', () => {
  it('JSON Lines and CSV: the same rows go as a line filter drops, and no read is much larger than the longest line', () => {
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) lines.push(JSON.stringify({ id: i % 17, note: `é${'y'.repeat(i % 5 === 0 ? 150 : i % 9)}` }));
    const jsonl = Buffer.from(`${lines.join('\n')}\n`);
    const wantJsonl = `${lines.filter((l) => JSON.parse(l).id !== 3).join('\n')}\n`;
    const csvLines = ['id,note', ...lines.map((l) => `${JSON.parse(l).id},${JSON.parse(l).note}`)];
    const csv = Buffer.from(`${csvLines.join('\r\n')}\r\n`);
    const wantCsv = csvLines.filter((l) => !l.startsWith('3,')).map((l) => `${l}\r\n`).join('');
    for (const [format, data, want] of [['jsonl', jsonl, wantJsonl], ['csv', csv, wantCsv]] as const) {
      for (const window of [16, 64, 1000]) {
        const src = windowed(data);
        const r = eraseRows(src, format, keys('id', '3'), true, window);
        if (!r.ok) throw new Error(JSON.stringify(r));
        expect(r.removed, `${format} ${window}`).toBe(18);
        // The longest line is under 200 bytes: a window doubles at most until it holds one.
        expect(src.largest, `${format} ${window}`).toBeLessThanOrEqual(Math.max(window, 512));
        expect(src.largest).toBeLessThan(data.length);
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lode-erase-')), 'out');
        const fd = fs.openSync(file, 'w');
        writeKept(fd, windowed(data), r.removedRanges);
        fs.closeSync(fd);
        expect(fs.readFileSync(file, 'utf8'), `${format} ${window}`).toBe(want);
        fs.rmSync(path.dirname(file), { recursive: true });
        // Asked for the bytes, a source gives what a Buffer gives.
        const whole = eraseRows(windowed(data), format, keys('id', '3'), false, window);
        if (!whole.ok) throw new Error(JSON.stringify(whole));
        expect(whole.bytes.toString('utf8')).toBe(want);
      }
    }
  });
});

describe('writeKept', () => {
  it('writes the file without the removed ranges', () => {
    const data = Buffer.from('h\na\nb\nc\n');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lode-erase-')), 'out');
    const fd = fs.openSync(file, 'w');
    writeKept(fd, data, [[2, 4], [6, 8]]);
    fs.closeSync(fd);
    expect(fs.readFileSync(file, 'utf8')).toBe('h\nb\n');
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});
