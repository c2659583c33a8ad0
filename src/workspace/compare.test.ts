import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadXxhash } from '../core/checksum.js';
import { DEFAULT_CHUNKING } from '../core/chunker.js';
import { comparePaths } from '../core/paths.js';
import { Ingester } from '../objects/ingest.js';
import { compareSorted, compareWorkspace, mergeWalk, type WorkspaceComparison } from './compare.js';
import { readIndex, storedTable, writeIndex, type IndexEntry } from './index-file.js';
import { scanRoots } from './scan.js';

let dirs: string[] = [];
beforeAll(async () => {
  await loadXxhash();
});
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function workspace(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-compare-test-'));
  dirs.push(root);
  fs.mkdirSync(path.join(root, '.lode'));
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), text);
  }
  return root;
}

/** entriesOf hashes the files as `lode add` would record them (xxh64 kept unless `noXxh`). */
function entriesOf(root: string, paths: string[], noXxh: Set<string> = new Set()): IndexEntry[] {
  const ing = new Ingester(DEFAULT_CHUNKING, undefined);
  return [...paths].sort(comparePaths).map((p) => {
    const abs = path.join(root, p);
    const r = ing.ingest(abs, p);
    const st = fs.lstatSync(abs, { bigint: true });
    return { path: p, kind: r.kind, id: r.id, size: r.size, exec: r.exec, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino, xxh: noXxh.has(p) ? 0n : r.xxh };
  });
}

const summary = (c: WorkspaceComparison) => ({
  modified: c.modified.map((f) => f.path),
  deleted: c.deleted.map((e) => e.path),
  untracked: c.untracked.map((f) => f.path),
  refreshed: c.refreshed,
  statClean: c.statClean,
});

/** ageIndex makes the index file newer than every file, so no entry is racy. */
function ageFiles(root: string): void {
  const past = new Date(Date.now() - 60_000);
  const walk = (d: string) => {
    for (const n of fs.readdirSync(d)) {
      const p = path.join(d, n);
      if (n === '.lode') continue;
      if (fs.lstatSync(p).isDirectory()) walk(p);
      else fs.utimesSync(p, past, past);
    }
  };
  walk(root);
}

