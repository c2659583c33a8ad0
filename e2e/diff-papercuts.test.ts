// Issue 11, the diff and status papercuts, through the built binary: a table
// diff without --key finds a key unique on both sides (or says how rows were
// matched and hints at --key); byte totals say how much content is really new
// at chunk level; long runs of added files fold into one line per folder, with
// a summary-first layout; status folds a new folder as git does.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, writeFile, type RunOptions } from '../test/helpers/cli.js';

const MiB = 1024 * 1024;

interface TableJson {
  path: string;
  key: string[] | null;
  keySource?: string;
  matchedOn?: string[];
  keyHint?: string;
  rows: { before: number; after: number; added: number; removed: number; modified: number; unchanged: number };
}
interface ChangeJson {
  status: string;
  path: string;
  changedBytes?: number;
  old?: { size: number };
  new?: { size: number };
}
interface DiffJson {
  changes: ChangeJson[];
  summary: { added: number; bytesAdded: number; bytesDeleted: number; changedBytes: number };
  stat?: { dir: string; changedBytes: number }[];
  tables?: TableJson[];
}

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

async function repo(prefix: string, files: Record<string, string | Buffer>): Promise<RunOptions> {
  const dir = makeTempDir(prefix);
  dirs.push(dir);
  for (const [rel, content] of Object.entries(files)) writeFile(dir, rel, content);
  const opts = { cwd: dir };
  await lodeOk(['init'], opts);
  await lodeOk(['add', 'data'], opts);
  await lodeOk(['commit', '-m', 'v1'], opts);
  await lodeOk(['tag', 'v1'], opts);
  return opts;
}

