// Two workspaces sharing an S3 bucket (moto), through the CLI as users would:
// credentials from the environment, endpoint in the remote's settings.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, workspaceSnapshot, writeFile } from '../test/helpers/cli.js';
import { createBucket, freePort, MOTO_CREDENTIALS, startFaultProxy, startMoto, type TestServer } from '../test/helpers/s3-servers.js';

let moto: TestServer;
let base: string;
const env = { AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };

beforeAll(async () => {
  moto = await startMoto();
  await createBucket(moto.endpoint, 'team-data');
  base = makeTempDir('lode-e2e-s3');
});
afterAll(async () => {
  await moto?.stop();
  if (base) removeDir(base);
});

describe('sharing through S3 (moto)', () => {
  it('push, clone and pull round-trip the data; a small edit sends little', async () => {
    const a = path.join(base, 'alice');
    fs.mkdirSync(a);
    const at = { cwd: a, env };
    await lodeOk(['init'], at);
    for (let i = 0; i < 20; i++) writeFile(a, `data/f${i}.bin`, pseudoRandomBytes(3000, i + 1));
    writeFile(a, 'data/big.bin', pseudoRandomBytes(5 << 20, 7));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v1'], at);
    await lodeOk(['remote', 'add', 'origin', 's3://team-data/cats', '--endpoint', moto.endpoint, '--path-style'], at);
    const p1 = await lodeJson(['push'], at);
    expect(p1.pushed[0]).toMatchObject({ upToDate: false, packs: 1 });

    const b = path.join(base, 'bob');
    await lodeOk(['clone', 's3://team-data/cats', b, '--endpoint', moto.endpoint, '--path-style'], { cwd: base, env });
    expect(workspaceSnapshot(b)).toEqual(workspaceSnapshot(a));

    const fd = fs.openSync(path.join(a, 'data/big.bin'), 'r+');
    fs.writeSync(fd, Buffer.alloc(64, 1), 0, 64, 2 << 20);
    fs.closeSync(fd);
    await lodeOk(['commit', '-a', '-m', 'v2'], at);
    const p2 = await lodeJson(['push'], at);
    expect(p2.pushed[0].bytes).toBeLessThan(5 << 20);
    const pl = await lodeJson(['pull'], { cwd: b, env });
    expect(pl.outcome).toBe('fastForward');
    expect(workspaceSnapshot(b)).toEqual(workspaceSnapshot(a));
  });

  it('bad remotes: missing bucket, unreachable endpoint, no credentials — each a clear error (exit 9), nothing left behind', async () => {
    const missing = await runLode(['clone', 's3://no-such-bucket/x', 'c1', '--endpoint', moto.endpoint, '--path-style'], { cwd: base, env });
    expect(expectLodeError(missing, 9)).toMatch(/bucket/i);
    const port = await freePort();
    const down = await runLode(['clone', 's3://team-data/cats', 'c2', '--endpoint', `http://127.0.0.1:${port}`, '--path-style'], { cwd: base, env });
    expect(expectLodeError(down, 9)).toContain(`127.0.0.1:${port}`);
    const noCreds = await runLode(['clone', 's3://team-data/cats', 'c3', '--endpoint', moto.endpoint, '--path-style'], {
      cwd: base,
      env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'lode-no-such-profile', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' },
    });
    expect(noCreds.code).not.toBe(0);
    expect(noCreds.stderr).toMatch(/^error: /m);
    for (const d of ['c1', 'c2', 'c3']) expect(fs.existsSync(path.join(base, d))).toBe(false);
  });
});

describe('S3 through a proxy that faults 15% of requests (resets, lost answers, 503, 500, cut bodies, flipped bytes)', () => {
  it('push, clone, pull and gc --remote complete without a re-run; every byte is verified', async () => {
    const proxy = await startFaultProxy(moto.endpoint, { probability: 0.15, seed: 11, flipRangedGets: [1, 4] });
    try {
      await createBucket(moto.endpoint, 'faulty-data');
      const a = path.join(base, 'alice-faults');
      fs.mkdirSync(a);
      const at = { cwd: a, env, timeoutMs: 180_000 };
      await lodeOk(['init'], at);
      for (let i = 0; i < 40; i++) writeFile(a, `data/f${i}.bin`, pseudoRandomBytes(3000, i + 1));
      writeFile(a, 'data/big.bin', pseudoRandomBytes(5 << 20, 7));
      await lodeOk(['add', 'data'], at);
      await lodeOk(['commit', '-m', 'v1'], at);
      await lodeOk(['remote', 'add', 'origin', 's3://faulty-data/cats', '--endpoint', proxy.endpoint, '--path-style'], at);
      await lodeOk(['push'], at);

      const b = path.join(base, 'bob-faults');
      await lodeOk(['clone', 's3://faulty-data/cats', b, '--endpoint', proxy.endpoint, '--path-style'], { cwd: base, env, timeoutMs: 180_000 });
      expect(workspaceSnapshot(b)).toEqual(workspaceSnapshot(a));
      for (let round = 0; round < 3; round++) {
        writeFile(a, `data/f${round}.bin`, pseudoRandomBytes(4000, 100 + round));
        const fd = fs.openSync(path.join(a, 'data/big.bin'), 'r+');
        fs.writeSync(fd, pseudoRandomBytes(64, 200 + round), 0, 64, (round + 1) << 20);
        fs.closeSync(fd);
        await lodeOk(['commit', '-a', '-m', `v${round + 2}`], at);
        await lodeOk(['push'], at);
        await lodeOk(['pull'], { cwd: b, env, timeoutMs: 180_000 });
        expect(workspaceSnapshot(b)).toEqual(workspaceSnapshot(a));
      }
      await lodeOk(['gc', '--remote'], at);
      for (const w of [a, b]) expect((await lodeJson(['fsck'], { cwd: w, env })).ok).toBe(true);
      // The faults happened, flipped bytes among them.
      expect(Object.values(proxy.faults).reduce((x, y) => x + y, 0)).toBeGreaterThan(10);
      expect(Object.keys(proxy.faults).length).toBeGreaterThanOrEqual(4);
      expect(proxy.faults.flip).toBeGreaterThanOrEqual(2);
    } finally {
      await proxy.stop();
    }
  }, 600_000);
});
