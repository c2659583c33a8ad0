// bench/lib/measure.js: clocks, machine load (other processes' CPU), and
// child processes measured for wall time, peak RSS and CPU time.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, IDLE_WAIT_S, NCPU, NODE } from './options.js';
import { fmt, log } from './report.js';

export const hr = () => process.hrtime.bigint();
export const msSince = (t0) => Number(hr() - t0) / 1e6;
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const mbps = (bytes, ms) => (ms > 0 ? bytes / 1e6 / (ms / 1000) : NaN);

export function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return r.status === 0 ? r.stdout.trim() : null;
}

// ---------------------------------------------------------------- machine load

/** cpuSnap reads the machine-wide busy and total jiffies from /proc/stat (null if unavailable). */
export function cpuSnap() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] || 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** busyCores is how many cores the whole machine kept busy between two snapshots. */
export function busyCores(a, b) {
  if (!a || !b || b.total <= a.total) return null;
  return ((b.busy - a.busy) / (b.total - a.total)) * NCPU;
}

export const otherLoad = []; // other CPU (cores) during each measured lode run
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * waitIdle waits (up to IDLE_WAIT_S) until other processes use less than a
 * quarter of a core over a 0.5 s window; returns that load (cores) or null.
 */
export async function waitIdle(label) {
  const deadline = Date.now() + IDLE_WAIT_S * 1000;
  let said = false;
  while (true) {
    const a = cpuSnap();
    const u0 = process.cpuUsage();
    await sleep(500);
    const b = cpuSnap();
    const u = process.cpuUsage(u0);
    const machine = busyCores(a, b);
    if (machine === null) return null;
    const other = Math.max(0, machine - (u.user + u.system) / 1e6 / 0.5);
    if (other < 0.25 || Date.now() >= deadline) {
      if (said || other >= 0.25) log(`${label}: other processes use ${fmt(other, 2)} cores${other >= 0.25 ? ' (gave up waiting; numbers below are pessimistic)' : ''}`);
      return other;
    }
    if (!said) log(`${label}: waiting for other processes to go idle (${fmt(other, 2)} cores busy)`);
    said = true;
  }
}

// ---------------------------------------------------------------- child processes

export const TIME_BIN = process.env.LODE_BENCH_NO_TIME === '1' ? null : findTime();
export function findTime() {
  const p = '/usr/bin/time';
  if (!fs.existsSync(p)) return null;
  // GNU time supports -f and -o; BusyBox/BSD variants may not.
  const r = spawnSync(p, ['-f', '%M', '-o', '/dev/null', 'true'], { encoding: 'utf8' });
  return r.status === 0 ? p : null;
}
export const CLK_TCK = Number(sh('getconf', ['CLK_TCK']) ?? 100) || 100;
export const MEM_METHOD = TIME_BIN ? '/usr/bin/time -f %M' : fs.existsSync('/proc/self/status') ? '/proc/<pid>/status VmHWM polling every 5 ms (CPU time from /proc/<pid>/stat: a lower bound)' : 'n/a';

let timeSeq = 0;
/** Process groups of running commands with a time limit (ended by cleanup on exit or a signal). */
export const liveGroups = new Set();
export function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone
  }
}
/** Synchronous clean-up steps for exit, failure and signals (a moto server, say). */
export const exitHooks = new Set();
export function runExitHooks() {
  for (const g of liveGroups) killGroup(g, 'SIGKILL');
  liveGroups.clear();
  for (const h of exitHooks) {
    try {
      h();
    } catch {
      // best effort
    }
  }
  exitHooks.clear();
}
process.on('exit', runExitHooks);
/**
 * runCmd runs `cmd args` as a child process and measures its wall time
 * (process.hrtime from spawn to exit), peak RSS (KiB) and CPU seconds.
 */
