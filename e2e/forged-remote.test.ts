// Forged remotes: a directory remote written by hand, byte by byte from
// docs/formats.md, so it can hold what lode itself would never write: tree
// entries named .git or .lode (or a name a file system takes for them),
// unsafe dataset lines, pack indexes pointing past their pack, chunk lists
// declaring gigabytes. Every command that reads such a remote must refuse
// with exit 5, name what is wrong, and leave the workspace, its .lode/config,
// its refs and any .git/ as they were.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, runLode, treeSnapshot, writeFile, type TreeSnapshot } from '../test/helpers/cli.js';
import { hasContent, objectFile } from './repos.js';
import { obj, rawChunkList, rawCommit, rawTree, ready, writeRemote, type Obj, type RawEntry } from '../test/helpers/forge.js';

// Tests here run concurrently, so each directory is removed after the whole file, not after each test.
const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tempDir = (prefix: string): string => {
  const d = makeTempDir(prefix);
  made.push(d);
  return d;
};
beforeAll(async () => {
  await ready();
});

/** A forged remote: main points at a commit whose tree holds `name`. */
interface Forged {
  dir: string;
  commit: string;
  /** The tree that holds the forged entry. */
  tree: string;
  /** Every object written to the remote. */
  objects: Obj[];
}

const HOOK = Buffer.from('#!/bin/sh\necho pwned > /tmp/lode-forged-pwned\n');
const CONFIG = Buffer.from('[remote "origin"]\nurl = /attacker\n');

/**
 * forgeRemote builds a remote whose main commit tracks the whole workspace
 * (`dataset ` with the empty path) and whose tree holds data/a.txt plus an
 * entry `name` (at the root, or under data/sub when `nested`), a directory
 * holding what an attacker would plant there: hooks/post-checkout for git,
 * config.local and refs/heads/main for lode.
 */
function forgeRemote(dir: string, name: string, nested = false): Forged {
  const a = obj(Buffer.from('honest data\n'));
  const hook = obj(HOOK);
  const config = obj(CONFIG);
  const ref = obj(Buffer.from(`${'0'.repeat(64)}\n`));
  const hooks = rawTree([{ name: 'post-checkout', kind: 'blob', id: hook.id, size: hook.bytes.length, exec: true }]);
  const refsHeads = rawTree([{ name: 'main', kind: 'blob', id: ref.id, size: ref.bytes.length }]);
  const refs = rawTree([{ name: 'heads', kind: 'tree', id: refsHeads.id, size: ref.bytes.length }]);
  const payload = rawTree([
    { name: 'hooks', kind: 'tree', id: hooks.id, size: hook.bytes.length },
    { name: 'config.local', kind: 'blob', id: config.id, size: config.bytes.length },
    { name: 'refs', kind: 'tree', id: refs.id, size: ref.bytes.length },
  ]);
  const objects = [a, hook, config, ref, hooks, refsHeads, refs, payload];
  const evil: RawEntry = { name, kind: 'tree', id: payload.id, size: 100, files: 3 };
  const aEntry: RawEntry = { name: 'a.txt', kind: 'blob', id: a.id, size: a.bytes.length };
  let holder: Obj;
  let root: Obj;
  if (nested) {
    holder = rawTree([evil]);
    const data = rawTree([aEntry, { name: 'sub', kind: 'tree', id: holder.id, size: 100, files: 3 }]);
    root = rawTree([{ name: 'data', kind: 'tree', id: data.id, size: 112, files: 4 }]);
    objects.push(holder, data, root);
  } else {
    const data = rawTree([aEntry]);
    root = rawTree([{ name: 'data', kind: 'tree', id: data.id, size: a.bytes.length }, evil]);
    holder = root;
    objects.push(data, root);
  }
  const commit = rawCommit(root.id, ['']);
  objects.push(commit);
  writeRemote(dir, objects, { main: commit.id });
  return { dir, commit: commit.id, tree: holder.id, objects };
}

