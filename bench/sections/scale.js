// bench section "scale" (opt-in: --scale, or --only-scale): millions of files.
//
// Part 1, real files: LODE_BENCH_SCALE_FILES (default 1,000,000) files of 64 B
// in 1,000 folders: add, commit, no-op status, diff of 100 changed files,
// checkout switching 1% of the files and back, push of a 1% change to a
// directory remote (against the first push), each with its peak RSS.
//
// Part 2, metadata only: LODE_BENCH_SCALE_META (default 10,000,000) files in
// 1,000 folders (10,000 each: sharded directories), written straight into a
// repository as trees, two commits 100 files apart and an index, with no file
// bytes anywhere: `diff --staged` (status's index half: the index read, trees
// built from it and compared with HEAD), `diff` of the 100 changes between the
// commits, `ls` of one folder, with peak RSS. The generator uses lode's own encoders from dist/.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { GiB, KEEP, MiB, PROFILE, ROOT } from '../lib/options.js';
import { printProfiles, profiled } from '../lib/profile.js';
import { fmib, fmt, fsec, log, table, warn } from '../lib/report.js';
import { hr, lode, median, msSince } from '../lib/measure.js';

const FOLDERS = 1000;
const FILE_SIZE = 64;

export const SCALE_TARGETS = { statusNoop1MMs: 3000, rss10MMiB: 1024, diff10MMs: 1000 };

const folderName = (d) => `d${String(d).padStart(4, '0')}`;
const fileName = (i) => `f${String(i).padStart(8, '0')}.bin`;

/** content of file `i` in version `v`: 64 bytes, unique per (i, v). */
function content(i, v = 0) {
  const s = `file ${i} version ${v} `;
  return Buffer.from(s.padEnd(FILE_SIZE, '.'), 'latin1');
}

function row(label, r, files, note = '') {
  return [label, fsec(r.ms), fmib(r.rssKiB), r.rssKiB ? fmt((r.rssKiB * 1024) / files, 0) : 'n/a', note];
}

export async function scaleSection(benchDir) {
  const out = {};
  const nFiles = Number(process.env.LODE_BENCH_SCALE_FILES ?? 1_000_000);
  const nMeta = Number(process.env.LODE_BENCH_SCALE_META ?? 10_000_000);
  if (nFiles > 0) out.files = await realFiles(benchDir, nFiles);
  if (nMeta > 0) out.meta = await metadataOnly(benchDir, nMeta);
  // Targets are set at 1M real and 10M metadata-only files; a smaller run shows a linear projection.
  const targets = [];
  if (out.files) {
    const st = out.files.statusNoopMedianMs;
    const full = nFiles >= 1_000_000;
    targets.push({ metric: `no-op status, ${fmt(nFiles)} files`, shown: full ? fsec(st) : `${fsec(st)} (1M projected: ${fsec((st * 1e6) / nFiles)})`, target: '<= 3 s at 1M', pass: (full ? st : (st * 1e6) / nFiles) <= SCALE_TARGETS.statusNoop1MMs });
    const p = out.files.pushChange;
    targets.push({ metric: 'push of a 1% change / first push (bytes)', shown: `${fmt(p.bytesRatio * 100, 2)}%`, target: 'about 1% (proportional)', pass: p.bytesRatio < 0.03 });
  }
  if (out.meta) {
    const m = out.meta;
    const full = nMeta >= 10_000_000;
    const peakMiB = Math.max(m.status.rssKiB ?? 0, m.diff.rssKiB ?? 0) / 1024;
    const projected = full ? peakMiB : (peakMiB * 1e7) / nMeta;
    targets.push({ metric: `peak RSS, ${fmt(nMeta)} files (diff --staged, diff)`, shown: full ? `${fmt(peakMiB)} MiB` : `${fmt(peakMiB)} MiB (10M projected: ${fmt(projected)} MiB)`, target: '<= 1024 MiB at 10M', pass: projected <= SCALE_TARGETS.rss10MMiB });
    targets.push({ metric: `diff of 100 changes, ${fmt(nMeta)} files`, shown: fsec(m.diff.ms), target: '< 1 s', pass: m.diff.ms < SCALE_TARGETS.diff10MMs });
  }
  table('scale targets', ['metric', 'value', 'target', 'result'], targets.map((t) => [t.metric, t.shown, t.target, t.pass ? 'pass' : 'FAIL']));
  out.targets = targets;
  return out;
}

// ---------------------------------------------------------------- real files

