/**
 * The repository lock (.lode/lock): created with O_EXCL, holding the owner's
 * pid, host, command and start time. Commands that change the repository hold
 * it for their whole run, so two lode processes never interleave writes to
 * the index, refs or cache. A lock whose process is gone is reported as stale
 * with its owner named; lode never breaks a lock silently.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { LockedError } from '../core/errors.js';
import { errnoCode, rmQuiet } from '../storage/atomic.js';

export interface LockOwner {
  pid: number;
  host: string;
  command: string;
  started: string;
}

/** RepoLock is a held lock; release it exactly once. */
export interface RepoLock {
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

/** readLockOwner returns who holds the lock file, if anyone. */
export function readLockOwner(file: string): LockOwner | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/**
 * acquireLock takes the lock or throws LockedError saying who holds it and
 * whether that process is still alive.
 */
export function acquireLock(file: string, command: string): RepoLock {
  const me: LockOwner = { pid: process.pid, host: os.hostname(), command, started: new Date().toISOString() };
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o644);
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST') throw e;
    const owner = readLockOwner(file);
    if (!owner) {
      throw new LockedError(`the repository is locked (${file} exists but is unreadable)`, true, `if no lode process is running, delete ${file}`);
    }
    const sameHost = owner.host === me.host;
    const stale = sameHost && !alive(owner.pid);
    const who = `\`lode ${owner.command}\` (pid ${owner.pid} on ${owner.host}, since ${owner.started})`;
    if (stale) {
      throw new LockedError(`the repository lock is stale: it was left by ${who}, which is no longer running`, true, `check nothing else uses the repository, then delete ${file} and run the command again`);
    }
    throw new LockedError(`the repository is locked by ${who}`, false, sameHost ? 'wait for it to finish, then run the command again' : `if that process is gone, delete ${file}`);
  }
  try {
    fs.writeSync(fd, JSON.stringify(me));
  } finally {
    fs.closeSync(fd);
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    const owner = readLockOwner(file);
    if (owner && owner.pid === me.pid && owner.started === me.started) rmQuiet(file);
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
