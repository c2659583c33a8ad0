/**
 * Evaluating the data contract (contract.ts) on one version: every table a
 * [[table]] section matches is profiled by the diff's scanner (tabular/
 * profile.ts), every folder a [[folder]] section matches is read from the
 * tree statistics (file counts and sizes the trees already carry), and drift
 * rules compare with the same path in the parent version. Profiles are
 * cached by file ID under `.lode/checks/`, so a version that did not touch a
 * table does not read it again.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TreeEntry } from '../core/encoding.js';
import { ConfigError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import type { CheckViolation } from '../core/record.js';
import { joinPath } from '../core/paths.js';
import { lookupPath, walkFiles, type FileEntry, type TreePool } from '../graph/trees.js';
import { TableError } from '../tabular/errors.js';
import { tableFormatOf } from '../tabular/formats.js';
import type { ColumnProfile, TableProfile } from '../tabular/profile.js';
import { tempName, writeFileAtomic } from '../storage/atomic.js';
import { CONTRACT_FILE, contractFrom, globRegExp, literalPrefix, parseToml, type Contract, type FolderRule, type TableRule } from './contract.js';
import type { Repository } from './repository.js';

/** CheckReport is what evaluating the contract on one version found. */
export interface CheckReport {
  contract: string;
  contractSha256: string;
  /** Rules evaluated (one per rule and file or folder). */
  rules: number;
  /** Tables profiled: read now, or found in the cache. */
  tables: { scanned: number; cached: number };
  folders: number;
  violations: CheckViolation[];
  /** What could not be checked, and why (content not in the local cache). */
  skipped: { path: string; reason: string }[];
  ok: boolean;
}

/** readContract reads the workspace's contract; undefined when there is none. */
export function readContract(repo: Repository, file?: string): Contract | undefined {
  const abs = file ? path.resolve(file) : path.join(repo.root, CONTRACT_FILE);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !file) return undefined;
    throw new ConfigError(`cannot read the contract ${abs}: ${(e as Error).message}`, { hint: `write ${CONTRACT_FILE} at the top of the workspace (docs/formats.md)` });
  }
  const name = file ? path.relative(repo.root, abs) || abs : CONTRACT_FILE;
  // The parsed TOML of a contract that validated is kept by the text's digest:
  // a commit then reads JSON instead of loading the TOML parser.
  const digest = createHash('sha256').update(text).digest('hex');
  const cached = path.join(repo.lodeDir, 'checks', `contract-${digest}.json`);
  try {
    return contractFrom(JSON.parse(fs.readFileSync(cached, 'utf8')) as Record<string, unknown>, text, name);
  } catch {
    // not cached, or unreadable: parse the TOML
  }
  const doc = parseToml(text, name);
  const contract = contractFrom(doc, text, name);
  try {
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    writeFileAtomic(cached, JSON.stringify(doc));
  } catch {
    // the next commit parses the TOML again, nothing worse
  }
  return contract;
}

const PROFILE_VERSION = 1;

/**
 * evaluateContract checks the version whose root tree is `tree` (its trees
 * readable through `pool`), comparing drift with `parentTree` when given.
 */
