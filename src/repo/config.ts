/**
 * Repository configuration: `.lode/config` (TOML, may be shared) overlaid by
 * `.lode/config.local` (TOML, never tracked: credentials live here). Known
 * keys are validated when read, so a typo fails early with the file and key
 * named rather than half-way through a command.
 */
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { DEFAULT_CHUNKING, validateChunkerParams, type ChunkerParams } from '../core/chunker.js';
import { ConfigError } from '../core/errors.js';
import { readFileOrUndefined, writeFileAtomic } from '../storage/atomic.js';
import { LINK_TYPES, type LinkType } from '../workspace/link.js';

type Table = Record<string, unknown>;

// smol-toml is loaded only when a config file has settings in it: most runs
// (and every `lode status` in a fresh workspace) then skip its import cost.
type Toml = typeof import('smol-toml');
let toml: Toml | undefined;
const loadToml = (): Toml => (toml ??= createRequire(import.meta.url)('smol-toml') as Toml);

/** Settings is the validated view of the configuration lode runs with. */
export interface Settings {
  chunking: ChunkerParams;
  /** Checkout methods in order of preference. */
  cacheTypes: LinkType[];
  userName?: string;
  userEmail?: string;
}

/** KEYS lists every key `lode config` accepts, with its type and meaning. */
export const KEYS: Record<string, { type: 'int' | 'string' | 'string[]'; help: string }> = {
  'chunking.min': { type: 'int', help: 'smallest chunk in bytes (default 262144)' },
  'chunking.avg': { type: 'int', help: 'average chunk in bytes, a power of two (default 1048576)' },
  'chunking.max': { type: 'int', help: 'largest chunk in bytes (default 4194304)' },
  'cache.type': { type: 'string[]', help: 'checkout methods in order: reflink, hardlink, copy (default reflink,copy)' },
  'user.name': { type: 'string', help: 'author name recorded in commits' },
  'user.email': { type: 'string', help: 'author email recorded in commits' },
};

export class Config {
  private constructor(
    readonly file: string,
    readonly localFile: string,
    private shared: Table,
    private local: Table,
  ) {}

  /** load reads both files; ConfigError names the file and line of a syntax error. */
  static load(lodeDir: string): Config {
    const file = path.join(lodeDir, 'config');
    const localFile = path.join(lodeDir, 'config.local');
    const cfg = new Config(file, localFile, parseFile(file), parseFile(localFile));
    cfg.settings(); // validate early
    return cfg;
  }

  /** get returns a value by dotted key, local file first. */
  get(key: string): unknown {
    return lookup(this.local, key) ?? lookup(this.shared, key);
  }

  /** entries lists every set key (dotted) with its value and the file it came from. */
  entries(): { key: string; value: unknown; scope: 'shared' | 'local' }[] {
    const out: { key: string; value: unknown; scope: 'shared' | 'local' }[] = [];
    const flat = (t: Table, prefix: string, scope: 'shared' | 'local') => {
      for (const [k, v] of Object.entries(t)) {
        const key = prefix ? `${prefix}.${k}` : k;
        if (v && typeof v === 'object' && !Array.isArray(v)) flat(v as Table, key, scope);
        else out.push({ key, value: v, scope });
      }
    };
    flat(this.shared, '', 'shared');
    flat(this.local, '', 'local');
    return out;
  }

