/**
 * `lode datasheet REV`: the record an auditor asks for about one version,
 * built from what lode knows — composition (files, bytes, file types, class
 * folders and their balance, tables with schema and column statistics),
 * provenance (the lineage records), what changed since the parent version
 * and since a named baseline (the diff), the data contract and its results —
 * and the fields only people know, declared in a tracked `datasheet.toml`.
 * A declared field that is missing is listed as a gap, never filled in.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, isLodeError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import { joinPath } from '../core/paths.js';
import type { CheckViolation } from '../core/record.js';
import { lookupPath, TreePool, walkFiles, type FileEntry } from '../graph/trees.js';
import { evaluateContract, readContract } from '../repo/checks.js';
import { CONTRACT_FILE, globRegExp, parseToml, type Contract } from '../repo/contract.js';
import { readRecord } from '../repo/provenance.js';
import type { Repository } from '../repo/repository.js';
import { resolveRev } from '../repo/revisions.js';
import { tempName, writeFileAtomic } from '../storage/atomic.js';
import { tableFormatOf } from '../tabular/formats.js';
import type { TableDiffEntry, TableFormat } from '../tabular/types.js';
import { diff, type DiffResult, type DiffSide, type DirStat } from './diff.js';
import { lineage, type LineageResult } from './lineage.js';

/** DATASHEET_FILE is where the declared fields live: the top of the workspace, tracked by git with the code. */
export const DATASHEET_FILE = 'datasheet.toml';

/** DECLARED_FIELDS are the fields only people know; each one missing is a gap. */
export const DECLARED_FIELDS = [
  { key: 'purpose', title: 'Purpose', ask: 'what the dataset is for (and what it must not be used for)' },
  { key: 'collection_method', title: 'Collection method', ask: 'how, where and when the data was collected, and from whom' },
  { key: 'labelling_procedure', title: 'Labelling procedure', ask: 'who labelled the data, with which instructions and tools, and how labels were checked' },
  { key: 'known_gaps_and_biases', title: 'Known gaps and biases', ask: 'populations, conditions or classes under- or over-represented, and what was examined for bias' },
  { key: 'personal_data', title: 'Personal data', ask: 'whether personal data is present, which kinds, and on what legal basis' },
  { key: 'retention', title: 'Retention', ask: 'how long the data is kept, and how it is deleted' },
] as const;

/** OPTIONAL_FIELDS may be declared; their absence is not a gap. */
export const OPTIONAL_FIELDS = [
  { key: 'title', title: 'Title' },
  { key: 'owner', title: 'Owner' },
  { key: 'license', title: 'License' },
  { key: 'contact', title: 'Contact' },
] as const;

/** TABLE_PROFILE_LIMIT is how many table files one datasheet profiles; the rest are counted. */
export const TABLE_PROFILE_LIMIT = 50;
/** CHANGE_LIST_LIMIT caps the changed files a datasheet lists per comparison. */
export const CHANGE_LIST_LIMIT = 200;
/** CATEGORY_TOP is how many most frequent values of a column a datasheet shows. */
export const CATEGORY_TOP = 10;

export interface DatasheetOptions {
  rev: string;
  /** Also compare with this version. */
  baseline?: string;
  /** Evaluate the workspace's contract now, even when the record holds results. */
  evaluate?: boolean;
  /** Another declared-fields file than the workspace's datasheet.toml. */
  fieldsFile?: string;
}

export interface DeclaredField {
  key: string;
  title: string;
  /** The declared text; null when not declared (then it is a gap). */
  value: string | null;
}

export interface ClassCount {
  name: string;
  files: number;
  bytes: number;
  /** Share of the folder's files in this class, 0..1. */
  share: number;
}

/** ClassFolder is a folder-per-class dataset: each subdirectory is a class. */
export interface ClassFolder {
  path: string;
  /** `contract`: a [[folder]] section names it; `detected`: every child is a directory holding only files. */
  source: 'contract' | 'detected';
  files: number;
  bytes: number;
  classes: ClassCount[];
  /** Files of the largest class over the smallest (null when a class is empty or there is one class). */
  imbalance: number | null;
}