export async function evaluateContract(repo: Repository, contract: Contract, pool: TreePool, tree: ObjectId, parentTree: ObjectId | undefined): Promise<CheckReport> {
  const report: CheckReport = { contract: contract.file, contractSha256: contract.sha256, rules: 0, tables: { scanned: 0, cached: 0 }, folders: 0, violations: [], skipped: [], ok: true };
  const violate = (p: string, rule: string, observed: CheckViolation['observed'], allowed: CheckViolation['allowed'], message: string) => report.violations.push({ path: p, rule, observed, allowed, message });
  const profiles = new ProfileCache(repo, report);

  for (const rule of contract.tables) {
    for (const f of matchedFiles(pool, tree, rule.pattern).filter((x) => tableFormatOf(x.path) !== null)) {
      const opts = profileOptions(rule);
      let prof: TableProfile | undefined;
      try {
        prof = await profiles.get(f, opts);
      } catch (e) {
        // A table that does not read as its format breaks the contract; it does not stop the check.
        if (!(e instanceof TableError)) throw e;
        report.rules++;
        violate(f.path, 'format', 'unreadable', tableFormatOf(f.path), e.message);
        continue;
      }
      if (!prof) continue;
      checkTable(contract, rule, f.path, prof, violate, () => report.rules++);
      if (rule.drift && parentTree) {
        const before = lookupPath(pool, parentTree, f.path);
        if (!before || before.kind === 'tree' || before.id === f.id) continue;
        const old = await profiles.get({ ...f, kind: before.kind, id: before.id, size: before.size }, opts, 'the parent version of ').catch((e: unknown) => {
          if (e instanceof TableError) return undefined; // an unreadable parent: no drift to measure
          throw e;
        });
        if (old) checkTableDrift(rule, f.path, old, prof, violate, () => report.rules++, await import('../tabular/profile.js'));
      }
    }
  }
  for (const rule of contract.folders) {
    for (const dir of matchedDirs(pool, tree, rule.pattern)) {
      report.folders++;
      checkFolder(pool, rule, dir, violate, () => report.rules++);
      if (rule.drift?.maxSharePp !== undefined && parentTree) {
        const before = lookupPath(pool, parentTree, dir.path);
        if (before && before.kind === 'tree' && before.id !== dir.id) {
          report.rules++;
          const shift = maxShareShift(classCounts(pool.readTree(before.id)), classCounts(pool.readTree(dir.id)));
          if (shift.pp > rule.drift.maxSharePp) {
            violate(dir.path, 'drift.max_share_shift_pp', round(shift.pp), rule.drift.maxSharePp, `class ${JSON.stringify(shift.label)} moved ${round(shift.pp)} percentage points since the parent version (limit ${rule.drift.maxSharePp})`);
          }
        }
      }
    }
  }
  report.ok = report.violations.length === 0;
  return report;
}

/**
 * profileOptions asks the scan for what the rule needs. Category counts cost
 * a comparison per distinct value and cell (the scanner is built for the few
 * values of a category): the limit is just above what the label sets allow
 * (a valid column keeps its counts, an invalid one may lose them: then it
 * fails on "too many distinct values"), and 64 where only share shifts need them.
 */
function profileOptions(rule: TableRule): ProfileSpec {
  const sample = [...new Set([...Object.keys(rule.drift?.maxPsi ?? {}), ...Object.keys(rule.drift?.maxKs ?? {})])].sort();
  let categoryLimit = 20;
  for (const allowed of Object.values(rule.labels ?? {})) categoryLimit = Math.max(categoryLimit, allowed.length + 5);
  if (Object.keys(rule.drift?.maxSharePp ?? {}).length > 0) categoryLimit = Math.max(categoryLimit, 64);
  return { ...(rule.unique ? { unique: rule.unique } : {}), ...(sample.length > 0 ? { sample } : {}), categoryLimit: Math.min(categoryLimit, 1000) };
}

interface ProfileSpec {
  unique?: string[];
  sample?: string[];
  categoryLimit: number;
}

/** ProfileCache profiles tables from the local cache, keeping each profile by file ID and options. */
class ProfileCache {
  private readonly dir: string;
  constructor(
    private readonly repo: Repository,
    private readonly report: CheckReport,
  ) {
    this.dir = path.join(repo.lodeDir, 'checks');
  }

