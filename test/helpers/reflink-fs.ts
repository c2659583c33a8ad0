// Test helper: a real copy-on-write (reflink) filesystem to exercise lode's
// reflink checkout path: a sparse image formatted XFS with reflink=1 and
// loop-mounted (test/helpers/xfs.js, shared with the bench). Needs Linux,
// root, xfsprogs (mkfs.xfs) and util-linux (mount, umount, losetup). Every
// failure names what is missing.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MIN_SIZE_MIB, mountXfs, xfsUnavailable } from './xfs.js';

export { reflinkSupported } from './xfs.js';

/** ReflinkMount is a loop-mounted XFS filesystem with reflink=1, for tests. */
export interface ReflinkMount {
  dir: string;
  cleanup(): Promise<void>;
}

/**
 * mountReflinkFs makes a sparse image of sizeMiB (default 512), formats it XFS
 * reflink=1, loop-mounts it under a new temp dir and returns the mount point; it
 * throws an Error whose message says exactly what is missing (not root, mkfs.xfs
 * not installed, loop devices unavailable, mount refused) so a test can fail with
 * a clear reason. cleanup unmounts (retrying briefly on EBUSY, lazy unmount as
 * last resort) and deletes the image.
 */
export async function mountReflinkFs(sizeMiB = 512): Promise<ReflinkMount> {
  if (!Number.isInteger(sizeMiB) || sizeMiB < MIN_SIZE_MIB) {
    throw new Error(`mountReflinkFs: sizeMiB must be an integer >= ${MIN_SIZE_MIB} (mkfs.xfs minimum), got ${sizeMiB}`);
  }
  const why = xfsUnavailable();
  if (why) throw new Error(`mountReflinkFs: ${why}`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-reflink-'));
  let m;
  try {
    m = mountXfs(root, sizeMiB);
  } catch (e) {
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`mountReflinkFs: ${(e as Error).message}`);
  }
  const mount = m;
  return {
    dir: mount.dir,
    cleanup: async () => {
      try {
        mount.cleanup();
      } catch (e) {
        throw new Error(`ReflinkMount.cleanup: ${(e as Error).message}`);
      }
    },
  };
}
