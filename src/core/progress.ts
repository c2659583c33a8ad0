/**
 * Progress events: long operations report what they are doing as plain data;
 * `ui/` decides how to show it (ink on a TTY, plain lines otherwise, nothing
 * under --json). Reporting must be cheap: callers may emit per file.
 */

export type ProgressPhase =
  | 'scan'
  | 'hash'
  | 'checkout'
  | 'gc'
  | 'fsck'
  | 'tables'
  | 'push'
  | 'pull';

export interface ProgressEvent {
  phase: ProgressPhase;
  /** Items (files, objects) finished so far in this phase. */
  done: number;
  /** Items expected in this phase, when known. */
  total?: number;
  /** Bytes finished so far. */
  bytes?: number;
  /** Bytes expected, when known. */
  totalBytes?: number;
  /** Rows read so far (table diffs: both sides, every pass), when the phase reads tables. */
  rows?: number;
  /** Set on the last event of a phase. */
  finished?: boolean;
}

/** ProgressSink receives progress events; it must not throw. */
export type ProgressSink = (event: ProgressEvent) => void;

/** noProgress discards events. */
export const noProgress: ProgressSink = () => {};
