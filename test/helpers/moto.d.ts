// Types for moto.js (plain ESM JavaScript shared with bench/).

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** moto accepts any credentials (it does not check signatures by default). */
export const MOTO_CREDENTIALS: Credentials;

/** freePort returns a loopback TCP port that was free a moment ago. */
export function freePort(): Promise<number>;

/** motoUnavailable returns why moto cannot run here, or null. */
export function motoUnavailable(): string | null;

/** MotoServer is a running moto_server on a loopback port. */
export interface MotoServer {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  port: number;
  pid: number | undefined;
  /** Requests moto has logged since it answered (read before and after a command). */
  readonly requests: number;
  /** The same, by HTTP method. */
  readonly byMethod: Record<string, number>;
  /** Peak RSS of the server process in KiB (VmHWM), or null if unknown. */
  rssKiB(): number | null;
  /** killSync ends the server's process group at once (for exit and signal handlers). */
  killSync(signal?: NodeJS.Signals): void;
  stop(): Promise<void>;
}

/**
 * startMoto runs `moto_server` (or `python3 -m moto.server`) on a free port
 * and waits until it answers; `env` extends the server's environment. Throws,
 * naming the install command, when it does not start.
 */
export function startMoto(options?: { env?: Record<string, string> }): Promise<MotoServer>;

/** createBucket creates `name` on the server at `endpoint` (moto's credentials unless given). */
export function createBucket(endpoint: string, name: string, credentials?: Credentials): Promise<void>;

/**
 * emptyPrefix lists every object under `prefix` (ending in '/') and, unless
 * `dryRun`, deletes them; returns how many objects and bytes there were.
 */
export function emptyPrefix(endpoint: string, bucket: string, prefix: string, options?: { dryRun?: boolean }): Promise<{ objects: number; bytes: number }>;
