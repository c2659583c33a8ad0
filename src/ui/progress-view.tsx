/**
 * The ink progress view: one line per phase, the running one with a bar,
 * counts, bytes, speed and ETA; finished ones with their summary.
 *
 * Loaded only through `await import()` from `progress.ts` when stderr is an
 * interactive terminal: react + ink cost about 300 ms to import.
 */

import { Box, render, Text, type Instance } from 'ink';
import type { ProgressSink } from '../core/progress.js';
import {
  formatByteCounts,
  formatCounts,
  formatDuration,
  formatRate,
  formatRows,
  formatSummary,
  fractionDone,
  isIdle,
  itemNoun,
  layoutRunning,
  formatCount,
  phaseLabel,
  PhaseTracker,
  type PhaseState,
  type ProgressReporter,
} from './progress-format.js';
import { colorWanted } from './text.js';

/** How often the view is redrawn. Events arrive far faster; they only update the tracker. */
const FRAME_MS = 100;
/** Speed and ETA are measured over this much recent time, so they follow changes in pace. */
const RATE_WINDOW_MS = 5000;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** PhaseRow is one line of the view, already formatted. */
export interface PhaseRow {
  key: string;
  label: string;
  finished: boolean;
  /** Finished phases: "adding: 20,000 files, 78.1 MiB in 0.4 s". */
  summary?: string;
  /** Running phases: share done in [0, 1], when a total is known. */
  fraction?: number;
  counts?: string;
  bytes?: string;
  rows?: string;
  rate?: string;
  eta?: string;
}

export interface ProgressViewProps {
  rows: PhaseRow[];
  /** Terminal width, to size the bar. */
  columns: number;
  /** Frame counter, drives the spinner of phases without a known total. */
  frame: number;
  /** Colours on (false when NO_COLOR is set: see colorWanted in text.ts). Default true. */
  color?: boolean;
}

/** ProgressView renders rows; it holds no state, so a frame is a pure function of its props. */
export function ProgressView({ rows, columns, frame, color = true }: ProgressViewProps) {
  return (
    <Box flexDirection="column">
      {rows.map((row) =>
        row.finished ? (
          <Text key={row.key} wrap="truncate-end">
            <Text color={color ? 'green' : undefined}>✓</Text> {row.summary}
          </Text>
        ) : (
          <RunningRow key={row.key} row={row} columns={columns} frame={frame} color={color} />
        ),
      )}
    </Box>
  );
}

function RunningRow({ row, columns, frame, color }: { row: PhaseRow; columns: number; frame: number; color: boolean }) {
  // The same columns as layoutRunning measures (and runningText writes), with colour.
  const l = layoutRunning(row, columns);
  const filled = Math.floor((row.fraction ?? 0) * l.barWidth); // like the percentage: full only when done
  return (
    <Text wrap="truncate-end">
      <Text color={color ? 'cyan' : undefined}>{SPINNER[frame % SPINNER.length]}</Text> <Text bold={color}>{l.label}</Text>{' '}
      {l.barWidth > 0 && (
        <Text>
          <Text color={color ? 'green' : undefined}>{'█'.repeat(filled)}</Text>
          <Text dimColor={color}>{'░'.repeat(l.barWidth - filled)}</Text>{' '}
        </Text>
      )}
      {l.percent !== undefined && `${l.percent}  `}
      {l.details}
    </Text>
  );
}

interface Sample {
  t: number;
  done: number;
  bytes: number;
  rows: number;
}

/**
 * startInkProgress renders progress to `stream` with ink until closed. The sink
 * only records the latest event per phase; a 10 Hz timer turns that record into
 * a frame, so a flood of events costs no rendering. Nothing is drawn until a
 * phase has work to show. close() draws the final frame, keeps it on screen,
 * restores the cursor and resolves once ink has exited.
 */