export function runCmd(cmd, args, { cwd, measureMem = true, allowFail = false, env, timeoutMs } = {}) {
  return new Promise((resolve, reject) => {
    let file = cmd;
    let fargs = args;
    let timeOut;
    const useTime = measureMem && TIME_BIN;
    if (useTime) {
      timeOut = path.join(os.tmpdir(), `lode-bench-time-${process.pid}-${timeSeq++}`);
      file = TIME_BIN;
      fargs = ['-f', '%M %e %U %S', '-o', timeOut, cmd, ...args];
    }
    const stdout = [];
    const stderr = [];
    let hwmKiB = null;
    let ticks = null; // utime + stime from /proc/<pid>/stat (fallback CPU time)
    let poll;
    const snap0 = cpuSnap();
    const t0 = hr();
    let wallMs;
    let snap1;
    // With a time limit the child gets its own process group, so the whole group
    // (time, a shim, the command and anything it started) can be ended at once.
    const child = spawn(file, fargs, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: !!timeoutMs });
    let timedOut = false;
    let killTimer;
    let killTimer2;
    const group = timeoutMs && child.pid ? child.pid : null;
    if (group) {
      liveGroups.add(group);
      killTimer = setTimeout(() => {
        timedOut = true;
        killGroup(group, 'SIGTERM');
        killTimer2 = setTimeout(() => killGroup(group, 'SIGKILL'), 5000);
      }, timeoutMs);
    }
    if (measureMem && !useTime && MEM_METHOD !== 'n/a') {
      const read = () => {
        try {
          const s = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
          const m = /VmHWM:\s+(\d+) kB/.exec(s);
          if (m) hwmKiB = Math.max(hwmKiB ?? 0, Number(m[1]));
          const st = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
          const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
          ticks = Number(f[11]) + Number(f[12]); // fields 14 and 15 of stat(5)
        } catch {
          // exited
        }
      };
      poll = setInterval(read, 5);
    }
    child.stdout.on('data', (d) => stdout.push(d));
    child.stderr.on('data', (d) => stderr.push(d));
    child.on('exit', () => {
      wallMs = msSince(t0);
      snap1 = cpuSnap();
      if (poll) clearInterval(poll);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      wallMs ??= msSince(t0);
      if (group) {
        clearTimeout(killTimer);
        clearTimeout(killTimer2);
        killGroup(group, 'SIGKILL'); // leftovers of a finished or timed-out command
        liveGroups.delete(group);
      }
      const res = {
        code,
        timedOut,
        ms: wallMs,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        rssKiB: hwmKiB,
        cpuS: ticks === null ? null : ticks / CLK_TCK, // lower bound: last poll before exit
        otherCores: null,
      };
      if (timeOut) {
        try {
          const lines = fs.readFileSync(timeOut, 'utf8').trim().split('\n');
          const [m, , u, s] = lines[lines.length - 1].trim().split(/\s+/).map(Number);
          res.rssKiB = m;
          res.cpuS = u + s;
        } catch {
          // leave n/a
        }
        fs.rmSync(timeOut, { force: true });
      }
      const machine = busyCores(snap0, snap1 ?? cpuSnap());
      if (machine !== null && res.cpuS !== null) {
        res.otherCores = Math.max(0, machine - res.cpuS / (wallMs / 1000));
        if (wallMs > 150) otherLoad.push({ ms: wallMs, cores: res.otherCores });
      }
      if (code !== 0 && !allowFail && !timedOut) {
        const e = new Error(`${path.basename(cmd)} ${args.join(' ')} exited with ${code}\n${res.stderr.trim()}\n${res.stdout.trim()}`.trim());
        e.result = res;
        reject(e);
        return;
      }
      resolve(res);
    });
  });
}

/** lode runs the real CLI; with `json` it adds --json and parses stdout. */
export async function lode(cwd, args, { json = true, quiet = true, ...opts } = {}) {
  const full = [...(quiet ? ['-q'] : []), ...args, ...(json ? ['--json'] : [])];
  const r = await runCmd(NODE, [BIN, ...full], { cwd, ...opts });
  if (json && r.code === 0) {
    try {
      r.json = JSON.parse(r.stdout);
    } catch {
      throw new Error(`lode ${full.join(' ')}: stdout is not JSON:\n${r.stdout.slice(0, 500)}`);
    }
  }
  return r;
}

export const cpuPct = (r) => (r.cpuS === null ? null : (r.cpuS * 1000) / r.ms);
export const fother = (r) => (r.otherCores === null || r.otherCores === undefined ? 'n/a' : fmt(r.otherCores, 2));

/** bestOf runs an in-process measurement `n` times and keeps the fastest (a ceiling). */
export async function bestOf(n, f) {
  let best = null;
  for (let i = 0; i < n; i++) {
    const ms = await f();
    if (ms !== null && (best === null || ms < best)) best = ms;
  }
  return best;
}
