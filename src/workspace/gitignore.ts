/**
 * Keeping git away from tracked data: when the workspace is inside a git
 * repository, `lode add` lists each dataset root in the workspace's
 * .gitignore so `git add .` never picks up gigabytes of data.
 */
import * as path from 'node:path';
import { readFileOrUndefined, writeFileAtomic } from '../storage/atomic.js';

/** gitignorePattern anchors a dataset root: `/data/images/` or `/model.bin`. */
export function gitignorePattern(root: string, isDir: boolean): string {
  const escaped = root.replace(/([\\*?[\]!#])/g, '\\$1').replace(/^ /, '\\ ');
  return `/${escaped}${isDir ? '/' : ''}`;
}

/**
 * ensureGitignored appends the patterns the workspace .gitignore lacks;
 * returns those it added.
 */
export function ensureGitignored(workspace: string, patterns: string[]): string[] {
  const file = path.join(workspace, '.gitignore');
  const text = readFileOrUndefined(file)?.toString('utf8') ?? '';
  const have = new Set(text.split(/\r?\n/).map((l) => l.trim()));
  const missing = patterns.filter((p) => !have.has(p));
  if (missing.length === 0) return [];
  const sep = text === '' || text.endsWith('\n') ? '' : '\n';
  const header = have.has('# lode datasets') ? '' : '# lode datasets\n';
  writeFileAtomic(file, `${text}${sep}${header}${missing.join('\n')}\n`);
  return missing;
}
