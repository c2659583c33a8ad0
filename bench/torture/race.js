// Scenario 4: the double win. Two workspaces push different commits on the
// same branch at the same time, through a proxy in front of moto that (like a
// store whose conditional writes are not atomic) drops If-Match and
// If-None-Match from ref writes, and holds the first ref write until the
// second arrives, then writes both. Both writes "succeed"; the remote keeps
// the second. A safe push reads its ref back: exactly one push may report
// success, the other must report it was overwritten (exit 7).
//
// Outcomes: one reported overwritten (exit 7) — and the remote holds the
// winner's commit; violation: both claimed success (one commit silently
// gone from the remote); other — anything else (details in the JSON).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { createBucket, MOTO_CREDENTIALS, motoUnavailable, startMoto } from '../../test/helpers/moto.js';
import { firstError, lodeOk, pseudoRandomBytes, rng, runLode, Tally, writeFile } from './common.js';
import { S3_ENV } from './faults.js';
import { startFaultProxy } from './proxy.js';

const BUCKET = 'torture-race';

/** readRef reads a ref's object straight from moto with the SDK (no proxy): its text, or why not. */
async function readRef(endpoint, key) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await import('@aws-sdk/client-s3');
  const client = new sdk.S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: MOTO_CREDENTIALS, maxAttempts: 2 });
  try {
    const r = await client.send(new sdk.GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return (await r.Body.transformToString()).trim();
  } catch (e) {
    return `(unreadable: ${e.name})`;
  } finally {
    client.destroy();
  }
}

export async function runRaceScenario({ root, trials, logDir, say, cleanups }) {
  const tally = new Tally('double-win race (conditional ref writes both succeed)', logDir);
  const why = motoUnavailable();
  if (why) {
    say(`race: skipped: ${why}`);
    return [tally];
  }
  fs.mkdirSync(root, { recursive: true });
  const moto = await startMoto({ env: { TMPDIR: root } });
  cleanups.push(() => moto.killSync());
  const proxy = await startFaultProxy({ upstream: moto.endpoint, rand: rng(1), rate: 0 });
  cleanups.push(() => void proxy.stop());
  const env = S3_ENV;
  const viaProxy = ['--endpoint', proxy.endpoint, '--path-style'];
  try {
    await createBucket(moto.endpoint, BUCKET);
    const a = path.join(root, 'a');
    fs.mkdirSync(a);
    await lodeOk(['init'], { cwd: a, env });
    for (let i = 0; i < 20; i++) writeFile(a, `data/f${i}.bin`, pseudoRandomBytes(4096, i + 1));
    writeFile(a, 'data/big.bin', pseudoRandomBytes(2 << 20, 99));
    await lodeOk(['add', 'data'], { cwd: a, env });
    await lodeOk(['commit', '-m', 'base'], { cwd: a, env });
    say(`race: ${trials} trials, two pushes at once, conditional headers stripped from ref writes`);
    for (let i = 0; i < trials; i++) {
      const prefix = `race-${i}`;
      proxy.set({ stripConditional: undefined, holdRefWrites: 0 });
      await lodeOk(['remote', 'add', `r${i}`, `s3://${BUCKET}/${prefix}`, ...viaProxy], { cwd: a, env });
      await lodeOk(['push', `r${i}`, 'main'], { cwd: a, env });
      const sides = [];
      for (const who of ['x', 'y']) {
        const ws = path.join(root, `${who}-${i}`);
        await lodeOk(['clone', `s3://${BUCKET}/${prefix}`, ws, ...viaProxy], { cwd: root, env });
        writeFile(ws, `data/${who}.bin`, pseudoRandomBytes(300_000, i * 10 + (who === 'x' ? 1 : 2)));
        await lodeOk(['add', 'data'], { cwd: ws, env });
        await lodeOk(['commit', '-m', `from ${who}`], { cwd: ws, env });
        const head = JSON.parse((await lodeOk(['log', '-n', '1', '--json'], { cwd: ws, env })).stdout).commits[0].id;
        sides.push({ who, ws, head });
      }
      proxy.set({ stripConditional: (req) => req.method === 'PUT' && /\/refs\//.test(req.url ?? ''), holdRefWrites: 2, holdTimeoutMs: 30_000 });
      const runs = await Promise.all(sides.map((s) => runLode(['push'], { cwd: s.ws, env })));
      proxy.set({ stripConditional: undefined, holdRefWrites: 0 });
      const remoteHead = await readRef(moto.endpoint, `${prefix}/refs/heads/main`);
      const detail = {
        trial: i,
        pushes: runs.map((r, k) => ({ who: sides[k].who, commit: sides[k].head, exit: r.code ?? r.signal, error: r.code === 0 ? undefined : firstError(r.stderr) })),
        remoteHead,
      };
      const codes = runs.map((r) => r.code);
      let outcome;
      const winner = codes.indexOf(0);
      if (codes[0] === 0 && codes[1] === 0) {
        outcome = 'violation: both claimed success';
        detail.problems = [`both pushes exited 0; the remote holds ${remoteHead === sides[0].head ? 'x' : remoteHead === sides[1].head ? 'y' : remoteHead}, the other commit is silently gone from it`];
      } else if (winner >= 0 && codes[1 - winner] === 7) {
        outcome = remoteHead === sides[winner].head ? 'one reported overwritten (exit 7)' : 'violation: the remote holds the loser';
        if (outcome.startsWith('violation')) detail.problems = [`the push that exited 0 wrote ${sides[winner].head}, the remote holds ${remoteHead}`];
      } else {
        outcome = `other: exits ${codes.join('/')}`;
      }
      tally.add(outcome, detail);
      for (const s of sides) fs.rmSync(s.ws, { recursive: true, force: true });
    }
    tally.setNote('ref writes stripped of conditions', proxy.stats.stripped);
    say(`  ${tally.scenario}: ${JSON.stringify(tally.outcomes)}`);
    return [tally];
  } finally {
    await proxy.stop();
    await moto.stop();
  }
}
