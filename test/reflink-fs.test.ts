// Proves the reflink test fixture: a loop-mounted XFS (reflink=1) where
// COPYFILE_FICLONE_FORCE works, copies share blocks, and writes to a copy
// never reach its source. Needs root and xfsprogs; it fails (never skips)
// with the reason when the filesystem cannot be mounted.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mountReflinkFs, reflinkSupported, type ReflinkMount } from './helpers/reflink-fs.js';

const MiB = 1024 * 1024;

// statfs f_type magic numbers of filesystems that cannot reflink.
const NO_REFLINK_FS: Record<number, string> = {
  0xef53: 'ext2/3/4',
  0x01021994: 'tmpfs',
  0x794c7630: 'overlayfs',
};

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bfree * s.bsize;
}

describe('reflink test filesystem (XFS reflink=1 on a loop device)', () => {
  let mount: ReflinkMount | undefined;
  let mountError: Error | undefined;

  beforeAll(async () => {
    try {
      mount = await mountReflinkFs();
    } catch (e) {
      mountError = e as Error;
    }
  }, 120_000);

  afterAll(async () => {
    await mount?.cleanup();
  }, 60_000);

  function mounted(): ReflinkMount {
    if (!mount) throw mountError ?? new Error('mountReflinkFs did not run');
    return mount;
  }

  it('mounts, and COPYFILE_FICLONE_FORCE works inside the mount', () => {
    const m = mounted();
    expect(fs.statSync(m.dir).isDirectory()).toBe(true);
    expect(reflinkSupported(m.dir)).toBe(true);
    // The probe cleans up after itself.
    expect(fs.readdirSync(m.dir).filter((n) => n.startsWith('.lode-reflink-probe-'))).toEqual([]);
  });

  it('reports no reflink on the temp dir when it is ext4, tmpfs or overlayfs', () => {
    const tmp = os.tmpdir();
    const kind = NO_REFLINK_FS[fs.statfsSync(tmp).type];
    const supported = reflinkSupported(tmp);
    if (kind !== undefined) {
      expect(supported, `${tmp} is ${kind}`).toBe(false);
    } else {
      // XFS or btrfs tmp (or something else): either answer is legitimate.
      expect(typeof supported).toBe('boolean');
    }
  });

  it('a reflinked 64 MiB copy has identical bytes, shares blocks, and writes to it leave the source intact', () => {
    const m = mounted();
    const src = path.join(m.dir, 'source.bin');
    const dst = path.join(m.dir, 'copy.bin');

    const fd = fs.openSync(src, 'w');
    try {
      for (let i = 0; i < 64; i++) fs.writeSync(fd, randomBytes(MiB));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    const srcHash = sha256(src);

    const freeBefore = freeBytes(m.dir);
    fs.copyFileSync(src, dst, fs.constants.COPYFILE_FICLONE_FORCE);
    fsyncFile(dst);
    const freeAfter = freeBytes(m.dir);

    expect(fs.statSync(dst).size).toBe(64 * MiB);
    expect(sha256(dst)).toBe(srcHash);
    expect(fs.readFileSync(dst).equals(fs.readFileSync(src))).toBe(true);
    // A real copy would consume 64 MiB; a reflink shares the extents.
    expect(freeBefore - freeAfter).toBeLessThan(4 * MiB);

    // Overwrite 1 MiB in the middle of the copy and append to it.
    const patch = Buffer.alloc(MiB, 0xa5);
    const cfd = fs.openSync(dst, 'r+');
    try {
      fs.writeSync(cfd, patch, 0, patch.length, 10 * MiB);
      fs.writeSync(cfd, Buffer.from('tail'), 0, 4, 64 * MiB);
      fs.fsyncSync(cfd);
    } finally {
      fs.closeSync(cfd);
    }

    expect(sha256(src)).toBe(srcHash);
    expect(fs.statSync(src).size).toBe(64 * MiB);
    const copy = fs.readFileSync(dst);
    expect(copy.length).toBe(64 * MiB + 4);
    expect(copy.subarray(10 * MiB, 11 * MiB).equals(patch)).toBe(true);
    expect(copy.subarray(0, 10 * MiB).equals(fs.readFileSync(src).subarray(0, 10 * MiB))).toBe(true);
    expect(sha256(dst)).not.toBe(srcHash);

    fs.rmSync(src);
    fs.rmSync(dst);
  });
});
