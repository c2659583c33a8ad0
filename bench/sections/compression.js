#!/usr/bin/env node
// lode bench, compression section: what compressed packs save on the remote
// and what they cost, on the tabular bench's CSV, on JSON lines, and on
// random bytes (incompressible: the probe must make it free). Each dataset is
// added once and pushed to two directory remotes in the same run, one with
// `push.compress auto` (the default) and one with `off` (every object raw, as
// before compressed packs), then cloned from each; three runs, ranges shown.
// A second table measures the codecs themselves in-process on 1 MiB chunks
// (brotli q1 is lode's; deflate-raw 1 and zstd 1, where node:zlib has it,
// for comparison), CPU seconds rather than wall time on a shared machine.
//
//   node bench/sections/compression.js           64 MiB per dataset
//   node bench/sections/compression.js --quick   16 MiB per dataset
//
// Environment: LODE_BENCH_DIR (default <tmp>/lode-bench-compress-<pid>), removed at the end.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { MiB, QUICK } from '../lib/options.js';
import { fbytes, fmt, log, table } from '../lib/report.js';
import { lode } from '../lib/measure.js';

const SIZE = (QUICK ? 16 : 64) * MiB;
const RUNS = 3;

/** The tabular bench's CSV rows (bench/tabular.js, writeCsvPair's `before`): random floats, few labels. */
function rng(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
}
const LABELS = ['cat', 'dog', 'bird', 'fish', 'horse', 'cow', 'sheep'];

function writeCsv(file, bytes) {
  const fd = fs.openSync(file, 'w');
  const r = rng(42);
  let id = 0;
  let written = fs.writeSync(fd, 'id,label,f1,f2,f3,f4,note,date\n');
  while (written < bytes) {
    let s = '';
    for (let i = 0; i < 20000; i++) {
      id++;
      s += `${id},${LABELS[(r() * LABELS.length) | 0]},${(r() * 100).toFixed(4)},${(r() * 1000) | 0},${(r() - 0.5).toFixed(6)},${(r() * 1e6).toFixed(2)},note ${id % 977},2024-0${1 + ((r() * 9) | 0)}-1${(r() * 9) | 0}\n`;
    }
    written += fs.writeSync(fd, s);
  }
  fs.closeSync(fd);
}

function writeJsonl(file, bytes) {
  const fd = fs.openSync(file, 'w');
  const r = rng(7);
  let id = 0;
  let written = 0;
  while (written < bytes) {
    let s = '';
    for (let i = 0; i < 10000; i++) {
      id++;
      s += `${JSON.stringify({ id, label: LABELS[(r() * LABELS.length) | 0], score: +(r() * 100).toFixed(4), count: (r() * 1000) | 0, user: `u${(r() * 5000) | 0}`, ts: `2024-0${1 + ((r() * 9) | 0)}-1${(r() * 9) | 0}T12:${String((r() * 60) | 0).padStart(2, '0')}:00Z` })}\n`;
    }
    written += fs.writeSync(fd, s);
  }
  fs.closeSync(fd);
}

function writeRandom(file, bytes) {
  const fd = fs.openSync(file, 'w');
  for (let off = 0; off < bytes; off += 4 * MiB) fs.writeSync(fd, randomBytes(Math.min(4 * MiB, bytes - off)));
  fs.closeSync(fd);
}

const packBytes = (remote) => fs.readdirSync(path.join(remote, 'packs')).filter((f) => f.endsWith('.pack')).reduce((s, f) => s + fs.statSync(path.join(remote, 'packs', f)).size, 0);
const range = (xs, f) => (xs.length === 0 ? 'n/a' : Math.min(...xs) === Math.max(...xs) ? f(xs[0]) : `${f(Math.min(...xs))}–${f(Math.max(...xs))}`);
const sec = (ms) => fmt(ms / 1000, 2);
const cpu = (s) => fmt(s, 2);

