/**
 * storage — where bytes live: atomic local files now; the Backend contract and
 * its directory, S3 and memory implementations for remotes. Knows nothing of
 * trees or commits. May import core only.
 */
export * from './atomic.js';
export * from './owner.js';
export * from './backend.js';
export * from './memory.js';
export * from './dir.js';
export * from './wrapper.js';
export * from './retry.js';
export * from './registry.js';
