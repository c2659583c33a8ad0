// Locks that recover and crashes that leave nothing behind (issue 9, parts 3
// and 4): a lode killed with SIGKILL leaves its lock and temp files; the next
// command takes the lock over in one line and sweeps the temp files; a live
// owner is still refused (or waited for with --wait); a lock from another
// host needs `lode unlock`.

import { describe, it, expect, afterEach } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expectLodeError, LODE_BIN, lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, workspaceSnapshot, writeFile, type RunOptions } from '../test/helpers/cli.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) removeDir(d);
});

async function newRepo(prefix: string): Promise<{ dir: string; at: RunOptions }> {
  const dir = makeTempDir(`lode-crash-${prefix}`);
  dirs.push(dir);
  const at = { cwd: dir };
  await lodeOk(['init'], at);
  return { dir, at };
}

const TAKEOVER = /^warning: took over the repository lock left by `lode [a-z]+` \(pid \d+ on .+\), which is no longer running$/;
const takeoverLines = (stderr: string) => stderr.split('\n').filter((l) => TAKEOVER.test(l));

/** startTicks reads a process's start time from the kernel (field 22 of /proc/PID/stat). */
function startTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

/** deadPid is the pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}

/** sleeper starts a process that lives `ms` (running its `onExit` JS first); the test kills it at the end. */
function sleeper(ms: number, beforeExit = ''): ChildProcess {
  const c = spawn(process.execPath, ['-e', `setTimeout(() => { ${beforeExit} }, ${ms})`], { stdio: 'ignore' });
  children.push(c);
  return c;
}

function writeLock(dir: string, owner: Record<string, unknown>): void {
  fs.writeFileSync(path.join(dir, '.lode', 'lock'), JSON.stringify({ command: 'checkout', started: '2025-01-01T00:00:00.000Z', ...owner }));
}

/** filesNamed lists paths under `dir` (relative) whose name matches `re`. */
function filesNamed(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string) => {
    for (const d of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (re.test(d.name)) out.push(r);
      if (d.isDirectory()) walk(path.join(abs, d.name), r);
    }
  };
  walk(dir, '');
  return out;
}

const tmpEntries = (dir: string) => fs.readdirSync(path.join(dir, '.lode', 'tmp'));

describe('a lock whose owner is gone', () => {
  it('is taken over by the next command, which says so in one line', async () => {
    const { dir, at } = await newRepo('stale');
    writeFile(dir, 'data/a.txt', 'a\n');
    writeLock(dir, { pid: deadPid(), host: os.hostname() });
    const r = await runLode(['add', 'data'], at);
    expect(r.code).toBe(0);
    expect(takeoverLines(r.stderr)).toHaveLength(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/1 added/);
    expect(fs.existsSync(path.join(dir, '.lode', 'lock'))).toBe(false);
  });

  it('is taken over when its pid now belongs to another process (different start time)', async () => {
    const { dir, at } = await newRepo('reused');
    writeFile(dir, 'data/a.txt', 'a\n');
    // This test process is alive, but it is not the process that wrote the lock.
    writeLock(dir, { pid: process.pid, host: os.hostname(), start: startTicks(process.pid) + 12345 });
    const r = await runLode(['add', 'data'], at);
    expect(r.code).toBe(0);
    expect(takeoverLines(r.stderr)).toHaveLength(1);
  });

  it('is taken over by exactly one of several commands started together', async () => {
    const { dir, at } = await newRepo('race');
    writeFile(dir, 'data/a.txt', 'a\n');
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'one'], at);
    writeLock(dir, { pid: deadPid(), host: os.hostname() });
    const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => runLode(['--wait', '60', 'branch', `b${i}`], at)));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(runs.flatMap((r) => takeoverLines(r.stderr))).toHaveLength(1);
    const branches = (await lodeJson(['branch'], at)).branches.map((b: { name: string }) => b.name);
    expect(branches).toEqual(expect.arrayContaining(['b0', 'b1', 'b2', 'b3', 'b4', 'b5']));
  });
});

