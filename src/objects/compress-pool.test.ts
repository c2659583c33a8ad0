// CompressPool: objects in shared memory are compressed on worker threads
// exactly as in place (same codec, same round trip), and a pack sealed in a
// shared buffer reads back through its index.
import * as fs from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type * as Checksum from '../core/checksum.js';
import type * as Codec from './codec.js';
import type * as PoolModule from './compress-pool.js';
import type * as HashPoolModule from './hash-pool.js';
import type * as PackModule from './pack.js';

// The pool's workers run compiled JavaScript: this uses the build (`npx tsc -p .` first).
const built = (m: string) => new URL(`../../dist/objects/${m}.js`, import.meta.url);
const haveBuild = fs.existsSync(fileURLToPath(built('compress-worker')));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** table makes `n` bytes of CSV rows with random numbers. */
function table(n: number): Buffer {
  let s = 'id,kind,value,when\n';
  for (let i = 0; s.length < n; i++) s += `${i},${['a', 'b', 'c'][i % 3]},${(Math.random() * 1000).toFixed(3)},2025-0${1 + (i % 9)}-01\n`;
  return Buffer.from(s.slice(0, n));
}

describe.skipIf(!haveBuild)('CompressPool', () => {
  it('compresses shared bytes on a worker as compressSync would: tables by columns, random bytes not at all', async () => {
    const { CompressPool } = (await import(built('compress-pool').href)) as typeof PoolModule;
    const { sharedBuffer } = (await import(built('hash-pool').href)) as typeof HashPoolModule;
    const { CODEC_BROTLI_COLUMNS, decompress } = (await import(built('codec').href)) as typeof Codec;
    const pool = new CompressPool(2);
    try {
      const csv = table(1 << 20);
      const noise = randomBytes(600_000);
      const buf = sharedBuffer(csv.length + noise.length);
      csv.copy(buf);
      noise.copy(buf, csv.length);
      const [a, b] = await Promise.all([pool.compress(buf.subarray(0, csv.length)), pool.compress(buf.subarray(csv.length))]);
      expect(a!.codec).toBe(CODEC_BROTLI_COLUMNS);
      expect(a!.bytes.length).toBeLessThan(csv.length / 2);
      expect(decompress(a!.codec, a!.bytes, csv.length, 'csv').equals(csv)).toBe(true);
      expect(b).toBeUndefined();
      await expect(pool.compress(Buffer.from(csv))).rejects.toThrow(/shared memory only/);
    } finally {
      await pool.close();
    }
  });

  it('a pack sealed in a shared buffer (as a large push lays it out) reads back through its index', async () => {
    const { PackWriter, PackIndex, extract } = (await import(built('pack').href)) as typeof PackModule;
    await ((await import(new URL('../../dist/core/checksum.js', import.meta.url).href)) as typeof Checksum).loadXxhash();
    const { sharedBuffer } = (await import(built('hash-pool').href)) as typeof HashPoolModule;
    const objects = [table(700_000), randomBytes(300_000), table(200_000), Buffer.from('tiny')];
    const w = new PackWriter(sharedBuffer(2 << 20));
    for (const o of objects) w.add(sha(o), o, true);
    const { id, pack, index, columns } = await w.seal();
    expect(columns).toBe(true);
    expect(pack.length).toBeLessThan(700_000 / 2 + 300_000 + 200_000 / 2 + 1000);
    const idx = PackIndex.decode(index, id, pack.length);
    for (const o of objects) {
      const e = idx.find(sha(o))!;
      expect(extract({ offset: e.offset, length: e.length, entries: [e] }, pack.subarray(e.offset, e.offset + e.length), e, id).equals(o)).toBe(true);
    }
  });
});