  async get(f: FileEntry, opts: ProfileSpec, what = ''): Promise<TableProfile | undefined> {
    const key = createHash('sha256').update(JSON.stringify([PROFILE_VERSION, f.id, opts.unique ?? null, opts.sample ?? null, opts.categoryLimit])).digest('hex');
    const file = path.join(this.dir, key.slice(0, 2), `${key.slice(2)}.json`);
    try {
      const p = JSON.parse(fs.readFileSync(file, 'utf8')) as TableProfile;
      this.report.tables.cached++;
      return p;
    } catch {
      // not cached (or unreadable): profile it
    }
    const store = this.repo.store;
    const format = tableFormatOf(f.path)!;
    let input = { file: emptyFile(this.repo), size: 0, label: f.path };
    let copy: string | undefined;
    if (f.size > 0) {
      if (store.hasLooseFile(f.id)) input = { file: store.filePath(f.id), size: f.size, label: f.path };
      else if (store.isSplit(f.id)) {
        // An older version kept as chunks (objects/split.ts): assembled, verified, for the reader.
        copy = tempName(store.tmpDir, 'check');
        store.assembleTo({ kind: 'chunked', id: f.id, size: f.size }, copy);
        input = { file: copy, size: f.size, label: f.path };
      } else {
        // A small file kept in a local pack: its verified bytes, in a file of their own for the reader.
        const packed = store.readPackedFile(f.id);
        if (!packed) {
          this.report.skipped.push({ path: f.path, reason: `the content of ${what}${f.path} is not in the local cache (lode fetch brings it)` });
          return undefined;
        }
        copy = tempName(store.tmpDir, 'check');
        fs.writeFileSync(copy, packed, { flag: 'wx' });
        input = { file: copy, size: f.size, label: f.path };
      }
    }
    // The scanner loads only when a table must be read: a commit whose tables are all cached does without it.
    const { profileTable } = await import('../tabular/profile.js');
    let prof: TableProfile;
    try {
      prof = await profileTable(format, input, { ...opts, tmpDir: this.repo.store.tmpDir });
    } finally {
      if (copy) fs.rmSync(copy, { force: true });
    }
    this.report.tables.scanned++;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      writeFileAtomic(file, Buffer.from(JSON.stringify(prof)));
    } catch {
      // a cache that cannot be written costs a rescan next time, nothing else
    }
    return prof;
  }
}

function emptyFile(repo: Repository): string {
  const f = path.join(repo.store.tmpDir, 'empty-table');
  if (!fs.existsSync(f)) fs.writeFileSync(f, '');
  return f;
}

type Violate = (p: string, rule: string, observed: CheckViolation['observed'], allowed: CheckViolation['allowed'], message: string) => void;

/** matchedFiles lists the files of `tree` a pattern matches: by the pattern itself, or lying under a directory it matches. */
function matchedFiles(pool: TreePool, tree: ObjectId, pattern: string): FileEntry[] {
  const re = globRegExp(pattern);
  const prefix = literalPrefix(pattern);
  const at = lookupPath(pool, tree, prefix);
  if (!at) return [];
  if (at.kind !== 'tree') return re.test(prefix) ? [{ path: prefix, kind: at.kind, id: at.id, size: at.size, exec: at.exec }] : [];
  const matches = (p: string) => {
    for (let d = p; d !== ''; d = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '') if (re.test(d)) return true;
    return false;
  };
  return walkFiles(pool, at.id, prefix).filter((f) => matches(f.path));
}

interface DirAt {
  path: string;
  id: ObjectId;
}

/** matchedDirs lists the directories of `tree` a pattern matches, walking directories only (never files). */
function matchedDirs(pool: TreePool, tree: ObjectId, pattern: string): DirAt[] {
  const prefix = literalPrefix(pattern);
  const at = lookupPath(pool, tree, prefix);
  if (!at || at.kind !== 'tree') return [];
  if (prefix === pattern) return [{ path: prefix, id: at.id }];
  const re = globRegExp(pattern);
  const out: DirAt[] = [];
  const rec = (id: ObjectId, dir: string) => {
    if (re.test(dir)) out.push({ path: dir, id });
    for (const e of pool.readTree(id)) if (e.kind === 'tree') rec(e.id, joinPath(dir, e.name));
  };
  rec(at.id, prefix);
  return out;
}