export interface ColumnSheet {
  name: string;
  type: string;
  nulls: number;
  nullRate: number;
  min: number | null;
  max: number | null;
  /** Distinct non-null values, or null past the scanner's category limit. */
  distinct: number | null;
  /** The most frequent values with counts and shares (absent past the category limit). */
  top?: { value: string; count: number; share: number }[];
}

export type TableSheet =
  | { path: string; format: string; bytes: number; rows: number; columns: ColumnSheet[] }
  | { path: string; format: string; bytes: number; error: string };

export interface ChangeSheet {
  from: DiffSide;
  to: DiffSide;
  summary: DiffResult['summary'];
  /** Per-directory counts with each side's size (as `lode diff --stat`). */
  stat: DirStat[];
  changes: DiffResult['changes'];
  /** Changed files beyond CHANGE_LIST_LIMIT, not listed. */
  changesOmitted: number;
  tables: TableDiffEntry[];
  tablesSkipped: number;
  /** Each class folder of the version, its classes' files and shares on both sides (tree statistics). */
  classes: { path: string; classes: { name: string; before: number; after: number; shareBefore: number; shareAfter: number }[] }[];
}

export interface ContractSheet {
  /** `recorded`: the results stored with the commit; `evaluated`: the workspace's contract run now. */
  source: 'recorded' | 'evaluated';
  file: string;
  sha256: string;
  rules: number;
  violations: CheckViolation[];
  ok: boolean;
  /** Committed with --no-verify despite violations (recorded only). */
  forced?: boolean;
  /** What could not be checked (evaluated only). */
  skipped?: { path: string; reason: string }[];
  /** The sections of the workspace's contract, when it exists: what is checked where. */
  sections?: { kind: 'table' | 'folder'; path: string }[];
  /** Set when the workspace's contract differs from the one the results were recorded with. */
  note?: string;
}

export interface Gap {
  section: 'declared' | 'provenance' | 'contract' | 'composition';
  field?: string;
  message: string;
}

/** DatasheetResult is the stable shape of `lode datasheet --json` (docs/cli.md). */
export interface DatasheetResult {
  rev: string;
  commit: ObjectId;
  message: string;
  author: string;
  date: string;
  /** Branches and tags pointing at the commit. */
  refs: string[];
  datasets: string[];
  declared: { file: string; found: boolean; fields: DeclaredField[]; optional: DeclaredField[] };
  composition: {
    files: number;
    bytes: number;
    /** The top of the version, as `lode ls REV` lists it. */
    entries: { path: string; kind: string; files: number; bytes: number }[];
    /** Files and bytes per extension (lower case, '' for none), largest first. */
    fileTypes: { ext: string; files: number; bytes: number }[];
    classFolders: ClassFolder[];
    tables: TableSheet[];
    /** Table files beyond TABLE_PROFILE_LIMIT, not profiled. */
    tablesSkipped: number;
  };
  provenance: { record: boolean; lineage: LineageResult };
  changes: { sinceParent: ChangeSheet | null; sinceBaseline?: ChangeSheet & { baseline: string } };
  contract: ContractSheet | null;
  gaps: Gap[];
}

