/**
 * Refusing to write or delete through symbolic links. A workspace path like
 * data/sub/a.txt is only touched when every directory above it inside the
 * workspace is a real directory (or does not exist yet): a symlinked
 * `data/sub` pointing elsewhere must never let checkout or rm reach outside.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errnoCode } from '../storage/atomic.js';

type State = 'dir' | 'absent' | 'link' | 'file';

/** ParentChecker answers, with a cache per directory, what stands above a repo path. */
export class ParentChecker {
  private readonly states = new Map<string, State>();

  constructor(private readonly root: string) {}

  private state(dir: string): State {
    let s = this.states.get(dir);
    if (s !== undefined) return s;
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(path.join(this.root, ...dir.split('/')), { throwIfNoEntry: false });
    } catch (e) {
      if (errnoCode(e) !== 'ENOTDIR') throw e;
    }
    s = st === undefined ? 'absent' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'file';
    this.states.set(dir, s);
    return s;
  }

  /**
   * blocker returns the first directory above `rel` (top down) that is a
   * symbolic link or a non-directory, or undefined when the way is clear.
   * Directories that do not exist yet are clear: they will be created.
   */
  blocker(rel: string): { dir: string; kind: 'link' | 'file' } | undefined {
    const parts = rel.split('/');
    let dir = '';
    for (let i = 0; i < parts.length - 1; i++) {
      dir = dir === '' ? parts[i] : `${dir}/${parts[i]}`;
      const s = this.state(dir);
      if (s === 'absent') return undefined;
      if (s === 'link' || s === 'file') return { dir, kind: s };
    }
    return undefined;
  }

  /**
   * absentAbove says whether some directory above `rel` does not exist (so
   * nothing can stand at `rel` either), from the same cached answers.
   */
  absentAbove(rel: string): boolean {
    let i = rel.indexOf('/');
    while (i >= 0) {
      if (this.state(rel.slice(0, i)) === 'absent') return true;
      i = rel.indexOf('/', i + 1);
    }
    return false;
  }

  /** forget drops cached answers (after the caller changed the tree). */
  forget(): void {
    this.states.clear();
  }
}
