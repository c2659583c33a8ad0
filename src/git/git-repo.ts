/**
 * GitRepo reads the git repository around a lode workspace: HEAD, revisions,
 * files at a revision, config. It reads only what it is asked for (never a
 * whole-repository status) and loads isomorphic-git on first use, so commands
 * that never touch git do not pay for it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LodeError, UnknownRevisionError } from '../core/errors.js';

type Git = typeof import('isomorphic-git');
let gitModule: Promise<Git> | undefined;
function loadGit(): Promise<Git> {
  gitModule ??= import('isomorphic-git').then((m) => ((m as { default?: Git }).default ?? m) as Git);
  return gitModule;
}

/** GitLocation is where the git repository around a directory lives. */
export interface GitLocation {
  /** The work tree's root (for a bare repository: the repository directory). */
  workTree: string;
  gitdir: string;
  bare: boolean;
  /** A linked worktree (`git worktree add`): its refs and objects live in another git directory. */
  linked?: boolean;
}

/**
 * findGit looks for a git repository at or above `dir`: a `.git` directory,
 * a `.git` file pointing elsewhere (`gitdir: ...`), or a bare repository.
 */
export function findGit(dir: string): GitLocation | undefined {
  let cur = path.resolve(dir);
  while (true) {
    const dotGit = path.join(cur, '.git');
    const st = fs.statSync(dotGit, { throwIfNoEntry: false });
    if (st?.isDirectory()) return { workTree: cur, gitdir: dotGit, bare: false };
    if (st?.isFile()) {
      const m = /^gitdir:\s*(.+?)\s*$/m.exec(fs.readFileSync(dotGit, 'utf8'));
      if (m) {
        const gitdir = path.resolve(cur, m[1]);
        return { workTree: cur, gitdir, bare: false, linked: fs.existsSync(path.join(gitdir, 'commondir')) };
      }
    }
    if (isBareRepo(cur)) return { workTree: cur, gitdir: cur, bare: true };
    const up = path.dirname(cur);
    if (up === cur) return undefined;
    cur = up;
  }
}

function isBareRepo(dir: string): boolean {
  if (!fs.existsSync(path.join(dir, 'HEAD')) || !fs.existsSync(path.join(dir, 'objects')) || !fs.existsSync(path.join(dir, 'refs'))) return false;
  // A directory that merely has HEAD, objects and refs (lode's own .lode has them too) but no config is not git's.
  const file = path.join(dir, 'config');
  if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return false;
  const config = fs.readFileSync(file, 'utf8');
  return /^\s*bare\s*=\s*true\s*$/m.test(config);
}

/** GitCommitInfo is the part of a git commit lode shows. */
export interface GitCommitInfo {
  oid: string;
  parents: string[];
  /** First line of the message. */
  summary: string;
  /** Committer time, ms since the epoch. */
  time: number;
}

const SUFFIX_RE = /(~\d*|\^\d*)+$/;

/** GitRepo is an open git repository with a work tree. */
export class GitRepo {
  private readonly cache = {};

  private constructor(readonly location: GitLocation) {}

  /**
   * GitRepo.open opens the repository around `dir`, or returns undefined when
   * there is none. A bare repository is refused: lode needs a work tree.
   */
  static open(dir: string): GitRepo | undefined {
    const loc = findGit(dir);
    if (!loc) return undefined;
    if (loc.bare) {
      throw new LodeError('USAGE', `${loc.gitdir} is a bare git repository: it has no work tree for lode data or a pin file`, {
        hint: 'clone it (`git clone`) and run lode in the clone',
      });
    }
    if (loc.linked) {
      throw new LodeError('USAGE', `${loc.workTree} is a linked git worktree, which lode does not read yet`, {
        hint: 'run lode in the main work tree of this repository (`git worktree list` shows it)',
      });
    }
    return new GitRepo(loc);
  }

  get workTree(): string {
    return this.location.workTree;
  }

  /** isShallow says whether history was cut short by a shallow clone. */
  get isShallow(): boolean {
    return fs.existsSync(path.join(this.location.gitdir, 'shallow'));
  }

  private args() {
    return { fs, dir: this.location.workTree, gitdir: this.location.gitdir, cache: this.cache };
  }