const TYPE_OK: Record<string, string[]> = {
  integer: ['integer', 'null'],
  number: ['integer', 'number', 'null'],
  boolean: ['boolean', 'null'],
  date: ['date', 'null'],
  string: ['string', 'integer', 'number', 'boolean', 'date', 'mixed', 'null'],
};

function checkTable(contract: Contract, rule: TableRule, p: string, prof: TableProfile, violate: Violate, count: () => void): void {
  const byName = new Map(prof.columns.map((c) => [c.name, c]));
  const have = prof.columns.map((c) => c.name).join(', ') || 'none';
  /** col finds a column a rule names; a column neither declared nor present is a mistake in the contract. */
  const col = (name: string, key: string): ColumnProfile | undefined => {
    const c = byName.get(name);
    if (c) return c;
    if (rule.columns && name in rule.columns) return undefined; // reported as a missing column
    throw new ConfigError(`${contract.where(rule, key)}: [[table]] #${rule.index}: ${key} names column ${JSON.stringify(name)}, which ${p} does not have (columns: ${have})`, {
      hint: 'fix the column name in the contract, or declare it under `columns` to require it',
    });
  };
  if (rule.rows) {
    count();
    const [lo, hi] = rule.rows;
    if (prof.rows < lo || prof.rows > hi) violate(p, 'rows', prof.rows, `${lo}..${hi}`, `${prof.rows} rows, outside ${lo}..${hi}`);
  }
  if (rule.columns) {
    for (const [name, type] of Object.entries(rule.columns)) {
      count();
      const c = byName.get(name);
      if (!c) {
        violate(p, `columns.${name}`, 'missing', type, `column ${JSON.stringify(name)} is missing`);
        continue;
      }
      if (!TYPE_OK[type].includes(c.type)) violate(p, `columns.${name}`, c.type, type, `column ${JSON.stringify(name)} holds ${c.type} values, not ${type}`);
      if (!(rule.nullable ?? []).includes(name) && c.nulls > 0) violate(p, `nullable.${name}`, c.nulls, 0, `column ${JSON.stringify(name)} has ${c.nulls} empty value(s) and is not declared nullable`);
    }
    if (rule.extraColumns === false) {
      count();
      const extra = prof.columns.filter((c) => !(c.name in rule.columns!)).map((c) => c.name);
      if (extra.length > 0) violate(p, 'extra_columns', extra.join(', '), false, `undeclared column(s): ${extra.join(', ')}`);
    }
  }
  if (rule.unique) {
    for (const k of rule.unique) col(k, 'unique');
    if (rule.unique.every((k) => byName.has(k))) {
      count();
      const d = prof.duplicateKeys ?? 0;
      if (d > 0) violate(p, 'unique', d, 0, `${d} row(s) repeat a key (${rule.unique.join(', ')}) seen earlier`);
    }
  }
  for (const [name, max] of Object.entries(rule.maxNullRate ?? {})) {
    const c = col(name, 'max_null_rate');
    if (!c) continue;
    count();
    const rate = prof.rows === 0 ? 0 : c.nulls / prof.rows;
    if (rate > max) violate(p, `max_null_rate.${name}`, round(rate), max, `column ${JSON.stringify(name)} is ${round(rate * 100)}% empty (limit ${round(max * 100)}%)`);
  }
  for (const [name, [lo, hi]] of Object.entries(rule.range ?? {})) {
    const c = col(name, 'range');
    if (!c) continue;
    count();
    const nonNumeric = prof.rows - c.nulls - c.numeric;
    if (nonNumeric > 0) violate(p, `range.${name}`, `${nonNumeric} non-numeric`, `${lo}..${hi}`, `column ${JSON.stringify(name)} has ${nonNumeric} value(s) that are not numbers`);
    else if (c.min !== null && c.max !== null && (c.min < lo || c.max > hi)) violate(p, `range.${name}`, `${c.min}..${c.max}`, `${lo}..${hi}`, `column ${JSON.stringify(name)} spans ${c.min}..${c.max}, outside ${lo}..${hi}`);
  }
  for (const [name, allowed] of Object.entries(rule.labels ?? {})) {
    const c = col(name, 'labels');
    if (!c) continue;
    count();
    if (c.categories === null) {
      violate(p, `labels.${name}`, 'too many distinct values', allowed.join(', '), `column ${JSON.stringify(name)} has more distinct values than a label set can have`);
      continue;
    }
    const unknown = c.categories.filter(([v]) => !allowed.includes(v));
    if (unknown.length > 0) {
      const shown = unknown.slice(0, 5).map(([v, n]) => `${JSON.stringify(v)} (${n})`).join(', ') + (unknown.length > 5 ? `, and ${unknown.length - 5} more` : '');
      violate(p, `labels.${name}`, unknown.map(([v]) => v).slice(0, 20).join(', '), allowed.join(', '), `column ${JSON.stringify(name)} has label(s) outside the allowed set: ${shown}`);
    }
  }
  // Drift columns must exist too (their check needs a parent version, the name does not).
  for (const [key, m] of [
    ['drift.max_share_shift_pp', rule.drift?.maxSharePp],
    ['drift.max_psi', rule.drift?.maxPsi],
    ['drift.max_ks', rule.drift?.maxKs],
  ] as const) {
    for (const name of Object.keys(m ?? {})) col(name, key);
  }
}

