import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableDiff, TableDiffOptions, TableFormat, TableInput } from './index.js';

/** tempTables gives each test file a scratch directory, removed afterwards. */
function tempTables(prefix: string): { dir: () => string; write: (name: string, content: string | Buffer) => TableInput; tmp: () => string } {
  let dir = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `lode-tabular-${prefix}-`));
    fs.mkdirSync(path.join(dir, 'tmp'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return {
    dir: () => dir,
    tmp: () => path.join(dir, 'tmp'),
    write(name, content) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, content);
      return { file, size: fs.statSync(file).size, label: `${name} at test` };
    },
  };
}

const t = tempTables('workers');
// The worker script exists only in the build: this test runs the compiled module (`npx tsc -p .` first).
const built = new URL('../../dist/tabular/index.js', import.meta.url);
const haveBuild = fs.existsSync(fileURLToPath(built));

describe.skipIf(!haveBuild)('scans on worker threads', () => {
  it('give the same diff as inline scans, and pass errors back intact', async () => {
    const m = (await import(built.href)) as {
      diffTable: (p: string, f: TableFormat, b: TableInput | null, a: TableInput | null, o: TableDiffOptions) => Promise<TableDiff>;
    };
    const rows = (edit: boolean) =>
      'id,label,x\n' + Array.from({ length: 20000 }, (_, i) => `${i},${edit && i % 100 === 0 ? 'new' : ['a', 'b'][i % 2]},${i % 13}`).join('\n') + '\n';
    const a = t.write('w1.csv', rows(false));
    const b = t.write('w2.csv', rows(true));
    const options = { tmpDir: t.tmp(), key: ['id'], rows: true, limit: 5 };
    const inline = await m.diffTable('t', 'csv', a, b, { ...options, parallel: false });
    const threaded = await m.diffTable('t', 'csv', a, b, { ...options, parallel: true });
    expect(threaded).toEqual(inline);
    expect(inline.rows.modified).toBe(200);
    const bad = t.write('w3.csv', 'id,label,x\n1,a,1\n2,b\n');
    const err = (await m.diffTable('t', 'csv', a, bad, { ...options, parallel: true }).catch((e: unknown) => e)) as Error & { code: string; row: number; hint: string };
    expect(err.constructor.name).toBe('TableError');
    expect(err).toMatchObject({ code: 'CORRUPT', row: 2 });
    expect(err.message).toContain('w3.csv at test: row 2: has 2 fields');
    expect(err.hint).toBeTruthy();
  });
});
