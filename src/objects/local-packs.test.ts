import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { CorruptObjectError } from '../core/errors.js';
import { LocalPacks } from './local-packs.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function packsIn(): LocalPacks {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-local-packs-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'tmp'));
  return new LocalPacks(path.join(dir, 'packs'), path.join(dir, 'tmp'));
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** file(i) is a distinct small content of 8 to about 510 bytes. */
const file = (i: number) => Buffer.from(`file ${i}:${'x'.repeat(i % 500)}`);

describe('LocalPacks', () => {
  it('finds every file written, across several writers, and nothing else', () => {
    const packs = packsIn();
    const ids: string[] = [];
    for (let w = 0; w < 3; w++) {
      const writer = packs.writer();
      for (let i = w * 700; i < (w + 1) * 700; i++) {
        const data = file(i);
        writer.add(sha(data), data);
        ids.push(sha(data));
      }
      // Invisible until sealed.
      if (w === 2) expect(packs.has(ids[ids.length - 1])).toBe(false);
      writer.finish();
    }
    for (let i = 0; i < ids.length; i++) expect(packs.read(ids[i])).toEqual(file(i));
    expect(packs.has(sha(Buffer.from('not there')))).toBe(false);
    expect(packs.read(sha(Buffer.from('not there')))).toBeUndefined();
    expect(new Set(packs.ids())).toEqual(new Set(ids));
  });

  it('finds every file of a large pack (fan-out table) by hex ID and by ID bytes, and no ID that differs in its last byte or shares its first bits', () => {
    const packs = packsIn();
    const writer = packs.writer();
    const ids: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const data = Buffer.from(`small ${i}`);
      writer.add(sha(data), data);
      ids.push(sha(data));
    }
    writer.finish();
    const bytes = Buffer.alloc(32 * ids.length + 7);
    ids.forEach((id, i) => bytes.write(id, 7 + 32 * i, 'hex'));
    for (let i = 0; i < ids.length; i++) {
      expect(packs.has(ids[i])).toBe(true);
      expect(packs.hasKey(bytes, 7 + 32 * i)).toBe(true);
    }
    // Near misses: the last byte changed, the first 16 or 32 bits kept and the rest changed, the very first and last IDs.
    const absent = (id: string) => !ids.includes(id);
    const near = ids.slice(0, 300).flatMap((id) => [
      id.slice(0, 62) + ((parseInt(id.slice(62), 16) + 1) % 256).toString(16).padStart(2, '0'),
      id.slice(0, 4) + 'f'.repeat(60),
      id.slice(0, 8) + '0'.repeat(56),
    ]);
    const edges = ['0'.repeat(64), 'f'.repeat(64)];
    for (const id of [...near, ...edges].filter(absent)) {
      expect(packs.has(id)).toBe(false);
      expect(packs.hasKey(Buffer.from(id, 'hex'))).toBe(false);
    }
    expect(packs.read(ids[12_345])).toEqual(Buffer.from('small 12345'));
  });

  it('drop removes dead files and keeps every live one (a pack of only dead files goes whole)', () => {
    const packs = packsIn();
    const w1 = packs.writer();
    const ids = Array.from({ length: 200 }, (_, i) => {
      w1.add(sha(file(i)), file(i));
      return sha(file(i));
    });
    w1.finish();
    const w2 = packs.writer();
    const only = Array.from({ length: 20 }, (_, i) => {
      w2.add(sha(file(1000 + i)), file(1000 + i));
      return sha(file(1000 + i));
    });
    w2.finish();
    const dead = new Set([...ids.filter((_, i) => i % 3 === 0), ...only]);
    const r = packs.drop(dead);
    expect(r.files).toBe(dead.size);
    for (let i = 0; i < ids.length; i++) {
      if (dead.has(ids[i])) expect(packs.has(ids[i])).toBe(false);
      else expect(packs.read(ids[i])).toEqual(file(i));
    }
    for (const id of only) expect(packs.has(id)).toBe(false);
    // One pack and its index remain.
    expect(fs.readdirSync(packs.dir).sort().map((n) => path.extname(n))).toEqual(['.idx', '.pack']);
  });

  it('reports damaged bytes as corrupt, and a damaged index as a problem instead of reading through it', () => {
    const packs = packsIn();
    const w = packs.writer();
    const data = Buffer.alloc(3000, 7);
    w.add(sha(data), data);
    w.finish();
    const [packName] = fs.readdirSync(packs.dir).filter((n) => n.endsWith('.pack'));
    const packFile = path.join(packs.dir, packName);
    fs.chmodSync(packFile, 0o644);
    const bytes = fs.readFileSync(packFile);
    bytes[bytes.length - 1] ^= 1;
    fs.writeFileSync(packFile, bytes);
    packs.reload();
    expect(() => packs.read(sha(data))).toThrow(CorruptObjectError);

    const idxFile = packFile.replace(/\.pack$/, '.idx');
    fs.chmodSync(idxFile, 0o644);
    const idx = fs.readFileSync(idxFile);
    idx[idx.length - 20] ^= 1;
    fs.writeFileSync(idxFile, idx);
    packs.reload();
    expect(packs.has(sha(data))).toBe(false);
    expect(packs.problems()).toHaveLength(1);
    expect(packs.problems()[0].problem).toMatch(/checksum/);
  });

  it('refuses an index with a good checksum that lists IDs out of order, twice, or outside its pack', () => {
    const packs = packsIn();
    const w = packs.writer();
    const ids = Array.from({ length: 50 }, (_, i) => {
      w.add(sha(file(i)), file(i));
      return sha(file(i));
    });
    w.finish();
    const [name] = fs.readdirSync(packs.dir).filter((n) => n.endsWith('.idx'));
    const idxFile = path.join(packs.dir, name);
    fs.chmodSync(idxFile, 0o644);
    const good = fs.readFileSync(idxFile);
    // Layout (docs/formats.md): "LODL" 0x01, pack name, u32 count, then 44-byte entries (ID, u64 offset, u32 length), 16-byte checksum.
    const head = 5 + 32 + 4;
    const entry = (i: number) => head + i * 44;
    const forge = (edit: (b: Buffer) => void) => {
      const b = Buffer.from(good);
      edit(b);
      createHash('sha256').update(b.subarray(0, b.length - 16)).digest().copy(b, b.length - 16, 0, 16);
      fs.writeFileSync(idxFile, b);
      packs.reload();
      return packs.problems().map((x) => x.problem.replace(/.*is corrupt: /, ''));
    };
    // The IDs as stored, sorted: entries 10 and 11 swapped, entry 21 a copy of entry 20, an offset past the end.
    expect(forge(() => {})).toEqual([]);
    expect(ids.every((id) => packs.has(id))).toBe(true);
    expect(forge((b) => {
      const ten = Buffer.from(b.subarray(entry(10), entry(11)));
      b.copy(b, entry(10), entry(11), entry(12));
      ten.copy(b, entry(11));
    })).toEqual(['IDs not sorted']);
    expect(forge((b) => b.copy(b, entry(21), entry(20), entry(20) + 32))).toEqual(['IDs not sorted']);
    expect(forge((b) => b.writeUInt32BE(0xffffff, entry(30) + 32 + 4))).toEqual(['file 30 lies outside the pack']);
    expect(packs.has(ids[0])).toBe(false);
    expect(forge(() => {})).toEqual([]);
    expect(ids.every((id, i) => packs.read(id)!.equals(file(i)))).toBe(true);
  });

  it('reads in pack order (through the read-ahead window), backwards and at random give the same bytes; a flipped byte is caught either way', () => {
    const packs = packsIn();
    const w = packs.writer();
    const n = 3000; // about 750 KB: several windows' worth of reads in order
    const ids = Array.from({ length: n }, (_, i) => {
      w.add(sha(file(i)), file(i));
      return sha(file(i));
    });
    w.finish();
    const scratch = Buffer.alloc(64 << 10);
    for (let i = 0; i < n; i++) expect(packs.read(ids[i], scratch)!.equals(file(i))).toBe(true);
    for (let i = n - 1; i >= 0; i -= 7) expect(packs.read(ids[i])!.equals(file(i))).toBe(true);
    for (let k = 0; k < 500; k++) {
      const i = (k * 7919) % n;
      expect(packs.read(ids[i], scratch)!.equals(file(i))).toBe(true);
    }
    // Flip a byte of file 1500 (found by its bytes), then read in order again: caught where the window serves it.
    const [packName] = fs.readdirSync(packs.dir).filter((x) => x.endsWith('.pack'));
    const packFile = path.join(packs.dir, packName);
    const bytes = fs.readFileSync(packFile);
    const at = bytes.indexOf(file(1500));
    expect(at).toBeGreaterThan(0);
    bytes[at + 3] ^= 1;
    fs.chmodSync(packFile, 0o644);
    fs.writeFileSync(packFile, bytes);
    packs.reload();
    for (let i = 1490; i < 1500; i++) expect(packs.read(ids[i], scratch)!.equals(file(i))).toBe(true);
    expect(() => packs.read(ids[1500], scratch)).toThrow(CorruptObjectError);
    expect(packs.read(ids[1501], scratch)!.equals(file(1501))).toBe(true);
  });

  it('a file packed twice (added again) reads from the copy that checks out', () => {
    const packs = packsIn();
    const data = Buffer.from('packed twice, the first copy damaged\n');
    for (let k = 0; k < 2; k++) {
      const w = packs.writer();
      w.add(sha(data), data);
      w.finish();
    }
    const names = fs.readdirSync(packs.dir).filter((x) => x.endsWith('.pack'));
    expect(names).toHaveLength(2);
    const first = packs.locate(sha(data))!.pack;
    const packFile = path.join(packs.dir, `${first}.pack`);
    const bytes = fs.readFileSync(packFile);
    bytes[bytes.length - 2] ^= 1;
    fs.chmodSync(packFile, 0o644);
    fs.writeFileSync(packFile, bytes);
    packs.reload();
    expect(packs.read(sha(data))).toEqual(data);
    expect(packs.locateAll(sha(data))).toHaveLength(2);
  });

  it('an aborted writer leaves nothing visible, and a pack without an index is swept', () => {
    const packs = packsIn();
    const w = packs.writer();
    w.add(sha(file(3)), file(3));
    w.abort();
    expect(packs.has(sha(file(3)))).toBe(false);
    expect(fs.existsSync(packs.dir) ? fs.readdirSync(packs.dir) : []).toEqual([]);
    fs.mkdirSync(packs.dir, { recursive: true });
    fs.writeFileSync(path.join(packs.dir, `${'ab'.repeat(32)}.pack`), 'LODP');
    expect(packs.removeOrphans(60_000)).toBe(0); // too young
    expect(packs.removeOrphans(0)).toBe(1);
  });
});
