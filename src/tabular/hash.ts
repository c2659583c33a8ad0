/**
 * Value hashing for the table diff: a 64-bit hash of a string as two 32-bit
 * lanes, computed in plain JavaScript so that hashing millions of short cell
 * values costs no call into native code or WASM per value.
 *
 * These hashes identify rows and cells inside one diff run only; they are never
 * stored and never used as object IDs (those are SHA-256, see core/id.ts).
 */

/** hashLo and hashHi hold the two lanes of the last hashString result (live bindings, no allocation per call). */
export let hashLo = 0;
export let hashHi = 0;

/**
 * hashString hashes `s` into `hashLo`/`hashHi`: two murmur3-style lanes with
 * different constants over UTF-16 code units, two units per step, crossed in
 * the finaliser so that both lanes depend on every unit.
 */
export function hashString(s: string): void {
  const len = s.length;
  let h1 = 0x9747b28c ^ len;
  let h2 = 0x2f8a5e1d ^ Math.imul(len, 0x27d4eb2f);
  let i = 0;
  for (; i + 1 < len; i += 2) {
    const k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    let k1 = Math.imul(k, 0xcc9e2d51);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, 0x1b873593);
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    let k2 = Math.imul(k, 0x85ebca77);
    k2 = (k2 << 17) | (k2 >>> 15);
    h2 ^= Math.imul(k2, 0xc2b2ae3d);
    h2 = (h2 << 15) | (h2 >>> 17);
    h2 = (Math.imul(h2, 5) + 0x52dce729) | 0;
  }
  if (i < len) {
    const k = s.charCodeAt(i);
    let k1 = Math.imul(k, 0xcc9e2d51);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, 0x1b873593);
    let k2 = Math.imul(k, 0x85ebca77);
    k2 = (k2 << 17) | (k2 >>> 15);
    h2 ^= Math.imul(k2, 0xc2b2ae3d);
  }
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  hashLo = h1 >>> 0;
  hashHi = h2 >>> 0;
}

/**
 * hashBytes hashes b[from, to) into `hashLo`/`hashHi`, four bytes per step.
 * Used for whole CSV rows and cells, straight from the bytes read. Each word
 * goes into both lanes, each lane a bijection of its state for a given word
 * (multiply by an odd constant, fold the high bits down), so that inputs that
 * differ in one word never collide; the finaliser crosses the lanes.
 */
export function hashBytes(b: Uint8Array, from: number, to: number): void {
  if (b !== viewOf) {
    viewOf = b;
    view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  const v = view;
  const len = to - from;
  let h1 = 0x3c6ef372 ^ len;
  let h2 = 0xa54ff53a ^ Math.imul(len, 0x27d4eb2f);
  let i = from;
  for (; i + 3 < to; i += 4) {
    const w = v.getInt32(i, true);
    h1 = Math.imul(h1 ^ w, 0x9e3779b1);
    h1 ^= h1 >>> 15;
    h2 = Math.imul(h2 + w, 0x85ebca77);
    h2 ^= h2 >>> 13;
  }
  if (i < to) {
    let w = 0;
    for (let shift = 0; i < to; i++, shift += 8) w |= b[i] << shift;
    h1 = Math.imul(h1 ^ w, 0x9e3779b1);
    h2 = Math.imul(h2 + w, 0x85ebca77);
  }
  h1 = fmix32(h1);
  h2 = fmix32(h2 ^ h1);
  h1 = (h1 + h2) | 0;
  hashLo = h1 >>> 0;
  hashHi = h2;
}

let viewOf: Uint8Array | null = null;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/** hashNumber's seeds, xored with its tag (scan.ts computes it in place for columns of numbers). */
export const NUMBER_SEED_LO = 0x6a09e667;
export const NUMBER_SEED_HI = 0xbb67ae85;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/**
 * hashNumber hashes a number by its IEEE-754 bits (with -0 as 0 and one NaN), tagged by
 * `tag`: far cheaper than hashing its decimal text.
 */
export function hashNumber(x: number, tag: number): void {
  f64[0] = x === 0 ? 0 : x;
  let lo = u32[0];
  let hi = u32[1];
  // One NaN: a NaN's payload bits are whatever the file or the engine left there.
  if (x !== x) {
    hi = 0x7ff80000;
    lo = 0;
  }
  // Three mixes, each a bijection of 32 bits: the two lanes together are a
  // bijection of the number's 64 bits, so distinct numbers never collide.
  const m = mix32(hi ^ tag ^ NUMBER_SEED_LO);
  hashLo = fmix32(lo ^ m);
  hashHi = fmix32(hashLo ^ m ^ tag ^ NUMBER_SEED_HI);
}

/** fmix32 is murmur3's finaliser: every input bit affects every output bit. */
export function fmix32(h: number): number {
  return mix32(h) >>> 0;
}

/** mix32 is fmix32 with an int32 result (the same bits), which keeps hot loops in 32-bit arithmetic. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Salt is a pair of lanes that binds a hashed value to a column (or key position). */
export interface Salt {
  lo: number;
  hi: number;
}

/** saltOf derives the salt of a name, so that equal names on both sides of a diff get equal salts. */
export function saltOf(name: string): Salt {
  hashString(`\u0000column\u0000${name}`);
  return { lo: hashLo, hi: hashHi };
}

/** NULL_SALT stands for an empty value where one must take part in a hash (a key column's empty cell, a column's nulls). */
export const NULL_SALT: Salt = saltOf('\u0000null');

/**
 * mixInto adds the value hash (h1, h2), bound to a column or key position by
 * its salt (sLo, sHi), into lanes `lo[i]` and `hi[i]`. A row's value hash and
 * its key hash are such sums over its values: order-independent, so that a
 * side whose columns come in another order gives the same row hashes (see
 * SideScanner.foldColumn, where every such term is made).
 */
export function mixInto(lo: Uint32Array, hi: Uint32Array, i: number, h1: number, h2: number, sLo: number, sHi: number): void {
  lo[i] = (lo[i] + mix32(h1 ^ sLo)) | 0;
  hi[i] = (hi[i] + mix32(h2 ^ sHi)) | 0;
}
