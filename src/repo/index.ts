/**
 * repo — opening a repository: finding `.lode/`, config, the lock, and the
 * composition of store, refs and index. May import every layer below it.
 */
export * from './config.js';
export * from './lock.js';
export * from './repository.js';
export * from './revisions.js';
export * from './snapshot.js';
export * from './author.js';