/** Everything that must not change: the workspace, .lode/config and refs, .git. */
function guarded(dir: string): TreeSnapshot {
  const all = treeSnapshot(dir);
  // Objects fetched before the forged tree was met may stay in the store; nothing else may change.
  return Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith('.lode/objects/') && !k.startsWith('.lode/cache/') && !k.startsWith('.lode/packs/') && !k.startsWith('.lode/remotes/') && !k.startsWith('.lode/tmp')));
}

/** expectRefused checks the one-line refusal: exit 5, the tree's ID and the entry named. */
function expectRefused(r: Awaited<ReturnType<typeof runLode>>, f: Forged, name: string): void {
  const stderr = expectLodeError(r, 5);
  const line = stderr.split('\n').find((l) => l.startsWith('error: '))!;
  expect(line).toContain(f.tree);
  expect(line).toContain(JSON.stringify(name));
  expect(line).toMatch(/\.git|\.lode/);
}

/** The names a file system may take for .git or .lode. */
const NAMES: [string, boolean][] = [
  ['.git', false],
  ['.GIT', false],
  ['.lode', false],
  ['.git.', false],
  ['.git ', false],
  ['git~1', false],
  ['.g\u200cit', false],
  ['.git::$INDEX_ALLOCATION', false],
  ['.git', true],
];

/** A local workspace with one honest commit, built once and copied per test. */
let template: string;
beforeAll(async () => {
  template = tempDir('lode-forged-template');
  await lodeOk(['init'], { cwd: template });
  fs.mkdirSync(path.join(template, '.git', 'hooks'), { recursive: true });
  writeFile(template, '.git/HEAD', 'ref: refs/heads/main\n');
  writeFile(template, 'data/mine.txt', 'my own data\n');
  await lodeOk(['add', 'data'], { cwd: template });
  await lodeOk(['commit', '-m', 'mine'], { cwd: template });
}, 60_000);

/** workspaceWith copies the template and adds `remote` as origin (when given). */
async function workspaceWith(remote?: string): Promise<string> {
  const dir = tempDir('lode-forged-ws');
  fs.cpSync(template, dir, { recursive: true, preserveTimestamps: true });
  if (remote) await lodeOk(['remote', 'add', 'origin', remote], { cwd: dir });
  await lodeOk(['status'], { cwd: dir });
  return dir;
}

describe.concurrent.each(NAMES)('a remote tree holding %j (nested under data/sub: %s)', (name, nested) => {
  let f: Forged;
  beforeAll(() => {
    f = forgeRemote(tempDir('lode-forged-remote'), name, nested);
  });
  const entry = name;

  it('clone refuses it and leaves nothing behind', async () => {
    const base = tempDir('lode-forged-clone');
    const r = await runLode(['clone', f.dir, 'ws'], { cwd: base });
    expectRefused(r, f, entry);
    expect(fs.readdirSync(base)).toEqual([]);
  });

  it('pull and fetch refuse it, store no commit, and change nothing', async () => {
    const dir = await workspaceWith(f.dir);
    const before = guarded(dir);
    const at = { cwd: dir };
    expectRefused(await runLode(['pull'], at), f, entry);
    expect(guarded(dir)).toEqual(before);
    expectRefused(await runLode(['fetch'], at), f, entry);
    expect(guarded(dir)).toEqual(before);
    // Nothing of the refused history was kept: the commit is unknown, so checkout and merge refuse too.
    expect(fs.existsSync(objectFile(dir, f.commit))).toBe(false);
    expect(fs.existsSync(objectFile(dir, f.tree))).toBe(false);
    expectLodeError(await runLode(['checkout', f.commit], at), 6);
    expectLodeError(await runLode(['merge', f.commit], at), 6);
    expect(guarded(dir)).toEqual(before);
    expect(fs.existsSync(path.join(dir, '.git', 'hooks', 'post-checkout'))).toBe(false);
    expect(fs.existsSync(path.join(dir, '.lode', 'config.local'))).toBe(false);
    expect(fs.existsSync(path.join(dir, '.lode', 'remotes', 'origin', 'refs', 'heads', 'main'))).toBe(false);
  });

  it('checkout, merge and checkout REV -- PATH refuse it when the forged objects are already in the local store', async () => {
    // As an older lode, or anything else writing into .lode/objects, might have left them.
    const dir = await workspaceWith();
    for (const o of f.objects) if (o.bytes.subarray(0, 4).toString() === 'LODT' || o.bytes.subarray(0, 4).toString() === 'lode') plant(objectFile(dir, o.id), o.bytes);
    const before = guarded(dir);
    const at = { cwd: dir };
    expectRefused(await runLode(['checkout', f.commit], at), f, entry);
    expect(guarded(dir)).toEqual(before);
    expectRefused(await runLode(['merge', f.commit], at), f, entry);
    expect(guarded(dir)).toEqual(before);
    expectRefused(await runLode(['checkout', f.commit, '--', nested ? 'data' : '.'], at), f, entry);
    expect(guarded(dir)).toEqual(before);
    expect(fs.existsSync(path.join(dir, '.git', 'hooks', 'post-checkout'))).toBe(false);
    expect(fs.existsSync(path.join(dir, '.lode', 'config.local'))).toBe(false);
  });
});

