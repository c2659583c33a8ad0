import * as path from 'node:path';
import { NotFoundError, RefConflictError, UsageError } from '../core/errors.js';
import { validateRefName } from '../graph/refs.js';
import type { RemoteSettings } from '../repo/config.js';
import type { Repository } from '../repo/repository.js';

export interface RemoteListResult {
  remotes: RemoteSettings[];
  default: string | null;
}

export interface RemoteAddOptions {
  name: string;
  /** `s3://bucket/prefix`, or a directory (absolute, or relative to `cwd`). */
  url: string;
  cwd?: string;
  endpoint?: string;
  region?: string;
  profile?: string;
  pathStyle?: boolean;
  checksumMode?: string;
  /** Stored in .lode/config.local only. */
  accessKeyId?: string;
  secretAccessKey?: string;
  makeDefault?: boolean;
}

/** normaliseRemoteUrl keeps s3:// URLs and makes directory paths absolute. */
export function normaliseRemoteUrl(url: string, cwd = process.cwd()): string {
  if (url.startsWith('s3://')) {
    const rest = url.slice(5);
    const bucket = rest.split('/')[0];
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new UsageError(`invalid bucket name in ${url}`, { hint: 'use s3://BUCKET/optional/prefix (bucket names: 3-63 lowercase letters, digits, "." and "-")' });
    }
    return url.replace(/\/+$/, '');
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file://')) {
    throw new UsageError(`unsupported remote URL ${url}`, { hint: 'use s3://bucket/prefix or a directory path' });
  }
  return path.resolve(cwd, url.startsWith('file://') ? url.slice(7) : url);
}

function checkName(name: string): void {
  validateRefName(name, 'remote');
  if (name.includes('/')) throw new UsageError(`invalid remote name ${JSON.stringify(name)}: it may not contain "/"`);
}

const CHECKSUM_MODES = ['when-required', 'when-supported'];

function settingsOf(o: Omit<RemoteAddOptions, 'name' | 'url'>): Record<string, string | boolean | undefined> {
  if (o.checksumMode !== undefined && !CHECKSUM_MODES.includes(o.checksumMode)) {
    throw new UsageError(`--checksum-mode must be one of ${CHECKSUM_MODES.join(', ')}`);
  }
  return { endpoint: o.endpoint, region: o.region, profile: o.profile, path_style: o.pathStyle, checksum_mode: o.checksumMode };
}

function secretsOf(o: { accessKeyId?: string; secretAccessKey?: string }) {
  if ((o.accessKeyId === undefined) !== (o.secretAccessKey === undefined)) {
    throw new UsageError('give both --access-key-id and --secret-access-key, or neither');
  }
  return o.accessKeyId !== undefined ? { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey! } : undefined;
}

/** listRemotes returns every remote; credentials appear only as `hasCredentials`. */
export async function listRemotes(repo: Repository): Promise<RemoteListResult> {
  return { remotes: repo.config.remotes(), default: repo.config.defaultRemote() ?? null };
}

/** addRemote configures a new remote; the first one becomes the default. */
export async function addRemote(repo: Repository, o: RemoteAddOptions): Promise<RemoteSettings> {
  checkName(o.name);
  return repo.withLock('remote', async () => {
    if (repo.config.remote(o.name)) throw new RefConflictError(`remote ${o.name} already exists`, { hint: `change it with \`lode remote modify ${o.name} …\` or remove it first` });
    const url = normaliseRemoteUrl(o.url, o.cwd);
    const first = repo.config.remotes().length === 0;
    repo.config.setRemote(o.name, { url, ...settingsOf(o) }, secretsOf(o));
    if (o.makeDefault || first) repo.config.setDefaultRemote(o.name);
    return repo.config.remote(o.name)!;
  });
}

/** modifyRemote changes some settings of a remote. */
export async function modifyRemote(repo: Repository, o: Partial<RemoteAddOptions> & { name: string }): Promise<RemoteSettings> {
  return repo.withLock('remote', async () => {
    if (!repo.config.remote(o.name)) throw new NotFoundError(`no remote named ${o.name}`, { hint: '`lode remote list` shows the remotes' });
    const url = o.url !== undefined ? normaliseRemoteUrl(o.url, o.cwd) : undefined;
    repo.config.setRemote(o.name, { url, ...settingsOf(o) }, secretsOf(o));
    if (o.makeDefault) repo.config.setDefaultRemote(o.name);
    return repo.config.remote(o.name)!;
  });
}

export async function removeRemote(repo: Repository, o: { name: string }): Promise<{ name: string }> {
  return repo.withLock('remote', async () => {
    if (!repo.config.remote(o.name)) throw new NotFoundError(`no remote named ${o.name}`, { hint: '`lode remote list` shows the remotes' });
    repo.config.removeRemote(o.name);
    return { name: o.name };
  });
}

export async function renameRemote(repo: Repository, o: { from: string; to: string }): Promise<RemoteSettings> {
  checkName(o.to);
  return repo.withLock('remote', async () => {
    if (!repo.config.remote(o.from)) throw new NotFoundError(`no remote named ${o.from}`, { hint: '`lode remote list` shows the remotes' });
    if (repo.config.remote(o.to)) throw new RefConflictError(`remote ${o.to} already exists`);
    repo.config.renameRemote(o.from, o.to);
    return repo.config.remote(o.to)!;
  });
}

export async function setDefaultRemote(repo: Repository, o: { name: string }): Promise<RemoteListResult> {
  return repo.withLock('remote', async () => {
    if (!repo.config.remote(o.name)) throw new NotFoundError(`no remote named ${o.name}`, { hint: '`lode remote list` shows the remotes' });
    repo.config.setDefaultRemote(o.name);
    return listRemotes(repo);
  });
}
