/**
 * Reading a remote with no workspace (`lode ls URL`, `lode get URL PATH`),
 * as `dvc list` and `dvc get` do: the remote's refs and pack indexes are
 * read, then only the trees on the way to PATH and the objects of the files
 * asked for. Every object is verified against its ID as it arrives, every
 * tree decoded with its names validated before anything is written from it,
 * and every size checked against what the tree declares; `get` writes to a
 * temporary name beside the target and renames it into place last.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeChunkList, decodeCommit, type EntryKind, type TreeEntry } from '../core/encoding.js';
import { CorruptObjectError, LodeError, NotFoundError, UnknownRevisionError, UsageError } from '../core/errors.js';
import { isObjectId, type ObjectId } from '../core/id.js';
import { joinPath, validateRepoPath } from '../core/paths.js';
import type { ProgressSink } from '../core/progress.js';
import { rmQuiet, tempName } from '../storage/atomic.js';
import { checkRemoteOptions, normaliseRemoteUrl, openBackend, redactUrl, type RemoteOptions } from '../storage/registry.js';
import { ReaderTrees, walkFilesAsync } from '../graph/reader-trees.js';
import { RemoteStore } from '../sync/remote-store.js';
import type { LsEntry, LsResult } from './ls.js';

export type RemoteReadOptions = RemoteOptions & {
  /** A directory remote's path or `s3://bucket/prefix`. */
  url: string;
  /** A branch or tag of the remote, `NAME~N`, or a commit ID (or unique prefix); default main, or the only branch. */
  rev?: string;
  /** Repo path inside the version ('' or absent: the top). */
  path?: string;
  /** Where a relative directory URL starts (default process.cwd()). */
  cwd?: string;
};

/** RemoteLsResult is `lode ls URL --json`: an LsResult with the remote it read. */
export interface RemoteLsResult extends LsResult {
  url: string;
}

/**
 * looksLikeRemoteUrl says whether a `lode ls` / `lode get` argument names a
 * remote rather than a revision: a URL with a scheme (`s3://`), an absolute
 * path, or a relative one to a directory holding a lode remote (its `refs`,
 * and `packs` or `config`).
 */
export function looksLikeRemoteUrl(spec: string, cwd = process.cwd()): boolean {
  // A revision never starts with `/`: an absolute path is a remote, there or not.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec) || path.isAbsolute(spec)) return true;
  const dir = path.resolve(cwd, spec);
  try {
    return fs.statSync(path.join(dir, 'refs')).isDirectory() && (fs.existsSync(path.join(dir, 'packs')) || fs.existsSync(path.join(dir, 'config')));
  } catch {
    return false;
  }
}

interface OpenedRead {
  store: RemoteStore;
  url: string;
  close(): Promise<void>;
}

async function openForRead(o: RemoteReadOptions): Promise<OpenedRead> {
  const { url: raw, rev: _rev, path: _path, cwd, ...rest } = o;
  const url = normaliseRemoteUrl(raw, cwd);
  const options = checkRemoteOptions(url, rest);
  const backend = await openBackend(url, options);
  // Pack indexes are cached only for this read: no workspace keeps them.
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-read-'));
  const store = new RemoteStore(backend, cache);
  return {
    store,
    url,
    close: async () => {
      await backend.close?.();
      fs.rmSync(cache, { recursive: true, force: true });
    },
  };
}

/**
 * resolveRemoteRev finds the commit `rev` names on the remote: a branch, a
 * tag, `NAME~N` / `NAME^` (first parents), or a commit ID or unique prefix
 * of at least 4 hex digits among the objects the remote's packs index.
 */
async function resolveRemoteRev(store: RemoteStore, rev: string | undefined, url: string): Promise<{ rev: string; commit: ObjectId }> {
  const refs = await store.refs();
  await store.refresh();
  const heads = refs.filter((r) => r.kind === 'heads');
  if (rev === undefined) {
    const pick = heads.find((r) => r.name === 'main') ?? (heads.length === 1 ? heads[0] : undefined);
    if (!pick) {
      throw new NotFoundError(heads.length ? `remote ${redactUrl(url)} has ${heads.length} branches and none is main` : `remote ${redactUrl(url)} has no branch`, {
        hint: heads.length ? `choose one with --rev (${heads.map((h) => h.name).join(', ')})` : 'push a branch to it first',
      });
    }
    return { rev: pick.name, commit: pick.id };
  }
  const m = /^(.+?)((?:[~^]\d*)*)$/.exec(rev)!;
  const name = m[1];
  let id: ObjectId | undefined = heads.find((r) => r.name === name)?.id ?? refs.find((r) => r.kind === 'tags' && r.name === name)?.id;
  if (!id && /^[0-9a-f]{4,64}$/.test(name)) {
    const found = new Set<ObjectId>();
    for (const [, idx] of store.indexedPacks()) for (const e of idx.entries()) if (e.id.startsWith(name)) found.add(e.id);
    for (const r of refs) if (r.id.startsWith(name)) found.add(r.id);
    const commits: ObjectId[] = [];
    for (const c of found) {
      try {
        decodeCommit(await store.get(c, 'commit'), c);
        commits.push(c);
      } catch (e) {
        if (e instanceof CorruptObjectError && !isObjectId(name)) continue; // another kind of object with that prefix
        throw e;
      }
    }
    if (commits.length > 1) throw new UsageError(`commit ID prefix ${name} is ambiguous on the remote`, { hint: 'give more digits' });
    id = commits[0];
  }
  if (!id) {
    throw new UnknownRevisionError(rev, {
      hint: `the remote has branches ${heads.map((h) => h.name).join(', ') || '(none)'}; give a branch, a tag or a commit ID (\`lode ls URL\` with no --rev reads main)`,
    });
  }
  // `~N` and `^`: first parents.
  for (const step of m[2].match(/[~^]\d*/g) ?? []) {
    const n = step.length > 1 ? Number(step.slice(1)) : 1;
    for (let i = 0; i < (step[0] === '~' ? n : Math.min(n, 1)); i++) {
      const c = decodeCommit(await store.get(id, 'commit'), id);
      const next = step[0] === '^' && n > 1 ? c.parents[n - 1] : c.parents[0];
      if (!next) throw new UnknownRevisionError(rev, { hint: 'the history is not that long' });
      id = next;
    }
  }
  return { rev, commit: id };
}

