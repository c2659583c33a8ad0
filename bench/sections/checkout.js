// bench section 6: checkout per link type (copy, hardlink, reflink; reflink on a
// loop-mounted XFS when the bench dir has none), then a one-file switch.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KiB, MiB, NO_XFS, QUICK, SIZES } from '../lib/options.js';
import { fmib, fms, fmt, fpct, log, table, warn } from '../lib/report.js';
import { cpuPct, fother, hr, lode, mbps, msSince, waitIdle } from '../lib/measure.js';
import { countFiles, createProbe, duKiB, warm } from '../lib/workloads.js';
import { markMassDelete } from '../lib/disk.js';
import { mountXfs, reflinkSupported, xfsUnavailable } from '../../test/helpers/xfs.js';

export async function checkoutSection(ctx) {
  const { benchDir, repo, aDir, bDir, aPaths, bPaths, aBytes, bBytes, reflink, res, meta, sha2, swBack, swFwd, noteDisk, notePeakDiskKiB } = ctx;
  // 6. checkout per link type.
  /**
   * measureCheckout empties `dir` (rm -rf, or moved aside), restores it with
   * `lode checkout` in `wsRepo` and returns the result entry and its table row.
   */
  const measureCheckout = async ({ wsRepo, type, label, dir, n, bytes, how = 'rm', probeBase = benchDir, method = type }) => {
    let trash;
    if (how === 'rm') {
      fs.rmSync(dir, { recursive: true, force: true });
      if (label === 'A') markMassDelete(dir);
    }
    else {
      trash = path.join(probeBase, `trash-${type}-${label}`);
      fs.renameSync(dir, trash);
    }
    warm([path.join(wsRepo, '.lode', 'cache')]);
    await waitIdle(`checkout ${label} ${method}`);
    const probe = label === 'A' ? createProbe(probeBase) : null;
    log(`checkout ${label} with cache.type=${type}${method !== type ? ` [${method}]` : ''} (${how === 'rm' ? 'after rm -rf' : 'dir moved aside'})`);
    let r = await lode(wsRepo, ['checkout'], { allowFail: true });
    let forced = false;
    if (r.code === 7) {
      forced = true;
      r = await lode(wsRepo, ['checkout', '--force']);
    } else if (r.code !== 0) throw new Error(`lode checkout failed (${r.code}): ${r.stderr}`);
    const got = countFiles(dir);
    if (got !== n) warn(`checkout ${label} (${method}) left ${got} files, expected ${n}`);
    const methods = r.json.methods;
    if (methods[type] !== n) warn(`checkout ${label} (${method}) asked for ${type} but placed ${JSON.stringify(methods)}`);
    const entry = { ms: r.ms, filesPerS: n / (r.ms / 1000), MBps: mbps(bytes, r.ms), rssKiB: r.rssKiB, cpuPct: cpuPct(r), otherCores: r.otherCores, methods, forced, createProbeUs: probe };
    const row = [method, how === 'rm' ? label : `${label} (moved aside)`, fms(r.ms), fmt(n / (r.ms / 1000), n < 100 ? 1 : 0), fmt(mbps(bytes, r.ms)), fmib(r.rssKiB), fpct(cpuPct(r)), fother(r), probe === null ? '-' : fmt(probe), Object.entries(methods).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ') + (forced ? ' (--force)' : '')];
    noteDisk();
    if (trash) {
      fs.rmSync(trash, { recursive: true, force: true });
      if (label === 'A') markMassDelete(trash);
    }
    return { entry, row };
  };

  const co = {};
  const coRows = [];
  const coNotes = [];
  for (const type of ['copy', 'hardlink', 'reflink']) {
    if (type === 'reflink' && !reflink) continue; // measured on XFS below, if it can be
    await lode(repo, ['config', 'cache.type', type]);
    co[type] = {};
    const runs = [['A', aDir, SIZES.aFiles, aBytes, 'rm'], ['B', bDir, SIZES.bFiles, bBytes, 'rm']];
    // ext4 without a journal scans past inodes deleted in the last minutes when it
    // allocates new ones, so "rm -rf, then create 20k files" is slower there than
    // on journaled filesystems; measure copy A once more with the directory moved aside.
    if (type === 'copy') runs.push(['A', aDir, SIZES.aFiles, aBytes, 'moved']);
    for (const [label, dir, n, bytes, how] of runs) {
      const { entry, row } = await measureCheckout({ wsRepo: repo, type, label, dir, n, bytes, how });
      co[type][how === 'rm' ? label : `${label}_movedAside`] = entry;
      coRows.push(row);
    }
  }
  await lode(repo, ['config', 'cache.type', 'copy']);

  // 6 (reflink). The bench dir has no reflink: a second workspace on a loop-mounted XFS.
  let xfs = null;
  if (!reflink) {
    xfs = { reason: null };
    res.xfs = xfs;
    const sizeMiB = QUICK ? 1024 : 4096;
    const needMiB = Math.ceil((2 * (bBytes + SIZES.aFiles * Math.max(SIZES.aFileSize, 4 * KiB))) / MiB) + 256;
    const xfsRoot = `${benchDir}-xfs`;
    const parentFree = (() => {
      try {
        const s = fs.statfsSync(path.dirname(xfsRoot));
        return (s.bavail * s.bsize) / MiB;
      } catch {
        return null;
      }
    })();
    if (NO_XFS) xfs.reason = 'skipped (--no-xfs)';
    else xfs.reason = xfsUnavailable();
    if (!xfs.reason && needMiB > sizeMiB) xfs.reason = `a ${sizeMiB} MiB image is too small for A + B twice (${needMiB} MiB)`;
    if (!xfs.reason && parentFree !== null && parentFree < needMiB + 512) xfs.reason = `not enough free space for the XFS image (${fmt(parentFree)} MiB free, ~${fmt(needMiB + 512)} MiB needed)`;
    if (!xfs.reason && fs.existsSync(xfsRoot)) xfs.reason = `${xfsRoot} already exists`;
    let m = null;
    if (!xfs.reason) {
      log(`reflink: mkfs.xfs -m reflink=1 on a ${sizeMiB} MiB sparse image, loop mount`);
      try {
        m = mountXfs(xfsRoot, sizeMiB);
      } catch (e) {
        xfs.reason = `could not mount XFS: ${e.message}`;
      }
    }
    if (m) {
      const xfsDisk = () => duKiB(m.img) ?? 0;
      const noteDiskXfs = () => {
        const k = duKiB(benchDir);
        if (k !== null) notePeakDiskKiB(k + xfsDisk());
      };
      try {
        xfs.sizeMiB = sizeMiB;
        xfs.setupMs = m.setupMs;
        xfs.mount = m.dir;
        xfs.reflinkProbe = reflinkSupported(m.dir);
        if (!xfs.reflinkProbe) warn(`reflink probe failed inside the XFS mount ${m.dir}`);
        const ws = path.join(m.dir, 'ws');
        const xa = path.join(ws, 'a');
        const xb = path.join(ws, 'b');
        // Same bytes as A and B, as plain 0644 files (the main a/ may be hard links to the cache now).
        log('reflink: copying A and B into the XFS workspace');
        const tCopy = hr();
        for (const p of aPaths) {
          const dest = path.join(xa, path.relative(aDir, p));
          fs.mkdirSync(path.dirname(dest), { recursive: true });
          fs.writeFileSync(dest, fs.readFileSync(p));
        }
        fs.mkdirSync(xb, { recursive: true });
        for (const p of bPaths) {
          const dest = path.join(xb, path.basename(p));
          fs.copyFileSync(p, dest);
          fs.chmodSync(dest, 0o644);
        }
        xfs.populateMs = msSince(tCopy);
        const xInit = await lode(ws, ['init']);
        warm([xa]);
        await waitIdle('add A (XFS)');
        log('reflink: add A, add B, commit on XFS');
        const xAddA = await lode(ws, ['add', 'a']);
        if (xAddA.json.added !== SIZES.aFiles) warn(`add A on XFS reported ${xAddA.json.added} added, expected ${SIZES.aFiles}`);
        warm([xb]);
        await waitIdle('add B (XFS)');
        const xAddB = await lode(ws, ['add', 'b']);
        if (xAddB.json.added !== SIZES.bFiles) warn(`add B on XFS reported ${xAddB.json.added} added, expected ${SIZES.bFiles}`);
        const xCommit = await lode(ws, ['commit', '-m', 'A + B']);
        noteDiskXfs();
        // XFS flushes a file's dirty pages before cloning it: write the fresh cache back
        // now, so the checkout rows measure the clone, not add's deferred writeback.
        const tSync = hr();
        const synced = spawnSync('sync', ['-f', m.dir], { stdio: 'ignore' }).status === 0;
        xfs.syncMs = msSince(tSync);
        if (!synced) warn('sync -f on the XFS mount failed; reflink rows may include writeback');
        // Fixed cost of any checkout here (start-up, workspace scan, index write), nothing to place.
        const xNoop = await lode(ws, ['checkout']);
        const step = (r, bytes) => ({ ms: r.ms, MBps: bytes ? mbps(bytes, r.ms) : null, rssKiB: r.rssKiB, cpuPct: cpuPct(r), otherCores: r.otherCores });
        xfs.init = step(xInit);
        xfs.addA = { ...step(xAddA, aBytes), filesPerS: SIZES.aFiles / (xAddA.ms / 1000) };
        xfs.addB = { ...step(xAddB, bBytes), ratioToSha2: mbps(bBytes, xAddB.ms) / sha2 };
        xfs.commit = step(xCommit);
        xfs.rows = [
          ['mkfs.xfs + loop mount', fms(m.setupMs), '-', '-', '-', '-', '-', `${fmt(sizeMiB)} MiB sparse image, reflink probe ${xfs.reflinkProbe ? 'ok' : 'FAILED'}`],
          ['copy A + B into the workspace', fms(xfs.populateMs), fmt(mbps(aBytes + bBytes, xfs.populateMs)), '-', '-', '-', '-', 'bench itself (not lode)'],
          ['lode init', fms(xInit.ms), '-', '-', fmib(xInit.rssKiB), fpct(cpuPct(xInit)), fother(xInit), ''],
          [`add A (${fmt(SIZES.aFiles)} x 4 KiB)`, fms(xAddA.ms), fmt(xfs.addA.MBps), fpct(xfs.addA.MBps / sha2), fmib(xAddA.rssKiB), fpct(cpuPct(xAddA)), fother(xAddA), `${fmt(xfs.addA.filesPerS)} files/s`],
          [`add B (${SIZES.bFiles} x ${SIZES.bFileSize / MiB} MiB)`, fms(xAddB.ms), fmt(xfs.addB.MBps), fpct(xfs.addB.ratioToSha2), fmib(xAddB.rssKiB), fpct(cpuPct(xAddB)), fother(xAddB), 'cache written with ordinary writes'],
          ['commit A + B', fms(xCommit.ms), '-', '-', fmib(xCommit.rssKiB), fpct(cpuPct(xCommit)), fother(xCommit), ''],
          ['sync -f (write back the new cache)', fms(xfs.syncMs), '-', '-', '-', '-', '-', 'XFS writes back dirty data before cloning it'],
          ['checkout with nothing to restore', fms(xNoop.ms), '-', '-', fmib(xNoop.rssKiB), fpct(cpuPct(xNoop)), fother(xNoop), `fixed cost of a checkout here (written ${xNoop.json.written})`],
        ];
        xfs.noopCheckout = step(xNoop);

        co.reflink = { fs: 'xfs (loop-mounted image, reflink=1)' };
        xfs.copy = {};
        // reflink first (what this section is for), then copy on the same filesystem for comparison.
        for (const type of ['reflink', 'copy']) {
          await lode(ws, ['config', 'cache.type', type]);
          for (const [label, dir, n, bytes] of [['A', xa, SIZES.aFiles, aBytes], ['B', xb, SIZES.bFiles, bBytes]]) {
            const { entry, row } = await measureCheckout({ wsRepo: ws, type, label, dir, n, bytes, probeBase: m.dir, method: `${type} (XFS)` });
            noteDiskXfs();
            (type === 'reflink' ? co.reflink : xfs.copy)[label] = entry;
            coRows.push(row);
          }
        }
        const used = ['A', 'B'].map((l) => {
          const e = co.reflink[l];
          const n = l === 'A' ? SIZES.aFiles : SIZES.bFiles;
          return { l, n, k: e.methods.reflink ?? 0 };
        });
        xfs.reflinkUsed = used.every((u) => u.k === u.n);
        coNotes.push(`reflink really used on XFS: ${xfs.reflinkUsed ? 'yes' : 'NO'} (${used.map((u) => `${u.l}: methods.reflink ${fmt(u.k)} of ${fmt(u.n)}`).join('; ')}).`);
      } catch (e) {
        // Keep the rest of the bench: the reflink rows become n/a with the reason.
        xfs.reason = `failed: ${e.message.split('\n')[0]}`;
        warn(`XFS reflink section failed: ${e.stack ?? e}`);
      } finally {
        const tU = hr();
        try {
          xfs.cleanup = m.cleanup();
        } catch (e) {
          xfs.cleanup = `failed: ${e.message}`;
          warn(`XFS cleanup: ${e.message}`);
        }
        xfs.cleanupMs = msSince(tU);
        if (xfs.rows) xfs.rows.push(['unmount + delete image', fms(xfs.cleanupMs), '-', '-', '-', '-', '-', String(xfs.cleanup)]);
        log(`reflink: XFS ${xfs.cleanup} and image deleted`);
      }
    }
    if (xfs.reason) {
      co.reflink = null;
      coRows.push(['reflink', 'A', 'n/a', '-', '-', '-', '-', '-', '-', `n/a (bench dir has no reflink; XFS: ${xfs.reason})`]);
      coRows.push(['reflink', 'B', 'n/a', '-', '-', '-', '-', '-', '-', `n/a (bench dir has no reflink; XFS: ${xfs.reason})`]);
    }
  }
  coRows.push(['switch', `c2 -> c1`, fms(swBack.ms), '-', '-', fmib(swBack.rssKiB), fpct(cpuPct(swBack)), fother(swBack), '-', `1 file of A differs; wrote ${swBack.json.written}`]);
  coRows.push(['switch', `c1 -> main`, fms(swFwd.ms), '-', '-', fmib(swFwd.rssKiB), fpct(cpuPct(swFwd)), fother(swFwd), '-', `wrote ${swFwd.json.written}`]);
  res.checkout = co;
  table('6. checkout (restore a deleted dataset from HEAD; then a 1-file switch)', ['method', 'data', 'ms', 'files/s', 'MB/s', 'peak RSS MiB', 'CPU', 'other CPU', 'create µs', 'placed'], coRows, [
    'create µs = fs create probe (open wx + 4 KiB write + rename, 1 thread) just before the run: what the filesystem charges per new file at that moment.',
    'moved aside = the data dir renamed out of the workspace instead of deleted (no recently-deleted inodes for ext4 to skip).',
    ...(xfs?.rows ? [`(XFS) rows: a second workspace with the same A and B on a loop-mounted XFS image (reflink=1), ${fmt(xfs.sizeMiB)} MiB sparse, itself a file on the bench dir's ${meta.fsType}.`] : []),
    ...coNotes,
  ]);
  if (xfs?.rows) {
    table('6x. the XFS workspace behind the (XFS) rows: setup, add, commit', ['step', 'ms', 'MB/s', 'vs SHA-256 2 thr', 'peak RSS MiB', 'CPU', 'other CPU', 'note'], xfs.rows, [
      'add on XFS: lode writes its cache with ordinary writes (no reflink from workspace to cache), so compare with section 3.',
    ]);
  }
  return { co, xfs };
}
