// Raw encoders for forged remotes: objects, packs, pack indexes and refs of a
// directory remote written byte by byte from docs/formats.md, so a remote can
// hold what lode itself never writes (tree entries named .git, dataset lines
// leaving the workspace, pack indexes pointing past their pack, chunk lists
// declaring gigabytes). They validate nothing on purpose. Plain ESM shared by
// e2e/forged-remote.test.ts and bench/torture/ (types in forge.d.ts).

import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import xxhashWasm from 'xxhash-wasm';

let h64;
/** ready loads the xxhash used by pack index checksums; await it once before writeRemote. */
export async function ready() {
  h64 ??= (await xxhashWasm()).h64Raw;
}

const sha = (b) => createHash('sha256').update(b).digest('hex');

function varint(n) {
  const out = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** obj: an object's bytes and ID. */
export const obj = (bytes) => ({ id: sha(bytes), bytes });

/** rawTree: "LODT" 1, varint count, then per entry kind, flags, size, [files], id, name; sorted by UTF-8 bytes. */
export function rawTree(entries) {
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const bytes = [...Buffer.from('LODT'), 1, ...varint(sorted.length)];
  for (const e of sorted) {
    bytes.push({ blob: 0x62, chunked: 0x63, tree: 0x74 }[e.kind], e.exec ? 1 : 0, ...varint(e.size));
    if (e.kind === 'tree') bytes.push(...varint(e.files ?? 1));
    const name = Buffer.from(e.name, 'utf8');
    bytes.push(...Buffer.from(e.id, 'hex'), ...varint(name.length), ...name);
  }
  return obj(Buffer.from(bytes));
}

/** rawCommit: the commit text, dataset lines written as given (even unsafe ones). */
export function rawCommit(tree, datasets, message = 'forged') {
  const lines = ['lode commit 1', `tree ${tree}`, 'author Mallory <m@example.com>', 'time 1700000000000', ...datasets.map((d) => `dataset ${d}`)];
  return obj(Buffer.from(`${lines.join('\n')}\n\n${message}\n`, 'utf8'));
}

/** rawChunkList: "LODC" 1, varint size, varint count, then per chunk varint size + id. */
export function rawChunkList(chunks) {
  const total = chunks.reduce((n, c) => n + c.size, 0);
  const bytes = [...Buffer.from('LODC'), 1, ...varint(total), ...varint(chunks.length)];
  for (const c of chunks) bytes.push(...varint(c.size), ...Buffer.from(c.id, 'hex'));
  return obj(Buffer.from(bytes));
}

/**
 * writeRemote writes one pack holding `objects` (and its index, each entry
 * passed through `entryOf` so a forger can corrupt it) and the branch refs
 * into the directory remote `dir`.
 */
export function writeRemote(dir, objects, refs, entryOf = (e) => e) {
  if (!h64) throw new Error('forge: await ready() first');
  const parts = [Buffer.from('LODP\x01', 'latin1'), randomBytes(16)];
  let offset = 21;
  const entries = [];
  const seen = new Set();
  for (const o of objects) {
    if (seen.has(o.id)) continue;
    seen.add(o.id);
    entries.push(entryOf({ id: o.id, offset, length: o.bytes.length }));
    parts.push(o.bytes);
    offset += o.bytes.length;
  }
  const pack = Buffer.concat(parts);
  const packId = sha(pack);
  entries.sort((a, b) => (a.id < b.id ? -1 : 1));
  const idx = Buffer.alloc(5 + 32 + 4 + entries.length * 44 + 8);
  let pos = idx.write('LODX\x01', 'latin1');
  pos += Buffer.from(packId, 'hex').copy(idx, pos);
  idx.writeUInt32BE(entries.length, pos);
  pos += 4;
  for (const e of entries) {
    pos += Buffer.from(e.id, 'hex').copy(idx, pos);
    idx.writeBigUInt64BE(BigInt(e.offset), pos);
    idx.writeUInt32BE(e.length, pos + 8);
    pos += 12;
  }
  idx.writeBigUInt64BE(h64(idx.subarray(0, pos)), pos);
  fs.mkdirSync(path.join(dir, 'packs'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'packs', `${packId}.pack`), pack);
  fs.writeFileSync(path.join(dir, 'packs', `${packId}.idx`), idx);
  for (const [ref, id] of Object.entries(refs)) {
    fs.mkdirSync(path.dirname(path.join(dir, 'refs', 'heads', ref)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'refs', 'heads', ref), `${id}\n`);
  }
  return { packId };
}
