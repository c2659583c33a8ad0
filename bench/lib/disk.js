// bench/lib/disk.js: what the filesystem charges for recent deletes (ext4
// without a journal), block-group spreading, used space and tree sizes.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fmt, log } from './report.js';
import { hr, msSince, sh, sleep } from './measure.js';

/**
 * ext4 without a journal will not reuse an inode freed in the last 60 s (6 min
 * while its inode table block is dirty): it scans past each such inode, so
 * creating many files soon after deleting many costs up to ~1 ms per file.
 * The bench notes when it deletes a small-file tree on the bench dir's
 * filesystem, and section 8 starts with a sync and waits out the 60 s, so its
 * clone and pull rows measure lode and DVC rather than that scan.
 */
export const massDeletes = new Map(); // filesystem device -> time of the last mass delete (ms)
export function markMassDelete(p) {
  let dev = 'bench';
  try {
    dev = String(fs.statSync(path.dirname(p)).dev);
  } catch {
    // unknown
  }
  massDeletes.set(dev, Date.now());
}
export const RECENTLY_DELETED_MS = 60_000;

/** settleDeletes syncs the bench dir's filesystem and waits until its last mass delete is over 60 s old; returns ms waited. */
export async function settleDeletes(dir) {
  const t0 = hr();
  spawnSync('sync', ['-f', dir], { stdio: 'ignore' });
  let dev = 'bench';
  try {
    dev = String(fs.statSync(dir).dev);
  } catch {
    // unknown
  }
  const last = massDeletes.get(dev);
  const wait = last === undefined ? 0 : last + RECENTLY_DELETED_MS + 2000 - Date.now();
  if (wait > 0) {
    log(`waiting ${fmt(wait / 1000, 0)} s for inodes deleted by earlier sections to age past ext4's 60 s reuse delay`);
    await sleep(wait);
  }
  return msSince(t0);
}

/** spreadDirs sets ext4's top-directory flag (chattr +T) on `dir`, so its subdirectories are spread over block groups; true if it took. */
export function spreadDirs(dir) {
  if (spawnSync('chattr', ['+T', dir], { stdio: 'ignore' }).status !== 0) return false;
  const attrs = sh('lsattr', ['-d', dir]);
  return !!attrs && /T/.test(attrs.split(/\s+/)[0]);
}


/** fsUsedBytes is the used space of the filesystem holding `dir` (catches moto's unlinked spool files too). */
export function fsUsedBytes(dir) {
  try {
    const s = fs.statfsSync(dir);
    return (s.blocks - s.bfree) * s.bsize;
  } catch {
    return null;
  }
}

/** treeStats counts the files and bytes under `dir` (0 if it is missing). */
export function treeStats(dir) {
  let files = 0;
  let bytes = 0;
  const walk = (d) => {
    let ents;
    try {
      ents = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        files++;
        bytes += fs.statSync(p).size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}
