/**
 * remoteFsck runs `fsck --remote`: verify a configured remote (see
 * sync/check.ts for what is checked). Reads the remote only; the local
 * repository supplies the remote's settings and is not locked or changed.
 */
import type { ProgressSink } from '../core/progress.js';
import { checkRemote, parseSubset, type RemoteCheckResult } from '../sync/check.js';
import type { Repository } from '../repo/repository.js';
import { openRemote } from '../sync/open.js';

export interface RemoteFsckOptions {
  /** Remote name (default: the default remote). */
  remote?: string;
  /** Read and hash every object. */
  readData?: boolean;
  /** Read only packs in subset "n/m" (implies readData). */
  readDataSubset?: string;
  progress?: ProgressSink;
}

export type RemoteFsckResult = RemoteCheckResult & { remote: string };

export async function remoteFsck(repo: Repository, o: RemoteFsckOptions = {}): Promise<RemoteFsckResult> {
  const subset = o.readDataSubset === undefined ? undefined : parseSubset(o.readDataSubset);
  const r = await openRemote(repo, o.remote);
  try {
    const checked = await checkRemote({ backend: r.store.backend, readData: o.readData || subset !== undefined, subset, progress: o.progress });
    return { remote: r.name, ...checked };
  } finally {
    await r.store.backend.close?.();
  }
}
