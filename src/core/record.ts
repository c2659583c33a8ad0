/**
 * The record object a commit may point to (its `record <id>` header): how
 * the version was made (provenance: a `lode run` step, or sources and inputs
 * given by hand to `lode commit`) and what the data contract found when it
 * was committed (check results). Encoded as one line of canonical JSON after
 * a magic line, so that its ID is the SHA-256 of one spelling only;
 * docs/formats.md describes it and test/fixtures/record-golden.json pins it.
 */
import { CorruptObjectError } from './errors.js';
import { isObjectId, type ObjectId } from './id.js';
import { repoPathProblem } from './paths.js';

const RECORD_HEADER = 'lode record 1\n';

/** RecordInput is one input of a step: a path at a version, with the exact ID it had there. */
export interface RecordInput {
  /** As given: `REV:PATH`, or a bare PATH (the workspace). */
  spec: string;
  /** Repo-relative path. */
  path: string;
  /** The lode commit the input was read from; absent when it was read from the workspace and no commit holds that content at that path. */
  commit?: ObjectId;
  /** 'blob', 'chunked' (a file) or 'tree' (a directory). */
  kind: 'blob' | 'chunked' | 'tree';
  id: ObjectId;
}

/** RecordOutput is one output of a step: a path and the ID the commit gives it. */
export interface RecordOutput {
  path: string;
  kind: 'blob' | 'chunked' | 'tree';
  id: ObjectId;
}

/** Provenance says how a version was made. */
export interface Provenance {
  /** `run`: a step lode ran; `manual`: sources and inputs declared to `lode commit`. */
  kind: 'run' | 'manual';
  /** The command and its arguments (run only). */
  command?: string[];
  /** The working directory of the command, repo-relative ('' for the top). */
  cwd?: string;
  inputs: RecordInput[];
  outputs: RecordOutput[];
  /** External sources (URLs, free text), in the order given. */
  sources: string[];
  note?: string;
  /** The git commit of the code, and whether its work tree had uncommitted changes (lode.lock aside). */
  code?: { git: string; dirty: boolean };
  /** The command's exit status (always 0 in a commit: a failing step commits nothing). */
  exit?: number;
  /** Start and end of the command, ms since the epoch. */
  start?: number;
  end?: number;
  /** The lode version that made the record. */
  lode: string;
  /** The OS user who ran it. */
  user: string;
  /** Inputs whose content `lode forget` erased entirely (dropped from `inputs`). */
  erasedInputs?: { spec: string; path: string }[];
  /** Outputs `lode forget` erased entirely (dropped from `outputs`). */
  erasedOutputs?: string[];
}

/** CheckViolation is one rule a version broke. */
export interface CheckViolation {
  path: string;
  rule: string;
  observed: string | number | boolean | null;
  allowed: string | number | boolean | null;
  message: string;
  /** `lode forget` replaced `observed` and `message`: the erased data may have shown in them. */
  redacted?: boolean;
}

/** CheckSummary is what the contract found at commit time. */
export interface CheckSummary {
  /** The contract file (repo-relative) and the SHA-256 of its bytes. */
  contract: string;
  contractSha256: string;
  /** Rules evaluated. */
  rules: number;
  violations: CheckViolation[];
  /** Committed with violations because of `--no-verify`. */
  forced: boolean;
}

/** CommitRecord is the record object: either part may be absent, not both. */
export interface CommitRecord {
  provenance?: Provenance;
  checks?: CheckSummary;
}

/**
 * canonicalJson is JSON with object keys sorted by UTF-16 code units and no
 * white space; undefined members are dropped, like JSON.stringify does.
 */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new RangeError('a record holds finite numbers only');
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const keys = Object.keys(v as object)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** encodeRecord returns the canonical bytes of a record object. */
export function encodeRecord(r: CommitRecord): Buffer {
  if (!r.provenance && !r.checks) throw new RangeError('a record needs provenance or check results');
  problemOf(r, (why) => new RangeError(why));
  return Buffer.from(`${RECORD_HEADER}${canonicalJson(r)}\n`, 'utf8');
}

