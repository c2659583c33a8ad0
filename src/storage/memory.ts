/**
 * MemoryBackend keeps blobs in a Map: the reference implementation of the
 * Backend contract, for tests and for wrapping in fault injectors.
 */
import { createHash } from 'node:crypto';
import { NotFoundError, RefConflictError } from '../core/errors.js';
import { checkRange, validateKey, validatePrefix, type Backend, type BlobInfo, type Range, type RemoveOptions, type SaveOptions } from './backend.js';

export class MemoryBackend implements Backend {
  readonly location: string;
  readonly maxConnections = 64;
  readonly conditionalWrites = true;
  private readonly blobs = new Map<string, { data: Buffer; etag: string }>();

  constructor(name = 'memory') {
    this.location = name;
  }

  async save(key: string, data: Uint8Array, options: SaveOptions = {}): Promise<{ etag: string }> {
    validateKey(key);
    const cur = this.blobs.get(key);
    if (options.ifNoneMatch && cur) throw new RefConflictError(`${key} already exists in ${this.location}`);
    if (options.ifMatch !== undefined && cur?.etag !== options.ifMatch) throw new RefConflictError(`${key} changed in ${this.location}`);
    const copy = Buffer.from(data);
    const etag = createHash('sha256').update(copy).digest('hex');
    this.blobs.set(key, { data: copy, etag });
    return { etag };
  }

  async load(key: string, range?: Range): Promise<Buffer> {
    validateKey(key);
    const cur = this.blobs.get(key);
    if (!cur) throw new NotFoundError(`${key} is not in ${this.location}`);
    if (!range) return Buffer.from(cur.data);
    checkRange(range, cur.data.length, key);
    return Buffer.from(cur.data.subarray(range.offset, range.offset + range.length));
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    validateKey(key);
    const cur = this.blobs.get(key);
    return cur ? { key, size: cur.data.length, etag: cur.etag } : undefined;
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    validatePrefix(prefix);
    for (const [key, b] of [...this.blobs]) if (key.startsWith(prefix)) yield { key, size: b.data.length, etag: b.etag };
  }

  async remove(key: string, options: RemoveOptions = {}): Promise<void> {
    validateKey(key);
    if (options.ifMatch !== undefined && this.blobs.get(key)?.etag !== options.ifMatch) throw new RefConflictError(`${key} changed in ${this.location}`);
    this.blobs.delete(key);
  }
}
