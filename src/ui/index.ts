/**
 * ui — renders command results and progress for people: text lines, and
 * progress as plain lines or (on a TTY only, loaded lazily) ink. May import
 * commands' result types and core; never runs commands itself.
 */
export * from './progress.js';
export * from './text.js';
