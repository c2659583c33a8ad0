import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The row index of one side of a table diff: for every row, the hash of its
 * key, the hash of its values, its row number and the position to fetch it
 * again. Entries are spread over partitions by key hash, so that the two sides
 * can be compared one partition at a time; a partition whose buffer fills is
 * appended to a file of its own, which bounds memory whatever the row count.
 */

/** ENTRY_WORDS is the size of one entry in 32-bit words: kLo kHi rLo rHi row posLo posHi. */
export const ENTRY_WORDS = 7;
export const ENTRY_BYTES = ENTRY_WORDS * 4;
/** ROW_ENTRY_WORDS is the size of an entry of a layout with `rowPositions`: kLo kHi rLo rHi row (the position is row - 1). */
export const ROW_ENTRY_WORDS = 5;
const TWO_32 = 0x1_0000_0000;

/** IndexLayout fixes how entries are partitioned and when they spill; both sides of a diff use the same one. */
export interface IndexLayout {
  parts: number;
  /** Entries a partition holds in memory before it is appended to its file. */
  capacity: number;
  /** Directory for partition files (created on the first spill). */
  dir: string;
  /** Distinguishes the sides' files: `before`, `after`. */
  tag: string;
  /**
   * Every row's position is its row index (row - 1, as a Parquet reader
   * gives): entries leave it out, 5 words instead of 7, so that the index
   * writes, holds and reads back 2/7 less.
   */
  rowPositions?: boolean;
}

/** entryWords is the size of one entry of `layout` in 32-bit words. */
export function entryWords(layout: IndexLayout): number {
  return layout.rowPositions === true ? ROW_ENTRY_WORDS : ENTRY_WORDS;
}

/** IndexSnapshot is an index handed from a scan to the comparison (it can cross a worker boundary). */
export interface IndexSnapshot {
  layout: IndexLayout;
  /** Entries in memory per partition (a copy of exactly the used words). */
  memory: Uint32Array[];
  /** Number of entries in each partition's file. */
  spilled: number[];
  entries: number;
}

/** Up to this many partitions, a writer keeps each spilled partition's file open rather than opening it per spill. */
const MAX_OPEN_PARTITIONS = 256;

/** partitionOf maps a key hash (high lane) to a partition; `parts` is a power of two. */
export function partitionOf(kHi: number, parts: number): number {
  return Math.floor((kHi * parts) / TWO_32);
}

/** RowIndexWriter collects the entries of one side. */
export class RowIndexWriter {
  private readonly bufs: Uint32Array[];
  private readonly used: Int32Array;
  private readonly spilled: number[];
  private entries = 0;
  /** partitionOf as a shift: the partition is the top log2(parts) bits of kHi (-1 for one partition). */
  private readonly shift: number;
  /** Words a partition's buffer holds at most. */
  private readonly maxWords: number;
  /** Words per entry (see entryWords). */
  private readonly words: number;
  /** By partition: the open handle of its file, from its first spill (see MAX_OPEN_PARTITIONS). */
  private readonly fds: (number | undefined)[] = [];
  private spilling = false;

  constructor(readonly layout: IndexLayout) {
    this.shift = layout.parts === 1 ? -1 : 32 - Math.log2(layout.parts);
    if (this.shift !== -1 && (!Number.isInteger(this.shift) || this.shift < 1)) throw new Error(`the partition count ${layout.parts} is not a power of two`);
    this.words = entryWords(layout);
    this.maxWords = layout.capacity * this.words;
    this.bufs = Array.from({ length: layout.parts }, () => new Uint32Array(0));
    this.used = new Int32Array(layout.parts);
    this.spilled = new Array<number>(layout.parts).fill(0);
  }

