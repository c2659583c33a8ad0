// Scenario 2: push, fetch, clone and pull through a fault-injecting proxy in
// front of moto (a real S3 implementation), with a share of requests faulted
// (connection resets, 500, 503 SlowDown, bodies cut short, flipped bytes).
//
// The remote is `s3://torture/<prefix>` with `--endpoint <proxy> --path-style`;
// credentials come from the environment (AWS_ACCESS_KEY_ID ...), as users
// give them. After each command: `lode fsck`, and the data compared by
// fingerprint with what was pushed (a push is checked by cloning the prefix
// straight from moto, without faults).
//
// Outcomes: converged (exit 0 on the first run, right data, fsck clean),
// failed cleanly (exit 9 with one error line, fsck clean, nothing wrong left:
// the same command with faults off then succeeds), violation (wrong data,
// fsck failure, internal error exit 70, a dirty failure).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { createBucket, MOTO_CREDENTIALS, motoUnavailable, startMoto } from '../../test/helpers/moto.js';
import { fingerprint, fingerprintDiff, firstError, lodeOk, pseudoRandomBytes, runLode, tail, Tally, writeFile } from './common.js';
import { startFaultProxy } from './proxy.js';

const BUCKET = 'torture';
export const S3_ENV = {
  AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
};

/** makeData writes `count` small files and two multi-MiB files (seeded) under `ws/data`. */
export function makeData(ws, seed, { count = 150, bigMiB = 6 } = {}) {
  for (let i = 0; i < count; i++) writeFile(ws, `data/small/f${i}.bin`, pseudoRandomBytes(1024 + ((i * 7919) % 5000), seed * 10_000 + i));
  writeFile(ws, 'data/big/a.bin', pseudoRandomBytes(bigMiB << 20, seed * 10_000 + 9001));
  writeFile(ws, 'data/big/b.bin', pseudoRandomBytes((bigMiB >> 1) << 20, seed * 10_000 + 9002));
}

/** errorLines: the `error:` lines a failed command printed (a clean failure has exactly one). */
function errorLines(stderr) {
  return stderr.split('\n').filter((l) => l.startsWith('error:'));
}