/** people.csv: id,name,score for n rows; `edit` renames the given ids; `dropScore` leaves the score column out. */
function people(n: number, options: { edit?: number[]; dropScore?: boolean; duplicateId?: boolean } = {}): string {
  const lines = [options.dropScore ? 'id,name' : 'id,name,score'];
  for (let i = 0; i < n; i++) {
    const id = options.duplicateId && i === n - 1 ? 0 : i;
    const name = options.edit?.includes(i) ? `renamed${i}` : `name${i}`;
    lines.push(options.dropScore ? `${id},${name}` : `${id},${name},${(i * 7) % 13}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('a table diff without --key', () => {
  let opts: RunOptions;
  beforeAll(async () => {
    opts = await repo('lode-pc-key-', { 'data/people.csv': people(500) });
  }, 60_000);

  it('uses a column unique on both sides as the key, and says so in text and --json', async () => {
    // A dropped column and three edited names: content matching would report them removed and added.
    writeFile(opts.cwd!, 'data/people.csv', people(500, { edit: [3, 100, 499], dropScore: true }));
    const j = await lodeJson<DiffJson>(['diff'], opts);
    const t = j.tables!.find((x) => x.path === 'data/people.csv')!;
    expect(t.key).toEqual(['id']);
    expect(t.keySource).toBe('auto');
    expect(t.rows).toEqual({ before: 500, after: 500, added: 0, removed: 0, modified: 3, unchanged: 497 });
    const text = await lodeOk(['diff'], opts);
    expect(text.stdout.split('\n')).toContainEqual(expect.stringMatching(/^data\/people\.csv \(csv, rows matched by id, chosen automatically as unique on both sides \(--key to choose\)\)$/));

    const explicit = await lodeJson<DiffJson>(['diff', '--key', 'id'], opts);
    expect(explicit.tables![0]).toMatchObject({ key: ['id'], keySource: 'option', rows: t.rows });

    const content = await lodeJson<DiffJson>(['diff', '--no-auto-key'], opts);
    expect(content.tables![0]).toMatchObject({ key: null, matchedOn: ['id', 'name'], rows: { added: 3, removed: 3, modified: 0 } });
    expect(content.tables![0].keySource).toBeUndefined();
  });

  it('falls back to content matching with a hint when no column is unique on both sides', async () => {
    // id 0 appears twice on the new side: not a key.
    writeFile(opts.cwd!, 'data/people.csv', people(500, { edit: [3, 100], dropScore: true, duplicateId: true }));
    const j = await lodeJson<DiffJson>(['diff'], opts);
    const t = j.tables![0];
    expect(t.key).toBeNull();
    expect(t.matchedOn).toEqual(['id', 'name']);
    // Rows 3 and 100 edited, row 499 turned into a second id 0: three removed, three added.
    expect(t.rows).toMatchObject({ added: 3, removed: 3, modified: 0, unchanged: 497 });
    expect(t.keyHint).toMatch(/--key COLUMN/);
    const lines = (await lodeOk(['diff'], opts)).stdout.split('\n');
    expect(lines).toContainEqual('data/people.csv (csv, rows matched by content of the common columns: id, name)');
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}hint: rows are matched by content, .*--key COLUMN/));
  });
});

describe('byte totals', () => {
  const size = 16 * MiB;
  const original = pseudoRandomBytes(size, 11);
  const edited = Buffer.from(original);
  pseudoRandomBytes(MiB, 12).copy(edited, 8 * MiB);
  let opts: RunOptions;
  beforeAll(async () => {
    opts = await repo('lode-pc-bytes-', { 'data/big.bin': original, 'data/small.txt': 'small\n' });
  }, 60_000);

  // New content covers the whole edited MiB (its bytes are new) and at most one 4 MiB chunk on each side of it.
  const plausible = (n: number) => {
    expect(n).toBeGreaterThanOrEqual(MiB);
    expect(n).toBeLessThanOrEqual(MiB + 8 * MiB);
  };

  it('count the chunks a modified file really gained, beside the file sizes, in --json, --stat and the summary line', async () => {
    writeFile(opts.cwd!, 'data/big.bin', edited);
    writeFile(opts.cwd!, 'data/new.txt', 'seven!\n');
    // The workspace side: its chunk list is cut again from the file.
    const ws = await lodeJson<DiffJson>(['diff', 'v1', '--stat'], opts);
    const big = ws.changes.find((c) => c.path === 'data/big.bin')!;
    plausible(big.changedBytes!);
    expect(ws.summary).toMatchObject({ bytesAdded: size + 7, bytesDeleted: size, changedBytes: big.changedBytes! + 7 });
    expect(ws.stat!.find((d) => d.dir === 'data')!.changedBytes).toBe(big.changedBytes! + 7);
    expect(ws.changes.find((c) => c.path === 'data/new.txt')!.changedBytes).toBeUndefined();

    // The same edit committed: both chunk lists come from the store, and agree with the cut of the file.
    await lodeOk(['commit', '-a', '-m', 'v2'], opts);
    const committed = await lodeJson<DiffJson>(['diff', 'v1', 'HEAD'], opts);
    expect(committed.changes.find((c) => c.path === 'data/big.bin')!.changedBytes).toBe(big.changedBytes);
    expect(committed.summary.changedBytes).toBe(ws.summary.changedBytes);

    const text = (await lodeOk(['diff', 'v1', 'HEAD', '--stat'], opts)).stdout.split('\n');
    expect(text).toContainEqual(expect.stringMatching(/^M {2}data\/big\.bin\s+16\.0 MiB → 16\.0 MiB \(\d+(\.\d)? MiB new\)$/));
    expect(text.find((l) => l.startsWith('directory'))).toMatch(/new bytes$/);
    expect(text[text.length - 2]).toMatch(/^2 files changed: 1 added, 0 deleted, 1 modified, 0 renamed \(files \+16\.0 MiB, -16\.0 MiB; \d+(\.\d)? MiB of new content\)$/);
  });

  it('a file rewritten whole counts whole', async () => {
    writeFile(opts.cwd!, 'data/big.bin', pseudoRandomBytes(size, 99));
    const j = await lodeJson<DiffJson>(['diff'], opts);
    expect(j.changes.find((c) => c.path === 'data/big.bin')!.changedBytes).toBe(size);
    fs.writeFileSync(path.join(opts.cwd!, 'data/big.bin'), edited);
  });
});

describe('long lists of added files', () => {
  let opts: RunOptions;
  beforeAll(async () => {
    opts = await repo('lode-pc-fold-', { 'data/labels.csv': 'id,label\n1,cat\n2,dog\n', 'data/images/cat/0.jpg': 'cat0' });
    for (let i = 0; i < 15; i++) writeFile(opts.cwd!, `data/images/bird/${i}.jpg`, `bird${i}`);
    for (let i = 1; i < 4; i++) writeFile(opts.cwd!, `data/images/cat/${i}.jpg`, `cat${i}`);
    writeFile(opts.cwd!, 'data/labels.csv', 'id,label\n1,cat\n2,dog\n3,bird\n');
  }, 60_000);

  it('diff folds a folder with more than 10 added files into one line; --no-fold and --json list them all', async () => {
    const lines = (await lodeOk(['diff'], opts)).stdout.split('\n');
    const birdBytes = Array.from({ length: 15 }, (_, i) => `bird${i}`.length).reduce((a, b) => a + b, 0);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^A {2}data/images/bird/\\s+\\(\\+15 files, ${birdBytes} B\\)$`)));
    expect(lines.filter((l) => l.includes('data/images/bird/') && l.includes('.jpg'))).toEqual([]);
    // Three new cats are below the threshold: listed one by one.
    expect(lines.filter((l) => /^A {2}data\/images\/cat\/\d\.jpg/.test(l))).toHaveLength(3);

    const all = (await lodeOk(['diff', '--no-fold'], opts)).stdout.split('\n');
    expect(all.filter((l) => /^A {2}data\/images\/bird\/\d+\.jpg/.test(l))).toHaveLength(15);
    const j = await lodeJson<DiffJson>(['diff'], opts);
    expect(j.changes.filter((c) => c.status === 'added')).toHaveLength(18);
  });

  it('diff --summary prints counts per directory and per table, no file list', async () => {
    const out = (await lodeOk(['diff', '--summary'], opts)).stdout;
    const lines = out.split('\n');
    expect(lines.filter((l) => /^[ADMR] {2}/.test(l))).toEqual([]);
    expect(lines).toContainEqual(expect.stringMatching(/^data\/images\/bird\/\s+15\s+0\s+0\s+0\s+0 → 15/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}rows: 2 → 3: \+1 added/));
    // Table details (per-column shares) are left for the full layout.
    expect(lines.filter((l) => /^ {6}\S/.test(l))).toEqual([]);
    expect(lines[lines.length - 2]).toMatch(/^19 files changed: 18 added, 0 deleted, 1 modified, 0 renamed/);
  });
});

