// A clone of thousands of small files in many folders: the new files are
// created on several threads at once (workspace/place-small.ts). The bytes,
// modes and recorded stats must be exactly what one thread would have made,
// and a later checkout must still refuse to overwrite a local edit.

import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, sha256, writeFile } from '../test/helpers/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

/** files lists every entry below `dir` (recursive) that is not under .lode, as relative paths, sorted. */
function entriesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .filter((p) => p !== '.lode' && !p.startsWith(`.lode${path.sep}`))
    .sort();
}

/**
 * A source workspace: 3,000 files in 150 folders (two levels deep, a few odd
 * names), of 0 to ~20 KB, every 97th executable, plus two files too large to
 * be packed; committed and pushed to a directory remote.
 */
async function source(prefix: string) {
  const base = makeTempDir(`lode-e2e-${prefix}`);
  dirs.push(base);
  const a = path.join(base, 'alice');
  fs.mkdirSync(a);
  await lodeOk(['init'], { cwd: a });
  for (let i = 0; i < 3000; i++) {
    const folder = i % 150 === 7 ? 'with space é' : `g${i % 15}/d${i % 150}`;
    const size = i % 101 === 0 ? 0 : (i * 7919) % 20_000;
    const file = writeFile(a, `data/${folder}/f${i}.bin`, pseudoRandomBytes(size, i + 1));
    if (i % 97 === 0) fs.chmodSync(file, 0o755);
  }
  writeFile(a, 'data/big/one.bin', pseudoRandomBytes(300_000, 5));
  writeFile(a, 'data/big/two.bin', pseudoRandomBytes(150_000, 6));
  await lodeOk(['add', 'data'], { cwd: a });
  await lodeOk(['commit', '-m', 'v1'], { cwd: a });
  const share = path.join(base, 'share');
  await lodeOk(['remote', 'add', 'origin', share], { cwd: a });
  await lodeOk(['push'], { cwd: a });
  return { base, a, share };
}

describe('a clone of many small files in many folders', () => {
  it('has exactly the bytes and modes of the source, leaves no temporary file, and records true stats', async () => {
    const { base, a, share } = await source('small-clone');
    const b = path.join(base, 'bob');
    const cl = await lodeJson(['clone', share, b], { cwd: base });
    expect(cl.checkout.written).toBe(3002);

    // The same entries (files and folders), nothing more: no temporary names.
    const want = entriesUnder(a);
    expect(entriesUnder(b)).toEqual(want);
    let files = 0;
    const contents = new Set<string>();
    for (const rel of want) {
      const src = fs.lstatSync(path.join(a, rel));
      const dst = fs.lstatSync(path.join(b, rel));
      expect(dst.isDirectory(), rel).toBe(src.isDirectory());
      if (!src.isFile()) continue;
      files++;
      expect(dst.isFile(), rel).toBe(true);
      const bytes = fs.readFileSync(path.join(a, rel));
      expect(fs.readFileSync(path.join(b, rel)).equals(bytes), rel).toBe(true);
      contents.add(sha256(bytes));
      expect(dst.mode & 0o111, rel).toBe(src.mode & 0o111);
    }
    expect(files).toBe(3002);

    // The index holds the stats the files have: status hashes nothing, so it
    // has nothing to refresh and leaves the index as the clone wrote it.
    const index = fs.readFileSync(path.join(b, '.lode', 'index'));
    expect((await lodeJson(['status'], { cwd: b })).clean).toBe(true);
    expect(fs.readFileSync(path.join(b, '.lode', 'index')).equals(index)).toBe(true);
    const f = await lodeJson(['fsck'], { cwd: b });
    expect(f.ok).toBe(true);
    expect(f.files).toBe(contents.size); // distinct contents: the empty files share one
  });

  it('still refuses a checkout over a local edit and keeps the edit, and carries an edit the switch does not touch', async () => {
    const { base, a, share } = await source('small-clone-edit');
    // v2 changes two small files.
    writeFile(a, 'data/g1/d1/f1.bin', 'v2 of f1');
    writeFile(a, 'data/g2/d2/f2.bin', 'v2 of f2');
    await lodeOk(['commit', '-a', '-m', 'v2'], { cwd: a });
    await lodeOk(['push'], { cwd: a });
    const v1 = (await lodeJson(['log'], { cwd: a })).commits.find((c: { message: string }) => c.message.trim() === 'v1').id as string;

    const b = path.join(base, 'bob');
    await lodeOk(['clone', '--all', share, b], { cwd: base });
    expect(fs.readFileSync(path.join(b, 'data/g1/d1/f1.bin'), 'utf8')).toBe('v2 of f1');

    // A local edit of a file the switch to v1 changes: refused, nothing written.
    writeFile(b, 'data/g1/d1/f1.bin', 'my edit');
    const r = await runLode(['checkout', v1], { cwd: b });
    const err = expectLodeError(r, 7);
    expect(err).toMatch(/^error: .*data\/g1\/d1\/f1\.bin/m);
    expect(fs.readFileSync(path.join(b, 'data/g1/d1/f1.bin'), 'utf8')).toBe('my edit');
    expect(fs.readFileSync(path.join(b, 'data/g2/d2/f2.bin'), 'utf8')).toBe('v2 of f2');

    // Put back, then edit a file v1 and v2 share: the switch carries the edit over.
    fs.rmSync(path.join(b, 'data/g1/d1/f1.bin'));
    await lodeOk(['checkout', '--', 'data/g1/d1/f1.bin'], { cwd: b });
    writeFile(b, 'data/g3/d3/f3.bin', 'kept edit');
    await lodeOk(['checkout', v1], { cwd: b });
    expect(fs.readFileSync(path.join(b, 'data/g3/d3/f3.bin'), 'utf8')).toBe('kept edit');
    expect(fs.readFileSync(path.join(b, 'data/g1/d1/f1.bin')).equals(pseudoRandomBytes((1 * 7919) % 20_000, 2))).toBe(true);
    expect(fs.readFileSync(path.join(b, 'data/g2/d2/f2.bin')).equals(pseudoRandomBytes((2 * 7919) % 20_000, 3))).toBe(true);
  });
});