function plant(file: string, bytes: Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes, { mode: 0o444 });
}

/** diskUsage is the bytes the file system really holds under `dir` (sparse holes excluded). */
function diskUsage(dir: string): number {
  let total = 0;
  const walk = (abs: string) => {
    for (const d of fs.readdirSync(abs, { withFileTypes: true })) {
      const a = path.join(abs, d.name);
      if (d.isDirectory()) walk(a);
      else total += fs.lstatSync(a).blocks * 512;
    }
  };
  walk(dir);
  return total;
}

/** honestRemote writes a remote whose main commit has `root` entries and `datasets`. */
function remoteWith(objects: Obj[], rootEntries: RawEntry[], datasets: string[], entryOf?: Parameters<typeof writeRemote>[3]): { dir: string; commit: string; packId: string; root: string } {
  const dir = tempDir('lode-forged-remote');
  const root = rawTree(rootEntries);
  const commit = rawCommit(root.id, datasets);
  const { packId } = writeRemote(dir, [...objects, root, commit], { main: commit.id }, entryOf);
  return { dir, commit: commit.id, packId, root: root.id };
}

const honestFile = obj(Buffer.from('honest data\n'));
const honestData = rawTree([{ name: 'a.txt', kind: 'blob', id: honestFile.id, size: honestFile.bytes.length }]);
const honestEntries: RawEntry[] = [{ name: 'data', kind: 'tree', id: honestData.id, size: honestFile.bytes.length }];

describe.concurrent('forged pack indexes', () => {
  it.each([
    ['an object past the end of the pack', (e: { id: string; offset: number; length: number }) => (e.id === honestFile.id ? { ...e, offset: e.offset + 1000 } : e)],
    ['an absurd length', (e: { id: string; offset: number; length: number }) => (e.id === honestFile.id ? { ...e, length: 0xffffffff } : e)],
    ['an offset beyond 2^53', (e: { id: string; offset: number; length: number }) => (e.id === honestFile.id ? { ...e, offset: 2 ** 60 } : e)],
  ])('clone refuses %s as a corrupt pack index naming the pack (exit 5)', async (_what, entryOf) => {
    const r = remoteWith([honestFile, honestData], honestEntries, ['data'], entryOf);
    const base = tempDir('lode-forged-clone');
    const res = await runLode(['clone', r.dir, 'ws'], { cwd: base });
    const stderr = expectLodeError(res, 5);
    expect(stderr).not.toMatch(/internal error|RangeError/);
    const line = stderr.split('\n')[0];
    expect(line).toContain(`pack index ${r.packId}`);
    expect(line).toMatch(/outside the pack|declares \d+ bytes/);
    expect(fs.readdirSync(base)).toEqual([]);
  });

  it('a pack cut short after its index was written is reported as corrupt, not as an internal error', async () => {
    const r = remoteWith([honestFile, honestData], honestEntries, ['data']);
    const dir = await workspaceWith(r.dir);
    // Listed at its full size when the index is checked, then truncated: simulate by truncating after a first fetch cached the index.
    await lodeOk(['fetch'], { cwd: dir });
    fs.truncateSync(path.join(r.dir, 'packs', `${r.packId}.pack`), 30);
    fs.rmSync(path.join(dir, '.lode', 'cache'), { recursive: true, force: true });
    fs.rmSync(path.join(dir, '.lode', 'packs'), { recursive: true, force: true });
    const res = await runLode(['checkout', r.commit], { cwd: dir });
    const stderr = expectLodeError(res, 5);
    expect(stderr).toContain(r.packId);
    expect(stderr).not.toMatch(/internal error|RangeError/);
  });
});