/** datasheet builds the datasheet of one committed version. */
export async function datasheet(repo: Repository, options: DatasheetOptions): Promise<DatasheetResult> {
  const r = await resolveRev(repo, options.rev);
  const baseline = options.baseline !== undefined ? await resolveRev(repo, options.baseline) : undefined;
  const declared = readDeclared(repo, options.fieldsFile);
  const pool = new TreePool(repo.store);
  const gaps: Gap[] = [];
  for (const f of declared.fields) if (f.value === null) gaps.push({ section: 'declared', field: f.key, message: `${f.title.toLowerCase()} is not declared: ${DECLARED_FIELDS.find((d) => d.key === f.key)!.ask}` });

  const refs: string[] = [];
  for (const b of repo.refs.list('heads')) if (b.id === r.id) refs.push(b.name);
  for (const t of repo.refs.list('tags')) if (t.id === r.id) refs.push(`tag: ${t.name}`);

  const record = readRecord(repo, r.commit);
  // A workspace contract that does not parse stops the datasheet only when it must be evaluated:
  // a version with recorded results is still described, with the broken contract as a gap.
  let contract: Contract | undefined;
  try {
    contract = readContract(repo);
  } catch (e) {
    if (!(e instanceof ConfigError) || !record?.checks || options.evaluate) throw e;
    gaps.push({ section: 'contract', message: `the workspace contract cannot be read (${e.message}); the recorded results are shown` });
  }
  const composition = await compose(repo, pool, r.commit.tree, contract, r.commit.datasets);
  for (const t of composition.tables) if ('error' in t) gaps.push({ section: 'composition', field: t.path, message: `table not profiled: ${t.error}` });

  const lin = await lineage(repo, { spec: r.id });
  lin.rev = options.rev;
  if (!record?.provenance) gaps.push({ section: 'provenance', message: 'this version has no provenance record (it was not made by lode run, nor committed with --source, --input or --note)' });
  if (lin.unrecorded) gaps.push({ section: 'provenance', message: `${lin.unrecorded} commit${lin.unrecorded === 1 ? '' : 's'} in the history changed data without a provenance record` });

  const parent = r.commit.parents[0];
  const sinceParent = parent && repo.store.hasObject(parent) ? await changeSheet(repo, parent, r.id, `${options.rev}~1`, options.rev) : r.commit.parents.length === 0 ? await changeSheet(repo, null, r.id, '(empty)', options.rev) : null;
  const changes: DatasheetResult['changes'] = { sinceParent };
  if (baseline) changes.sinceBaseline = { baseline: options.baseline!, ...(await changeSheet(repo, baseline.id, r.id, options.baseline!, options.rev)) };
  for (const ch of [changes.sinceParent, changes.sinceBaseline]) if (ch) ch.classes = classShifts(pool, ch.from.tree, composition.classFolders);

  let contractSheet: ContractSheet | null = null;
  const sections = contract ? [...contract.tables.map((t) => ({ kind: 'table' as const, path: t.pattern })), ...contract.folders.map((f) => ({ kind: 'folder' as const, path: f.pattern }))] : undefined;
  const checks = record?.checks;
  if (checks && !options.evaluate) {
    contractSheet = { source: 'recorded', file: checks.contract, sha256: checks.contractSha256, rules: checks.rules, violations: checks.violations, ok: checks.violations.length === 0, ...(checks.forced ? { forced: true } : {}), ...(sections ? { sections } : {}) };
    if (contract && contract.sha256 !== checks.contractSha256) contractSheet.note = `the workspace's ${contract.file} has changed since these results were recorded (--evaluate runs it now)`;
  } else if (contract) {
    const parentTree = parent && repo.store.hasObject(parent) ? (await resolveRev(repo, parent)).commit.tree : undefined;
    const rep = await evaluateContract(repo, contract, pool, r.commit.tree, parentTree);
    contractSheet = { source: 'evaluated', file: rep.contract, sha256: rep.contractSha256, rules: rep.rules, violations: rep.violations, ok: rep.ok, skipped: rep.skipped, sections: sections! };
    if (!checks) gaps.push({ section: 'contract', message: 'no check results were recorded with this version; the workspace contract was evaluated now' });
  } else {
    gaps.push({ section: 'contract', message: `there is no data contract (${CONTRACT_FILE}) and no check results recorded with this version` });
  }
  if (contractSheet && !contractSheet.ok) gaps.push({ section: 'contract', message: `${contractSheet.violations.length} contract violation${contractSheet.violations.length === 1 ? '' : 's'}${contractSheet.forced ? ' (committed with --no-verify)' : ''}` });

  return {
    rev: options.rev,
    commit: r.id,
    message: r.commit.message.trimEnd(),
    author: r.commit.author,
    date: new Date(r.commit.time).toISOString(),
    refs,
    datasets: r.commit.datasets,
    declared,
    composition,
    provenance: { record: !!record?.provenance, lineage: lin },
    changes,
    contract: contractSheet,
    gaps,
  };
}

