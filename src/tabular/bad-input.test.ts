import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { tempTables } from './fixtures.test-support.js';
import { UsageError } from '../core/errors.js';
import { TableError, diffTable, type TableFormat, type TableInput } from './index.js';


const t = tempTables('bad');
const good = (): TableInput => t.write('good.csv', 'id,label\n1,cat\n2,dog\n');

/** expectTableError runs a diff of `bad` against a good file, both ways round, and checks the error. */
async function expectTableError(format: TableFormat, bad: TableInput, other: TableInput | null, want: { code: string; message: RegExp; row?: number; line?: number }, key?: string[]) {
  for (const [before, after] of [
    [bad, other],
    [other, bad],
  ] as const) {
    const err = await diffTable('t', format, before, after, { tmpDir: t.tmp(), key }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TableError);
    const te = err as TableError;
    expect(te.code).toBe(want.code);
    expect(te.message).toContain(bad.label);
    expect(te.message).toMatch(want.message);
    expect(te.hint).toBeTruthy();
    if (want.row !== undefined) expect(te.row).toBe(want.row);
    if (want.line !== undefined) expect(te.line).toBe(want.line);
    if (other === null) break;
  }
  // Nothing is left behind in the scratch directory, even on failure.
  expect(fs.readdirSync(t.tmp())).toEqual([]);
}

describe('malformed CSV', () => {
  it('reports the first ragged row', async () => {
    await expectTableError('csv', t.write('ragged.csv', 'a,b\n1,2\n3,4,5\n6\n'), good(), { code: 'CORRUPT', message: /row 2: has 3 fields, the header has 2/, row: 2 });
    await expectTableError('csv', t.write('short.csv', 'a,b\n1,2\n"x"\n'), good(), { code: 'CORRUPT', message: /row 2: has 1 field, the header has 2/, row: 2 });
  });

  it('reports an unterminated quote', async () => {
    await expectTableError('csv', t.write('open.csv', 'a,b\n1,2\n3,"never closed\n4,5\n'), good(), { code: 'CORRUPT', message: /unterminated quote/, row: 2 });
  });

  it('reports a stray quote inside a field and text after a closing quote', async () => {
    await expectTableError('csv', t.write('stray.csv', 'a,b\n1,ab"c\n'), good(), { code: 'CORRUPT', message: /stray quote/, row: 1 });
    await expectTableError('csv', t.write('after.csv', 'a,b\n1,2\n3,"x"y\n'), good(), { code: 'CORRUPT', message: /after the closing quote/, row: 2 });
  });

  it('reports invalid UTF-8 (a Latin-1 file) at its row', async () => {
    const bytes = Buffer.concat([Buffer.from('a,b\n1,caf\u00e9\n2,'), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from('\n')]);
    await expectTableError('csv', t.write('latin1.csv', bytes), good(), { code: 'CORRUPT', message: /row 2, byte 17: is not valid UTF-8/, row: 2 });
  });

  it('reports a binary file named .csv', async () => {
    const bin = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x0a, 0x00, 0xff]);
    await expectTableError('csv', t.write('binary.csv', bin), good(), { code: 'CORRUPT', message: /NUL byte/ });
  });

  it('reports an empty file and an empty header', async () => {
    await expectTableError('csv', t.write('empty.csv', ''), good(), { code: 'CORRUPT', message: /empty: there is no header row/ });
    await expectTableError('csv', t.write('bom-only.csv', '\uFEFF'), good(), { code: 'CORRUPT', message: /no header row/ });
    await expectTableError('csv', t.write('blank.csv', '\n1,2\n'), good(), { code: 'CORRUPT', message: /header row is empty/ });
    await expectTableError('csv', t.write('dupcol.csv', 'a,a\n1,2\n'), good(), { code: 'CORRUPT', message: /"a" appears twice/ });
  });

  it('reports a key column missing from the header', async () => {
    await expectTableError('csv', t.write('nokey.csv', 'ident,label\n1,cat\n'), good(), { code: 'USAGE', message: /key column "id" not found \(columns: ident, label\)/ }, ['id']);
  });

  it('reports a key that is not unique, naming the first duplicated row', async () => {
    const dup = t.write('dupkey.csv', 'id,label\n1,a\n2,b\n3,c\n2,d\n3,e\n');
    await expectTableError('csv', dup, good(), { code: 'USAGE', message: /key id="2" is not unique: rows 2 and 4 both have it/, row: 4 }, ['id']);
    // The same with every partition on disk.
    const err = await diffTable('t', 'csv', good(), dup, { tmpDir: t.tmp(), key: ['id'], memoryBudget: 1024 }).catch((e: unknown) => e);
    expect((err as TableError).row).toBe(4);
  });

  it('reports a Parquet key that is not unique by its rows, from entries that hold no positions', async () => {
    const file = (name: string, ids: number[]): TableInput => {
      const at = path.join(t.dir(), name);
      parquetWriteFile({ filename: at, columnData: [{ name: 'id', data: ids, type: 'INT32' }, { name: 'label', data: ids.map((i) => `l${i}`), type: 'STRING' }] });
      return { file: at, size: fs.statSync(at).size, label: name };
    };
    const dup = file('dupkey.parquet', [1, 2, 3, 2, 3]);
    const ok = file('okkey.parquet', [1, 2]);
    await expectTableError('parquet', dup, ok, { code: 'USAGE', message: /key id=2 is not unique: rows 2 and 4 both have it/, row: 4 }, ['id']);
    // The same with every partition on disk.
    const err = await diffTable('t', 'parquet', ok, dup, { tmpDir: t.tmp(), key: ['id'], memoryBudget: 1024 }).catch((e: unknown) => e);
    expect((err as TableError).row).toBe(4);
  });

  it('reports a row that never ends instead of buffering it all', async () => {
    const huge = t.write('runaway.csv', `a,b\n1,"${'x'.repeat(3 << 20)}`);
    await expectTableError('csv', huge, null, { code: 'CORRUPT', message: /unterminated quote/, row: 1 });
  });
});

