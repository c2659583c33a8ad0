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
  repoPathProblem,
  reservedName,
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

/** randomCase spells `word` with each letter in upper or lower case as `upper` says. */
const randomCase = (word: string) =>
  fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((upper) => [...word].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));

const HFS_IGNORABLES = ['\u200c', '\u200d', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u206a', '\u206b', '\u206c', '\u206d', '\u206e', '\u206f', '\ufeff'];

describe('reserved names (.git and .lode and their aliases)', () => {
  it.each([
    ['.git', '.git'],
    ['.GIT', '.git'],
    ['.Git', '.git'],
    ['.lode', '.lode'],
    ['.LODE', '.lode'],
    ['.git.', '.git'],
    ['.git ', '.git'],
    ['.git. .', '.git'],
    ['.lode...', '.lode'],
    ['git~1', '.git'],
    ['GIT~1', '.git'],
    ['git~12', '.git'],
    ['lode~1', '.lode'],
    ['LODE~3', '.lode'],
    ['.git::$INDEX_ALLOCATION', '.git'],
    ['.git:stream', '.git'],
    ['.lode::$DATA', '.lode'],
    ['.git . ::$INDEX_ALLOCATION', '.git'],
    ['.g\u200cit', '.git'],
    ['\ufeff.git', '.git'],
    ['.l\u206fo\u202ade', '.lode'],
  ])('refuses %j (taken for %s)', (name, taken) => {
    expect(reservedName(name)).toBe(taken);
    expect(nameProblem(name)).toContain(taken);
    expect(() => validateName(name)).toThrow(InvalidNameError);
  });

  it.each(['.gitignore', '.gitattributes', '.github', '.gitmodules', 'git', 'lode', '.lodeignore', 'git~', 'git~a', '~1', 'my.git', '.git2', 'x.lode', '..git', 'lode.lock', 'gitlab', '.lodes', 'g.it', 'GIT', 'file~1.txt', '.g\u0130t', 'l\u0130ode~1'])(
    'accepts %j',
    (name) => {
      expect(reservedName(name)).toBeUndefined();
      expect(nameProblem(name)).toBeUndefined();
    },
  );

  it('refuses .git and .lode in any letter case, with any trailing dots, spaces, stream or ignorables', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('.git', '.lode'),
        fc.func(fc.boolean()),
        fc.string({ unit: fc.constantFrom('.', ' '), maxLength: 4 }),
        fc.option(fc.constantFrom(':', '::$INDEX_ALLOCATION', ':x:$DATA'), { nil: '' }),
        fc.array(fc.tuple(fc.nat({ max: 5 }), fc.constantFrom(...HFS_IGNORABLES)), { maxLength: 3 }),
        (word, upper, trail, stream, inserts) => {
          let name = [...word].map((c, i) => (upper(i) ? c.toUpperCase() : c)).join('') + trail + stream;
          for (const [at, ch] of inserts) name = name.slice(0, at) + ch + name.slice(at);
          expect(reservedName(name)).toBe(word);
          expect(nameProblem(name)).toBeDefined();
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses NTFS short names git~N and lode~N in any case', () => {
    fc.assert(
      fc.property(fc.oneof(randomCase('git'), randomCase('lode')), fc.integer({ min: 0, max: 99999 }), (stem, n) => {
        expect(nameProblem(`${stem}~${n}`)).toBeDefined();
      }),
    );
  });

  it('accepts names that only start like .git or .lode', () => {
    fc.assert(
      fc.property(fc.oneof(randomCase('.git'), randomCase('.lode')), fc.string({ unit: fc.constantFrom('a', 'i', 'g', 'n', 'o', 'r', 'e', 'h', 'u', 'b', '_', '-', '0'), minLength: 1, maxLength: 8 }), (stem, rest) => {
        expect(nameProblem(stem + rest)).toBeUndefined();
      }),
    );
  });

  it('repoPathProblem names the reserved component anywhere in a path', () => {
    expect(repoPathProblem('')).toBeUndefined();
    expect(repoPathProblem('data/.github/x')).toBeUndefined();
    for (const bad of ['.git', 'sub/.git', 'a/.GIT/hooks', '.lode/config', 'x/git~1', '../outside', '/etc', 'a//b']) {
      expect(repoPathProblem(bad), bad).toBeDefined();
    }
    expect(repoPathProblem('sub/.Git/hooks')).toContain('".Git"');
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

describe('compareNames', () => {
  it('orders like the UTF-8 bytes of the names (fast path without encoding)', () => {
    const unit = fc.constantFrom('a', 'b', 'B', '.', '-', '0', 'é', '\u{1F600}', '\u{10000}', '\uFF21', '\uE000', '\uD7FF', ' ', '~');
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 6 }), fc.string({ unit, maxLength: 6 }), (a, b) => {
        expect(Math.sign(compareNames(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))));
      }),
      { numRuns: 2000 },
    );
  });
});
