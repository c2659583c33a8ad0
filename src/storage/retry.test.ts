import { describe, expect, it } from 'vitest';
import { NotFoundError, RefConflictError, RemoteError } from '../core/errors.js';
import { FaultyBackend, type FaultRule } from './faulty.js';
import { MemoryBackend } from './memory.js';
import { RetryBackend, type RetryOptions } from './retry.js';

/** A virtual clock: sleeping advances it, so budgets are exact and tests never wait. */
function clock() {
  let t = 0;
  const waits: number[] = [];
  return {
    waits,
    options: { now: () => t, sleep: async (ms: number) => void (waits.push(ms), (t += ms)), random: () => 0.5 } satisfies RetryOptions,
  };
}

function wrapped(rules: FaultRule[], retry: RetryOptions = {}) {
  const mem = new MemoryBackend();
  const faulty = new FaultyBackend(mem, rules, { seed: 7 });
  const c = clock();
  return { mem, faulty, waits: c.waits, b: new RetryBackend(faulty, { ...c.options, ...retry }) };
}

describe('RetryBackend', () => {
  it('retries retryable failures of every method until they pass', async () => {
    const { mem, b, faulty } = wrapped([{ kind: ['reset', 'error500'], calls: [1, 2] }]);
    await mem.save('k', Buffer.from('hello'));
    expect((await b.load('k')).toString()).toBe('hello');
    expect(faulty.injected).toHaveLength(2);
    expect(b.retries).toBe(2);
  });

  it('passes non-retryable failures through at once', async () => {
    const { b, faulty } = wrapped([{ kind: 'fatal', calls: [1] }]);
    await expect(b.stat('k')).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/BadRequest/) });
    await expect(b.load('absent')).rejects.toBeInstanceOf(NotFoundError);
    expect(b.retries).toBe(0);
    expect(faulty.injected).toHaveLength(1);
  });

  it('backs off exponentially with a cap, longer when throttled, and honours Retry-After', async () => {
    const { b, mem, waits } = wrapped([{ methods: ['load'], kind: 'reset', calls: [1, 2, 3, 4, 5, 6, 7, 8] }], { baseDelayMs: 100, maxDelayMs: 1000 });
    await mem.save('k', Buffer.from('x'));
    await b.load('k');
    // random() = 0.5: half of each ceiling 100, 200, 400, 800, 1000, 1000...
    expect(waits).toEqual([50, 100, 200, 400, 500, 500, 500, 500]);

    const t = wrapped([{ methods: ['stat'], kind: 'slowdown', calls: [1, 2] }], { throttleDelayMs: 1000 });
    await t.b.stat('k');
    expect(t.waits[0]).toBeGreaterThanOrEqual(750); // at least half the throttle delay, despite a 100 ms base
    expect(t.waits[1]).toBeGreaterThanOrEqual(1500);

    const r = wrapped([{ methods: ['stat'], kind: 'throttle429', calls: [1], delayMs: 4000 }]);
    await r.b.stat('k');
    expect(r.waits).toEqual([4000]);
  });

  it('gives up after the time budget with one line naming the operation, the attempts and the last error', async () => {
    const { b, mem } = wrapped([{ methods: ['load'], kind: 'error500', probability: 1 }], { maxTimeMs: 2000, baseDelayMs: 100, maxDelayMs: 400 });
    await mem.save('packs/p.pack', Buffer.from('x'));
    await b.stat('packs/p.pack'); // the store was reached once
    const e = await b.load('packs/p.pack').catch((x: unknown) => x as RemoteError);
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.message).toMatch(/^gave up reading packs\/p\.pack in memory after \d+ attempts in [\d.]+ s: HTTP 500 InternalError/);
    expect(e.message.split('\n')).toHaveLength(1);
    expect(e.retryable).toBe(false);
    expect(e.hint).toMatch(/--retry-max-time/);
    const attempts = Number(/after (\d+) attempts/.exec(e.message)![1]);
    expect(attempts).toBeGreaterThan(4); // 50+100+200+200+... ms waits fit in 2 s
  });

  it('a store never reached gives up sooner (first contact), saying to check the remote', async () => {
    const { b } = wrapped([{ kind: 'reset', probability: 1 }], { maxTimeMs: 120_000, firstContactMs: 3000 });
    const e = await b.stat('k').catch((x: unknown) => x as RemoteError);
    expect(e.message).toMatch(/^gave up looking up k in memory after \d+ attempts in [\d.]+ s: connection reset/);
    expect(e.hint).toMatch(/never reached this remote/);
    expect(Number(/in ([\d.]+) s/.exec(e.message)![1])).toBeLessThanOrEqual(3);
  });

  it('a ranged load answered short is asked again, never returned short', async () => {
    const { b, mem, faulty } = wrapped([{ methods: ['load'], kind: 'short', calls: [1, 2] }]);
    const data = Buffer.from('0123456789abcdef');
    await mem.save('k', data);
    expect((await b.load('k', { offset: 2, length: 10 })).equals(data.subarray(2, 12))).toBe(true);
    expect(faulty.injected.map((f) => f.kind)).toEqual(['short', 'short']);
    // A whole-blob load cut short is a retryable failure too.
    expect((await b.load('k')).equals(data)).toBe(true);
  });

  it('a listing cut short restarts and yields each key once', async () => {
    const { b, mem } = wrapped([{ methods: ['list'], kind: 'short', calls: [1, 2] }]);
    for (let i = 0; i < 20; i++) await mem.save(`l/k${i}`, Buffer.from('x'));
    const keys: string[] = [];
    for await (const x of b.list('l/')) keys.push(x.key);
    expect(keys.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `l/k${i}`).sort());
  });

  it('a conditional save whose first attempt landed is no false conflict', async () => {
    const { b, mem } = wrapped([{ methods: ['save'], kind: 'lost-answer', calls: [1, 2] }]);
    const { etag } = await b.save('refs/heads/main', Buffer.from('a\n'), { ifNoneMatch: true });
    expect((await mem.load('refs/heads/main')).toString()).toBe('a\n');
    expect(etag).toBe((await mem.stat('refs/heads/main'))!.etag);
    const { etag: e2 } = await b.save('refs/heads/main', Buffer.from('b\n'), { ifMatch: etag });
    expect(e2).toBe((await mem.stat('refs/heads/main'))!.etag);
  });

  it('a real conflict after a lost answer is still a conflict', async () => {
    const { b, mem } = wrapped([{ methods: ['save'], kind: 'reset', calls: [1] }]);
    await mem.save('refs/heads/main', Buffer.from('theirs\n'));
    await expect(b.save('refs/heads/main', Buffer.from('mine\n'), { ifNoneMatch: true })).rejects.toBeInstanceOf(RefConflictError);
    expect((await mem.load('refs/heads/main')).toString()).toBe('theirs\n');
  });

  it('delegates what it does not change', async () => {
    const { b } = wrapped([]);
    expect(b.location).toBe('memory');
    expect(b.conditionalWrites).toBe(true);
    expect(b.maxConnections).toBe(64);
  });
});