describe('status', () => {
  let opts: RunOptions;
  beforeAll(async () => {
    opts = await repo('lode-pc-status-', { 'data/a/keep.txt': 'keep' });
    for (let i = 0; i < 30; i++) writeFile(opts.cwd!, `data/new/${i}.txt`, `${i}`);
    for (let i = 0; i < 7; i++) writeFile(opts.cwd!, `data/new/deeper/${i}.txt`, `${i}`);
    writeFile(opts.cwd!, 'data/a/two.txt', 'two');
  }, 60_000);

  it('folds a new folder into one line, as git does; -u and --untracked-files=all list every file', async () => {
    const lines = (await lodeOk(['status'], opts)).stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('New files in datasets'));
    expect(lines.slice(at + 1, at + 3)).toEqual(['  data/a/two.txt', '  data/new/ (37 files)']);
    for (const flag of ['-u', '--untracked-files=all', '--untracked-files']) {
      const every = (await lodeOk(['status', flag], opts)).stdout.split('\n');
      expect(every.filter((l) => /^ {2}data\/new\/.*\.txt$/.test(l))).toHaveLength(37);
    }
    const j = await lodeJson<{ untracked: string[]; untrackedFolders: { folder: string; files: number }[] }>(['status'], opts);
    expect(j.untracked).toHaveLength(38);
    expect(j.untrackedFolders).toEqual([{ folder: 'data/new/', files: 37 }]);
  });

  it('refuses an unknown --untracked-files mode', async () => {
    expectLodeError(await runLode(['status', '--untracked-files=some'], opts), 2);
  });
});
