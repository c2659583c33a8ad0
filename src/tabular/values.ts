import { hashNumber, hashString } from './hash.js';
import type { ColumnType } from './types.js';

/**
 * What a cell value is: its inferred kind, its canonical text (what equality
 * and hashing compare), its display text (category values) and its JSON-safe
 * form (row listings). CSV and TSV cells are untyped text whose kind is
 * inferred; JSON Lines and Parquet values carry their own type.
 */

export const KIND_INTEGER = 1;
export const KIND_NUMBER = 2;
export const KIND_BOOLEAN = 4;
export const KIND_STRING = 8;
export const KIND_DATE = 16;
export const KINDS_NUMERIC = KIND_INTEGER | KIND_NUMBER;

/**
 * ExactDecimal is a number with more significant digits than a double keeps
 * (a long Parquet DECIMAL), held as its exact text: an optional `-`, digits,
 * and a fraction without trailing zeros when not whole (`-1234567890123456.78`).
 * It is a number to every function here.
 */
export class ExactDecimal {
  constructor(readonly text: string) {}
}

/** isEmpty: the cell counts as null (missing, JSON null, or empty text). */
export function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

/**
 * kindOfText infers the kind of a non-empty untyped cell: integer (`-12`),
 * number (`1.5`, `.5`, `1e-3`), boolean (`true`/`false`, any case), date
 * (ISO `yyyy-mm-dd`, optionally followed by `T` or a space and a time), or
 * string. Surrounding spaces make a cell a string.
 */
export function kindOfText(s: string): number {
  const len = s.length;
  const c0 = s.charCodeAt(0);
  if ((c0 >= 48 && c0 <= 57) || c0 === 45 || c0 === 43 || c0 === 46) {
    if (len >= 10 && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45) return isIsoDate(s) ? KIND_DATE : KIND_STRING;
    return kindOfNumberText(s);
  }
  if (len === 4 || len === 5) {
    const l = s.toLowerCase();
    if (l === 'true' || l === 'false') return KIND_BOOLEAN;
  }
  return KIND_STRING;
}

/** textNumber holds the value of the last cell kindOfText found numeric (a live binding: no allocation per cell). */
export let textNumber = 0;

/** Exact powers of ten: a mantissa below 2^53 divided by one of these is correctly rounded, as Number() would give. */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * kindOfNumberText checks the number syntax and computes the value on the way,
 * because Number(text) on millions of cells costs more than the scan itself.
 * Values with more than 15 digits or an exponent go through Number().
 */
function kindOfNumberText(s: string): number {
  const len = s.length;
  let i = 0;
  let c = s.charCodeAt(0);
  let negative = false;
  if (c === 45 || c === 43) {
    negative = c === 45;
    c = s.charCodeAt(++i);
  }
  let digits = 0;
  let mantissa = 0;
  while (c >= 48 && c <= 57) {
    digits++;
    mantissa = mantissa * 10 + (c - 48);
    c = s.charCodeAt(++i);
  }
  if (i === len) {
    if (digits === 0) return KIND_STRING;
    textNumber = digits <= 15 ? (negative ? -mantissa : mantissa) : Number(s);
    return KIND_INTEGER;
  }
  let fraction = 0;
  if (c === 46) {
    c = s.charCodeAt(++i);
    while (c >= 48 && c <= 57) {
      digits++;
      fraction++;
      mantissa = mantissa * 10 + (c - 48);
      c = s.charCodeAt(++i);
    }
  }
  if (digits === 0) return KIND_STRING;
  let exact = digits <= 15;
  if (c === 101 || c === 69) {
    exact = false;
    c = s.charCodeAt(++i);
    if (c === 45 || c === 43) c = s.charCodeAt(++i);
    let exp = 0;
    while (c >= 48 && c <= 57) {
      exp++;
      c = s.charCodeAt(++i);
    }
    if (exp === 0) return KIND_STRING;
  }
  if (i !== len) return KIND_STRING;
  if (exact) {
    const v = mantissa / POW10[fraction];
    textNumber = negative ? -v : v;
  } else textNumber = Number(s);
  return KIND_NUMBER;
}