  /** head returns the commit HEAD points at (null on an unborn branch) and its branch (null when detached). */
  async head(): Promise<{ oid: string | null; branch: string | null }> {
    const git = await loadGit();
    const branch = (await git.currentBranch({ ...this.args(), fullname: false })) || null;
    let oid: string | null = null;
    try {
      oid = await git.resolveRef({ ...this.args(), ref: 'HEAD' });
    } catch {
      oid = null;
    }
    return { oid, branch };
  }

  /**
   * resolve turns a git revision into a commit ID: HEAD, a branch, a tag
   * (annotated tags are peeled), a remote-tracking ref, a full or abbreviated
   * SHA, each optionally followed by `~n` and `^n`.
   * Throws UnknownRevisionError when git has no such revision.
   */
  async resolve(rev: string): Promise<string> {
    const git = await loadGit();
    const m = SUFFIX_RE.exec(rev);
    const base = m ? rev.slice(0, m.index) : rev;
    const suffix = m ? m[0] : '';
    let oid: string | undefined;
    if (base === 'HEAD' || base === '@') {
      try {
        oid = await git.resolveRef({ ...this.args(), ref: 'HEAD' });
      } catch {
        throw new UnknownRevisionError(`git:${rev}`, { hint: 'the git repository has no commits yet' });
      }
    } else {
      for (const ref of [base, `refs/heads/${base}`, `refs/tags/${base}`, `refs/remotes/${base}`]) {
        try {
          oid = await git.resolveRef({ ...this.args(), ref });
          break;
        } catch {
          // try the next spelling
        }
      }
      if (!oid && /^[0-9a-f]{4,40}$/.test(base)) {
        try {
          oid = await git.expandOid({ ...this.args(), oid: base });
        } catch (e) {
          if ((e as { code?: string }).code === 'AmbiguousError') throw new UnknownRevisionError(`git:${rev}`, { hint: `the prefix ${base} matches several git objects: give more digits` });
        }
      }
    }
    if (!oid) throw new UnknownRevisionError(`git:${rev}`, { hint: 'no git branch, tag or commit has that name (`git log --oneline` lists commits)' });
    oid = await this.peel(oid, rev);
    for (const step of suffix.match(/[~^]\d*/g) ?? []) {
      const n = step.length > 1 ? Number(step.slice(1)) : 1;
      const hops = step[0] === '~' ? n : n > 0 ? 1 : 0;
      for (let k = 0; k < hops; k++) {
        const c = await this.commit(oid, rev);
        const p = step[0] === '~' ? c.parents[0] : c.parents[n - 1];
        if (!p) {
          const shallow = this.isShallow ? ' (this is a shallow clone: `git fetch --unshallow` brings the rest of history)' : '';
          const why = step[0] === '^' && c.parents.length > 0 ? `git commit ${oid.slice(0, 10)} has no parent number ${n}` : 'git history is shorter than that';
          throw new UnknownRevisionError(`git:${rev}`, { hint: `${why}${shallow}` });
        }
        oid = p;
      }
    }
    await this.commit(oid, rev);
    return oid;
  }

  private async peel(oid: string, rev: string): Promise<string> {
    const git = await loadGit();
    for (let depth = 0; depth < 10; depth++) {
      let type: string;
      try {
        type = (await git.readObject({ ...this.args(), oid, format: 'parsed' })).type;
      } catch (e) {
        throw this.missing(rev, oid, e);
      }
      if (type === 'commit') return oid;
      if (type !== 'tag') throw new UnknownRevisionError(`git:${rev}`, { hint: `${oid.slice(0, 12)} is a git ${type}, not a commit` });
      oid = (await git.readTag({ ...this.args(), oid })).tag.object;
    }
    throw new UnknownRevisionError(`git:${rev}`, { hint: 'tags nest too deeply' });
  }

  private missing(rev: string, oid: string, cause: unknown): LodeError {
    const shallow = this.isShallow ? ': this is a shallow clone (`git fetch --unshallow` brings the rest of history)' : '';
    return new UnknownRevisionError(`git:${rev}`, { hint: `git object ${oid.slice(0, 12)} is not in the repository${shallow}`, cause });
  }

