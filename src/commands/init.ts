import * as path from 'node:path';
import { Repository } from '../repo/repository.js';
import { findGit } from '../git/git-repo.js';

export interface InitOptions {
  /** Directory to create the workspace in (default: current directory). */
  dir?: string;
  /** Name of the first branch (default main). */
  branch?: string;
}

export interface InitResult {
  root: string;
  branch: string;
  /** The enclosing git repository, if any. */
  gitRoot?: string;
}

/** init creates a lode workspace; ALREADY_EXISTS if there is one. */
export async function init(options: InitOptions = {}): Promise<InitResult> {
  const dir = path.resolve(options.dir ?? '.');
  const repo = Repository.init(dir, { branch: options.branch });
  const head = repo.refs.head();
  return { root: repo.root, branch: head.kind === 'branch' ? head.name : '', gitRoot: gitWorkTree(dir) };
}

/** gitWorkTree is the git work tree around `dir`, if any (a bare repository has none). */
function gitWorkTree(dir: string): string | undefined {
  const git = findGit(dir);
  return git && !git.bare ? git.workTree : undefined;
}