/** codecTable measures codecs in-process on 1 MiB chunks of each dataset: ratio and CPU MB/s. */
function codecTable(files) {
  const C = zlib.constants;
  const codecs = [
    ['brotli 1 (lode)', (b) => zlib.brotliCompressSync(b, { params: { [C.BROTLI_PARAM_QUALITY]: 1, [C.BROTLI_PARAM_SIZE_HINT]: b.length } }), (b) => zlib.brotliDecompressSync(b)],
    ['deflate-raw 1', (b) => zlib.deflateRawSync(b, { level: 1 }), (b) => zlib.inflateRawSync(b)],
  ];
  if (typeof zlib.zstdCompressSync === 'function') {
    codecs.push(['zstd 1 (Node >= 22.15 only)', (b) => zlib.zstdCompressSync(b, { params: { [C.ZSTD_c_compressionLevel]: 1 } }), (b) => zlib.zstdDecompressSync(b)]);
  }
  const cpuS = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const rows = [];
  for (const [name, file] of files) {
    const all = fs.readFileSync(file).subarray(0, 32 * MiB);
    const chunks = [];
    for (let o = 0; o < all.length; o += MiB) chunks.push(all.subarray(o, o + MiB));
    for (const [codec, c, d] of codecs) {
      let t = cpuS();
      const out = chunks.map(c);
      const ct = cpuS() - t;
      t = cpuS();
      for (const b of out) d(b);
      const dt = cpuS() - t;
      const z = out.reduce((s, b) => s + b.length, 0);
      rows.push([name, codec, `${fmt(all.length / z, 2)}x`, fmt(all.length / 1e6 / ct, 0), fmt(all.length / 1e6 / dt, 0)]);
    }
  }
  table(`Codecs on 1 MiB chunks, in-process (Node ${process.version})`, ['data', 'codec', 'ratio', 'compress MB/s (CPU)', 'decompress MB/s (CPU)'], rows, [
    'lode compresses with brotli quality 1: in node:zlib on every supported Node; zstd would need Node >= 22.15 to read.',
  ]);
}

export async function compressionSection({ benchDir }) {
  const data = path.join(benchDir, 'data');
  fs.mkdirSync(data, { recursive: true });
  const files = [
    ['CSV (tabular bench)', path.join(data, 'table.csv'), writeCsv],
    ['JSON lines', path.join(data, 'events.jsonl'), writeJsonl],
    ['random', path.join(data, 'noise.bin'), writeRandom],
  ];
  for (const [, f, write] of files) write(f, SIZE);
  codecTable(files.map(([n, f]) => [n, f]));

  const rows = [];
  for (const [name, file] of files) {
    log(`compression: ${name}`);
    const size = fs.statSync(file).size;
    const m = { auto: { push: [], pushCpu: [], clone: [], cloneCpu: [], bytes: 0 }, off: { push: [], pushCpu: [], clone: [], cloneCpu: [], bytes: 0 } };
    for (let run = 0; run < RUNS; run++) {
      const ws = path.join(benchDir, `ws-${run}`);
      fs.rmSync(ws, { recursive: true, force: true });
      fs.mkdirSync(path.join(ws, 'data'), { recursive: true });
      fs.copyFileSync(file, path.join(ws, 'data', path.basename(file)));
      await lode(ws, ['init'], { json: false });
      await lode(ws, ['add', 'data'], { json: false });
      await lode(ws, ['commit', '-m', 'v1'], { json: false });
      // Alternate which mode goes first, so neither always meets a colder cache.
      for (const mode of run % 2 === 0 ? ['auto', 'off'] : ['off', 'auto']) {
        const remote = path.join(benchDir, `remote-${mode}-${run}`);
        await lode(ws, ['config', 'push.compress', mode], { json: false });
        await lode(ws, ['remote', 'add', mode, remote], { json: false });
        const p = await lode(ws, ['push', mode], { json: false });
        m[mode].push.push(p.ms);
        m[mode].pushCpu.push(p.cpuS);
        m[mode].bytes = packBytes(remote);
        const clone = path.join(benchDir, `clone-${mode}-${run}`);
        const c = await lode(benchDir, ['clone', remote, clone], { json: false });
        m[mode].clone.push(c.ms);
        m[mode].cloneCpu.push(c.cpuS);
        fs.rmSync(clone, { recursive: true, force: true });
        fs.rmSync(remote, { recursive: true, force: true });
      }
      fs.rmSync(ws, { recursive: true, force: true });
    }
    for (const mode of ['off', 'auto']) {
      const x = m[mode];
      rows.push([name, mode, fbytes(size), fbytes(x.bytes), `${fmt(size / x.bytes, 2)}x`, range(x.push, sec), range(x.pushCpu, cpu), range(x.clone, sec), range(x.cloneCpu, cpu)]);
    }
  }
  table(`Compressed packs: remote bytes, push and clone on a directory remote (${RUNS} runs, ranges)`, ['data', 'push.compress', 'data size', 'remote packs', 'ratio', 'push s', 'push CPU s', 'clone s', 'clone CPU s'], rows, [
    '`off` stores every object raw (as lode did before compressed packs); `auto` is the default.',
    'Wall times on a shared machine are noisy: compare CPU seconds, and auto against off within one run.',
  ]);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const benchDir = process.env.LODE_BENCH_DIR ?? path.join(os.tmpdir(), `lode-bench-compress-${process.pid}`);
  fs.mkdirSync(benchDir, { recursive: true });
  try {
    await compressionSection({ benchDir });
  } finally {
    fs.rmSync(benchDir, { recursive: true, force: true });
  }
}
