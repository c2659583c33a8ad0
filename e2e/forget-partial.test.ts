// `lode forget --rows` in a partial clone (a default `lode clone` holds the
// data of the checked-out version only), through the built binary: the
// tables of the other versions are fetched from the default remote first,
// then every version is rewritten; each still checks out and differs from
// before only by the erased rows; no byte of the clone's .lode holds them.
// With the remote gone, forget stops with the clear message and changes
// nothing.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, readFile, removeDir, runLode, writeFile } from '../test/helpers/cli.js';
import { readExpanded } from '../test/helpers/packs.js';

const SECRET = 'Quentin Erasable-5521';

let base: string;
beforeAll(() => {
  base = makeTempDir('lode-e2e-forget-partial');
});
afterAll(() => {
  if (base) removeDir(base);
});

/** table is version `v` of the customer table; customer 5521 is in every version. */
function table(v: number): string {
  const rows = ['id,name,city'];
  for (let i = 1; i <= 30 + 4 * v; i++) {
    rows.push(`${i},Person ${i},City ${i % 7} v${v}`);
    if (i === 10 + v) rows.push(`5521,${SECRET},Nowhere v${v}`);
  }
  return `${rows.join('\n')}\n`;
}

const withoutSecret = (text: string) =>
  text
    .split(/(?<=\n)/)
    .filter((l) => !l.startsWith('5521,'))
    .join('');

