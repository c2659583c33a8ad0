// Test helper: a BackendWrapper that passes every call to another one, with hooks
// that let a test interfere (fail a save, damage a read, hold a write).
// Deliberately small; not a general fault injector.

import type { Backend, Range, SaveOptions } from '../../src/storage/backend.js';
import { BackendWrapper } from '../../src/storage/wrapper.js';

export interface Hooks {
  /** Runs before a save; may throw, wait, or return other options to use instead. */
  save?: (key: string, data: Uint8Array, options: SaveOptions | undefined) => Promise<SaveOptions | undefined | void> | SaveOptions | undefined | void;
  /** Runs after a save completed (before it returns). */
  saved?: (key: string) => Promise<void> | void;
  /** May replace what a load returns. */
  load?: (key: string, data: Buffer, range?: Range) => Buffer;
}

export class HookedBackend extends BackendWrapper {
  constructor(
    inner: Backend,
    readonly hooks: Hooks = {},
  ) {
    super(inner);
  }

  override async save(key: string, data: Uint8Array, options?: SaveOptions): Promise<{ etag: string }> {
    const replaced = await this.hooks.save?.(key, data, options);
    const out = await this.inner.save(key, data, replaced === undefined ? options : replaced);
    await this.hooks.saved?.(key);
    return out;
  }

  override async load(key: string, range?: Range): Promise<Buffer> {
    const data = await this.inner.load(key, range);
    return this.hooks.load ? this.hooks.load(key, data, range) : data;
  }
}
