/**
 * workspace — the files a user sees: scanning with ignore rules, the index
 * (staging area + stat cache), comparing them, and placing cached files back
 * (reflink / hardlink / copy). May import core, storage, objects and graph.
 */
export * from './index-file.js';
export * from './scan.js';
export * from './compare.js';
export * from './link.js';
export * from './gitignore.js';
export * from './parents.js';