function checkTableDrift(
  rule: TableRule,
  p: string,
  before: TableProfile,
  after: TableProfile,
  violate: Violate,
  count: () => void,
  { psi, ksDistance }: { psi(a: readonly number[], b: readonly number[]): number; ksDistance(a: readonly number[], b: readonly number[]): number },
): void {
  const d = rule.drift!;
  const b = new Map(before.columns.map((c) => [c.name, c]));
  const a = new Map(after.columns.map((c) => [c.name, c]));
  if (d.schemaChanges === false) {
    count();
    const was = before.columns.map((c) => `${c.name}:${c.type}`);
    const now = after.columns.map((c) => `${c.name}:${c.type}`);
    const removed = was.filter((x) => !now.includes(x));
    const added = now.filter((x) => !was.includes(x));
    if (removed.length + added.length > 0) {
      const what = [...removed.map((x) => `-${x}`), ...added.map((x) => `+${x}`)].join(', ');
      violate(p, 'drift.schema_changes', what, false, `the schema changed since the parent version: ${what}`);
    }
  }
  for (const [name, limit] of Object.entries(d.maxSharePp ?? {})) {
    const cb = b.get(name);
    const ca = a.get(name);
    if (!cb || !ca) continue;
    count();
    if (!cb.categories || !ca.categories) {
      violate(p, `drift.max_share_shift_pp.${name}`, 'too many distinct values', limit, `column ${JSON.stringify(name)} has too many distinct values for label shares`);
      continue;
    }
    const shift = maxShareShift(new Map(cb.categories), new Map(ca.categories));
    if (shift.pp > limit) violate(p, `drift.max_share_shift_pp.${name}`, round(shift.pp), limit, `label ${JSON.stringify(shift.label)} of column ${JSON.stringify(name)} moved ${round(shift.pp)} percentage points since the parent version (limit ${limit})`);
  }
  for (const [name, limit] of Object.entries(d.maxPsi ?? {})) {
    const cb = b.get(name);
    const ca = a.get(name);
    if (!cb?.sample || !ca?.sample) continue;
    count();
    const v = psi(cb.sample, ca.sample);
    if (v > limit) violate(p, `drift.max_psi.${name}`, round(v), limit, `column ${JSON.stringify(name)} has a population stability index of ${round(v)} against the parent version (limit ${limit})`);
  }
  for (const [name, limit] of Object.entries(d.maxKs ?? {})) {
    const cb = b.get(name);
    const ca = a.get(name);
    if (!cb?.sample || !ca?.sample) continue;
    count();
    const v = ksDistance(cb.sample, ca.sample);
    if (v > limit) violate(p, `drift.max_ks.${name}`, round(v), limit, `column ${JSON.stringify(name)} is at KS distance ${round(v)} from the parent version (limit ${limit})`);
  }
}