describe('a lock whose owner runs', () => {
  it('is refused (exit 4) with the owner named, and left in place', async () => {
    const { dir, at } = await newRepo('live');
    writeFile(dir, 'data/a.txt', 'a\n');
    const owner = sleeper(60_000);
    writeLock(dir, { pid: owner.pid, host: os.hostname(), start: startTicks(owner.pid!) });
    const r = await runLode(['add', 'data'], at);
    const err = expectLodeError(r, 4);
    expect(err).toContain(`pid ${owner.pid}`);
    expect(err).toMatch(/^hint: .*--wait/m);
    expect(fs.existsSync(path.join(dir, '.lode', 'lock'))).toBe(true);
    // `--wait 1` gives up after a second, still refused.
    expectLodeError(await runLode(['--wait', '1', 'add', 'data'], at), 4);
    // unlock refuses a live local owner unless --force.
    const u = await runLode(['unlock'], at);
    expect(expectLodeError(u, 4)).toMatch(/still running/);
    const forced = await lodeJson(['unlock', '--force'], at);
    expect(forced).toMatchObject({ removed: true, state: 'live', owner: { pid: owner.pid } });
    expect(fs.existsSync(path.join(dir, '.lode', 'lock'))).toBe(false);
  });

  it('fsck still reports damage (exit 5) while another command holds it, and keeps .lode/complete with a note', async () => {
    const { dir, at } = await newRepo('fsck-live');
    // Big enough to be a whole file in .lode/cache (small files may go into local packs).
    writeFile(dir, 'data/a.bin', pseudoRandomBytes(200_000, 3));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v1'], at);
    const cache = path.join(dir, '.lode', 'cache');
    const fan = fs.readdirSync(cache).find((d) => fs.readdirSync(path.join(cache, d)).length > 0)!;
    const file = path.join(cache, fan, fs.readdirSync(path.join(cache, fan))[0]!);
    fs.chmodSync(file, 0o644);
    fs.writeFileSync(file, 'damaged\n');
    const complete = path.join(dir, '.lode', 'complete');
    fs.writeFileSync(complete, '');
    const owner = sleeper(60_000);
    writeLock(dir, { pid: owner.pid, host: os.hostname(), start: startTicks(owner.pid!) });
    const r = await runLode(['fsck'], at);
    expect(r.code).toBe(5);
    expect(r.stdout).toMatch(/^note: another lode command held the lock, so the record of complete commits \(\.lode\/complete\) was kept/m);
    expect(fs.existsSync(complete)).toBe(true);
    owner.kill('SIGKILL');
    await new Promise((resolve) => owner.once('exit', resolve));
    expect((await runLode(['fsck'], at)).code).toBe(5);
    expect(fs.existsSync(complete)).toBe(false);
  });

  it('--wait waits until the owner releases it (and core.lock-wait sets the default)', async () => {
    const { dir, at } = await newRepo('wait');
    writeFile(dir, 'data/a.txt', 'a\n');
    const lockFile = path.join(dir, '.lode', 'lock');
    const hold = () => {
      const owner = sleeper(1500, `require('fs').rmSync(${JSON.stringify(lockFile)})`);
      writeLock(dir, { pid: owner.pid, host: os.hostname(), start: startTicks(owner.pid!) });
    };
    hold();
    const r = await runLode(['--wait', '120', 'add', 'data'], at);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(''); // released, not taken over
    // --wait with no number: no limit.
    writeFile(dir, 'data/b.txt', 'b\n');
    hold();
    const r2 = await runLode(['--wait', 'add', 'data'], at);
    expect(r2.code, r2.stderr).toBe(0);
    await lodeOk(['config', 'core.lock-wait', '120'], at);
    writeFile(dir, 'data/c.txt', 'c\n');
    hold();
    const r3 = await runLode(['add', 'data'], at);
    expect(r3.code, r3.stderr).toBe(0);
    expect((await lodeJson(['status'], at)).staged.map((s: { path: string }) => s.path)).toEqual(['data/a.txt', 'data/b.txt', 'data/c.txt']);
  });
});

