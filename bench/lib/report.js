// bench/lib/report.js: number formats, aligned tables on stdout, progress
// and warnings on stderr.

import { KiB, MiB } from './options.js';

export function fmt(v, digits = 0) {
  if (v === null || v === undefined) return 'n/a';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return 'n/a';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
export const fms = (ms) => (ms === null || ms === undefined ? 'n/a' : ms < 100 ? fmt(ms, 1) : fmt(ms, 0));
export const fmib = (kib) => (kib === null || kib === undefined ? 'n/a' : fmt(kib / 1024, 0));
export const fpct = (r) => (r === null || r === undefined || !Number.isFinite(r) ? 'n/a' : `${fmt(r * 100, 0)}%`);

/** table prints aligned columns: numbers (and n/a) right-aligned, text left-aligned. */
export function table(title, headers, rows, notes = []) {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? 'n/a' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => cells.length > 0 && cells.every((r) => /^[-+]?[\d,.]+(%|x| ms| s| files\/s)?$|^n\/a$|^-?$/.test(r[i] ?? '')));
  const line = (r) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(`\n## ${title}`);
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells) console.log(line(r));
  for (const n of notes) console.log(`   ${n}`);
}

export function log(msg) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export const warnings = [];
export function warn(msg) {
  warnings.push(msg);
  log(`WARNING: ${msg}`);
}

export const fsec = (ms) => (ms === null || ms === undefined ? 'n/a' : `${fmt(ms / 1000, ms < 10_000 ? 2 : 1)} s`);
export const fbytes = (b) => (b === null || b === undefined ? 'n/a' : b < 10 * MiB ? `${fmt(b / KiB, 0)} KiB` : `${fmt(b / MiB, 1)} MiB`);
export const fx = (r, lowerBound = false) => (r === null || r === undefined || !Number.isFinite(r) ? 'n/a' : `${lowerBound ? '> ' : ''}${fmt(r, r < 10 ? 1 : 0)}x`);
