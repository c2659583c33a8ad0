// Reading any version without a checkout: `lode cat REV:PATH`, `lode ls`,
// `lode log -- PATH` and `lode show`, through the built binary.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectLodeError, LODE_BIN, lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, runLode, sha256, writeFile } from '../test/helpers/cli.js';
import { cacheFile, dropContent, flipByte, hasContent, trackRepos, twoVersions, V1, V2 } from './repos.js';

const track = trackRepos();

/** catBytes runs `lode cat ...` and returns its stdout as raw bytes (runLode decodes text). */
function catBytes(args: string[], cwd: string): { code: number; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [LODE_BIN, 'cat', ...args], { cwd, env: { ...process.env, NO_COLOR: '1', CI: '1' }, maxBuffer: 1 << 30, timeout: 120_000 });
  if (r.status === null) throw new Error(`lode cat ${args.join(' ')} was killed by ${r.signal}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

/** A workspace with a small file and a chunked file in two versions (v1 tagged), pushed to a directory remote. */
async function bigRepo(prefix: string) {
  const base = track({ dir: makeTempDir(`lode-e2e-${prefix}`) }).dir;
  const a = path.join(base, 'alice');
  const share = path.join(base, 'share');
  fs.mkdirSync(a);
  await lodeOk(['init'], { cwd: a });
  const v1 = { small: pseudoRandomBytes(3000, 1), big: pseudoRandomBytes(6 << 20, 2), other: Buffer.from('other v1\n') };
  writeFile(a, 'data/small.bin', v1.small);
  writeFile(a, 'data/big.bin', v1.big);
  writeFile(a, 'data/other.txt', v1.other);
  await lodeOk(['add', 'data'], { cwd: a });
  await lodeOk(['commit', '-m', 'v1'], { cwd: a });
  const v2 = { small: pseudoRandomBytes(3000, 3), big: Buffer.from(v1.big), other: Buffer.from('other v2\n') };
  v2.big.fill(7, 3 << 20, (3 << 20) + 100);
  writeFile(a, 'data/small.bin', v2.small);
  writeFile(a, 'data/big.bin', v2.big);
  writeFile(a, 'data/other.txt', v2.other);
  await lodeOk(['commit', '-a', '-m', 'v2'], { cwd: a });
  await lodeOk(['remote', 'add', 'share', share], { cwd: a });
  await lodeOk(['push'], { cwd: a });
  return { base, a, share, v1, v2 };
}

describe('lode cat', () => {
  it('writes a small and a chunked file of any version byte for byte, and stops quietly when the reader goes away', async () => {
    const { a, v1, v2 } = await bigRepo('cat');
    const entries = (await lodeJson(['ls', 'HEAD~1:data', '-l'], { cwd: a })).entries as { name: string; kind: string }[];
    expect(entries.find((e) => e.name === 'big.bin')?.kind).toBe('chunked');
    expect(entries.find((e) => e.name === 'small.bin')?.kind).toBe('blob');

    for (const [spec, want] of [
      ['HEAD~1:data/small.bin', v1.small],
      ['HEAD~1:data/big.bin', v1.big],
      ['HEAD:data/big.bin', v2.big],
      ['data/small.bin', v2.small], // a bare path is HEAD:PATH
    ] as const) {
      const r = catBytes([spec], a);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.length).toBe(want.length);
      expect(sha256(r.stdout)).toBe(sha256(want));
    }
    // Through a pipe into cmp, against the file as it was committed.
    fs.writeFileSync(path.join(a, 'v1-big.orig'), v1.big);
    const cmp = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${LODE_BIN}" cat HEAD~1:data/big.bin | cmp - v1-big.orig`], { cwd: a, encoding: 'utf8' });
    expect(cmp.status, cmp.stdout + cmp.stderr).toBe(0);
    // `| head`: the reader leaves after 100 bytes; lode exits 0 without a word.
    const head = spawnSync('bash', ['-c', `"${process.execPath}" "${LODE_BIN}" cat HEAD:data/big.bin 2>err.txt | head -c 100 | wc -c; echo "status \${PIPESTATUS[0]}"`], { cwd: a, encoding: 'utf8' });
    expect(head.stdout.trim().split('\n')).toEqual(['100', 'status 0']);
    expect(fs.readFileSync(path.join(a, 'err.txt'), 'utf8')).toBe('');

    // A damaged byte near the end of the cached file: the chunks before it come out, the bad one never does.
    // (The newest version is the one the cache keeps whole; the older one is kept as chunks.)
    const bigId = (await lodeJson(['ls', 'HEAD:data/big.bin'], { cwd: a })).entries[0].id;
    flipByte(cacheFile(a, bigId), v2.big.length - 10);
    const bad = catBytes(['HEAD:data/big.bin'], a);
    expect(bad.code).toBe(5);
    expect(bad.stderr).toMatch(/^error: cached file [0-9a-f]{64} \(data\/big\.bin at HEAD\) is corrupt: the chunk at offset \d+ does not match its ID$/m);
    expect(bad.stdout.length).toBeLessThan(v2.big.length);
    expect(bad.stdout.equals(v2.big.subarray(0, bad.stdout.length))).toBe(true);
  });

  it('in a clone that lacks the content, fetches just that file from the default remote', async () => {
    const { base, share, v1 } = await bigRepo('cat-partial');
    const b = path.join(base, 'bob');
    await lodeOk(['clone', share, b], { cwd: base });
    // Bob's cache lacks the old versions of the files (as a partial clone would).
    const old = (await lodeJson(['ls', 'HEAD~1:data'], { cwd: b })).entries as { name: string; id: string }[];
    const idOf = (name: string) => old.find((e) => e.name === name)!.id;
    dropContent(b, ['big.bin', 'small.bin', 'other.txt'].map(idOf));

    const r = catBytes(['HEAD~1:data/big.bin'], b);
    expect(r.code, r.stderr).toBe(0);
    expect(sha256(r.stdout)).toBe(sha256(v1.big));
    expect(r.stderr).toMatch(/^lode: fetched data\/big\.bin from origin$/m);
    // Only that file came back.
    expect(hasContent(b, idOf('big.bin'))).toBe(true);
    expect(hasContent(b, idOf('small.bin'))).toBe(false);
    expect(hasContent(b, idOf('other.txt'))).toBe(false);

    // --no-fetch refuses instead; a later cat fetches the small file the same way.
    const refused = await runLode(['cat', '--no-fetch', 'HEAD~1:data/other.txt'], { cwd: b });
    expect(expectLodeError(refused, 6)).toMatch(/^error: the content of data\/other\.txt at HEAD~1 is not fetched yet$/m);
    const small = catBytes(['HEAD~1:data/small.bin'], b);
    expect(small.code, small.stderr).toBe(0);
    expect(sha256(small.stdout)).toBe(sha256(v1.small));
    expect(hasContent(b, idOf('other.txt'))).toBe(false);
  });

  it('a missing path exits 6 with one error line and a hint; a directory or no revision exits 2', async () => {
    const repo = track(await twoVersions('cat-missing'));
    const r = await runLode(['cat', 'v1:data/nope.txt'], repo.at);
    expect(expectLodeError(r, 6).trim().split('\n')).toEqual(['error: data/nope.txt is not in v1', 'hint:  `lode ls v1:data` lists what is there']);
    expect(r.stdout).toBe('');
    expectLodeError(await runLode(['cat', 'v1:data/sub/new.txt'], repo.at), 6); // only in v2
    expect(expectLodeError(await runLode(['cat', 'v1:data/nested'], repo.at), 2)).toMatch(/^error: data\/nested is a directory in v1$/m);
    expectLodeError(await runLode(['cat', 'nosuchrev:data/a.txt'], repo.at), 6);
    expectLodeError(await runLode(['cat', ':data/a.txt'], repo.at), 2);
    // Paths from the top of the workspace, or from here with ./
    expect((await lodeOk(['cat', 'v1:data/a.txt'], repo.at)).stdout).toBe(V1['data/a.txt']);
    expect((await lodeOk(['cat', 'v1:./deep/n.txt'], { cwd: path.join(repo.dir, 'data', 'nested') })).stdout).toBe(V1['data/nested/deep/n.txt']);
    expect((await lodeOk(['cat', ':index:data/sub/new.txt'], repo.at)).stdout).toBe(V2['data/sub/new.txt']);
  });
});