describe('FaultyBackend', () => {
  it('replays the same faults for the same seed', async () => {
    const run = async () => {
      const f = new FaultyBackend(new MemoryBackend(), [{ kind: ['reset', 'error500', 'slowdown'], probability: 0.3 }], { seed: 42 });
      for (let i = 0; i < 50; i++) await f.stat(`k${i}`).catch(() => undefined);
      return f.injected;
    };
    const a = await run();
    expect(a.length).toBeGreaterThan(5);
    expect(a.length).toBeLessThan(30);
    expect(await run()).toEqual(a);
  });

  it('flips a byte of a load, and picks calls by method, key and count', async () => {
    const mem = new MemoryBackend();
    const data = Buffer.alloc(100, 7);
    await mem.save('packs/a.pack', data);
    await mem.save('refs/x', data);
    const f = new FaultyBackend(mem, [{ methods: ['load'], keys: /^packs\//, kind: 'flip', calls: [2] }]);
    expect((await f.load('refs/x')).equals(data)).toBe(true);
    expect((await f.load('packs/a.pack')).equals(data)).toBe(true);
    const flipped = await f.load('packs/a.pack');
    expect(flipped.length).toBe(100);
    expect(flipped.equals(data)).toBe(false);
    expect((await mem.load('packs/a.pack')).equals(data)).toBe(true); // the store is untouched
    expect(f.injected).toEqual([{ method: 'load', key: 'packs/a.pack', kind: 'flip' }]);
  });
});