describe.concurrent('forged dataset lines', () => {
  it.each(['../outside', '/etc', '.lode', '.git', 'data/.GIT'])('clone, fetch and pull refuse `dataset %s` (exit 5), naming the commit and the path', async (dataset) => {
    const r = remoteWith([honestFile, honestData], honestEntries, ['data', dataset].sort());
    const base = tempDir('lode-forged-clone');
    const res = await runLode(['clone', r.dir, 'ws'], { cwd: base });
    const line = expectLodeError(res, 5).split('\n')[0];
    expect(line).toContain(`commit ${r.commit}`);
    expect(line).toContain(`unsafe dataset path ${JSON.stringify(dataset)}`);
    expect(fs.readdirSync(base)).toEqual([]);
    const dir = await workspaceWith(r.dir);
    const before = guarded(dir);
    expect(expectLodeError(await runLode(['fetch'], { cwd: dir }), 5)).toContain(r.commit);
    expect(expectLodeError(await runLode(['pull'], { cwd: dir }), 5)).toContain(r.commit);
    expect(guarded(dir)).toEqual(before);
    expect(fs.existsSync(objectFile(dir, r.commit))).toBe(false);
  });
});

describe.concurrent('forged chunk lists', () => {
  // The chunk's real bytes: 11 of them.
  const chunk = obj(Buffer.from('eleven byte'));

  it('a chunk list declaring a 3 GiB chunk whose bytes are 11 is refused before anything is written (exit 5)', async () => {
    const list = rawChunkList([
      { id: chunk.id, size: 3 * 2 ** 30 },
      { id: chunk.id, size: 11 },
    ]);
    const data = rawTree([{ name: 'big.bin', kind: 'chunked', id: list.id, size: 3 * 2 ** 30 + 11 }]);
    const r = remoteWith([chunk, list, data], [{ name: 'data', kind: 'tree', id: data.id, size: 3 * 2 ** 30 + 11 }], ['data']);
    const base = tempDir('lode-forged-clone');
    const line = expectLodeError(await runLode(['clone', r.dir, 'ws'], { cwd: base }), 5).split('\n')[0];
    expect(line).toContain(`chunk list ${list.id}`);
    expect(fs.readdirSync(base)).toEqual([]);
    const dir = await workspaceWith(r.dir);
    const before = guarded(dir);
    const used = diskUsage(dir);
    expect(expectLodeError(await runLode(['pull'], { cwd: dir }), 5)).toContain(list.id);
    expect(expectLodeError(await runLode(['fetch'], { cwd: dir }), 5)).toContain(list.id);
    expect(guarded(dir)).toEqual(before);
    expect(diskUsage(dir) - used).toBeLessThan(1 << 20);
  });

  it('a chunk whose bytes are shorter than the size its list declares is refused before it is written (exit 5)', async () => {
    // Sizes a valid list could hold (1 MiB + 11), but the first chunk really has 11 bytes: assembled at
    // its declared offsets it would make a sparse file of the declared size that passes a size check.
    const list = rawChunkList([
      { id: chunk.id, size: 1 << 20 },
      { id: chunk.id, size: 11 },
    ]);
    const data = rawTree([{ name: 'big.bin', kind: 'chunked', id: list.id, size: (1 << 20) + 11 }]);
    const r = remoteWith([chunk, list, data], [{ name: 'data', kind: 'tree', id: data.id, size: (1 << 20) + 11 }], ['data']);
    const base = tempDir('lode-forged-clone');
    const line = expectLodeError(await runLode(['clone', r.dir, 'ws'], { cwd: base }), 5).split('\n')[0];
    expect(line).toContain(`chunk list ${list.id} is corrupt`);
    expect(line).toContain(`chunk ${chunk.id} of 1048576 bytes, but that chunk has 11`);
    expect(fs.readdirSync(base)).toEqual([]);
    const dir = await workspaceWith(r.dir);
    const used = diskUsage(dir);
    expectLodeError(await runLode(['fetch'], { cwd: dir }), 5);
    expect(diskUsage(dir) - used).toBeLessThan(1 << 20);
    expect(fs.readdirSync(path.join(dir, '.lode', 'tmp')).filter((n) => n.includes('fetch'))).toEqual([]);
  });
});

