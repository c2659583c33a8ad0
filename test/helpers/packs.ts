// Reading remote packs the way a leak check must: a compressed object's
// bytes are not in a pack file as they are, so a search for erased values
// (or any content) must look at what each object decompresses to. Written
// from the documented format (docs/formats.md, "Packs"), not from lode's
// reader, so it can tell when that reader is wrong.

import fs from 'node:fs';
import zlib from 'node:zlib';

/**
 * expandPack returns the pack's bytes followed by every compressed object's
 * decompressed bytes (index version 2); a pack with an index of version 1,
 * or none, comes back as it is.
 */
export function expandPack(pack: Buffer, index: Buffer | undefined): Buffer {
  if (!index || index.subarray(0, 5).toString('latin1') !== 'LODX\x02') return pack;
  const count = index.readUInt32BE(37);
  const out: Buffer[] = [pack];
  for (let i = 0, pos = 41; i < count; i++, pos += 57) {
    const offset = Number(index.readBigUInt64BE(pos + 32));
    const length = index.readUInt32BE(pos + 40);
    if (index[pos + 48] === 1) out.push(zlib.brotliDecompressSync(pack.subarray(offset, offset + length)));
  }
  return Buffer.concat(out);
}

/** readExpanded reads a file; a `.pack` beside its `.idx` comes back expanded (expandPack). */
export function readExpanded(file: string): Buffer {
  const bytes = fs.readFileSync(file);
  if (!file.endsWith('.pack')) return bytes;
  const idx = file.replace(/\.pack$/, '.idx');
  return expandPack(bytes, fs.existsSync(idx) ? fs.readFileSync(idx) : undefined);
}

/** expandBucket replaces each `.pack` of a listing (key -> bytes) by its expanded bytes. */
export function expandBucket(objects: Map<string, Buffer>): Map<string, Buffer> {
  const out = new Map(objects);
  for (const [k, v] of objects) if (k.endsWith('.pack')) out.set(k, expandPack(v, objects.get(k.replace(/\.pack$/, '.idx'))));
  return out;
}
