/**
 * Process identity: who owns a lock or a temporary file, and whether that
 * process still runs. A pid alone is not an identity (pids are reused, and a
 * reboot restarts them), so an owner is (host, pid, process start time); on
 * Linux the start time comes from /proc/<pid>/stat (clock ticks since boot)
 * and the boot from /proc/sys/kernel/random/boot_id. Elsewhere only the pid
 * is checked.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { createHash } from 'node:crypto';

/** ProcessId identifies one run of one process on one host. */
export interface ProcessId {
  host: string;
  pid: number;
  /** Start time in clock ticks since boot (Linux), or undefined where unknown. */
  start?: number;
  /** The kernel's boot id (Linux): a process never outlives a reboot. */
  boot?: string;
}

/** processStart returns a process's start time (clock ticks since boot), or undefined (gone, or not Linux). */
export function processStart(pid: number): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[19]); // field 22 of proc(5), counted from field 3
  return Number.isFinite(start) ? start : undefined;
}

let bootId: string | undefined | null = null;
function currentBoot(): string | undefined {
  if (bootId === null) {
    try {
      bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
    } catch {
      bootId = undefined;
    }
  }
  return bootId;
}

let me: ProcessId | undefined;
/** thisProcess is this process's identity. */
export function thisProcess(): ProcessId {
  return (me ??= { host: os.hostname(), pid: process.pid, start: processStart(process.pid), boot: currentBoot() });
}

/** pidExists says whether some process has this pid (EPERM: it exists, owned by someone else). */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * isRunning says whether the process `p` (which must be on this host) still
 * runs: its pid exists and, where known, with the same start time and boot.
 */
export function isRunning(p: Pick<ProcessId, 'pid' | 'start' | 'boot'>): boolean {
  if (!Number.isInteger(p.pid) || p.pid <= 0) return false;
  const boot = currentBoot();
  if (p.boot && boot && p.boot !== boot) return false;
  if (!pidExists(p.pid)) return false;
  if (p.start === undefined) return true;
  const now = processStart(p.pid);
  return now === undefined || now === p.start;
}

const hostTags = new Map<string, string>();
/** hostTag is a short, file-name-safe digest of a host name. */
export function hostTag(host = os.hostname()): string {
  let t = hostTags.get(host);
  if (t === undefined) hostTags.set(host, (t = createHash('sha256').update(host).digest('hex').slice(0, 8)));
  return t;
}

/**
 * ownerTag names this process in temporary file names: `<pid>.<start>.<host>`
 * (start 0 where unknown). `tempOwner` reads it back.
 */
export function ownerTag(): string {
  const p = thisProcess();
  return `${p.pid}.${p.start ?? 0}.${hostTag(p.host)}`;
}

/** The owner tag in a name made by atomic.ts `tempName`: label-TAG-thread-counter-time. */
const TAG = /-(\d+)\.(\d+)\.([0-9a-f]{8})-\d+-\d+-[0-9a-z]+$/;

/**
 * tempOwner says who made a temporary file, from its name: 'alive' (a
 * running process on this host), 'dead' (a process on this host that is
 * gone), or 'unknown' (another host, or a name without an owner tag).
 */
export function tempOwner(name: string): 'alive' | 'dead' | 'unknown' {
  const m = TAG.exec(name);
  if (!m) return 'unknown';
  if (m[3] !== hostTag()) return 'unknown';
  const start = Number(m[2]);
  return isRunning({ pid: Number(m[1]), start: start === 0 ? undefined : start }) ? 'alive' : 'dead';
}

/** The text of a lock file made by `ownerTag`: `<pid>.<start>.<host tag>`. */
const LOCK_TAG = /^(\d+)\.(\d+)\.([0-9a-f]{8})$/;

/**
 * lockOwner says who holds a lock file from its text (an `ownerTag()`):
 * 'alive', 'dead' (a process on this host that is gone), or 'unknown'
 * (another host, or a text that is not a tag, e.g. still being written).
 */
export function lockOwner(text: string): 'alive' | 'dead' | 'unknown' {
  const m = LOCK_TAG.exec(text.trim());
  if (!m) return 'unknown';
  if (m[3] !== hostTag()) return 'unknown';
  const start = Number(m[2]);
  return isRunning({ pid: Number(m[1]), start: start === 0 ? undefined : start }) ? 'alive' : 'dead';
}
