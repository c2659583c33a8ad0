// `lode forget --rows` refuses bad input before it writes anything: every
// byte of .lode and of the workspace is compared before and after (a hash
// per file here, not lode's own view of its state).
//
//   - a rule that matches nothing (--key, --where, --keys-from, a path; CSV,
//     TSV, JSON Lines and Parquet tables in three versions) says so, exits 1;
//   - a key column missing from some versions names exactly those versions
//     (of a CSV and of a Parquet file), exit 2;
//   - a table that cannot be parsed (a JSON Lines file with a broken line in
//     one version) is named, exit 5, and no other table is rewritten either.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, removeDir, runLode, writeFile, type RunOptions } from '../test/helpers/cli.js';

let base: string;
beforeAll(() => {
  base = makeTempDir('lode-e2e-forget-bad');
});
afterAll(() => {
  if (base) removeDir(base);
});

/** snapshot hashes every file below `dir` (path -> sha256), the repository lock aside. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && path.relative(dir, p) !== path.join('.lode', 'lock')) out[path.relative(dir, p)] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

function parquet(columns: { name: string; data: number[] }[]): Uint8Array {
  return new Uint8Array(parquetWriteBuffer({ codec: 'UNCOMPRESSED', columnData: columns.map((c) => ({ name: c.name, data: Int32Array.from(c.data), type: 'INT32' as const })) }));
}

/** workspace commits each version (path -> content) in turn; returns the commit IDs, oldest first. */
async function workspace(name: string, versions: Record<string, string | Uint8Array>[]): Promise<{ at: RunOptions; commits: string[] }> {
  const at: RunOptions = { cwd: path.join(base, name) };
  fs.mkdirSync(at.cwd, { recursive: true });
  await lodeOk(['init'], at);
  const commits: string[] = [];
  for (const [i, files] of versions.entries()) {
    for (const [p, c] of Object.entries(files)) writeFile(at.cwd, p, c);
    await lodeOk(['add', 'data'], at);
    commits.push((await lodeJson(['commit', '-m', `v${i}`], at)).id);
  }
  return { at, commits };
}

const errorLine = (stderr: string) => stderr.split('\n').find((l) => l.startsWith('error: ')) ?? '';

describe('lode forget: bad input writes nothing', () => {
  it('a rule that matches nothing, in any table format or form, says so, exits 1 and writes no byte', async () => {
    const versions = [0, 1, 2].map((v) => ({
      'data/t.csv': `id,name\n${[1, 2, 3 + v].map((i) => `${i},n${i}`).join('\n')}\n`,
      'data/t.tsv': `id\tname\n1\tone\n${2 + v}\ttwo\n`,
      'data/t.jsonl': `${JSON.stringify({ id: 1, v })}\n${JSON.stringify({ id: 2 + v, v })}\n`,
      'data/t.parquet': parquet([{ name: 'id', data: [1, 2, 3 + v] }]),
    }));
    const { at } = await workspace('nothing', versions);
    fs.writeFileSync(path.join(base, 'keys.txt'), 'id\n99\n100\n');
    const before = snapshot(at.cwd);
    for (const args of [
      ['--rows', 'data/*', '--key', 'id=99'],
      ['--rows', 'data/*', '--where', 'id > 1000 or id < 0'],
      ['--rows', 'data/*', '--keys-from', path.join(base, 'keys.txt')],
      ['--rows', '*.parquet', '--key', 'id=7'],
      ['--dry-run', '--rows', 'data/*', '--key', 'id=99'],
      ['data/none.txt'],
    ]) {
      const r = await runLode(['forget', ...args], at);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stdout, args.join(' ')).toMatch(/^Nothing matches/m);
      expect(snapshot(at.cwd), args.join(' ')).toEqual(before);
    }
    // The JSON form says the same: matched false, no record.
    const j = await runLode(['forget', '--json', '--rows', 'data/*', '--key', 'id=99'], at);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ matched: false, counts: { commits: 0, files: 0, rows: 0 } });
    expect(JSON.parse(j.stdout).record).toBeUndefined();
    expect(snapshot(at.cwd)).toEqual(before);
  }, 180_000);

  it('a key column missing from some versions names exactly those versions (CSV and Parquet), exit 2', async () => {
    const { at, commits } = await workspace('missing', [
      { 'data/t.csv': 'id,name\n1,a\n', 'data/t.parquet': parquet([{ name: 'id', data: [1, 2] }]) },
      { 'data/t.csv': 'ident,name\n1,a\n2,b\n' },
      { 'data/t.parquet': parquet([{ name: 'other', data: [1, 2, 3] }]) },
      { 'data/t.csv': 'id,name\n1,a\n2,b\n3,c\n' },
    ]);
    const before = snapshot(at.cwd);
    const err = errorLine(expectLodeError(await runLode(['forget', '--rows', 'data/*', '--key', 'id=1'], at), 2));
    expect(err).toMatch(/^error: the key column is missing from some versions: /);
    // v1 and v2 hold the CSV without the column; v2 and v3 the Parquet file without it.
    const named = [...err.matchAll(/(data\/t\.(?:csv|parquet)) in commit ([0-9a-f]{12}) \(no column id\)/g)].map((m) => `${m[1]}@${m[2]}`).sort();
    const short = commits.map((c) => c.slice(0, 12));
    expect(named).toEqual([`data/t.csv@${short[1]}`, `data/t.csv@${short[2]}`, `data/t.parquet@${short[2]}`, `data/t.parquet@${short[3]}`].sort());
    expect(snapshot(at.cwd)).toEqual(before);
    // The dry run refuses the same way.
    expectLodeError(await runLode(['forget', '--dry-run', '--rows', 'data/*', '--key', 'id=1'], at), 2);
    expect(snapshot(at.cwd)).toEqual(before);
  }, 180_000);

  it('a table that cannot be parsed is named, exit 5; no other table is rewritten either', async () => {
    const { at, commits } = await workspace('unparsable', [
      { 'data/good.csv': 'id,name\n1,a\n2,b\n', 'data/e.jsonl': '{"id":1}\n{"id":2}\n' },
      { 'data/good.csv': 'id,name\n1,a\n2,b\n3,c\n', 'data/e.jsonl': '{"id":1}\n{"id":2, broken\n' },
      { 'data/e.jsonl': '{"id":1}\n{"id":3}\n' },
    ]);
    const before = snapshot(at.cwd);
    const err = errorLine(expectLodeError(await runLode(['forget', '--rows', 'data/*', '--key', 'id=1'], at), 5));
    expect(err).toMatch(/^error: some tables cannot be parsed/);
    expect(err).toContain(`data/e.jsonl in commit ${commits[1].slice(0, 12)}`);
    // Only the broken version is named: not the good CSV, not the other versions of the JSON Lines file.
    expect(err).not.toContain('good.csv');
    for (const c of [commits[0], commits[2]]) expect(err).not.toContain(c.slice(0, 12));
    expect(snapshot(at.cwd)).toEqual(before);
  }, 180_000);
});
