/**
 * The backend registry: the one place a kind of remote is described. An
 * entry names its scheme, recognises and normalises its URLs, lists its
 * options (type, help, and whether the value is a secret) and opens a
 * Backend. `lode remote add` flags, `[remote.NAME]` config keys and their
 * validation all come from here (the models: restic's location registry,
 * kopia's blob registry).
 *
 * Option names are camelCase (the library's and `--json`'s name); the CLI
 * flag is the kebab-case form (`pathStyle` -> `--path-style`) and the config
 * key the snake_case form (`path_style`). Secret options are written only to
 * `.lode/config.local` and never shown.
 *
 * `openBackend` wraps every backend it opens in RetryBackend.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RemoteError, UsageError } from '../core/errors.js';
import { DEFAULT_RETRY_MAX_TIME_MS, type Backend } from './backend.js';
import type { RetryOptions } from './retry.js';
import { checkEndpoint, parseS3Url } from './s3-url.js';

/** RemoteOptions are every backend's settings, typed. Secrets: accessKeyId, secretAccessKey, sessionToken. */
export interface RemoteOptions {
  endpoint?: string;
  region?: string;
  profile?: string;
  pathStyle?: boolean;
  checksumMode?: 'when-required' | 'when-supported';
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Seconds a remote operation keeps retrying before it gives up. */
  retryMaxTime?: number;
}

export type RemoteOptionName = keyof RemoteOptions;

export interface BackendOption {
  name: RemoteOptionName;
  type: 'string' | 'boolean' | 'seconds' | 'enum';
  values?: readonly string[];
  /** Written only to .lode/config.local, never printed. */
  secret?: boolean;
  /** Shown by `--help`; the placeholder is the word in angle brackets. */
  help: string;
  placeholder?: string;
  /** Further checks of a typed value; throws UsageError. */
  check?(value: never): void;
}

export interface OpenContext {
  /** Create what the URL names if it does not exist yet (a directory remote on first push). */
  create?: boolean;
  /** Overrides of the retry wrapper (tests). */
  retry?: Omit<RetryOptions, 'maxTimeMs'>;
}

export interface BackendEntry {
  /** `s3` or `dir`. */
  scheme: string;
  /** How messages name this kind of remote. */
  label: string;
  /** claims says whether `url` is this backend's (after credentials were refused). */
  claims(url: string): boolean;
  /** parseUrl validates `url` and returns its normal form; UsageError when invalid. */
  parseUrl(url: string, cwd: string): string;
  options: readonly BackendOption[];
  /** checkOptions checks options that only make sense together. */
  checkOptions?(options: RemoteOptions): void;
  /** open builds the backend (sending as few requests as it can). */
  open(url: string, options: RemoteOptions, context: OpenContext): Promise<Backend>;
}

/** Options of every remote, whatever stores it: the retry wrapper's. */
export const COMMON_OPTIONS: readonly BackendOption[] = [
  {
    name: 'retryMaxTime',
    type: 'seconds',
    placeholder: 'seconds',
    help: `how long a failing remote operation is retried before lode gives up (default ${DEFAULT_RETRY_MAX_TIME_MS / 1000})`,
  },
];

