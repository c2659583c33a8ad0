// bench section 8: push, clone and a 1 MiB edit on a directory remote and on
// S3 (moto), and the same with DVC when it is available.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DVC_INSTALL, MiB, NO_DVC, PROFILE, QUICK, SIZES } from '../lib/options.js';
import { fbytes, fmib, fms, fmt, fpct, fsec, fx, log, table, warn } from '../lib/report.js';
import { cpuPct, exitHooks, fother, lode, mbps, msSince, runCmd, waitIdle } from '../lib/measure.js';
import { countFiles, createProbe, genA, genB, warm } from '../lib/workloads.js';
import { fsUsedBytes, settleDeletes, spreadDirs, treeStats } from '../lib/disk.js';
import { printProfiles, profiled } from '../lib/profile.js';
import { createBucket, emptyPrefix, MOTO_CREDENTIALS, motoUnavailable, startMoto } from '../../test/helpers/moto.js';
import { findDvc } from '../dvc.js';

const S3_BUCKET = 'lode-bench';
const DVC_CAP_MS = 5 * 60 * 1000;
const DVC_B_BEFORE_S = 10 * 60; // start DVC on B only while the bench is younger than this
const DVC_LATE_S = 12.5 * 60; // and skip its S3 half past this
const EDIT_BYTES = 1 * MiB;
const REPEAT_A = 3; // push and clone (pull) runs of A per remote, lode and DVC (DVC on S3: once)

/** medianRun picks the run with the median wall time from [{ r: runCmd result, ... }]. */
function medianRun(runs) {
  const sorted = [...runs].sort((a, b) => a.r.ms - b.r.ms);
  return sorted[(sorted.length - 1) >> 1];
}
const runsNote = (runs) => (runs.length > 1 ? `; median of ${runs.length}: ${runs.map((x) => fms(x.r.ms)).join(', ')} ms` : '');

/**
 * remotesSection measures push, clone and an incremental push/pull of A and B
 * on a directory remote and on S3 (moto), and the same with DVC when it is
 * available; it prints tables 8a-8d and returns the results (res.remotes).
 */
