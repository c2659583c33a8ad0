#!/usr/bin/env node
// lode bench, table diff section: generates two versions of a big CSV and of
// a big Parquet file (1% of rows changed: relabelled, removed, added), then
// times `diffTable` keyed by id in a child process, which also reports its
// peak RSS (process.resourceUsage().maxRSS covers the worker threads too).
//
//   node bench/tabular.js            full: 1 GB CSV per side, 200 MB Parquet per side
//   node bench/tabular.js --quick    100 MB CSV, 20 MB Parquet
//
// Needs the build (`npx tsc -p .`: it imports ../dist/tabular/index.js) and
// hyparquet-writer (a devDependency) to write the Parquet files.
// Environment: LODE_BENCH_DIR (default <os.tmpdir()>/lode-bench-tabular-<pid>), removed at the end.
// LODE_BENCH_DATA=<dir> keeps the generated files there and reuses them on the
// next run (for repeated measurements); LODE_BENCH_ONLY=csv|parquet runs one workload;
// LODE_BENCH_DIST=<dir> measures another build's dist/ (before/after comparisons in one run).
//
// Plain ESM JavaScript, no build step.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MB = 1e6;
const LABELS = ['cat', 'dog', 'bird', 'fish', 'horse', 'cow', 'sheep'];

/** Rng is a small deterministic generator (LCG), so both versions of a file come from one stream. */
function rng(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
}

/**
 * writeCsvPair writes `before` and `after` of about `bytes` each: after has
 * 0.6% of rows relabelled, 0.2% removed and 0.2% new rows inserted.
 */
function writeCsvPair(dir, bytes) {
  const before = path.join(dir, 'before.csv');
  const after = path.join(dir, 'after.csv');
  const fb = fs.openSync(before, 'w');
  const fa = fs.openSync(after, 'w');
  const header = 'id,label,f1,f2,f3,f4,note,date\n';
  fs.writeSync(fb, header);
  fs.writeSync(fa, header);
  const r = rng(42);
  let id = 0;
  let newId = 1e10;
  let written = header.length;
  while (written < bytes) {
    let sb = '';
    let sa = '';
    for (let i = 0; i < 20000; i++) {
      id++;
      const label = LABELS[(r() * LABELS.length) | 0];
      const rest = `${(r() * 100).toFixed(4)},${(r() * 1000) | 0},${(r() - 0.5).toFixed(6)},${(r() * 1e6).toFixed(2)},note ${id % 977},2024-0${1 + ((r() * 9) | 0)}-1${(r() * 9) | 0}\n`;
      const row = `${id},${label},${rest}`;
      sb += row;
      const x = r();
      if (x < 0.006) sa += `${id},${LABELS[(LABELS.indexOf(label) + 1) % LABELS.length]},${rest}`;
      else if (x < 0.008) continue;
      else if (x < 0.01) sa += row + `${newId++},cat,1.0000,1,0.000000,1.00,new,2024-01-01\n`;
      else sa += row;
    }
    fs.writeSync(fb, sb);
    fs.writeSync(fa, sa);
    written += sb.length;
  }
  fs.closeSync(fb);
  fs.closeSync(fa);
  return { before, after };
}

/** writeParquetPair writes two Parquet files of about `bytes` each, row group by row group, with the same 1% of changes. */
async function writeParquetPair(dir, bytes) {
  const { ParquetWriter, fileWriter } = await import('hyparquet-writer');
  const schema = [
    { name: 'root', num_children: 6 },
    { name: 'id', type: 'INT64', repetition_type: 'REQUIRED' },
    { name: 'label', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    { name: 'f1', type: 'DOUBLE', repetition_type: 'REQUIRED' },
    { name: 'f2', type: 'INT32', repetition_type: 'REQUIRED' },
    { name: 'f3', type: 'DOUBLE', repetition_type: 'REQUIRED' },
    { name: 'note', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  ];
  const before = path.join(dir, 'before.parquet');
  const after = path.join(dir, 'after.parquet');
  const wb = new ParquetWriter({ writer: fileWriter(before), schema, codec: 'SNAPPY' });
  const wa = new ParquetWriter({ writer: fileWriter(after), schema, codec: 'SNAPPY' });
  const r = rng(7);
  let id = 0n;
  let newId = 10_000_000_000n;
  const GROUP = 100_000;
  while (fs.statSync(before).size < bytes) {
    const b = { id: [], label: [], f1: [], f2: [], f3: [], note: [] };
    const a = { id: [], label: [], f1: [], f2: [], f3: [], note: [] };
    const push = (t, row) => {
      for (const k of Object.keys(t)) t[k].push(row[k]);
    };
    for (let i = 0; i < GROUP; i++) {
      id++;
      const row = { id, label: LABELS[(r() * LABELS.length) | 0], f1: r() * 100, f2: (r() * 1000) | 0, f3: r() - 0.5, note: r() < 0.1 ? null : `n${Number(id % 977n)}` };
      push(b, row);
      const x = r();
      if (x < 0.006) push(a, { ...row, label: 'zebra' });
      else if (x < 0.008) continue;
      else if (x < 0.01) {
        push(a, row);
        push(a, { id: newId++, label: 'cat', f1: 1, f2: 1, f3: 0, note: 'new' });
      } else push(a, row);
    }
    const cols = (t) => Object.keys(t).map((name) => ({ name, data: t[name] }));
    await wb.write({ columnData: cols(b), rowGroupSize: GROUP });
    await wa.write({ columnData: cols(a), rowGroupSize: GROUP * 2 });
  }
  wb.finish();
  wa.finish();
  return { before, after };
}

/** timeDiff runs one diff in a child node process and returns its wall time, peak RSS and row counts. */
function timeDiff(format, files, tmp) {
  const script = `
    import * as fs from 'node:fs';
    const { diffTable } = await import(${JSON.stringify(pathToFileURL(path.join(process.env.LODE_BENCH_DIST ?? path.join(ROOT, 'dist'), 'tabular/index.js')).href)});
    const [format, before, after, tmp] = process.argv.slice(2);
    const side = (file) => ({ file, size: fs.statSync(file).size, label: file });
    const t0 = performance.now();
    const d = await diffTable('bench', format, side(before), side(after), { key: ['id'], rows: true, limit: 20, tmpDir: tmp });
    const seconds = (performance.now() - t0) / 1000;
    const ru = process.resourceUsage();
    // CPU time of the whole process (worker threads included): on a loaded machine it says more than the wall time.
    const cpuSeconds = (ru.userCPUTime + ru.systemCPUTime) / 1e6;
    process.stdout.write(JSON.stringify({ seconds, cpuSeconds, maxRssKiB: ru.maxRSS, rows: d.rows, columns: d.columns.length }));
  `;
  const scriptFile = path.join(tmp, '..', 'diff-child.mjs');
  fs.writeFileSync(scriptFile, script);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [scriptFile, format, files.before, files.after, tmp], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`diff child exited with ${code}`))));
  });
}

