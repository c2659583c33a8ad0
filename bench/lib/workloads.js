// bench/lib/workloads.js: generated data (A: many small files, B: big
// incompressible files), page-cache warming, file-creation probes, counts.

import { createCipheriv, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KiB, MiB } from './options.js';
import { hr, mbps, msSince, sh } from './measure.js';

// ---------------------------------------------------------------- workloads

export function genA(dir, n, size, dirs) {
  const t0 = hr();
  const all = randomBytes(n * size);
  const paths = [];
  for (let d = 0; d < dirs; d++) fs.mkdirSync(path.join(dir, `d${String(d).padStart(3, '0')}`), { recursive: true });
  for (let i = 0; i < n; i++) {
    const p = path.join(dir, `d${String(i % dirs).padStart(3, '0')}`, `f${String(i).padStart(5, '0')}.bin`);
    fs.writeFileSync(p, all.subarray(i * size, (i + 1) * size));
    paths.push(p);
  }
  return { paths, ms: msSince(t0) };
}

/**
 * genB writes `size` bytes of AES-128-CTR keystream (random key per file):
 * incompressible, and no 4 MiB block repeats within or across files, so
 * content-defined chunking cannot dedupe any of it. Several GB/s with AES-NI.
 */
export function genB(file, size) {
  const t0 = hr();
  const cipher = createCipheriv('aes-128-ctr', randomBytes(16), randomBytes(16));
  const zeros = Buffer.alloc(4 * MiB);
  const fd = fs.openSync(file, 'w');
  try {
    for (let off = 0; off < size; off += zeros.length) {
      const n = Math.min(zeros.length, size - off);
      const block = cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
      let w = 0;
      while (w < block.length) w += fs.writeSync(fd, block, w, block.length - w);
    }
  } finally {
    fs.closeSync(fd);
  }
  return msSince(t0);
}

/**
 * createProbe measures what the filesystem charges per new small file right
 * now: open(O_CREAT|O_EXCL) + 4 KiB write + close + rename, `n` times (the
 * least add and copy-checkout must do per file). The files are kept until the
 * end: deleting them would itself slow later creates on ext4 without a
 * journal, which skips recently deleted inodes by scanning for them.
 */
let probeSeq = 0;
export function createProbe(benchDir, n = 500) {
  const dir = path.join(benchDir, 'probes', String(probeSeq++));
  fs.mkdirSync(dir, { recursive: true });
  const buf = randomBytes(4 * KiB);
  const t0 = hr();
  for (let i = 0; i < n; i++) {
    const tmp = path.join(dir, `.tmp-${i}`);
    const fd = fs.openSync(tmp, 'wx', 0o444);
    fs.writeSync(fd, buf);
    fs.closeSync(fd);
    fs.renameSync(tmp, path.join(dir, `f${i}`));
  }
  return (msSince(t0) * 1000) / n; // µs per file
}

/** warm reads files (or every file under directories) so they are in the page cache; returns MB/s. */
export function warm(paths) {
  const buf = Buffer.allocUnsafe(4 * MiB);
  let bytes = 0;
  const t0 = hr();
  const one = (p) => {
    const st = fs.lstatSync(p);
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(p)) one(path.join(p, e));
      return;
    }
    if (!st.isFile()) return;
    const fd = fs.openSync(p, 'r');
    try {
      let n;
      while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) bytes += n;
    } finally {
      fs.closeSync(fd);
    }
  };
  for (const p of paths) one(p);
  return mbps(bytes, msSince(t0));
}

export function countFiles(dir) {
  let n = 0;
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    if (d.isDirectory()) n += countFiles(path.join(dir, d.name));
    else if (d.isFile()) n++;
  }
  return n;
}

export function duKiB(dir) {
  const out = sh('du', ['-sk', dir]);
  return out ? Number(out.split(/\s+/)[0]) : null;
}
