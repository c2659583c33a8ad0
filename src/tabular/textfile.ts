import { isAscii, isUtf8 } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';

/** CHUNK_BYTES is how much of a text table is read and decoded at a time. */
export const CHUNK_BYTES = 1 << 20;

/**
 * MAX_RECORD_BYTES bounds one line or one quoted record. Anything longer is
 * reported instead of buffered: a binary file or a runaway quote must not eat
 * all memory.
 */
export const MAX_RECORD_BYTES = 64 << 20;

/** TextChunk is decoded text that ends at a line break (or at the end of the file). */
export interface TextChunk {
  /** The text, or '' when the caller asked for bytes only. */
  text: string;
  /** Byte offset in the file of `text[0]`. */
  byteBase: number;
  /** Whether the chunk is pure ASCII, so that character and byte offsets agree. */
  ascii: boolean;
  /** True for the last chunk. */
  final: boolean;
  /** The chunk's bytes; valid only until the next chunk is asked for. */
  bytes: Buffer;
}

/** TextProblem is a defect in the bytes themselves; the reader turns it into a TableError with a row. */
export class TextProblem extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly hint: string,
  ) {
    super(message);
  }
}

/**
 * textChunks yields the file from byte `start` as UTF-8 text, cut only after
 * line feeds so that no character is split between chunks. It checks as it
 * goes that the bytes hold no NUL (a binary file) and are valid UTF-8, and
 * throws TextProblem with the byte offset otherwise. With `decode` false the
 * chunks carry only their (checked) bytes.
 */
export async function* textChunks(fh: FileHandle, start: number, size: number, decode = true): AsyncGenerator<TextChunk> {
  let buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(size - start, 1)));
  let spare = Buffer.allocUnsafe(buf.length);
  let carry = 0;
  let pos = start;
  let base = start;
  const readInto = (b: Buffer, at: number): Promise<number> => {
    const p = fh.read(b, at, Math.max(0, Math.min(b.length - at, size - pos)), pos).then((r) => r.bytesRead);
    // A consumer that stops early (an error in a row) leaves one read in flight: keep its failure from going unhandled.
    p.catch(() => {});
    return p;
  };
  let pending = readInto(buf, 0);
  for (;;) {
    const got = await pending;
    pos += got;
    const avail = carry + got;
    const final = pos >= size || got === 0;
    const cut = final ? avail : buf.lastIndexOf(10, avail - 1) + 1;
    if (cut === 0) {
      if (final) return;
      // No line break in the whole buffer: grow it, up to the record limit.
      if (buf.length >= MAX_RECORD_BYTES) {
        throw new TextProblem(`holds a line longer than ${MAX_RECORD_BYTES >> 20} MiB`, base, 'is this really a text table? check the file type, or split the line');
      }
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, avail);
      buf = bigger;
      spare = Buffer.allocUnsafe(buf.length);
      carry = avail;
      pending = readInto(buf, carry);
      continue;
    }
    let bytes = buf.subarray(0, cut);
    let ascii = isAscii(bytes);
    const problem = checkBytes(bytes, base, ascii);
    if (problem) {
      // Hand over the good lines before the bad byte first, so that the reader
      // has counted the rows before it and can name the row that holds it.
      const good = bytes.lastIndexOf(10, problem.offset - base - 1) + 1;
      if (good > 0) {
        bytes = bytes.subarray(0, good);
        ascii = isAscii(bytes);
        yield { text: decode ? decodeText(bytes, ascii) : '', byteBase: base, ascii, final: false, bytes };
      }
      throw problem;
    }
    const text = decode ? decodeText(bytes, ascii) : '';
    // The tail after the last line break moves to the other buffer, which then
    // receives the next read while this chunk is being parsed.
    carry = avail - cut;
    buf.copy(spare, 0, cut, avail);
    [buf, spare] = [spare, buf];
    if (!final) pending = readInto(buf, carry);
    yield { text, byteBase: base, ascii, final, bytes };
    base += cut;
    if (final) return;
  }
}

function decodeText(bytes: Buffer, ascii: boolean): string {
  return ascii ? bytes.toString('latin1') : bytes.toString('utf8');
}

/** checkBytes returns a TextProblem at the first NUL byte or invalid UTF-8 sequence in `bytes`, or null. */
function checkBytes(bytes: Buffer, base: number, ascii: boolean): TextProblem | null {
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    return new TextProblem('holds a NUL byte: this looks like a binary file, not text', base + nul, 'check that the file really is the text table its name says (is it compressed, or another format?)');
  }
  if (!ascii && !isUtf8(bytes)) {
    const bad = firstInvalidUtf8(bytes);
    return new TextProblem('is not valid UTF-8 (mixed or legacy encoding?)', base + bad, 'convert the file to UTF-8, e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`');
  }
  return null;
}

/** firstInvalidUtf8 returns the index of the first byte that does not start or continue a valid UTF-8 sequence. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n = 0;
    let min = 0;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      min = 0x10000;
    } else {
      return i;
    }
    if (i + n >= b.length) return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return b.length;
}