export async function runFaultScenario({ root, trials, rate, rand, logDir, say, cleanups }) {
  const why = motoUnavailable();
  if (why) {
    say(`faults: skipped: ${why}`);
    const t = new Tally('fault proxy (skipped: no moto)', logDir);
    return [t];
  }
  fs.mkdirSync(root, { recursive: true });
  const moto = await startMoto({ env: { TMPDIR: root } });
  cleanups.push(() => moto.killSync());
  const proxy = await startFaultProxy({ upstream: moto.endpoint, rand, rate: 0 });
  cleanups.push(() => void proxy.stop());
  try {
    await createBucket(moto.endpoint, BUCKET);
    const env = S3_ENV;
    const viaProxy = ['--endpoint', proxy.endpoint, '--path-style'];
    const direct = ['--endpoint', moto.endpoint, '--path-style'];
    say(`faults: moto at ${moto.endpoint}, proxy at ${proxy.endpoint}, ${Math.round(rate * 100)}% of requests faulted, ${trials} trials per command`);

    // Source workspace with v1 and v2; a "seed" prefix holding v1, cloned once (B0, at v1), then v2 pushed to it.
    const a = path.join(root, 'a');
    fs.mkdirSync(a);
    await lodeOk(['init'], { cwd: a, env });
    makeData(a, 1);
    await lodeOk(['add', 'data'], { cwd: a, env });
    await lodeOk(['commit', '-m', 'v1'], { cwd: a, env });
    const fpV1 = fingerprint(a);
    await lodeOk(['remote', 'add', 'seed', `s3://${BUCKET}/seed`, ...viaProxy], { cwd: a, env });
    await lodeOk(['push', 'seed', 'main'], { cwd: a, env });
    const b0 = path.join(root, 'b0');
    await lodeOk(['clone', `s3://${BUCKET}/seed`, b0, ...viaProxy], { cwd: root, env });
    for (let i = 0; i < 150; i += 4) writeFile(a, `data/small/f${i}.bin`, pseudoRandomBytes(3000, 777_000 + i));
    writeFile(a, 'data/big/a.bin', pseudoRandomBytes(6 << 20, 4242));
    await lodeOk(['add', 'data'], { cwd: a, env });
    await lodeOk(['commit', '-m', 'v2'], { cwd: a, env });
    const fpV2 = fingerprint(a);
    const v2 = JSON.parse((await lodeOk(['log', '-n', '1', '--json'], { cwd: a, env })).stdout).commits[0].id;
    await lodeOk(['push', 'seed', 'main'], { cwd: a, env });

    const tallies = [];
    for (const op of ['push', 'fetch', 'clone', 'pull']) {
      const tally = new Tally(`fault proxy ${Math.round(rate * 100)}%: ${op}`, logDir);
      const before = { ...proxy.stats.faults };
      for (let i = 0; i < trials; i++) {
        const detail = { op, trial: i };
        const problems = [];
        let first;
        let ws;
        let verify; // () => problems after a successful run
        let rerun; // the same command with faults off
        if (op === 'push') {
          const name = `p${i}`;
          await lodeOk(['remote', 'add', name, `s3://${BUCKET}/push-${i}`, ...viaProxy], { cwd: a, env });
          ws = a;
          rerun = () => runLode(['push', name, 'main'], { cwd: a, env });
          verify = async () => {
            const c = path.join(root, `push-check-${i}`);
            const cl = await runLode(['clone', `s3://${BUCKET}/push-${i}`, c, ...direct], { cwd: root, env });
            if (cl.code !== 0) return [`clone of the pushed prefix (no faults) exited ${cl.code}: ${firstError(cl.stderr)}`];
            const d = fingerprintDiff(fingerprint(c), fpV2);
            fs.rmSync(c, { recursive: true, force: true });
            return d ? [`the pushed prefix holds other data: ${d}`] : [];
          };
          proxy.set({ rate });
          first = await runLode(['push', name, 'main'], { cwd: a, env });
        } else if (op === 'clone') {
          ws = path.join(root, `clone-${i}`);
          rerun = () => runLode(['clone', `s3://${BUCKET}/seed`, ws, ...viaProxy], { cwd: root, env });
          verify = async () => {
            const d = fingerprintDiff(fingerprint(ws), fpV2);
            return d ? [`clone differs from what was pushed: ${d}`] : [];
          };
          proxy.set({ rate });
          first = await runLode(['clone', `s3://${BUCKET}/seed`, ws, ...viaProxy], { cwd: root, env });
        } else {
          ws = path.join(root, `${op}-${i}`);
          fs.cpSync(b0, ws, { recursive: true });
          rerun = () => runLode([op], { cwd: ws, env });
          verify = async () => {
            const out = [];
            const d = fingerprintDiff(fingerprint(ws), op === 'pull' ? fpV2 : fpV1);
            if (d) out.push(`workspace is not the expected version: ${d}`);
            // Where the remote-tracking ref points, and that lode can read that commit.
            let tip;
            try {
              tip = fs.readFileSync(path.join(ws, '.lode', 'remotes', 'origin', 'refs', 'heads', 'main'), 'utf8').trim();
            } catch {
              tip = undefined;
            }
            if (tip !== v2) out.push(`the tracking ref of origin/main is ${tip ?? '(absent)'}, expected ${v2}`);
            else {
              const lg = await runLode(['log', tip, '-n', '1', '--json'], { cwd: ws, env });
              if (lg.code !== 0) out.push(`log of the fetched tip exited ${lg.code}: ${firstError(lg.stderr)}`);
            }
            return out;
          };
          proxy.set({ rate });
          first = await runLode([op], { cwd: ws, env });
        }
        proxy.set({ rate: 0 });
        detail.exit = first.code ?? first.signal;
        detail.stderr = tail(first.stderr, 4);
        let outcome;
        if (first.code === 0) {
          problems.push(...(await verify()));
          outcome = 'converged';
        } else if ((first.code === 9 || first.code === 5) && errorLines(first.stderr).length === 1) {
          // 9: the remote failed; 5: a damaged read was caught (and not retried).
          outcome = `failed cleanly (exit ${first.code})`;
          detail.error = firstError(first.stderr);
          if (op === 'clone' && fs.existsSync(ws) && fs.readdirSync(ws).length > 0) problems.push(`the failed clone left ${ws}`);
        } else {
          problems.push(`exit ${first.code ?? first.signal}${first.code === 70 ? ' (internal error)' : ''}: ${tail(first.stderr, 3)}`);
          outcome = 'violation';
        }
        // fsck where a repository exists, then (after a failure) the same command without faults must succeed.
        if (fs.existsSync(path.join(ws, '.lode'))) {
          const fk = await runLode(['fsck'], { cwd: ws, env });
          if (fk.code !== 0) problems.push(`fsck exited ${fk.code}: ${tail(fk.stdout + fk.stderr, 3)}`);
        }
        if (first.code !== 0) {
          const again = await rerun();
          detail.rerun = { exit: again.code, error: again.code === 0 ? undefined : firstError(again.stderr) };
          if (again.code !== 0) problems.push(`the same command without faults then exited ${again.code}: ${firstError(again.stderr)}`);
          else {
            problems.push(...(await verify()));
            const fk = await runLode(['fsck'], { cwd: ws, env });
            if (fk.code !== 0) problems.push(`fsck after the re-run exited ${fk.code}: ${tail(fk.stdout + fk.stderr, 3)}`);
          }
        }
        if (problems.length > 0) outcome = 'violation';
        tally.add(outcome, outcome === 'converged' ? undefined : { ...detail, problems });
        if (ws !== a) fs.rmSync(ws, { recursive: true, force: true });
      }
      const faults = Object.entries(proxy.stats.faults).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v > 0);
      tally.setNote('faults injected', faults.map(([k, v]) => `${k} ${v}`).join(', ') || 'none');
      say(`  ${tally.scenario}: ${JSON.stringify(tally.outcomes)}`);
      tallies.push(tally);
    }
    return tallies;
  } finally {
    await proxy.stop();
    await moto.stop();
  }
}
