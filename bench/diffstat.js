// Bench: `lode diff --stat` on a huge dataset with a small change. Builds
// lode repositories straight through the library (trees and commits only: the
// diff never reads file contents, so no million files need creating on disk),
// then times the real CLI. The claim under test: the diff costs what the
// change costs, not what the dataset holds, because unchanged subtrees are
// skipped by ID.
//
//   node bench/diffstat.js [--quick]     (after `npm run build`)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LODE = path.join(ROOT, 'bin', 'lode.js');

async function load() {
  const { Repository } = await import(path.join(ROOT, 'dist/repo/repository.js'));
  const { buildTrees } = await import(path.join(ROOT, 'dist/graph/trees.js'));
  const { encodeCommit } = await import(path.join(ROOT, 'dist/core/encoding.js'));
  return { Repository, buildTrees, encodeCommit };
}

const fid = (s) => createHash('sha256').update(s).digest('hex');

/**
 * makeRepo writes a repository whose tag v1 has `dirs` x `perDir` files and
 * whose v2 changes `changed` of them (modified, added and deleted, spread over
 * 10 directories). Returns the build time.
 */
async function makeRepo(dir, dirs, perDir, changed) {
  const { Repository, buildTrees, encodeCommit } = await load();
  const t0 = performance.now();
  const repo = Repository.init(dir);
  const pad = (n, w) => String(n).padStart(w, '0');
  const files = [];
  for (let d = 0; d < dirs; d++) {
    for (let f = 0; f < perDir; f++) {
      const p = `data/class_${pad(d, 4)}/img_${pad(f, 6)}.jpg`;
      files.push({ path: p, kind: 'blob', id: fid(p), size: 40_000 + (f % 997), exec: false });
    }
  }
  // comparePaths order is plain byte order for these names.
  const commitOf = (list, parents, message) => {
    const built = buildTrees(list);
    for (const bytes of built.objects.values()) repo.store.putObject(bytes);
    return repo.store.putObject(encodeCommit({ tree: built.root, parents, author: 'bench <b@x>', time: Date.now(), datasets: ['data'], message }));
  };
  const v1 = commitOf(files, [], 'v1');
  repo.refs.set('tags', 'v1', v1, null);
  // The change: in 10 directories, modify a third, delete a third, add a third.
  const per = Math.ceil(changed / 10);
  const next = files.slice();
  const extra = [];
  for (let k = 0; k < 10; k++) {
    const d = Math.floor((k * dirs) / 10);
    for (let j = 0; j < per; j++) {
      const i = d * perDir + j;
      if (j % 3 === 0) next[i] = { ...next[i], id: fid(`${next[i].path}#2`), size: next[i].size + 1 };
      else if (j % 3 === 1) next[i] = null;
      else extra.push({ path: `data/class_${pad(d, 4)}/new_${pad(j, 6)}.jpg`, kind: 'blob', id: fid(`new${d}/${j}`), size: 50_000, exec: false });
    }
  }
  const v2files = [...next.filter(Boolean), ...extra].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const v2 = commitOf(v2files, [v1], 'v2');
  repo.refs.set('tags', 'v2', v2, null);
  return performance.now() - t0;
}

function timeDiff(dir, runs = 5) {
  const ms = [];
  let out;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [LODE, 'diff', 'v1', 'v2', '--stat', '--json'], { cwd: dir, maxBuffer: 1 << 28 });
    ms.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`lode diff failed: ${r.stderr}`);
    out = JSON.parse(r.stdout.toString());
  }
  ms.sort((a, b) => a - b);
  return { medianMs: ms[Math.floor(ms.length / 2)], changes: out.changes.length, dirs: out.stat.length };
}

/** benchDiffStat returns rows for the bench table: small and huge datasets with the same change. */
export async function benchDiffStat({ quick = false, tmp = os.tmpdir() } = {}) {
  const huge = quick ? { dirs: 100, perDir: 1000 } : { dirs: 1000, perDir: 1000 };
  const small = { dirs: 100, perDir: 10 };
  const changed = 100;
  const base = fs.mkdtempSync(path.join(tmp, 'lode-diffstat-'));
  try {
    const rows = [];
    for (const [label, s] of [['small', small], ['huge', huge]]) {
      const dir = path.join(base, label);
      fs.mkdirSync(dir);
      const buildMs = await makeRepo(dir, s.dirs, s.perDir, changed);
      const r = timeDiff(dir);
      rows.push({ dataset: `${(s.dirs * s.perDir).toLocaleString('en-US')} files in ${s.dirs} folders`, files: s.dirs * s.perDir, buildMs, ...r });
    }
    return rows;
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  const rows = await benchDiffStat({ quick });
  console.log('diff --stat, 100 changed files (median of 5 CLI runs)');
  for (const r of rows) console.log(`  ${r.dataset.padEnd(36)} ${r.medianMs.toFixed(0).padStart(6)} ms   ${r.changes} changes, ${r.dirs} directory rows (repo built in ${(r.buildMs / 1000).toFixed(1)} s)`);
  console.log(`  ratio huge / small: ${(rows[1].medianMs / rows[0].medianMs).toFixed(2)}x for ${(rows[1].files / rows[0].files).toFixed(0)}x the files`);
}
