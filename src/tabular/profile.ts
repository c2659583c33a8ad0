import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { capabilitiesOf, openReader } from './formats.js';
import { comparePartition, ENTRY_BYTES, loadPartition, removePartitions } from './partitions.js';
import type { Batch, TableReader } from './reader.js';
import { scanSide } from './scan.js';
import type { ColumnType, TableFormat, TableInput } from './types.js';
import { KINDS_NUMERIC, kindOfBytes, kindOfText, textNumber, typeOfKinds } from './values.js';

/**
 * A table's profile for the data contract (`lode check`): one pass of the
 * diff's scanner (column statistics, and the key index when a unique key is
 * asked) gives row count, per-column type, nulls, numeric range and the
 * category counts; duplicate keys are counted partition by partition, in the
 * scanner's bounded memory. Numeric columns that drift rules compare get a
 * second, cheap pass that keeps a deterministic sample of their values.
 * The profile is plain JSON data, so that a caller can cache it by file ID.
 */

/** ColumnProfile is what the contract knows of one column. */
export interface ColumnProfile {
  name: string;
  type: ColumnType;
  nulls: number;
  /** Non-null values that are numbers, and their range (null without any). */
  numeric: number;
  min: number | null;
  max: number | null;
  /** Distinct non-null values with their counts, or null past the category limit. */
  categories: [string, number][] | null;
  /** With `sample`: up to SAMPLE_SIZE numeric values, sorted. */
  sample?: number[];
}

export interface TableProfile {
  rows: number;
  columns: ColumnProfile[];
  /** With `unique`: rows whose key was already seen in an earlier row. */
  duplicateKeys?: number;
}

export interface ProfileOptions {
  /** Key columns that must be unique together; absent: no duplicate count. */
  unique?: string[];
  /** Numeric columns to sample for distribution distances. */
  sample?: string[];
  /** Distinct values a column may have and still be counted per value (default 20, as the diff). */
  categoryLimit?: number;
  /** Scratch directory (partitions of a big table spill there). */
  tmpDir: string;
}

/** Numeric values kept per sampled column. */
export const SAMPLE_SIZE = 10_000;
const BUDGET = 32 << 20;

/**
 * profileTable reads `input` as `format` and profiles it. Throws TableError
 * when the file cannot be read as its format, and a TableError (code USAGE)
 * naming the column when `unique` or `sample` names a column the table lacks.
 */
