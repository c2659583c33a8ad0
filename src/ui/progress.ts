/**
 * Progress rendering on stderr: turns the `ProgressEvent`s that commands emit into
 * an ink view (interactive terminal), throttled plain lines (pipes, CI, dumb
 * terminals) or nothing (--quiet).
 *
 * This module must stay cheap to import: `lode status` and `lode --version` load
 * it, and react + ink cost about 300 ms. The ink view lives in `progress-view.tsx`
 * and is only loaded, with a dynamic import, when the 'tty' mode is chosen; what
 * both renderers share (phase bookkeeping, units) is in `progress-format.ts`, so
 * the view never imports this module.
 */

import type { ProgressSink } from '../core/progress.js';
import {
  PhaseTracker,
  formatByteCounts,
  formatCount,
  formatCounts,
  formatPercent,
  formatRate,
  formatRows,
  formatSummary,
  fractionDone,
  isIdle,
  itemNoun,
  phaseLabel,
  type PhaseState,
  type ProgressReporter,
} from './progress-format.js';

// Re-exported: callers of the progress module (and its tests) need not know the split.
export {
  phaseLabel,
  itemNoun,
  PhaseTracker,
  isIdle,
  fractionDone,
  formatCount,
  formatCounts,
  formatByteCounts,
  formatPercent,
  formatSummary,
  formatBytes,
  formatRate,
  formatRows,
  formatDuration,
  layoutRunning,
  runningText,
  type RunningLayout,
  type RunningParts,
  type PhaseState,
  type ProgressReporter,
} from './progress-format.js';

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
 * createProgressReporter starts a reporter writing to `stream`.
 * 'tty' loads the ink view lazily (falling back to plain lines if it cannot be
 * loaded); 'plain' writes throttled lines; 'none' discards every event.
 */
export async function createProgressReporter(
  mode: ProgressMode,
  stream: NodeJS.WriteStream,
  plain: PlainReporterOptions = {},
): Promise<ProgressReporter> {
  switch (mode) {
    case 'none':
      return { sink: () => {}, close: async () => {} };
    case 'plain':
      return createPlainReporter(stream, plain);
    case 'tty': {
      let view: typeof import('./progress-view.js');
      try {
        view = await import('./progress-view.js');
      } catch {
        // A broken optional renderer must not break the command it reports on.
        return createPlainReporter(stream, plain);
      }
      return view.startInkProgress(stream);
    }
  }
}

/**
 * plainIntervalMs reads LODE_PROGRESS_INTERVAL (seconds between two plain
 * progress lines of a phase, 0 for a line per event; for CI logs that want
 * fewer or more lines). Undefined (the default, 1 s) when unset or not a
 * number >= 0.
 */
export function plainIntervalMs(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env['LODE_PROGRESS_INTERVAL'];
  if (v === undefined || v.trim() === '') return undefined;
  const secs = Number(v);
  return Number.isFinite(secs) && secs >= 0 ? secs * 1000 : undefined;
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
  lastLineRows: number;
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
        ls = { lastLineAt: st.startedAt, lastLineBytes: 0, lastLineDone: 0, lastLineRows: 0, printed: false };
        lines.set(st, ls);
      }
      const t = now();
      if (t - ls.lastLineAt < intervalMs || isIdle(st)) return;
      write(formatProgressLine(st, ls, t));
      ls.lastLineAt = t;
      ls.lastLineBytes = st.bytes ?? 0;
      ls.lastLineDone = st.done;
      ls.lastLineRows = st.rows ?? 0;
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
  const rows = formatRows(st);
  if (rows) parts.push(rows);
  // Speed over the last interval, not since the start: it is what the user feels now.
  const secs = (t - ls.lastLineAt) / 1000;
  if (secs > 0) {
    if (st.bytes !== undefined) parts.push(formatRate((st.bytes - ls.lastLineBytes) / secs));
    else if (st.rows !== undefined) parts.push(`${formatCount(((st.rows ?? 0) - ls.lastLineRows) / secs)} rows/s`);
    else parts.push(`${formatCount((st.done - ls.lastLineDone) / secs)} ${itemNoun(st.phase, 2)}/s`);
  }
  return `${phaseLabel(st.phase)}: ${parts.join(', ')}`;
}
