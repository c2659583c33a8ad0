import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type * as Pool from './worker-pool.js';
import type { TestReply, TestRequest } from './worker-pool-test-worker.js';

// The pool's workers run compiled JavaScript: this uses the build (`npx tsc -p .` first).
const built = new URL('../../dist/objects/worker-pool.js', import.meta.url);
const script = new URL('../../dist/objects/worker-pool-test-worker.js', import.meta.url);
const haveBuild = fs.existsSync(fileURLToPath(built)) && fs.existsSync(fileURLToPath(script));

type TestPool = Pool.WorkerPool<TestRequest, TestReply>;

async function pool(threads: number): Promise<TestPool> {
  const { WorkerPool } = (await import(built.href)) as typeof Pool;
  return new WorkerPool<TestRequest, TestReply>(script, 'test', threads);
}

describe.skipIf(!haveBuild)('WorkerPool', () => {
  it('settles each request with the reply to it', async () => {
    const p = await pool(3);
    try {
      const values = Array.from({ length: 200 }, (_, i) => i * 7 + 1);
      const replies = await Promise.all(values.map((value) => p.request(1, (seq) => ({ seq, value }))));
      expect(replies.map((r) => r.doubled)).toEqual(values.map((v) => v * 2));
      // Every request got its own reply (no sequence number answered twice).
      expect(new Set(replies.map((r) => r.seq)).size).toBe(values.length);
      expect(p.failed).toBe(false);
    } finally {
      await p.close();
    }
  });

  it('sends each request to the least loaded worker', async () => {
    const p = await pool(2);
    try {
      // All sent in one turn, before any reply can lower a load.
      const a = p.request(100, (seq) => ({ seq, value: 1 })); // worker 0 (both idle: the first)
      const b = p.request(1, (seq) => ({ seq, value: 2 })); // worker 1: 0 < 100
      const c = p.request(1, (seq) => ({ seq, value: 3 })); // worker 1: 1 < 100
      const d = p.request(200, (seq) => ({ seq, value: 4 })); // worker 1: 2 < 100
      const e = p.request(1, (seq) => ({ seq, value: 5 })); // worker 0: 100 < 202
      const [ra, rb, rc, rd, re] = await Promise.all([a, b, c, d, e]);
      expect(ra.thread).not.toBe(rb.thread);
      expect([rc.thread, rd.thread]).toEqual([rb.thread, rb.thread]);
      expect(re.thread).toBe(ra.thread);
      expect([ra, rb, rc, rd, re].map((r) => r.doubled)).toEqual([2, 4, 6, 8, 10]);
    } finally {
      await p.close();
    }
  });

  it('rejects pending and later requests once a worker exits with an error', async () => {
    const p = await pool(2);
    try {
      const pending = p.request(1, (seq) => ({ seq, value: 1, hang: true })); // worker 0, never answers
      const dying = p.request(1, (seq) => ({ seq, value: 2, exit: 3 })); // worker 1
      await Promise.all([
        expect(pending).rejects.toThrow('test worker exited with code 3'),
        expect(dying).rejects.toThrow('test worker exited with code 3'),
      ]);
      expect(p.failed).toBe(true);
      let asked = false;
      const later = p.request(1, (seq) => {
        asked = true;
        return { seq, value: 3 };
      });
      await expect(later).rejects.toThrow('test worker exited with code 3');
      expect(asked).toBe(false);
    } finally {
      await p.close();
    }
  });

  it('rejects with the error a worker throws', async () => {
    const p = await pool(1);
    try {
      await expect(p.request(1, (seq) => ({ seq, value: 1, throw: 'boom in worker' }))).rejects.toThrow('boom in worker');
      await expect(p.request(1, (seq) => ({ seq, value: 2 }))).rejects.toThrow('boom in worker');
    } finally {
      await p.close();
    }
  });

  it('never keeps the process alive: not idle after its work, not when it got none', () => {
    // Each child starts a pool and ends its script without closing it; a pool
    // that held the process would run into the (generous) timeout.
    // (A script file, not --eval: workers inherit the parent's execArgv, and --input-type stops them.)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-pool-'));
    const child = (requests: number) => {
      const file = path.join(dir, `child-${requests}.mjs`);
      fs.writeFileSync(file, `
        const { WorkerPool } = await import(${JSON.stringify(built.href)});
        const p = new WorkerPool(new URL(${JSON.stringify(script.href)}), 'test', 2);
        for (let i = 0; i < ${requests}; i++) console.log((await p.request(1, (seq) => ({ seq, value: i }))).doubled);
        console.log('end');
      `);
      return spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
    };
    for (const [requests, out] of [[0, 'end\n'], [2, '0\n2\nend\n']] as const) {
      const r = child(requests);
      expect({ requests, status: r.status, signal: r.signal, out: r.stdout }).toEqual({ requests, status: 0, signal: null, out });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('rejects requests still pending at close, and later ones', async () => {
    const p = await pool(1);
    const pending = expect(p.request(1, (seq) => ({ seq, value: 1, hang: true }))).rejects.toThrow('test pool closed');
    await p.close();
    await pending;
    await expect(p.request(1, (seq) => ({ seq, value: 2 }))).rejects.toThrow('test pool closed');
    expect(p.failed).toBe(true);
  });
});
