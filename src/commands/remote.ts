import { NotFoundError, RefConflictError, UsageError } from '../core/errors.js';
import { validateRefName } from '../graph/refs.js';
import type { RemoteSettings } from '../repo/config.js';
import { allOptions, checkRemoteOptions, normaliseRemoteUrl, type RemoteOptions } from '../storage/registry.js';
import type { Repository } from '../repo/repository.js';

export interface RemoteListResult {
  remotes: RemoteSettings[];
  default: string | null;
}

export type RemoteAddOptions = {
  name: string;
  /** `s3://bucket/prefix`, or a directory (absolute, or relative to `cwd`). */
  url: string;
  cwd?: string;
  makeDefault?: boolean;
} & RemoteOptions;

/** normaliseRemoteUrl keeps s3:// URLs and makes directory paths absolute (see storage/registry.ts). */
export { normaliseRemoteUrl };

function checkName(name: string): void {
  validateRefName(name, 'remote');
  if (name.includes('/')) throw new UsageError(`invalid remote name ${JSON.stringify(name)}: it may not contain "/"`);
}

/** optionsOf picks the registry's options out of `o` and checks them for a remote at `url`. */
function optionsOf(url: string, o: Partial<RemoteAddOptions>): RemoteOptions {
  const picked: Record<string, unknown> = {};
  for (const opt of allOptions()) if (o[opt.name] !== undefined) picked[opt.name] = o[opt.name];
  return checkRemoteOptions(url, picked);
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
    repo.config.setRemote(o.name, url, optionsOf(url, o));
    if (o.makeDefault || first) repo.config.setDefaultRemote(o.name);
    return repo.config.remote(o.name)!;
  });
}

/** modifyRemote changes some settings of a remote. */
export async function modifyRemote(repo: Repository, o: Partial<RemoteAddOptions> & { name: string }): Promise<RemoteSettings> {
  return repo.withLock('remote', async () => {
    const current = repo.config.remoteOptions(o.name);
    if (!current) throw new NotFoundError(`no remote named ${o.name}`, { hint: '`lode remote list` shows the remotes' });
    const url = o.url !== undefined ? normaliseRemoteUrl(o.url, o.cwd) : undefined;
    repo.config.setRemote(o.name, url, optionsOf(url ?? current.url, o));
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
