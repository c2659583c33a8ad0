#!/usr/bin/env node
// bench/partial-clone.js: bytes a default (partial) clone fetches versus
// `clone --all`, on a dataset with several versions, through the built
// binary and a directory remote. Prints one table; the byte counts are
// deterministic (seeded data), the times are wall clock on whatever load the
// machine has (run it three times for a range).
//
//   npm run build && node bench/partial-clone.js [--versions 5] [--big-mib 64] [--small 400]
//
// Each version edits 1 MiB in the middle of the big file (content-defined
// chunking keeps the rest), rewrites a tenth of the small files and a table.
// Reported: file bytes fetched (`clone --json` fetched.bytes), the size of
// the local cache afterwards, and the wall time of each clone; then what
// `gc --pushed` frees in the --all clone.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/lode.js', import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const VERSIONS = arg('versions', 5);
const BIG_MIB = arg('big-mib', 64);
const SMALL = arg('small', 400);
const MiB = 1 << 20;

function lode(cwd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CI: '1' }, maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`lode ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return { ms, json: args.includes('--json') ? JSON.parse(r.stdout) : undefined };
}

/** rand fills a buffer with seeded bytes (SHA-256 in counter mode: fast enough, reproducible). */
function rand(size, seed) {
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (let i = 0; off < size; i++) {
    const h = createHash('sha256').update(`${seed}:${i}`).digest();
    off += h.copy(out, off);
  }
  return out;
}

function dirBytes(dir) {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += dirBytes(p);
    else if (e.isFile()) n += fs.statSync(p).size;
  }
  return n;
}

const mib = (b) => (b / MiB).toFixed(1);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-bench-partial-'));
try {
  const seed = path.join(root, 'seed');
  fs.mkdirSync(path.join(seed, 'data', 'small'), { recursive: true });
  lode(seed, ['init']);
  const big = rand(BIG_MIB * MiB, 'big');
  for (let v = 1; v <= VERSIONS; v++) {
    if (v > 1) rand(MiB, `edit${v}`).copy(big, Math.floor(big.length / 2) - MiB / 2 + v * 4096);
    fs.writeFileSync(path.join(seed, 'data', 'big.bin'), big);
    for (let i = 0; i < SMALL; i++) {
      if (v === 1 || i % 10 === v % 10) fs.writeFileSync(path.join(seed, 'data', 'small', `f${i}.bin`), rand(8192 + (i % 7) * 1000, `s${i}v${v}`));
    }
    fs.writeFileSync(path.join(seed, 'data', 'labels.csv'), `id,label,version\n${Array.from({ length: 2000 }, (_, i) => `${i},c${(i * v) % 13},${v}`).join('\n')}\n`);
    lode(seed, ['add', 'data']);
    lode(seed, ['commit', '-m', `v${v}`]);
  }
  const remote = path.join(root, 'remote');
  lode(seed, ['remote', 'add', 'origin', remote]);
  lode(seed, ['push']);
  const remoteBytes = dirBytes(path.join(remote, 'packs'));

  const partial = lode(root, ['clone', remote, 'partial', '--json']);
  const all = lode(root, ['clone', '--all', remote, 'all', '--json']);
  // Loose cache files, local packs (small fetched files are packed) and loose chunks of split older versions.
  const cacheOf = (name) => ['cache', 'packs', 'chunks'].reduce((n, d) => n + (fs.existsSync(path.join(root, name, '.lode', d)) ? dirBytes(path.join(root, name, '.lode', d)) : 0), 0);
  const partialCache = cacheOf('partial');
  const allCache = cacheOf('all');
  const gc = lode(path.join(root, 'all'), ['gc', '--pushed', '--json']);
  const afterGc = cacheOf('all');

  const dataset = BIG_MIB * MiB + SMALL * 11_000;
  console.log(`partial clone vs clone --all: ${VERSIONS} versions of a dataset of ~${mib(dataset)} MiB (a ${BIG_MIB} MiB file with 1 MiB edited per version, ${SMALL} small files, a tenth rewritten per version, one table); remote packs ${mib(remoteBytes)} MiB`);
  const rows = [
    ['clone (default)', mib(partial.json.fetched.bytes), partial.json.fetched.files, mib(partialCache), partial.ms.toFixed(0)],
    ['clone --all', mib(all.json.fetched.bytes), all.json.fetched.files, mib(allCache), all.ms.toFixed(0)],
    ['clone --all, then gc --pushed', '-', '-', mib(afterGc), gc.ms.toFixed(0)],
  ];
  const head = ['', 'file MiB fetched', 'files fetched', 'local cache MiB', 'wall ms'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  for (const r of [head, ...rows]) console.log(r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  '));
  console.log(`default / --all fetched bytes: ${(partial.json.fetched.bytes / all.json.fetched.bytes).toFixed(2)}; gc --pushed dropped ${gc.json.pushed.filesDropped} files (${mib(gc.json.pushed.bytesDropped)} MiB), kept ${gc.json.pushed.filesNeeded} checked out`);
  console.log('(clone --all keeps older versions of big files as the chunks the newest lacks: docs/formats.md, Split files)');
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
