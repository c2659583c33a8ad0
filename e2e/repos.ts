// Small repositories the e2e tests start from, built with the lode binary
// itself. Each builder returns the workspace directory; the caller removes it.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { lodeJson, lodeOk, makeTempDir, removeDir, type RunOptions, writeFile } from '../test/helpers/cli.js';
import { LocalStore } from '../src/objects/store.js';

/** Repo is a workspace plus `run` options bound to it. */
export interface Repo {
  dir: string;
  at: RunOptions;
}

/** newRepo makes a temp dir with `lode init` done in it. */
export async function newRepo(prefix: string): Promise<Repo> {
  const dir = makeTempDir(`lode-e2e-${prefix}`);
  const at = { cwd: dir };
  await lodeOk(['init'], at);
  return { dir, at };
}

/** Shared is a workspace `a` (base/alice) that pushed to the directory remote `share` (base/share). */
export interface Shared {
  a: string;
  at: RunOptions;
  share: string;
}

/**
 * pushedToShare makes the workspace base/alice (`lode init`, then `config`),
 * writes `files` ('/'-separated paths under it, in order), adds data, commits
 * v1, adds base/share as remote "share" and pushes. The caller owns `base`.
 */
export async function pushedToShare(base: string, files: Record<string, string | Uint8Array>, config: Record<string, string | number> = {}): Promise<Shared> {
  const a = path.join(base, 'alice');
  const share = path.join(base, 'share');
  fs.mkdirSync(a);
  const at = { cwd: a };
  await lodeOk(['init'], at);
  for (const [k, v] of Object.entries(config)) await lodeOk(['config', k, String(v)], at);
  for (const [rel, content] of Object.entries(files)) writeFile(a, rel, content);
  await lodeOk(['add', 'data'], at);
  await lodeOk(['commit', '-m', 'v1'], at);
  await lodeOk(['remote', 'add', 'share', share], at);
  await lodeOk(['push'], at);
  return { a, at, share };
}

/** Content of the two versions built by twoVersions. */
export const V1 = {
  'data/a.txt': 'alpha v1\n',
  'data/keep.txt': 'kept the same in both versions\n',
  'data/old.txt': 'only in v1\n',
  'data/nested/deep/n.txt': 'nested, same in both\n',
} as const;

export const V2 = {
  'data/a.txt': 'alpha v2, longer than before\n',
  'data/keep.txt': V1['data/keep.txt'],
  'data/nested/deep/n.txt': V1['data/nested/deep/n.txt'],
  'data/sub/new.txt': 'new in v2\n',
  'data/sub/inner/x.txt': 'new in v2, two levels down\n',
} as const;

/** TwoVersions is a repo whose main has v1 (tagged) then v2, with v2 checked out. */
export interface TwoVersions extends Repo {
  v1: string;
  v2: string;
}

/** Templates built once per test file (keyed by config), copied for each test. */
const templates = new Map<string, Promise<TwoVersions>>();

/**
 * twoVersions gives a repository where main = [v1, v2]: v2 changes
 * data/a.txt, deletes data/old.txt, keeps data/keep.txt and adds data/sub/.
 * Tag v1 names the first commit. The workspace is clean at v2.
 *
 * The repository is built with lode once per config and copied (as a user
 * might `cp -a` a workspace) for each caller, which is much faster than
 * building it again; a `lode status` settles the index to the copy's inodes.
 * Call removeTemplates in afterAll.
 */
export async function twoVersions(prefix: string, config: Record<string, string> = {}): Promise<TwoVersions> {
  const key = JSON.stringify(config);
  let template = templates.get(key);
  if (!template) {
    template = buildTwoVersions('template', config);
    templates.set(key, template);
  }
  const t = await template;
  const dir = makeTempDir(`lode-e2e-${prefix}`);
  fs.cpSync(t.dir, dir, { recursive: true, preserveTimestamps: true });
  const at = { cwd: dir };
  await lodeOk(['status'], at);
  return { dir, at, v1: t.v1, v2: t.v2 };
}

