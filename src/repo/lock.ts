/**
 * The repository lock (.lode/lock): a small JSON file naming its owner (host,
 * pid, process start time, boot, command). Commands that change the
 * repository hold it while they read or write local state, so two lode
 * processes never interleave writes to the index, refs or cache.
 *
 * The file appears whole or not at all: it is written under a temporary name
 * and hard-linked into place (link fails when the lock exists).
 *
 * A lock whose owner is on this host and no longer runs (its pid is gone, or
 * now belongs to a process with another start time, or the host rebooted) is
 * taken over, and the caller is told so. Takeovers are serialised by a second
 * O_EXCL file (`lock.takeover`): inside it a process checks that the lock is
 * still the one it judged stale before removing it, so two processes never
 * both take over one stale lock. A lock from another host is never broken
 * automatically (its process cannot be checked): `lode unlock` removes it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockedError } from '../core/errors.js';
import { errnoCode, rmQuiet, tempName } from '../storage/atomic.js';
import { isRunning, thisProcess } from '../storage/owner.js';

export interface LockOwner {
  pid: number;
  host: string;
  command: string;
  started: string;
  /** Process start time (clock ticks since boot, Linux): with pid, the process's identity. */
  start?: number;
  /** Kernel boot id (Linux). */
  boot?: string;
}

/** RepoLock is a held lock; release it exactly once. */
export interface RepoLock {
  release(): void;
}

export interface AcquireOptions {
  /** Wait up to this many ms for a live owner to finish (Infinity: no limit; default 0). */
  waitMs?: number;
  /** Told, in one line, when a stale lock was taken over. */
  notice?: (line: string) => void;
}

/** readLockOwner returns who holds the lock file, if anyone. */
export function readLockOwner(file: string): LockOwner | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
    return typeof v === 'object' && v !== null && typeof v.pid === 'number' && typeof v.host === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** lockState says whether a lock's owner runs here ('live'), ran here and is gone ('stale'), or is on another host ('foreign'). */
export function lockState(owner: LockOwner): 'live' | 'stale' | 'foreign' {
  if (owner.host !== thisProcess().host) return 'foreign';
  return isRunning(owner) ? 'live' : 'stale';
}

/** describeOwner names a lock's owner for messages. */
export function describeOwner(owner: LockOwner): string {
  return `\`lode ${owner.command}\` (pid ${owner.pid} on ${owner.host}, since ${owner.started})`;
}

const sameOwner = (a: LockOwner, b: LockOwner) => a.pid === b.pid && a.host === b.host && a.started === b.started && a.start === b.start;