/** isIsoDate: `yyyy-mm-dd` with a plausible month and day, then nothing or `T`/space and anything. */
export function isIsoDate(s: string): boolean {
  if (s.length < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false;
  for (const i of [0, 1, 2, 3, 5, 6, 8, 9]) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  const month = (s.charCodeAt(5) - 48) * 10 + (s.charCodeAt(6) - 48);
  const day = (s.charCodeAt(8) - 48) * 10 + (s.charCodeAt(9) - 48);
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  if (s.length === 10) return true;
  const t = s.charCodeAt(10);
  return t === 84 || t === 32;
}

/**
 * kindOfBytes is kindOfText for the UTF-8 bytes b[s, e) of a non-empty cell,
 * with the same result and the same `textNumber`, so that CSV cells need no
 * string of their own. Any non-ASCII byte makes a cell a string, as it does
 * for kindOfText (no number, date or boolean holds one).
 */
export function kindOfBytes(b: Uint8Array, s: number, e: number): number {
  const len = e - s;
  const c0 = b[s];
  if ((c0 >= 48 && c0 <= 57) || c0 === 45 || c0 === 43 || c0 === 46) {
    if (len >= 10 && b[s + 4] === 45 && b[s + 7] === 45) return isIsoDateBytes(b, s, e) ? KIND_DATE : KIND_STRING;
    return kindOfNumberBytes(b, s, e);
  }
  // ASCII letters only: `c | 32` folds the case of a letter and never turns another byte into one of these.
  if (len === 4) {
    if ((c0 | 32) === 116 && (b[s + 1] | 32) === 114 && (b[s + 2] | 32) === 117 && (b[s + 3] | 32) === 101) return KIND_BOOLEAN;
  } else if (len === 5) {
    if ((c0 | 32) === 102 && (b[s + 1] | 32) === 97 && (b[s + 2] | 32) === 108 && (b[s + 3] | 32) === 115 && (b[s + 4] | 32) === 101) return KIND_BOOLEAN;
  }
  return KIND_STRING;
}

/** kindOfNumberBytes is kindOfNumberText over bytes; text that Number() must read (long or with an exponent) is decoded first. */
function kindOfNumberBytes(b: Uint8Array, s: number, e: number): number {
  let i = s;
  const c0 = b[i];
  const negative = c0 === 45;
  if (negative || c0 === 43) i++;
  let mantissa = 0;
  const intStart = i;
  for (; i < e; i++) {
    const d = b[i] - 48;
    if (d < 0 || d > 9) break;
    mantissa = mantissa * 10 + d;
  }
  let digits = i - intStart;
  if (i === e) {
    if (digits === 0) return KIND_STRING;
    textNumber = digits <= 15 ? (negative ? -mantissa : mantissa) : Number(latin1(b, s, e));
    return KIND_INTEGER;
  }
  let fraction = 0;
  if (b[i] === 46) {
    const fracStart = ++i;
    for (; i < e; i++) {
      const d = b[i] - 48;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
    }
    fraction = i - fracStart;
    digits += fraction;
  }
  if (digits === 0) return KIND_STRING;
  let exact = digits <= 15;
  if (i < e && (b[i] === 101 || b[i] === 69)) {
    exact = false;
    i++;
    if (i < e && (b[i] === 45 || b[i] === 43)) i++;
    const expStart = i;
    for (; i < e; i++) {
      const d = b[i] - 48;
      if (d < 0 || d > 9) break;
    }
    if (i === expStart) return KIND_STRING;
  }
  if (i !== e) return KIND_STRING;
  if (exact) {
    const v = mantissa / POW10[fraction];
    textNumber = negative ? -v : v;
  } else textNumber = Number(latin1(b, s, e));
  return KIND_NUMBER;
}

/** isIsoDateBytes is isIsoDate over bytes. */
function isIsoDateBytes(b: Uint8Array, s: number, e: number): boolean {
  if (e - s < 10 || b[s + 4] !== 45 || b[s + 7] !== 45) return false;
  for (const i of ISO_DIGITS) {
    const c = b[s + i];
    if (c < 48 || c > 57) return false;
  }
  const month = (b[s + 5] - 48) * 10 + (b[s + 6] - 48);
  const day = (b[s + 8] - 48) * 10 + (b[s + 9] - 48);
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  if (e - s === 10) return true;
  const t = b[s + 10];
  return t === 84 || t === 32;
}

const ISO_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9];

