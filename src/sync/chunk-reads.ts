/**
 * ChunkReads fills the slots of a large push's pack buffers with chunks of
 * cached files off the main thread, and checks them on the hash pool's
 * workers.
 *
 * Chunks of one cached file are pushed in file order and laid out back to
 * back in the pack buffer, so neighbours are coalesced into one run: one
 * positional read of up to RUN_BYTES in libuv's thread pool, then one check
 * request per run (each chunk still hashed against its own ID). The main
 * thread only plans: it fills the next pack while earlier runs are read,
 * hashed and written, and it never waits on a read. (Reading synchronously
 * on the main thread held up the event loop, and with it the writes and
 * checks of the packs already filled.)
 *
 * Every byte sent is still verified against its ID before its pack leaves:
 * `take` hands the promises of a pack's reads and checks to the caller,
 * which uploads that pack only once they settle.
 */
import * as fs from 'node:fs';
import type { ObjectId } from '../core/id.js';
import type { HashPool, HashRange } from '../objects/hash-pool.js';

/** A run is read in one call, and checked in one worker request, up to this size. */
const RUN_BYTES = 8 << 20;

/** ChunkFaults makes the errors of a failed run (push.ts owns their wording). */
export interface ChunkFaults {
  /** The cached file cannot be opened. */
  missing(id: ObjectId): Error;
  /** The cached file ends before the chunk does. */
  shorter(file: string, id: ObjectId): Error;
  /** The chunk's bytes do not hash to its ID. */
  corrupt(id: ObjectId): Error;
}

interface Run {
  file: string;
  /** Where the run starts in the file. */
  offset: number;
  /** The pack buffer's memory, and where the run starts in it. */
  memory: ArrayBufferLike;
  at: number;
  length: number;
  /** Each chunk, relative to the run's start. */
  ranges: HashRange[];
}

export class ChunkReads {
  private run: Run | undefined;
  private started: Promise<void>[] = [];

  constructor(
    private readonly pool: HashPool,
    private readonly faults: ChunkFaults,
  ) {}

  /**
   * add schedules chunk `id`: the bytes of `file` at `offset` go into `slot`
   * (a view of a pack buffer that must not be reused until the chunk's
   * promise, from `take`, settles).
   */
  add(slot: Buffer, file: string, offset: number, id: ObjectId): void {
    const r = this.run;
    if (r && r.file === file && r.memory === slot.buffer && r.offset + r.length === offset && r.at + r.length === slot.byteOffset && r.length + slot.length <= RUN_BYTES) {
      r.ranges.push({ start: r.length, end: r.length + slot.length, id });
      r.length += slot.length;
      return;
    }
    this.flush();
    this.run = { file, offset, memory: slot.buffer, at: slot.byteOffset, length: slot.length, ranges: [{ start: 0, end: slot.length, id }] };
  }

  /** take returns the reads and checks of every chunk added since the last take (all started now). */
  take(): Promise<void>[] {
    this.flush();
    const started = this.started;
    this.started = [];
    return started;
  }

  private flush(): void {
    const r = this.run;
    this.run = undefined;
    if (!r) return;
    const p = this.readAndCheck(r);
    p.catch(() => {}); // observed through `take` before the pack is sent
    this.started.push(p);
  }

  private async readAndCheck(r: Run): Promise<void> {
    const into = Buffer.from(r.memory as ArrayBuffer, r.at, r.length);
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(r.file, 'r');
    } catch {
      throw this.faults.missing(r.ranges[0].id);
    }
    try {
      let done = 0;
      while (done < r.length) {
        const { bytesRead } = await fh.read(into, done, r.length - done, r.offset + done);
        if (bytesRead === 0) throw this.faults.shorter(r.file, r.ranges.find((x) => x.end > done)!.id);
        done += bytesRead;
      }
    } finally {
      await fh.close();
    }
    const bad = await this.pool.verify(into, r.ranges);
    if (bad >= 0) throw this.faults.corrupt(r.ranges[bad].id);
  }
}