/** createLockFile makes `file` hold `me`, atomically; false when a lock already exists. */
function createLockFile(file: string, me: LockOwner): boolean {
  const tmp = tempName(path.dirname(file), 'lock');
  try {
    fs.writeFileSync(tmp, JSON.stringify(me), { flag: 'wx', mode: 0o644 });
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
  } finally {
    rmQuiet(tmp);
  }
  // A file system without hard links: O_EXCL create, then write (a crash in
  // between leaves an empty lock, which `lode unlock` removes).
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o644);
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return false;
    throw e;
  }
  try {
    fs.writeSync(fd, JSON.stringify(me));
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/**
 * takeOver replaces the lock with one held by `me` if it still belongs to
 * `stale`, holding the takeover file; returns false when someone else is
 * taking it over or the lock changed. The replacement is one rename over the
 * stale file, so the lock never stops existing: a command starting meanwhile
 * cannot slip in between a removal and a create (and then nobody would have
 * said that a stale lock was taken over). Throws LockedError when an earlier
 * takeover was interrupted.
 */
function takeOver(file: string, stale: LockOwner, me: LockOwner): boolean {
  const guard = `${file}.takeover`;
  const p = thisProcess();
  try {
    fs.writeFileSync(guard, JSON.stringify({ pid: p.pid, host: p.host, start: p.start, boot: p.boot, started: new Date().toISOString(), command: 'takeover' }), { flag: 'wx' });
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST') throw e;
    const holder = readLockOwner(guard);
    // Another process is replacing the lock right now (a few microseconds): try again.
    if (holder && lockState(holder) === 'live') return false;
    // A process died inside its takeover (or the guard is unreadable): too
    // rare to guess about; a person decides.
    throw new LockedError(`the repository lock is stale and an earlier takeover of it was interrupted (${guard})`, true, 'if no lode process is running, run `lode unlock`');
  }
  try {
    const now = readLockOwner(file);
    if (!now || !sameOwner(now, stale)) return false;
    const tmp = tempName(path.dirname(file), 'lock');
    try {
      fs.writeFileSync(tmp, JSON.stringify(me), { flag: 'wx', mode: 0o644 });
      fs.renameSync(tmp, file);
    } finally {
      rmQuiet(tmp);
    }
    return true;
  } finally {
    rmQuiet(guard);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * acquireLock takes the lock. A stale lock (owner on this host, gone) is
 * taken over and reported through `notice`; a live owner is waited for up to
 * `waitMs`; otherwise LockedError names the owner (and, for another host,
 * how to remove the lock).
 */
export async function acquireLock(file: string, command: string, options: AcquireOptions = {}): Promise<RepoLock> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (let attempt = 0; ; attempt++) {
    const lock = tryAcquireLock(file, command, options.notice);
    if (lock) return lock;
    if (Date.now() >= deadline) {
      // Throws with the owner named (or takes the lock, if it was just freed).
      return acquireLockNow(file, command, options.notice);
    }
    await sleep(Math.min(50 + attempt * 25, 500, Math.max(1, deadline - Date.now())));
  }
}

/** acquireLockNow is acquireLock without waiting: LockedError when a live or foreign owner holds it. */
export function acquireLockNow(file: string, command: string, notice?: (line: string) => void): RepoLock {
  const lock = tryAcquireLock(file, command, notice);
  if (lock) return lock;
  const owner = readLockOwner(file);
  if (!owner) {
    // Gone between the attempt and this read: one more try.
    const again = tryAcquireLock(file, command, notice);
    if (again) return again;
    throw new LockedError(`the repository is locked (${file} exists but is unreadable)`, false, 'if no lode process is running, run `lode unlock`');
  }
  if (lockState(owner) === 'foreign') {
    throw new LockedError(`the repository is locked by ${describeOwner(owner)}, on another host`, false, `lode cannot tell whether it still runs there: if it does not, run \`lode unlock\``);
  }
  throw new LockedError(`the repository is locked by ${describeOwner(owner)}`, false, 'wait for it to finish (or pass --wait), then run the command again');
}

/**
 * tryAcquireLock takes the lock if it is free or stale; undefined while a
 * live or foreign owner holds it. Throws LockedError for a broken takeover.
 */
function tryAcquireLock(file: string, command: string, notice?: (line: string) => void): RepoLock | undefined {
  const p = thisProcess();
  const me: LockOwner = { pid: p.pid, host: p.host, command, started: new Date().toISOString(), ...(p.start !== undefined ? { start: p.start } : {}), ...(p.boot ? { boot: p.boot } : {}) };
  for (let round = 0; round < 5; round++) {
    if (createLockFile(file, me)) return held(file, me);
    const owner = readLockOwner(file);
    if (!owner) {
      // Vanished (released), or written by a file system without links a
      // moment ago, or damaged: look again, then leave it to the caller.
      if (!fs.existsSync(file)) continue;
      return undefined;
    }
    if (lockState(owner) !== 'stale') return undefined;
    if (takeOver(file, owner, me)) {
      notice?.(`took over the repository lock left by ${describeOwner(owner)}, which is no longer running`);
      return held(file, me);
    }
  }
  return undefined;
}

function held(file: string, me: LockOwner): RepoLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    const owner = readLockOwner(file);
    if (owner && sameOwner(owner, me)) rmQuiet(file);
  };
  // A crash or Ctrl-C must not leave a lock behind for this live process.
  process.once('exit', release);
  return {
    release() {
      process.removeListener('exit', release);
      release();
    },
  };
}

export interface UnlockResult {
  /** The owner of the removed lock, or null when the repository was not locked. */
  owner: LockOwner | null;
  /** live, stale or foreign: what lode could tell about the owner. */
  state: 'live' | 'stale' | 'foreign' | 'unreadable' | null;
  removed: boolean;
}

/**
 * breakLock removes the lock whoever holds it, except a live owner on this
 * host (LockedError) unless `force`. Also removes an interrupted takeover's
 * guard file.
 */
export function breakLock(file: string, options: { force?: boolean } = {}): UnlockResult {
  const guard = `${file}.takeover`;
  const exists = fs.existsSync(file);
  if (!exists) {
    const hadGuard = fs.existsSync(guard);
    rmQuiet(guard);
    return { owner: null, state: null, removed: hadGuard };
  }
  const owner = readLockOwner(file);
  const state = owner ? lockState(owner) : 'unreadable';
  if (owner && state === 'live' && !options.force) {
    throw new LockedError(`the repository is locked by ${describeOwner(owner)}, which is still running`, false, 'wait for it to finish; `lode unlock --force` removes the lock anyway (two writers may then damage the index)');
  }
  rmQuiet(file);
  rmQuiet(guard);
  return { owner: owner ?? null, state, removed: true };
}
