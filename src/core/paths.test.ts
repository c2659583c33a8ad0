import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidNameError } from './errors.js';
import {
  baseName,
  compareNames,
  comparePaths,
  isUnder,
  joinPath,
  nameProblem,
  parentPath,
  validateName,
  validateRepoPath,
} from './paths.js';

/**
 * referenceCompare is the order comparePaths promises, written the slow and
 * obvious way: compare UTF-8 bytes, with '/' below every other byte.
 */
function referenceCompare(a: string, b: string): number {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  const rank = (v: number) => (v === 0x2f ? -1 : v);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return rank(x[i]) - rank(y[i]);
  }
  return x.length - y.length;
}

/**
 * Characters chosen for their encodings: '/' and '.' straddle each other, 'é' is
 * two UTF-8 bytes, U+D7FB sits just below the surrogates, U+FF21 above them (so
 * it sorts below astral characters by UTF-16 code unit, above them by UTF-8),
 * and the emoji are astral, two of them sharing a high surrogate.
 */
const ALPHABET = ['/', '.', 'a', '0', '!', 'é', '\uD7FB', '\uFF21', '\u{1F600}', '\u{1F601}', '\u{1D11E}'];
const path = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 8 }).map((cs) => cs.join(''));

const sign = (n: number) => Math.sign(n);

describe('comparePaths', () => {
  it('orders like UTF-8 bytes with "/" lowest', () => {
    fc.assert(
      fc.property(path, path, (a, b) => {
        expect(sign(comparePaths(a, b))).toBe(sign(referenceCompare(a, b)));
      }),
      { numRuns: 5000 },
    );
  });

  it('sorts a list exactly as the reference does', () => {
    fc.assert(
      fc.property(fc.array(path, { maxLength: 30 }), (paths) => {
        expect([...paths].sort(comparePaths)).toEqual([...paths].sort(referenceCompare));
      }),
    );
  });

  it('is antisymmetric and zero only for equal paths', () => {
    fc.assert(
      fc.property(path, path, (a, b) => {
        expect(sign(comparePaths(a, b)) + sign(comparePaths(b, a))).toBe(0);
        expect(comparePaths(a, b) === 0).toBe(a === b);
      }),
    );
  });

  it('agrees with compareNames on names without "/"', () => {
    const name = path.map((p) => p.replaceAll('/', ''));
    fc.assert(
      fc.property(name, name, (a, b) => {
        expect(sign(comparePaths(a, b))).toBe(sign(compareNames(a, b)));
      }),
    );
  });

  it('puts a directory\'s files right after it, before siblings that extend its name', () => {
    const sorted = ['a0', 'a.b', 'a/b', 'a!', 'a/b/c', 'a', 'ab'].sort(comparePaths);
    expect(sorted).toEqual(['a', 'a/b', 'a/b/c', 'a!', 'a.b', 'a0', 'ab']);
    // UTF-8 order, not UTF-16: U+FF21 (EF BC A1) sorts before an emoji (F0 9F ...).
    expect(comparePaths('\uFF21', '\u{1F600}')).toBeLessThan(0);
    expect(comparePaths('x/\u{1F600}', 'x/\uFF21')).toBeGreaterThan(0);
  });
});

describe('compareNames', () => {
  it('orders by UTF-8 bytes', () => {
    expect(compareNames('a', 'a')).toBe(0);
    expect(compareNames('B', 'a')).toBeLessThan(0);
    expect(compareNames('\uFF21', '\u{1F600}')).toBeLessThan(0);
    expect(compareNames('a', 'a.b')).toBeLessThan(0);
  });
});

describe('nameProblem', () => {
  it.each([
    ['', /empty/],
    ['.', /not allowed/],
    ['..', /not allowed/],
    ['a/b', /"\/"/],
    ['/etc', /"\/"/],
    ['a\\b', /"\\"/],
    ['..\\x', /"\\"/],
    ['a\0b', /control/],
    ['\n', /control/],
    ['tab\there', /control/],
    ['\x1f', /control/],
    ['del\x7f', /control/],
    ['x'.repeat(256), /255 bytes/],
    ['é'.repeat(128), /255 bytes/], // 128 characters, 256 bytes
  ])('refuses %j', (name, why) => {
    expect(nameProblem(name)).toMatch(why);
    expect(() => validateName(name)).toThrow(InvalidNameError);
  });

  it.each(['a', '...', '.hidden', 'a..b', 'with space', ' ', '-', 'é', '\u{1F600}', 'x'.repeat(255), 'é'.repeat(127) + 'x', 'C:'])(
    'accepts %j',
    (name) => {
      expect(nameProblem(name)).toBeUndefined();
      expect(() => validateName(name)).not.toThrow();
    },
  );

  it('validateName says what is wrong and how to fix it', () => {
    try {
      validateName('..', 'entry');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidNameError);
      expect((e as InvalidNameError).code).toBe('INVALID_NAME');
      expect((e as Error).message).toContain('unsafe entry ".."');
      expect((e as InvalidNameError).hint).toBeTruthy();
    }
  });
});

describe('repo paths', () => {
  it('validateRepoPath accepts the root and clean relative paths only', () => {
    for (const ok of ['', 'a', 'a/b', 'data/é/\u{1F600}.bin']) expect(() => validateRepoPath(ok)).not.toThrow();
    for (const bad of ['/a', 'a/', 'a//b', './a', 'a/../b', '..', 'a/.', 'a\\b', 'a/\0']) {
      expect(() => validateRepoPath(bad), bad).toThrow(InvalidNameError);
    }
  });

  it('joinPath, parentPath and baseName take paths apart and back together', () => {
    expect(joinPath('', 'a')).toBe('a');
    expect(joinPath('a/b', 'c')).toBe('a/b/c');
    expect(parentPath('a')).toBe('');
    expect(parentPath('a/b/c')).toBe('a/b');
    expect(baseName('a')).toBe('a');
    expect(baseName('a/b/c')).toBe('c');
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b.c', 'é'), { minLength: 1, maxLength: 4 }), (parts) => {
        const p = parts.join('/');
        expect(joinPath(parentPath(p), baseName(p))).toBe(p);
      }),
    );
  });

  it('isUnder matches whole components only', () => {
    expect(isUnder('a/b', '')).toBe(true);
    expect(isUnder('a', 'a')).toBe(true);
    expect(isUnder('a/b', 'a')).toBe(true);
    expect(isUnder('a/b/c', 'a/b')).toBe(true);
    expect(isUnder('ab', 'a')).toBe(false);
    expect(isUnder('a.b', 'a')).toBe(false);
    expect(isUnder('a', 'a/b')).toBe(false);
    expect(isUnder('', 'a')).toBe(false);
  });
});
