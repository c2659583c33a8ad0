// A loop-mounted XFS filesystem with reflink=1, shared by the tests (through
// test/helpers/reflink-fs.ts) and the bench (section 6), so lode's reflink
// checkout can be exercised on a machine whose own filesystem (ext4) has none.
// Plain ESM JavaScript (bench/ has no build step) with types in xfs.d.ts.
// Synchronous, so the same cleanup can run from try/finally, process 'exit'
// and SIGINT/SIGTERM.
//
//   const why = xfsUnavailable();          // null, or why it cannot work here
//   const m = mountXfs(root, sizeMiB);     // throws Error naming what failed
//   ... m.dir is the mount point ...
//   m.cleanup();                           // unmount (retry on EBUSY, lazy as
//                                          // last resort) and delete the image
//
// Needs Linux, root, xfsprogs (mkfs.xfs) and util-linux (mount, umount, losetup).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** mkfs.xfs (xfsprogs >= 5.19) refuses filesystems smaller than 300 MiB. */
export const MIN_SIZE_MIB = 300;

/** sbin is often not on a non-login PATH. */
const EXTRA_BIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin', '/bin'];

function run(cmd, args, timeoutMs = 60_000) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

function describe(r) {
  if (r.error) return r.error.message;
  const out = (r.stderr.trim() || r.stdout.trim()).replace(/\s+/g, ' ');
  return `exit ${r.status}${out ? `: ${out}` : ''}`;
}