/** classCounts maps each subdirectory (a class) of a folder to its file count: tree statistics, no walk. */
function classCounts(entries: TreeEntry[]): Map<string, number> {
  return new Map(entries.filter((e) => e.kind === 'tree').map((e) => [e.name, e.files]));
}

/** maxShareShift is the largest change, in percentage points, of one label's share between two count maps. */
function maxShareShift(before: Map<string, number>, after: Map<string, number>): { label: string; pp: number } {
  const tb = [...before.values()].reduce((s, n) => s + n, 0);
  const ta = [...after.values()].reduce((s, n) => s + n, 0);
  let best = { label: '', pp: 0 };
  for (const label of new Set([...before.keys(), ...after.keys()])) {
    const sb = tb === 0 ? 0 : (before.get(label) ?? 0) / tb;
    const sa = ta === 0 ? 0 : (after.get(label) ?? 0) / ta;
    const pp = Math.abs(sa - sb) * 100;
    if (pp > best.pp) best = { label, pp };
  }
  return best;
}

function checkFolder(pool: TreePool, rule: FolderRule, dir: DirAt, violate: Violate, count: () => void): void {
  const entries = pool.readTree(dir.id);
  const total = entries.reduce((s, e) => s + e.files, 0);
  if (rule.files) {
    count();
    const [lo, hi] = rule.files;
    if (total < lo || total > hi) violate(dir.path, 'files', total, `${lo}..${hi}`, `${total} files, outside ${lo}..${hi}`);
  }
  if (rule.maxFileBytes !== undefined) {
    count();
    const max = rule.maxFileBytes;
    // A subtree whose total size is within the limit cannot hold a file above it: no walk there.
    const big: string[] = [];
    let largest = 0;
    const rec = (es: TreeEntry[], at: string) => {
      for (const e of es) {
        if (e.size <= max) continue;
        const p = joinPath(at, e.name);
        if (e.kind === 'tree') rec(pool.readTree(e.id), p);
        else {
          big.push(p);
          largest = Math.max(largest, e.size);
        }
      }
    };
    rec(entries, dir.path);
    if (big.length > 0) violate(dir.path, 'max_file_bytes', largest, max, `${big.length} file(s) above ${max} bytes (largest ${largest}): ${big.slice(0, 3).join(', ')}${big.length > 3 ? ', …' : ''}`);
  }
  const classes = classCounts(entries);
  if (rule.classes) {
    count();
    const unknown = [...classes.keys()].filter((c) => !rule.classes!.includes(c));
    if (unknown.length > 0) violate(dir.path, 'classes', unknown.join(', '), rule.classes.join(', '), `class folder(s) outside the allowed set: ${unknown.join(', ')}`);
  }
  const classTotal = [...classes.values()].reduce((s, n) => s + n, 0);
  for (const [name, n] of classes) {
    if (rule.classFiles) {
      count();
      const [lo, hi] = rule.classFiles;
      if (n < lo || n > hi) violate(joinPath(dir.path, name), 'class_files', n, `${lo}..${hi}`, `class ${JSON.stringify(name)} has ${n} files, outside ${lo}..${hi}`);
    }
    if (rule.classShare) {
      count();
      const [lo, hi] = rule.classShare;
      const share = classTotal === 0 ? 0 : n / classTotal;
      if (share < lo || share > hi) violate(joinPath(dir.path, name), 'class_share', round(share), `${lo}..${hi}`, `class ${JSON.stringify(name)} is ${round(share * 100)}% of the files, outside ${round(lo * 100)}%..${round(hi * 100)}%`);
    }
  }
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}
