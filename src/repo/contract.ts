/**
 * The data contract: `lode.checks.toml`, tracked with the code, declares per
 * path or glob what a version's tables and folders must satisfy. This module
 * parses and validates it (every mistake names line and column); checks.ts
 * evaluates it. The format is in docs/formats.md.
 */
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { ConfigError } from '../core/errors.js';

/** CONTRACT_FILE is the contract's name at the top of the workspace. */
export const CONTRACT_FILE = 'lode.checks.toml';

export type Bounds = [number, number];

export interface TableDrift {
  maxSharePp?: Record<string, number>;
  maxPsi?: Record<string, number>;
  maxKs?: Record<string, number>;
  schemaChanges?: boolean;
}

export interface TableRule {
  kind: 'table';
  /** 1-based place among the [[table]] sections, and the line of its header. */
  index: number;
  line: number;
  pattern: string;
  columns?: Record<string, string>;
  nullable?: string[];
  extraColumns?: boolean;
  unique?: string[];
  maxNullRate?: Record<string, number>;
  range?: Record<string, Bounds>;
  labels?: Record<string, string[]>;
  rows?: Bounds;
  drift?: TableDrift;
}

export interface FolderRule {
  kind: 'folder';
  index: number;
  line: number;
  pattern: string;
  files?: Bounds;
  maxFileBytes?: number;
  classes?: string[];
  classFiles?: Bounds;
  classShare?: Bounds;
  drift?: { maxSharePp?: number };
}

export interface Contract {
  file: string;
  sha256: string;
  tables: TableRule[];
  folders: FolderRule[];
  /** Where a key of a section is written, for messages: `lode.checks.toml:12:3`. */
  where(rule: TableRule | FolderRule, key?: string): string;
}

export const COLUMN_TYPES = ['integer', 'number', 'boolean', 'string', 'date'] as const;

const TABLE_KEYS = ['path', 'columns', 'nullable', 'extra_columns', 'unique', 'max_null_rate', 'range', 'labels', 'rows', 'drift'];
const TABLE_DRIFT_KEYS = ['max_share_shift_pp', 'max_psi', 'max_ks', 'schema_changes'];
const FOLDER_KEYS = ['path', 'files', 'max_file_bytes', 'classes', 'class_files', 'class_share', 'drift'];
const FOLDER_DRIFT_KEYS = ['max_share_shift_pp'];

type Toml = typeof import('smol-toml');
let toml: Toml | undefined;
const loadToml = (): Toml => (toml ??= createRequire(import.meta.url)('smol-toml') as Toml);

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/**
 * parseContract parses the text of a contract. ConfigError (exit 8) on a
 * syntax error or a rule that makes no sense, its message starting with
 * `FILE:LINE:COLUMN:`.
 */
export function parseContract(text: string, file = CONTRACT_FILE): Contract {
  return contractFrom(parseToml(text, file), text, file);
}

/** parseToml reads the TOML of a contract into plain data (ConfigError with line and column on a syntax error). */
export function parseToml(text: string, file = CONTRACT_FILE): Record<string, unknown> {
  const { parse, TomlError } = loadToml();
  try {
    return parse(text) as Table;
  } catch (e) {
    if (e instanceof TomlError) {
      // A broken section header often shows up as an error on a later line: name the header instead.
      const header = malformedHeader(text.split('\n'), e.line, file);
      if (header) throw header;
      const first = (e as Error).message.split('\n')[0];
      throw new ConfigError(`${file}:${e.line}:${e.column}: ${first}`, { hint: 'fix the TOML syntax of the contract (docs/formats.md describes it)', cause: e });
    }
    throw e;
  }
}

