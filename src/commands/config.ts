import { UsageError } from '../core/errors.js';
import { KEYS } from '../repo/config.js';
import type { Repository } from '../repo/repository.js';

export interface ConfigOptions {
  key?: string;
  value?: string;
  unset?: boolean;
  list?: boolean;
  /** Write to .lode/config.local (never tracked) instead of .lode/config. */
  local?: boolean;
}

export type ConfigResult =
  | { action: 'list'; entries: { key: string; value: unknown; scope: 'shared' | 'local' }[]; known: Record<string, string> }
  | { action: 'get'; key: string; value: unknown }
  | { action: 'set'; key: string; value: unknown; scope: 'shared' | 'local' }
  | { action: 'unset'; key: string; removed: boolean };

/** config reads or changes settings; values are validated before anything is written. */
export async function config(repo: Repository, options: ConfigOptions): Promise<ConfigResult> {
  const scope = options.local ? 'local' : 'shared';
  if (options.list || !options.key) {
    const known = Object.fromEntries(Object.entries(KEYS).map(([k, v]) => [k, v.help]));
    return { action: 'list', entries: repo.config.entries(), known };
  }
  const key = options.key;
  if (options.unset) return repo.withLock('config', async () => ({ action: 'unset', key, removed: repo.config.unset(key, scope) }));
  if (options.value === undefined) {
    if (!(key in KEYS) && repo.config.get(key) === undefined) throw new UsageError(`config key ${key} is not set`, { hint: `known keys: ${Object.keys(KEYS).join(', ')}` });
    return { action: 'get', key, value: repo.config.get(key) };
  }
  return repo.withLock('config', async () => ({ action: 'set', key, value: repo.config.set(key, options.value!, scope), scope }));
}