describe('compareSorted (streaming merge of the walk and the index table)', () => {
  it('finds what scanRoots + compareWorkspace find: clean, refreshed, modified, deleted, untracked, across roots', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 60; i++) files[`data/d${i % 4}/f${String(i).padStart(3, '0')}.bin`] = `content ${i}`;
    files['data/a-b'] = 'sibling sorting after the folder data/a';
    files['data/a/x'] = 'in folder a';
    files['labels.csv'] = 'id,label\n';
    files['other/kept.txt'] = 'outside the roots';
    const root = workspace(files);
    ageFiles(root);
    const tracked = Object.keys(files).filter((p) => !p.startsWith('other/'));
    const indexFile = path.join(root, '.lode', 'index');
    const entries = entriesOf(root, tracked, new Set(['data/d1/f001.bin']));
    // A tracked file outside the roots compared (left alone) and one under a root that is gone.
    const outside = { ...entries[0], path: 'other/kept.txt' };
    const gone = { ...entries[0], path: 'gone/x' };
    await writeIndex(indexFile, { datasets: ['data', 'gone', 'labels.csv'], entries: [...entries, gone, outside].sort((a, b) => comparePaths(a.path, b.path)), stampNs: 0n });
    // Changes: same bytes with a new mtime (with and without a recorded xxh64), same size other bytes, new size, deleted, untracked.
    const later = new Date(Date.now() - 30_000);
    fs.utimesSync(path.join(root, 'data/d0/f000.bin'), later, later);
    fs.utimesSync(path.join(root, 'data/d1/f001.bin'), later, later);
    fs.writeFileSync(path.join(root, 'data/d2/f002.bin'), 'content X');
    fs.utimesSync(path.join(root, 'data/d2/f002.bin'), later, later);
    fs.writeFileSync(path.join(root, 'data/d3/f003.bin'), 'content 3 grown');
    fs.rmSync(path.join(root, 'data/d0/f004.bin'));
    fs.rmSync(path.join(root, 'data/a/x'));
    fs.writeFileSync(path.join(root, 'data/d1/new.bin'), 'new');
    fs.writeFileSync(path.join(root, 'data/zz'), 'new at the end');
    fs.writeFileSync(path.join(root, 'data/.lodeignore'), 'ignored-*\n');
    fs.writeFileSync(path.join(root, 'data/d2/ignored-1'), 'ignored');
    const roots = ['data', 'data/d1', 'gone', 'labels.csv'];

    const oldWay = await readIndex(indexFile);
    const scan = scanRoots(root, roots);
    const expected = await compareWorkspace(root, oldWay, scan, roots, DEFAULT_CHUNKING);
    const index = await readIndex(indexFile);
    const got = await compareSorted(root, index, roots, DEFAULT_CHUNKING);
    expect(storedTable(index), 'the compare made no object per entry').toBeDefined();
    expect(summary(got.comparison)).toEqual(summary(expected));
    expect(got.missing).toEqual(scan.missing);
    expect(got.skipped).toEqual(scan.skipped);
    expect(got.scanned).toBe(scan.files.size);
    // The oracle, spelled out.
    expect(summary(got.comparison)).toMatchObject({
      modified: ['data/d2/f002.bin', 'data/d3/f003.bin'],
      deleted: ['data/a/x', 'data/d0/f004.bin', 'gone/x'],
      untracked: ['data/d1/new.bin', 'data/zz'],
      refreshed: 2,
      statClean: tracked.length - 6,
    });

    // Refreshed stats go into the table and are saved by writeIndex: the next compare trusts them.
    await writeIndex(indexFile, index);
    const again = await compareSorted(root, await readIndex(indexFile), roots, DEFAULT_CHUNKING);
    expect(again.comparison.refreshed).toBe(0);
    expect(again.comparison.statClean).toBe(tracked.length - 4);
    const back = (await readIndex(indexFile)).entries.find((e) => e.path === 'data/d1/f001.bin')!;
    expect(back.xxh).not.toBe(0n);
  });

  it('never trusts by stat an entry whose mtime is not older than the index (racy): its bytes are read', async () => {
    const root = workspace({ 'd/a': 'one', 'd/b': 'two' });
    ageFiles(root);
    const indexFile = path.join(root, '.lode', 'index');
    await writeIndex(indexFile, { datasets: ['d'], entries: entriesOf(root, ['d/a', 'd/b']), stampNs: 0n });
    // Both files get an mtime after the index's own, and the index records exactly that stat.
    const future = new Date(Date.now() + 3_600_000);
    const index = await readIndex(indexFile);
    const t = storedTable(index)!;
    for (const [i, p] of ['d/a', 'd/b'].entries()) {
      fs.utimesSync(path.join(root, p), future, future);
      const st = fs.lstatSync(path.join(root, p), { bigint: true });
      t.setStat(i, st.mtimeNs, st.ctimeNs, st.ino);
    }
    fs.writeFileSync(path.join(root, 'd/a'), 'uno'); // same size, other bytes
    fs.utimesSync(path.join(root, 'd/a'), future, future);
    const r = await compareSorted(root, index, ['d'], DEFAULT_CHUNKING);
    expect(summary(r.comparison)).toEqual({ modified: ['d/a'], deleted: [], untracked: [], refreshed: 1, statClean: 0 });
  });

  it('compares an index whose entries were replaced the old way, with the same results', async () => {
    const root = workspace({ 'd/a': 'one', 'd/b': 'two' });
    ageFiles(root);
    const indexFile = path.join(root, '.lode', 'index');
    await writeIndex(indexFile, { datasets: ['d'], entries: entriesOf(root, ['d/a', 'd/b']), stampNs: 0n });
    const index = await readIndex(indexFile);
    index.entries = index.entries.slice(1);
    const r = await compareSorted(root, index, ['d'], DEFAULT_CHUNKING);
    expect(summary(r.comparison)).toEqual({ modified: [], deleted: [], untracked: ['d/a'], refreshed: 0, statClean: 1 });
  });
});