describe('lode ls', () => {
  it('lists names, -l kinds sizes and IDs, -r every file, --json', async () => {
    const repo = track(await twoVersions('ls'));
    expect((await lodeOk(['ls'], repo.at)).stdout).toBe('data/\n');
    expect((await lodeOk(['ls', 'v1:data'], repo.at)).stdout.split('\n').filter(Boolean)).toEqual(['a.txt', 'keep.txt', 'nested/', 'old.txt']);
    expect((await lodeOk(['ls', 'HEAD:data/'], repo.at)).stdout.split('\n').filter(Boolean)).toEqual(['a.txt', 'keep.txt', 'nested/', 'sub/']);

    const long = (await lodeOk(['ls', '-l', 'v1:data'], repo.at)).stdout.split('\n').filter(Boolean);
    const aLine = long.find((l) => l.endsWith(' a.txt'))!;
    expect(aLine.split(/\s+/)).toEqual(['blob', String(V1['data/a.txt'].length), 'B', sha256(Buffer.from(V1['data/a.txt'])).slice(0, 12), 'a.txt']);
    expect(long.find((l) => l.endsWith(' nested/'))!.split(/\s+/).slice(0, 3)).toEqual(['tree', '1', 'file']);

    const rec = (await lodeOk(['ls', '-r', 'HEAD'], repo.at)).stdout.split('\n').filter(Boolean);
    expect(rec).toEqual(Object.keys(V2).sort((x, y) => (x < y ? -1 : 1)));

    const j = await lodeJson(['ls', 'v1:data', '-r'], repo.at);
    expect(j.rev).toBe('v1');
    expect(j.commit).toBe(repo.v1);
    expect(j.path).toBe('data');
    expect(j.kind).toBe('tree');
    const want = Object.entries(V1).map(([p, text]) => ({ path: p, name: p.slice('data/'.length), kind: 'blob', id: sha256(Buffer.from(text)), size: Buffer.byteLength(text), files: 1, exec: false }));
    expect(j.entries).toEqual(want.sort((x, y) => (x.path < y.path ? -1 : 1)));

    const dir = (await lodeJson(['ls', 'v1:data'], repo.at)).entries.find((e: { name: string }) => e.name === 'nested');
    expect(dir).toMatchObject({ kind: 'tree', files: 1, size: Buffer.byteLength(V1['data/nested/deep/n.txt']) });

    expect(expectLodeError(await runLode(['ls', 'v1:data/sub'], repo.at), 6)).toMatch(/^error: data\/sub is not in v1$/m);
  });
});

