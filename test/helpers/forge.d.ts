// Types for forge.js (plain ESM JavaScript shared with bench/torture/).

/** Obj is one object of a forged remote: its bytes and ID. */
export interface Obj {
  id: string;
  bytes: Buffer;
}

export interface RawEntry {
  name: string;
  kind: 'blob' | 'chunked' | 'tree';
  id: string;
  size: number;
  files?: number;
  exec?: boolean;
}

export interface PackEntry {
  id: string;
  offset: number;
  length: number;
}

/** ready loads the xxhash pack index checksums need; await it once before writeRemote. */
export function ready(): Promise<void>;
export function obj(bytes: Buffer): Obj;
/** rawTree: entries sorted by UTF-8 bytes, names written as given. */
export function rawTree(entries: RawEntry[]): Obj;
/** rawCommit: the commit text, dataset lines written as given (even unsafe ones). */
export function rawCommit(tree: string, datasets: string[], message?: string): Obj;
export function rawChunkList(chunks: { id: string; size: number }[]): Obj;
/** writeRemote writes one pack of `objects`, its index (entries passed through `entryOf`) and branch refs into `dir`. */
export function writeRemote(dir: string, objects: Obj[], refs: Record<string, string>, entryOf?: (e: PackEntry) => PackEntry): { packId: string };
