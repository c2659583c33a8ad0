#!/usr/bin/env node
// lode bench, compression section: what compressed packs save on the remote
// and what they cost, on the tabular bench's CSV, a real-looking orders CSV, on JSON lines, and on
// random bytes (incompressible: the probe must make it free). Each dataset is
// added once and pushed to two directory remotes in the same run, one with
// `push.compress auto` (the default) and one with `off` (every object raw, as
// before compressed packs), then cloned from each; three runs, ranges shown.
// A second table measures the codecs themselves in-process on 1 MiB chunks:
// lode's own (compressSync from dist/: brotli q1, tables laid out column by
// column first), and for comparison brotli q1-q6 (lgwin 22 and 24), brotli
// q2 over lode's column layout, deflate-raw 1/6/9 and zstd 1/3/19 where
// node:zlib has it; CPU seconds rather than wall time on a shared machine.
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
import { MiB, QUICK, ROOT } from '../lib/options.js';
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

/**
 * writeOrdersCsv writes a table like a real export, unlike the bench CSV's
 * uniform random floats: increasing order IDs and timestamps, skewed
 * categorical columns (city, product, status, payment), lognormal prices
 * with 2 decimals, small quantities, an optional discount, coordinates with
 * 6 decimals and a random 16-hex session ID.
 */
