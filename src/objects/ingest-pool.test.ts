import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Errors from '../core/errors.js';
import type * as Pool from './ingest-pool.js';

// The pool's workers run compiled JavaScript: this uses the build (`npx tsc -p .` first), errors and pool from one place.
const builtPool = new URL('../../dist/objects/ingest-pool.js', import.meta.url);
const builtErrors = new URL('../../dist/core/errors.js', import.meta.url);
const haveBuild = fs.existsSync(fileURLToPath(builtPool));

const PARAMS = { min: 1024, avg: 4096, max: 16384 };

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-ingest-pool-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!haveBuild)('ingestFiles on worker threads', () => {
  /** fail ingests `tasks` on worker threads (never inline) and returns what it threw. */
  async function fail(tasks: Pool.IngestTask[], lodeDir: string | undefined): Promise<Error> {
    const { ingestFiles } = (await import(builtPool.href)) as typeof Pool;
    return ingestFiles(tasks, { lodeDir, params: PARAMS, threads: 2 }).then(
      () => expect.fail('ingestFiles should fail'),
      (e: unknown) => e as Error,
    );
  }

  it('rethrows a LodeError from a worker as its own class, with code, hint and fields', async () => {
    const m = (await import(builtErrors.href)) as typeof Errors;
    const ok = path.join(dir, 'ok.bin');
    fs.writeFileSync(ok, 'some bytes');
    // A file that vanished between listing and reading.
    const gone = await fail(
      [
        { abs: ok, rel: 'ok.bin', size: 10 },
        { abs: path.join(dir, 'gone.bin'), rel: 'gone.bin', size: 10 },
      ],
      undefined,
    );
    expect(gone).toBeInstanceOf(m.FileChangedError);
    const expected = new m.FileChangedError('gone.bin', 'vanished');
    expect({ ...gone }).toEqual({ ...expected });
    expect(gone.message).toBe(expected.message);
    // Thrown on the worker: the stack is the worker's.
    expect(gone.stack).toContain('ingest-worker.js');

    // A directory where a file was listed.
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    const notFile = await fail([{ abs: path.join(dir, 'sub'), rel: 'sub', size: 10 }], undefined);
    expect(notFile).toBeInstanceOf(m.NotFoundError);
    expect(notFile).toMatchObject({ code: 'NOT_FOUND', message: 'sub is not a regular file' });
  });

  it('rethrows an operating-system error with its code, naming the file', async () => {
    const m = (await import(builtErrors.href)) as typeof Errors;
    const file = path.join(dir, 'data.bin');
    fs.writeFileSync(file, 'bytes to store');
    // A cache directory that is a file: writing the object fails with ENOTDIR (or EEXIST) in the worker.
    const notADir = path.join(dir, 'not-a-dir');
    fs.writeFileSync(notADir, '');
    const e = (await fail([{ abs: file, rel: 'data.bin', size: 14 }], notADir)) as NodeJS.ErrnoException;
    expect(e).not.toBeInstanceOf(m.LodeError);
    expect(e.code).toMatch(/^E[A-Z]+$/);
    expect(e.message).toMatch(/^data\.bin: /);
  });
});
