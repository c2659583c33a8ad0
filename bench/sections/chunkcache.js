// bench section 11: the local cache after a small edit of a big file (issue 11,
// part 5). A generated file (1 GiB; 256 MiB with --quick) is added and
// committed, then 1 MiB in its middle is overwritten, added and committed
// again. Reported: how much .lode grew (apparent bytes of its files, and
// disk blocks from du), as a share of the file; the time of that second
// `lode add` (it hashes the file and splits the version it supersedes); and
// the time to check out the newest version (whole in the cache: reflink
// where the file system has it, else a verified copy) and the older version
// (kept as chunks: always a verified copy assembled from them), three times
// each, alternating. Runs in the bench dir, and again on a loop-mounted XFS
// (reflink=1) when the bench runs as root with xfsprogs (--no-xfs skips it).

import { createHash, randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GiB, MiB, NO_XFS, QUICK } from '../lib/options.js';
import { fms, fmt, log, table, warn } from '../lib/report.js';
import { lode, median } from '../lib/measure.js';
import { duKiB } from '../lib/workloads.js';
import { mountXfs, xfsUnavailable } from '../../test/helpers/xfs.js';

const SIZE = QUICK ? 256 * MiB : GiB;
const EDIT = MiB;

/** bytesUnder sums the apparent sizes of the regular files under `dir`. */
function bytesUnder(dir) {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += bytesUnder(p);
    else if (e.isFile()) n += fs.statSync(p).size;
  }
  return n;
}

function sha256File(file) {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(16 * MiB);
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** generate writes SIZE random bytes to `file`. */
function generate(file) {
  const fd = fs.openSync(file, 'w');
  const buf = Buffer.allocUnsafe(16 * MiB);
  try {
    for (let off = 0; off < SIZE; off += buf.length) {
      randomFillSync(buf);
      fs.writeSync(fd, buf, 0, Math.min(buf.length, SIZE - off));
    }
  } finally {
    fs.closeSync(fd);
  }
}

async function ok(cwd, args) {
  const r = await lode(cwd, args, { allowFail: true });
  if (r.code !== 0) throw new Error(`lode ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r;
}

/** measureIn runs the whole scenario in a fresh workspace `ws` and returns its numbers. */
async function measureIn(ws, label) {
  fs.mkdirSync(ws, { recursive: true });
  await ok(ws, ['init']);
  await ok(ws, ['config', 'cache.type', 'reflink,copy']);
  const file = path.join(ws, 'data', 'big.bin');
  fs.mkdirSync(path.dirname(file));
  log(`chunk cache (${label}): generating ${fmt(SIZE / MiB)} MiB`);
  generate(file);
  await ok(ws, ['add', 'data']);
  await ok(ws, ['commit', '-m', 'v1']);
  const v1 = sha256File(file);
  const lodeDir = path.join(ws, '.lode');
  const before = { bytes: bytesUnder(lodeDir), kib: duKiB(lodeDir) };

  // Overwrite 1 MiB in the middle, in place.
  const fd = fs.openSync(file, 'r+');
  const patch = randomFillSync(Buffer.allocUnsafe(EDIT));
  fs.writeSync(fd, patch, 0, EDIT, Math.floor(SIZE / 2 / 4096) * 4096 + 1234);
  fs.closeSync(fd);
  const add = await ok(ws, ['add', 'data']);
  await ok(ws, ['commit', '-m', 'v2']);
  const v2 = sha256File(file);
  const after = { bytes: bytesUnder(lodeDir), kib: duKiB(lodeDir) };
  const chunkBytes = fs.existsSync(path.join(lodeDir, 'chunks')) ? bytesUnder(path.join(lodeDir, 'chunks')) : 0;

  const older = [];
  const newest = [];
  const methods = { older: null, newest: null };
  for (let i = 0; i < 3; i++) {
    const o = await ok(ws, ['checkout', 'HEAD~1']);
    older.push(o.ms);
    methods.older = o.json.methods;
    if (i === 0 && sha256File(file) !== v1) warn(`chunk cache (${label}): the older version checked out wrong`);
    const n = await ok(ws, ['checkout', 'main']);
    newest.push(n.ms);
    methods.newest = n.json.methods;
    if (i === 0 && sha256File(file) !== v2) warn(`chunk cache (${label}): the newest version checked out wrong`);
  }
  const fsck = await lode(ws, ['fsck'], { allowFail: true });
  if (fsck.code !== 0) warn(`chunk cache (${label}): fsck failed: ${fsck.stderr}`);
  const growth = after.bytes - before.bytes;
  return {
    label,
    fileBytes: SIZE,
    editBytes: EDIT,
    lodeBefore: before,
    lodeAfter: after,
    growthBytes: growth,
    growthPct: (100 * growth) / SIZE,
    growthDiskKiB: after.kib !== null && before.kib !== null ? after.kib - before.kib : null,
    looseChunkBytes: chunkBytes,
    addMs: add.ms,
    checkoutOlderMs: older,
    checkoutNewestMs: newest,
    methods,
    fsckOk: fsck.code === 0,
  };
}

const range = (xs) => `${fms(median(xs))} (${fms(Math.min(...xs))}–${fms(Math.max(...xs))})`;
const methodText = (m) => Object.entries(m ?? {}).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ');

export async function chunkCacheSection({ benchDir }) {
  const out = { runs: [] };
  const local = path.join(benchDir, 'chunkcache');
  try {
    out.runs.push(await measureIn(local, 'bench dir'));
  } finally {
    fs.rmSync(local, { recursive: true, force: true });
  }
  if (NO_XFS) out.xfs = { skipped: '--no-xfs' };
  else {
    const why = xfsUnavailable();
    if (why) out.xfs = { skipped: why };
    else {
      const sizeMiB = Math.max(300, Math.ceil((3 * SIZE) / MiB) + 512);
      let m = null;
      try {
        m = mountXfs(`${benchDir}-chunkcache-xfs`, sizeMiB);
        out.runs.push(await measureIn(path.join(m.dir, 'ws'), 'XFS reflink'));
      } catch (e) {
        warn(`chunk cache on XFS failed: ${e.message}`);
        out.xfs = { error: e.message.split('\n')[0] };
      } finally {
        m?.cleanup();
      }
    }
  }
  table(
    `11. local cache after a ${fmt(EDIT / MiB)} MiB edit of a ${fmt(SIZE / MiB)} MiB file (older version kept as chunks)`,
    ['where', '.lode growth', '% of file', 'du growth', 'loose chunks', 'add (edit)', 'checkout newest', 'method', 'checkout older', 'method', 'fsck'],
    out.runs.map((r) => [
      r.label,
      `${fmt(r.growthBytes / MiB, 1)} MiB`,
      `${fmt(r.growthPct, 2)} %`,
      r.growthDiskKiB === null ? 'n/a' : `${fmt(r.growthDiskKiB / 1024, 1)} MiB`,
      `${fmt(r.looseChunkBytes / MiB, 1)} MiB`,
      fms(r.addMs),
      range(r.checkoutNewestMs),
      methodText(r.methods.newest),
      range(r.checkoutOlderMs),
      methodText(r.methods.older),
      r.fsckOk ? 'ok' : 'FAIL',
    ]),
  );
  return out;
}

// Standalone: `node bench/sections/chunkcache.js [--quick] [--no-xfs]` (after `npx tsc`).
if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = fs.mkdtempSync(path.join(process.env.LODE_BENCH_DIR ?? '/tmp', 'lode-bench-chunkcache-'));
  chunkCacheSection({ benchDir: dir })
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}
