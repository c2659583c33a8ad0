/**
 * VerifiedRecord remembers, per remote, the trees and commits a push (or
 * `status --remote`) saw whole on that remote: every object they reach was
 * in a pack not marked for deletion. With it a push walks only what changed:
 * it stops at a tree or commit already verified, so its cost follows the
 * change, not the size of the history.
 *
 * Such a claim rests on packs, and packs are immutable and named by their
 * hash: it stays true exactly as long as each pack it relies on is still
 * listed with its index and carries no gc mark. The record keeps the set of
 * those packs, and `load` checks it against the remote's current listing
 * (`RemoteStore.refresh` must have run): when one of them is gone or marked,
 * the whole record is forgotten, so the next push walks the full history
 * again and re-sends what the remote lost.
 *
 * Stored in .lode/remotes/<name>/verified, replaced atomically:
 *
 *   lode-verified 1
 *   gen <n>                    one more at each write
 *   pack <pack id>             one line per pack the claims rely on
 *   <object id> <gen>          a verified tree or commit, and the last write that used it
 *   sha256 <hex>               of every byte above
 *
 * Entries no write used for KEEP_GENERATIONS writes are dropped, so the
 * file follows the recent history rather than all of it (a dropped entry
 * costs a walk of its subtree, never a wrong answer). A record that does not
 * parse is ignored.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { isObjectId, type ObjectId } from '../core/id.js';
import { writeFileAtomic } from '../storage/atomic.js';
import type { RemoteStore } from './remote-store.js';

const MAGIC = 'lode-verified 1';
/** Writes an entry survives without being used. */
export const KEEP_GENERATIONS = 64;

export class VerifiedRecord {
  /** Whether `load` found a record and forgot it because a pack it relies on is gone or marked. */
  readonly invalidated: boolean;
  private changed = false;

  private constructor(
    private readonly file: string,
    private readonly gen: number,
    private readonly entries: Map<ObjectId, number>,
    private readonly packs: Set<ObjectId>,
    invalidated: boolean,
  ) {
    this.invalidated = invalidated;
    if (invalidated) this.changed = true;
  }

  /** load reads the record of `remote` (after its `refresh`), keeping it only if every pack it relies on is listed and unmarked. */
  static load(remote: RemoteStore): VerifiedRecord {
    const file = path.join(remote.cacheDir, 'verified');
    const parsed = parse(file);
    if (!parsed) return new VerifiedRecord(file, 0, new Map(), new Set(), false);
    for (const p of parsed.packs) {
      if (!remote.hasPack(p) || remote.isPending(p)) return new VerifiedRecord(file, parsed.gen, new Map(), new Set(), true);
    }
    return new VerifiedRecord(file, parsed.gen, parsed.entries, parsed.packs, false);
  }

  /** has says whether the closure of `id` (a tree or commit) was verified on the remote. */
  has(id: ObjectId): boolean {
    const g = this.entries.get(id);
    if (g === undefined) return false;
    if (g !== this.gen + 1) this.entries.set(id, this.gen + 1);
    return true;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * add records trees and commits whose closure is now on the remote, and
   * the packs that closure was found in (objects uploaded by this push: the
   * packs it uploaded). Everything the closure reaches through entries
   * already recorded relies on packs already recorded.
   */
  add(ids: Iterable<ObjectId>, packs: Iterable<ObjectId>): void {
    for (const id of ids) {
      this.entries.set(id, this.gen + 1);
      this.changed = true;
    }
    for (const p of packs) {
      if (this.packs.has(p)) continue;
      this.packs.add(p);
      this.changed = true;
    }
  }

  /** save writes the record if `add` or `load` changed it. */
  save(): void {
    if (!this.changed) return;
    const gen = this.gen + 1;
    const lines = [MAGIC, `gen ${gen}`];
    for (const p of this.packs) lines.push(`pack ${p}`);
    for (const [id, g] of this.entries) if (g > gen - KEEP_GENERATIONS) lines.push(`${id} ${g}`);
    const body = `${lines.join('\n')}\n`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      writeFileAtomic(this.file, `${body}sha256 ${createHash('sha256').update(body).digest('hex')}\n`);
    } catch (e) {
      // A record not written costs the next push a longer walk, nothing else.
      if (!(e instanceof Error && 'code' in e)) throw e;
    }
    this.changed = false;
  }
}

/**
 * safePackFinder returns a function naming a pack not marked for deletion
 * that holds an object (one `remote.isSafe` accepts): the pack a claim about that
 * object relies on. Valid until the next `remote.refresh`.
 */
export function safePackFinder(remote: RemoteStore): (id: ObjectId) => ObjectId | undefined {
  // An object may have copies in a marked pack and an unmarked one (a gc repack): the unmarked one counts.
  return (id) => remote.safeLocation(id)?.packId;
}

function parse(file: string): { gen: number; entries: Map<ObjectId, number>; packs: Set<ObjectId> } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
  const end = text.lastIndexOf('sha256 ');
  if (end < 0 || text.slice(end) !== `sha256 ${createHash('sha256').update(text.slice(0, end)).digest('hex')}\n`) return undefined;
  const lines = text.slice(0, end).split('\n');
  lines.pop(); // the body ends with a newline
  if (lines[0] !== MAGIC) return undefined;
  const g = /^gen (\d{1,15})$/.exec(lines[1] ?? '');
  if (!g) return undefined;
  const gen = Number(g[1]);
  const entries = new Map<ObjectId, number>();
  const packs = new Set<ObjectId>();
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('pack ')) {
      const p = line.slice(5);
      if (!isObjectId(p)) return undefined;
      packs.add(p);
      continue;
    }
    const sp = line.indexOf(' ');
    const id = line.slice(0, sp);
    const at = Number(line.slice(sp + 1));
    if (sp < 0 || !isObjectId(id) || !Number.isSafeInteger(at)) return undefined;
    entries.set(id, at);
  }
  return { gen, entries, packs };
}