describe('a lock from another host', () => {
  it('is refused until `lode unlock` removes it, showing its owner', async () => {
    const { dir, at } = await newRepo('foreign');
    writeFile(dir, 'data/a.txt', 'a\n');
    writeLock(dir, { pid: 4242, host: 'build-node-7', command: 'push' });
    const r = await runLode(['add', 'data'], at);
    const err = expectLodeError(r, 4);
    expect(err).toContain('build-node-7');
    expect(err).toMatch(/^hint: .*lode unlock/m);
    const u = await runLode(['unlock'], at);
    expect(u.code, u.stderr).toBe(0);
    expect(u.stdout).toMatch(/^Removed the lock of `lode push` \(pid 4242 on build-node-7, .*on another host\)$/m);
    await lodeOk(['add', 'data'], at);
    expect((await lodeJson(['unlock'], at))).toEqual({ owner: null, state: null, removed: false });
  });
});

/** spawnLode starts lode without waiting; resolves to its exit status (signal name when killed). */
function spawnLode(args: string[], at: RunOptions): { child: ChildProcess; done: Promise<number | string> } {
  const child = spawn(process.execPath, [LODE_BIN, ...args], { cwd: at.cwd, env: { ...process.env, NO_COLOR: '1', CI: '1' }, stdio: 'ignore' });
  children.push(child);
  const done = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, done };
}

/** killWhen SIGKILLs `child` once `ready()` holds (polled), or after `maxMs`. */
async function killWhen(child: ChildProcess, done: Promise<unknown>, ready: () => boolean, maxMs: number): Promise<boolean> {
  const until = Date.now() + maxMs;
  let exited = false;
  void done.then(() => (exited = true));
  while (!exited && Date.now() < until && !ready()) await new Promise((r) => setTimeout(r, 2));
  if (exited) return false;
  child.kill('SIGKILL');
  await done;
  return true;
}

