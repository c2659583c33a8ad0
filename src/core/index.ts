/**
 * core — IDs, hashing, chunking, canonical encodings, errors, progress events.
 * Pure: no file system, no network. May import nothing else in lode.
 */
export * from './errors.js';
export * from './id.js';
export * from './paths.js';
export * from './encoding.js';
export * from './record.js';
export * from './progress.js';
export * from './chunker.js';
export * from './checksum.js';
