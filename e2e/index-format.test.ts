// The index on disk through the CLI: a version 1 index (as lode wrote it
// before version 2) is read and upgraded by the next write; `add` keeps the
// entries it does not touch byte for byte and resolves a file that became a
// directory.

import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import xxhash from 'xxhash-wasm';
import { lodeJson, lodeOk, writeFile } from '../test/helpers/cli.js';
import { newRepo, trackRepos } from './repos.js';

const track = trackRepos();

/** v2Entries decodes the paths and IDs of a version 2 index by docs/formats.md. */
function v2Entries(b: Buffer): { path: string; id: string; mtime: bigint }[] {
  expect(b.toString('latin1', 0, 4)).toBe('LODI');
  expect(b[4]).toBe(2);
  let pos = 40;
  const nd = b.readUInt32BE(pos);
  pos += 4;
  for (let i = 0; i < nd; i++) pos += 2 + b.readUInt16BE(pos);
  const n = b.readUInt32BE(pos);
  const rows = pos + 8;
  let p = rows + 74 * n + 4 * Math.ceil(n / 16);
  const varint = () => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const x = b[p++];
      v += (x & 0x7f) * mul;
      if (x < 0x80) return v;
      mul *= 128;
    }
  };
  let prev = Buffer.alloc(0);
  const out = [];
  for (let i = 0; i < n; i++) {
    const shared = varint();
    const len = varint();
    prev = Buffer.concat([prev.subarray(0, shared), b.subarray(p, p + len)]);
    p += len;
    const r = rows + 74 * i;
    out.push({ path: prev.toString('utf8'), id: b.toString('hex', r + 42, r + 74), mtime: b.readBigUInt64BE(r + 10) });
  }
  expect(p).toBe(b.length - 8);
  return out;
}

/** toV1 re-encodes a version 2 index in the version 1 layout (docs/formats.md), checksum included. */
async function toV1(b: Buffer): Promise<Buffer> {
  const { h64Raw } = await xxhash();
  let pos = 40;
  const nd = b.readUInt32BE(pos);
  pos += 4;
  for (let i = 0; i < nd; i++) pos += 2 + b.readUInt16BE(pos);
  const head = Buffer.from(b.subarray(0, pos));
  head[4] = 1;
  const n = b.readUInt32BE(pos);
  const rows = pos + 8;
  const parts: Buffer[] = [head, b.subarray(pos, pos + 4)];
  for (const [i, e] of v2Entries(b).entries()) {
    const p = Buffer.from(e.path, 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(p.length);
    parts.push(len, p, b.subarray(rows + 74 * i, rows + 74 * (i + 1)));
  }
  expect(n).toBe(v2Entries(b).length);
  const body = Buffer.concat(parts);
  const sum = Buffer.alloc(8);
  sum.writeBigUInt64BE(h64Raw(body));
  return Buffer.concat([body, sum]);
}

describe('index format', () => {
  it('reads a version 1 index (status clean, nothing re-read), and the next add writes version 2', async () => {
    const repo = track(await newRepo('index-v1'));
    const past = new Date(Date.now() - 600_000);
    for (let i = 0; i < 40; i++) {
      writeFile(repo.dir, `data/d${i % 3}/f${i}.txt`, `file ${i}\n`);
      // Older than any index write: no entry is racy, so no command refreshes (rewrites) the index by itself.
      fs.utimesSync(path.join(repo.dir, `data/d${i % 3}/f${i}.txt`), past, past);
    }
    await lodeOk(['add', 'data'], repo.at);
    await lodeOk(['commit', '-m', 'one'], repo.at);
    expect((await lodeJson(['status'], repo.at)).clean).toBe(true);
    const indexFile = path.join(repo.dir, '.lode', 'index');
    const v2 = fs.readFileSync(indexFile);
    const before = v2Entries(v2);
    const stat = fs.statSync(indexFile);
    fs.writeFileSync(indexFile, await toV1(v2));
    fs.utimesSync(indexFile, stat.atime, stat.mtime);
    expect(fs.readFileSync(indexFile)[4]).toBe(1);
    expect(await lodeJson(['status'], repo.at)).toMatchObject({ clean: true, staged: [], unstaged: [] });
    expect((await lodeJson(['diff', '--staged'], repo.at)).changes).toEqual([]);
    expect(fs.readFileSync(indexFile)[4], 'read-only commands leave a clean version 1 index as it is').toBe(1);
    expect(before.every((e) => e.mtime !== 0n)).toBe(true);
    writeFile(repo.dir, 'data/new.txt', 'new\n');
    expect(await lodeJson(['add', 'data'], repo.at)).toMatchObject({ added: 1, unchanged: 40, modified: 0, removed: 0 });
    const after = v2Entries(fs.readFileSync(indexFile));
    expect(after.map((e) => e.path)).toEqual([...before.map((e) => e.path), 'data/new.txt'].sort((a, b) => (a < b ? -1 : 1)));
    // Untouched entries keep their IDs and stats.
    const byPath = new Map(after.map((e) => [e.path, e]));
    for (const e of before) expect(byPath.get(e.path)).toEqual(e);
    expect(await lodeJson(['status'], repo.at)).toMatchObject({ staged: [{ path: 'data/new.txt', status: 'added' }], unstaged: [], untracked: [] });
  });

  it('add of a path below a tracked file that became a directory drops the file entry', async () => {
    const repo = track(await newRepo('index-file-dir'));
    writeFile(repo.dir, 'data/a', 'a file\n');
    writeFile(repo.dir, 'data/b', 'b\n');
    await lodeOk(['add', 'data'], repo.at);
    await lodeOk(['commit', '-m', 'one'], repo.at);
    fs.rmSync(path.join(repo.dir, 'data/a'));
    writeFile(repo.dir, 'data/a/inner', 'now a directory\n');
    expect(await lodeJson(['add', 'data/a/inner'], repo.at)).toMatchObject({ added: 1, removed: 1 });
    const paths = v2Entries(fs.readFileSync(path.join(repo.dir, '.lode', 'index'))).map((e) => e.path);
    expect(paths).toEqual(['data/a/inner', 'data/b']);
    const st = await lodeJson(['status'], repo.at);
    expect(st.staged.map((c: { path: string; status: string }) => `${c.status} ${c.path}`).sort()).toEqual(['added data/a/inner', 'deleted data/a']);
  });
});