/** lookupRemote walks the trees from `root` to `repoPath`, reading one tree per step; undefined when a component is absent. */
async function lookupRemote(trees: ReaderTrees, root: ObjectId, repoPath: string): Promise<TreeEntry | undefined> {
  let entry: TreeEntry = { name: '', kind: 'tree', id: root, size: 0, files: 0, exec: false };
  if (repoPath === '') return entry;
  for (const part of repoPath.split('/')) {
    if (entry.kind !== 'tree') return undefined;
    const found: TreeEntry | undefined = (await trees.readTree(entry.id)).find((e) => e.name === part);
    if (!found) return undefined;
    entry = found;
  }
  return entry;
}

function cleanPath(p: string | undefined): string {
  const s = (p ?? '').replace(/^\/+|\/+$/g, '');
  if (s === '' || s === '.') return '';
  validateRepoPath(s);
  return s;
}

/**
 * lsRemote lists a directory (or one file) of a version on a remote, reading
 * only the refs, the pack indexes and the trees on the way. NotFoundError when
 * the path is not in that version; UnknownRevisionError for a bad `rev`.
 */
export async function lsRemote(o: RemoteReadOptions & { recursive?: boolean }): Promise<RemoteLsResult> {
  const where = cleanPath(o.path);
  const r = await openForRead(o);
  try {
    const { rev, commit } = await resolveRemoteRev(r.store, o.rev, r.url);
    const trees = new ReaderTrees(r.store);
    const root = decodeCommit(await r.store.get(commit, 'commit'), commit).tree;
    const top = await lookupRemote(trees, root, where);
    if (!top) throw new NotFoundError(`${where} is not in ${rev} on ${redactUrl(r.url)}`, { hint: `\`lode ls ${redactUrl(r.url)} --rev ${rev}\` lists the top of that version` });
    const base = { url: redactUrl(r.url), rev, commit, path: where, kind: top.kind as EntryKind };
    if (top.kind !== 'tree') {
      return { ...base, entries: [{ path: where, name: where.slice(where.lastIndexOf('/') + 1), kind: top.kind, id: top.id, size: top.size, files: 1, exec: top.exec }] };
    }
    let entries: LsEntry[];
    if (o.recursive) {
      entries = (await walkFilesAsync(trees, top.id, where)).map((f) => ({ path: f.path, name: where === '' ? f.path : f.path.slice(where.length + 1), kind: f.kind, id: f.id, size: f.size, files: 1, exec: f.exec }));
    } else {
      entries = (await trees.readTree(top.id)).map((e) => ({ path: joinPath(where, e.name), name: e.name, kind: e.kind, id: e.id, size: e.size, files: e.files, exec: e.exec }));
    }
    return { ...base, entries };
  } finally {
    await r.close();
  }
}

export interface GetRemoteResult {
  url: string;
  rev: string;
  commit: ObjectId;
  path: string;
  /** The file or directory written (absolute). */
  out: string;
  files: number;
  bytes: number;
  requests: number;
}

/** Names a written path may not have: writing there would change a repository. */
const FORBIDDEN = new Set(['.lode', '.git']);

/**
 * getRemote copies a file or directory of a version on a remote to `out`
 * (default: its name in `cwd`), fetching only its objects. Refuses a target
 * that exists (unless `force` for a file), that lies inside a `.lode` or
 * `.git` directory, and remote names that would be written there. The result
 * appears whole or not at all: it is assembled under a temporary name beside
 * the target and renamed last.
 */