export async function profileTable(format: TableFormat, input: TableInput, options: ProfileOptions): Promise<TableProfile> {
  const categoryLimit = options.categoryLimit ?? 20;
  const work = path.join(options.tmpDir, `profile-${randomBytes(6).toString('hex')}`);
  const reader = await openReader(format, input);
  try {
    // A key column the table lacks: no duplicate count (the contract reports the missing column).
    const wanted = options.unique && options.unique.length > 0 ? options.unique : null;
    const unique = wanted && (!reader.headerFirst || wanted.every((k) => reader.columns.includes(k))) ? wanted : null;
    const estimate = reader.estimateRows();
    let parts = 1;
    while (parts < 4096 && (estimate * ENTRY_BYTES * 3) / parts > BUDGET) parts *= 2;
    const capacity = Math.max(16, Math.floor(BUDGET / 4 / parts / ENTRY_BYTES));
    const can = capabilitiesOf(format);
    const scan = await scanSide(reader, {
      format,
      input,
      key: unique,
      rowHash: can.lineHashes ? 'line' : 'columns',
      hashed: null,
      stats: true,
      categoryLimit,
      layout: { parts, capacity, dir: work, tag: 'check' },
    });
    const columns: ColumnProfile[] = (scan.summaries ?? []).map((s) => ({
      name: s.name,
      type: typeOfKinds(s.kinds),
      nulls: scan.rows - s.nonNull,
      numeric: s.numCount,
      min: s.numCount > 0 ? s.min : null,
      max: s.numCount > 0 ? s.max : null,
      categories: s.categories ? [...s.categories].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)) : null,
    }));
    const profile: TableProfile = { rows: scan.rows, columns };
    if (unique) {
      let dups = 0;
      const none = new Uint32Array(0);
      for (let p = 0; p < parts; p++) {
        comparePartition(loadPartition(scan.index, p), none, true, {
          added: () => {},
          removed: () => {},
          modified: () => {},
          unchanged: () => {},
          duplicate: () => {
            dups++;
          },
        });
      }
      profile.duplicateKeys = dups;
    }
    removePartitions(scan.index);
    const sampled = (options.sample ?? []).filter((c) => columns.some((col) => col.name === c));
    if (sampled.length > 0) {
      const samples = await sampleColumns(reader, sampled);
      for (const col of columns) if (samples.has(col.name)) col.sample = samples.get(col.name);
    }
    return profile;
  } finally {
    await reader.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * sampleColumns keeps a reservoir of numeric values per column (Algorithm R
 * with a fixed-seed generator: the same file gives the same sample).
 */
async function sampleColumns(reader: TableReader, names: string[]): Promise<Map<string, number[]>> {
  const idx = names.map((n) => reader.columns.indexOf(n));
  const res = names.map(() => [] as number[]);
  const seen = names.map(() => 0);
  let state = 0x9e3779b9;
  const rand = () => {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
  const take = (k: number, x: number) => {
    if (!Number.isFinite(x)) return;
    const n = ++seen[k];
    if (n <= SAMPLE_SIZE) res[k].push(x);
    else {
      const j = Math.floor(rand() * n);
      if (j < SAMPLE_SIZE) res[k][j] = x;
    }
  };
  await reader.scan((b: Batch) => {
    const width = reader.columns.length;
    for (let k = 0; k < names.length; k++) {
      const c = idx[k] >= 0 ? idx[k] : reader.columns.indexOf(names[k]);
      idx[k] = c;
      if (c < 0) continue;
      if (b.cells) {
        const { bytes, starts, ends, escaped } = b.cells;
        for (let r = 0; r < b.n; r++) {
          const i = r * width + c;
          const s = starts[i];
          if (s < 0) {
            const text = escaped[-1 - s];
            if (text !== '' && KINDS_NUMERIC & kindOfText(text)) take(k, textNumber);
          } else if (ends[i] > s && KINDS_NUMERIC & kindOfBytes(bytes, s, ends[i])) take(k, textNumber);
        }
      } else {
        const col = b.columns[c];
        if (!col) continue;
        for (let r = 0; r < b.n; r++) {
          const v = col[r];
          if (typeof v === 'number') take(k, v);
          else if (typeof v === 'bigint') take(k, Number(v));
          else if (typeof v === 'string' && v !== '' && KINDS_NUMERIC & kindOfText(v)) take(k, textNumber);
        }
      }
    }
  });
  const out = new Map<string, number[]>();
  names.forEach((n, k) => out.set(n, res[k].sort((a, b) => a - b)));
  return out;
}

/** ksDistance is the two-sample Kolmogorov–Smirnov statistic of two sorted samples (0 when either is empty). */
export function ksDistance(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < a.length && j < b.length) {
    const x = Math.min(a[i], b[j]);
    while (i < a.length && a[i] <= x) i++;
    while (j < b.length && b[j] <= x) j++;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  return d;
}

/**
 * psi is the population stability index of `actual` against `expected`
 * (both sorted), over ten bins cut at the deciles of `expected`; empty bins
 * count as 0.0001 so that the logarithm stays finite.
 */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  if (expected.length === 0 || actual.length === 0) return 0;
  const cuts: number[] = [];
  for (let q = 1; q < 10; q++) {
    const c = expected[Math.min(expected.length - 1, Math.floor((q * expected.length) / 10))];
    if (cuts.length === 0 || c > cuts[cuts.length - 1]) cuts.push(c);
  }
  const share = (xs: readonly number[]) => {
    const counts = new Array<number>(cuts.length + 1).fill(0);
    for (const x of xs) {
      let k = 0;
      while (k < cuts.length && x >= cuts[k]) k++;
      counts[k]++;
    }
    return counts.map((n) => Math.max(n / xs.length, 0.0001));
  };
  const e = share(expected);
  const a = share(actual);
  let s = 0;
  for (let k = 0; k < e.length; k++) s += (a[k] - e[k]) * Math.log(a[k] / e[k]);
  return s;
}
