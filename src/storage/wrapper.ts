/**
 * BackendWrapper embeds a Backend and forwards every call to it unchanged:
 * `location`, `maxConnections`, `conditionalWrites`, save, load, stat, list,
 * remove and close. A wrapper (retries, injected faults) extends it and
 * overrides only the calls it changes, as restic's backend wrappers embed the
 * backend they wrap.
 */
import type { Backend, BlobInfo, Range, RemoveOptions, SaveOptions } from './backend.js';

export class BackendWrapper implements Backend {
  constructor(readonly inner: Backend) {}

  get location(): string {
    return this.inner.location;
  }
  get maxConnections(): number {
    return this.inner.maxConnections;
  }
  get conditionalWrites(): boolean {
    return this.inner.conditionalWrites;
  }

  save(key: string, data: Uint8Array, options?: SaveOptions): Promise<{ etag: string }> {
    return this.inner.save(key, data, options);
  }

  load(key: string, range?: Range, into?: Buffer): Promise<Buffer> {
    return this.inner.load(key, range, into);
  }

  stat(key: string): Promise<BlobInfo | undefined> {
    return this.inner.stat(key);
  }

  list(prefix: string): AsyncIterable<BlobInfo> {
    return this.inner.list(prefix);
  }

  remove(key: string, options?: RemoveOptions): Promise<void> {
    return this.inner.remove(key, options);
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}
