/**
 * RefStore: HEAD, branches and tags as small files under .lode/:
 *
 *   HEAD                  "ref: refs/heads/main\n" or "<commit id>\n" (detached)
 *   refs/heads/<name>     "<commit id>\n"
 *   refs/tags/<name>      "<commit id>\n"
 *
 * Writes are atomic and durable. Callers hold the repository lock for every
 * update; `expect` lets them assert what the ref held (compare-and-swap), the
 * same contract a remote ref update will have.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CorruptObjectError, InvalidNameError, RefConflictError } from '../core/errors.js';
import { isObjectId, type ObjectId } from '../core/id.js';
import { errnoCode, readFileOrUndefined, rmQuiet, writeFileAtomic } from '../storage/atomic.js';

export type RefKind = 'heads' | 'tags';

/** Head is where HEAD points: a branch (which may not exist yet) or a commit. */
export type Head = { kind: 'branch'; name: string } | { kind: 'detached'; id: ObjectId };

/**
 * refNameProblem returns why `name` cannot be a branch or tag name (git's
 * rules, roughly), or undefined when it can.
 */
export function refNameProblem(name: string): string | undefined {
  if (name === '' || name.length > 200) return 'empty or too long';
  if (name === 'HEAD' || name === '@') return `"${name}" is reserved`;
  if (name.startsWith('-')) return 'starts with "-"';
  if (name.startsWith(':') || name.includes(':')) return 'contains ":" (reserved for special revisions)';
  if (/[\x00-\x20\x7f~^?*[\\]/.test(name)) return 'contains a space, control character or one of ~ ^ ? * [ \\';
  if (name.includes('..') || name.includes('@{') || name.includes('//')) return 'contains "..", "@{" or "//"';
  if (name.endsWith('/') || name.startsWith('/') || name.endsWith('.') || name.endsWith('.lock')) return 'ends with "/", "." or ".lock", or starts with "/"';
  if (name.split('/').some((p) => p.startsWith('.'))) return 'a component starts with "."';
  if (/^[0-9a-f]{4,64}$/.test(name)) return 'looks like a commit ID';
  return undefined;
}

export function validateRefName(name: string, what: string): void {
  const problem = refNameProblem(name);
  if (problem) throw new InvalidNameError(`invalid ${what} name ${JSON.stringify(name)}: ${problem}`, { hint: 'use letters, digits, "-", "_", "." and "/"' });
}

export class RefStore {
  constructor(readonly lodeDir: string) {}

  private refPath(kind: RefKind, name: string): string {
    return path.join(this.lodeDir, 'refs', kind, ...name.split('/'));
  }

  /** head returns where HEAD points. */
  head(): Head {
    const raw = readFileOrUndefined(path.join(this.lodeDir, 'HEAD'))?.toString('utf8').trim();
    if (raw === undefined) throw new CorruptObjectError('.lode/HEAD is missing', { hint: 'write "ref: refs/heads/main" into .lode/HEAD, or run `lode fsck`' });
    if (raw.startsWith('ref: refs/heads/')) return { kind: 'branch', name: raw.slice('ref: refs/heads/'.length) };
    if (isObjectId(raw)) return { kind: 'detached', id: raw };
    throw new CorruptObjectError(`.lode/HEAD holds something unexpected: ${JSON.stringify(raw.slice(0, 80))}`, { hint: 'write "ref: refs/heads/main" into .lode/HEAD' });
  }

  /** headCommit returns the commit HEAD names, or undefined on an unborn branch. */
  headCommit(): ObjectId | undefined {
    const h = this.head();
    return h.kind === 'detached' ? h.id : this.get('heads', h.name);
  }

  setHead(head: Head): void {
    const text = head.kind === 'branch' ? `ref: refs/heads/${head.name}\n` : `${head.id}\n`;
    writeFileAtomic(path.join(this.lodeDir, 'HEAD'), text, { durable: true });
  }

  /** get returns the commit a branch or tag points at, or undefined. */
  get(kind: RefKind, name: string): ObjectId | undefined {
    if (refNameProblem(name)) return undefined;
    let raw: Buffer | undefined;
    try {
      raw = readFileOrUndefined(this.refPath(kind, name));
    } catch (e) {
      // A folder of refs (`x/` holding `x/y`), or a path through a ref file: no such ref.
      if (errnoCode(e) === 'EISDIR' || errnoCode(e) === 'ENOTDIR') return undefined;
      throw e;
    }
    if (raw === undefined) return undefined;
    const id = raw.toString('utf8').trim();
    if (!isObjectId(id)) throw new CorruptObjectError(`ref refs/${kind}/${name} is corrupt: ${JSON.stringify(id.slice(0, 80))}`, { hint: `delete .lode/refs/${kind}/${name} or point it at a commit from \`lode log\`` });
    return id;
  }

  /**
   * set points a ref at `id`. With `expect`, the update happens only if the
   * ref currently holds that value (null: must not exist).
   */
  set(kind: RefKind, name: string, id: ObjectId, expect?: ObjectId | null): void {
    validateRefName(name, kind === 'heads' ? 'branch' : 'tag');
    if (expect !== undefined) {
      const cur = this.get(kind, name) ?? null;
      if (cur !== expect) {
        throw new RefConflictError(
          expect === null ? `${kind === 'heads' ? 'branch' : 'tag'} ${name} already exists` : `ref refs/${kind}/${name} moved while this command ran`,
          { hint: expect === null ? 'pick another name, or delete the existing one first' : 'run the command again' },
        );
      }
    }
    const what = kind === 'heads' ? 'branch' : 'tag';
    const whats = kind === 'heads' ? 'branches' : 'tags';
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (this.get(kind, prefix)) {
        throw new RefConflictError(`cannot create ${what} ${name}: ${what} ${prefix} exists`, { hint: `a name cannot be both a ${what} and a folder of ${whats}; pick another name` });
      }
    }
    const file = this.refPath(kind, name);
    if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory()) {
      throw new RefConflictError(`cannot create ${what} ${name}: ${whats} named ${name}/… exist`, { hint: `a name cannot be both a ${what} and a folder of ${whats}; pick another name` });
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, `${id}\n`, { durable: true });
  }

  delete(kind: RefKind, name: string): void {
    rmQuiet(this.refPath(kind, name));
    // Drop now-empty directories of nested names (a/b/c).
    let dir = path.dirname(this.refPath(kind, name));
    const top = path.join(this.lodeDir, 'refs', kind);
    while (dir.startsWith(top) && dir !== top) {
      try {
        fs.rmdirSync(dir);
      } catch {
        break;
      }
      dir = path.dirname(dir);
    }
  }

  /** list returns every ref of a kind with its commit, sorted by name. */
  list(kind: RefKind): { name: string; id: ObjectId }[] {
    const top = path.join(this.lodeDir, 'refs', kind);
    const out: { name: string; id: ObjectId }[] = [];
    const walk = (dir: string, prefix: string) => {
      let ents: fs.Dirent[];
      try {
        ents = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of ents) {
        const name = prefix ? `${prefix}/${e.name}` : e.name;
        if (e.isDirectory()) walk(path.join(dir, e.name), name);
        else if (e.isFile() && !e.name.startsWith('.')) {
          const id = this.get(kind, name);
          if (id) out.push({ name, id });
        }
      }
    };
    walk(top, '');
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
