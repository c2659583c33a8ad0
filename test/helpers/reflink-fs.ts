// Test helper: a real copy-on-write (reflink) filesystem to exercise lode's
// reflink checkout path. It builds a sparse image, formats it XFS with
// reflink=1 and loop-mounts it. Needs Linux, root, xfsprogs (mkfs.xfs) and
// util-linux (mount, umount, losetup). Every failure names what is missing.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** ReflinkMount is a loop-mounted XFS filesystem with reflink=1, for tests. */
export interface ReflinkMount {
  dir: string;
  cleanup(): Promise<void>;
}

/** mkfs.xfs (xfsprogs >= 5.19) refuses filesystems smaller than 300 MiB. */
const MIN_SIZE_MIB = 300;

/** Directories searched for tools besides $PATH: sbin is often not on a non-login PATH. */
const EXTRA_BIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin', '/bin'];

interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

function run(cmd: string, args: string[], timeoutMs = 60_000): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

function describeFailure(r: RunResult): string {
  if (r.error) return r.error.message;
  const out = (r.stderr.trim() || r.stdout.trim()).replace(/\s+/g, ' ');
  return `exit ${r.status}${out ? `: ${out}` : ''}`;
}

function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_BIN_DIRS];
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      if (fs.statSync(p).isFile()) {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      }
    } catch {
      // not here
    }
  }
  return undefined;
}

