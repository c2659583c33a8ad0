// Types for xfs.js (plain ESM JavaScript shared with bench/).

/** mkfs.xfs (xfsprogs >= 5.19) refuses filesystems smaller than 300 MiB. */
export const MIN_SIZE_MIB: number;

/** xfsUnavailable says why a reflink XFS cannot be mounted here, or null when it is worth trying. */
export function xfsUnavailable(): string | null;

/** XfsMount is a loop-mounted XFS filesystem with reflink=1. */
export interface XfsMount {
  /** The directory mountXfs was given: holds xfs.img and mnt/. */
  root: string;
  /** The mount point. */
  dir: string;
  /** The sparse image file. */
  img: string;
  sizeMiB: number;
  /** mkfs + mount wall time. */
  setupMs: number;
  /**
   * cleanup unmounts (retrying on EBUSY; `umount -l` as last resort) and
   * deletes root; returns how it unmounted, or throws when it could not.
   * Safe to call twice. `quick` retries less (exit and signal handlers).
   */
  cleanup(options?: { quick?: boolean }): 'unmounted' | 'lazy';
}

/**
 * mountXfs formats a sparse image of sizeMiB (>= MIN_SIZE_MIB) in `root`
 * (absent or empty) as XFS with reflink=1 and loop-mounts it at root/mnt.
 * Throws an Error naming what failed, leaving nothing behind. Every live
 * mount is unmounted on exit and on SIGINT/SIGTERM.
 */
export function mountXfs(root: string, sizeMiB: number): XfsMount;

/** reflinkSupported says whether COPYFILE_FICLONE_FORCE works inside dir (two small temp files, removed). */
export function reflinkSupported(dir: string): boolean;
