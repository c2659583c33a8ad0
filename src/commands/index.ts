/**
 * commands — one function per lode command: (repository, options, progress)
 * -> typed result. They never print, never exit and never import commander
 * or ink; src/index.ts picks the public ones by name (the library API). May import every layer
 * below (core … repo).
 */
export * from './init.js';
export * from './add.js';
export * from './rm.js';
export * from './status.js';
export * from './commit.js';
export * from './log.js';
export * from './diff.js';
export { checkout, type CheckoutOptions, type CheckoutResult } from './checkout.js';
export * from './refs.js';
export * from './maintenance.js';
export * from './config.js';
export * from './remote.js';
export * from './sync.js';
export * from './merge.js';
export * from './remote-fsck.js';
export { restorePinned, installHooks, mergeDriver, type RestorePinnedResult, type InstallHooksOptions, type InstallHooksResult, type MergeDriverResult } from './git.js';
export { pinHistory, type PinningCommit } from '../git/pin-file.js';
export { resolveRev, type ResolvedAny } from '../repo/revisions.js';
export { WORKSPACE_REV, INDEX_REV } from '../repo/snapshot.js';
