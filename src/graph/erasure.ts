/**
 * Erasure records: what `lode forget` rewrote, kept so that every workspace
 * and remote can apply the same erasure and so that old commit IDs (named by
 * lode.lock files in git history) still lead somewhere.
 *
 * A record is immutable and named by the SHA-256 of its bytes:
 *
 *   "lode erasure 1\n" then one JSON object (see ErasureRecord)
 *
 * stored as `.lode/erasures/<id>` in a workspace and `erasures/<id>` on a
 * remote. It says what was erased by rule (paths, or the table glob and the
 * key columns with a count of keys), never the erased values.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CorruptObjectError } from '../core/errors.js';
import { isObjectId, sha256, type ObjectId } from '../core/id.js';
import { readFileOrUndefined, writeFileAtomic } from '../storage/atomic.js';

export const ERASURE_HEADER = 'lode erasure 1\n';

/** ErasureRule describes what was erased without the erased values. */
export type ErasureRule =
  | { kind: 'paths'; paths: string[] }
  | { kind: 'rows'; tables: string; columns: string[]; keys: number; where?: { columns: string[] } };

export interface ErasureRecord {
  /** Milliseconds since 1970 (UTC). */
  time: number;
  /** Who ran the erasure (the commit author setting). */
  user: string;
  rule: ErasureRule;
  counts: { commits: number; files: number; rows: number };
  /** Old commit ID -> its rewritten commit. */
  commits: Record<ObjectId, ObjectId>;
  /** Old file ID -> the file that replaces it (null: removed from the tree). */
  files: Record<ObjectId, ObjectId | null>;
  /**
   * Objects that must not survive anywhere: the erased files' contents and
   * chunk lists, every chunk holding erased bytes, and the replaced commits
   * and trees no kept commit reaches.
   */
  erased: ObjectId[];
}

/** encodeErasure returns a record's canonical bytes (its ID is their SHA-256). */
export function encodeErasure(r: ErasureRecord): Buffer {
  const sorted = <T>(o: Record<string, T>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const body = { time: r.time, user: r.user, rule: r.rule, counts: r.counts, commits: sorted(r.commits), files: sorted(r.files), erased: [...r.erased].sort() };
  return Buffer.from(`${ERASURE_HEADER}${JSON.stringify(body)}\n`, 'utf8');
}

/** decodeErasure checks and parses a record; CorruptObjectError when it is not one or its bytes do not match `id`. */
export function decodeErasure(bytes: Buffer, id?: ObjectId): ErasureRecord {
  const fail = (why: string) => new CorruptObjectError(`erasure record ${id ?? ''} is corrupt: ${why}`, { objectId: id, hint: 'delete it and fetch it again from the remote that has it' });
  if (id !== undefined && sha256(bytes) !== id) throw fail('its bytes do not match its ID');
  const text = bytes.toString('utf8');
  if (!text.startsWith(ERASURE_HEADER)) throw fail('not an erasure record');
  let v: ErasureRecord;
  try {
    v = JSON.parse(text.slice(ERASURE_HEADER.length)) as ErasureRecord;
  } catch {
    throw fail('not JSON');
  }
  const ids = (xs: unknown[]) => xs.every((x) => x === null || (typeof x === 'string' && isObjectId(x)));
  if (
    !v || typeof v !== 'object' || typeof v.time !== 'number' || typeof v.user !== 'string' || !v.rule || !v.counts ||
    !v.commits || !ids([...Object.keys(v.commits), ...Object.values(v.commits)]) ||
    !v.files || !ids([...Object.keys(v.files), ...Object.values(v.files)]) ||
    !Array.isArray(v.erased) || !ids(v.erased)
  ) throw fail('missing or malformed fields');
  return v;
}

/** ErasureLog is the workspace's set of erasure records (`.lode/erasures/`). */
export class ErasureLog {
  readonly dir: string;
  private cache?: Map<ObjectId, ErasureRecord>;

  constructor(lodeDir: string) {
    this.dir = path.join(lodeDir, 'erasures');
  }

  /** ids lists the records present (names only, unverified). */
  ids(): ObjectId[] {
    try {
      return fs.readdirSync(this.dir).filter(isObjectId).sort();
    } catch {
      return [];
    }
  }

  has(id: ObjectId): boolean {
    return fs.existsSync(path.join(this.dir, id));
  }

  /** bytes returns a record's stored bytes (undefined when absent). */
  bytes(id: ObjectId): Buffer | undefined {
    return readFileOrUndefined(path.join(this.dir, id));
  }

  /** records reads and verifies every record, by ID. */
  records(): Map<ObjectId, ErasureRecord> {
    if (this.cache) return this.cache;
    const out = new Map<ObjectId, ErasureRecord>();
    for (const id of this.ids()) out.set(id, decodeErasure(this.bytes(id)!, id));
    this.cache = out;
    return out;
  }

  /** add stores a record's bytes (verified), returning its ID; storing twice is a no-op. */
  add(bytes: Buffer): ObjectId {
    const id = sha256(bytes);
    decodeErasure(bytes, id);
    if (!this.has(id)) {
      fs.mkdirSync(this.dir, { recursive: true });
      writeFileAtomic(path.join(this.dir, id), bytes, { durable: true });
    }
    this.cache = undefined;
    return id;
  }

  /** erased is every object any record erased. */
  erased(): Set<ObjectId> {
    const out = new Set<ObjectId>();
    for (const r of this.records().values()) for (const id of r.erased) out.add(id);
    return out;
  }

  /**
   * follow maps a commit ID through every record (a rewritten commit may be
   * rewritten again by a later erasure); undefined when no record names it.
   */
  follow(id: ObjectId): { id: ObjectId; record: ObjectId } | undefined {
    let cur = id;
    let via: ObjectId | undefined;
    for (let hops = 0; hops < 1000; hops++) {
      let next: ObjectId | undefined;
      for (const [rid, r] of this.records()) {
        const n = r.commits[cur];
        if (n) {
          next = n;
          via = rid;
          break;
        }
      }
      if (!next) break;
      cur = next;
    }
    return via ? { id: cur, record: via } : undefined;
  }

  /** findOld lists old commit IDs (keys of some map) that start with `prefix`. */
  findOld(prefix: string): ObjectId[] {
    const out = new Set<ObjectId>();
    for (const r of this.records().values()) for (const k of Object.keys(r.commits)) if (k.startsWith(prefix)) out.add(k);
    return [...out];
  }
}
