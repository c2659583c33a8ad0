import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeCommit, encodeCommit, type Commit } from './encoding.js';
import { CorruptObjectError } from './errors.js';
import { sha256 } from './id.js';
import { canonicalJson, decodeRecord, encodeRecord, isRecordEncoding, type CommitRecord } from './record.js';

const GOLDEN_URL = new URL('../../test/fixtures/record-golden.json', import.meta.url);
const idOf = (label: string) => sha256(Buffer.from(`lode golden: ${label}`));

function inputs(): { record: CommitRecord; commit: Commit } {
  const record: CommitRecord = {
    provenance: {
      kind: 'run',
      command: ['python3', 'steps/clean.py', '--drop-empty'],
      cwd: '',
      inputs: [{ spec: 'v1:data/raw', path: 'data/raw', commit: idOf('commit v1'), kind: 'tree', id: idOf('raw tree') }],
      outputs: [{ path: 'data/clean', kind: 'tree', id: idOf('clean tree') }],
      sources: ['https://vendor.example/drop-2026-11.tar'],
      note: 'drops rows without text',
      code: { git: '0123456789abcdef0123456789abcdef01234567', dirty: false },
      exit: 0,
      start: 1700000000000,
      end: 1700000001234,
      lode: '0.1.0',
      user: 'ada',
    },
    checks: {
      contract: 'lode.checks.toml',
      contractSha256: idOf('contract'),
      rules: 7,
      violations: [{ path: 'data/clean/a.csv', rule: 'max_null_rate.text', observed: 0.25, allowed: 0.1, message: 'null rate 0.25 > 0.1' }],
      forced: true,
    },
  };
  const commit: Commit = {
    tree: idOf('root tree'),
    parents: [idOf('parent')],
    author: 'Ada Lovelace <ada@example.org>',
    time: 1700000001300,
    git: '0123456789abcdef0123456789abcdef01234567',
    record: '',
    datasets: ['data/clean'],
    message: 'clean the raw drop\n',
  };
  commit.record = sha256(encodeRecord(record));
  return { record, commit };
}

function compute() {
  const { record, commit } = inputs();
  const rb = encodeRecord(record);
  const cb = encodeCommit(commit);
  return { record: { input: record, hex: rb.toString('hex'), id: sha256(rb) }, commit: { input: commit, hex: cb.toString('hex'), id: sha256(cb) } };
}

describe('record object', () => {
  if (process.env.LODE_UPDATE_GOLDEN === '1') writeFileSync(GOLDEN_URL, JSON.stringify(compute(), null, 2) + '\n');
  const golden = JSON.parse(readFileSync(GOLDEN_URL, 'utf8')) as ReturnType<typeof compute>;

  it('encodes to the pinned bytes and ID (format change: LODE_UPDATE_GOLDEN=1)', () => {
    const now = compute();
    expect(now.record.hex).toBe(golden.record.hex);
    expect(now.record.id).toBe(golden.record.id);
    expect(now.commit.hex).toBe(golden.commit.hex);
    expect(now.commit.id).toBe(golden.commit.id);
  });

  it('starts with its magic line and sorts keys', () => {
    const text = Buffer.from(golden.record.hex, 'hex').toString('utf8');
    expect(text.startsWith('lode record 1\n{"checks":{"contract":')).toBe(true);
    expect(text.endsWith('}\n')).toBe(true);
    expect(isRecordEncoding(Buffer.from(golden.record.hex, 'hex'))).toBe(true);
  });

  it('decodes back to what was encoded', () => {
    const { record } = inputs();
    expect(decodeRecord(encodeRecord(record))).toEqual(record);
  });

  it('puts the record line after git and before dataset, and reads it back', () => {
    const text = Buffer.from(golden.commit.hex, 'hex').toString('utf8');
    const lines = text.split('\n');
    expect(lines.indexOf(`record ${golden.record.id}`)).toBe(lines.findIndex((l) => l.startsWith('git ')) + 1);
    expect(decodeCommit(Buffer.from(golden.commit.hex, 'hex')).record).toBe(golden.record.id);
  });

  it('leaves commits without a record exactly as they were', () => {
    const { commit } = inputs();
    delete commit.record;
    expect(encodeCommit(commit).toString('utf8')).not.toMatch(/\nrecord /);
    expect(decodeCommit(encodeCommit(commit))).not.toHaveProperty('record');
  });

  it('refuses other spellings, bad IDs and unsafe paths', () => {
    const good = Buffer.from(golden.record.hex, 'hex').toString('utf8');
    const spaced = good.replace('{"checks":', '{ "checks":');
    expect(() => decodeRecord(Buffer.from(spaced))).toThrow(CorruptObjectError);
    const badPath = good.replace('"path":"data/raw"', '"path":"../etc"');
    expect(() => decodeRecord(Buffer.from(badPath))).toThrow(/unsafe input path/);
    const badId = good.replace(/"id":"[0-9a-f]{64}"/, '"id":"nope"');
    expect(() => decodeRecord(Buffer.from(badId))).toThrow(CorruptObjectError);
    expect(() => decodeRecord(Buffer.from('lode record 1\n{}\n'))).toThrow(CorruptObjectError);
    const commitText = Buffer.from(golden.commit.hex, 'hex').toString('utf8');
    expect(() => decodeCommit(Buffer.from(commitText.replace(/record [0-9a-f]+/, 'record xyz')))).toThrow(/bad record line/);
  });

  it('canonical JSON drops undefined members and sorts keys', () => {
    expect(canonicalJson({ b: 1, a: [1, 'x', { d: undefined, c: null }] })).toBe('{"a":[1,"x",{"c":null}],"b":1}');
  });
});