export async function getRemote(o: RemoteReadOptions & { out?: string; force?: boolean; progress?: ProgressSink }): Promise<GetRemoteResult> {
  const where = cleanPath(o.path);
  const cwd = o.cwd ?? process.cwd();
  const r = await openForRead(o);
  try {
    const { rev, commit } = await resolveRemoteRev(r.store, o.rev, r.url);
    const trees = new ReaderTrees(r.store);
    const root = decodeCommit(await r.store.get(commit, 'commit'), commit).tree;
    const top = await lookupRemote(trees, root, where);
    if (!top) throw new NotFoundError(`${where || '(top)'} is not in ${rev} on ${redactUrl(r.url)}`, { hint: `\`lode ls ${redactUrl(r.url)} --rev ${rev}\` lists what is there` });
    const name = where === '' ? path.basename(r.url.replace(/\/+$/, '')) || 'lode-data' : where.slice(where.lastIndexOf('/') + 1);
    const out = path.resolve(cwd, o.out ?? name);
    const inside = out.split(path.sep).find((part) => FORBIDDEN.has(part));
    if (inside) throw new UsageError(`refusing to write ${out}: it is inside a ${inside} directory`, { hint: 'choose another -o target' });
    if (fs.existsSync(out) && !(o.force && top.kind !== 'tree' && fs.statSync(out).isFile())) {
      throw new LodeError('ALREADY_EXISTS', `${out} exists`, { hint: top.kind === 'tree' ? 'choose another -o target, or remove it first' : 'choose another -o target, or --force to replace the file' });
    }
    if (!fs.existsSync(path.dirname(out))) throw new NotFoundError(`${path.dirname(out)} does not exist`, { hint: 'create the directory first' });
    const files = top.kind === 'tree' ? await walkFilesAsync(trees, top.id, '') : [{ path: '', kind: top.kind, id: top.id, size: top.size, exec: top.exec }];
    for (const f of files) {
      const bad = f.path.split('/').find((part) => FORBIDDEN.has(part));
      if (bad) throw new UsageError(`refusing to write ${f.path}: lode does not write a ${bad} directory from a remote`, { hint: `get a folder beneath it instead` });
    }
    const tmp = tempName(path.dirname(out), 'lode-get');
    const totalBytes = files.reduce((s, f) => s + f.size, 0);
    const result: GetRemoteResult = { url: redactUrl(r.url), rev, commit, path: where, out, files: 0, bytes: 0, requests: 0 };
    try {
      if (top.kind === 'tree') fs.mkdirSync(tmp);
      for (const f of files) {
        const dest = top.kind === 'tree' ? path.join(tmp, ...f.path.split('/')) : tmp;
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        await writeRemoteFile(r.store, f, dest);
        result.files++;
        result.bytes += f.size;
        o.progress?.({ phase: 'pull', done: result.files, total: files.length, bytes: result.bytes, totalBytes });
      }
      o.progress?.({ phase: 'pull', done: result.files, total: files.length, bytes: result.bytes, totalBytes, finished: true });
      fs.renameSync(tmp, out);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    result.requests = r.store.stats.requests;
    return result;
  } finally {
    await r.close();
  }
}

/** writeRemoteFile writes one file's verified content to `dest` (a new file), checking its size against its tree entry. */
async function writeRemoteFile(store: RemoteStore, f: { path: string; kind: EntryKind; id: ObjectId; size: number; exec: boolean }, dest: string): Promise<void> {
  const mode = f.exec ? 0o755 : 0o644;
  const wrongSize = (got: number) =>
    new CorruptObjectError(`${f.path || 'the file'} has ${got} bytes on the remote, but its tree says ${f.size}`, { objectId: f.id, hint: 'the remote copy is damaged or forged: push the file again from a workspace that has it' });
  const fd = fs.openSync(dest, 'wx', mode);
  try {
    if (f.size === 0 && f.kind === 'blob') {
      // An empty file has no object to read.
    } else if (f.kind === 'blob') {
      const data = await store.get(f.id, 'file');
      if (data.length !== f.size) throw wrongSize(data.length);
      writeAll(fd, data, 0);
    } else {
      const list = decodeChunkList(await store.get(f.id, 'chunk list'), f.id);
      if (list.size !== f.size) throw wrongSize(list.size);
      const places = new Map<ObjectId, { offset: number; size: number }[]>();
      let off = 0;
      for (const c of list.chunks) {
        places.set(c.id, [...(places.get(c.id) ?? []), { offset: off, size: c.size }]);
        off += c.size;
      }
      if (off !== list.size) throw wrongSize(off);
      // Batches bound memory: each holds at most ~64 chunks (a few hundred MiB at the largest chunk size).
      const ids = [...places.keys()];
      for (let i = 0; i < ids.length; i += 64) {
        await store.getMany(ids.slice(i, i + 64), (id, data) => {
          for (const p of places.get(id)!) {
            if (data.length !== p.size) throw new CorruptObjectError(`chunk list ${f.id} declares chunk ${id} of ${p.size} bytes, but it has ${data.length}`, { objectId: f.id });
            writeAll(fd, data, p.offset);
          }
        });
      }
    }
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    rmQuiet(dest);
    throw e;
  }
  fs.closeSync(fd);
}

function writeAll(fd: number, data: Buffer, offset: number): void {
  let w = 0;
  while (w < data.length) w += fs.writeSync(fd, data, w, data.length - w, offset + w);
}