describe('walks from any directory', () => {
  const tree = { 'data/a.csv': 'a', 'data/sub/b.csv': 'b', 'data/sub/deep/c.csv': 'c', 'data/z/d.csv': 'd', 'other/e.txt': 'e', 'top.txt': 't' };
  const listed = (r: ReturnType<typeof scanRoots>) => [...r.files.values()].map((f) => [f.path, f.size]).sort((a, b) => comparePaths(a[0] as string, b[0] as string));

  it('list the same files from any directory, for a workspace given whole or relative, and leave the process in the directory it was in', () => {
    const root = workspace(tree);
    const start = process.cwd();
    const want = [['data/a.csv', 1], ['data/sub/b.csv', 1], ['data/sub/deep/c.csv', 1], ['data/z/d.csv', 1], ['other/e.txt', 1], ['top.txt', 1]];
    expect(listed(scanRoots(root, ['']))).toEqual(want);
    expect(process.cwd()).toBe(start);
    // From inside the workspace too, and with the workspace given relative to it.
    process.chdir(path.join(root, 'data', 'sub'));
    try {
      expect(listed(scanRoots(root, ['data', 'top.txt']))).toEqual(want.filter(([p]) => p !== 'other/e.txt'));
      expect(process.cwd()).toBe(path.join(root, 'data', 'sub'));
      expect(listed(scanRoots('../..', ['']))).toEqual(want);
      expect(process.cwd()).toBe(path.join(root, 'data', 'sub'));
    } finally {
      process.chdir(start);
    }
  });

  it('puts the directory back when the walk fails part way', async () => {
    const root = workspace(tree);
    const start = process.cwd();
    const indexFile = path.join(root, '.lode', 'index');
    await writeIndex(indexFile, { datasets: [''], entries: entriesOf(root, Object.keys(tree)), stampNs: 0n });
    const t = storedTable(await readIndex(indexFile))!;
    expect(t.count).toBe(6);
    let seen = 0;
    expect(() =>
      mergeWalk(root, t, [''], {
        tracked: () => {
          if (++seen === 3) throw new Error('visit failed');
        },
        untracked: () => {},
        gone: () => {},
      }),
    ).toThrow('visit failed');
    expect(process.cwd()).toBe(start);
  });
});

describe('the merge meets index paths without decoding them', () => {
  it('tells apart names whose characters equal the UTF-8 bytes of another ("Ã©" and "é"), and sees changes to each', async () => {
    // "Ã©" is U+00C3 U+00A9; the UTF-8 of "é" is the bytes C3 A9: same length, same numbers.
    // "data/Ã©.csv" sorts before "data/é.csv" (C3 83 < C3 A9), so the walk meets it while
    // the index's next entry is "data/é.csv".
    const files = { 'data/a.csv': 'a', 'data/é.csv': 'e-acute', 'data/éz.csv': 'x' };
    const root = workspace({ ...files, 'data/Ã©.csv': 'mojibake, untracked' });
    const indexFile = path.join(root, '.lode', 'index');
    await writeIndex(indexFile, { datasets: ['data'], entries: entriesOf(root, Object.keys(files)), stampNs: 0n });
    const brief = (r: WorkspaceComparison) => ({ modified: r.modified.map((m) => m.path).sort(), deleted: r.deleted.map((d) => d.path).sort(), untracked: r.untracked.map((u) => u.path).sort() });
    const first = await compareSorted(root, await readIndex(indexFile), ['data'], DEFAULT_CHUNKING);
    expect(brief(first.comparison)).toEqual({ modified: [], deleted: [], untracked: ['data/Ã©.csv'] });
    fs.writeFileSync(path.join(root, 'data/é.csv'), 'E-ACUTE');
    const got = await compareSorted(root, await readIndex(indexFile), ['data'], DEFAULT_CHUNKING);
    const want = await compareWorkspace(root, await readIndex(indexFile), scanRoots(root, ['data']), ['data'], DEFAULT_CHUNKING);
    expect(brief(got.comparison)).toEqual(brief(want));
    expect(brief(got.comparison)).toEqual({ modified: ['data/é.csv'], deleted: [], untracked: ['data/Ã©.csv'] });
  });
});