function writeOrdersCsv(file, bytes) {
  const fd = fs.openSync(file, 'w');
  const r = rng(1234);
  const gauss = () => {
    let u = 0;
    for (let i = 0; i < 6; i++) u += r();
    return (u - 3) / Math.sqrt(0.5);
  };
  const skewed = (xs) => xs[Math.min(xs.length - 1, Math.floor(xs.length * r() ** 3))];
  const cities = ['New York', 'Los Angeles', 'Chicago', 'Houston', 'Phoenix', 'Philadelphia', 'San Antonio', 'San Diego', 'Dallas', 'San Jose', 'Austin', 'Jacksonville', 'Fort Worth', 'Columbus', 'Charlotte', 'Indianapolis', 'San Francisco', 'Seattle', 'Denver', 'Washington'];
  const pay = ['card', 'cash', 'card', 'card', 'voucher', 'dispute', 'no charge'];
  const status = ['completed', 'completed', 'completed', 'completed', 'cancelled', 'refunded'];
  const products = Array.from({ length: 300 }, (_, i) => `SKU-${(100000 + i * 7919) % 999983}`);
  const hex = () => Math.floor(r() * 0x100000000).toString(16).padStart(8, '0');
  let t = Date.UTC(2024, 0, 1);
  let id = 5_000_000;
  let written = fs.writeSync(fd, 'order_id,customer_id,created_at,city,product,status,payment,quantity,unit_price,discount,total,lat,lon,session\n');
  while (written < bytes) {
    let s = '';
    for (let i = 0; i < 5000; i++) {
      id += 1 + ((r() * 3) | 0);
      t += Math.floor(r() * 4000);
      const q = 1 + Math.floor(r() ** 4 * 12);
      const price = Math.exp(2.5 + gauss() * 0.9).toFixed(2);
      const disc = r() < 0.8 ? '' : String(Math.floor(r() * 6) * 5);
      const total = (q * +price * (1 - (+disc || 0) / 100)).toFixed(2);
      s += `${id},C${String(Math.floor(r() ** 2 * 200000)).padStart(7, '0')},${new Date(t).toISOString().replace('T', ' ').slice(0, 19)},${skewed(cities)},${skewed(products)},${skewed(status)},${skewed(pay)},${q},${price},${disc},${total},${(40.6 + r() * 0.3).toFixed(6)},${(-74.05 + r() * 0.3).toFixed(6)},${hex()}${hex()}\n`;
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
async function codecTable(files) {
  const C = zlib.constants;
  const { compressSync, decompress } = await import(path.join(ROOT, 'dist/objects/codec.js'));
  const { toColumns, fromColumns, tabularDelimiter } = await import(path.join(ROOT, 'dist/objects/columns.js'));
  const brotli = (q, lgwin = 22) => (b) => zlib.brotliCompressSync(b, { params: { [C.BROTLI_PARAM_QUALITY]: q, [C.BROTLI_PARAM_LGWIN]: lgwin, [C.BROTLI_PARAM_SIZE_HINT]: b.length } });
  // lode's codec: the chunk's own choice (stored chunks count at their size).
  const lode = (b) => compressSync(b) ?? { codec: 0, bytes: b, size: b.length };
  const codecs = [
    ['lode (compressSync)', (b) => ({ ...lode(b), size: b.length }), (z) => decompress(z.codec, z.bytes, z.size, 'bench')],
    ...[1, 2, 3, 4, 5, 6].flatMap((q) => [22, 24].map((w) => [`brotli q${q} lgwin ${w}`, brotli(q, w), (b) => zlib.brotliDecompressSync(b)])),
    [
      'columns + brotli q2',
      (b) => {
        const d = tabularDelimiter(b);
        return d === undefined ? { plain: brotli(2)(b) } : { cols: brotli(2)(toColumns(b, d)), size: b.length };
      },
      (z) => (z.plain ? zlib.brotliDecompressSync(z.plain) : fromColumns(zlib.brotliDecompressSync(z.cols), z.size)),
    ],
    ...[1, 6, 9].map((l) => [`deflate-raw ${l}`, (b) => zlib.deflateRawSync(b, { level: l }), (b) => zlib.inflateRawSync(b)]),
  ];
  if (typeof zlib.zstdCompressSync === 'function') {
    for (const l of [1, 3, 19]) codecs.push([`zstd ${l} (Node >= 22.15 only)`, (b) => zlib.zstdCompressSync(b, { params: { [C.ZSTD_c_compressionLevel]: l } }), (b) => zlib.zstdDecompressSync(b)]);
  }
  const stored = (z) => (z.bytes ?? z.plain ?? z.cols ?? z).length;
  const cpuS = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const rows = [];
  for (const [name, file] of files) {
    const all = fs.readFileSync(file).subarray(0, (QUICK ? 8 : 32) * MiB);
    const chunks = [];
    for (let o = 0; o < all.length; o += MiB) chunks.push(all.subarray(o, o + MiB));
    for (const [codec, c, d] of codecs) {
      d(c(chunks[0])); // warm up: lode's column layout is JavaScript, cold on its first chunk
      let t = cpuS();
      const out = chunks.map(c);
      const ct = cpuS() - t;
      t = cpuS();
      for (const b of out) d(b);
      const dt = cpuS() - t;
      const z = out.reduce((s, b) => s + stored(b), 0);
      rows.push([name, codec, `${fmt(all.length / z, 2)}x`, fmt(all.length / 1e6 / ct, 0), fmt(all.length / 1e6 / dt, 0)]);
    }
  }
  table(`Codecs on 1 MiB chunks, in-process (Node ${process.version})`, ['data', 'codec', 'ratio', 'compress MB/s (CPU)', 'decompress MB/s (CPU)'], rows, [
    'lode: brotli quality 1, tables (CSV, TSV, flat JSON lines) laid out column by column first (codec 3); random bytes skipped by the probe.',
    'brotli is in node:zlib on every supported Node; zstd would need Node >= 22.15 to read. lgwin 24 equals 22 on chunks <= 4 MiB.',
  ]);
}

export async function compressionSection({ benchDir }) {
  const data = path.join(benchDir, 'data');
  fs.mkdirSync(data, { recursive: true });
  const files = [
    ['CSV (tabular bench)', path.join(data, 'table.csv'), writeCsv],
    ['CSV (orders export)', path.join(data, 'orders.csv'), writeOrdersCsv],
    ['JSON lines', path.join(data, 'events.jsonl'), writeJsonl],
    ['random', path.join(data, 'noise.bin'), writeRandom],
  ];
  for (const [, f, write] of files) write(f, SIZE);
  await codecTable(files.map(([n, f]) => [n, f]));

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