/** removeTemplates deletes the repositories twoVersions copies from. */
export async function removeTemplates(): Promise<void> {
  const all = [...templates.values()];
  templates.clear();
  for (const t of await Promise.allSettled(all)) if (t.status === 'fulfilled') fs.rmSync(t.value.dir, { recursive: true, force: true });
}

async function buildTwoVersions(prefix: string, config: Record<string, string>): Promise<TwoVersions> {
  const repo = await newRepo(prefix);
  for (const [k, v] of Object.entries(config)) await lodeOk(['config', k, v], repo.at);
  for (const [rel, text] of Object.entries(V1)) writeFile(repo.dir, rel, text);
  await lodeOk(['add', 'data'], repo.at);
  const c1 = await lodeJson<{ id: string }>(['commit', '-m', 'v1'], repo.at);
  await lodeOk(['tag', 'v1'], repo.at);
  fs.rmSync(path.join(repo.dir, 'data', 'old.txt'));
  for (const [rel, text] of Object.entries(V2)) writeFile(repo.dir, rel, text);
  await lodeOk(['add', 'data'], repo.at);
  const c2 = await lodeJson<{ id: string }>(['commit', '-m', 'v2'], repo.at);
  return { ...repo, v1: c1.id, v2: c2.id };
}

/** filesOf lists the regular files under dir/sub as '/'-separated paths relative to dir, sorted. */
export function filesOf(dir: string, sub = 'data'): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(dir, ...rel.split('/')), { withFileTypes: true })) {
      const r = `${rel}/${d.name}`;
      if (d.isDirectory()) walk(r);
      else out.push(r);
    }
  };
  walk(sub);
  return out.sort();
}

/** contentsOf reads the given files under dir as text. */
export function contentsOf(dir: string, rels: readonly string[]): Record<string, string> {
  return Object.fromEntries(rels.map((r) => [r, fs.readFileSync(path.join(dir, ...r.split('/')), 'utf8')]));
}

/** cacheFile is where the cache keeps the content with file ID `id`. */
export function cacheFile(dir: string, id: string): string {
  return path.join(dir, '.lode', 'cache', id.slice(0, 2), id.slice(2));
}

/** hasContent says whether the workspace's cache holds file `id`, loose or in a local pack (a clone packs small files). */
export function hasContent(dir: string, id: string): boolean {
  return new LocalStore(path.join(dir, '.lode')).hasFile(id);
}

/** contentPlace says where the bytes of file `id` are in the workspace's cache: its cache file (offset 0) or its local pack at an offset. */
export function contentPlace(dir: string, id: string): { file: string; offset: number } {
  const store = new LocalStore(path.join(dir, '.lode'));
  try {
    const at = store.packs.locate(id);
    return at ? { file: store.packs.packPath(at.pack), offset: at.offset } : { file: cacheFile(dir, id), offset: 0 };
  } finally {
    store.packs.close();
  }
}

/** dropContent removes files from the workspace's cache, loose and packed (as gc would). */
export function dropContent(dir: string, ids: readonly string[]): void {
  const store = new LocalStore(path.join(dir, '.lode'));
  store.removeFiles(new Set(ids));
  store.packs.close();
}

/** objectFile is where the store keeps metadata object `id` (trees, commits, chunk lists). */
export function objectFile(dir: string, id: string): string {
  return path.join(dir, '.lode', 'objects', id.slice(0, 2), id.slice(2));
}

/** flipByte inverts one byte of a read-only store file in place (chmod first, mode restored). */
export function flipByte(file: string, offset = 0): void {
  const mode = fs.statSync(file).mode & 0o777;
  fs.chmodSync(file, 0o644);
  const fd = fs.openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, offset);
    b[0] ^= 0xff;
    fs.writeSync(fd, b, 0, 1, offset);
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(file, mode);
}

/**
 * trackRepos registers cleanup for a test file: every repository passed to
 * the returned `track` is removed after its test, the templates after the file.
 */
export function trackRepos(): <T extends { dir: string }>(r: T) => T {
  const dirs: string[] = [];
  afterAll(removeTemplates);
  afterEach(() => {
    for (const d of dirs.splice(0)) removeDir(d);
  });
  return (r) => {
    dirs.push(r.dir);
    return r;
  };
}
