// bench section 1: ceilings measured in-process in the same run (SHA-256,
// xxh64, FastCDC, read, write, copy, file creation), to read lode's rows against.

import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { KiB, MiB, ROOT, SIZES } from '../lib/options.js';
import { fmt, log, table, warn } from '../lib/report.js';
import { bestOf, busyCores, cpuSnap, hr, mbps, msSince, waitIdle } from '../lib/measure.js';
import { createProbe } from '../lib/workloads.js';

function sha256Single(bytes) {
  const buf = randomBytes(4 * MiB);
  const h = createHash('sha256');
  const t0 = hr();
  for (let done = 0; done < bytes; done += buf.length) h.update(buf);
  h.digest();
  return msSince(t0);
}

/**
 * inThreads runs `body` (CommonJS source using `workerData` and `buf`, a
 * random 4 MiB buffer) on `n` worker threads at once, started together once
 * all are ready; returns the wall ms until the last one finishes.
 */
async function inThreads(n, body, data) {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const fs = require('node:fs');
    const { createHash, randomBytes } = require('node:crypto');
    const buf = randomBytes(4 << 20);
    parentPort.postMessage('ready');
    parentPort.once('message', () => {
      ${body}
      parentPort.postMessage('done');
    });`;
  const workers = Array.from({ length: n }, (_, i) => new Worker(code, { eval: true, workerData: data(i) }));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
  const t0 = hr();
  await Promise.all(workers.map((w) => {
    const p = new Promise((r) => w.once('message', r));
    w.postMessage('go');
    return p;
  }));
  const ms = msSince(t0);
  await Promise.all(workers.map((w) => w.terminate()));
  return ms;
}

/** sha256Threads hashes `bytes` on each of `n` worker threads at once; returns wall ms. */
function sha256Threads(n, bytes) {
  return inThreads(n, `
      const h = createHash('sha256');
      for (let done = 0; done < workerData; done += buf.length) h.update(buf);
      h.digest();`, () => bytes);
}

/** writeThreads writes a new file of `bytes` on each of `n` threads at once; returns wall ms. */
async function writeThreads(n, dir, bytes) {
  const files = Array.from({ length: n }, (_, i) => path.join(dir, `scratch-${i}.bin`));
  const ms = await inThreads(n, `
      const fd = fs.openSync(workerData.file, 'w');
      for (let off = 0; off < workerData.bytes; off += buf.length) {
        let w = 0;
        while (w < buf.length) w += fs.writeSync(fd, buf, w, buf.length - w);
      }
      fs.closeSync(fd);`, (i) => ({ file: files[i], bytes }));
  for (const f of files) fs.rmSync(f, { force: true });
  return ms;
}

async function xxh64Single(bytes) {
  try {
    const { default: xxhash } = await import('xxhash-wasm');
    const api = await xxhash();
    const buf = randomBytes(4 * MiB);
    const h = api.create64();
    const t0 = hr();
    for (let done = 0; done < bytes; done += buf.length) {
      for (let off = 0; off < buf.length; off += MiB) h.update(buf.subarray(off, off + MiB));
    }
    h.digest();
    return msSince(t0);
  } catch (e) {
    warn(`xxh64 ceiling skipped: ${e.message}`);
    return null;
  }
}

/** fastcdcSingle runs lode's own cutPoint (from dist/) over `bytes` of random data. */
async function fastcdcSingle(bytes) {
  try {
    const mod = await import(pathToFileURL(path.join(ROOT, 'dist', 'core', 'chunker.js')).href);
    const params = mod.DEFAULT_CHUNKING;
    const buf = randomBytes(64 * MiB);
    let chunks = 0;
    const t0 = hr();
    for (let done = 0; done < bytes; done += buf.length) {
      let start = 0;
      while (start < buf.length) {
        start += mod.cutPoint(buf, start, buf.length, params);
        chunks++;
      }
    }
    return { ms: msSince(t0), avgChunk: bytes / chunks };
  } catch (e) {
    warn(`FastCDC ceiling skipped: ${e.message}`);
    return null;
  }
}

function readFilesMs(files) {
  const buf = Buffer.allocUnsafe(4 * MiB);
  const t0 = hr();
  for (const f of files) {
    const fd = fs.openSync(f, 'r');
    try {
      let pos = 0;
      while (true) {
        const n = fs.readSync(fd, buf, 0, buf.length, pos);
        if (n === 0) break;
        pos += n;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return msSince(t0);
}

function writeFileMs(file, bytes) {
  const buf = randomBytes(4 * MiB);
  const t0 = hr();
  const fd = fs.openSync(file, 'w');
  try {
    for (let off = 0; off < bytes; off += buf.length) {
      let w = 0;
      while (w < buf.length) w += fs.writeSync(fd, buf, w, buf.length - w);
    }
  } finally {
    fs.closeSync(fd);
  }
  return msSince(t0);
}

export async function ceilingsSection(ctx) {
  const { benchDir, bPaths, bBytes, res } = ctx;
  // 1. Ceilings.
  log('ceilings: SHA-256, xxh64, FastCDC, read, write');
  const shaBytes = SIZES.shaBytes;
  await waitIdle('ceilings');
  const ceilSnap = cpuSnap();
  const ceilT0 = hr();
  const ceilU0 = process.cpuUsage();
  const sha1ms = await bestOf(3, () => sha256Single(shaBytes));
  const sha2ms = await bestOf(3, () => sha256Threads(2, shaBytes));
  const sha1 = mbps(shaBytes, sha1ms);
  const sha2 = mbps(2 * shaBytes, sha2ms);
  const xxhMs = await bestOf(3, () => xxh64Single(shaBytes));
  let cdc = null;
  for (let i = 0; i < 3; i++) {
    const c = await fastcdcSingle(shaBytes);
    if (c && (!cdc || c.ms < cdc.ms)) cdc = c;
  }
  readFilesMs(bPaths); // make sure they are in page cache
  const readMs = await bestOf(3, () => readFilesMs(bPaths));
  const scratch = path.join(benchDir, 'scratch.bin');
  // Writes allocate new page-cache pages. On VMs whose free memory goes back to
  // the host (balloon free-page reporting), the first touch of a page is far
  // dearer than reusing one just freed: measure both, the first is what a
  // command writing fresh data usually meets.
  const writeMs = writeFileMs(scratch, SIZES.bFileSize);
  fs.rmSync(scratch, { force: true });
  const writeRecycledMs = writeFileMs(scratch, SIZES.bFileSize);
  fs.rmSync(scratch, { force: true });
  const write2Ms = await writeThreads(2, benchDir, SIZES.bFileSize);
  const copyMs = await bestOf(2, () => {
    const t0copy = hr();
    fs.copyFileSync(bPaths[0], scratch);
    const ms = msSince(t0copy);
    fs.rmSync(scratch, { force: true });
    return ms;
  });
  const createUs = createProbe(benchDir);
  const ceilWall = msSince(ceilT0) / 1000;
  const ceilU = process.cpuUsage(ceilU0);
  const ceilMachine = busyCores(ceilSnap, cpuSnap());
  const ceilOther = ceilMachine === null ? null : Math.max(0, ceilMachine - (ceilU.user + ceilU.system) / 1e6 / ceilWall);
  const ceil = {
    sha256_1core_MBps: sha1,
    sha256_2threads_MBps: sha2,
    xxh64_1core_MBps: xxhMs === null ? null : mbps(shaBytes, xxhMs),
    fastcdc_1core_MBps: cdc === null ? null : mbps(shaBytes, cdc.ms),
    fastcdc_avgChunkKiB: cdc === null ? null : cdc.avgChunk / KiB,
    readB_MBps: mbps(bBytes, readMs),
    write_MBps: mbps(SIZES.bFileSize, writeMs),
    write_recycled_MBps: mbps(SIZES.bFileSize, writeRecycledMs),
    write_2threads_MBps: mbps(2 * SIZES.bFileSize, write2Ms),
    copyFile_MBps: mbps(SIZES.bFileSize, copyMs),
    generateB_MBps: res.generate.bMBps,
    otherCores: ceilOther,
    create4k_filesPerS: 1e6 / createUs,
    create4k_us: createUs,
  };
  // What one thread could reach doing read + SHA-256 + FastCDC + xxh64 + write in sequence.
  const perByte = [ceil.readB_MBps, sha1, ceil.xxh64_1core_MBps, ceil.fastcdc_1core_MBps, ceil.write_MBps].filter((x) => x && Number.isFinite(x)).reduce((s, x) => s + 1 / x, 0);
  ceil.addPipeline_1thread_MBps = 1 / perByte;
  // Two threads, one big file each: each thread gets half the measured 2-thread write rate.
  const perByte2 = perByte - 1 / ceil.write_MBps + 2 / ceil.write_2threads_MBps;
  ceil.addPipeline_2threads_MBps = 2 / perByte2;
  res.ceilings = ceil;
  table(`1. ceilings (in-process, same run, CPU ones best of 3; other processes used ${fmt(ceilOther, 2)} cores meanwhile)`, ['measure', 'MB/s', 'note'], [
    ['SHA-256, 1 core', fmt(sha1), `${fmt(shaBytes / MiB)} MiB from one 4 MiB buffer`],
    ['SHA-256, 2 threads (total)', fmt(sha2), `2 worker_threads x ${fmt(shaBytes / MiB)} MiB concurrently`],
    ['xxh64 (xxhash-wasm), 1 core', fmt(ceil.xxh64_1core_MBps), 'streaming create64(), 1 MiB slices'],
    ['FastCDC cutPoint (dist/), 1 core', fmt(ceil.fastcdc_1core_MBps), cdc ? `lode defaults, avg chunk ${fmt(cdc.avgChunk / KiB)} KiB` : ''],
    ['read B (page cache)', fmt(ceil.readB_MBps), 'readSync loop, 4 MiB buffer'],
    ['write new file, 1 thread', fmt(ceil.write_MBps), `writeSync loop, 4 MiB buffer, ${fmt(SIZES.bFileSize / MiB)} MiB (first run: fresh pages)`],
    ['  again, into pages just freed', fmt(ceil.write_recycled_MBps), 'same, right after deleting the first file (for contrast)'],
    ['write new files, 2 threads (total)', fmt(ceil.write_2threads_MBps), `2 worker_threads x ${fmt(SIZES.bFileSize / MiB)} MiB concurrently (first run)`],
    ['copyFileSync B file', fmt(ceil.copyFile_MBps), 'copy_file_range in the kernel'],
    ['generate B (AES-CTR)', fmt(ceil.generateB_MBps), 'workload generation, for reference'],
    ['create 4 KiB files, 1 thread', `${fmt(ceil.create4k_filesPerS)} files/s`, `open(wx) + write + close + rename: ${fmt(createUs)} µs/file now`],
    ['add pipeline estimate, 1 thread', fmt(ceil.addPipeline_1thread_MBps), 'read+SHA+CDC+xxh64+write in series (sum of per-byte costs)'],
    ['add pipeline estimate, 2 threads', fmt(ceil.addPipeline_2threads_MBps), 'same, one big file per thread, 2-thread write rate'],
  ]);
  return { sha1, sha2, ceil };
}
