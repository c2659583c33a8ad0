// Shared by the tabular tests (excluded from the build like the tests themselves).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { TableInput } from './types.js';

/** tempTables gives each test file a scratch directory, removed afterwards. */
export function tempTables(prefix: string): { dir: () => string; write: (name: string, content: string | Buffer) => TableInput; tmp: () => string } {
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
