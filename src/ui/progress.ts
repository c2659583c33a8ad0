/**
 * Progress rendering on stderr: turns the `ProgressEvent`s that commands emit into
 * an ink view (interactive terminal), throttled plain lines (pipes, CI, dumb
 * terminals) or nothing (--quiet).
 *
 * This module must stay cheap to import: `lode status` and `lode --version` load
 * it, and react + ink cost about 300 ms. The ink view lives in `progress-view.tsx`
 * and is only loaded, with a dynamic import, when the 'tty' mode is chosen.
 */

import type { ProgressEvent, ProgressPhase, ProgressSink } from '../core/progress.js';

/** ProgressMode says how progress is shown: ink view, plain lines, or not at all. */
export type ProgressMode = 'tty' | 'plain' | 'none';

/**
 * chooseProgressMode picks how to show progress on `stream` (normally stderr).
 * 'none' only under --quiet: --json writes its result to stdout, so it does not
 * silence progress on stderr. 'tty' when the stream is a terminal, CI is not set
 * and TERM is not "dumb" (ink only goes quiet in CI and cannot redraw on a dumb
 * terminal); 'plain' otherwise. `env` defaults to `process.env`.
 */
export function chooseProgressMode(opts: {
  quiet?: boolean;
  stream: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}): ProgressMode {
  if (opts.quiet) return 'none';
  const env = opts.env ?? process.env;
  const inCi = isSet(env['CI']) || isSet(env['CONTINUOUS_INTEGRATION']);
  if (opts.stream.isTTY === true && !inCi && env['TERM'] !== 'dumb') return 'tty';
  return 'plain';
}

/** isSet follows ink's own CI test, so lode and ink agree on what "in CI" means. */
function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '0' && value !== 'false';
}

/**
 * ProgressReporter shows one command's progress until closed.
 */
export interface ProgressReporter {
  /** sink: cheap to call very often (per file); never throws. Events after close are ignored. */
  sink: ProgressSink;
  /**
   * close stops rendering and leaves the terminal clean: the ink view keeps its
   * final frame and restores the cursor. Idempotent; never rejects.
   */
  close(): Promise<void>;
}

/**
 * createProgressReporter starts a reporter writing to `stream`.
 * 'tty' loads the ink view lazily (falling back to plain lines if it cannot be
 * loaded); 'plain' writes throttled lines; 'none' discards every event.
 */
export async function createProgressReporter(
  mode: ProgressMode,
  stream: NodeJS.WriteStream,
): Promise<ProgressReporter> {
  switch (mode) {
    case 'none':
      return { sink: () => {}, close: async () => {} };
    case 'plain':
      return createPlainReporter(stream);
    case 'tty': {
      let view: typeof import('./progress-view.js');
      try {
        view = await import('./progress-view.js');
      } catch {
        // A broken optional renderer must not break the command it reports on.
        return createPlainReporter(stream);
      }
      return view.startInkProgress(stream);
    }
  }
}

// ---------------------------------------------------------------------------
// Phase bookkeeping shared by the plain and ink renderers.

const PHASE_LABELS: Record<ProgressPhase, string> = {
  scan: 'scanning',
  hash: 'adding',
  checkout: 'checking out',
  gc: 'collecting',
  fsck: 'verifying',
  tables: 'diffing tables',
  push: 'pushing',
  pull: 'pulling',
};

/** phaseLabel is the word shown to the user for a phase ("hash" -> "adding"). */
export function phaseLabel(phase: ProgressPhase): string {
  return PHASE_LABELS[phase] ?? phase;
}

const FILE_PHASES: ReadonlySet<ProgressPhase> = new Set(['scan', 'hash', 'checkout']);

/** itemNoun names what a phase counts: files in the working tree, objects in the store. */
export function itemNoun(phase: ProgressPhase, count: number): string {
  const noun = FILE_PHASES.has(phase) ? 'file' : 'object';
  return count === 1 ? noun : noun + 's';
}

/** PhaseState is the latest known state of one phase, as the reporter saw it. */
export interface PhaseState {
  phase: ProgressPhase;
  done: number;
  total?: number;
  bytes?: number;
  totalBytes?: number;
  finished: boolean;
  /** Clock time of the phase's first event (ms). */
  startedAt: number;
  /** Clock time of the phase's finishing event (ms). */
  finishedAt?: number;
}

/**
 * PhaseTracker keeps the latest state of each phase, in order of first
 * appearance. `record` allocates nothing for an already known phase and reads
 * the clock only when a phase starts or finishes. An event for a phase that has
 * already finished starts that phase afresh.
 */
