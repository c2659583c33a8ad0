/**
 * sync — remotes: what a remote has (its pack indexes), push (pack what is
 * missing, upload, move the ref last), fetch (ranged, coalesced, verified
 * reads). May import core, storage, objects, graph and workspace.
 */
export * from './remote-store.js';
export * from './push.js';
export * from './fetch.js';
export * from './gc.js';
export * from './open.js';
export * from './check.js';