async function realFiles(benchDir, n) {
  // LODE_BENCH_SCALE_FOLDERS (default 1,000): fewer folders give each the size it has at 1M files from fewer files.
  const FOLDERS = Number(process.env.LODE_BENCH_SCALE_FOLDERS ?? 1000);
  const repo = path.join(benchDir, 'scale');
  const remote = path.join(benchDir, 'scale-remote');
  const data = path.join(repo, 's');
  log(`scale: generating ${fmt(n)} files of ${FILE_SIZE} B in ${FOLDERS} folders`);
  const tGen = hr();
  for (let d = 0; d < FOLDERS; d++) fs.mkdirSync(path.join(data, folderName(d)), { recursive: true });
  const fileAt = (i) => path.join(data, folderName(i % FOLDERS), fileName(i));
  for (let i = 0; i < n; i++) fs.writeFileSync(fileAt(i), content(i));
  const genMs = msSince(tGen);
  await lode(repo, ['init']);
  log('scale: add');
  const add = await lode(repo, ['add', 's']);
  log('scale: commit');
  const commit = await lode(repo, ['commit', '-m', 'v1']);
  log('scale: status');
  const st = [];
  for (let i = 0; i < 3; i++) {
    const r = await lode(repo, ['status']);
    if (!r.json.clean) warn('scale: no-op status is not clean');
    st.push(r);
  }
  const stMedian = median(st.map((r) => r.ms));
  const statusProfile = PROFILE ? await profiled(`no-op status, ${fmt(n)} files`, repo, ['status', '--json'], path.join(benchDir, 'prof-scale-status')) : undefined;
  const stRss = Math.max(...st.map((r) => r.rssKiB ?? 0)) || null;
  log('scale: first push');
  await lode(repo, ['remote', 'add', 'share', remote]);
  const push1 = await lode(repo, ['push']);
  // 100 changed files, spread over 100 folders.
  const step = Math.max(1, Math.floor(n / 100));
  for (let k = 0; k < 100 && k * step < n; k++) fs.writeFileSync(fileAt(k * step + 7 < n ? k * step + 7 : k * step), content(k * step + 7, 1));
  const add100 = await lode(repo, ['add', 's']);
  const status100 = await lode(repo, ['status']);
  await lode(repo, ['commit', '-m', 'v2: 100 files']);
  log('scale: diff of 100 changes');
  const diff100 = await lode(repo, ['diff', 'HEAD~1', 'HEAD']);
  if (diff100.json.changes.length !== Math.min(100, n)) warn(`scale: diff found ${diff100.json.changes.length} changes, not 100`);
  // 1% of the files.
  const onePct = Math.max(1, Math.floor(n / 100));
  for (let k = 0; k < onePct; k++) {
    const i = (k * 101 + 13) % n; // spread over the folders
    fs.writeFileSync(fileAt(i), content(i, 2));
  }
  await lode(repo, ['add', 's']);
  await lode(repo, ['commit', '-m', 'v3: 1%']);
  log('scale: push of a 1% change');
  const push2 = await lode(repo, ['push']);
  log('scale: checkout switching 1% of the files');
  const co1 = await lode(repo, ['checkout', 'HEAD~1']);
  const co2 = await lode(repo, ['checkout', 'main']);
  const pushed = (r) => r.json.pushed?.[0] ?? { objects: 0, bytes: 0 };
  const p1 = pushed(push1);
  const p2 = pushed(push2);
  const res = {
    files: n,
    generateMs: genMs,
    add: pick(add),
    commit: pick(commit),
    statusNoopMedianMs: stMedian,
    statusNoopRunsMs: st.map((r) => r.ms),
    statusNoopRssKiB: stRss,
    add100: pick(add100),
    status100: pick(status100),
    diff100: pick(diff100),
    checkoutBack: pick(co1),
    checkoutForth: pick(co2),
    push1: { ...pick(push1), objects: p1.objects, bytes: p1.bytes, packs: p1.packs },
    pushChange: { ...pick(push2), objects: p2.objects, bytes: p2.bytes, packs: p2.packs, bytesRatio: p1.bytes ? p2.bytes / p1.bytes : NaN, changedFiles: onePct },
  };
  table(`scale 1: ${fmt(n)} files x ${FILE_SIZE} B in ${FOLDERS} folders (generated in ${fsec(genMs)})`, ['step', 'time', 'peak RSS MiB', 'RSS B/file', 'note'], [
    row('add (all files)', add, n),
    row('commit', commit, n),
    [`no-op status, median of 3`, fsec(stMedian), fmib(stRss), stRss ? fmt((stRss * 1024) / n, 0) : 'n/a', `runs: ${st.map((r) => fsec(r.ms)).join(', ')}`],
    row('add after changing 100 files', add100, n),
    row('status with 100 staged', status100, n),
    row('diff HEAD~1 HEAD (100 changes)', diff100, n),
    row('first push (directory remote)', push1, n, `${fmt(p1.objects)} objects, ${fmt(p1.bytes / MiB, 1)} MiB, ${p1.packs} packs`),
    row(`push of a 1% change (${fmt(onePct)} files)`, push2, n, `${fmt(p2.objects)} objects, ${fmt(p2.bytes / MiB, 2)} MiB = ${fmt(res.pushChange.bytesRatio * 100, 2)}% of the first push`),
    row(`checkout HEAD~1 (${fmt(onePct)} files differ)`, co1, n),
    row('checkout main again', co2, n),
  ]);
  if (statusProfile) {
    printProfiles([statusProfile]);
    res.statusProfile = statusProfile;
  }
  if (!KEEP) {
    fs.rmSync(repo, { recursive: true, force: true });
    fs.rmSync(remote, { recursive: true, force: true });
  }
  return res;
}