function requireTool(name: string, pkg: string): string {
  const p = findTool(name);
  if (!p) {
    throw new Error(
      `mountReflinkFs: ${name} is not installed (not found on PATH or in ${EXTRA_BIN_DIRS.join(':')}); ` +
        `install the Debian package ${pkg} (apt-get install -y ${pkg})`,
    );
  }
  return p;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function kernelHasXfs(): boolean | undefined {
  try {
    return /\bxfs\b/.test(fs.readFileSync('/proc/filesystems', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Makes sure a free loop device node exists, creating /dev/loop-control and
 * /dev/loopN with mknod where the kernel has the loop driver but /dev lacks
 * the nodes (common in containers). Returns null when a device is usable,
 * or a reason why none is.
 */
function ensureLoopDevice(losetup: string): string | null {
  const tryMknod = (p: string, type: 'b' | 'c', major: number, minor: number): string | null => {
    if (fs.existsSync(p)) return null;
    const r = run('mknod', ['-m', '0660', p, type, String(major), String(minor)]);
    if (r.status !== 0 && !fs.existsSync(p)) return `mknod ${p} ${type} ${major} ${minor} failed (${describeFailure(r)})`;
    return null;
  };

  const hasLoopNodes = () => {
    try {
      return fs.readdirSync('/dev').some((n) => n === 'loop-control' || /^loop\d+$/.test(n));
    } catch {
      return false;
    }
  };
  if (!hasLoopNodes()) {
    // 10:237 is the loop-control misc device.
    const why = tryMknod('/dev/loop-control', 'c', 10, 237);
    if (why) return `no /dev/loop-control or /dev/loopN, and ${why}`;
  }

  const f = run(losetup, ['-f']);
  if (f.status !== 0) {
    let drv = '';
    try {
      drv = fs.existsSync('/sys/module/loop') ? '' : ' (kernel loop driver not loaded: /sys/module/loop missing)';
    } catch {
      // ignore
    }
    return `losetup -f found no free loop device${drv}: ${describeFailure(f)}`;
  }
  const dev = f.stdout.trim();
  const m = /^\/dev\/loop(\d+)$/.exec(dev);
  if (m && !fs.existsSync(dev)) {
    // The kernel allocated the device but /dev has no node for it: block major 7.
    const why = tryMknod(dev, 'b', 7, Number(m[1]));
    if (why) return `losetup -f names ${dev} but it does not exist in /dev, and ${why}`;
  }
  return null;
}

interface Active {
  root: string;
  dir: string;
}
const active = new Set<Active>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Safety net for a test that forgot cleanup(): lazily detach and remove.
  process.on('exit', () => {
    for (const a of active) {
      spawnSync('umount', ['-l', a.dir], { stdio: 'ignore' });
      try {
        fs.rmSync(a.root, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
    active.clear();
  });
}

function isMounted(dir: string): boolean {
  try {
    const want = fs.realpathSync(dir);
    const lines = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
    return lines.some((l) => {
      const target = l.split(' ')[4];
      return target !== undefined && target.replace(/\\040/g, ' ') === want;
    });
  } catch {
    return false;
  }
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
  if (process.platform !== 'linux') {
    throw new Error(`mountReflinkFs: needs Linux (loop devices, XFS); this is ${process.platform}`);
  }
  if (!Number.isInteger(sizeMiB) || sizeMiB < MIN_SIZE_MIB) {
    throw new Error(`mountReflinkFs: sizeMiB must be an integer >= ${MIN_SIZE_MIB} (mkfs.xfs minimum), got ${sizeMiB}`);
  }
  const uid = process.getuid?.();
  if (uid !== 0) {
    throw new Error(`mountReflinkFs: must run as root to loop-mount a filesystem (running as uid ${uid})`);
  }
  const mkfs = requireTool('mkfs.xfs', 'xfsprogs');
  const mount = requireTool('mount', 'mount');
  const umount = requireTool('umount', 'mount');
  const losetup = requireTool('losetup', 'mount');

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-reflink-'));
  const img = path.join(root, 'xfs.img');
  const dir = path.join(root, 'mnt');
  function fail(msg: string): never {
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`mountReflinkFs: ${msg}`);
  }

  try {
    fs.mkdirSync(dir);
    const fd = fs.openSync(img, 'w');
    try {
      fs.ftruncateSync(fd, sizeMiB * 1024 * 1024); // sparse
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    fail(`cannot create the ${sizeMiB} MiB image in ${root}: ${(e as Error).message}`);
  }

  const mk = run(mkfs, ['-q', '-f', '-m', 'reflink=1', img]);
  if (mk.status !== 0) fail(`mkfs.xfs -m reflink=1 failed: ${describeFailure(mk)}`);

  const loopWhy = ensureLoopDevice(losetup);
  if (loopWhy) fail(`loop devices unavailable: ${loopWhy}`);

  // mount -o loop picks a free loop device and sets autoclear, so unmounting
  // releases it. Parallel mounters can race for the same device; retry a few times.
  let last: RunResult | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    last = run(mount, ['-t', 'xfs', '-o', 'loop', img, dir]);
    if (last.status === 0) break;
    const err = last.stderr;
    if (/unknown filesystem type/i.test(err) || kernelHasXfs() === false) {
      fail(`mount refused: the kernel has no XFS support (xfs not in /proc/filesystems): ${describeFailure(last)}`);
    }
    if (/permission denied|operation not permitted|must be superuser/i.test(err)) {
      fail(
        `mount refused: ${describeFailure(last)} (root without CAP_SYS_ADMIN? an unprivileged container cannot loop-mount)`,
      );
    }
    // Maybe the loop device we saw was taken or its node is missing: make another and retry.
    const why = ensureLoopDevice(losetup);
    if (why) fail(`loop devices unavailable: ${why}; mount said ${describeFailure(last)}`);
    if (/loop device/i.test(err)) {
      // Attach by hand to learn why (e.g. a devices cgroup denying /dev/loopN); detach at once.
      const probe = run(losetup, ['--find', '--show', img]);
      if (probe.status !== 0) {
        fail(`loop devices unavailable: mount said ${describeFailure(last)}; losetup --find --show said ${describeFailure(probe)}`);
      }
      run(losetup, ['-d', probe.stdout.trim()]);
    }
    await sleep(100 * (attempt + 1));
  }
  if (!last || last.status !== 0) {
    fail(`mount refused: mount -t xfs -o loop ${img} ${dir}: ${last ? describeFailure(last) : 'not attempted'}`);
  }

  const entry: Active = { root, dir };
  active.add(entry);
  installExitHook();

  let cleaned: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaned ??= (async () => {
      let unmounted = false;
      let lastErr = '';
      for (let attempt = 0; attempt < 10 && !unmounted; attempt++) {
        const r = run(umount, [dir]);
        if (r.status === 0 || !isMounted(dir)) {
          unmounted = true;
          break;
        }
        lastErr = describeFailure(r);
        if (!/busy/i.test(r.stderr)) break;
        await sleep(200);
      }
      if (!unmounted) {
        const r = run(umount, ['-l', dir]);
        if (r.status !== 0 && isMounted(dir)) {
          active.delete(entry);
          throw new Error(`ReflinkMount.cleanup: cannot unmount ${dir}: ${lastErr}; umount -l: ${describeFailure(r)}`);
        }
      }
      active.delete(entry);
      // After a lazy unmount the loop device may still hold the image open;
      // unlinking it is fine, the space is freed when the device autoclears.
      fs.rmSync(root, { recursive: true, force: true });
    })();
    return cleaned;
  };

  return { dir, cleanup };
}

/**
 * reflinkSupported(dir) says whether COPYFILE_FICLONE_FORCE works inside dir
 * (creates and removes two small temp files).
 */
export function reflinkSupported(dir: string): boolean {
  const tag = `.lode-reflink-probe-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const src = path.join(dir, `${tag}-src`);
  const dst = path.join(dir, `${tag}-dst`);
  try {
    fs.writeFileSync(src, 'lode reflink probe\n');
    try {
      fs.copyFileSync(src, dst, fs.constants.COPYFILE_FICLONE_FORCE);
      return true;
    } catch {
      return false;
    }
  } finally {
    fs.rmSync(src, { force: true });
    fs.rmSync(dst, { force: true });
  }
}