export async function remotesSection({ benchDir, tStart, noteDisk, dropMainRepo = () => false }) {
  const root = path.join(benchDir, 'remotes');
  const trash = path.join(root, 'trash');
  fs.mkdirSync(trash, { recursive: true });
  let trashSeq = 0;
  // Small-file trees are moved aside, not deleted, until the section ends (see the header).
  const discard = (dir, manyFiles) => {
    if (!fs.existsSync(dir)) return;
    if (manyFiles) fs.renameSync(dir, path.join(trash, `${trashSeq++}-${path.basename(dir)}`));
    else fs.rmSync(dir, { recursive: true, force: true });
  };
  const out = { kinds: {}, edit: {}, dvc: null, moto: null, motoReason: null, profiles: [] };
  const elapsedS = () => msSince(tStart) / 1000;
  const used0 = fsUsedBytes(benchDir);
  // Each directory made directly in root gets a block group of its own (ext4 "top
  // directory" placement), away from the inodes earlier sections freed; where
  // that is not possible, wait out ext4's reuse delay instead.
  out.spreadDirs = spreadDirs(root);
  out.settleMs = await settleDeletes(benchDir);
  out.fsGrowthMiB = {}; // growth of the filesystem's used space since the section started, by step
  const noteFs = (label) => {
    noteDisk();
    const u = fsUsedBytes(benchDir);
    if (u === null || used0 === null) return;
    const g = Math.round((u - used0) / MiB);
    out.peakFsGrowthMiB = Math.max(out.peakFsGrowthMiB ?? 0, g);
    if (label) out.fsGrowthMiB[label] = g;
  };
  const env = { ...process.env, AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-east-1' };
  for (const k of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3']) delete env[k];
  const aBytes = SIZES.aFiles * SIZES.aFileSize;
  const bBytes = SIZES.bFiles * SIZES.bFileSize;
  const wl = {
    A: { dir: 'a', n: SIZES.aFiles, bytes: aBytes, many: true, desc: `A (${fmt(SIZES.aFiles)} x 4 KiB)` },
    B: { dir: 'b', n: SIZES.bFiles, bytes: bBytes, many: false, desc: `B (${SIZES.bFiles} x ${SIZES.bFileSize / MiB} MiB)` },
  };
  const gen = (dir, label) => {
    if (label === 'A') return genA(dir, SIZES.aFiles, SIZES.aFileSize, SIZES.aDirs).paths;
    fs.mkdirSync(dir, { recursive: true });
    const paths = [];
    for (let i = 0; i < SIZES.bFiles; i++) {
      const p = path.join(dir, `big${i}.bin`);
      genB(p, SIZES.bFileSize);
      paths.push(p);
    }
    return paths;
  };

  // moto on a free loopback port.
  let moto = null;
  out.motoReason = motoUnavailable();
  if (!out.motoReason) {
    try {
      const motoTmp = path.join(root, 'moto-tmp');
      fs.mkdirSync(motoTmp, { recursive: true });
      log('remotes: starting moto_server');
      moto = await startMoto({ env: { TMPDIR: motoTmp } });
      exitHooks.add(moto.killSync);
      await createBucket(moto.endpoint, S3_BUCKET);
      log(`remotes: moto on ${moto.endpoint} (pid ${moto.pid}), bucket ${S3_BUCKET}`);
    } catch (e) {
      out.motoReason = e.message.split('\n')[0];
      warn(`moto: ${e.message}`);
      if (moto) {
        await moto.stop();
        exitHooks.delete(moto.killSync);
      }
      moto = null;
    }
  }
  const kinds = ['dir', 's3'];
  const remoteOf = (kind, tag, many = false) => {
    if (kind === 'dir') {
      const dir = path.join(root, `remote-${tag}`);
      return { url: dir, opts: [], stats: async () => treeStats(dir), clear: async () => discard(dir, many) };
    }
    const prefix = `${tag}/`;
    return {
      url: `s3://${S3_BUCKET}/${tag}`,
      opts: ['--endpoint', moto.endpoint, '--path-style'],
      stats: async () => {
        const st = await emptyPrefix(moto.endpoint, S3_BUCKET, prefix, { dryRun: true });
        return { files: st.objects, bytes: st.bytes };
      },
      clear: async () => {
        await emptyPrefix(moto.endpoint, S3_BUCKET, prefix);
      },
    };
  };
  const motoCount = (kind) => (moto && kind === 's3' ? moto.requests : null);
  const motoSince = (m0) => (moto && m0 !== null ? moto.requests - m0 : null);
  const profDir = path.join(root, 'prof');

  const rows = [];
  const editRows = [];
  const notes = [];
  try {
    // ---- lode: push and clone of one dataset on one kind of remote (and the edit, for B)
    const lodeSteps = async (kind, label) => {
      const K = (out.kinds[kind] ??= {});
      if (kind === 's3' && !moto) {
        K.reason = `no S3 server: ${out.motoReason}`;
        rows.push([kind, label, 'n/a', '-', '-', '-', '-', '-', '-', '-', '-', '-', K.reason]);
        return;
      }
      {
        const W = wl[label];
        const ws = path.join(root, `ws-${kind}-${label}`);
        log(`remotes (${kind}): workspace with ${W.desc}: generate, init, add, commit`);
        fs.mkdirSync(ws, { recursive: true });
        const paths = gen(path.join(ws, W.dir), label);
        await lode(ws, ['init']);
        const add = await lode(ws, ['add', W.dir]);
        const commit = await lode(ws, ['commit', '-m', label]);
        // A is measured REPEAT_A times (fresh remote, fresh clone each; the median
        // counts): creating 20,000 files is what its clone mostly does, and that
        // cost swings from one ext4 block group to the next. B once.
        const reps = label === 'A' ? REPEAT_A : 1;
        const remotes = [];
        for (let i = 1; i <= reps; i++) {
          const r = remoteOf(kind, `lode-${label}${reps > 1 ? i : ''}`);
          r.name = i === 1 ? 'origin' : `r${i}`;
          await lode(ws, ['remote', 'add', r.name, r.url, ...r.opts], { env });
          remotes.push(r);
        }
        const remote = remotes[0];

        // push
        const pushes = [];
        for (const r of remotes) {
          warm([path.join(ws, '.lode')]);
          await waitIdle(`push ${label} (${kind})`);
          log(`remotes (${kind}): push ${label}${reps > 1 ? ` to ${r.name}` : ''}`);
          const m0 = motoCount(kind);
          const push = await lode(ws, ['push', r.name], { env });
          pushes.push({ r: push, p: push.json.pushed[0], server: motoSince(m0) });
        }
        const { r: push, p, server: pushServer } = medianRun(pushes);
        const rs = await remote.stats();
        K[`push${label}`] = { ms: push.ms, runsMs: pushes.map((x) => x.r.ms), objects: p.objects, bytes: p.bytes, packs: p.packs, requests: p.requests, serverRequests: pushServer, objectsPerS: p.objects / (push.ms / 1000), MBps: mbps(p.bytes, push.ms), rssKiB: push.rssKiB, cpuPct: cpuPct(push), otherCores: push.otherCores, remoteFiles: rs.files, remoteBytes: rs.bytes, addMs: add.ms, commitMs: commit.ms };
        rows.push([kind, `push ${W.desc}`, fms(push.ms), fmt(p.objects / (push.ms / 1000)), '-', fmt(mbps(p.bytes, push.ms)), fmt(p.requests), pushServer === null ? '-' : fmt(pushServer), fmt(p.packs), fmib(push.rssKiB), fpct(cpuPct(push)), fother(push), `${fmt(p.objects)} objects, ${fbytes(p.bytes)}; remote ${fmt(rs.files)} files, ${fbytes(rs.bytes)}${runsNote(pushes)}`]);
        noteFs(`push ${label} (${kind})`);

        // clone
        const clones = [];
        for (let i = 0; i < reps; i++) {
          const r = remotes[i];
          const dir = path.join(root, `clone-${kind}-${label}${reps > 1 ? i + 1 : ''}`);
          if (kind === 'dir') warm([r.url]);
          await waitIdle(`clone ${label} (${kind})`);
          const probe = label === 'A' ? createProbe(root, 200) : null;
          log(`remotes (${kind}): clone ${label}${reps > 1 ? ` (${i + 1} of ${reps})` : ''}`);
          const m0 = motoCount(kind);
          const cl = await lode(root, ['clone', r.url, dir, ...r.opts], { env });
          const server = motoSince(m0);
          const got = countFiles(path.join(dir, W.dir));
          if (got !== W.n) warn(`clone ${label} (${kind}) has ${got} files in ${W.dir}/, expected ${W.n}`);
          clones.push({ r: cl, dir, probe, server });
        }
        const { r: cl, probe, server: cloneServer } = medianRun(clones);
        const clone = clones[0].dir; // B: the one the edit is pulled into
        for (const c of clones.slice(1)) discard(c.dir, W.many);
        for (const r of remotes.slice(1)) await r.clear();
        const f = cl.json.fetched;
        K[`clone${label}`] = { ms: cl.ms, runsMs: clones.map((x) => x.r.ms), createProbesUs: clones.map((x) => x.probe), files: f.files, objects: f.objects, bytes: f.bytes, reused: f.reused, requests: f.requests, serverRequests: cloneServer, filesPerS: W.n / (cl.ms / 1000), MBps: mbps(W.bytes, cl.ms), rssKiB: cl.rssKiB, cpuPct: cpuPct(cl), otherCores: cl.otherCores, written: cl.json.checkout.written, createProbeUs: probe };
        rows.push([kind, `clone ${W.desc}`, fms(cl.ms), '-', fmt(W.n / (cl.ms / 1000), W.n < 100 ? 1 : 0), fmt(mbps(W.bytes, cl.ms)), fmt(f.requests), cloneServer === null ? '-' : fmt(cloneServer), '-', fmib(cl.rssKiB), fpct(cpuPct(cl)), fother(cl), `fetched ${fmt(f.files)} files + ${fmt(f.objects)} objects, ${fbytes(f.bytes)}; wrote ${fmt(cl.json.checkout.written)}${probe === null ? '' : `; create probe ${clones.map((x) => fmt(x.probe)).join(' / ')} µs/file`}${runsNote(clones)}`]);
        noteFs(`clone ${label} (${kind})`);

        // CPU profiles of push and clone (A, and push B), on a second remote.
        if (PROFILE && (label === 'A' || kind === 'dir')) {
          const pr = remoteOf(kind, `prof-${label}`);
          await lode(ws, ['remote', 'add', 'prof', pr.url, ...pr.opts], { env });
          warm([path.join(ws, '.lode')]);
          log(`remotes (${kind}): profiling push ${label}`);
          out.profiles.push(await profiled(`push ${label} (${kind})`, ws, ['push', 'prof'], profDir, env));
          if (label === 'A') {
            const pc = path.join(root, `prof-clone-${kind}`);
            log(`remotes (${kind}): profiling clone ${label}`);
            out.profiles.push(await profiled(`clone ${label} (${kind})`, root, ['clone', pr.url, pc, ...pr.opts], profDir, env));
            discard(pc, true);
          }
          await pr.clear();
        }

        // B: overwrite 1 MiB in the middle of one file, commit -a, push; pull in the clone.
        if (label === 'B') {
          const file = paths[0];
          const off = Math.floor(SIZES.bFileSize / 2) - EDIT_BYTES / 2;
          const patch = randomBytes(EDIT_BYTES);
          const fd = fs.openSync(file, 'r+');
          try {
            fs.writeSync(fd, patch, 0, patch.length, off);
          } finally {
            fs.closeSync(fd);
          }
          warm([file]);
          log(`remotes (${kind}): 1 MiB edit: commit -a, push, pull`);
          const ec = await lode(ws, ['commit', '-a', '-m', 'edit']);
          warm([path.join(ws, '.lode')]);
          await waitIdle(`edit push (${kind})`);
          let m0 = motoCount(kind);
          const ep = await lode(ws, ['push'], { env });
          const epServer = motoSince(m0);
          const e = ep.json.pushed[0];
          warm([path.join(clone, '.lode')]);
          await waitIdle(`pull (${kind})`);
          m0 = motoCount(kind);
          const pl = await lode(clone, ['pull'], { env });
          const plServer = motoSince(m0);
          const pf = pl.json.fetched;
          // Check the clone got the edit.
          const back = Buffer.alloc(EDIT_BYTES);
          const cfile = path.join(clone, W.dir, path.basename(file));
          const cfd = fs.openSync(cfile, 'r');
          try {
            fs.readSync(cfd, back, 0, EDIT_BYTES, off);
          } finally {
            fs.closeSync(cfd);
          }
          const ok = back.equals(patch) && fs.statSync(cfile).size === SIZES.bFileSize;
          if (!ok) warn(`pull (${kind}): the clone's ${path.basename(file)} does not hold the edit`);
          if (pl.json.outcome !== 'fastForward') warn(`pull (${kind}) outcome ${pl.json.outcome}, expected fastForward`);
          const ratio = e.bytes / SIZES.bFileSize;
          out.edit[kind] = {
            commitMs: ec.ms,
            push: { ms: ep.ms, objects: e.objects, bytes: e.bytes, packs: e.packs, requests: e.requests, serverRequests: epServer, ratioToFile: ratio },
            pull: { ms: pl.ms, bytes: pf.bytes, reused: pf.reused, files: pf.files, objects: pf.objects, requests: pf.requests, serverRequests: plServer, written: pl.json.checkout?.written ?? null, rssKiB: pl.rssKiB, verified: ok },
          };
          editRows.push([kind, fms(ec.ms), fms(ep.ms), fbytes(e.bytes), `${fmt(ratio * 100, 2)}%`, fmt(e.objects), fmt(e.requests), fms(pl.ms), fbytes(pf.bytes), fbytes(pf.reused), fmt(pf.requests), epServer === null ? '-' : `${fmt(epServer)} / ${fmt(plServer)}`, ok ? 'yes' : 'NO']);
          noteFs(`pull ${label} (${kind})`);
        }
        discard(clone, W.many);
        discard(ws, W.many);
        await remote.clear();
        noteFs(`after clearing ${label} (${kind})`);
      }
    };

    let found = null;
    if (NO_DVC) out.dvc = { reason: 'skipped (--no-dvc)' };
    else {
      log('remotes: looking for dvc');
      found = findDvc({ install: DVC_INSTALL, log });
      out.dvc = found.bin ? { version: found.version, how: found.how, s3: found.s3, runs: {} } : { reason: found.reason };
      if (!found.bin) found = null;
    }
    const dvcArgs = { found, root, env, moto, remoteOf, discard, gen, wl, out, noteFs, elapsedS, motoCount, motoSince };

    // Phase A (small files) first, for lode and DVC: nothing is deleted meanwhile
    // (trees are moved aside); then the trash goes, and phase B (two big files,
    // where creating a file costs nothing worth measuring) runs.
    for (const kind of kinds) await lodeSteps(kind, 'A');
    if (found) await dvcCompare({ ...dvcArgs, label: 'A' });
    fs.rmSync(trash, { recursive: true, force: true });
    fs.mkdirSync(trash, { recursive: true });
    out.mainRepoDropped = dropMainRepo();
    noteFs('after emptying the trash');
    for (const kind of kinds) await lodeSteps(kind, 'B');
    if (found) await dvcCompare({ ...dvcArgs, label: 'B' });
  } finally {
    if (moto) {
      out.moto = { endpoint: moto.endpoint, requests: moto.requests, byMethod: moto.byMethod, rssKiB: moto.rssKiB() };
      await moto.stop();
      exitHooks.delete(moto.killSync);
      log('remotes: moto stopped');
    }
    noteFs();
    fs.rmSync(root, { recursive: true, force: true });
  }

  // ---- tables
  table('8a. remotes: push and clone with lode (fresh workspace each; directory remote on the bench dir, S3 on moto)', ['remote', 'step', 'ms', 'objects/s', 'files/s', 'MB/s', 'requests', 'moto requests', 'packs', 'peak RSS MiB', 'CPU', 'other CPU', 'note'], rows, [
    'requests = what lode reports (--json); moto requests = requests moto logged meanwhile (S3 only). other CPU = cores other processes (moto included) used meanwhile.',
    'clone = init + remote add + fetch + checkout (copy) into a new directory; files/s and MB/s over the dataset.',
    `ext4 without a journal skips, one by one, inodes freed in the last 1-6 min: the section starts with a sync and ${(out.settleMs ?? 0) > 1500 ? `waited ${fmt(out.settleMs / 1000, 0)} s` : 'no wait'} for the earlier sections' deletions to age past 60 s, ${out.spreadDirs ? 'each workspace, clone and remote gets its own block group (chattr +T on the section dir), ' : ''}and small-file trees are moved aside, not deleted, until the small-file phase (A, lode then DVC) is over.`,
    'create probe = µs per new 4 KiB file (open wx + write + rename) in a fresh directory of the section just before the step.',
    `disk: the filesystem's used space grew by at most ${fmt(out.peakFsGrowthMiB ?? null)} MiB during this section (workspaces, clones, remotes, and moto's spooled objects, which du does not see)${out.mainRepoDropped ? '; the main repository of sections 3-7 was deleted before the B phase' : ''}.`,
    ...notes,
  ]);
  if (editRows.length) {
    table(`8b. a 1 MiB edit in the middle of one ${SIZES.bFileSize / MiB} MiB file: commit -a, push, then pull in the clone`, ['remote', 'commit ms', 'push ms', 'sent', `of ${SIZES.bFileSize / MiB} MiB`, 'objects', 'push req', 'pull ms', 'fetched', 'reused', 'pull req', 'moto req push / pull', 'clone has the edit'], editRows, [
      'sent = pushed[0].bytes; fetched / reused = pull fetched.bytes / fetched.reused (chunks copied from the previous version in the local cache).',
    ]);
  }
  const d = out.dvc;
  if (d?.reason) {
    console.log(d.reason.startsWith('skipped') ? `\ndvc: ${d.reason}` : `\ndvc: not installed (${d.reason})`);
  } else if (d) {
    const dRows = [];
    const cmp = [];
    for (const label of ['A', 'B']) {
      const run = d.runs[label];
      if (!run) {
        dRows.push(['-', wl[label].desc, 'all', 'n/a', '-', '-', '-', d.skipB ?? 'not run']);
        continue;
      }
      if (run.error) {
        dRows.push(['-', wl[label].desc, 'all', 'n/a', '-', '-', '-', run.error]);
      }
      if (run.add) {
        dRows.push(['-', wl[label].desc, 'dvc add', run.add.timedOut ? '> 300 s' : fsec(run.add.ms), fmib(run.add.rssKiB), '-', '-', '']);
        const lodeAdd = out.kinds.dir?.[`push${label}`];
        if (lodeAdd) cmp.push(['local', wl[label].desc, 'add (lode add + commit / dvc add)', fsec(lodeAdd.addMs + lodeAdd.commitMs), run.add.timedOut ? '> 300 s' : fsec(run.add.ms), fx(run.add.ms / (lodeAdd.addMs + lodeAdd.commitMs), run.add.timedOut)]);
      }
      for (const kind of kinds) {
        const r = run[kind];
        if (!r) continue;
        if (r.reason) {
          dRows.push([kind, wl[label].desc, 'push / pull', 'n/a', '-', '-', '-', r.reason]);
          continue;
        }
        const L = out.kinds[kind] ?? {};
        for (const [step, lodeStep, lodeName] of [['push', `push${label}`, 'push'], ['pull', `clone${label}`, 'clone']]) {
          const x = r[step];
          if (!x) continue;
          dRows.push([kind, wl[label].desc, `dvc ${step}`, x.timedOut ? '> 300 s' : x.failed ? (x.ms === undefined ? 'n/a' : 'failed') : fsec(x.ms), fmib(x.rssKiB), x.serverRequests === null || x.serverRequests === undefined ? '-' : fmt(x.serverRequests), x.remoteFiles === undefined ? '-' : `${fmt(x.remoteFiles)} / ${fbytes(x.remoteBytes)}`, x.note ?? '']);
          const l = L[lodeStep];
          if (l && !x.failed) cmp.push([kind, wl[label].desc, `${step} (lode ${lodeName} / dvc ${step})`, fsec(l.ms), x.timedOut ? '> 300 s' : fsec(x.ms), fx(x.ms / l.ms, x.timedOut)]);
        }
      }
    }
    table(`8c. DVC ${d.version} (${d.how}; s3 plugin ${d.s3 ? 'yes' : 'NO'}): same data, same kinds of remote`, ['remote', 'data', 'step', 'time', 'peak RSS MiB', 'moto requests', 'remote files / size', 'note'], dRows, [
      'dvc pull runs in a git clone of the DVC repo (.dvc files and config, empty cache): fetch + checkout, like lode clone.',
      `each DVC command capped at ${DVC_CAP_MS / 60000} min; DVC on B only while the bench is under ${DVC_B_BEFORE_S / 60} min.`,
    ]);
    table('8d. lode vs DVC (ratio = DVC time / lode time; > 1 means lode is faster)', ['remote', 'data', 'step', 'lode', 'dvc', 'ratio'], cmp);
  }
  printProfiles(out.profiles);
  return out;
}

/** dvcCompare runs dvc add / push / pull on A (and B while time allows) on both kinds of remote. */
async function dvcCompare({ found, root, env, moto, remoteOf, discard, gen, wl, out, noteFs, elapsedS, motoCount, motoSince, label: only }) {
  const d = out.dvc;
  const dvcEnv = {
    ...env,
    PATH: `${found.binDir}${path.delimiter}${process.env.PATH ?? ''}`,
    DVC_NO_ANALYTICS: '1',
    DVC_GLOBAL_CONFIG_DIR: path.join(root, 'dvc-config', 'global'),
    DVC_SYSTEM_CONFIG_DIR: path.join(root, 'dvc-config', 'system'),
    DVC_SITE_CACHE_DIR: path.join(root, 'dvc-site-cache'),
    GIT_AUTHOR_NAME: 'lode bench',
    GIT_AUTHOR_EMAIL: 'bench@example.invalid',
    GIT_COMMITTER_NAME: 'lode bench',
    GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  };
  const dvc = async (cwd, args, { cap = true } = {}) => {
    const r = await runCmd(found.bin, args, { cwd, env: dvcEnv, timeoutMs: cap ? DVC_CAP_MS : undefined, allowFail: true });
    if (r.timedOut) {
      warn(`dvc ${args.join(' ')} timed out after ${DVC_CAP_MS / 1000} s`);
      r.ms = DVC_CAP_MS;
    } else if (r.code !== 0) {
      r.failed = true;
      r.why = (r.stderr.trim() || r.stdout.trim()).split('\n').filter(Boolean).slice(-2).join(' | ').slice(0, 300);
      warn(`dvc ${args.join(' ')} failed (${r.code}): ${r.why}`);
    }
    return r;
  };
  const git = async (cwd, args) => runCmd('git', args, { cwd, env: dvcEnv, measureMem: false });
  for (const label of [only]) {
    if (label === 'B' && !QUICK && elapsedS() > DVC_B_BEFORE_S) {
      d.skipB = `skipped: the bench had run ${fmt(elapsedS() / 60, 1)} min (DVC on B starts only under ${DVC_B_BEFORE_S / 60} min)`;
      log(`remotes: DVC on B ${d.skipB}`);
      continue;
    }
    const W = wl[label];
    const run = (d.runs[label] = {});
    const repo = path.join(root, `dvc-${label}`);
    try {
      log(`remotes (dvc): repo with ${W.desc}: git init, dvc init, dvc add`);
      fs.mkdirSync(repo, { recursive: true });
      await git(repo, ['-c', 'init.defaultBranch=main', 'init', '-q']);
      const init = await dvc(repo, ['init', '-q']);
      if (init.failed || init.timedOut) throw new Error(`dvc init: ${init.why ?? 'timed out'}`);
      await dvc(repo, ['config', 'core.analytics', 'false']);
      await dvc(repo, ['config', 'core.check_update', 'false']);
      gen(path.join(repo, 'data'), label);
      warm([path.join(repo, 'data')]);
      await waitIdle(`dvc add ${label}`);
      const add = await dvc(repo, ['add', 'data']);
      run.add = { ms: add.ms, timedOut: add.timedOut, rssKiB: add.rssKiB, cpuPct: cpuPct(add) };
      if (add.failed || add.timedOut) throw new Error(`dvc add: ${add.why ?? 'timed out'}`);
      noteFs(`dvc add ${label}`);
      // A on the directory remote: REPEAT_A pushes (each to a fresh remote) and pulls
      // (each in a fresh git clone), as for lode; S3 (moto-bound, ~1 min) and B once.
      const remotes = {};
      for (const kind of ['dir', 's3']) {
        if (kind === 's3' && (!moto || !found.s3)) continue;
        const reps = label === 'A' && kind === 'dir' ? REPEAT_A : 1;
        remotes[kind] = [];
        for (let i = 1; i <= reps; i++) {
          const rem = remoteOf(kind, `dvc-${label}${reps > 1 ? i : ''}`, W.many);
          rem.name = `${kind === 'dir' ? 'r' : 's3r'}${reps > 1 ? i : ''}`;
          await dvc(repo, ['remote', 'add', ...(kind === 'dir' && i === 1 ? ['-d'] : []), rem.name, rem.url]);
          if (kind === 's3') await dvc(repo, ['remote', 'modify', rem.name, 'endpointurl', moto.endpoint]);
          remotes[kind].push(rem);
        }
      }
      await git(repo, ['add', '-A']);
      await git(repo, ['commit', '-q', '-m', `data ${label}`]);

      for (const kind of ['dir', 's3']) {
        if (!remotes[kind]) {
          run[kind] = { reason: !moto ? `no S3 server: ${out.motoReason}` : 'dvc has no s3 support (pip install dvc-s3)' };
          continue;
        }
        if (label === 'B' && kind === 's3' && !QUICK && elapsedS() > DVC_LATE_S) {
          run[kind] = { reason: `skipped: the bench had run ${fmt(elapsedS() / 60, 1)} min` };
          continue;
        }
        const R = (run[kind] = {});
        const pushes = [];
        const pulls = [];
        for (const rem of remotes[kind]) {
          warm([path.join(repo, '.dvc', 'cache')]);
          await waitIdle(`dvc push ${label} (${kind})`);
          log(`remotes (dvc, ${kind}): push ${label} to ${rem.name}`);
          let m0 = motoCount(kind);
          const push = await dvc(repo, ['push', '-r', rem.name]);
          const pushServer = motoSince(m0);
          const rs = await rem.stats();
          pushes.push({ r: push, server: pushServer, rs });
          noteFs(`dvc push ${label} (${kind})`);
          if (push.failed || push.timedOut) break;
          const clone = path.join(root, `dvc-${label}-clone-${rem.name}`);
          await git(root, ['clone', '-q', repo, clone]);
          if (kind === 'dir') warm([rem.url]);
          await waitIdle(`dvc pull ${label} (${kind})`);
          const probe = label === 'A' ? createProbe(root, 200) : null;
          log(`remotes (dvc, ${kind}): pull ${label} from ${rem.name}`);
          m0 = motoCount(kind);
          const pull = await dvc(clone, ['pull', '-r', rem.name]);
          const pullServer = motoSince(m0);
          const got = countFiles(path.join(clone, 'data'));
          if (!pull.failed && !pull.timedOut && got !== W.n) warn(`dvc pull ${label} (${kind}) left ${got} files, expected ${W.n}`);
          pulls.push({ r: pull, server: pullServer, probe, got });
          noteFs(`dvc pull ${label} (${kind})`);
          discard(clone, W.many);
          await rem.clear();
          if (pull.failed || pull.timedOut) break;
        }
        // A failed or timed-out run decides the row (it is the last one); otherwise the median.
        const last = (xs) => xs[xs.length - 1];
        const pick = (xs) => (xs.length && (last(xs).r.failed || last(xs).r.timedOut) ? last(xs) : medianRun(xs));
        const pu = pick(pushes);
        R.push = { ms: pu.r.ms, runsMs: pushes.map((x) => x.r.ms), timedOut: pu.r.timedOut, failed: pu.r.failed, note: pu.r.why ?? runsNote(pushes).replace(/^; /, ''), rssKiB: pu.r.rssKiB, cpuPct: cpuPct(pu.r), serverRequests: pu.server, remoteFiles: pu.rs.files, remoteBytes: pu.rs.bytes };
        if (pulls.length) {
          const pl = pick(pulls);
          const probes = pulls.map((x) => x.probe).filter((x) => x !== null);
          R.pull = { ms: pl.r.ms, runsMs: pulls.map((x) => x.r.ms), timedOut: pl.r.timedOut, failed: pl.r.failed, note: pl.r.why ?? [runsNote(pulls).replace(/^; /, ''), probes.length ? `create probe ${probes.map((x) => fmt(x)).join(' / ')} µs/file` : ''].filter(Boolean).join('; '), rssKiB: pl.r.rssKiB, cpuPct: cpuPct(pl.r), serverRequests: pl.server, files: pl.got, createProbeUs: pl.probe };
        } else {
          R.pull = { failed: true, note: 'not run: push did not finish' };
        }
      }
    } catch (e) {
      run.error = e.message.split('\n')[0];
      warn(`DVC ${label}: ${e.message}`);
    } finally {
      discard(repo, W.many);
    }
  }
}