function pick(r) {
  return { ms: r.ms, rssKiB: r.rssKiB ?? null, cpuS: r.cpuS ?? null, otherCores: r.otherCores ?? null };
}

// ---------------------------------------------------------------- metadata only

async function metadataOnly(benchDir, n) {
  // LODE_BENCH_SCALE_META_FOLDERS (default 1,000; a multiple of 100): fewer folders make the
  // same folder size (10,000 files: sharded directories) from fewer files.
  const FOLDERS = Number(process.env.LODE_BENCH_SCALE_META_FOLDERS ?? 1000);
  const repo = path.join(benchDir, 'scale-meta');
  fs.mkdirSync(repo, { recursive: true });
  await lode(repo, ['init']);
  const lodeDir = path.join(repo, '.lode');
  const dist = (p) => import(path.join(ROOT, 'dist', p));
  const { LocalStore } = await dist('objects/store.js');
  const { RefStore } = await dist('graph/refs.js');
  const { encodeDirectory } = await dist('graph/trees.js');
  const { encodeTree, encodeCommit } = await dist('core/encoding.js');
  const { default: xxhash } = await import('xxhash-wasm');
  const { create64 } = await xxhash();
  const store = new LocalStore(lodeDir);
  const perFolder = Math.ceil(n / FOLDERS);
  const files = (d) => Math.max(0, Math.min(perFolder, n - d * perFolder));
  // File IDs: 32 bytes from the file number and version (no content exists: only uniqueness matters).
  const idOf = (i, v) => {
    const b = Buffer.alloc(32);
    b.writeUInt32BE(0x6d657461, 0);
    b.writeUInt32BE(v, 4);
    b.writeDoubleBE(i, 8);
    return b.toString('hex');
  };
  // Version 2 changes one file in each of 100 folders.
  const changed = (d, j) => d % (FOLDERS / 100) === 0 && j === 7;
  const folderTree = (d, v) => {
    const entries = [];
    for (let j = 0; j < files(d); j++) {
      const i = d * perFolder + j;
      entries.push({ name: fileName(i), kind: 'blob', id: idOf(i, v === 2 && changed(d, j) ? 2 : 1), size: FILE_SIZE, files: 1, exec: false });
    }
    const objects = new Map();
    const id = encodeDirectory(entries, objects);
    for (const b of objects.values()) store.putObject(b);
    return { name: folderName(d), kind: 'tree', id, size: entries.length * FILE_SIZE, files: entries.length, exec: false };
  };
  log(`scale: writing trees for ${fmt(n)} metadata-only files`);
  const tGen = hr();
  const folders1 = [];
  for (let d = 0; d < FOLDERS; d++) if (files(d) > 0) folders1.push(folderTree(d, 1));
  const rootOf = (folders) => {
    const objects = new Map();
    const m = encodeDirectory(folders, objects);
    const top = encodeTree([{ name: 'm', kind: 'tree', id: m, size: n * FILE_SIZE, files: n, exec: false }]);
    for (const b of objects.values()) store.putObject(b);
    return store.putObject(top);
  };
  const tree1 = rootOf(folders1);
  const folders2 = folders1.map((f, d) => (d % (FOLDERS / 100) === 0 ? folderTree(d, 2) : f));
  const tree2 = rootOf(folders2);
  const c1 = store.putObject(encodeCommit({ tree: tree1, parents: [], author: 'bench <bench@lode>', time: Date.now(), datasets: ['m'], message: 'v1\n' }));
  const c2 = store.putObject(encodeCommit({ tree: tree2, parents: [c1], author: 'bench <bench@lode>', time: Date.now(), datasets: ['m'], message: 'v2: 100 files\n' }));
  new RefStore(lodeDir).set('heads', 'main', c2);
  // The index of version 2, streamed (layout: docs/formats.md).
  log('scale: writing the index');
  const indexFile = path.join(lodeDir, 'index');
  const fd = fs.openSync(indexFile, 'w');
  const h = create64();
  let pending = [];
  let pendingBytes = 0;
  const flush = () => {
    const b = Buffer.concat(pending);
    h.update(b);
    fs.writeSync(fd, b);
    pending = [];
    pendingBytes = 0;
  };
  const put = (b) => {
    pending.push(b);
    pendingBytes += b.length;
    if (pendingBytes > 8 * MiB) flush();
  };
  const head = Buffer.alloc(40);
  head.writeUInt32BE(0x4c4f4449, 0);
  head.writeUInt8(1, 4);
  Buffer.from(tree2, 'hex').copy(head, 8);
  put(head);
  const ds = Buffer.alloc(4 + 2 + 1);
  ds.writeUInt32BE(1, 0);
  ds.writeUInt16BE(1, 4);
  ds.write('m', 6, 'latin1');
  put(ds);
  const ne = Buffer.alloc(4);
  ne.writeUInt32BE(n, 0);
  put(ne);
  for (let d = 0; d < FOLDERS; d++) {
    for (let j = 0; j < files(d); j++) {
      const i = d * perFolder + j;
      const p = Buffer.from(`m/${folderName(d)}/${fileName(i)}`, 'latin1');
      const e = Buffer.alloc(2 + p.length + 2 + 40 + 32);
      e.writeUInt16BE(p.length, 0);
      p.copy(e, 2);
      let at = 2 + p.length;
      e[at] = 0x62;
      e[at + 1] = 0;
      at += 2;
      e.writeBigUInt64BE(BigInt(FILE_SIZE), at);
      at += 40; // mtime, ctime, inode, xxh64: 0 (never matched: the files do not exist)
      Buffer.from(idOf(i, changed(d, j) ? 2 : 1), 'hex').copy(e, at);
      put(e);
    }
  }
  flush();
  const sum = Buffer.alloc(8);
  sum.writeBigUInt64BE(h.digest(), 0);
  fs.writeSync(fd, sum);
  fs.closeSync(fd);
  const genMs = msSince(tGen);
  const indexBytes = fs.statSync(indexFile).size;
  log('scale: metadata-only status, diff, ls');
  // No files exist, so `status` would list every file as deleted: `diff --staged` does status's
  // index half instead (read the index, build trees from it, compare with HEAD).
  const status = await lode(repo, ['diff', '--staged', '--stat']);
  if (status.json.changes.length !== 0) warn(`scale: metadata-only diff --staged shows ${status.json.changes.length} changes`);
  const diff = await lode(repo, ['diff', 'HEAD~1', 'HEAD']);
  if (diff.json.changes.length !== 100) warn(`scale: metadata-only diff found ${diff.json.changes.length} changes, not 100`);
  const ls = await lode(repo, ['ls', `HEAD:m/${folderName(Math.floor(FOLDERS / 2))}`]);
  const lsTop = await lode(repo, ['ls', 'HEAD:m']);
  const res = { files: n, generateMs: genMs, indexBytes, status: pick(status), diff: pick(diff), ls: pick(ls), lsTop: pick(lsTop) };
  table(`scale 2: ${fmt(n)} files, metadata only (${FOLDERS} folders of ${fmt(perFolder)}; trees, commits and index written in ${fsec(genMs)}; index ${fmt(indexBytes / MiB, 0)} MiB)`, ['step', 'time', 'peak RSS MiB', 'RSS B/file', 'note'], [
    row('diff --staged (index read, trees built, compared)', status, n, indexBytes > GiB ? 'the index file alone is over 1 GiB' : ''),
    row('diff HEAD~1 HEAD (100 changes)', diff, n),
    row(`ls one folder (${fmt(perFolder)} entries)`, ls, n),
    row(`ls m (${FOLDERS} folders)`, lsTop, n),
  ]);
  if (PROFILE) {
    const p = await profiled('metadata-only diff HEAD~1 HEAD (100 changes)', repo, ['diff', 'HEAD~1', 'HEAD', '--json'], path.join(benchDir, 'prof-scale-diff'));
    printProfiles([p]);
    res.diffProfile = p;
  }
  if (!KEEP) fs.rmSync(repo, { recursive: true, force: true });
  return res;
}