// ---------------------------------------------------------------------------
// Declared fields.

/**
 * readDeclared reads the declared fields. A missing file declares nothing
 * (every field a gap); a file that is not valid TOML, holds an unknown key
 * or a value that is not a string is refused (ConfigError, exit 8) with
 * `FILE:LINE:COLUMN`.
 */
export function readDeclared(repo: Repository, file?: string): DatasheetResult['declared'] {
  const abs = file ? path.resolve(file) : path.join(repo.root, DATASHEET_FILE);
  const name = file ? path.relative(repo.root, abs) || abs : DATASHEET_FILE;
  let text: string | undefined;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || file) throw new ConfigError(`cannot read ${abs}: ${(e as Error).message}`, { hint: `write ${DATASHEET_FILE} at the top of the workspace (docs/formats.md describes it)` });
  }
  const doc = text === undefined ? {} : parseDeclared(text, name);
  const field = (f: { key: string; title: string }): DeclaredField => {
    const v = doc[f.key];
    return { key: f.key, title: f.title, value: typeof v === 'string' && v.trim() !== '' ? v.trim() : null };
  };
  return { file: name, found: text !== undefined, fields: DECLARED_FIELDS.map(field), optional: OPTIONAL_FIELDS.map(field) };
}

/** parseDeclared parses the text of a datasheet.toml (exported for tests). */
export function parseDeclared(text: string, file = DATASHEET_FILE): Record<string, unknown> {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text, file);
  } catch (e) {
    if (isLodeError(e)) throw new ConfigError(e.message, { hint: `fix the TOML syntax of ${file} (docs/formats.md describes it)`, cause: e });
    throw e;
  }
  const known = new Set<string>([...DECLARED_FIELDS, ...OPTIONAL_FIELDS].map((f) => f.key));
  for (const [k, v] of Object.entries(doc)) {
    const at = `${file}:${keyPosition(text, k)}`;
    if (!known.has(k)) throw new ConfigError(`${at}: unknown key ${JSON.stringify(k)}`, { hint: `the keys are ${[...known].join(', ')} (docs/formats.md)` });
    if (typeof v !== 'string') throw new ConfigError(`${at}: ${k} must be a string`, { hint: `write it as text: ${k} = """…"""` });
  }
  return doc;
}

