/**
 * `lode ls [REV[:PATH]]`: the names in a version, read from its trees alone
 * (sizes and file counts are recorded in the trees: no content is needed).
 */
import { NotFoundError } from '../core/errors.js';
import type { EntryKind } from '../core/encoding.js';
import type { ObjectId } from '../core/id.js';
import { joinPath } from '../core/paths.js';
import { lookupPath, TreePool } from '../graph/trees.js';
import type { Repository } from '../repo/repository.js';
import { parseRevPath, revPathToRepoPath, versionSnapshot } from '../repo/rev-path.js';

export interface LsOptions {
  /** `REV`, `REV:PATH` (default HEAD, the top of the datasets). */
  spec?: string;
  /** Where `./` and `../` paths start (default process.cwd()). */
  cwd?: string;
  /** List every file beneath, not the directories. */
  recursive?: boolean;
}

/** LsEntry is one name: a file ('blob': one chunk, 'chunked': several) or a directory ('tree'). */
export interface LsEntry {
  /** Repo-relative path. */
  path: string;
  /** Path relative to the listed directory (the name itself without -r). */
  name: string;
  kind: EntryKind;
  id: ObjectId;
  /** Bytes: the file's, or everything beneath the directory. */
  size: number;
  /** 1 for a file; the files beneath a directory. */
  files: number;
  exec: boolean;
}

/** LsResult is the stable shape of `lode ls --json` (docs/cli.md). */
export interface LsResult {
  rev: string;
  /** The commit listed (null for the index or an unborn HEAD). */
  commit: ObjectId | null;
  /** The listed path ('' for the top). */
  path: string;
  /** What `path` is: a directory, or one file (then `entries` is that file). */
  kind: EntryKind;
  entries: LsEntry[];
}

/** ls lists the entries of a directory of a version (or one file), in path order. NotFoundError when the path is not there. */
export async function ls(repo: Repository, options: LsOptions = {}): Promise<LsResult> {
  const parsed = parseRevPath(options.spec ?? 'HEAD');
  const path = parsed.path === undefined ? '' : revPathToRepoPath(repo, parsed.path, options.cwd);
  // Over objects/, then the index's kept trees: :index reads below a tree objects/ holds through it.
  const pool = new TreePool(repo.treeReader());
  const snap = await versionSnapshot(repo, parsed.rev, pool);
  const top = lookupPath(pool, snap.tree, path);
  if (!top) throw new NotFoundError(`${path} is not in ${parsed.rev}`, { hint: `\`lode ls ${parsed.rev}\` lists the top of that version` });
  const base = { rev: parsed.rev, commit: snap.commit ?? null, path, kind: top.kind };
  if (top.kind !== 'tree') {
    const name = path.slice(path.lastIndexOf('/') + 1);
    return { ...base, entries: [{ path, name, kind: top.kind, id: top.id, size: top.size, files: 1, exec: top.exec }] };
  }
  const entries: LsEntry[] = [];
  const walk = (tree: ObjectId, dir: string, rel: string) => {
    for (const e of pool.readTree(tree)) {
      const p = joinPath(dir, e.name);
      const name = joinPath(rel, e.name);
      if (e.kind === 'tree' && options.recursive) walk(e.id, p, name);
      else entries.push({ path: p, name, kind: e.kind, id: e.id, size: e.size, files: e.files, exec: e.exec });
    }
  };
  walk(top.id, path, '');
  return { ...base, entries };
}

