import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type * as PoolMod from './pack-file-pool.js';
import type * as PackMod from './pack.js';
import type * as Checksum from '../core/checksum.js';

// The pool's workers run compiled JavaScript: this uses the build (`npx tsc -p .` first).
const built = (p: string) => new URL(`../../dist/${p}`, import.meta.url);
const haveBuild = fs.existsSync(fileURLToPath(built('objects/pack-file-pool.js')));

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-pack-files-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function text(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  let at = 0;
  for (let i = 0; at < bytes; i++) at += out.write(`${i},cat,${i % 97}\n`, at);
  return out;
}

describe.skipIf(!haveBuild)('PackFilePool', () => {
  it('writes a pack file of cached-file ranges and given bytes, compressing only what pays: its index names it, every object reads back', async () => {
    const { PackFilePool } = (await import(built('objects/pack-file-pool.js').href)) as typeof PoolMod;
    const pack = (await import(built('objects/pack.js').href)) as typeof PackMod;
    await ((await import(built('core/checksum.js').href)) as typeof Checksum).loadXxhash();
    const random = randomBytes(3 << 20);
    const csv = text(2 << 20);
    const cached = path.join(dir, 'cached.bin');
    fs.writeFileSync(cached, Buffer.concat([random, csv]));
    const meta = Buffer.from('a tree, say');
    const items = [
      { id: sha(random.subarray(0, 1 << 20)), size: 1 << 20, file: cached, offset: 0, compress: true },
      { id: sha(random.subarray(1 << 20)), size: 2 << 20, file: cached, offset: 1 << 20, compress: true },
      { id: sha(csv), size: csv.length, file: cached, offset: 3 << 20, compress: true },
      { id: sha(meta), size: meta.length, bytes: meta, compress: false },
    ];
    const pool = new PackFilePool(2);
    try {
      const file = path.join(dir, 'p1');
      const w = await pool.write(file, items);
      const bytes = fs.readFileSync(file);
      expect(bytes.length).toBe(w.size);
      expect(w.compressed).toBe(true);
      expect(bytes.subarray(0, 5).toString('latin1')).toBe('LODP\x03');
      const index = pack.PackIndex.decode(w.index, w.id, bytes.length);
      const entries = [...index.entries()];
      expect(pack.packNameMatches(bytes, w.id, entries)).toBe(true);
      for (const it of items) {
        const e = index.find(it.id)!;
        expect(pack.isCompressed(e)).toBe(it.id === items[2].id);
        expect(sha(pack.objectBytes(bytes.subarray(e.offset, e.offset + e.length), e, w.id))).toBe(it.id);
      }
      // Nothing compressible: a version 2 pack, which every lode reads.
      const raw = await pool.write(path.join(dir, 'p2'), items.slice(0, 2));
      expect(raw.compressed).toBe(false);
      expect(fs.readFileSync(path.join(dir, 'p2')).subarray(0, 5).toString('latin1')).toBe('LODP\x02');
    } finally {
      await pool.close();
    }
  });

  it('refuses a range that does not match its ID, ends past its file, or whose file is gone: the item named, no file left', async () => {
    const { PackFilePool, PackFileError } = (await import(built('objects/pack-file-pool.js').href)) as typeof PoolMod;
    const data = randomBytes(2 << 20);
    const cached = path.join(dir, 'c.bin');
    fs.writeFileSync(cached, data);
    const good = { id: sha(data.subarray(0, 1 << 20)), size: 1 << 20, file: cached, offset: 0, compress: false };
    const pool = new PackFilePool(1);
    try {
      const fault = async (name: string, item: PoolMod.PackFileItem) => {
        const file = path.join(dir, name);
        const e = await pool.write(file, [good, item]).then(() => undefined, (x: unknown) => x);
        expect(e).toBeInstanceOf(PackFileError);
        expect(fs.existsSync(file)).toBe(false);
        return (e as InstanceType<typeof PackFileError>).fault;
      };
      expect(await fault('f1', { ...good, id: sha(data.subarray(1 << 20)), offset: 1 }).then((f) => [f.kind, f.index])).toEqual(['corrupt', 1]);
      expect(await fault('f2', { id: sha(data.subarray(1 << 20)), size: (1 << 20) + 1, file: cached, offset: 1 << 20, compress: false }).then((f) => [f.kind, f.index])).toEqual(['shorter', 1]);
      expect(await fault('f3', { ...good, file: path.join(dir, 'gone.bin') }).then((f) => [f.kind, f.index])).toEqual(['missing', 1]);
    } finally {
      await pool.close();
    }
  });
});
