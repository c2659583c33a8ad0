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
import { allOptions, backendFor, configKeyOf, flagOf, parseOptionValue, redactUrl, type RemoteOptions } from '../storage/registry.js';
import { LINK_TYPES, type LinkType } from '../workspace/link.js';

type Table = Record<string, unknown>;

/** Keys whose values are credentials: stored only in config.local, never printed. */
const SECRET_KEY = /secret|access_key|session_token|password/i;
const isSecretKey = (k: string) => SECRET_KEY.test(k) || SECRET_REMOTE_KEYS.has(k);

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
  /** `core.lock-wait`: seconds to wait for another lode process's lock (default 0). */
  lockWaitSeconds?: number;
}

/**
 * RemoteSettings is one configured remote without its secrets: the URL and
 * the options the backend registry defines (secret ones only as `hasCredentials`).
 */
export type RemoteSettings = {
  name: string;
  /** `s3://bucket/prefix` or an absolute directory path. */
  url: string;
  /** Whether secret options (access keys) are stored in .lode/config.local (their values are never shown). */
  hasCredentials: boolean;
  /** Set when the shared config (at this git revision) lacks the remote and lode uses the definition it remembered. */
  remembered?: boolean;
} & Omit<RemoteOptions, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>;

/** KnownRemotes is `.lode/known-remotes`: remote definitions (shared-config keys, no secrets) and the default, as last seen. */
interface KnownRemotes {
  default?: string;
  remotes: Record<string, Table>;
}

/** readKnown reads `.lode/known-remotes`; a missing or damaged file counts as empty (it only remembers). */
function readKnown(file: string): KnownRemotes {
  const text = readFileOrUndefined(file);
  if (text === undefined) return { remotes: {} };
  try {
    const v = JSON.parse(text.toString()) as KnownRemotes;
    const remotes: Record<string, Table> = {};
    if (isTable(v.remotes)) for (const [n, t] of Object.entries(v.remotes)) if (isTable(t) && typeof t.url === 'string') remotes[n] = t;
    return { ...(typeof v.default === 'string' ? { default: v.default } : {}), remotes };
  } catch {
    return { remotes: {} };
  }
}

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Secret option keys of remotes, as the registry marks them. */
const SECRET_REMOTE_KEYS = new Set(allOptions().filter((o) => o.secret).map(configKeyOf));

/** KEYS lists every key `lode config` accepts, with its type and meaning. */
export const KEYS: Record<string, { type: 'int' | 'string' | 'string[]'; help: string }> = {
  'chunking.min': { type: 'int', help: 'smallest chunk in bytes (default 262144)' },
  'chunking.avg': { type: 'int', help: 'average chunk in bytes, a power of two (default 1048576)' },
  'chunking.max': { type: 'int', help: 'largest chunk in bytes (default 4194304)' },
  'cache.type': { type: 'string[]', help: 'checkout methods in order: reflink, hardlink, copy (default reflink,copy)' },
  'user.name': { type: 'string', help: 'author name recorded in commits' },
  'user.email': { type: 'string', help: 'author email recorded in commits' },
  'core.remote': { type: 'string', help: 'the default remote (see `lode remote`)' },
  'core.lock-wait': { type: 'int', help: 'seconds a command waits for another lode process to release the repository lock (default 0; `--wait` overrides)' },
  'push.compress': { type: 'string', help: 'compress file data in the packs push, gc and erase upload, where it pays: auto (default) or off (a remote then stays readable by lodes older than remote format 3)' },
};

export class Config {
  private constructor(
    readonly file: string,
    readonly localFile: string,
    private shared: Table,
    private local: Table,
    /** `.lode/known-remotes`: every remote definition this workspace has seen (see rememberRemotes). */
    private readonly knownFile: string,
    private known: KnownRemotes,
  ) {}

  /** load reads both files; ConfigError names the file and line of a syntax error. */
  static load(lodeDir: string): Config {
    const file = path.join(lodeDir, 'config');
    const localFile = path.join(lodeDir, 'config.local');
    const knownFile = path.join(lodeDir, 'known-remotes');
    const cfg = new Config(file, localFile, parseFile(file), parseFile(localFile), knownFile, readKnown(knownFile));
    cfg.settings(); // validate early
    cfg.rememberRemotes();
    return cfg;
  }

  /** get returns a value by dotted key, local file first. */
  get(key: string): unknown {
    const v = lookup(this.local, key) ?? lookup(this.shared, key);
    if (v !== undefined && isSecretKey(key.slice(key.lastIndexOf('.') + 1))) return '(set)';
    return typeof v === 'string' ? redactUrl(v) : v;
  }

