import { describe, expect, it } from 'vitest';
import { bytesToId, sha256, writeId } from './id.js';

describe('writeId', () => {
  it('writes an ID as the 32 bytes it names, where it is asked, and nothing else', () => {
    const id = sha256(Buffer.from('some bytes'));
    const buf = Buffer.alloc(40, 0xee);
    writeId(buf, 3, id);
    expect(bytesToId(buf, 3)).toBe(id);
    expect([...buf.subarray(0, 3), ...buf.subarray(35)]).toEqual(new Array(8).fill(0xee));
  });

  it('refuses what is not an ID: short, long, or not hex (Buffer would stop at the first bad digit)', () => {
    const id = sha256(Buffer.from('x'));
    const buf = Buffer.alloc(64);
    for (const bad of [id.slice(0, 62), `${id}00`, `${id.slice(0, 40)}zz${id.slice(42)}`, '']) expect(() => writeId(buf, 0, bad)).toThrow(RangeError);
    // Room for fewer than 32 bytes is refused too.
    expect(() => writeId(buf, 40, id)).toThrow(RangeError);
  });
});
