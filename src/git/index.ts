/**
 * git — living beside git: the pin file tracked by git, reading git
 * revisions and files at them, hooks and the merge driver's plumbing.
 * May import core, storage, objects, graph, workspace and sync.
 * isomorphic-git is loaded lazily, on the first call that needs it.
 */
export * from './pin.js';
export * from './git-repo.js';
export * from './pin-file.js';