describe('malformed JSON Lines', () => {
  it('reports invalid JSON and non-objects by line', async () => {
    const other = t.write('ok.jsonl', '{"id":1}\n');
    await expectTableError('jsonl', t.write('bad.jsonl', '{"id":1}\n\n{"id":2,}\n'), other, { code: 'CORRUPT', message: /row 2, line 3: invalid JSON/, line: 3 });
    await expectTableError('jsonl', t.write('arr.jsonl', '{"id":1}\n[1,2]\n'), other, { code: 'CORRUPT', message: /holds an array, not an object/, line: 2 });
    await expectTableError('jsonl', t.write('nul.jsonl', Buffer.from('{"id":1}\n\0\0\0\n')), other, { code: 'CORRUPT', message: /NUL byte/, line: 2 });
    await expectTableError('jsonl', t.write('nokey.jsonl', '{"x":1}\n'), other, { code: 'USAGE', message: /key column "id" not found/ }, ['id']);
  });
});

describe('malformed Parquet', () => {
  function parquetFile(name: string): Buffer {
    const file = path.join(t.dir(), name);
    parquetWriteFile({ filename: file, columnData: [{ name: 'id', data: [1, 2, 3], type: 'INT32' }] });
    return fs.readFileSync(file);
  }

  it('reports a file that is not Parquet or has a damaged footer', async () => {
    const other = t.write('ok.parquet', parquetFile('ok.parquet'));
    await expectTableError('parquet', t.write('text.parquet', 'id,label\n1,cat\n'), other, { code: 'CORRUPT', message: /cannot read the Parquet footer/ });
    await expectTableError('parquet', t.write('empty.parquet', ''), other, { code: 'CORRUPT', message: /empty/ });
    const cut = parquetFile('cut.parquet');
    await expectTableError('parquet', t.write('cut.parquet', cut.subarray(0, cut.length - 12)), other, { code: 'CORRUPT', message: /footer/ });
    const bent = Buffer.from(cut);
    bent.writeUInt32LE(bent.length * 4, bent.length - 8);
    await expectTableError('parquet', t.write('bent.parquet', bent), other, { code: 'CORRUPT', message: /footer/ });
  });

  it('reports an unsupported compression codec with its row group', async () => {
    const file = path.join(t.dir(), 'lzo.parquet');
    parquetWriteFile({ filename: file, columnData: [{ name: 'id', data: [1, 2, 3], type: 'INT32' }], codec: 'SNAPPY' });
    const bytes = fs.readFileSync(file);
    // Rewrite the codec recorded in the footer from SNAPPY (1) to LZO (3), which nothing here decodes.
    const { parquetMetadata } = await import('hyparquet');
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    expect(meta.row_groups[0].columns[0].meta_data?.codec).toBe('SNAPPY');
    const lzo = patchCodec(bytes);
    const other = t.write('ok2.parquet', fs.readFileSync(file));
    await expectTableError('parquet', t.write('lzo.parquet', lzo), other, { code: 'CORRUPT', message: /row group 1 of 1.*LZO/, row: 1 });
  });
});

describe('options', () => {
  it('rejects invalid options as usage errors', async () => {
    const g = good();
    await expect(diffTable('t', 'csv', g, g, { tmpDir: t.tmp(), key: ['id', 'id'] })).rejects.toBeInstanceOf(UsageError);
    await expect(diffTable('t', 'csv', g, g, { tmpDir: t.tmp(), limit: -1 })).rejects.toBeInstanceOf(UsageError);
  });
});

/**
 * patchCodec changes the codec of the (single) column chunk in a footer
 * written by hyparquet-writer: in the thrift compact encoding ColumnMetaData's
 * `path_in_schema` ("id") is followed by field 4 `codec` as the bytes 0x15
 * (field delta 1, type i32) and the zigzag value: 0x02 for SNAPPY (1).
 */
function patchCodec(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  const at = out.lastIndexOf(Buffer.from([0x02, 0x69, 0x64, 0x15, 0x02]));
  if (at < 0) throw new Error('codec field not found');
  out[at + 4] = 0x06; // zigzag(3) = LZO
  return out;
}