export class PhaseTracker {
  private readonly states = new Map<ProgressPhase, PhaseState>();

  constructor(private readonly now: () => number = Date.now) {}

  record(e: ProgressEvent): PhaseState {
    let st = this.states.get(e.phase);
    if (st === undefined || st.finished) {
      if (st !== undefined) this.states.delete(e.phase); // re-insert: a restarted phase goes last
      st = { phase: e.phase, done: 0, finished: false, startedAt: this.now() };
      this.states.set(e.phase, st);
    }
    st.done = e.done;
    st.total = e.total;
    st.bytes = e.bytes;
    st.totalBytes = e.totalBytes;
    if (e.finished) {
      st.finished = true;
      st.finishedAt = this.now();
    }
    return st;
  }

  list(): PhaseState[] {
    return [...this.states.values()];
  }
}

/** isIdle: a phase with nothing to do and nothing done, which is not worth a line. */
export function isIdle(st: PhaseState): boolean {
  return st.done === 0 && !((st.total ?? 0) > 0) && !((st.bytes ?? 0) > 0) && !((st.totalBytes ?? 0) > 0);
}

/** fraction of the phase done in [0, 1], by bytes when their total is known, else by items. */
export function fractionDone(st: PhaseState): number | undefined {
  let f: number | undefined;
  if (st.totalBytes !== undefined && st.totalBytes > 0 && st.bytes !== undefined) {
    f = st.bytes / st.totalBytes;
  } else if (st.total !== undefined && st.total > 0) {
    f = st.done / st.total;
  }
  if (f === undefined || Number.isNaN(f)) return undefined;
  return Math.min(1, Math.max(0, f));
}

/** formatCount writes an integer with thousands separators: 12345 -> "12,345". */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '?';
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** formatCounts: "12,345/20,000 files" when the total is known, else "12,345 files". */
export function formatCounts(st: PhaseState): string {
  if (st.total !== undefined && st.total !== st.done) {
    return `${formatCount(st.done)}/${formatCount(st.total)} ${itemNoun(st.phase, st.total)}`;
  }
  return `${formatCount(st.done)} ${itemNoun(st.phase, st.done)}`;
}

/** formatByteCounts: "48.2 MiB/78.1 MiB", "48.2 MiB", or undefined when bytes are not reported. */
export function formatByteCounts(st: PhaseState): string | undefined {
  if (st.bytes === undefined) return undefined;
  if (st.totalBytes !== undefined && st.totalBytes !== st.bytes) {
    return `${formatBytes(st.bytes)}/${formatBytes(st.totalBytes)}`;
  }
  return formatBytes(st.bytes);
}

/** formatPercent floors, so 100% is only shown when the work is all done. */
export function formatPercent(fraction: number): string {
  return `${Math.floor(fraction * 100)}%`;
}

/** formatSummary is the closing line of a finished phase: "adding: 20,000 files, 78.1 MiB in 0.4 s". */
export function formatSummary(st: PhaseState): string {
  const bytes = formatByteCounts(st);
  const elapsed = (st.finishedAt ?? st.startedAt) - st.startedAt;
  return `${phaseLabel(st.phase)}: ${formatCounts(st)}${bytes ? ', ' + bytes : ''} in ${formatDuration(elapsed)}`;
}

// ---------------------------------------------------------------------------
// Units.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/**
 * formatBytes writes a byte count in binary units: 512 -> "512 B",
 * 1572864 -> "1.5 MiB", 220200960 -> "210 MiB" (one decimal below 100).
 * Negative or non-finite input reads as "0 B".
 */
