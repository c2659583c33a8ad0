/**
 * cli — commander wiring, error rendering and exit codes. The only layer that
 * writes to stdout/stderr or decides a process status.
 */
export { main } from './main.js';
export { EXIT, exitCodeFor } from './exit-codes.js';