  /** add records one row; `pos` is a byte offset or row index below 2^53 (with `rowPositions`, row - 1). */
  add(kLo: number, kHi: number, rLo: number, rHi: number, row: number, pos: number): void {
    const W = this.words;
    // The same as partitionOf(kHi, parts).
    const p = this.shift < 0 ? 0 : kHi >>> this.shift;
    let buf = this.bufs[p];
    let at = this.used[p];
    if (at + W > buf.length) {
      if (buf.length >= this.maxWords) {
        this.spill(p);
        at = 0;
      } else {
        const bigger = new Uint32Array(Math.min(Math.max(buf.length * 2, 256 * W), this.maxWords));
        bigger.set(buf.subarray(0, at));
        this.bufs[p] = buf = bigger;
      }
    }
    buf[at] = kLo;
    buf[at + 1] = kHi;
    buf[at + 2] = rLo;
    buf[at + 3] = rHi;
    buf[at + 4] = row;
    if (W === ROW_ENTRY_WORDS) {
      if (pos !== row - 1) throw new Error(`row index: row ${row} has position ${pos} in a layout whose positions are row indexes`);
    } else {
      // Not `pos % TWO_32`: a floating-point remainder costs more than the rest of add.
      const high = Math.floor(pos / TWO_32);
      buf[at + 5] = pos - high * TWO_32;
      buf[at + 6] = high;
    }
    this.used[p] = at + W;
    this.entries++;
  }

  /**
   * addRows records rows `first` to `first + n - 1` as `add` would one by
   * one: row i's key hash is (kLo[i], kHi[i]) (its value hash when `kLo` is
   * `rLo`), its value hash (rLo[i], rHi[i]), its position positions[i]. One
   * loop with the partition state in locals: the scan calls it per batch.
   */
  addRows(kLo: Uint32Array, kHi: Uint32Array, rLo: Uint32Array, rHi: Uint32Array, first: number, positions: Float64Array, n: number): void {
    const shift = this.shift;
    const used = this.used;
    const bufs = this.bufs;
    const W = this.words;
    const rows = W === ROW_ENTRY_WORDS;
    let fast = 0;
    for (let i = 0; i < n; i++) {
      const hiKey = kHi[i];
      const p = shift < 0 ? 0 : hiKey >>> shift;
      const buf = bufs[p];
      const at = used[p];
      const pos = positions[i];
      if (at + W > buf.length || (rows && pos !== first + i - 1)) {
        // A full buffer: add grows or spills it (and counts the entry); a position that is not the row index, add refuses.
        this.add(kLo[i], hiKey, rLo[i], rHi[i], first + i, positions[i]);
        continue;
      }
      fast++;
      buf[at] = kLo[i];
      buf[at + 1] = hiKey;
      buf[at + 2] = rLo[i];
      buf[at + 3] = rHi[i];
      buf[at + 4] = first + i;
      if (!rows) {
        const high = Math.floor(pos / TWO_32);
        buf[at + 5] = pos - high * TWO_32;
        buf[at + 6] = high;
      }
      used[p] = at + W;
    }
    this.entries += fast;
  }

  private spill(p: number): void {
    const buf = this.bufs[p];
    const words = this.used[p];
    if (!this.spilling) {
      fs.mkdirSync(this.layout.dir, { recursive: true });
      this.spilling = true;
    }
    const bytes = Buffer.from(buf.buffer, buf.byteOffset, words * 4);
    if (this.layout.parts > MAX_OPEN_PARTITIONS) fs.appendFileSync(partitionFile(this.layout, p), bytes);
    else {
      // A partition spills many times: its file stays open from the first spill to the snapshot.
      if (this.fds[p] === undefined) this.fds[p] = fs.openSync(partitionFile(this.layout, p), 'a');
      for (let off = 0; off < bytes.length; ) off += fs.writeSync(this.fds[p], bytes, off, bytes.length - off);
    }
    this.spilled[p] += words / this.words;
    this.used[p] = 0;
  }

  /** close releases the partition files' handles (the files stay); snapshot closes them too. */
  close(): void {
    for (const [p, fd] of this.fds.entries()) {
      if (fd === undefined) continue;
      this.fds[p] = undefined;
      fs.closeSync(fd);
    }
  }

