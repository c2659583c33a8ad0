/**
 * objects — the content-addressed store over storage: the local cache of whole
 * files and metadata objects, ingest (chunk + hash + store), verified reads.
 * May import core and storage.
 */
export * from './reader.js';
export * from './store.js';
export * from './ingest.js';
export * from './ingest-pool.js';
export * from './pack.js';
export * from './split.js';
