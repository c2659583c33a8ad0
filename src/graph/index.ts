/**
 * graph — trees, commits, refs, diffs of trees, history and reachability.
 * May import core, storage and objects (stores only through their interfaces, e.g. ObjectReader).
 */
export * from './refs.js';
export * from './trees.js';
export * from './reader-trees.js';
export * from './diff.js';
export * from './commits.js';
export * from './merge.js';