export function formatBytes(n: number): string {
  if (!(n > 0) || !Number.isFinite(n)) return '0 B';
  let unit = 0;
  let v = n;
  while (v >= 1024 && unit < BYTE_UNITS.length - 1) {
    v /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(v)} B`;
  // Round first, then decide on decimals and unit, so 1023.97 KiB reads "1.0 MiB".
  if (Math.round(v * 10) / 10 < 100) return `${v.toFixed(1)} ${BYTE_UNITS[unit]}`;
  const r = Math.round(v);
  if (r >= 1024 && unit < BYTE_UNITS.length - 1) return `1.0 ${BYTE_UNITS[unit + 1]}`;
  return `${r} ${BYTE_UNITS[unit]}`;
}

/** formatRate writes a speed: 536870912 -> "512 MiB/s". */
export function formatRate(bytesPerSec: number): string {
  return `${formatBytes(bytesPerSec)}/s`;
}

/**
 * formatDuration writes an elapsed time or ETA: 400 -> "0.4 s", 42000 -> "42 s",
 * 185000 -> "3m05s", 7500000 -> "2h05m". Negative or non-finite input reads as "0.0 s".
 */
export function formatDuration(ms: number): string {
  if (!(ms > 0) || !Number.isFinite(ms)) return '0.0 s';
  const tenths = Math.round(ms / 100);
  if (tenths < 100) return `${(tenths / 10).toFixed(1)} s`;
  const secs = Math.round(ms / 1000);
  if (secs < 60) return `${secs} s`;
  if (secs < 3600) return `${Math.floor(secs / 60)}m${pad2(secs % 60)}s`;
  const mins = Math.round(ms / 60000);
  return `${Math.floor(mins / 60)}h${pad2(mins % 60)}m`;
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

// ---------------------------------------------------------------------------
// Plain lines.

/** PlainReporterOptions exist for tests: a fake clock and a shorter interval. */
export interface PlainReporterOptions {
  /** Clock in ms; default Date.now. */
  now?: () => number;
  /** Least time between two progress lines of one phase; default 1000 ms. */
  intervalMs?: number;
}

interface PlainLineState {
  lastLineAt: number;
  lastLineBytes: number;
  lastLineDone: number;
  printed: boolean;
}

/**
 * createPlainReporter writes at most one progress line per phase per
 * `intervalMs` (none before the phase has run that long), plus one summary
 * line when a phase that lasted at least `intervalMs` finishes. Quick phases
 * and phases with no work print nothing. Suited to logs: no escape codes, no redraws.
 */
export function createPlainReporter(
  stream: Pick<NodeJS.WritableStream, 'write'>,
  opts: PlainReporterOptions = {},
): ProgressReporter {
  const now = opts.now ?? Date.now;
  const intervalMs = opts.intervalMs ?? 1000;
  const tracker = new PhaseTracker(now);
  const lines = new Map<PhaseState, PlainLineState>();
  let closed = false;

  const write = (line: string) => {
    try {
      stream.write(line + '\n');
    } catch {
      // A closed stderr must not fail the command.
    }
  };

  const sink: ProgressSink = (e) => {
    if (closed) return;
    try {
      const st = tracker.record(e);
      if (st.finished) {
        const printed = lines.get(st)?.printed ?? false;
        lines.delete(st);
        // A phase over in under a second needs no summary: the command's own output says what happened.
        if (!isIdle(st) && (printed || now() - st.startedAt >= intervalMs)) write(formatSummary(st));
        return;
      }
      let ls = lines.get(st);
      if (ls === undefined) {
        ls = { lastLineAt: st.startedAt, lastLineBytes: 0, lastLineDone: 0, printed: false };
        lines.set(st, ls);
      }
      const t = now();
      if (t - ls.lastLineAt < intervalMs || isIdle(st)) return;
      write(formatProgressLine(st, ls, t));
      ls.lastLineAt = t;
      ls.lastLineBytes = st.bytes ?? 0;
      ls.lastLineDone = st.done;
      ls.printed = true;
    } catch {
      // Progress is best effort: a bad event must not fail the command.
    }
  };

  return {
    sink,
    close: async () => {
      // Unfinished phases get no summary: the command failed or was interrupted,
      // and a summary would read as success.
      closed = true;
    },
  };
}

/** formatProgressLine: "adding: 12,345/20,000 files, 48.2 MiB/78.1 MiB (61%), 210 MiB/s". */
function formatProgressLine(st: PhaseState, ls: PlainLineState, t: number): string {
  const parts = [formatCounts(st)];
  const bytes = formatByteCounts(st);
  if (bytes) parts.push(bytes);
  const f = fractionDone(st);
  if (f !== undefined) parts[parts.length - 1] += ` (${formatPercent(f)})`;
  // Speed over the last interval, not since the start: it is what the user feels now.
  const secs = (t - ls.lastLineAt) / 1000;
  if (secs > 0) {
    if (st.bytes !== undefined) parts.push(formatRate((st.bytes - ls.lastLineBytes) / secs));
    else parts.push(`${formatCount((st.done - ls.lastLineDone) / secs)} ${itemNoun(st.phase, 2)}/s`);
  }
  return `${phaseLabel(st.phase)}: ${parts.join(', ')}`;
}
