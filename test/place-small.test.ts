// placeSmallFiles (workspace/place-small.ts) creates many small files on
// worker threads: it must never write over anything that stands at a
// destination, must report exactly the files it made (with their real
// stats), and must leave every other file to the caller, absent.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lodeOk, makeTempDir, pseudoRandomBytes, removeDir, writeFile } from './helpers/cli.js';

// The writer threads run compiled JavaScript: this uses the build (`npx tsc -p .` first).
const dist = new URL('../dist/', import.meta.url);
const haveBuild = fs.existsSync(fileURLToPath(new URL('workspace/place-small.js', dist)));

let base = '';
let clone = '';
const N = 1500;

beforeAll(async () => {
  if (!haveBuild) return;
  base = makeTempDir('lode-place-small');
  const a = path.join(base, 'a');
  fs.mkdirSync(a);
  await lodeOk(['init'], { cwd: a });
  for (let i = 0; i < N; i++) writeFile(a, `data/d${i % 30}/f${i}.bin`, pseudoRandomBytes(100 + ((i * 37) % 5000), i + 1));
  await lodeOk(['add', 'data'], { cwd: a });
  await lodeOk(['commit', '-m', 'v1'], { cwd: a });
  await lodeOk(['remote', 'add', 'origin', path.join(base, 'share')], { cwd: a });
  await lodeOk(['push'], { cwd: a });
  clone = path.join(base, 'b');
  await lodeOk(['clone', path.join(base, 'share'), clone], { cwd: base });
}, 300_000);

afterAll(() => {
  if (base) removeDir(base);
});

describe.skipIf(!haveBuild)('placeSmallFiles', () => {
  for (const threads of [0, 1, 2]) {
    it(`with ${threads} writer thread(s): never writes over what stands there, and reports exactly what it made`, async () => {
      const { Repository } = await import(new URL('repo/repository.js', dist).href);
      const { Linker } = await import(new URL('workspace/link.js', dist).href);
      const { placeSmallFiles } = await import(new URL('workspace/place-small.js', dist).href);
      const repo = Repository.open(clone);
      const index = await repo.readIndex();
      expect(index.entries).toHaveLength(N);
      const out = path.join(base, `out-${threads}`);
      const files = index.entries.map((e: { id: string; size: number; exec: boolean; path: string }) => ({ id: e.id, size: e.size, exec: e.exec, dest: path.join(out, e.path), rel: e.path }));
      // Something already stands at two destinations: a file, and a directory holding one.
      const taken = files[10];
      fs.mkdirSync(path.dirname(taken.dest), { recursive: true });
      fs.writeFileSync(taken.dest, 'mine');
      const dirThere = files[777];
      fs.mkdirSync(dirThere.dest, { recursive: true });
      fs.writeFileSync(path.join(dirThere.dest, 'inside'), 'also mine');
      // And a file stands where a whole folder goes.
      const folderOf = (f: { dest: string }) => path.dirname(f.dest);
      const blockedFolder = folderOf(files.find((f: { dest: string }) => folderOf(f) !== folderOf(taken) && folderOf(f) !== folderOf(dirThere)));
      fs.writeFileSync(blockedFolder, 'a file where a folder goes');

      const placed = new Map<string, { mtimeNs: bigint; ctimeNs: bigint; ino: bigint }>();
      const made = await placeSmallFiles(repo.store, new Linker(repo.store, ['copy']), files, (f: { dest: string }, p: { dest: string; inPlace?: boolean; stat?: { mtimeNs: bigint; ctimeNs: bigint; ino: bigint } }) => {
        expect(p.dest).toBe(f.dest);
        expect(p.inPlace).toBe(true);
        expect(placed.has(f.dest)).toBe(false);
        placed.set(f.dest, p.stat!);
      }, threads);
      expect(made).toBe(placed.size);

      // What stood there is untouched and not reported.
      expect(fs.readFileSync(taken.dest, 'utf8')).toBe('mine');
      expect(fs.readFileSync(path.join(dirThere.dest, 'inside'), 'utf8')).toBe('also mine');
      expect(placed.has(taken.dest)).toBe(false);
      expect(placed.has(dirThere.dest)).toBe(false);
      expect(fs.readFileSync(blockedFolder, 'utf8')).toBe('a file where a folder goes');
      const inBlocked = files.filter((f: { dest: string }) => folderOf(f) === blockedFolder);
      expect(inBlocked.length).toBeGreaterThan(0);
      for (const f of inBlocked) expect(placed.has(f.dest)).toBe(false);
      // Only files of the batches that met them are left over (at most a batch each).
      expect(placed.size).toBeGreaterThanOrEqual(N - 2 * 256 - inBlocked.length);
      for (const f of files) {
        if (f === taken || f === dirThere || folderOf(f) === blockedFolder) continue;
        const st = placed.get(f.dest);
        if (!st) {
          expect(fs.existsSync(f.dest), `${f.rel} was not reported, so it must not exist`).toBe(false);
          continue;
        }
        expect(fs.readFileSync(f.dest).equals(fs.readFileSync(path.join(clone, f.rel))), f.rel).toBe(true);
        const real = fs.lstatSync(f.dest, { bigint: true });
        expect([real.mtimeNs, real.ctimeNs, real.ino]).toEqual([st.mtimeNs, st.ctimeNs, st.ino]);
      }
    }, 120_000);
  }
});