export function startInkProgress(stream: NodeJS.WriteStream): ProgressReporter {
  const tracker = new PhaseTracker();
  const samples = new Map<PhaseState, Sample[]>();
  let instance: Instance | undefined;
  let frame = 0;
  let closing: Promise<void> | undefined;
  const color = colorWanted(stream);

  let lastDraw = 0;
  const sink: ProgressSink = (e) => {
    if (closing) return;
    try {
      tracker.record(e);
    } catch {
      // Progress is best effort: a bad event must not fail the command.
    }
    // Synchronous work (a checkout copying a big file) blocks the timer:
    // events that arrive a frame after the last draw draw themselves. ink
    // renders synchronously (legacy root, leading-edge throttle).
    if (Date.now() - lastDraw >= FRAME_MS) safeDraw();
  };

  const rowsNow = (t: number): PhaseRow[] => {
    const rows: PhaseRow[] = [];
    for (const st of tracker.list()) {
      if (isIdle(st)) continue;
      const key = `${st.phase}@${st.startedAt}`;
      if (st.finished) {
        samples.delete(st);
        rows.push({ key, label: phaseLabel(st.phase), finished: true, summary: formatSummary(st) });
        continue;
      }
      rows.push({ key, label: phaseLabel(st.phase), finished: false, ...measure(st, t) });
    }
    return rows;
  };

  /** measure formats a running phase, with speed and ETA over the recent window. */
  const measure = (st: PhaseState, t: number): Partial<PhaseRow> => {
    let window = samples.get(st);
    if (window === undefined) {
      window = [{ t: st.startedAt, done: 0, bytes: 0, rows: 0 }];
      samples.set(st, window);
    }
    window.push({ t, done: st.done, bytes: st.bytes ?? 0, rows: st.rows ?? 0 });
    while (window.length > 2 && t - window[1]!.t >= RATE_WINDOW_MS) window.shift();
    const first = window[0]!;
    const secs = (t - first.t) / 1000;
    const fraction = fractionDone(st);
    const row: Partial<PhaseRow> = { fraction, counts: formatCounts(st), bytes: formatByteCounts(st), rows: formatRows(st) };
    if (secs < 0.5) return row; // too early for a meaningful speed
    const bytesPerSec = ((st.bytes ?? 0) - first.bytes) / secs;
    const itemsPerSec = (st.done - first.done) / secs;
    const rowsPerSec = ((st.rows ?? 0) - first.rows) / secs;
    row.rate =
      st.bytes !== undefined
        ? formatRate(bytesPerSec)
        : st.rows !== undefined
          ? `${formatCount(rowsPerSec)} rows/s`
          : `${formatCount(itemsPerSec)} ${itemNoun(st.phase, 2)}/s`;
    // ETA in the unit the fraction is measured in: bytes when their total is known, else items.
    let left: number | undefined;
    let pace = 0;
    if (st.totalBytes !== undefined && st.bytes !== undefined) {
      left = st.totalBytes - st.bytes;
      pace = bytesPerSec;
    } else if (st.total !== undefined) {
      left = st.total - st.done;
      pace = itemsPerSec;
    }
    if (left !== undefined && left > 0 && pace > 0) row.eta = formatDuration((left / pace) * 1000);
    return row;
  };

  const draw = () => {
    const t = Date.now();
    lastDraw = t;
    const rows = rowsNow(t);
    if (rows.length === 0 && instance === undefined) return;
    const el = <ProgressView rows={rows} columns={stream.columns || 80} frame={frame++} color={color} />;
    if (instance === undefined) {
      instance = render(el, { stdout: stream, exitOnCtrlC: false, patchConsole: false });
    } else {
      instance.rerender(el);
    }
  };

  const safeDraw = () => {
    try {
      draw();
    } catch {
      // A rendering failure must not take the command down; the command's result matters more.
    }
  };

  const timer = setInterval(safeDraw, FRAME_MS);
  // A reporter that is never closed must not keep the process alive.
  timer.unref();

  return {
    sink,
    close: () => {
      closing ??= (async () => {
        clearInterval(timer);
        safeDraw(); // the final frame shows the latest events, not those of the last tick
        if (instance === undefined) return;
        try {
          // waitUntilExit before unmount: ink resolves only promises that exist when it exits.
          const exited = instance.waitUntilExit();
          instance.unmount();
          await exited;
        } catch {
          // Unmounting is best effort; the terminal is left as ink leaves it.
        }
      })();
      return closing;
    },
  };
}
