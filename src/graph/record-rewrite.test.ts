import { describe, expect, it } from 'vitest';
import type { CommitRecord } from '../core/record.js';
import { encodeRecord } from '../core/record.js';
import { REDACTED, rewriteRecord, type RecordLookups } from './record-rewrite.js';

const id = (c: string) => c.repeat(64);
const [OLD_C, NEW_C, KEEP_C, OLD_T, NEW_T, OLD_F, NEW_F, TREE] = ['a', 'b', 'c', 'd', 'e', '1', '2', '3'].map(id);

/** lookups over a tiny world: commit OLD_C became NEW_C (tree NEW_T); in NEW_T, data/clean is NEW_F and data/raw is gone. */
function lookups(affected: string[] = []): RecordLookups {
  const trees: Record<string, Record<string, { kind: 'blob' | 'tree'; id: string }>> = {
    [NEW_T]: { 'data/clean': { kind: 'tree', id: NEW_F } },
    [TREE]: { 'data/out': { kind: 'blob', id: NEW_F } },
  };
  return {
    mapCommit: (c) => (c === OLD_C ? NEW_C : c),
    treeOf: (c) => (c === NEW_C ? NEW_T : undefined),
    lookup: (root, p) => trees[root]?.[p],
    mapObject: (o, p) => (o === OLD_F && p === 'data/ws' ? { kind: 'blob', id: NEW_F } : o === OLD_F && p === 'data/gone' ? null : undefined),
    tree: TREE,
    affected,
  };
}

const base = (): CommitRecord => ({
  provenance: {
    kind: 'run',
    command: ['x'],
    inputs: [
      { spec: 'v1:data/clean', path: 'data/clean', commit: OLD_C, kind: 'tree', id: OLD_T },
      { spec: 'v1:data/raw', path: 'data/raw', commit: OLD_C, kind: 'tree', id: OLD_T },
      { spec: 'v2:data/kept', path: 'data/kept', commit: KEEP_C, kind: 'blob', id: OLD_F },
      { spec: 'data/ws', path: 'data/ws', kind: 'blob', id: OLD_F },
      { spec: 'data/gone', path: 'data/gone', kind: 'blob', id: OLD_F },
    ],
    outputs: [
      { path: 'data/out', kind: 'blob', id: OLD_F },
      { path: 'data/secret', kind: 'blob', id: OLD_F },
    ],
    sources: [],
    lode: '0',
    user: 'u',
  },
  checks: {
    contract: 'lode.checks.toml',
    contractSha256: id('f'),
    rules: 3,
    forced: true,
    violations: [
      { path: 'data/out/t.csv', rule: 'labels.tag', observed: 'SECRET', allowed: 'a, b', message: 'label "SECRET" not allowed' },
      { path: 'data/other.csv', rule: 'rows', observed: 3, allowed: '5..9', message: '3 rows' },
    ],
  },
});

describe('rewriteRecord', () => {
  it('maps inputs and outputs to the new history and sets apart what was erased whole', () => {
    const r = rewriteRecord(base(), lookups());
    const p = r.provenance!;
    expect(p.inputs).toEqual([
      { spec: 'v1:data/clean', path: 'data/clean', commit: NEW_C, kind: 'tree', id: NEW_F },
      { spec: 'v2:data/kept', path: 'data/kept', commit: KEEP_C, kind: 'blob', id: OLD_F },
      { spec: 'data/ws', path: 'data/ws', kind: 'blob', id: NEW_F },
    ]);
    expect(p.erasedInputs).toEqual([
      { spec: 'v1:data/raw', path: 'data/raw' },
      { spec: 'data/gone', path: 'data/gone' },
    ]);
    expect(p.outputs).toEqual([{ path: 'data/out', kind: 'blob', id: NEW_F }]);
    expect(p.erasedOutputs).toEqual(['data/secret']);
    // Nothing affected: the violations stay as they were.
    expect(r.checks).toEqual(base().checks);
    // Still a valid, canonical record.
    expect(() => encodeRecord(r)).not.toThrow();
  });

  it('redacts the violations on affected paths (above or below them), and only those', () => {
    const r = rewriteRecord(base(), lookups(['data/out']));
    const [a, b] = r.checks!.violations;
    expect(a).toEqual({ path: 'data/out/t.csv', rule: 'labels.tag', observed: REDACTED, allowed: 'a, b', message: expect.not.stringContaining('SECRET'), redacted: true });
    expect(b).toEqual(base().checks!.violations[1]);
    expect(JSON.stringify(r)).not.toContain('SECRET');
    expect(rewriteRecord(base(), lookups(['data'])).checks!.violations.every((v) => v.redacted)).toBe(true);
  });

  it('returns the record itself when nothing changes, and is idempotent', () => {
    const still: CommitRecord = { provenance: { ...base().provenance!, inputs: [base().provenance!.inputs[2]], outputs: [] }, checks: base().checks };
    expect(rewriteRecord(still, lookups(['data/elsewhere']))).toBe(still);
    const once = rewriteRecord(base(), lookups(['data/out']));
    const twice = rewriteRecord(once, { ...lookups(['data/out']), mapCommit: (c) => c });
    expect(encodeRecord(twice).equals(encodeRecord(once))).toBe(true);
  });
});