const s3: BackendEntry = {
  scheme: 's3',
  label: 'S3',
  claims: (url) => /^s3:\/\//i.test(url),
  parseUrl(url) {
    const { bucket, prefix } = parseS3Url(url);
    return prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix}`;
  },
  options: [
    { name: 'endpoint', type: 'string', placeholder: 'url', help: 'S3-compatible endpoint (MinIO, Ceph, R2, ...); default AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, then AWS', check: (v: string) => void checkEndpoint(v) },
    { name: 'region', type: 'string', placeholder: 'name', help: 'S3 region (default AWS_REGION, then us-east-1)' },
    { name: 'profile', type: 'string', placeholder: 'name', help: 'AWS profile for credentials and settings (default AWS_PROFILE)' },
    { name: 'pathStyle', type: 'boolean', help: 'path-style bucket addressing (most S3-compatible stores)' },
    { name: 'checksumMode', type: 'enum', values: ['when-required', 'when-supported'], placeholder: 'mode', help: 'when-required (default, safe for S3-compatible stores) or when-supported' },
    { name: 'accessKeyId', type: 'string', secret: true, placeholder: 'id', help: 'access key id, stored in .lode/config.local only (or use AWS_ACCESS_KEY_ID)' },
    { name: 'secretAccessKey', type: 'string', secret: true, placeholder: 'key', help: 'secret access key, stored in .lode/config.local only (or use AWS_SECRET_ACCESS_KEY)' },
    { name: 'sessionToken', type: 'string', secret: true, placeholder: 'token', help: 'session token of temporary credentials, stored in .lode/config.local only' },
  ],
  checkOptions(o) {
    if ((o.accessKeyId === undefined) !== (o.secretAccessKey === undefined)) {
      throw new UsageError('give both --access-key-id and --secret-access-key, or neither', { hint: 'or leave both out: lode then uses AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile' });
    }
    if (o.sessionToken !== undefined && o.accessKeyId === undefined) {
      throw new UsageError('--session-token needs --access-key-id and --secret-access-key', { hint: 'temporary credentials come as all three' });
    }
  },
  async open(url, o) {
    // Loaded only here: s3.ts loads the SDK lazily too, but is itself sizeable.
    const { openS3Backend } = await import('./s3.js');
    return openS3Backend({
      url,
      endpoint: o.endpoint,
      region: o.region,
      profile: o.profile,
      forcePathStyle: o.pathStyle,
      checksumMode: o.checksumMode,
      credentials: o.accessKeyId !== undefined && o.secretAccessKey !== undefined ? { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey, sessionToken: o.sessionToken } : undefined,
      // The retry wrapper is the one retry layer: it knows the time budget and re-issues body reads too.
      maxAttempts: 1,
    });
  },
};

const dir: BackendEntry = {
  scheme: 'dir',
  label: 'directory',
  claims: (url) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^file:\/\//i.test(url),
  parseUrl(url, cwd) {
    const p = /^file:\/\//i.test(url) ? decodeURIComponent(url.slice(7)) : url;
    if (p === '') throw new UsageError('empty remote URL', { hint: 'use s3://bucket/prefix or a directory path' });
    return path.resolve(cwd, p);
  },
  options: [],
  async open(url, _o, context) {
    if (!fs.existsSync(url)) {
      if (!context.create) throw new RemoteError(`the directory ${url} does not exist`, false, { hint: 'check that it is mounted, or push to it first' });
      fs.mkdirSync(url, { recursive: true });
    }
    // Backends load when a remote is opened, not with every command that reads the config.
    const { DirBackend } = await import('./dir.js');
    return new DirBackend(url);
  },
};

/** BACKENDS lists every registered backend, in the order URLs are tried. */
export const BACKENDS: readonly BackendEntry[] = [s3, dir];

/** flagOf is an option's CLI flag without dashes: pathStyle -> path-style. */
export function flagOf(o: BackendOption): string {
  return o.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** configKeyOf is an option's key in a `[remote.NAME]` table: pathStyle -> path_style. */
export function configKeyOf(o: BackendOption): string {
  return o.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** allOptions lists every option of every backend, each once. */
export function allOptions(): BackendOption[] {
  const out = new Map<string, BackendOption>();
  for (const o of [...COMMON_OPTIONS, ...BACKENDS.flatMap((b) => b.options)]) if (!out.has(o.name)) out.set(o.name, o);
  return [...out.values()];
}

/** redactUrl replaces the credentials part of a URL (`scheme://user:pass@`) wherever one appears in `text`. */
export function redactUrl(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@'"]*@/gi, '$1***@');
}

/** hasCredentials says whether `url` carries user information (`scheme://user:pass@host`). */
function hasCredentials(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url);
}

/** backendFor returns the entry for a (normalised or raw) URL. */
export function backendFor(url: string): BackendEntry {
  const entry = BACKENDS.find((b) => b.claims(url));
  if (!entry) {
    throw new UsageError(`unsupported remote URL ${JSON.stringify(redactUrl(url))}`, { hint: `use s3://bucket/prefix or a directory path (known: ${BACKENDS.map((b) => b.scheme).join(', ')})` });
  }
  return entry;
}