/** keyPosition finds `LINE:COLUMN` of a top-level key's definition (1:1 when it cannot tell). */
function keyPosition(text: string, key: string): string {
  const lines = text.split('\n');
  const bare = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^(\\s*)(${bare}|"${bare}"|'${bare}')\\s*[=.]`);
  for (let i = 0; i < lines.length; i++) {
    const m = re.exec(lines[i]);
    if (m) return `${i + 1}:${m[1].length + 1}`;
    const t = /^(\s*)\[+\s*([^\]]+?)\s*\]/.exec(lines[i]);
    if (t && (t[2] === key || t[2].startsWith(`${key}.`))) return `${i + 1}:${t[1].length + 1}`;
  }
  return '1:1';
}

// ---------------------------------------------------------------------------
// Composition.

async function compose(repo: Repository, pool: TreePool, tree: ObjectId, contract: Contract | undefined, datasets: string[]): Promise<DatasheetResult['composition']> {
  const entries = pool.readTree(tree).map((e) => ({ path: e.name, kind: e.kind, files: e.kind === 'tree' ? e.files : 1, bytes: e.size }));
  const files = entries.reduce((n, e) => n + e.files, 0);
  const bytes = entries.reduce((n, e) => n + e.bytes, 0);
  const all = walkFiles(pool, tree);
  const types = new Map<string, { ext: string; files: number; bytes: number }>();
  for (const f of all) {
    const base = f.path.slice(f.path.lastIndexOf('/') + 1);
    const dot = base.lastIndexOf('.');
    const ext = dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
    const t = types.get(ext) ?? { ext, files: 0, bytes: 0 };
    t.files++;
    t.bytes += f.size;
    types.set(ext, t);
  }
  const fileTypes = [...types.values()].sort((a, b) => b.files - a.files || b.bytes - a.bytes || (a.ext < b.ext ? -1 : 1));
  const tableFiles = all.filter((f) => tableFormatOf(f.path) !== null);
  const tables: TableSheet[] = [];
  for (const f of tableFiles.slice(0, TABLE_PROFILE_LIMIT)) tables.push(await tableSheet(repo, f));
  return { files, bytes, entries, fileTypes, classFolders: classFolders(pool, tree, contract, new Set(datasets)), tables, tablesSkipped: Math.max(0, tableFiles.length - TABLE_PROFILE_LIMIT) };
}

/**
 * classFolders finds folder-per-class datasets from the trees alone (the
 * counts are in the trees): those a [[folder]] section of the contract
 * names, and directories whose children (two or more) are all directories
 * holding only files, none of them a table file, none of them a dataset root.
 */
function classFolders(pool: TreePool, tree: ObjectId, contract: Contract | undefined, datasets: Set<string>): ClassFolder[] {
  const patterns = (contract?.folders ?? []).map((f) => globRegExp(f.pattern));
  const out: ClassFolder[] = [];
  const rec = (id: ObjectId, dir: string) => {
    const kids = pool.readTree(id);
    const named = dir !== '' && patterns.some((re) => re.test(dir));
    const subdirs = kids.filter((k) => k.kind === 'tree');
    // Directories of tables (pipeline stages, monthly exports) are not classes; nor are separate datasets.
    const detected =
      dir !== '' &&
      subdirs.length >= 2 &&
      subdirs.length === kids.length &&
      !subdirs.some((k) => datasets.has(joinPath(dir, k.name))) &&
      subdirs.every((k) => pool.readTree(k.id).every((x) => x.kind !== 'tree' && tableFormatOf(x.name) === null));
    if (named || detected) {
      const total = subdirs.reduce((n, k) => n + k.files, 0);
      const classes = subdirs.map((k) => ({ name: k.name, files: k.files, bytes: k.size, share: total === 0 ? 0 : k.files / total }));
      const counts = classes.map((c) => c.files);
      const min = Math.min(...counts);
      out.push({ path: dir, source: named ? 'contract' : 'detected', files: kids.reduce((n, k) => n + (k.kind === 'tree' ? k.files : 1), 0), bytes: kids.reduce((n, k) => n + k.size, 0), classes, imbalance: classes.length < 2 || min === 0 ? null : Math.max(...counts) / min });
      if (detected) return;
    }
    for (const k of subdirs) rec(k.id, joinPath(dir, k.name));
  };
  rec(tree, '');
  return out;
}

const SHEET_CACHE_VERSION = 1;

/**
 * tableSheet profiles one table file with the contract's profiler (one pass
 * of the diff's scanner). The columns are cached by file ID under
 * `.lode/checks/`, so the datasheet of a later version does not read a table
 * it did not change.
 */
async function tableSheet(repo: Repository, f: FileEntry): Promise<TableSheet> {
  const format = tableFormatOf(f.path)!;
  const key = createHash('sha256').update(JSON.stringify(['datasheet', SHEET_CACHE_VERSION, f.id, format, CATEGORY_TOP])).digest('hex');
  const cacheFile = path.join(repo.lodeDir, 'checks', key.slice(0, 2), `${key.slice(2)}.json`);
  try {
    const cached = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as { rows: number; columns: ColumnSheet[] };
    return { path: f.path, format, bytes: f.size, rows: cached.rows, columns: cached.columns };
  } catch {
    // not cached (or unreadable): profile it
  }
  const sheet = await profileSheet(repo, f, format);
  if ('rows' in sheet) {
    try {
      fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
      writeFileAtomic(cacheFile, JSON.stringify({ rows: sheet.rows, columns: sheet.columns }));
    } catch {
      // a cache that cannot be written costs a rescan next time, nothing else
    }
  }
  return sheet;
}

async function profileSheet(repo: Repository, f: FileEntry, format: string): Promise<TableSheet> {
  const store = repo.store;
  let file: string;
  let scratch: string | undefined;
  if (f.size === 0 || store.hasLooseFile(f.id)) file = f.size === 0 ? '' : store.filePath(f.id);
  else {
    const packed = store.readPackedFile(f.id);
    if (!packed) return { path: f.path, format, bytes: f.size, error: 'its content is not in the local cache (`lode fetch` brings it)' };
    scratch = tempName(store.tmpDir, 'datasheet');
    fs.writeFileSync(scratch, packed, { flag: 'wx' });
    file = scratch;
  }
  if (file === '') {
    scratch = tempName(store.tmpDir, 'datasheet');
    fs.writeFileSync(scratch, '', { flag: 'wx' });
    file = scratch;
  }
  try {
    const { profileTable } = await import('../tabular/profile.js');
    const p = await profileTable(format as TableFormat, { file, size: f.size, label: f.path }, { tmpDir: store.tmpDir });
    const columns = p.columns.map((c): ColumnSheet => {
      const nonNull = p.rows - c.nulls;
      const col: ColumnSheet = { name: c.name, type: c.type, nulls: c.nulls, nullRate: p.rows === 0 ? 0 : c.nulls / p.rows, min: c.min, max: c.max, distinct: c.categories ? c.categories.length : null };
      if (c.categories) {
        col.top = [...c.categories]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .slice(0, CATEGORY_TOP)
          .map(([value, count]) => ({ value, count, share: nonNull === 0 ? 0 : count / nonNull }));
      }
      return col;
    });
    return { path: f.path, format, bytes: f.size, rows: p.rows, columns };
  } catch (e) {
    if (!isLodeError(e)) throw e;
    return { path: f.path, format, bytes: f.size, error: e.message };
  } finally {
    if (scratch) fs.rmSync(scratch, { force: true });
  }
}

// ---------------------------------------------------------------------------
// Changes.

async function changeSheet(repo: Repository, from: ObjectId | null, to: ObjectId, fromLabel: string, toLabel: string): Promise<ChangeSheet> {
  const d = await diff(repo, { from, to, stat: true });
  return {
    from: { ...d.from, rev: fromLabel },
    to: { ...d.to, rev: toLabel },
    summary: d.summary,
    stat: d.stat ?? [],
    changes: d.changes.slice(0, CHANGE_LIST_LIMIT),
    changesOmitted: Math.max(0, d.changes.length - CHANGE_LIST_LIMIT),
    tables: d.tables ?? [],
    tablesSkipped: d.tablesSkipped ?? 0,
    classes: [],
  };
}

/** classShifts compares each class folder with the same folder in `before` (absent there: every class from 0). */
function classShifts(pool: TreePool, before: ObjectId, folders: ClassFolder[]): ChangeSheet['classes'] {
  return folders.map((f) => {
    const at = f.path === '' ? undefined : lookupPath(pool, before, f.path);
    const old = new Map<string, number>(at?.kind === 'tree' ? pool.readTree(at.id).filter((e) => e.kind === 'tree').map((e) => [e.name, e.files]) : []);
    const oldTotal = [...old.values()].reduce((n, x) => n + x, 0);
    const names = [...new Set([...f.classes.map((c) => c.name), ...old.keys()])].sort();
    const now = new Map(f.classes.map((c) => [c.name, c.files]));
    const total = f.classes.reduce((n, c) => n + c.files, 0);
    return {
      path: f.path,
      classes: names.map((name) => {
        const b = old.get(name) ?? 0;
        const a = now.get(name) ?? 0;
        return { name, before: b, after: a, shareBefore: oldTotal === 0 ? 0 : b / oldTotal, shareAfter: total === 0 ? 0 : a / total };
      }),
    };
  });
}
