/**
 * Rewriting a commit's record (core/record.ts) when an erasure rewrites the
 * commit: the IDs the record names (input commits, input and output file or
 * tree IDs) are mapped to the rewritten ones, inputs and outputs whose
 * content was erased entirely are moved to `erasedInputs` / `erasedOutputs`
 * (path and spec only), and check violations on paths whose data the
 * erasure changed (in the commit or in a parent it was compared with) lose
 * their observed value and message, which may quote erased content.
 *
 * Pure: the same record and lookups always give the same record, so an
 * erasure run twice gives the same commit IDs.
 */
import type { EntryKind } from '../core/encoding.js';
import type { ObjectId } from '../core/id.js';
import { isUnder } from '../core/paths.js';
import type { CheckViolation, CommitRecord, RecordInput, RecordOutput } from '../core/record.js';

/** REDACTED is the observed value of a violation an erasure redacted. */
export const REDACTED = '[redacted by lode forget]';

/** RecordLookups is what rewriting one record needs to know about the rewrite. */
export interface RecordLookups {
  /** The commit that replaces `id` (itself when it was not rewritten). */
  mapCommit(id: ObjectId): ObjectId;
  /** The root tree of a commit of the new history; undefined when it is not known here. */
  treeOf(id: ObjectId): ObjectId | undefined;
  /** The entry at `path` in tree `root`, or undefined when there is none. */
  lookup(root: ObjectId, path: string): { kind: EntryKind; id: ObjectId } | undefined;
  /**
   * What became of the object `id` at `path` (for an input read from the
   * workspace, not from a commit): its new ID, null when it was erased, or
   * undefined when the rewrite did not touch it.
   */
  mapObject(id: ObjectId, path: string): { kind: EntryKind; id: ObjectId } | null | undefined;
  /** The new root tree of the commit the record belongs to. */
  tree: ObjectId;
  /** Paths whose data the erasure changed in the commit or in one of its parents. */
  affected: readonly string[];
}

const overlap = (a: string, b: string) => isUnder(a, b) || isUnder(b, a);

/** rewriteRecord returns the record as the rewritten commit carries it (the same object when nothing changes). */
export function rewriteRecord(r: CommitRecord, l: RecordLookups): CommitRecord {
  let changed = false;
  const out: CommitRecord = { ...r };
  const p = r.provenance;
  if (p) {
    const inputs: RecordInput[] = [];
    const erasedInputs = [...(p.erasedInputs ?? [])];
    for (const i of p.inputs) {
      const next = mapInput(i, l);
      if (next === null) {
        erasedInputs.push({ spec: i.spec, path: i.path });
        changed = true;
        continue;
      }
      if (next !== i) changed = true;
      inputs.push(next);
    }
    const outputs: RecordOutput[] = [];
    const erasedOutputs = [...(p.erasedOutputs ?? [])];
    for (const o of p.outputs) {
      const e = l.lookup(l.tree, o.path);
      if (!e) {
        erasedOutputs.push(o.path);
        changed = true;
        continue;
      }
      if (e.id !== o.id || e.kind !== o.kind) changed = true;
      outputs.push(e.id === o.id && e.kind === o.kind ? o : { ...o, id: e.id, kind: e.kind as RecordOutput['kind'] });
    }
    out.provenance = {
      ...p,
      inputs,
      outputs,
      ...(erasedInputs.length > 0 ? { erasedInputs } : {}),
      ...(erasedOutputs.length > 0 ? { erasedOutputs } : {}),
    };
  }
  const c = r.checks;
  if (c && l.affected.length > 0) {
    const violations = c.violations.map((v): CheckViolation => {
      if (v.redacted || !l.affected.some((a) => overlap(v.path, a))) return v;
      changed = true;
      return { ...v, observed: REDACTED, message: `${v.rule}: redacted by lode forget (the erased data may have shown in it)`, redacted: true };
    });
    out.checks = { ...c, violations };
  }
  return changed ? out : r;
}

/** mapInput maps one input; null when its content was erased entirely. */
function mapInput(i: RecordInput, l: RecordLookups): RecordInput | null {
  if (i.commit) {
    const next = l.mapCommit(i.commit);
    if (next === i.commit) return i;
    const tree = l.treeOf(next);
    // The replacement is not known here: the commit is mapped, the ID stays (it cannot be looked up).
    if (tree === undefined) return { ...i, commit: next };
    const e = l.lookup(tree, i.path);
    if (!e) return null;
    return { ...i, commit: next, id: e.id, kind: e.kind as RecordInput['kind'] };
  }
  const e = l.mapObject(i.id, i.path);
  if (e === undefined) return i;
  if (e === null) return null;
  return { ...i, id: e.id, kind: e.kind as RecordInput['kind'] };
}

/** recordCommits lists the commits a record's inputs were read from. */
export function recordCommits(r: CommitRecord): ObjectId[] {
  return (r.provenance?.inputs ?? []).map((i) => i.commit).filter((x): x is ObjectId => x !== undefined);
}
