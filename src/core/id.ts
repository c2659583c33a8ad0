/**
 * Object IDs: the lowercase hex SHA-256 of an object's bytes. A file's ID is the
 * SHA-256 of its content when it is one chunk, or of its chunk-list encoding
 * when it has several (see encoding.ts).
 */
import * as crypto from 'node:crypto';

/** ObjectId is 64 lowercase hex digits. */
export type ObjectId = string;

export const ID_BYTES = 32;
const ID_RE = /^[0-9a-f]{64}$/;

/** isObjectId says whether `s` is a well-formed object ID. */
export function isObjectId(s: string): boolean {
  return ID_RE.test(s);
}

/**
 * One-shot hashing (Node 20.12 and later) makes no Hash object: a fifth
 * cheaper per 4 KiB object than createHash, which older Nodes fall back to.
 */
const hashOnce = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;

/** sha256 hashes `data` and returns its ObjectId. */
export function sha256(data: Uint8Array): ObjectId {
  return hashOnce ? hashOnce('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex');
}

/** idToBytes turns an ObjectId into its 32 raw bytes. */
export function idToBytes(id: ObjectId): Buffer {
  return Buffer.from(id, 'hex');
}

/**
 * writeId writes ObjectId `id` as its 32 raw bytes into `buf` at `offset`
 * (no Buffer made per ID, as idToBytes makes); throws unless `id` is 64 hex
 * digits' worth of bytes.
 */
export function writeId(buf: Buffer, offset: number, id: ObjectId): void {
  if (id.length !== 2 * ID_BYTES || buf.write(id, offset, ID_BYTES, 'hex') !== ID_BYTES) throw new RangeError(`not an object ID: ${id}`);
}

/** bytesToId reads 32 raw bytes at `offset` as an ObjectId. */
export function bytesToId(buf: Uint8Array, offset: number): ObjectId {
  return Buffer.from(buf.buffer, buf.byteOffset + offset, ID_BYTES).toString('hex');
}

/** shortId is the abbreviation shown to people (12 hex digits). */
export function shortId(id: ObjectId): string {
  return id.slice(0, 12);
}