/** latin1 decodes ASCII bytes (a number's text) for Number(). */
function latin1(b: Uint8Array, s: number, e: number): string {
  return Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1');
}

/** kindOfValue gives the kind of a non-empty typed value (JSON Lines, Parquet). */
export function kindOfValue(v: unknown): number {
  switch (typeof v) {
    case 'string':
      return isIsoDate(v) ? KIND_DATE : KIND_STRING;
    case 'number':
      return Number.isInteger(v) ? KIND_INTEGER : KIND_NUMBER;
    case 'bigint':
      return KIND_INTEGER;
    case 'boolean':
      return KIND_BOOLEAN;
    default:
      if (v instanceof ExactDecimal) return v.text.includes('.') ? KIND_NUMBER : KIND_INTEGER;
      return v instanceof Date ? KIND_DATE : KIND_STRING;
  }
}

/** typeOfKinds folds the kinds a column's values had into one ColumnType. */
export function typeOfKinds(mask: number): ColumnType {
  switch (mask) {
    case 0:
      return 'null';
    case KIND_INTEGER:
      return 'integer';
    case KIND_NUMBER:
    case KINDS_NUMERIC:
      return 'number';
    case KIND_BOOLEAN:
      return 'boolean';
    case KIND_STRING:
      return 'string';
    case KIND_DATE:
      return 'date';
    default:
      return 'mixed';
  }
}

/**
 * canonicalText is what two values are compared and hashed by. A string is
 * itself; any other value gets a one-character type tag first, so that the
 * JSON number 1 and the string "1" differ while 1 and 1n (Parquet INT64) agree.
 */
export function canonicalText(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'bigint':
      return `\u0001${String(v)}`;
    case 'boolean':
      return v ? '\u0002true' : '\u0002false';
    default:
      if (v instanceof ExactDecimal) return `\u0001${v.text}`;
      if (v instanceof Date) return `\u0003${Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString()}`;
      if (v instanceof Uint8Array) return `\u0004${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
      return `\u0005${JSON.stringify(sortedKeys(jsonSafe(v)))}`;
  }
}

/** sortedKeys orders the keys of every object in a JSON-safe value: key order carries no meaning in JSON, array order does. */
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  // fromEntries keeps a "__proto__" key as data, where assigning it would set the prototype.
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, sortedKeys(o[k])]),
  );
}

/** displayText is how a value is shown as a category: its canonical text without the type tag. */
export function displayText(canonical: string): string {
  const c = canonical.charCodeAt(0);
  return c >= 1 && c <= 5 ? canonical.slice(1) : canonical;
}

/**
 * jsonSafe converts a value to one JSON.stringify accepts and keeps: a bigint
 * becomes a number when exact and a string otherwise (as does an
 * ExactDecimal), a Date its ISO text, bytes their hex text.
 */
export function jsonSafe(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof ExactDecimal) return v.text;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  if (Array.isArray(v)) return v.map(jsonSafe);
  // fromEntries keeps a "__proto__" key as data, where assigning it would set the prototype.
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
}

/** numericValue is the number a numeric cell stands for (untyped text, number or bigint). */
export function numericValue(v: unknown): number {
  return typeof v === 'number' ? v : v instanceof ExactDecimal ? Number(v.text) : Number(v);
}

/**
 * hashValue hashes a non-empty value into hashLo/hashHi (hash.ts). Values that
 * canonicalText tells apart hash apart (up to 64-bit collisions): strings by
 * their text, numbers and safe bigints by their bits, so that Parquet and
 * JSON numbers need no conversion to text.
 */
export function hashValue(v: unknown): void {
  switch (typeof v) {
    case 'string':
      hashString(v);
      return;
    case 'number':
      hashNumber(v, 1);
      return;
    case 'bigint':
      if (v >= -MAX_SAFE && v <= MAX_SAFE) hashNumber(Number(v), 1);
      else hashString(canonicalText(v));
      return;
    case 'boolean':
      hashNumber(v ? 1 : 0, 2);
      return;
    default:
      if (v instanceof Date) hashNumber(v.getTime(), 3);
      else if (v instanceof ExactDecimal && String(Number(v.text)) === v.text) {
        // A double whose text this is hashes alike: equal canonical texts, equal hashes.
        hashNumber(Number(v.text), 1);
      } else hashString(canonicalText(v));
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