  /** set validates and stores a value given as text, writing the file atomically. */
  set(key: string, raw: string, scope: 'shared' | 'local' = 'shared'): unknown {
    const spec = KEYS[key];
    if (!spec) throw new ConfigError(`unknown config key ${key}`, { hint: `known keys: ${Object.keys(KEYS).join(', ')}` });
    let value: unknown;
    if (spec.type === 'int') {
      if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${key} must be a whole number, not ${JSON.stringify(raw)}`, { hint: `${KEYS[key].help}` });
      value = Number(raw.trim());
    } else if (spec.type === 'string[]') {
      value = raw.split(',').map((s) => s.trim()).filter(Boolean);
    } else value = raw;
    const target = scope === 'local' ? this.local : this.shared;
    const before = structuredClone(target);
    assign(target, key, value);
    try {
      this.settings();
    } catch (e) {
      if (scope === 'local') this.local = before;
      else this.shared = before;
      throw e;
    }
    this.save(scope);
    return value;
  }

  /** unset removes a key; returns whether it was set. */
  unset(key: string, scope: 'shared' | 'local' = 'shared'): boolean {
    const target = scope === 'local' ? this.local : this.shared;
    const parts = key.split('.');
    let t: Table | undefined = target;
    for (const p of parts.slice(0, -1)) t = t?.[p] as Table | undefined;
    const last = parts[parts.length - 1];
    if (!t || !(last in t)) return false;
    delete t[last];
    this.save(scope);
    return true;
  }

  private save(scope: 'shared' | 'local'): void {
    const file = scope === 'local' ? this.localFile : this.file;
    writeFileAtomic(file, loadToml().stringify(scope === 'local' ? this.local : this.shared) + '\n', { durable: true, mode: scope === 'local' ? 0o600 : 0o644 });
  }

  /** settings validates and returns the effective settings. */
  settings(): Settings {
    const chunking = { ...DEFAULT_CHUNKING };
    for (const k of ['min', 'avg', 'max'] as const) {
      const v = this.get(`chunking.${k}`);
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isInteger(v)) throw this.bad(`chunking.${k}`, 'must be a whole number of bytes');
      chunking[k] = v;
    }
    try {
      validateChunkerParams(chunking);
    } catch (e) {
      throw this.bad('chunking', (e as Error).message);
    }
    let cacheTypes: LinkType[] = ['reflink', 'copy'];
    const ct = this.get('cache.type');
    if (ct !== undefined) {
      const list = typeof ct === 'string' ? ct.split(',').map((s) => s.trim()) : ct;
      if (!Array.isArray(list) || list.length === 0 || !list.every((x) => (LINK_TYPES as readonly string[]).includes(String(x)))) {
        throw this.bad('cache.type', 'must be a list of reflink, hardlink, copy');
      }
      cacheTypes = list as LinkType[];
    }
    const str = (key: string) => {
      const v = this.get(key);
      if (v !== undefined && typeof v !== 'string') throw this.bad(key, 'must be a string');
      return v as string | undefined;
    };
    return { chunking, cacheTypes, userName: str('user.name'), userEmail: str('user.email') };
  }

  private bad(key: string, why: string): ConfigError {
    return new ConfigError(`invalid config ${key}: ${why} (in ${this.file} or ${this.localFile})`, {
      hint: `fix it with \`lode config ${key} VALUE\`, \`lode config --unset ${key}\`, or by editing the file`,
    });
  }
}

function parseFile(file: string): Table {
  const text = readFileOrUndefined(file)?.toString('utf8');
  if (text === undefined) return {};
  // Blank lines and comments only: nothing to parse.
  if (/^(\s*(#[^\n]*)?\n?)*$/.test(text)) return {};
  const { parse, TomlError } = loadToml();
  try {
    return parse(text) as Table;
  } catch (e) {
    const where = e instanceof TomlError ? ` at line ${e.line}, column ${e.column}` : '';
    const first = (e as Error).message.split('\n')[0];
    throw new ConfigError(`cannot parse ${file}${where}: ${first}`, {
      hint: 'fix the TOML syntax (or move the file aside to start from defaults)',
      cause: e,
    });
  }
}

function lookup(t: Table, key: string): unknown {
  let cur: unknown = t;
  for (const p of key.split('.')) {
    if (!cur || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Table)[p];
  }
  return cur;
}

function assign(t: Table, key: string, value: unknown): void {
  const parts = key.split('.');
  let cur = t;
  for (const p of parts.slice(0, -1)) {
    if (!cur[p] || typeof cur[p] !== 'object') cur[p] = {};
    cur = cur[p] as Table;
  }
  cur[parts[parts.length - 1]] = value;
}