  /** snapshot ends writing and hands over the entries. */
  snapshot(): IndexSnapshot {
    this.close();
    const memory = this.bufs.map((b, p) => b.slice(0, this.used[p]));
    return { layout: this.layout, memory, spilled: [...this.spilled], entries: this.entries };
  }
}

export function partitionFile(layout: IndexLayout, p: number): string {
  return path.join(layout.dir, `${layout.tag}-${p}.idx`);
}

/** loadPartition returns every entry of partition `p`: the file's, then the memory's. */
export function loadPartition(snap: IndexSnapshot, p: number): Uint32Array {
  const mem = snap.memory[p];
  const n = snap.spilled[p];
  if (n === 0) return mem;
  const W = entryWords(snap.layout);
  const out = new Uint32Array(n * W + mem.length);
  const fd = fs.openSync(partitionFile(snap.layout, p), 'r');
  try {
    const bytes = n * W * 4;
    let off = 0;
    const view = new Uint8Array(out.buffer, 0, bytes);
    while (off < bytes) {
      const got = fs.readSync(fd, view, off, bytes - off, off);
      if (got === 0) throw new Error(`partition file ${partitionFile(snap.layout, p)} is shorter than written`);
      off += got;
    }
  } finally {
    fs.closeSync(fd);
  }
  out.set(mem, n * W);
  return out;
}

/** removePartitions deletes the side's partition files (the directory is the caller's). */
export function removePartitions(snap: IndexSnapshot): void {
  for (let p = 0; p < snap.layout.parts; p++) {
    if (snap.spilled[p] > 0) fs.rmSync(partitionFile(snap.layout, p), { force: true });
  }
}

/** entryPosition reads the fetch position of entry `i` of entries of `W` words (see entryWords). */
export function entryPosition(e: Uint32Array, i: number, W: number = ENTRY_WORDS): number {
  if (W === ROW_ENTRY_WORDS) return e[i * W + 4] - 1;
  return e[i * W + 6] * TWO_32 + e[i * W + 5];
}

/** PartitionVisitor receives what comparing one partition finds; indexes are entry numbers in the partition arrays. */
export interface PartitionVisitor {
  added(a: number): void;
  removed(b: number): void;
  modified(b: number, a: number): void;
  unchanged(count: number): void;
  /** Two entries of one side share a key (keyed comparison only). */
  duplicate(side: 'before' | 'after', first: number, second: number): void;
}

/**
 * Scratch tables of comparePartition, kept from call to call: a diff
 * compares hundreds of partitions, and a fresh table of a few MiB for each
 * costs its allocation, its zeroing and its page faults.
 */
let slotScratch: Int32Array = new Int32Array(0);
let matchScratch: Int32Array = new Int32Array(0);

/** scratch gives `n` elements of `buf` (grown when too short, kept in `keep`) filled with -1. */
function scratch(buf: Int32Array, n: number, keep: (b: Int32Array) => void): Int32Array {
  if (buf.length < n) {
    buf = new Int32Array(n);
    keep(buf);
  }
  return buf.subarray(0, n).fill(-1);
}

function tableSize(n: number): number {
  let size = 16;
  while (size < n * 2) size *= 2;
  return size;
}

/**
 * comparePartition matches the entries of one partition. Keyed: by key hash,
 * a key seen twice on one side is reported as a duplicate and not matched
 * again; matched rows with different value hashes are modified. Keyless: the
 * key hash is the value hash and rows match as a multiset, so n copies of a
 * row on one side and m on the other leave |n - m| added or removed.
 * `v` must not call comparePartition (its tables are shared scratch).
 */
