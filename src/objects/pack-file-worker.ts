/**
 * Worker thread body for PackFilePool: writes one pack file per request.
 * Each object is read (a range of a cached file) into this thread's buffer,
 * checked against its ID, compressed where it pays and written at once,
 * while its bytes are still in this core's cache.
 */
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { loadXxhash, xxh64 } from '../core/checksum.js';
import { compressSync } from './codec.js';
import { finishPackFile, PACK_HEADER, type PackEntry } from './pack.js';
import type { PackFileFault, PackFileReply, PackFileRequest } from './pack-file-pool.js';

await loadXxhash();
let buf = Buffer.allocUnsafe(4 << 20);

class Fault extends Error {
  constructor(readonly fault: PackFileFault) {
    super(fault.kind);
  }
}

function writeAt(fd: number, data: Uint8Array, at: number): void {
  for (let done = 0; done < data.length; ) done += fs.writeSync(fd, data, done, data.length - done, at + done);
}

function writePack(m: PackFileRequest): PackFileReply {
  const header = Buffer.from(m.header.buffer, m.header.byteOffset, m.header.byteLength);
  const out = fs.openSync(m.file, 'wx');
  let source = -1;
  let sourcePath: string | undefined;
  try {
    writeAt(out, header, 0);
    let at = PACK_HEADER;
    const ordered: PackEntry[] = [];
    m.items.forEach((it, index) => {
      let raw: Buffer;
      if (it.bytes) raw = Buffer.from(it.bytes.buffer, it.bytes.byteOffset, it.bytes.byteLength);
      else {
        if (it.file !== sourcePath) {
          if (source >= 0) fs.closeSync(source);
          source = -1;
          sourcePath = it.file;
          try {
            source = fs.openSync(it.file!, 'r');
          } catch {
            throw new Fault({ kind: 'missing', index });
          }
        }
        if (buf.length < it.size) buf = Buffer.allocUnsafe(it.size);
        raw = buf.subarray(0, it.size);
        for (let done = 0; done < it.size; ) {
          const n = fs.readSync(source, raw, done, it.size - done, (it.offset ?? 0) + done);
          if (n === 0) throw new Fault({ kind: 'shorter', index });
          done += n;
        }
      }
      if (raw.length !== it.size || createHash('sha256').update(raw).digest('hex') !== it.id) throw new Fault({ kind: 'corrupt', index });
      const e: PackEntry = { id: it.id, offset: at, length: raw.length };
      let stored: Uint8Array = raw;
      const packed = it.compress ? compressSync(raw) : undefined;
      if (packed) {
        stored = packed.bytes;
        e.size = raw.length;
        e.length = packed.bytes.length;
        e.codec = packed.codec;
        e.check = xxh64(packed.bytes);
      }
      writeAt(out, stored, at);
      at += stored.length;
      ordered.push(e);
    });
    const sealed = finishPackFile(header, ordered);
    if (sealed.compressed) writeAt(out, header, 0); // now version 3
    return { seq: m.seq, written: { ...sealed, size: at } };
  } finally {
    if (source >= 0) fs.closeSync(source);
    fs.closeSync(out);
  }
}

parentPort!.on('message', (m: PackFileRequest) => {
  let reply: PackFileReply;
  try {
    reply = writePack(m);
  } catch (e) {
    fs.rmSync(m.file, { force: true });
    reply = { seq: m.seq, fault: e instanceof Fault ? e.fault : { kind: 'io', index: -1, message: (e as Error).message, code: (e as { code?: string }).code } };
  }
  parentPort!.postMessage(reply);
});
