/**
 * Who and what a new commit records: its author, and the git commit the
 * work tree is on.
 */
import * as os from 'node:os';
import { gitContext } from '../git/pin-file.js';
import type { Repository } from './repository.js';

/** authorOf picks the author recorded in a commit. */
export function authorOf(repo: Repository, env = process.env): string {
  const s = repo.settings;
  const name = s.userName ?? env.LODE_AUTHOR_NAME ?? env.GIT_AUTHOR_NAME ?? os.userInfo().username;
  const email = s.userEmail ?? env.LODE_AUTHOR_EMAIL ?? env.GIT_AUTHOR_EMAIL ?? `${os.userInfo().username}@${os.hostname()}`;
  return `${name} <${email}>`.replace(/[\r\n]/g, ' ');
}

/** currentGitHead is the git commit the work tree is on, or undefined outside git (or before git's first commit). */
export async function currentGitHead(repo: Repository): Promise<string | undefined> {
  const ctx = gitContext(repo, false);
  if (!ctx) return undefined;
  return (await ctx.git.head()).oid ?? undefined;
}