describe('lode log -- PATH and lode show', () => {
  it('log lists only the commits that changed a path', async () => {
    const repo = track(await twoVersions('log-path'));
    const ids = async (...paths: string[]) => ((await lodeJson(['log', '--', ...paths], repo.at)).commits as { id: string }[]).map((c) => c.id);
    expect(await ids('data/a.txt')).toEqual([repo.v2, repo.v1]);
    expect(await ids('data/keep.txt')).toEqual([repo.v1]);
    expect(await ids('data/nested')).toEqual([repo.v1]);
    expect(await ids('data/sub')).toEqual([repo.v2]);
    expect(await ids('data/old.txt')).toEqual([repo.v2, repo.v1]); // added, then deleted
    expect(await ids('data/nope.txt')).toEqual([]);
    expect(await ids('data/keep.txt', 'data/sub')).toEqual([repo.v2, repo.v1]);
    // A revision before --, paths relative to the working directory.
    const fromV1 = await lodeJson(['log', 'v1', '--', 'a.txt'], { cwd: path.join(repo.dir, 'data') });
    expect(fromV1.commits.map((c: { id: string }) => c.id)).toEqual([repo.v1]);
    expect((await lodeOk(['log', '--oneline', '--', 'data/sub'], repo.at)).stdout.trim().split('\n')).toEqual([`${repo.v2.slice(0, 12)} (HEAD -> main) v2`]);
  });

  it('show prints the commit and its change against its first parent', async () => {
    const repo = track(await twoVersions('show'));
    const out = (await lodeOk(['show'], repo.at)).stdout.split('\n');
    expect(out[0]).toBe(`commit ${repo.v2} (HEAD -> main)`);
    expect(out).toContain('    v2');
    const changes = out.filter((l) => /^[ADMR]  /.test(l)).map((l) => l.split(/\s+/).slice(0, 2).join(' '));
    expect(changes).toEqual(['M data/a.txt', 'D data/old.txt', 'A data/sub/inner/x.txt', 'A data/sub/new.txt']);
    expect(out.some((l) => /^4 files changed: 2 added, 1 deleted, 1 modified, 0 renamed \(/.test(l))).toBe(true);

    const j = await lodeJson(['show', 'v1'], repo.at);
    expect(j.commit.id).toBe(repo.v1);
    expect(j.commit.message).toBe('v1\n');
    expect(j.diff.from.kind).toBe('empty');
    expect(j.diff.to.commit).toBe(repo.v1);
    expect(j.diff.changes.map((c: { path: string; status: string }) => `${c.status} ${c.path}`)).toEqual(Object.keys(V1).sort((x, y) => (x < y ? -1 : 1)).map((p) => `added ${p}`));
    expectLodeError(await runLode(['show', 'nosuchrev'], repo.at), 6);
  });
});
