/**
 * repo — opening a repository: finding `.lode/`, config, the lock, and the
 * composition of store, refs and index; and what several commands share on
 * top of it: revision resolution (lode or git), snapshots to compare, the
 * author of a commit. May import every layer below it.
 */
export * from './config.js';
export * from './lock.js';
export * from './repository.js';
export * from './revisions.js';
export * from './snapshot.js';
export * from './author.js';