describe('kill -9 in the middle of a command', () => {
  it('checkout: the next checkout takes the lock over, finishes, and no temp file is left or listed', { timeout: 240_000 }, async () => {
    const { dir, at } = await newRepo('kill-co');
    // Copies (not reflinks) so that staged files take time and space.
    await lodeOk(['config', 'cache.type', 'copy'], at);
    for (let i = 0; i < 120; i++) writeFile(dir, `data/d${i % 6}/f${i}.bin`, pseudoRandomBytes(96 * 1024, i + 1));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v1'], at);
    await lodeOk(['tag', 'v1'], at);
    const v1 = workspaceSnapshot(dir);
    for (let i = 0; i < 120; i++) writeFile(dir, `data/d${i % 6}/f${i}.bin`, pseudoRandomBytes(96 * 1024, 1000 + i));
    await lodeOk(['commit', '-am', 'v2'], at);
    const v2 = workspaceSnapshot(dir);
    let killed = 0;
    let tookOver = 0;
    for (let trial = 0; trial < 6; trial++) {
      const target = trial % 2 === 0 ? 'v1' : 'main';
      const { child, done } = spawnLode(['checkout', target], at);
      // Even trials: kill once files are being staged; odd ones: at a random moment.
      const wait = trial % 2 === 0 ? () => tmpEntries(dir).some((n) => n.startsWith('.lode-checkout-')) : () => false;
      if (await killWhen(child, done, wait, trial % 2 === 0 ? 20_000 : 150 + Math.random() * 600)) killed++;
      const locked = fs.existsSync(path.join(dir, '.lode', 'lock'));
      const again = await runLode(['checkout', target], at);
      expect(again.code, again.stderr).toBe(0);
      if (locked) {
        expect(takeoverLines(again.stderr)).toHaveLength(1);
        tookOver++;
      }
      expect(workspaceSnapshot(dir)).toEqual(target === 'v1' ? v1 : v2);
      expect(filesNamed(dir, /^\.lode-checkout-/)).toEqual([]);
      const st = await lodeJson(['status'], at);
      expect(st.clean, JSON.stringify(st)).toBe(true);
      expect((await runLode(['fsck'], at)).code).toBe(0);
    }
    // At least the trials that waited for staged files were killed mid-command.
    expect(killed).toBeGreaterThanOrEqual(3);
    expect(tookOver).toBeGreaterThanOrEqual(3);
  });

  it('add: worker temp files of the killed add are swept by the next command', { timeout: 120_000 }, async () => {
    const { dir, at } = await newRepo('kill-add');
    for (let i = 0; i < 4; i++) writeFile(dir, `data/big${i}.bin`, pseudoRandomBytes(24 << 20, 50 + i));
    let kills = 0;
    for (let trial = 0; trial < 2; trial++) {
      const { child, done } = spawnLode(['add', 'data'], at);
      const killed = await killWhen(child, done, () => tmpEntries(dir).length > 0, 30_000);
      if (!killed) continue;
      kills++;
      expect(tmpEntries(dir).length).toBeGreaterThan(0);
      const st = await runLode(['status', '--json'], at);
      expect(st.code).toBe(0);
      expect(st.stdout).not.toMatch(/lode-checkout|\.tmp/);
      // Any locked command takes the lock over (status may already have, to
      // refresh the index) and sweeps .lode/tmp.
      const b = await runLode(['config', 'user.name', `tester ${trial}`], at);
      expect(b.code, b.stderr).toBe(0);
      expect([...takeoverLines(st.stderr), ...takeoverLines(b.stderr)]).toHaveLength(1);
      expect(tmpEntries(dir)).toEqual([]);
    }
    expect(kills).toBeGreaterThan(0);
    await lodeOk(['add', 'data'], at);
    expect(tmpEntries(dir)).toEqual([]);
    expect((await runLode(['fsck'], at)).code).toBe(0);
  });

  it('temp files left beside data by an older lode are never listed or committed', async () => {
    const { dir, at } = await newRepo('old-temp');
    writeFile(dir, 'data/a.txt', 'a\n');
    writeFile(dir, 'data/.lode-checkout-123-0-1-abc', 'half a file');
    await lodeOk(['add', 'data'], at);
    const st = await lodeJson(['status'], at);
    expect(st.staged.map((s: { path: string }) => s.path)).toEqual(['data/a.txt']);
    expect(st.untracked).toEqual([]);
    const c = await lodeJson(['commit', '-am', 'one'], at);
    expect(c.files).toBe(1);
    expect((await lodeJson(['status'], at)).clean).toBe(true);
  });
});