/**
 * normaliseRemoteUrl validates a remote URL and returns its normal form:
 * `s3://bucket/prefix` without trailing slashes, or an absolute directory.
 * Credentials inside a URL are refused (they would land in the tracked
 * .lode/config) without echoing the URL.
 */
export function normaliseRemoteUrl(url: string, cwd = process.cwd()): string {
  if (hasCredentials(url)) {
    throw new UsageError('credentials do not belong in a remote URL', {
      hint: 'remove the "user:secret@" part; give keys with --access-key-id and --secret-access-key (kept in .lode/config.local), AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or --profile',
    });
  }
  return backendFor(url).parseUrl(url, cwd);
}

/**
 * parseOptionValue turns an option given as text (a CLI flag, a config
 * value) or already typed (the library) into its typed value; UsageError
 * names the flag when it is invalid.
 */
export function parseOptionValue(o: BackendOption, raw: unknown): unknown {
  const bad = (why: string) => new UsageError(`--${flagOf(o)} ${why}`, { hint: o.help });
  let v: unknown = raw;
  switch (o.type) {
    case 'boolean':
      if (raw === 'true') v = true;
      else if (raw === 'false') v = false;
      if (typeof v !== 'boolean') throw bad('must be true or false');
      break;
    case 'seconds':
      if (typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw)) v = Number(raw);
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw bad(`must be a positive number of seconds, not ${JSON.stringify(o.secret ? '***' : raw)}`);
      break;
    case 'enum':
      if (typeof v !== 'string' || !o.values!.includes(v)) throw bad(`must be one of ${o.values!.join(', ')}`);
      break;
    default:
      if (typeof v !== 'string' || v === '') throw bad('must be a non-empty string');
  }
  o.check?.(v as never);
  return v;
}

/**
 * checkRemoteOptions validates `options` for a remote at `url` (normalised):
 * each must belong to that backend (or to every remote) and have the right
 * type. Returns the typed options that are set.
 */
export function checkRemoteOptions(url: string, options: Partial<Record<RemoteOptionName, unknown>>): RemoteOptions {
  const entry = backendFor(url);
  const known = new Map([...COMMON_OPTIONS, ...entry.options].map((o) => [o.name, o]));
  const out: Record<string, unknown> = {};
  for (const o of allOptions()) {
    const raw = options[o.name];
    if (raw === undefined) continue;
    if (!known.has(o.name)) {
      const valid = [...known.values()].map((k) => `--${flagOf(k)}`).join(', ');
      throw new UsageError(`--${flagOf(o)} does not apply to a ${entry.label} remote`, { hint: `a ${entry.label} remote takes ${valid}` });
    }
    out[o.name] = parseOptionValue(o, raw);
  }
  entry.checkOptions?.(out as RemoteOptions);
  return out as RemoteOptions;
}

/**
 * openBackend opens the backend a normalised remote URL names, wrapped in
 * RetryBackend (budget: the `retryMaxTime` option, in seconds).
 */
export async function openBackend(url: string, options: RemoteOptions, context: OpenContext = {}): Promise<Backend> {
  const entry = backendFor(url);
  let inner = await entry.open(entry.parseUrl(url, process.cwd()), options, context);
  if (testHook) inner = testHook.wrap(inner);
  const maxTimeMs = testHook?.retry?.maxTimeMs ?? (options.retryMaxTime === undefined ? DEFAULT_RETRY_MAX_TIME_MS : options.retryMaxTime * 1000);
  const { RetryBackend } = await import('./retry.js');
  return new RetryBackend(inner, { ...context.retry, ...testHook?.retry, maxTimeMs });
}

let testHook: { wrap: (inner: Backend) => Backend; retry?: RetryOptions } | undefined;

/**
 * setBackendTestHook makes `openBackend` wrap every backend it opens with
 * `wrap` (under the retry layer), with `retry` overriding its timing: how
 * fault suites and torture runs put a FaultyBackend under the real commands.
 * Not for production use; call it with no argument to remove the hook.
 */
export function setBackendTestHook(hook?: { wrap: (inner: Backend) => Backend; retry?: RetryOptions }): void {
  testHook = hook;
}