  /** commit reads one git commit. */
  async commit(oid: string, rev = oid): Promise<GitCommitInfo> {
    const git = await loadGit();
    try {
      const c = await git.readCommit({ ...this.args(), oid });
      return { oid: c.oid, parents: c.commit.parent, summary: c.commit.message.split('\n')[0], time: c.commit.committer.timestamp * 1000 };
    } catch (e) {
      throw this.missing(rev, oid, e);
    }
  }

  /**
   * readFile returns a file's bytes at a commit (`file` relative to the work
   * tree, with `/`), or undefined when the commit does not have it.
   */
  async readFile(oid: string, file: string): Promise<Buffer | undefined> {
    const git = await loadGit();
    try {
      const r = await git.readBlob({ ...this.args(), oid, filepath: file });
      return Buffer.from(r.blob);
    } catch (e) {
      const code = (e as { code?: string }).code;
      // Something other than a file at that path (a directory, or a file where a directory should be).
      if (code === 'ObjectTypeError') return undefined;
      if (code !== 'NotFoundError') {
        throw new LodeError('CORRUPT', `git could not read ${file} at ${oid.slice(0, 10)}: ${(e as Error).message}`, { hint: '`git fsck` checks the git repository', cause: e });
      }
      // Absent from the tree, or named by the tree but not stored here (a partial clone)?
      const entry = await this.treeEntry(oid, file);
      if (!entry) return undefined;
      throw new LodeError('NOT_FOUND', `git lists ${file} at ${oid.slice(0, 10)} but has no local copy of it (a partial clone?)`, {
        hint: `fetch it: \`git fetch\`, or \`git show ${oid.slice(0, 10)}:${file}\` to let git download it`,
        cause: e,
      });
    }
  }

  private async treeEntry(oid: string, file: string): Promise<string | undefined> {
    const git = await loadGit();
    const slash = file.lastIndexOf('/');
    try {
      const t = await git.readTree({ ...this.args(), oid, ...(slash >= 0 ? { filepath: file.slice(0, slash) } : {}) });
      return t.tree.find((x) => x.path === file.slice(slash + 1))?.oid;
    } catch {
      return undefined;
    }
  }

  /** blobId returns the ID of the blob at `file` in a commit, or undefined. */
  async blobId(oid: string, file: string): Promise<string | undefined> {
    const git = await loadGit();
    try {
      return (await git.readBlob({ ...this.args(), oid, filepath: file })).oid;
    } catch {
      return undefined;
    }
  }

  /** branchTips lists local branches and tags with the commits they point at. */
  async refTips(): Promise<{ name: string; oid: string }[]> {
    const git = await loadGit();
    const out: { name: string; oid: string }[] = [];
    for (const b of await git.listBranches(this.args())) {
      try {
        out.push({ name: b, oid: await git.resolveRef({ ...this.args(), ref: `refs/heads/${b}` }) });
      } catch {
        // a branch that vanished meanwhile
      }
    }
    for (const t of await git.listTags(this.args())) {
      try {
        out.push({ name: `tags/${t}`, oid: await this.peel(await git.resolveRef({ ...this.args(), ref: `refs/tags/${t}` }), t) });
      } catch {
        // a tag on a non-commit
      }
    }
    return out;
  }

  /** setConfig writes one value into the repository's .git/config. */
  async setConfig(key: string, value: string): Promise<void> {
    const git = await loadGit();
    await git.setConfig({ ...this.args(), path: key, value });
  }

  async getConfig(key: string): Promise<string | undefined> {
    const git = await loadGit();
    const v = await git.getConfig({ ...this.args(), path: key });
    return v === undefined || v === null ? undefined : String(v);
  }

  /** hooksDir is where git looks for hooks (core.hooksPath, else .git/hooks). */
  async hooksDir(): Promise<string> {
    const custom = await this.getConfig('core.hooksPath');
    if (custom) return path.resolve(this.location.workTree, custom);
    return path.join(this.location.gitdir, 'hooks');
  }

  /** toGitPath turns an absolute path inside the work tree into a git path (`/`-separated). */
  toGitPath(abs: string): string {
    return path.relative(this.location.workTree, abs).split(path.sep).join('/');
  }
}