/** isRecordEncoding says whether `buf` starts like a record object. */
export function isRecordEncoding(buf: Uint8Array): boolean {
  return Buffer.from(buf.buffer, buf.byteOffset, Math.min(buf.length, RECORD_HEADER.length)).toString('latin1') === RECORD_HEADER;
}

/** decodeRecord parses a record object; CorruptObjectError when it is not one in canonical form. */
export function decodeRecord(buf: Uint8Array, id?: ObjectId): CommitRecord {
  const fail = (why: string) => new CorruptObjectError(`record ${id ?? ''} is corrupt: ${why}`.replace('  ', ' '), { objectId: id });
  if (!isRecordEncoding(buf)) throw fail('not a record');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw fail('not UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text.slice(RECORD_HEADER.length));
  } catch {
    throw fail('not JSON');
  }
  if (!isPlainObject(value)) throw fail('not an object');
  const r = value as CommitRecord;
  problemOf(r, (why) => fail(why));
  let canonical: Buffer | undefined;
  try {
    canonical = encodeRecord(r);
  } catch {
    // refused by the encoder: not canonical either
  }
  if (!canonical || !canonical.equals(Buffer.from(buf.buffer, buf.byteOffset, buf.length))) throw fail('not in canonical form');
  return r;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const KINDS = new Set(['blob', 'chunked', 'tree']);

/**
 * problemOf checks the shape of a record: what readers rely on (IDs are IDs,
 * paths are safe repo paths, lists are lists). Extra members are allowed, so
 * that a later lode can add fields an older one carries along.
 */
function problemOf(r: CommitRecord, fail: (why: string) => Error): void {
  const str = (v: unknown, what: string) => {
    if (typeof v !== 'string') throw fail(`${what} is not a string`);
  };
  const path = (v: unknown, what: string) => {
    str(v, what);
    const p = repoPathProblem(v as string);
    if (p) throw fail(`unsafe ${what} ${JSON.stringify(v)}: ${p}`);
  };
  const p = r.provenance;
  if (p !== undefined) {
    if (!isPlainObject(p)) throw fail('provenance is not an object');
    if (p.kind !== 'run' && p.kind !== 'manual') throw fail('provenance kind must be run or manual');
    if (!Array.isArray(p.inputs) || !Array.isArray(p.outputs) || !Array.isArray(p.sources)) throw fail('provenance needs inputs, outputs and sources lists');
    for (const i of p.inputs) {
      if (!isPlainObject(i)) throw fail('an input is not an object');
      str(i.spec, 'input spec');
      path(i.path, 'input path');
      if (!isObjectId(i.id) || !KINDS.has(i.kind)) throw fail('an input lacks its ID or kind');
      if (i.commit !== undefined && !isObjectId(i.commit)) throw fail('an input commit is not an ID');
    }
    for (const o of p.outputs) {
      if (!isPlainObject(o)) throw fail('an output is not an object');
      path(o.path, 'output path');
      if (!isObjectId(o.id) || !KINDS.has(o.kind)) throw fail('an output lacks its ID or kind');
    }
    for (const s of p.sources) str(s, 'source');
    if (p.command !== undefined && (!Array.isArray(p.command) || p.command.some((a) => typeof a !== 'string'))) throw fail('command is not a list of strings');
    if (p.code !== undefined && (!isPlainObject(p.code) || typeof p.code.git !== 'string' || typeof p.code.dirty !== 'boolean')) throw fail('bad code');
    str(p.lode, 'lode version');
    str(p.user, 'user');
  }
  const c = r.checks;
  if (c !== undefined) {
    if (!isPlainObject(c)) throw fail('checks is not an object');
    str(c.contract, 'contract');
    str(c.contractSha256, 'contract digest');
    if (!Number.isSafeInteger(c.rules) || typeof c.forced !== 'boolean' || !Array.isArray(c.violations)) throw fail('bad checks');
    for (const v of c.violations) {
      if (!isPlainObject(v)) throw fail('a violation is not an object');
      str(v.path, 'violation path');
      str(v.rule, 'violation rule');
      str(v.message, 'violation message');
    }
  }
}