/** SECTION_HEADER is a `[[table]]` or `[[folder]]` header line (the key bare or quoted, a comment after it). */
const SECTION_HEADER = /^\s*\[\[\s*(?:"(table|folder)"|'(table|folder)'|(table|folder))\s*\]\]\s*(?:#.*)?$/;
/** LOOSE_HEADER is a line meant as one, brackets unbalanced or single (`[[table]`, `[table]]`, `[table]`); not `[table.drift]`. */
const LOOSE_HEADER = /^(\s*)\[\[?\s*["']?(table|folder)["']?\s*\]{0,2}\s*(?:#.*)?$/;

/** malformedHeader is the error for the first header line before line `upTo` (1-based, inclusive) that is meant as a section header but is not one. */
function malformedHeader(lines: string[], upTo: number, file: string): ConfigError | undefined {
  for (let i = 0; i < Math.min(upTo, lines.length); i++) {
    if (SECTION_HEADER.test(lines[i])) continue;
    const bad = LOOSE_HEADER.exec(lines[i]);
    if (bad) return new ConfigError(`${file}:${i + 1}:${bad[1].length + 1}: malformed section header ${JSON.stringify(lines[i].trim())}: write [[${bad[2]}]]`, { hint: 'a contract holds [[table]] and [[folder]] sections (docs/formats.md)' });
  }
  return undefined;
}

/**
 * contractFrom validates the parsed TOML of a contract (`doc`, from
 * parseToml or a cached copy of it) against its text (for positions).
 */
export function contractFrom(doc: Record<string, unknown>, text: string, file = CONTRACT_FILE): Contract {
  const lines = text.split('\n');
  // Header lines of [[table]] and [[folder]] sections, in order.
  const headers: Record<'table' | 'folder', number[]> = { table: [], folder: [] };
  lines.forEach((l, i) => {
    const m = SECTION_HEADER.exec(l);
    if (m) headers[(m[1] ?? m[2] ?? m[3]) as 'table' | 'folder'].push(i);
  });
  // The TOML parser lets some broken headers through (`[[table]` on the last line): name their line.
  const malformed = malformedHeader(lines, lines.length, file);
  if (malformed) throw malformed;
  const sectionEnd = (start: number) => {
    for (let i = start + 1; i < lines.length; i++) if (/^\s*\[\[/.test(lines[i])) return i;
    return lines.length;
  };
  const locate = (kind: 'table' | 'folder', index: number, key?: string): { line: number; column: number } => {
    const start = headers[kind][index - 1] ?? 0;
    if (key) {
      const parts = key.split('.');
      const last = parts[parts.length - 1];
      const end = sectionEnd(start);
      let from = start;
      if (parts.length > 1) {
        for (let i = start; i < end; i++) if (new RegExp(`^\\s*\\[\\s*${kind}\\s*\\.\\s*${parts[0]}\\s*\\]`).test(lines[i])) from = i;
      }
      const re = new RegExp(`^(\\s*)("?)${last.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\2\\s*=`);
      for (let i = from; i < end; i++) {
        const m = re.exec(lines[i]);
        if (m) return { line: i + 1, column: m[1].length + 1 };
      }
    }
    return { line: start + 1, column: 1 };
  };
  const at = (kind: 'table' | 'folder', index: number, key?: string) => {
    const { line, column } = locate(kind, index, key);
    return `${file}:${line}:${column}`;
  };
  const bad = (kind: 'table' | 'folder', index: number, key: string | undefined, why: string) =>
    new ConfigError(`${at(kind, index, key)}: [[${kind}]] #${index}: ${why}`, { hint: 'fix the contract (docs/formats.md lists its rules)' });

  for (const k of Object.keys(doc)) {
    if (k !== 'table' && k !== 'folder') {
      const i = lines.findIndex((l) => new RegExp(`^\\s*\\[?\\s*"?${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"?\\s*[=\\].]`).test(l));
      throw new ConfigError(`${file}:${i + 1}:1: unknown section or key ${JSON.stringify(k)}: a contract holds [[table]] and [[folder]] sections`, { hint: 'see docs/formats.md' });
    }
  }
  const list = (k: 'table' | 'folder'): Table[] => {
    const v = doc[k];
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every(isTable)) {
      const i = lines.findIndex((l) => new RegExp(`^\\s*(\\[\\s*["']?${k}["']?\\s*\\]|["']?${k}["']?\\s*=)`).test(l));
      throw new ConfigError(`${file}:${i + 1}:1: ${k} must be written as [[${k}]] sections`, { hint: 'see docs/formats.md' });
    }
    return v as Table[];
  };

  const tables: TableRule[] = list('table').map((t, n) => {
    const index = n + 1;
    const fail = (key: string | undefined, why: string) => bad('table', index, key, why);
    const v = new Reader(t, fail);
    v.only(TABLE_KEYS);
    const rule: TableRule = { kind: 'table', index, line: locate('table', index).line, pattern: v.path() };
    const columns = v.stringMap('columns');
    if (columns) {
      for (const [c, ty] of Object.entries(columns)) {
        if (!(COLUMN_TYPES as readonly string[]).includes(ty)) throw fail('columns', `column ${JSON.stringify(c)} has type ${JSON.stringify(ty)}; the types are ${COLUMN_TYPES.join(', ')}`);
      }
      rule.columns = columns;
    }
    rule.nullable = v.strings('nullable');
    rule.extraColumns = v.bool('extra_columns');
    rule.unique = v.strings('unique');
    rule.maxNullRate = v.numberMap('max_null_rate', 0, 1);
    rule.range = v.boundsMap('range');
    rule.labels = v.stringsMap('labels');
    rule.rows = v.bounds('rows', 0);
    const d = v.table('drift');
    if (d) {
      const dv = new Reader(d, (key, why) => fail(key ? `drift.${key}` : 'drift', why));
      dv.only(TABLE_DRIFT_KEYS);
      rule.drift = { maxSharePp: dv.numberMap('max_share_shift_pp', 0, 100), maxPsi: dv.numberMap('max_psi', 0), maxKs: dv.numberMap('max_ks', 0, 1), schemaChanges: dv.bool('schema_changes') };
    }
    // With `columns` declared, every column a rule names must be one of them.
    if (rule.columns) {
      const named: [string, string[]][] = [
        ['nullable', rule.nullable ?? []],
        ['unique', rule.unique ?? []],
        ['max_null_rate', Object.keys(rule.maxNullRate ?? {})],
        ['range', Object.keys(rule.range ?? {})],
        ['labels', Object.keys(rule.labels ?? {})],
        ['drift.max_share_shift_pp', Object.keys(rule.drift?.maxSharePp ?? {})],
        ['drift.max_psi', Object.keys(rule.drift?.maxPsi ?? {})],
        ['drift.max_ks', Object.keys(rule.drift?.maxKs ?? {})],
      ];
      for (const [key, cols] of named) {
        for (const c of cols) if (!(c in rule.columns)) throw fail(key, `${key} names column ${JSON.stringify(c)}, which is not among the declared columns (${Object.keys(rule.columns).join(', ')})`);
      }
    }
    return rule;
  });

  const folders: FolderRule[] = list('folder').map((t, n) => {
    const index = n + 1;
    const fail = (key: string | undefined, why: string) => bad('folder', index, key, why);
    const v = new Reader(t, fail);
    v.only(FOLDER_KEYS);
    const rule: FolderRule = { kind: 'folder', index, line: locate('folder', index).line, pattern: v.path() };
    rule.files = v.bounds('files', 0);
    rule.maxFileBytes = v.number('max_file_bytes', 0);
    rule.classes = v.strings('classes');
    rule.classFiles = v.bounds('class_files', 0);
    rule.classShare = v.bounds('class_share', 0, 1);
    const d = v.table('drift');
    if (d) {
      const dv = new Reader(d, (key, why) => fail(key ? `drift.${key}` : 'drift', why));
      dv.only(FOLDER_DRIFT_KEYS);
      rule.drift = { maxSharePp: dv.number('max_share_shift_pp', 0, 100) };
    }
    return rule;
  });

  return {
    file,
    sha256: createHash('sha256').update(text).digest('hex'),
    tables,
    folders,
    where: (rule, key) => at(rule.kind, rule.index, key),
  };
}

/** Reader reads typed values out of one section, failing with the key's position. */
class Reader {
  constructor(
    private readonly t: Table,
    private readonly fail: (key: string | undefined, why: string) => Error,
  ) {}

  only(keys: string[]): void {
    for (const k of Object.keys(this.t)) if (!keys.includes(k)) throw this.fail(k, `unknown key ${JSON.stringify(k)} (known: ${keys.join(', ')})`);
  }

  path(): string {
    const p = this.t.path;
    if (typeof p !== 'string' || p.trim() === '') throw this.fail(undefined, 'needs path = "GLOB" (a repo path; * and ? within a name, ** across directories)');
    if (p.startsWith('/') || p.split('/').some((s) => s === '..')) throw this.fail('path', `path ${JSON.stringify(p)} must be relative to the top of the workspace`);
    return p.replace(/\/+$/, '');
  }

  private num(key: string, v: unknown, min?: number, max?: number): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.fail(key, `${key} must be a number`);
    if ((min !== undefined && v < min) || (max !== undefined && v > max)) throw this.fail(key, `${key} must be between ${min ?? '-∞'} and ${max ?? '∞'} (got ${v})`);
    return v;
  }

  number(key: string, min?: number, max?: number): number | undefined {
    const v = this.t[key];
    return v === undefined ? undefined : this.num(key, v, min, max);
  }

  bool(key: string): boolean | undefined {
    const v = this.t[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw this.fail(key, `${key} must be true or false`);
    return v;
  }

  strings(key: string): string[] | undefined {
    const v = this.t[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw this.fail(key, `${key} must be a list of strings`);
    return v as string[];
  }

  table(key: string): Table | undefined {
    const v = this.t[key];
    if (v === undefined) return undefined;
    if (!isTable(v)) throw this.fail(key, `${key} must be a table`);
    return v;
  }

  private asBounds(key: string, v: unknown, min?: number, max?: number): Bounds {
    if (!Array.isArray(v) || v.length !== 2) throw this.fail(key, `${key} must be [MIN, MAX]`);
    const lo = this.num(key, v[0], min, max);
    const hi = this.num(key, v[1], min, max);
    if (lo > hi) throw this.fail(key, `${key}: MIN ${lo} is above MAX ${hi}`);
    return [lo, hi];
  }

  bounds(key: string, min?: number, max?: number): Bounds | undefined {
    const v = this.t[key];
    return v === undefined ? undefined : this.asBounds(key, v, min, max);
  }

  private map<T>(key: string, each: (k: string, v: unknown) => T): Record<string, T> | undefined {
    const v = this.table(key);
    if (!v) return undefined;
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) out[k] = each(k, x);
    return out;
  }

  stringMap(key: string): Record<string, string> | undefined {
    return this.map(key, (k, x) => {
      if (typeof x !== 'string') throw this.fail(key, `${key}.${k} must be a string`);
      return x;
    });
  }

  numberMap(key: string, min?: number, max?: number): Record<string, number> | undefined {
    return this.map(key, (_k, x) => this.num(key, x, min, max));
  }

  boundsMap(key: string): Record<string, Bounds> | undefined {
    return this.map(key, (_k, x) => this.asBounds(key, x));
  }

  stringsMap(key: string): Record<string, string[]> | undefined {
    return this.map(key, (k, x) => {
      if (!Array.isArray(x) || !x.every((s) => typeof s === 'string')) throw this.fail(key, `${key}.${k} must be a list of strings`);
      return x as string[];
    });
  }
}

/**
 * globRegExp turns a contract path into a RegExp over repo paths: `*` and
 * `?` stay within one name, `**` crosses directories.
 */
export function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*' && pattern[i + 1] === '*') {
      if (pattern[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** literalPrefix is the directory part of a pattern before its first wildcard ('' for the top). */
export function literalPrefix(pattern: string): string {
  const w = pattern.search(/[*?]/);
  if (w < 0) return pattern;
  const head = pattern.slice(0, w);
  const slash = head.lastIndexOf('/');
  return slash < 0 ? '' : head.slice(0, slash);
}
