import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { ProgressEvent } from '../core/progress.js';
import {
  chooseProgressMode,
  createPlainReporter,
  createProgressReporter,
  formatBytes,
  formatDuration,
  formatRate,
  layoutRunning,
  runningText,
} from './progress.js';

const MiB = 1024 * 1024;

function fakeStream(props: { isTTY?: boolean; columns?: number } = {}): {
  stream: NodeJS.WriteStream;
  text: () => string;
} {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  Object.assign(w, props);
  return { stream: w as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
}

/** until resolves once `ok()` holds, polling; it gives up (and the test's own assertion then fails) after 5 s. */
async function until(ok: () => boolean): Promise<void> {
  for (let waited = 0; !ok() && waited < 5_000; waited += 25) await new Promise((resolve) => setTimeout(resolve, 25));
}

/** A clock the test moves by hand. */
function manualClock(start = 0) {
  let t = start;
  return { now: () => t, set: (v: number) => (t = v) };
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

describe('chooseProgressMode', () => {
  const tty = { isTTY: true } as unknown as NodeJS.WriteStream;
  const pipe = { isTTY: false } as unknown as NodeJS.WriteStream;
  const file = {} as unknown as NodeJS.WriteStream; // fs streams have no isTTY at all

  it('uses ink on an interactive terminal', () => {
    expect(chooseProgressMode({ stream: tty, env: { TERM: 'xterm-256color' } })).toBe('tty');
  });
  it('prints plain lines when the stream is not a terminal', () => {
    expect(chooseProgressMode({ stream: pipe, env: {} })).toBe('plain');
    expect(chooseProgressMode({ stream: file, env: {} })).toBe('plain');
  });
  it('prints plain lines in CI, even on a terminal', () => {
    expect(chooseProgressMode({ stream: tty, env: { CI: 'true' } })).toBe('plain');
    expect(chooseProgressMode({ stream: tty, env: { CI: '1' } })).toBe('plain');
    expect(chooseProgressMode({ stream: tty, env: { CONTINUOUS_INTEGRATION: 'yes' } })).toBe('plain');
  });
  it('treats CI=false and CI=0 as not in CI, like ink does', () => {
    expect(chooseProgressMode({ stream: tty, env: { CI: 'false' } })).toBe('tty');
    expect(chooseProgressMode({ stream: tty, env: { CI: '0' } })).toBe('tty');
  });
  it('prints plain lines on a dumb terminal', () => {
    expect(chooseProgressMode({ stream: tty, env: { TERM: 'dumb' } })).toBe('plain');
  });
  it('shows nothing only when quiet; --json alone keeps progress on stderr', () => {
    expect(chooseProgressMode({ quiet: true, stream: tty, env: {} })).toBe('none');
    expect(chooseProgressMode({ quiet: true, stream: pipe, env: {} })).toBe('none');
    expect(chooseProgressMode({ quiet: false, stream: tty, env: {} })).toBe('tty');
  });
});

describe('plain reporter', () => {
  it('throttles a flood of events to a few lines and prints the summary of a long phase', async () => {
    const { stream, text } = fakeStream();
    const clock = manualClock();
    const r = createPlainReporter(stream, { now: clock.now });
    const n = 10_000;
    // 10,000 events over 2.5 simulated seconds.
    for (let i = 1; i <= n; i++) {
      clock.set(i / 4);
      r.sink({ phase: 'hash', done: i, total: n, bytes: i * 1024, totalBytes: n * 1024 });
    }
    r.sink({ phase: 'hash', done: n, total: n, bytes: n * 1024, totalBytes: n * 1024, finished: true });
    await r.close();
    const out = lines(text());
    expect(out.length).toBe(3);
    expect(out.at(-1)).toBe('adding: 10,000 files, 9.8 MiB in 2.5 s');
  });

  it('prints nothing at all for a flood of events that is over quickly', async () => {
    const { stream, text } = fakeStream();
    const clock = manualClock();
    const r = createPlainReporter(stream, { now: clock.now });
    const n = 10_000;
    // The same flood, over in 999 simulated milliseconds: no progress line, no summary.
    for (let i = 1; i <= n; i++) {
      clock.set(Math.floor((i * 999) / n));
      r.sink({ phase: 'hash', done: i, total: n, bytes: i * 1024, totalBytes: n * 1024, finished: i === n });
    }
    await r.close();
    expect(text()).toBe('');
  });

  it('gives a summary to a phase that lasted exactly intervalMs, and none to one a millisecond shorter', async () => {
    for (const [ms, expected] of [
      [250, ['checking out: 3 files in 0.3 s']],
      [249, []],
    ] as const) {
      const { stream, text } = fakeStream();
      const clock = manualClock(10_000);
      const r = createPlainReporter(stream, { now: clock.now, intervalMs: 250 });
      r.sink({ phase: 'checkout', done: 1, total: 3 });
      clock.set(10_000 + ms);
      r.sink({ phase: 'checkout', done: 3, total: 3, finished: true });
      await r.close();
      expect(lines(text())).toEqual(expected);
    }
  });

  it('prints at most one line per second per phase', async () => {
    const { stream, text } = fakeStream();
    const clock = manualClock();
    const r = createPlainReporter(stream, { now: clock.now });
    const n = 10_000;
    // 10,000 events over 10 simulated seconds.
    for (let i = 0; i <= n; i++) {
      clock.set(i);
      r.sink({ phase: 'checkout', done: i, total: n, finished: i === n });
    }
    await r.close();
    const out = lines(text());
    const progress = out.slice(0, -1);
    expect(progress.length).toBeGreaterThanOrEqual(9);
    expect(progress.length).toBeLessThanOrEqual(10);
    for (const l of progress) expect(l).toMatch(/^checking out: [\d,]+\/10,000 files \(\d+%\), [\d,]+ files\/s$/);
    expect(out.at(-1)).toBe('checking out: 10,000 files in 10 s');
  });

  it('writes counts, bytes, percentage and speed', async () => {
    const { stream, text } = fakeStream();
    const clock = manualClock(5_000);
    const r = createPlainReporter(stream, { now: clock.now });
    const total = 20_000;
    const totalBytes = Math.round(78.1 * MiB);
    r.sink({ phase: 'hash', done: 0, total, bytes: 0, totalBytes });
    clock.set(5_500);
    r.sink({ phase: 'hash', done: 5_000, total, bytes: 10 * MiB, totalBytes });
    expect(text()).toBe(''); // under a second in: nothing yet
    clock.set(6_000);
    r.sink({ phase: 'hash', done: 12_345, total, bytes: Math.round(48.2 * MiB), totalBytes });
    clock.set(6_400);
    r.sink({ phase: 'hash', done: total, total, bytes: totalBytes, totalBytes, finished: true });
    await r.close();
    expect(lines(text())).toEqual([
      'adding: 12,345/20,000 files, 48.2 MiB/78.1 MiB (61%), 48.2 MiB/s',
      'adding: 20,000 files, 78.1 MiB in 1.4 s',
    ]);
  });

  it('prints nothing for a phase with no work', async () => {
    const { stream, text } = fakeStream();
    const r = createPlainReporter(stream);
    r.sink({ phase: 'gc', done: 0, total: 0 });
    r.sink({ phase: 'gc', done: 0, total: 0, finished: true });
    r.sink({ phase: 'push', done: 0, finished: true });
    await r.close();
    expect(text()).toBe('');
  });

  it('keeps phases apart and labels each', async () => {
    const { stream, text } = fakeStream();
    const clock = manualClock();
    const r = createPlainReporter(stream, { now: clock.now });
    r.sink({ phase: 'scan', done: 1 });
    clock.set(1_200);
    r.sink({ phase: 'scan', done: 1_234, finished: true });
    r.sink({ phase: 'push', done: 0, total: 3, bytes: 0, totalBytes: 3 * MiB });
    clock.set(1_700);
    r.sink({ phase: 'push', done: 1, total: 3, bytes: 1 * MiB, totalBytes: 3 * MiB, finished: false });
    clock.set(2_300);
    r.sink({ phase: 'push', done: 3, total: 3, bytes: 3 * MiB, totalBytes: 3 * MiB, finished: true });
    await r.close();
    expect(lines(text())).toEqual([
      'scanning: 1,234 files in 1.2 s',
      'pushing: 3 objects, 3.0 MiB in 1.1 s',
    ]);
  });

  it('summarises only the phases that took long, each by its own clock', async () => {
    const { stream, text } = fakeStream();
    const clock = manualClock();
    const r = createPlainReporter(stream, { now: clock.now });
    r.sink({ phase: 'scan', done: 1 });
    clock.set(200);
    r.sink({ phase: 'scan', done: 1_234, finished: true }); // 0.2 s: quick, no summary
    r.sink({ phase: 'hash', done: 0, total: 2, bytes: 0, totalBytes: 2 * MiB });
    clock.set(1_700);
    r.sink({ phase: 'hash', done: 2, total: 2, bytes: 2 * MiB, totalBytes: 2 * MiB, finished: true }); // 1.5 s
    r.sink({ phase: 'checkout', done: 0, total: 1 });
    clock.set(1_900);
    r.sink({ phase: 'checkout', done: 1, total: 1, finished: true }); // 0.2 s again, though 1.9 s since the start
    await r.close();
    expect(lines(text())).toEqual(['adding: 2 files, 2.0 MiB in 1.5 s']);
  });

  it('gives no summary to an unfinished phase and ignores events after close', async () => {
    const { stream, text } = fakeStream();
    const clock = manualClock();
    const r = createPlainReporter(stream, { now: clock.now });
    r.sink({ phase: 'fsck', done: 10, total: 100 });
    clock.set(5_000); // long enough that finishing would earn a summary
    await r.close();
    await r.close(); // idempotent
    r.sink({ phase: 'fsck', done: 100, total: 100, finished: true });
    expect(text()).toBe('');
  });

  it('never throws, even when the stream does', () => {
    let writes = 0;
    const broken = {
      write() {
        writes++;
        throw new Error('EPIPE');
      },
    };
    const clock = manualClock();
    const r = createPlainReporter(broken, { now: clock.now });
    expect(() => r.sink({ phase: 'pull', done: 0, total: 2 })).not.toThrow();
    clock.set(1_000);
    expect(() => r.sink({ phase: 'pull', done: 1, total: 2 })).not.toThrow(); // a progress line
    clock.set(2_000);
    expect(() => r.sink({ phase: 'pull', done: 2, total: 2, finished: true })).not.toThrow(); // the summary
    expect(writes).toBe(2);
    expect(() => r.sink(null as unknown as ProgressEvent)).not.toThrow();
  });
});

describe('createProgressReporter', () => {
  it("'none' discards events", async () => {
    const { stream, text } = fakeStream({ isTTY: true });
    const r = await createProgressReporter('none', stream);
    r.sink({ phase: 'hash', done: 5, total: 5, finished: true });
    await r.close();
    expect(text()).toBe('');
  });

  it("'plain' writes a summary line for a long phase", async () => {
    // createProgressReporter takes no clock: fake Date instead, before the reporter reads it.
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    try {
      const { stream, text } = fakeStream();
      const r = await createProgressReporter('plain', stream);
      r.sink({ phase: 'hash', done: 1, total: 5 });
      vi.setSystemTime(1_500);
      r.sink({ phase: 'hash', done: 5, total: 5, finished: true });
      await r.close();
      expect(text()).toBe('adding: 5 files in 1.5 s\n');
    } finally {
      vi.useRealTimers();
    }
  });

  it("'plain' writes nothing for a quick phase", async () => {
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    try {
      const { stream, text } = fakeStream();
      const r = await createProgressReporter('plain', stream);
      r.sink({ phase: 'hash', done: 1, total: 5 });
      vi.setSystemTime(999);
      r.sink({ phase: 'hash', done: 5, total: 5, finished: true });
      await r.close();
      expect(text()).toBe('');
    } finally {
      vi.useRealTimers();
    }
  });

  it("'tty' renders with ink, shows the phase and unmounts", async () => {
    const { stream, text } = fakeStream({ isTTY: true, columns: 80 });
    const r = await createProgressReporter('tty', stream);
    const n = 10_000;
    for (let i = 0; i < n / 2; i++) r.sink({ phase: 'hash', done: i, total: n, bytes: i * 1024, totalBytes: n * 1024 });
    // In CI ink draws only the last frame, on unmount; elsewhere it redraws as it goes.
    const ci = process.env['CI'];
    if (ci === undefined || ci === '0' || ci === 'false') {
      // Wait for a frame of the half-done phase (the timer draws it; a loaded machine may take a while).
      await until(() => /█+░+ +\d+%/.test(text()));
      const running = text();
      expect(running).toContain('adding');
      expect(running).toMatch(/█+░+ +\d+%/);
    }
    r.sink({ phase: 'hash', done: n, total: n, bytes: n * 1024, totalBytes: n * 1024, finished: true });
    await r.close();
    await r.close(); // idempotent
    expect(text()).toContain('adding: 10,000 files, 9.8 MiB in');
  }, 20_000);

  it("'tty' draws nothing when no phase had work", async () => {
    const { stream, text } = fakeStream({ isTTY: true, columns: 80 });
    const r = await createProgressReporter('tty', stream);
    r.sink({ phase: 'gc', done: 0, total: 0, finished: true });
    await r.close();
    expect(text()).toBe('');
  });
});

describe('units', () => {
  it('formatBytes uses binary units with one decimal below 100', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(1.5 * MiB)).toBe('1.5 MiB');
    expect(formatBytes(48.2 * MiB)).toBe('48.2 MiB');
    expect(formatBytes(210 * MiB)).toBe('210 MiB');
    expect(formatBytes(1024 * 1024 - 10)).toBe('1.0 MiB'); // 1023.99 KiB rounds up a unit
    expect(formatBytes(1024 ** 3)).toBe('1.0 GiB');
    expect(formatBytes(-1)).toBe('0 B');
    expect(formatBytes(Number.NaN)).toBe('0 B');
  });

  it('formatRate is bytes per second', () => {
    expect(formatRate(512 * MiB)).toBe('512 MiB/s');
    expect(formatRate(0)).toBe('0 B/s');
  });

  it('formatDuration uses tenths below 10 s, then whole units', () => {
    expect(formatDuration(0)).toBe('0.0 s');
    expect(formatDuration(400)).toBe('0.4 s');
    expect(formatDuration(1_234)).toBe('1.2 s');
    expect(formatDuration(9_960)).toBe('10 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(59_999)).toBe('1m00s');
    expect(formatDuration(185_000)).toBe('3m05s');
    expect(formatDuration(7_500_000)).toBe('2h05m');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('0.0 s');
  });
});

describe('layout of a running line', () => {
  // A long checkout: every part present, as the ink view formats them.
  const parts = {
    label: 'checking out',
    fraction: 0.61,
    counts: '12,345/20,000 files',
    bytes: '48.2 MiB/78.1 MiB',
    rate: '210 MiB/s',
    eta: '3m05s',
  };
  const at = (columns: number, p: typeof parts | Parameters<typeof layoutRunning>[0] = parts) =>
    runningText(layoutRunning(p, columns), '⠋', p.fraction ?? 0);

  it('at 120 columns shows everything, with a bar', () => {
    const line = at(120);
    expect(line.length).toBeLessThan(120);
    expect(line).toMatch(/█+░+  61%/);
    for (const w of ['12,345/20,000 files', '48.2 MiB/78.1 MiB', '210 MiB/s', 'ETA 3m05s']) expect(line).toContain(w);
  });

  it('at 90 columns drops the bar first and keeps every number', () => {
    const line = at(90);
    expect(line).toBe('⠋ checking out 61%  12,345/20,000 files  48.2 MiB/78.1 MiB  210 MiB/s  ETA 3m05s');
  });

  it('at 80 columns drops the bar, then the file count before the bytes', () => {
    const line = at(80);
    expect(line).toBe('⠋ checking out 61%  48.2 MiB/78.1 MiB  210 MiB/s  ETA 3m05s');
  });

  it('at 60 columns keeps rate and ETA whole, giving up the bar and the file count', () => {
    const line = at(60);
    expect(line.length).toBeLessThan(60);
    expect(line.endsWith('210 MiB/s  ETA 3m05s')).toBe(true);
    expect(line).toContain('61%');
    expect(line).not.toContain('files');
    expect(line).not.toContain('█');
  });

  it('on a very narrow terminal keeps the rate and ETA before counts and percentage', () => {
    const line = at(40);
    expect(line).toBe('⠋ checking out 210 MiB/s  ETA 3m05s');
  });

  it('a table diff shows its rows, and gives them up before bytes', () => {
    const tables = { label: 'diffing tables', fraction: 0.3, counts: '0/1 tables', bytes: '120 MiB/400 MiB', rows: '3,400,000 rows', rate: '95.0 MiB/s', eta: '3.0 s' };
    expect(at(120, tables)).toContain('3,400,000 rows');
    expect(at(80, tables)).toBe('⠋ diffing tables 30%  0/1 tables  120 MiB/400 MiB  95.0 MiB/s  ETA 3.0 s');
    const narrow = at(60, tables);
    expect(narrow.length).toBeLessThan(60);
    expect(narrow.endsWith('95.0 MiB/s  ETA 3.0 s')).toBe(true);
  });

  it('a phase without a total has no bar and no percentage at any width', () => {
    const open = { label: 'scanning', counts: '1,234 files', rate: '5,000 files/s' };
    for (const cols of [60, 80, 120]) {
      const line = at(cols, open);
      expect(line).toBe('⠋ scanning 1,234 files  5,000 files/s');
    }
  });

  it("'tty' at 60 columns draws rate and ETA uncut", async () => {
    const { stream, text } = fakeStream({ isTTY: true, columns: 60 });
    const r = await createProgressReporter('tty', stream);
    const total = 64 * MiB;
    r.sink({ phase: 'checkout', done: 0, total: 20_000, bytes: 0, totalBytes: total });
    await new Promise((resolve) => setTimeout(resolve, 700)); // past the half second a speed needs
    r.sink({ phase: 'checkout', done: 12_345, total: 20_000, bytes: total / 2, totalBytes: total });
    const ci = process.env['CI'];
    if (ci === undefined || ci === '0' || ci === 'false') {
      // The drawn lines of the running phase (ink redraws with escape codes between frames).
      const frames = () => text().split(/\x1b\[[0-9;?]*[A-Za-z]|\n/).filter((l) => l.includes('checking out'));
      await until(() => frames().some((l) => l.includes('ETA')));
      const last = frames().filter((l) => l.includes('ETA')).pop()!;
      expect(last.length).toBeLessThan(60);
      expect(last).toMatch(/MiB\/s {2}ETA \d/);
    }
    r.sink({ phase: 'checkout', done: 20_000, total: 20_000, bytes: total, totalBytes: total, finished: true });
    await r.close();
    expect(text()).toContain('checking out: 20,000 files, 64.0 MiB in');
  }, 20_000);
});

describe('ink view under a blocked event loop', () => {
  it('draws from the events themselves while synchronous work keeps the timer from firing', async () => {
    const ci = process.env['CI'];
    if (!(ci === undefined || ci === '0' || ci === 'false')) return; // in CI ink draws only on unmount
    const { stream, text } = fakeStream({ isTTY: true, columns: 100 });
    const r = await createProgressReporter('tty', stream);
    const total = 1024 * MiB;
    // One big file copied synchronously: 400 ms without yielding, an event every 4 MiB.
    const start = Date.now();
    let bytes = 0;
    while (Date.now() - start < 400) {
      bytes = Math.min(total, bytes + 4 * MiB);
      r.sink({ phase: 'checkout', done: 0, total: 1, bytes, totalBytes: total });
      const until = Date.now() + 2;
      while (Date.now() < until) {
        // busy: the event loop is blocked
      }
    }
    // Still inside the synchronous stretch: whatever is on the stream was drawn by the sink.
    const drawn = text();
    expect(drawn).toContain('checking out');
    expect(drawn).toMatch(/\d+(\.\d)? MiB\/1\.0 GiB/);
    r.sink({ phase: 'checkout', done: 1, total: 1, bytes: total, totalBytes: total, finished: true });
    await r.close();
  }, 5_000);
});

describe('plainIntervalMs', () => {
  it('reads LODE_PROGRESS_INTERVAL in seconds, and ignores what is not a number >= 0', async () => {
    const { plainIntervalMs } = await import('./progress.js');
    expect(plainIntervalMs({})).toBeUndefined();
    expect(plainIntervalMs({ LODE_PROGRESS_INTERVAL: '0' })).toBe(0);
    expect(plainIntervalMs({ LODE_PROGRESS_INTERVAL: '2.5' })).toBe(2500);
    expect(plainIntervalMs({ LODE_PROGRESS_INTERVAL: '-1' })).toBeUndefined();
    expect(plainIntervalMs({ LODE_PROGRESS_INTERVAL: 'fast' })).toBeUndefined();
    expect(plainIntervalMs({ LODE_PROGRESS_INTERVAL: ' ' })).toBeUndefined();
  });
});
