// Reading remote packs the way a leak check must: a compressed object's
// bytes are not in a pack file as they are, so a search for erased values
// (or any content) must look at what each object decompresses to. Written
// from the documented format (docs/formats.md, "Packs" and "Compressed
// packs"), not from lode's reader, so it can tell when that reader is wrong.
// Plain ESM JavaScript, shared by the e2e tests and bench/torture.
//
// Index version 2: "LODX" 0x02, pack ID (32), u32 count, then per object
// ID (32), u64 offset, u32 stored length, u32 size, u8 codec (0 raw,
// 1 brotli, 3 brotli over the column layout), u64 xxh64; then the index's
// u64 checksum.

import fs from 'node:fs';
import zlib from 'node:zlib';

export const INDEX_HEADER = 41;
export const INDEX_ENTRY = 57;

/** compressedEntries lists [offset, stored length, codec] of the compressed objects an index names (none for an index of version 1). */
export function compressedEntries(index) {
  if (index.length < INDEX_HEADER || index.subarray(0, 5).toString('latin1') !== 'LODX\x02') return [];
  const out = [];
  const count = index.readUInt32BE(37);
  for (let i = 0, pos = INDEX_HEADER; i < count; i++, pos += INDEX_ENTRY) {
    if (index[pos + 48] !== 0) out.push([Number(index.readBigUInt64BE(pos + 32)), index.readUInt32BE(pos + 40), index[pos + 48]]);
  }
  return out;
}

/**
 * fromColumnLayout rebuilds an object from the column layout (codec 3, as
 * docs/formats.md describes it): delimiter byte, varint line count, a
 * varint field count per line, varint column count, a varint byte length
 * per column, the columns (each field followed by '\n'), then the tail.
 */
export function fromColumnLayout(b) {
  let at = 1;
  const varint = () => {
    let v = 0;
    for (let shift = 1; ; shift *= 128) {
      const x = b[at++];
      v += (x & 0x7f) * shift;
      if (x < 0x80) return v;
    }
  };
  const delimiter = String.fromCharCode(b[0]);
  const counts = Array.from({ length: varint() }, varint);
  const lengths = Array.from({ length: varint() }, varint);
  const columns = [];
  for (const len of lengths) {
    // Each column is its fields, each followed by '\n': split and drop the empty string after the last one.
    columns.push(b.subarray(at, at + len).toString('latin1').split('\n').slice(0, -1));
    at += len;
  }
  const next = columns.map(() => 0);
  let text = '';
  for (const k of counts) {
    const fields = [];
    for (let c = 0; c < k; c++) fields.push(columns[c][next[c]++]);
    text += `${fields.join(delimiter)}\n`;
  }
  return Buffer.concat([Buffer.from(text, 'latin1'), b.subarray(at)]);
}

function expandEntry(pack, [offset, length, codec]) {
  const inflated = zlib.brotliDecompressSync(pack.subarray(offset, offset + length));
  return codec === 3 ? fromColumnLayout(inflated) : inflated;
}

/**
 * expandPack returns the pack's bytes followed by every compressed object's
 * decompressed bytes (index version 2); a pack with an index of version 1,
 * or none, comes back as it is.
 */
export function expandPack(pack, index) {
  const entries = index ? compressedEntries(index) : [];
  if (entries.length === 0) return pack;
  return Buffer.concat([pack, ...entries.map((e) => expandEntry(pack, e))]);
}

/** readExpanded reads a file; a `.pack` beside its `.idx` comes back expanded (expandPack). */
export function readExpanded(file) {
  const bytes = fs.readFileSync(file);
  if (!file.endsWith('.pack')) return bytes;
  const idx = file.replace(/\.pack$/, '.idx');
  return expandPack(bytes, fs.existsSync(idx) ? fs.readFileSync(idx) : undefined);
}

/** expandBucket replaces each `.pack` of a listing (key -> bytes) by its expanded bytes. */
export function expandBucket(objects) {
  const out = new Map(objects);
  for (const [k, v] of objects) if (k.endsWith('.pack')) out.set(k, expandPack(v, objects.get(k.replace(/\.pack$/, '.idx'))));
  return out;
}