function findTool(name) {
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

/** sleepSync blocks the thread (cleanup must also work inside an 'exit' handler). */
const sleepSync = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function kernelHasXfs() {
  try {
    return /\bxfs\b/.test(fs.readFileSync('/proc/filesystems', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * xfsUnavailable says why a reflink XFS cannot be mounted here (not Linux, not
 * root, a tool missing), or null when it is worth trying. Mount-time failures
 * (no loop devices, no XFS in the kernel, no CAP_SYS_ADMIN) surface from mountXfs.
 */
export function xfsUnavailable() {
  if (process.platform !== 'linux') return `needs Linux (loop devices, XFS); this is ${process.platform}`;
  const uid = process.getuid?.();
  if (uid !== 0) return `not root (uid ${uid}): loop-mounting needs root`;
  if (!findTool('mkfs.xfs')) return 'mkfs.xfs not installed (Debian package xfsprogs)';
  for (const t of ['mount', 'umount', 'losetup']) if (!findTool(t)) return `${t} not installed (Debian package mount)`;
  return null;
}

/**
 * ensureLoopDevice makes sure a free loop device node exists, creating
 * /dev/loop-control and /dev/loopN with mknod where the kernel has the loop
 * driver but /dev lacks the nodes (common in containers). Returns null when
 * a device is usable, or a reason why none is.
 */
function ensureLoopDevice(losetup) {
  const tryMknod = (p, type, major, minor) => {
    if (fs.existsSync(p)) return null;
    const r = run('mknod', ['-m', '0660', p, type, String(major), String(minor)]);
    if (r.status !== 0 && !fs.existsSync(p)) return `mknod ${p} ${type} ${major} ${minor} failed (${describe(r)})`;
    return null;
  };
  let hasNodes = false;
  try {
    hasNodes = fs.readdirSync('/dev').some((n) => n === 'loop-control' || /^loop\d+$/.test(n));
  } catch {
    // no /dev listing
  }
  if (!hasNodes) {
    const why = tryMknod('/dev/loop-control', 'c', 10, 237);
    if (why) return `no /dev/loop-control or /dev/loopN, and ${why}`;
  }
  const f = run(losetup, ['-f']);
  if (f.status !== 0) {
    const drv = fs.existsSync('/sys/module/loop') ? '' : ' (kernel loop driver not loaded: /sys/module/loop missing)';
    return `losetup -f found no free loop device${drv}: ${describe(f)}`;
  }
  const dev = f.stdout.trim();
  const m = /^\/dev\/loop(\d+)$/.exec(dev);
  if (m && !fs.existsSync(dev)) {
    const why = tryMknod(dev, 'b', 7, Number(m[1]));
    if (why) return `losetup -f names ${dev} but it does not exist in /dev, and ${why}`;
  }
  return null;
}

function isMounted(dir) {
  try {
    const want = fs.realpathSync(dir);
    return fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((l) => {
        const target = l.split(' ')[4];
        return target !== undefined && target.replace(/\\040/g, ' ') === want;
      });
  } catch {
    return false;
  }
}

// Safety net: every live mount is unmounted on exit and on SIGINT/SIGTERM.
const active = new Set();
let hooksInstalled = false;
function installHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const all = () => {
    for (const m of [...active]) {
      try {
        m.cleanup({ quick: true });
      } catch (e) {
        process.stderr.write(`xfs: ${e.message}\n`);
      }
    }
  };
  process.on('exit', all);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    // Prepended, so the mount is gone before other handlers delete directories
    // or exit; exits itself only when nobody else handles the signal.
    const h = () => {
      all();
      if (process.listenerCount(sig) === 1) process.exit(130);
    };
    process.prependListener(sig, h);
  }
}

/**
 * mountXfs creates `root` (absent or empty), a sparse image root/xfs.img of
 * sizeMiB, formats it XFS with reflink=1 and loop-mounts it at root/mnt.
 * Returns { dir, img, root, sizeMiB, setupMs, cleanup }. Throws an Error naming
 * what failed; nothing is left behind then.
 */
export function mountXfs(root, sizeMiB) {
  const why = xfsUnavailable();
  if (why) throw new Error(why);
  if (!Number.isInteger(sizeMiB) || sizeMiB < MIN_SIZE_MIB) throw new Error(`image size must be an integer >= ${MIN_SIZE_MIB} MiB, got ${sizeMiB}`);
  const mkfs = findTool('mkfs.xfs');
  const mount = findTool('mount');
  const umount = findTool('umount');
  const losetup = findTool('losetup');
  const t0 = process.hrtime.bigint();

  fs.mkdirSync(root, { recursive: true });
  if (fs.readdirSync(root).length > 0) throw new Error(`${root} is not empty`);
  const img = path.join(root, 'xfs.img');
  const dir = path.join(root, 'mnt');
  const fail = (msg) => {
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(msg);
  };
  try {
    fs.mkdirSync(dir);
    const fd = fs.openSync(img, 'w');
    try {
      fs.ftruncateSync(fd, sizeMiB * 1024 * 1024); // sparse
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    fail(`cannot create the ${sizeMiB} MiB image in ${root}: ${e.message}`);
  }

  const mk = run(mkfs, ['-q', '-f', '-m', 'reflink=1', img]);
  if (mk.status !== 0) fail(`mkfs.xfs -m reflink=1 failed: ${describe(mk)}`);

  const loopWhy = ensureLoopDevice(losetup);
  if (loopWhy) fail(`loop devices unavailable: ${loopWhy}`);

  // mount -o loop picks a free loop device and sets autoclear, so unmounting
  // releases it. Parallel mounters can race for the same device: retry.
  let last;
  for (let attempt = 0; attempt < 5; attempt++) {
    last = run(mount, ['-t', 'xfs', '-o', 'loop', img, dir]);
    if (last.status === 0) break;
    const err = last.stderr;
    if (/unknown filesystem type/i.test(err) || kernelHasXfs() === false) fail(`mount refused: the kernel has no XFS support: ${describe(last)}`);
    if (/permission denied|operation not permitted|must be superuser/i.test(err)) {
      fail(`mount refused: ${describe(last)} (root without CAP_SYS_ADMIN? an unprivileged container cannot loop-mount)`);
    }
    const why2 = ensureLoopDevice(losetup);
    if (why2) fail(`loop devices unavailable: ${why2}; mount said ${describe(last)}`);
    if (/loop device/i.test(err)) {
      // Attach by hand to learn why (e.g. a devices cgroup denying /dev/loopN); detach at once.
      const probe = run(losetup, ['--find', '--show', img]);
      if (probe.status !== 0) fail(`loop devices unavailable: mount said ${describe(last)}; losetup --find --show said ${describe(probe)}`);
      run(losetup, ['-d', probe.stdout.trim()]);
    }
    sleepSync(100 * (attempt + 1));
  }
  if (!last || last.status !== 0) fail(`mount -t xfs -o loop ${img} ${dir} failed: ${last ? describe(last) : 'not attempted'}`);

  const handle = {
    root,
    dir,
    img,
    sizeMiB,
    setupMs: Number(process.hrtime.bigint() - t0) / 1e6,
    cleanedUp: false,
    /**
     * cleanup unmounts (retrying on EBUSY; `umount -l` as last resort) and
     * deletes the image. Returns how it went: 'unmounted', 'lazy', or throws.
     */
    cleanup({ quick = false } = {}) {
      if (handle.cleanedUp) return handle.how;
      handle.cleanedUp = true;
      active.delete(handle);
      let unmounted = !isMounted(dir);
      let lastErr = '';
      for (let attempt = 0; attempt < (quick ? 3 : 10) && !unmounted; attempt++) {
        const r = run(umount, [dir]);
        if (r.status === 0 || !isMounted(dir)) {
          unmounted = true;
          break;
        }
        lastErr = describe(r);
        if (!/busy/i.test(r.stderr)) break;
        sleepSync(200);
      }
      handle.how = 'unmounted';
      if (!unmounted) {
        const r = run(umount, ['-l', dir]);
        if (r.status !== 0 && isMounted(dir)) {
          // Still mounted: do not recurse into it; the image stays in use.
          throw new Error(`cannot unmount ${dir}: ${lastErr}; umount -l: ${describe(r)} (remove ${root} by hand)`);
        }
        handle.how = 'lazy';
      }
      // After a lazy unmount the loop device may still hold the image open;
      // unlinking is fine, the space comes back when the device autoclears.
      fs.rmSync(root, { recursive: true, force: true });
      return handle.how;
    },
  };
  active.add(handle);
  installHooks();
  return handle;
}

/** reflinkSupported says whether COPYFILE_FICLONE_FORCE works inside dir. */
export function reflinkSupported(dir) {
  const tag = `.lode-reflink-probe-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const src = path.join(dir, `${tag}-src`);
  const dst = path.join(dir, `${tag}-dst`);
  try {
    fs.writeFileSync(src, 'lode reflink probe\n');
    fs.copyFileSync(src, dst, fs.constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(src, { force: true });
    fs.rmSync(dst, { force: true });
  }
}