describe.concurrent('lode add never tracks metadata or follows links out of the workspace', () => {
  it('refuses a path through a symbolic link to a directory outside the workspace (exit 2)', async () => {
    const dir = await workspaceWith();
    const outside = tempDir('lode-forged-outside');
    writeFile(outside, 'o.txt', 'a secret outside the workspace\n');
    fs.symlinkSync(outside, path.join(dir, 'ext'));
    const before = guarded(dir);
    const stderr = expectLodeError(await runLode(['add', 'ext/o.txt'], { cwd: dir }), 2);
    expect(stderr.split('\n')[0]).toMatch(/ext\/o\.txt is inside ext, a symbolic link to .* outside the workspace/);
    expect(guarded(dir)).toEqual(before);
    const st = await lodeJson<{ datasets?: string[] }>(['status'], { cwd: dir });
    expect(JSON.stringify(st)).not.toContain('o.txt');
  });

  it('a tracked root whose parent later becomes a symbolic link is not read through it', async () => {
    const dir = await workspaceWith();
    writeFile(dir, 'ext/o.txt', 'tracked inside\n');
    await lodeOk(['add', 'ext/o.txt'], { cwd: dir });
    await lodeOk(['commit', '-m', 'inside'], { cwd: dir });
    const outside = tempDir('lode-forged-outside');
    writeFile(outside, 'o.txt', 'a secret outside the workspace\n');
    fs.rmSync(path.join(dir, 'ext'), { recursive: true });
    fs.symlinkSync(outside, path.join(dir, 'ext'));
    const st = await lodeOk(['status'], { cwd: dir });
    expect(st.stdout).toMatch(/ext\/o\.txt \(inside symbolic link ext\)/);
    await runLode(['commit', '-a', '-m', 'after the link'], { cwd: dir });
    const d = await lodeJson<{ changes: { path: string; new?: { id: string } | null }[] }>(['diff', 'HEAD~1', 'HEAD', '--no-tables'], { cwd: dir }).catch(() => ({ changes: [] }));
    // Whatever commit -a did, the outside file's bytes never entered a commit.
    const secretId = createHash('sha256').update('a secret outside the workspace\n').digest('hex');
    expect(JSON.stringify(d)).not.toContain(secretId);
    expect(hasContent(dir, secretId)).toBe(false);
  });

  it('refuses .git and .lode paths in any spelling (exit 2) and skips those directories when scanning', async () => {
    const dir = await workspaceWith();
    for (const name of ['.GIT', 'git~1', '.git.', '.Lode']) writeFile(dir, `data/${name}/hooks/post-checkout`, '#!/bin/sh\n');
    writeFile(dir, 'data/.gitignore', 'x\n');
    writeFile(dir, 'data/.github/ci.yml', 'on: push\n');
    for (const p of ['.git/x', '.GIT', 'data/.GIT/hooks', 'data/git~1', '.lode/config']) {
      const stderr = expectLodeError(await runLode(['add', p], { cwd: dir }), 2);
      expect(stderr.split('\n')[0]).toMatch(/own metadata|own \.lode directory/);
    }
    await lodeOk(['add', 'data'], { cwd: dir });
    await lodeOk(['commit', '-m', 'with neighbours'], { cwd: dir });
    const d = await lodeJson<{ changes: { path: string }[] }>(['diff', 'HEAD~1', 'HEAD', '--no-tables'], { cwd: dir });
    expect(d.changes.map((c) => c.path).sort()).toEqual(['data/.github/ci.yml', 'data/.gitignore']);
  });
});
