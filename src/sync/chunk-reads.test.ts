import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type * as Pool from '../objects/hash-pool.js';
import type * as Reads from './chunk-reads.js';

// The hash pool's workers run compiled JavaScript: this uses the build (`npx tsc -p .` first).
const builtPool = new URL('../../dist/objects/hash-pool.js', import.meta.url);
const builtReads = new URL('../../dist/sync/chunk-reads.js', import.meta.url);
const haveBuild = fs.existsSync(fileURLToPath(builtPool)) && fs.existsSync(fileURLToPath(builtReads));

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-chunk-reads-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const faults = {
  missing: (id: string) => new Error(`missing ${id}`),
  shorter: (file: string, id: string) => new Error(`shorter ${path.basename(file)} ${id}`),
  corrupt: (id: string) => new Error(`corrupt ${id}`),
};

/** A file of `size` random bytes cut into chunks of `chunk` bytes (the last shorter), with their IDs. */
function cachedFile(name: string, size: number, chunk: number): { file: string; bytes: Buffer; chunks: { offset: number; size: number; id: string }[] } {
  const bytes = randomBytes(size);
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  const chunks = [];
  for (let offset = 0; offset < size; offset += chunk) {
    const n = Math.min(chunk, size - offset);
    chunks.push({ offset, size: n, id: sha(bytes.subarray(offset, offset + n)) });
  }
  return { file, bytes, chunks };
}

async function settle(ps: Promise<void>[]): Promise<string[]> {
  const out = await Promise.allSettled(ps);
  return out.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
}

describe.skipIf(!haveBuild)('ChunkReads', () => {
  it('lays the chunks of two files (read in runs, one gap) exactly where their slots are, and checks every one', async () => {
    const { HashPool, sharedBuffer } = (await import(builtPool.href)) as typeof Pool;
    const { ChunkReads } = (await import(builtReads.href)) as typeof Reads;
    const pool = new HashPool(2);
    try {
      const a = cachedFile('a.bin', 21 << 20, 1 << 20); // more than one run (8 MiB) of neighbours
      const b = cachedFile('b.bin', 3 << 20, 700_000);
      const buffer = sharedBuffer(40 << 20);
      buffer.fill(0xee);
      const reads = new ChunkReads(pool, faults);
      const expected: { at: number; bytes: Buffer }[] = [];
      let at = 16;
      const place = (f: ReturnType<typeof cachedFile>, i: number) => {
        const c = f.chunks[i];
        reads.add(buffer.subarray(at, at + c.size), f.file, c.offset, c.id);
        expected.push({ at, bytes: f.bytes.subarray(c.offset, c.offset + c.size) });
        at += c.size;
      };
      for (let i = 0; i < a.chunks.length; i++) if (i !== 5) place(a, i); // chunk 5 skipped: the next one starts a new run
      for (let i = 0; i < b.chunks.length; i++) place(b, i);
      at += 100; // a gap in the buffer: a new run, though the file offsets follow
      place(a, 5);
      expect(await settle(reads.take())).toEqual([]);
      for (const e of expected) expect(buffer.subarray(e.at, e.at + e.bytes.length).equals(e.bytes)).toBe(true);
      expect(reads.take()).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('names the first chunk that does not match its ID, a chunk past the end of a cut file, and a file that is gone', async () => {
    const { HashPool, sharedBuffer } = (await import(builtPool.href)) as typeof Pool;
    const { ChunkReads } = (await import(builtReads.href)) as typeof Reads;
    const pool = new HashPool(2);
    try {
      const c = cachedFile('c.bin', 4 << 20, 1 << 20);
      // The cached file changed after its chunks were listed: a byte in chunk 2 flipped.
      const fd = fs.openSync(c.file, 'r+');
      fs.writeSync(fd, Buffer.from([c.bytes[(2 << 20) + 77] ^ 1]), 0, 1, (2 << 20) + 77);
      fs.closeSync(fd);
      const d = cachedFile('d.bin', 4 << 20, 1 << 20);
      fs.truncateSync(d.file, (2 << 20) + 5); // chunk 2 is cut, chunk 3 is gone
      const buffer = sharedBuffer(16 << 20);
      const reads = new ChunkReads(pool, faults);
      let at = 0;
      for (const ch of c.chunks) {
        reads.add(buffer.subarray(at, at + ch.size), c.file, ch.offset, ch.id);
        at += ch.size;
      }
      const corrupt = reads.take();
      for (const ch of d.chunks) {
        reads.add(buffer.subarray(at, at + ch.size), d.file, ch.offset, ch.id);
        at += ch.size;
      }
      const short = reads.take();
      reads.add(buffer.subarray(0, 10), path.join(dir, 'gone.bin'), 0, 'f'.repeat(64));
      const gone = reads.take();
      expect(await settle(corrupt)).toEqual([`corrupt ${c.chunks[2].id}`]);
      expect(await settle(short)).toEqual([`shorter d.bin ${d.chunks[2].id}`]);
      expect(await settle(gone)).toEqual([`missing ${'f'.repeat(64)}`]);
    } finally {
      await pool.close();
    }
  });
});
