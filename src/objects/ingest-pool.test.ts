import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
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

  it('workers and the inline path give the same IDs, chunks and checksums on files of varied sizes, and store the same bytes', async () => {
    const { ingestFiles } = (await import(builtPool.href)) as typeof Pool;
    const { createStoreDirs, LocalStore } = await import(new URL('../../dist/objects/store.js', import.meta.url).href);
    const { chunkLengths } = await import(new URL('../../dist/core/chunker.js', import.meta.url).href);
    const { loadXxhash, xxh64 } = await import(new URL('../../dist/core/checksum.js', import.meta.url).href);
    await loadXxhash();
    const sizes = [0, 1, 1023, 1024, 1025, 16_383, 16_384, 16_385, 40_000, 200_001, 1 << 20, (3 << 20) + 17];
    const tasks: Pool.IngestTask[] = sizes.map((size, i) => {
      const data = randomish(size, i + 1);
      const abs = path.join(dir, `varied-${i}.bin`);
      fs.writeFileSync(abs, data);
      return { abs, rel: `varied-${i}.bin`, size };
    });
    const run = async (threads: number) => {
      const lodeDir = path.join(dir, `store-${threads}`);
      createStoreDirs(lodeDir);
      return { results: await ingestFiles(tasks, { lodeDir, params: PARAMS, threads }), store: new LocalStore(lodeDir) };
    };
    const inline = await run(0);
    const workers = await run(2);
    for (const [i, t] of tasks.entries()) {
      const a = inline.results.get(i)!;
      const b = workers.results.get(i)!;
      expect({ ...b, ino: 0n, mtimeNs: 0n, ctimeNs: 0n }).toEqual({ ...a, ino: 0n, mtimeNs: 0n, ctimeNs: 0n });
      // The oracle: chunk boundaries from chunkLengths, IDs from SHA-256, checksum from xxh64, on the file as read here.
      const data = fs.readFileSync(t.abs);
      const lengths = chunkLengths(data, PARAMS);
      expect(a.chunks).toBe(Math.max(lengths.length, 1));
      expect(a.xxh).toBe(xxh64(data));
      if (lengths.length <= 1) expect(a.id).toBe(sha256(data));
      else {
        const list = workers.store.getChunkList(b.id);
        let off = 0;
        expect(list.chunks.map((c: { size: number }) => c.size)).toEqual(lengths);
        for (const c of list.chunks) {
          expect(c.id).toBe(sha256(data.subarray(off, off + c.size)));
          off += c.size;
        }
      }
      // Buffer.equals, not toEqual: a deep comparison of MiBs byte by byte takes minutes.
      expect(workers.store.readBlob(b.id).equals(data)).toBe(true);
      expect(inline.store.readBlob(a.id).equals(data)).toBe(true);
      // Small whole files (one chunk, at most 64 KiB) are packed, not cache files; the rest are cache files.
      const packed = a.kind === 'blob' && t.size <= 64 << 10;
      for (const s of [inline.store, workers.store]) {
        expect(s.packs.has(a.id), t.rel).toBe(packed);
        expect(fs.existsSync(s.filePath(a.id)), t.rel).toBe(!packed);
      }
    }
    // Nothing is left in the staging directories.
    expect(fs.readdirSync(path.join(dir, 'store-0', 'tmp'))).toEqual([]);
    expect(fs.readdirSync(path.join(dir, 'store-2', 'tmp'))).toEqual([]);
  });

  it('a file larger than XXH_MAX_BYTES gets no quick checksum (0n, "unknown"), the same on workers and inline', async () => {
    const { ingestFiles } = (await import(builtPool.href)) as typeof Pool;
    const { XXH_MAX_BYTES } = await import(new URL('../../dist/objects/ingest.js', import.meta.url).href);
    const big = path.join(dir, 'over.bin');
    const at = path.join(dir, 'at.bin');
    fs.writeFileSync(big, randomish(XXH_MAX_BYTES + 1, 99));
    fs.writeFileSync(at, randomish(XXH_MAX_BYTES, 98));
    const tasks = [
      { abs: big, rel: 'over.bin', size: XXH_MAX_BYTES + 1 },
      { abs: at, rel: 'at.bin', size: XXH_MAX_BYTES },
    ];
    for (const threads of [0, 2]) {
      const r = await ingestFiles(tasks, { lodeDir: undefined, params: { min: 256 << 10, avg: 1 << 20, max: 4 << 20 }, threads });
      expect(r.get(0)!.xxh).toBe(0n);
      expect(r.get(1)!.xxh).not.toBe(0n);
      expect(r.get(0)!.kind).toBe('chunked');
    }
    fs.rmSync(big);
    fs.rmSync(at);
  });
});

/** randomish: `n` bytes of xorshift32 noise from `seed` (an oracle independent of node:crypto). */
function randomish(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeInt32LE(x | 0, i);
  }
  for (; i < n; i++) b[i] = i & 0xff;
  return b;
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
