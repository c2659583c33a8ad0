/**
 * sendPackFiles is a large push to a store on the local file system (a
 * directory remote): pack files are written on worker threads
 * (PackFilePool), several at once, each object read from the cache, checked
 * against its ID, compressed where it pays and written while its bytes are
 * in one core's cache. The main thread only plans packs and names them.
 *
 * Ordering is as for packs sent from memory: a pack file is named (renamed
 * into place) and indexed only after every pack before it was, and only
 * once every object in it checked out; a pack that fails stops every later
 * one, whose file is removed. Before a push fails, the packs already named
 * stay: they are closed, like any prefix of a push.
 */
import * as fs from 'node:fs';
import { RemoteError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import { PACK_HEADER } from '../objects/pack.js';
import { PackFileError, PackFilePool, type PackFileItem } from '../objects/pack-file-pool.js';
import type { RemoteStore } from './remote-store.js';

/** Pack files being written or named at once (each worker writes one, the next waits in its queue). */
const FILES_IN_FLIGHT = 4;

/** FileWant is a wanted object for a pack file: a range of a cached file (checked by the worker), or bytes the caller got and checked. */
export interface FileWant {
  id: ObjectId;
  size: number;
  /** A chunk of a cached file: read and checked on a worker. */
  file?: string;
  offset?: number;
  /** Any other object: its bytes (file data when `data`). */
  bytes?: () => Buffer;
  data: boolean;
}

export interface PackFileFaults {
  missing(id: ObjectId): Error;
  shorter(file: string, id: ObjectId): Error;
  corrupt(id: ObjectId): Error;
}

export async function sendPackFiles(o: {
  remote: RemoteStore;
  files: { stage: () => string; compress: boolean };
  wants: readonly FileWant[];
  target: number;
  slack: number;
  faults: PackFileFaults;
  /** Called as each pack is planned: objects and bytes so far. */
  progress?: (objects: number, bytes: number) => void;
}): Promise<ObjectId[]> {
  const pool = new PackFilePool();
  const named: ObjectId[] = [];
  const inFlight: Promise<ObjectId>[] = [];
  let previous: Promise<unknown> = Promise.resolve();
  let items: PackFileItem[] = [];
  let size = PACK_HEADER;
  let objects = 0;
  let bytes = 0;
  const flush = async () => {
    if (items.length === 0) return;
    if (inFlight.length >= FILES_IN_FLIGHT) named.push(await inFlight.shift()!);
    const tmp = o.files.stage();
    const mine = items;
    const written = pool.write(tmp, mine).catch((e) => {
      if (!(e instanceof PackFileError)) throw e;
      const { kind, index } = e.fault;
      const it = mine[index];
      if (kind === 'missing') throw o.faults.missing(it.id);
      if (kind === 'shorter') throw o.faults.shorter(it.file!, it.id);
      if (kind === 'corrupt') throw o.faults.corrupt(it.id);
      const full = e.fault.code === 'ENOSPC';
      throw new RemoteError(`writing a pack in ${o.remote.backend.location} failed: ${e.message}`, false, {
        cause: e,
        hint: full ? 'the remote disk is full' : e.fault.code === 'EACCES' || e.fault.code === 'EPERM' ? 'check the permissions of the remote directory' : 'check that the remote directory is mounted and writable',
      });
    });
    const before = previous;
    const done = written.then(async (w) => {
      try {
        await before;
      } catch (e) {
        fs.rmSync(tmp, { force: true }); // a pack before it failed: this one is never named
        throw e;
      }
      return o.remote.adoptPack(tmp, w);
    });
    done.catch(() => {}); // observed in order below
    previous = done;
    inFlight.push(done);
    items = [];
    size = PACK_HEADER;
    o.progress?.(objects, bytes);
  };
  try {
    for (const w of o.wants) {
      if (items.length > 0 && size + w.size > o.target + o.slack) await flush();
      items.push(w.file !== undefined ? { id: w.id, size: w.size, file: w.file, offset: w.offset ?? 0, compress: o.files.compress } : { id: w.id, size: w.size, bytes: w.bytes!(), compress: o.files.compress && w.data });
      size += w.size;
      objects++;
      bytes += w.size;
      if (size >= o.target) await flush();
    }
    await flush();
    while (inFlight.length > 0) named.push(await inFlight.shift()!);
    return named;
  } finally {
    // After a failure: every write started ends (its file named or removed) before the push returns.
    await Promise.allSettled(inFlight);
    await pool.close();
  }
}
