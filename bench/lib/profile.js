// bench/lib/profile.js: lode under --cpu-prof, summarised by self time per thread.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, NODE, ROOT } from './options.js';
import { fms, fpct, table } from './report.js';
import { runCmd } from './measure.js';

// ---------------------------------------------------------------- profiling

/**
 * summariseProfiles aggregates self time by function over the .cpuprofile
 * files in `dir` (one per thread) and returns the top entries of each.
 */
export function summariseProfiles(dir, top = 12) {
  const out = [];
  for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
    const prof = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    const totalMs = (prof.endTime - prof.startTime) / 1000;
    const selfMs = new Map();
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    // Time deltas give per-sample durations; attribute each to its sampled node.
    const perNode = new Map();
    for (let i = 0; i < prof.samples.length; i++) {
      const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000;
      perNode.set(prof.samples[i], (perNode.get(prof.samples[i]) ?? 0) + dt);
    }
    for (const [id, ms] of perNode) {
      const n = byId.get(id);
      const cf = n.callFrame;
      const where = cf.url ? `${cf.url.replace(/^file:\/\//, '').replace(ROOT, '').replace(/^.*node_modules\//, 'nm/')}:${cf.lineNumber + 1}` : '';
      const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
      selfMs.set(key, (selfMs.get(key) ?? 0) + ms);
    }
    const rows = [...selfMs].sort((a, b) => b[1] - a[1]).slice(0, top).map(([fn, ms]) => ({ fn, ms, pct: ms / totalMs }));
    // CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile
    const tid = name.split('.')[4];
    out.push({ file: name, thread: tid === '0' ? 'main' : `worker ${tid}`, totalMs, top: rows });
  }
  return out;
}

export async function profiled(label, cwd, args, profDir, env) {
  fs.rmSync(profDir, { recursive: true, force: true });
  fs.mkdirSync(profDir, { recursive: true });
  const r = await runCmd(NODE, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, BIN, '-q', ...args], { cwd, env });
  return { label, ms: r.ms, threads: summariseProfiles(profDir) };
}

/** printProfiles prints the top functions of each thread of each profile. */
export function printProfiles(profiles) {
  for (const p of profiles) {
    for (const t of p.threads) {
      table(`profile: ${p.label} — ${t.thread} (${fms(t.totalMs)} ms profiled, wall ${fms(p.ms)} ms)`, ['self ms', 'share', 'function'], t.top.map((r) => [fms(r.ms), fpct(r.pct), r.fn]));
    }
  }
}
