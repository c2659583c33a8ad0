/**
 * graph — trees, commits, refs, diffs of trees, history and reachability.
 * May import core, storage and objects.
 */
export * from './refs.js';
export * from './trees.js';
export * from './diff.js';
export * from './commits.js';
export * from './merge.js';