describe('push and the lock', () => {
  it('a push does not hold the repository lock while it uploads', { timeout: 180_000 }, async () => {
    const { dir, at } = await newRepo('push-lock');
    const remote = makeTempDir('lode-crash-remote');
    dirs.push(remote);
    for (let i = 0; i < 5; i++) writeFile(dir, `data/big${i}.bin`, pseudoRandomBytes(24 << 20, 300 + i));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'big'], at);
    await lodeOk(['remote', 'add', 'origin', remote], at);
    const lockFile = path.join(dir, '.lode', 'lock');
    const { done } = spawnLode(['push'], at);
    let exited = false;
    void done.then(() => (exited = true));
    let uploading = 0;
    let lockedWhileUploading = 0;
    while (!exited) {
      // Packs arriving and no branch yet: the push is uploading.
      const packs = fs.existsSync(path.join(remote, 'packs')) ? fs.readdirSync(path.join(remote, 'packs')).length : 0;
      const tmp = fs.existsSync(path.join(remote, '.tmp')) ? fs.readdirSync(path.join(remote, '.tmp')).length : 0;
      if ((packs > 0 || tmp > 0) && !fs.existsSync(path.join(remote, 'refs', 'heads', 'main'))) {
        uploading++;
        if (fs.existsSync(lockFile)) lockedWhileUploading++;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(await done).toBe(0);
    expect(uploading).toBeGreaterThan(0);
    expect(lockedWhileUploading).toBe(0);
    const rs = await lodeJson(['status', '--remote'], at);
    expect(rs.state).toBe('upToDate');
  });

  it('a large push killed while pack files are written: every index names a whole pack, no ref moved, and the next push completes it', { timeout: 240_000 }, async () => {
    const { dir, at } = await newRepo('push-kill-files');
    const remote = makeTempDir('lode-crash-remote');
    dirs.push(remote);
    const files = [0, 1, 2].map((i) => writeFile(dir, `data/big${i}.bin`, pseudoRandomBytes(40 << 20, 500 + i)));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'big'], at);
    await lodeOk(['remote', 'add', 'origin', remote], at);
    const packs = path.join(remote, 'packs');
    const named = () => (fs.existsSync(packs) ? fs.readdirSync(packs).filter((f) => f.endsWith('.idx')).length : 0);
    const { child, done } = spawnLode(['push'], at);
    await killWhen(child, done, () => named() >= 2, 60_000);
    // An index is written only after its pack is whole (renamed into place): each names a pack at least as long as its objects reach.
    for (const idx of fs.readdirSync(packs).filter((f) => f.endsWith('.idx'))) {
      const bytes = fs.readFileSync(path.join(packs, idx));
      const count = bytes.readUInt32BE(37);
      const width = bytes[4] === 2 ? 57 : 44;
      let end = 0;
      for (let i = 0, pos = 41; i < count; i++, pos += width) end = Math.max(end, Number(bytes.readBigUInt64BE(pos + 32)) + bytes.readUInt32BE(pos + 40));
      const pack = path.join(packs, idx.replace(/\.idx$/, '.pack'));
      expect(fs.existsSync(pack)).toBe(true);
      expect(fs.statSync(pack).size).toBeGreaterThanOrEqual(end);
    }
    if ((await done) !== 0) expect(fs.existsSync(path.join(remote, 'refs', 'heads', 'main'))).toBe(false);
    const again = await runLode(['push'], at);
    expect(again.code, again.stderr).toBe(0);
    expect(fs.readdirSync(path.join(remote, '.tmp'))).toEqual([]);
    const clone = path.join(makeTempDir('lode-crash-clone'), 'c');
    dirs.push(path.dirname(clone));
    await lodeOk(['clone', remote, clone], { cwd: path.dirname(clone), timeoutMs: 200_000 });
    for (let i = 0; i < 3; i++) expect(fs.readFileSync(path.join(clone, 'data', `big${i}.bin`)).equals(fs.readFileSync(files[i]))).toBe(true);
  });

  it('a killed push leaves no partial blob on a directory remote after the next push', { timeout: 180_000 }, async () => {
    const { dir, at } = await newRepo('push-kill');
    const remote = makeTempDir('lode-crash-remote');
    dirs.push(remote);
    for (let i = 0; i < 3; i++) writeFile(dir, `data/big${i}.bin`, pseudoRandomBytes(40 << 20, 400 + i));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'big'], at);
    await lodeOk(['remote', 'add', 'origin', remote], at);
    const tmp = path.join(remote, '.tmp');
    const { child, done } = spawnLode(['push'], at);
    // Kill during a pack upload (a temp blob of more than 1 MiB), not during the
    // tiny write of the remote's config object, which is renamed in an instant.
    const bigTemp = () => fs.existsSync(tmp) && fs.readdirSync(tmp).some((f) => (fs.statSync(path.join(tmp, f), { throwIfNoEntry: false })?.size ?? 0) > 1 << 20);
    const killed = await killWhen(child, done, bigTemp, 60_000);
    if (killed) expect(fs.readdirSync(tmp).length).toBeGreaterThan(0);
    const again = await runLode(['push'], at);
    expect(again.code, again.stderr).toBe(0);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });
});
