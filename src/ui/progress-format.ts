/**
 * What the plain and ink progress renderers share: the reporter contract,
 * phase bookkeeping, and how counts, bytes, speeds and durations read.
 * Imported by `progress.ts` and by the ink view `progress-view.tsx`; it
 * imports neither (the view must not pull in `progress.ts`, which loads it).
 */

import type { ProgressEvent, ProgressPhase, ProgressSink } from '../core/progress.js';

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

/** itemNoun names what a phase counts: files in the working tree, tables diffed, objects in the store. */
export function itemNoun(phase: ProgressPhase, count: number): string {
  const noun = FILE_PHASES.has(phase) ? 'file' : phase === 'tables' ? 'table' : 'object';
  return count === 1 ? noun : noun + 's';
}

/** PhaseState is the latest known state of one phase, as the reporter saw it. */
export interface PhaseState {
  phase: ProgressPhase;
  done: number;
  total?: number;
  bytes?: number;
  totalBytes?: number;
  rows?: number;
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
    st.rows = e.rows;
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
  return st.done === 0 && !((st.total ?? 0) > 0) && !((st.bytes ?? 0) > 0) && !((st.totalBytes ?? 0) > 0) && !((st.rows ?? 0) > 0);
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

/** formatRows: "3,400,000 rows" when the phase reads tables and has read some, else undefined. */
export function formatRows(st: PhaseState): string | undefined {
  if (st.rows === undefined || !(st.rows > 0)) return undefined;
  return `${formatCount(st.rows)} ${st.rows === 1 ? 'row' : 'rows'}`;
}

/** formatPercent floors, so 100% is only shown when the work is all done. */
export function formatPercent(fraction: number): string {
  return `${Math.floor(fraction * 100)}%`;
}

/** formatSummary is the closing line of a finished phase: "adding: 20,000 files, 78.1 MiB in 0.4 s". */
export function formatSummary(st: PhaseState): string {
  const parts = [formatCounts(st), formatByteCounts(st), formatRows(st)].filter((p) => p !== undefined);
  const elapsed = (st.finishedAt ?? st.startedAt) - st.startedAt;
  return `${phaseLabel(st.phase)}: ${parts.join(', ')} in ${formatDuration(elapsed)}`;
}

// ---------------------------------------------------------------------------
// Layout of a running phase's line on a terminal of a given width.

/** RunningParts are the words of a running phase's line, each already formatted. */
export interface RunningParts {
  label: string;
  /** Share done in [0, 1], when a total is known: drawn as a bar and a percentage. */
  fraction?: number;
  counts?: string;
  bytes?: string;
  rows?: string;
  rate?: string;
  eta?: string;
}

/** RunningLayout says what of a running line is shown: `barWidth` 0 means no bar. */
export interface RunningLayout {
  label: string;
  barWidth: number;
  /** "61%" (padded to 4 columns after a bar); absent when dropped or unknown. */
  percent?: string;
  /** The words after the bar and percentage, joined by two spaces. */
  details: string;
}

const BAR_MAX = 30;
const BAR_MIN = 10;
const GAP = '  ';

/**
 * layoutRunning fits a running phase's line into `columns` terminal columns
 * (less one, so the line never wraps), giving up parts in this order: the
 * bar's width (30 down to 10), the bar, the row count, the item count (when
 * bytes are shown), the byte counts, the item count, the percentage. Speed
 * and ETA go last: they are what a user watches a long phase for. What does
 * not fit even then is cut at the end by the renderer.
 */
export function layoutRunning(p: RunningParts, columns: number): RunningLayout {
  const room = Math.max(1, (Number.isFinite(columns) && columns > 0 ? columns : 80) - 1);
  const percent = p.fraction !== undefined ? formatPercent(p.fraction).padStart(4) : undefined;
  let showPercent = percent !== undefined;
  const words: { text: string; drop: number }[] = [];
  // drop: the order in which words give way (lower goes first); speed and ETA never do.
  if (p.counts) words.push({ text: p.counts, drop: p.bytes ? 1 : 3 });
  if (p.bytes) words.push({ text: p.bytes, drop: 2 });
  if (p.rows) words.push({ text: p.rows, drop: 0 });
  if (p.rate) words.push({ text: p.rate, drop: Infinity });
  if (p.eta) words.push({ text: `ETA ${p.eta}`, drop: Infinity });
  const details = () => words.map((w) => w.text).join(GAP);
  // "⠋ label " + [bar + " "] + [percent + "  "] + details
  const width = (bar: number) => 2 + p.label.length + 1 + (bar > 0 ? bar + 1 + percent!.length + GAP.length : showPercent ? percent!.trimStart().length + GAP.length : 0) + details().length;
  if (showPercent) {
    const bar = Math.min(BAR_MAX, room - width(0) - 1);
    if (bar >= BAR_MIN) return { label: p.label, barWidth: bar, percent, details: details() };
  }
  const bare = percent?.trimStart();
  for (let level = 0; level <= 3 && width(0) > room; level++) {
    for (let i = words.length - 1; i >= 0; i--) if (words[i].drop === level) words.splice(i, 1);
  }
  if (width(0) > room) showPercent = false;
  return { label: p.label, barWidth: 0, percent: showPercent ? bare : undefined, details: details() };
}

/** runningText is a laid-out line as plain text (the ink view draws the same columns, with colour): what tests measure. */
export function runningText(l: RunningLayout, spinner: string, fraction = 0): string {
  const filled = Math.floor(fraction * l.barWidth);
  const bar = l.barWidth > 0 ? '█'.repeat(filled) + '░'.repeat(l.barWidth - filled) + ' ' : '';
  return `${spinner} ${l.label} ${bar}${l.percent !== undefined ? l.percent + GAP : ''}${l.details}`;
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
