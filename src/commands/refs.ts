import { NotFoundError, RefConflictError, UsageError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import { isAncestor, resolveRevision } from '../graph/commits.js';
import { validateRefName } from '../graph/refs.js';
import type { Repository } from '../repo/repository.js';
import { listRemoteBranches as trackingBranches, resolveRev, type RemoteBranch } from '../repo/revisions.js';

export interface BranchInfo {
  name: string;
  commit: ObjectId;
  current: boolean;
}

export interface BranchListResult {
  branches: BranchInfo[];
  /** Current branch (possibly without commits yet), or null when detached. */
  current: string | null;
  detached: ObjectId | null;
}

/** listBranches returns every branch, marking the current one. */
export async function listBranches(repo: Repository): Promise<BranchListResult> {
  const head = repo.refs.head();
  const current = head.kind === 'branch' ? head.name : null;
  return {
    branches: repo.refs.list('heads').map((b) => ({ name: b.name, commit: b.id, current: b.name === current })),
    current,
    detached: head.kind === 'detached' ? head.id : null,
  };
}

/** RemoteBranchListResult lists remote-tracking branches: where each remote branch was at the last fetch or push. */
export interface RemoteBranchListResult {
  branches: (RemoteBranch & { ref: string })[];
}

/** listRemoteBranches returns the remote-tracking branches (`origin/main`...), sorted by remote and name. */
export async function listRemoteBranches(repo: Repository): Promise<RemoteBranchListResult> {
  return { branches: trackingBranches(repo).map((b) => ({ ref: `${b.remote}/${b.name}`, ...b })) };
}

/** createBranch makes a branch at `start` (default HEAD); REF_CONFLICT if it exists. */
export async function createBranch(repo: Repository, options: { name: string; start?: string }): Promise<BranchInfo> {
  validateRefName(options.name, 'branch');
  return repo.withLock('branch', async () => {
    const start = await resolveRev(repo, options.start ?? 'HEAD');
    repo.refs.set('heads', options.name, start.id, null);
    return { name: options.name, commit: start.id, current: false };
  });
}

/**
 * deleteBranch removes a branch. Refuses the current branch, and a branch
 * whose commits no other branch or tag reaches unless `force`.
 */
export async function deleteBranch(repo: Repository, options: { name: string; force?: boolean }): Promise<BranchInfo> {
  return repo.withLock('branch', async () => {
    const id = repo.refs.get('heads', options.name);
    if (!id) throw new NotFoundError(`no branch named ${options.name}`, { hint: '`lode branch` lists branches' });
    const head = repo.refs.head();
    if (head.kind === 'branch' && head.name === options.name) {
      throw new UsageError(`cannot delete the current branch ${options.name}`, { hint: 'switch to another branch first (`lode checkout OTHER`)' });
    }
    if (!options.force) {
      const others = [...repo.refs.list('heads').filter((b) => b.name !== options.name), ...repo.refs.list('tags')].map((r) => r.id);
      const headId = repo.refs.headCommit();
      if (headId) others.push(headId);
      if (!others.some((o) => isAncestor(repo.store, id, o))) {
        throw new RefConflictError(`branch ${options.name} has commits no other branch or tag reaches`, { hint: `merge or tag them first, or delete anyway with \`lode branch -D ${options.name}\`` });
      }
    }
    repo.refs.delete('heads', options.name);
    return { name: options.name, commit: id, current: false };
  });
}

export interface TagInfo {
  name: string;
  commit: ObjectId;
}

export async function listTags(repo: Repository): Promise<{ tags: TagInfo[] }> {
  return { tags: repo.refs.list('tags').map((t) => ({ name: t.name, commit: t.id })) };
}

/** createTag points a new tag at `rev` (default HEAD); tags never move unless `force`. */
export async function createTag(repo: Repository, options: { name: string; rev?: string; force?: boolean }): Promise<TagInfo> {
  validateRefName(options.name, 'tag');
  return repo.withLock('tag', async () => {
    const target = await resolveRev(repo, options.rev ?? 'HEAD');
    const existing = repo.refs.get('tags', options.name);
    if (existing && !options.force) {
      throw new RefConflictError(`tag ${options.name} already exists (at ${existing.slice(0, 12)})`, { hint: 'tags do not move: pick another name, or use --force to repoint it' });
    }
    repo.refs.set('tags', options.name, target.id, options.force ? undefined : null);
    return { name: options.name, commit: target.id };
  });
}

export async function deleteTag(repo: Repository, options: { name: string }): Promise<TagInfo> {
  return repo.withLock('tag', async () => {
    const id = repo.refs.get('tags', options.name);
    if (!id) throw new NotFoundError(`no tag named ${options.name}`, { hint: '`lode tag` lists tags' });
    repo.refs.delete('tags', options.name);
    return { name: options.name, commit: id };
  });
}