export function comparePartition(before: Uint32Array, after: Uint32Array, keyed: boolean, v: PartitionVisitor, W: number = ENTRY_WORDS): void {
  const nb = before.length / W;
  const na = after.length / W;
  if (keyed) {
    // One table for both sides: before entries as their index, after entries
    // (keys the before side lacks) as nb + their index, so that a key seen
    // twice on the after side is found with a single probe sequence.
    const bsize = tableSize(nb + na);
    const bmask = bsize - 1;
    const both = scratch(slotScratch, bsize, (b) => (slotScratch = b));
    for (let i = 0; i < nb; i++) {
      const lo = before[i * W];
      const hi = before[i * W + 1];
      let s = lo & bmask;
      let dup = -1;
      for (let j = both[s]; j !== -1; j = both[s]) {
        if (before[j * W] === lo && before[j * W + 1] === hi) {
          dup = j;
          break;
        }
        s = (s + 1) & bmask;
      }
      if (dup >= 0) v.duplicate('before', dup, i);
      else both[s] = i;
    }
    // For each before entry, the after entry matched to it, or -1.
    const matchedBy = scratch(matchScratch, nb, (b) => (matchScratch = b));
    let same = 0;
    for (let i = 0; i < na; i++) {
      const lo = after[i * W];
      const hi = after[i * W + 1];
      let s = lo & bmask;
      let found = -1;
      for (let j = both[s]; j !== -1; j = both[s]) {
        const e = j < nb ? before : after;
        const at = (j < nb ? j : j - nb) * W;
        if (e[at] === lo && e[at + 1] === hi) {
          found = j;
          break;
        }
        s = (s + 1) & bmask;
      }
      if (found === -1) {
        both[s] = nb + i;
        v.added(i);
        continue;
      }
      if (found >= nb) {
        v.duplicate('after', found - nb, i);
        continue;
      }
      const b = found;
      if (matchedBy[b] !== -1) {
        v.duplicate('after', matchedBy[b], i);
        continue;
      }
      matchedBy[b] = i;
      if (before[b * W + 2] === after[i * W + 2] && before[b * W + 3] === after[i * W + 3]) same++;
      else v.modified(b, i);
    }
    if (same > 0) v.unchanged(same);
    for (let i = 0; i < nb; i++) if (matchedBy[i] === -1 && isFirst(both, before, i, bmask, nb, W)) v.removed(i);
    return;
  }
  const size = tableSize(nb);
  const mask = size - 1;
  const table = new Int32Array(size).fill(-1);
  // Keyless: a slot per distinct row, with how many copies each side has.
  const count = new Int32Array(size);
  const taken = new Int32Array(size);
  const slotOf = new Int32Array(nb);
  for (let i = 0; i < nb; i++) {
    const lo = before[i * W];
    const hi = before[i * W + 1];
    let s = lo & mask;
    for (let j = table[s]; j !== -1; j = table[s]) {
      if (before[j * W] === lo && before[j * W + 1] === hi) break;
      s = (s + 1) & mask;
    }
    if (table[s] === -1) table[s] = i;
    count[s]++;
    slotOf[i] = s;
  }
  let same = 0;
  for (let i = 0; i < na; i++) {
    const lo = after[i * W];
    const hi = after[i * W + 1];
    let found = -1;
    for (let s = lo & mask, j = table[s]; j !== -1; s = (s + 1) & mask, j = table[s]) {
      if (before[j * W] === lo && before[j * W + 1] === hi) {
        found = s;
        break;
      }
    }
    if (found >= 0 && taken[found] < count[found]) {
      taken[found]++;
      same++;
    } else v.added(i);
  }
  if (same > 0) v.unchanged(same);
  // The first `taken` copies of each row count as unchanged, the rest as removed.
  for (let i = 0; i < nb; i++) {
    const s = slotOf[i];
    if (taken[s] > 0) taken[s]--;
    else v.removed(i);
  }
}

/** isFirst: before entry `i` is the one the table holds for its key (a later duplicate is not); slots from `nb` on hold after entries. */
function isFirst(table: Int32Array, e: Uint32Array, i: number, mask: number, nb: number, W: number): boolean {
  const lo = e[i * W];
  const hi = e[i * W + 1];
  for (let s = lo & mask, j = table[s]; j !== -1; s = (s + 1) & mask, j = table[s]) {
    if (j < nb && e[j * W] === lo && e[j * W + 1] === hi) return j === i;
  }
  return false;
}