  /** entries lists every set key (dotted) with its value and the file it came from. */
  entries(): { key: string; value: unknown; scope: 'shared' | 'local' }[] {
    const out: { key: string; value: unknown; scope: 'shared' | 'local' }[] = [];
    const flat = (t: Table, prefix: string, scope: 'shared' | 'local') => {
      for (const [k, v] of Object.entries(t)) {
        const key = prefix ? `${prefix}.${k}` : k;
        if (v && typeof v === 'object' && !Array.isArray(v)) flat(v as Table, key, scope);
        // Secrets are never shown, only that they are set.
        else out.push({ key, value: isSecretKey(k) ? '(set)' : typeof v === 'string' ? redactUrl(v) : v, scope });
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

  /** setChunking stores the three chunking parameters at once (in the shared file), validated together. */
  setChunking(chunking: ChunkerParams): void {
    const before = structuredClone(this.shared);
    for (const k of ['min', 'avg', 'max'] as const) assign(this.shared, `chunking.${k}`, chunking[k]);
    try {
      this.settings();
    } catch (e) {
      this.shared = before;
      throw e;
    }
    this.save('shared');
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

  /** remotes lists the configured remotes (secrets reported only as present or not). */
  remotes(): RemoteSettings[] {
    const names = new Set([...Object.keys(tableAt(this.shared, 'remote')), ...Object.keys(tableAt(this.local, 'remote')), ...Object.keys(this.known.remotes)]);
    return [...names].sort().flatMap((n) => this.remote(n) ?? []);
  }

  /** remote returns one remote's settings (URL redacted, no secrets), or undefined. */
  remote(name: string): RemoteSettings | undefined {
    const sh = this.sharedRemote(name);
    const lo = tableAt(tableAt(this.local, 'remote'), name);
    const v = { ...sh, ...lo };
    if (typeof v.url !== 'string') return undefined;
    const out: Record<string, unknown> = { name, url: redactUrl(v.url) };
    if (typeof tableAt(tableAt(this.shared, 'remote'), name).url !== 'string' && name in this.known.remotes) out.remembered = true;
    let hasCredentials = false;
    for (const o of allOptions()) {
      const raw = v[configKeyOf(o)];
      if (raw === undefined) continue;
      if (o.secret) {
        hasCredentials ||= configKeyOf(o) in lo;
        continue;
      }
      // Listing stays lenient (a value opening would refuse is still shown); remoteOptions is strict.
      out[o.name] = typeof raw === 'string' && o.type === 'string' ? redactUrl(raw) : raw;
    }
    return { ...out, hasCredentials } as RemoteSettings;
  }

  /**
   * remoteOptions returns what opening remote `name` needs: its URL and every
   * option, secrets included (from config.local only). ConfigError names a
   * key whose value is invalid.
   */
  remoteOptions(name: string): { url: string; options: RemoteOptions } | undefined {
    const sh = this.sharedRemote(name);
    const lo = tableAt(tableAt(this.local, 'remote'), name);
    const v = { ...sh, ...lo };
    if (typeof v.url !== 'string') return undefined;
    const options: Record<string, unknown> = {};
    for (const o of allOptions()) {
      const key = configKeyOf(o);
      if (o.secret && key in sh) {
        // Never use (or keep quiet about) a secret in a file git may track.
        throw new ConfigError(`remote.${name}.${key} is in ${this.file}, which may be shared or tracked by git`, {
          hint: `move it to ${this.localFile} (or remove it and run \`lode remote modify ${name} --${flagOf(o)} …\`), and revoke the key if it was ever committed`,
        });
      }
      const raw = o.secret ? lo[key] : v[key];
      if (raw === undefined) continue;
      try {
        options[o.name] = parseOptionValue(o, raw);
      } catch (e) {
        throw this.bad(`remote.${name}.${key}`, (e as Error).message.replace(/^--\S+ /, ''));
      }
    }
    return { url: v.url, options: options as RemoteOptions };
  }

  /**
   * setRemote writes a remote's URL and options: secret options only to
   * config.local (mode 0600, never tracked), everything else to the shared
   * file. Undefined values are left as they are.
   */
  setRemote(name: string, url: string | undefined, options: RemoteOptions): void {
    const sh = ensureTable(ensureTable(this.shared, 'remote'), name);
    if (url !== undefined) {
      backendFor(url); // only URLs a backend claims
      sh.url = url;
    }
    let secrets = false;
    for (const o of allOptions()) {
      const value = options[o.name];
      if (value === undefined) continue;
      if (o.secret) {
        ensureTable(ensureTable(this.local, 'remote'), name)[configKeyOf(o)] = value;
        secrets = true;
      } else sh[configKeyOf(o)] = value;
    }
    this.save('shared');
    if (secrets) this.save('local');
    this.rememberRemotes();
  }

  /** removeRemote deletes a remote from both files (and the default if it was). */
  removeRemote(name: string): void {
    delete tableAt(this.shared, 'remote')[name];
    delete tableAt(this.local, 'remote')[name];
    if (this.get('core.remote') === name) {
      delete tableAt(this.shared, 'core').remote;
      delete tableAt(this.local, 'core').remote;
    }
    this.save('shared');
    this.save('local');
    delete this.known.remotes[name];
    if (this.known.default === name) delete this.known.default;
    this.saveKnown();
  }

  /** renameRemote moves a remote's settings (and the default) to a new name. */
  renameRemote(from: string, to: string): void {
    for (const t of [this.shared, this.local]) {
      const rs = tableAt(t, 'remote');
      if (from in rs) {
        ensureTable(t, 'remote')[to] = rs[from];
        delete ensureTable(t, 'remote')[from];
      }
      if (tableAt(t, 'core').remote === from) ensureTable(t, 'core').remote = to;
    }
    this.save('shared');
    this.save('local');
    if (from in this.known.remotes) {
      this.known.remotes[to] = this.known.remotes[from];
      delete this.known.remotes[from];
    }
    if (this.known.default === from) this.known.default = to;
    this.saveKnown();
    this.rememberRemotes();
  }

  /**
   * defaultRemote is `core.remote`, or the only remote when there is one, or
   * (at a git revision whose config predates the remotes) the default this
   * workspace last saw.
   */
  defaultRemote(): string | undefined {
    const d = this.get('core.remote');
    if (typeof d === 'string') return d;
    const all = this.remotes();
    if (all.length === 1) return all[0].name;
    const k = this.known.default;
    return k !== undefined && all.some((r) => r.name === k) ? k : undefined;
  }

  setDefaultRemote(name: string): void {
    ensureTable(this.shared, 'core').remote = name;
    this.save('shared');
    this.rememberRemotes();
  }

  /**
   * sharedRemote is remote `name`'s table of the shared config, or, when the
   * shared config (tracked by git, so perhaps from a revision older than the
   * remote) lacks it, the definition remembered in `.lode/known-remotes`.
   */
  private sharedRemote(name: string): Table {
    const sh = tableAt(tableAt(this.shared, 'remote'), name);
    if (typeof sh.url === 'string') return sh;
    return this.known.remotes[name] ?? sh;
  }

  /**
   * rememberRemotes records every remote of the shared config (URL and
   * options, never a secret) and the default in `.lode/known-remotes`, which
   * git never tracks: `git checkout` of a revision made before a remote was
   * added leaves that remote usable. Written only when something changed; a
   * workspace that cannot be written to (read-only) just does not remember.
   */
  rememberRemotes(): void {
    const next: KnownRemotes = { remotes: { ...this.known.remotes }, ...(this.known.default ? { default: this.known.default } : {}) };
    for (const [name, t] of Object.entries(tableAt(this.shared, 'remote'))) {
      if (!isTable(t) || typeof t.url !== 'string') continue;
      const kept: Table = {};
      for (const [k, v] of Object.entries(t)) if (!isSecretKey(k)) kept[k] = v;
      next.remotes[name] = kept;
    }
    const d = this.get('core.remote');
    if (typeof d === 'string' && d in next.remotes) next.default = d;
    else if (next.default === undefined && Object.keys(next.remotes).length === 1) next.default = Object.keys(next.remotes)[0];
    if (JSON.stringify(next) === JSON.stringify(this.known)) return;
    this.known = next;
    this.saveKnown();
  }

  private saveKnown(): void {
    try {
      writeFileAtomic(this.knownFile, JSON.stringify(this.known, null, 2) + '\n');
    } catch {
      // remembering is a convenience: a read-only workspace still works with what its config says
    }
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
    const wait = this.get('core.lock-wait');
    if (wait !== undefined && (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 0)) throw this.bad('core.lock-wait', 'must be a whole number of seconds');
    this.compressPacks(); // validated here like every key; read where remotes are opened
    return { chunking, cacheTypes, userName: str('user.name'), userEmail: str('user.email'), ...(wait !== undefined ? { lockWaitSeconds: wait as number } : {}) };
  }

  /** compressPacks reads `push.compress`: whether uploaded packs compress file data where it pays (default yes). */
  compressPacks(): boolean {
    const v = this.get('push.compress');
    if (v === undefined || v === 'auto') return true;
    if (v === 'off') return false;
    throw this.bad('push.compress', 'must be auto or off');
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

function tableAt(t: Table, key: string): Table {
  const v = t[key];
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Table) : {};
}

function ensureTable(t: Table, key: string): Table {
  const v = t[key];
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Table;
  const fresh: Table = {};
  t[key] = fresh;
  return fresh;
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
