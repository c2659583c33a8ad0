import * as fs from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type * as Pool from './hash-pool.js';

// The pool's workers run compiled JavaScript: this uses the build (`npx tsc -p .` first).
const built = new URL('../../dist/objects/hash-pool.js', import.meta.url);
const haveBuild = fs.existsSync(fileURLToPath(built));

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** ranges cuts `bytes` into pieces of `size` with their true IDs. */
function ranges(bytes: Uint8Array, size: number): Pool.HashRange[] {
  const out: Pool.HashRange[] = [];
  for (let start = 0; start < bytes.length; start += size) {
    const end = Math.min(bytes.length, start + size);
    out.push({ start, end, id: sha(bytes.subarray(start, end)) });
  }
  return out;
}

describe.skipIf(!haveBuild)('HashPool', () => {
  it('checks shared buffers in place: all match, then the first damaged range is named', async () => {
    const { HashPool, sharedBuffer } = (await import(built.href)) as typeof Pool;
    const pool = new HashPool(2);
    try {
      const buf = sharedBuffer(3 << 20);
      randomBytes(buf.length).copy(buf);
      const rs = ranges(buf, 700_000);
      expect(await pool.verify(buf, rs)).toBe(-1);
      // A slot of a shared pack buffer, as push hands it over.
      const slot = buf.subarray(1 << 20, 2 << 20);
      expect(await pool.verify(slot, [{ start: 0, end: slot.length, id: sha(slot) }])).toBe(-1);
      buf[rs[2].start + 5] ^= 0x10;
      buf[rs[3].start] ^= 0x10;
      expect(await pool.verify(buf, rs)).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('checks a private buffer (or a view into one) through a staging copy, and leaves it as it was', async () => {
    const { HashPool } = (await import(built.href)) as typeof Pool;
    const pool = new HashPool(1);
    try {
      const buf = Buffer.alloc(2 << 20);
      randomBytes(buf.length).copy(buf);
      const copy = Buffer.from(buf);
      const rs = ranges(buf, 1 << 19);
      expect(await pool.verify(buf, rs)).toBe(-1);
      expect(buf.equals(copy)).toBe(true);

      // The staging buffer is reused: a second, different check must not see the first one's bytes.
      const view = copy.subarray(100, 100 + (1 << 20));
      view[1500] ^= 0xff;
      const wrong = [{ start: 0, end: 1000, id: sha(view.subarray(0, 1000)) }, { start: 1000, end: 2000, id: sha(buf.subarray(1100, 2100)) }];
      expect(await pool.verify(view, wrong)).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('many checks at once on two workers all come back, each with its own answer', async () => {
    const { HashPool, sharedBuffer } = (await import(built.href)) as typeof Pool;
    const pool = new HashPool(2);
    try {
      const buf = sharedBuffer(4 << 20);
      randomBytes(buf.length).copy(buf);
      const rs = ranges(buf, 1 << 16);
      const checks = rs.map((r, i) => pool.verify(buf, [i % 7 === 3 ? { ...r, id: sha(Buffer.from('other')) } : r]));
      const got = await Promise.all(checks);
      expect(got).toEqual(rs.map((_, i) => (i % 7 === 3 ? 0 : -1)));
    } finally {
      await pool.close();
    }
  });

  it('after close, a check is refused', async () => {
    const { HashPool, sharedBuffer } = (await import(built.href)) as typeof Pool;
    const pool = new HashPool(1);
    await pool.close();
    const buf = sharedBuffer(1024);
    await expect(pool.verify(buf, [{ start: 0, end: 1024, id: sha(buf) }])).rejects.toThrow(/closed/);
  });
});
