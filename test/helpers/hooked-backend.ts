// Test helper: a Backend that passes every call to another one, with hooks
// that let a test interfere (fail a save, damage a read, hold a write).
// Deliberately small; not a general fault injector.

import type { Backend, BlobInfo, Range, SaveOptions } from '../../src/storage/backend.js';

export interface Hooks {
  /** Runs before a save; may throw, wait, or return other options to use instead. */
  save?: (key: string, data: Uint8Array, options: SaveOptions | undefined) => Promise<SaveOptions | undefined | void> | SaveOptions | undefined | void;
  /** Runs after a save completed (before it returns). */
  saved?: (key: string) => Promise<void> | void;
  /** May replace what a load returns. */
  load?: (key: string, data: Buffer, range?: Range) => Buffer;
}

export class HookedBackend implements Backend {
  constructor(
    readonly inner: Backend,
    readonly hooks: Hooks = {},
  ) {}

  get location(): string {
    return this.inner.location;
  }
  get maxConnections(): number {
    return this.inner.maxConnections;
  }
  get conditionalWrites(): boolean {
    return this.inner.conditionalWrites;
  }

  async save(key: string, data: Uint8Array, options?: SaveOptions): Promise<{ etag: string }> {
    const replaced = await this.hooks.save?.(key, data, options);
    const out = await this.inner.save(key, data, replaced === undefined ? options : replaced);
    await this.hooks.saved?.(key);
    return out;
  }

  async load(key: string, range?: Range): Promise<Buffer> {
    const data = await this.inner.load(key, range);
    return this.hooks.load ? this.hooks.load(key, data, range) : data;
  }

  stat(key: string): Promise<BlobInfo | undefined> {
    return this.inner.stat(key);
  }

  list(prefix: string): AsyncIterable<BlobInfo> {
    return this.inner.list(prefix);
  }

  remove(key: string): Promise<void> {
    return this.inner.remove(key);
  }
}