/**
 * benchTabular generates the workloads under `tmp` and measures the diff of
 * each; returns one row per workload. `seconds` is the diff alone (not the
 * process start); `mbPerSecPerSide` is one side's size over that time.
 */
export async function benchTabular({ quick = false, tmp, data = process.env.LODE_BENCH_DATA, only = process.env.LODE_BENCH_ONLY } = {}) {
  const dir = fs.mkdtempSync(path.join(tmp ?? os.tmpdir(), 'tabular-'));
  const scratch = path.join(dir, 'scratch');
  fs.mkdirSync(scratch);
  const keep = data ? path.join(data, quick ? 'quick' : 'full') : null;
  const reuse = async (name, write) => {
    if (!keep) return write(dir);
    const where = path.join(keep, name);
    const files = { before: path.join(where, `before.${name}`), after: path.join(where, `after.${name}`) };
    if (fs.existsSync(files.before) && fs.existsSync(files.after)) return files;
    fs.rmSync(where, { recursive: true, force: true });
    fs.mkdirSync(where, { recursive: true });
    return write(where);
  };
  const rows = [];
  try {
    if (only !== 'parquet') {
      const csv = await reuse('csv', (d) => writeCsvPair(d, (quick ? 100 : 1000) * MB));
      const csvResult = await timeDiff('csv', csv, scratch);
      const csvSize = fs.statSync(csv.before).size;
      rows.push(row(`CSV ${fmtMB(csvSize)} per side, key id, 1% changed`, csvSize, csvResult));
      if (!keep) {
        fs.rmSync(csv.before);
        fs.rmSync(csv.after);
      }
    }
    if (only !== 'csv') {
      const pq = await reuse('parquet', (d) => writeParquetPair(d, (quick ? 20 : 200) * MB));
      const pqResult = await timeDiff('parquet', pq, scratch);
      const pqSize = fs.statSync(pq.before).size;
      rows.push(row(`Parquet ${fmtMB(pqSize)} per side (snappy), key id, 1% changed`, pqSize, pqResult));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function row(workload, size, r) {
  return {
    workload,
    seconds: Number(r.seconds.toFixed(2)),
    mbPerSecPerSide: Number((size / MB / r.seconds).toFixed(1)),
    // Process CPU time (start-up included), and both sides' input over it: what the diff costs whatever else the machine runs.
    cpuSeconds: Number(r.cpuSeconds.toFixed(2)),
    mbPerCpuSecond: Number(((2 * size) / MB / r.cpuSeconds).toFixed(1)),
    peakRssMiB: Math.round(r.maxRssKiB / 1024),
    rows: r.rows,
  };
}

function fmtMB(bytes) {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${Math.round(bytes / MB)} MB`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const quick = process.argv.includes('--quick') || process.env.LODE_BENCH_QUICK === '1';
  const base = process.env.LODE_BENCH_DIR ?? os.tmpdir();
  fs.mkdirSync(base, { recursive: true });
  const rows = await benchTabular({ quick, tmp: base });
  const headers = ['workload', 's', 'MB/s per side', 'CPU s', 'MB/CPU-s', 'peak RSS MiB', 'rows before', 'added', 'removed', 'modified'];
  const cells = rows.map((r) => [r.workload, r.seconds.toFixed(2), r.mbPerSecPerSide.toFixed(1), r.cpuSeconds.toFixed(2), r.mbPerCpuSecond.toFixed(1), String(r.peakRssMiB), String(r.rows.before), String(r.rows.added), String(r.rows.removed), String(r.rows.modified)]);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  console.log(`## table diff (${quick ? 'quick' : 'full'}; node ${process.version}, ${os.cpus().length} cpus)`);
  console.log(line(headers));
  for (const c of cells) console.log(line(c));
}
