// `lode forget` in a workspace whose folder is sharded (more entries than one
// tree holds, formats.md "Sharded directories"): a file inside the big folder
// and the rows of a CSV in it are erased from every version; every version
// still checks out with the expected files; each rewritten commit's tree is
// the one a fresh repository gets by adding the same files (the oracle: a
// second `lode init`, the checked-out files copied, add + commit); `--verify`
// finds the content before the erasure and nothing after (locally and on a
// directory remote the erasure is pushed to); fsck is clean; a second
// workspace applies the records on fetch.
// Run with the default shard bits (300 entries: one level of shard nodes) and
// with LODE_TEST_SHARD_BITS=2 (several levels).

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lodeJson, lodeOk, makeTempDir, removeDir, runLode, writeFile, type RunOptions } from '../test/helpers/cli.js';

let base: string;
beforeAll(() => {
  base = makeTempDir('lode-e2e-forget-sharded');
});
afterAll(() => {
  if (base) removeDir(base);
});

const ERASED_ID = '4711';
const SECRET = 'big/f150.txt';

/** version `v` of the big folder: ~300 small files (some change, come and go) and a CSV naming the erased customer. */
function version(v: number): Map<string, string> {
  const files = new Map<string, string>();
  for (let i = 0; i < 300 + 2 * v; i++) {
    if (v >= 2 && i % 97 === 5) continue;
    const name = `big/f${String(i).padStart(3, '0')}.txt`;
    files.set(name, i % 50 === 0 || name === SECRET ? `file ${i} in v${v}\n` : `file ${i}\n`);
  }
  const rows = ['customer_id,name'];
  for (let i = 1; i <= 20 + v; i++) {
    rows.push(`${i},Person ${i}`);
    if (i % 7 === 0) rows.push(`${ERASED_ID},Zed row ${i} v${v}`);
  }
  files.set('big/customers.csv', `${rows.join('\n')}\n`);
  return files;
}

/** expected is the oracle for version `v` after both erasures: the secret file gone, the customer's lines dropped. */
function expected(v: number): Map<string, string> {
  const files = version(v);
  files.delete(SECRET);
  const csv = files.get('big/customers.csv')!;
  files.set('big/customers.csv', csv.split(/(?<=\n)/).filter((l) => !l.startsWith(`${ERASED_ID},`)).join(''));
  return files;
}

function readAll(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (rel === '' && e.name === '.lode') continue;
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out.set(r, fs.readFileSync(path.join(d, e.name), 'utf8'));
    }
  };
  walk(dir, '');
  return out;
}

const sorted = (m: Map<string, string>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

for (const bits of [undefined, '2']) {
  describe(`lode forget in a sharded folder (shard bits ${bits ?? 'default'})`, () => {
    it('erases a file and CSV rows from every version; rewritten trees equal a fresh add of the same files; --verify and fsck pass', async () => {
      const env = bits ? { LODE_TEST_SHARD_BITS: bits } : {};
      const at: RunOptions = { cwd: path.join(base, `work-${bits ?? 'default'}`), env };
      fs.mkdirSync(at.cwd, { recursive: true });
      await lodeOk(['init'], at);
      const versions = 3;
      for (let v = 0; v < versions; v++) {
        fs.rmSync(path.join(at.cwd, 'big'), { recursive: true, force: true });
        for (const [p, text] of version(v)) writeFile(at.cwd, p, text);
        await lodeOk(['add', 'big'], at);
        await lodeOk(['commit', '-m', `v${v}`], at);
      }
      // A directory remote and a second workspace holding every version.
      const remoteDir = path.join(base, `remote-${bits ?? 'default'}`);
      await lodeOk(['remote', 'add', 'origin', remoteDir], at);
      await lodeOk(['push'], at);
      const other: RunOptions = { cwd: path.join(base, `other-${bits ?? 'default'}`), env };
      await lodeOk(['clone', remoteDir, other.cwd, '--all'], { cwd: base, env });
      // --verify walks the sharded folder: before the erasure it finds both.
      expect((await runLode(['forget', '--verify', SECRET], at)).code).toBe(1);
      expect((await runLode(['forget', '--verify', '--rows', 'big/*.csv', '--key', `customer_id=${ERASED_ID}`], at)).code).toBe(1);

      const byPath = await lodeJson(['forget', SECRET], at);
      expect(byPath.counts).toEqual({ commits: versions, files: versions, rows: 0 });
      // --push sends both records and repacks the remote without the erased objects.
      const byRows = await lodeJson(['forget', '--rows', 'big/*.csv', '--key', `customer_id=${ERASED_ID}`, '--push'], at);
      expect(byRows.remote.recordsUploaded).toBe(2);
      expect(byRows.counts.commits).toBe(versions);
      expect(byRows.counts.rows).toBeGreaterThan(0);

      for (const rule of [[SECRET], ['--rows', 'big/*.csv', '--key', `customer_id=${ERASED_ID}`]]) {
        const r = await runLode(['forget', '--verify', ...rule, '--remote', 'origin'], at);
        expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: expect.anything(), stderr: '' });
      }
      const fsck = await lodeJson(['fsck'], at);
      expect(fsck.problems).toEqual([]);
      expect(fsck.ok).toBe(true);

      expect((await lodeJson(['fsck', '--remote'], at)).ok).toBe(true);
      // The other workspace applies the records on fetch: same commits, nothing erased left, fsck clean.
      await lodeOk(['fetch'], other);
      await lodeOk(['checkout', 'main'], other);
      expect((await lodeJson(['log'], other)).commits.map((c: { id: string }) => c.id)).toEqual((await lodeJson(['log'], at)).commits.map((c: { id: string }) => c.id));
      expect(sorted(readAll(other.cwd))).toEqual(sorted(expected(versions - 1)));
      expect((await runLode(['forget', '--verify', SECRET], other)).code).toBe(0);
      expect((await lodeJson(['fsck'], other)).ok).toBe(true);

      const log = await lodeJson(['log'], at);
      expect(log.commits).toHaveLength(versions);
      for (const [i, cm] of log.commits.entries()) {
        const v = versions - 1 - i;
        await lodeOk(['checkout', cm.id], at);
        const got = readAll(at.cwd);
        expect(sorted(got)).toEqual(sorted(expected(v)));
        // Oracle: a fresh repository holding the same files has the same tree.
        const fresh: RunOptions = { cwd: path.join(base, `fresh-${bits ?? 'default'}-${v}`), env };
        fs.mkdirSync(fresh.cwd, { recursive: true });
        await lodeOk(['init'], fresh);
        for (const [p, text] of got) writeFile(fresh.cwd, p, text);
        await lodeOk(['add', 'big'], fresh);
        await lodeOk(['commit', '-m', 'fresh'], fresh);
        const freshLog = await lodeJson(['log'], fresh);
        expect(cm.tree).toBe(freshLog.commits[0].tree);
        const ids = (r: { entries: { name: string; id: string }[] }) => r.entries.map((e) => `${e.name} ${e.id}`);
        expect(ids(await lodeJson(['ls', cm.id], at))).toEqual(ids(await lodeJson(['ls', 'HEAD'], fresh)));
      }
    }, 600_000);
  });
}