function holding(dir: string, needle: string): string[] {
  const n = Buffer.from(needle);
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      // A pack's compressed objects are searched as they decompress.
      else if (e.isFile() && readExpanded(p).includes(n)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

async function seeded(name: string): Promise<{ remote: string; versions: string[] }> {
  const seed = path.join(base, `${name}-seed`);
  const remote = path.join(base, `${name}-remote`);
  fs.mkdirSync(seed);
  const at = { cwd: seed };
  await lodeOk(['init'], at);
  const versions: string[] = [];
  for (let v = 1; v <= 4; v++) {
    writeFile(seed, 'data/customers.csv', table(v));
    writeFile(seed, 'data/other.txt', `unrelated ${v}\n`);
    await lodeOk(['add', 'data'], at);
    versions.push((await lodeJson(['commit', '-m', `v${v}`], at)).id);
  }
  await lodeOk(['remote', 'add', 'origin', remote], at);
  await lodeOk(['push'], at);
  return { remote, versions };
}

describe('forget --verify --remote', () => {
  it('finds rows in chunked files and single objects on the remote, from a workspace that knows them and from one that does not', async () => {
    const seed = path.join(base, 'remote-seed');
    const remote = path.join(base, 'remote-remote');
    fs.mkdirSync(seed);
    const at = { cwd: seed };
    await lodeOk(['init'], at);
    // Small chunks: the big table is a chunked file, the small one a single object.
    fs.writeFileSync(path.join(seed, '.lode', 'config'), '[chunking]\nmin = 1024\navg = 4096\nmax = 16384\n');
    const big = ['id,name,city', ...Array.from({ length: 3000 }, (_, i) => `${i + 1},Person ${i + 1},City ${i % 13}`)];
    big.splice(2000, 0, `5521,${SECRET},Nowhere`);
    writeFile(seed, 'data/big.csv', `${big.join('\n')}\n`);
    writeFile(seed, 'data/small.csv', table(1));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v1'], at);
    await lodeOk(['remote', 'add', 'origin', remote], at);
    await lodeOk(['push'], at);
    const places = (r: { stdout: string }) => JSON.parse(r.stdout).places as string[];
    const known = await runLode(['forget', '--verify', '--json', '--rows', '*.csv', '--key', 'id=5521', '--remote', 'origin'], at);
    expect(known.code).toBe(1);
    const remotePlaces = places(known).filter((p) => p.startsWith('remote origin: '));
    expect(remotePlaces.filter((p) => p.includes('chunked file') && p.endsWith('(1 matching row)'))).toHaveLength(1);
    expect(remotePlaces.filter((p) => p.includes(': object ') && p.endsWith('(1 matching row)'))).toHaveLength(1);
    expect(remotePlaces).toHaveLength(2);
    // A workspace with no history of its own reads the remote's chunk lists from the remote.
    const blank = path.join(base, 'remote-blank');
    fs.mkdirSync(blank);
    await lodeOk(['init'], { cwd: blank });
    await lodeOk(['remote', 'add', 'origin', remote], { cwd: blank });
    const unknown = await runLode(['forget', '--verify', '--json', '--rows', '*.csv', '--key', 'id=5521', '--remote', 'origin'], { cwd: blank });
    expect(unknown.code).toBe(1);
    expect(places(unknown).sort()).toEqual(remotePlaces.sort());
    // After the erasure, pushed: nothing on the remote.
    await lodeOk(['forget', '--rows', '*.csv', '--key', 'id=5521', '--push'], at);
    const after = await runLode(['forget', '--verify', '--json', '--rows', '*.csv', '--key', 'id=5521', '--remote', 'origin'], at);
    expect(places(after)).toEqual([]);
    expect(after.code).toBe(0);
  });
});

describe('forget in a partial clone', () => {
  it('fetches the tables of the versions it lacks, then erases from every version', async () => {
    const { remote, versions } = await seeded('ok');
    const c = path.join(base, 'ok-clone');
    await lodeOk(['clone', remote, c], { cwd: base });
    const at = { cwd: c };
    // Partial: --verify reads what is here (HEAD's table) and says what it could not read.
    const partialVerify = await runLode(['forget', '--verify', '--json', '--rows', '*.csv', '--key', 'id=5521'], at);
    expect(partialVerify.code).toBe(1);
    const pv = JSON.parse(partialVerify.stdout);
    expect(pv.notLocal).toBe(3);
    expect(pv.places.filter((p: string) => p.includes('data/customers.csv'))).toHaveLength(1);
    const before = await lodeJson(['forget', '--dry-run', '--rows', '*.csv', '--key', 'id=5521'], at);
    expect(before.fetched).toMatchObject({ remote: 'origin', versions: 3, files: 3 });
    expect(before.counts).toMatchObject({ commits: 4, files: 4, rows: 4 });

    const r = await lodeJson(['forget', '--rows', '*.csv', '--key', 'id=5521'], at);
    expect(r.matched).toBe(true);
    expect(r.counts).toMatchObject({ commits: 4, files: 4, rows: 4 });
    const newOf = new Map<string, string>(r.commits.map((x: any) => [x.old, x.new]));
    for (let v = 1; v <= 4; v++) {
      const id = newOf.get(versions[v - 1])!;
      await lodeOk(['checkout', id], at);
      expect(readFile(c, 'data/customers.csv').toString('utf8')).toBe(withoutSecret(table(v)));
      expect(readFile(c, 'data/other.txt').toString('utf8')).toBe(`unrelated ${v}\n`);
    }
    expect(holding(path.join(c, '.lode'), SECRET)).toEqual([]);
    const verify = await runLode(['forget', '--verify', '--rows', '*.csv', '--key', 'id=5521'], at);
    expect(verify.code).toBe(0);
  });

  it('says what to do when the remote cannot give the data, and changes nothing', async () => {
    const { remote } = await seeded('gone');
    const c = path.join(base, 'gone-clone');
    await lodeOk(['clone', remote, c], { cwd: base });
    const at = { cwd: c };
    fs.renameSync(remote, `${remote}-moved`);
    const head = (await lodeJson(['log'], at)).commits[0].id;
    expect(head).toMatch(/^[0-9a-f]{64}$/);
    const r = await runLode(['forget', '--rows', '*.csv', '--key', 'id=5521'], at);
    const err = expectLodeError(r, 6);
    expect(err.split('\n').some((l) => l.startsWith('error: the content of some versions is not in this workspace') && l.includes('origin failed'))).toBe(true);
    expect(err.split('\n').some((l) => l.startsWith('hint: ') && l.includes('lode fetch --all'))).toBe(true);
    const after = (await lodeJson(['log'], at)).commits[0].id;
    expect(after).toBe(head);
    expect(fs.existsSync(path.join(c, '.lode', 'erasures')) ? fs.readdirSync(path.join(c, '.lode', 'erasures')) : []).toEqual([]);
  });
});
