import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLodeError, type LodeError } from '../core/errors.js';
import { encodePin, parsePin, PinError, type Pin, type PinnedDataset } from './pin.js';

const C1 = 'c2eb44c8b1ad9ef962560326822be93c66e0803323c812a8c78656d6202e7d76';
const T1 = '28c8a2fdc69d4c3c491c9683bfd8b38af7596443f3d5428881bec1043d26a22b';
const B1 = '0b4a8f2e1d3c5b7a9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928';

const SAMPLE: Pin = {
  commit: C1,
  branch: 'main',
  datasets: [
    { path: 'data/labels.csv', kind: 'blob', id: B1, files: 1, bytes: 48211 },
    { path: 'data/images', kind: 'tree', id: T1, files: 1204, bytes: 52428800 },
  ],
};

/** The canonical text of SAMPLE: a change here changes every lode.lock users have committed. */
const GOLDEN = `# lode.lock: the data this code expects. Written by lode; restore it with \`lode checkout\`.
# Conflicts here are resolved with \`lode merge\` (see docs/git.md in the lode project).
lode-pin 1
commit ${C1}
branch main
dataset tree ${T1} 1204 52428800 data/images
dataset blob ${B1} 1 48211 data/labels.csv
`;

/** errorOf runs `f` and returns what it threw (failing the test when it throws nothing). */
function errorOf(f: () => unknown): LodeError {
  try {
    f();
  } catch (e) {
    if (!isLodeError(e)) throw e;
    return e;
  }
  throw new Error('expected an error, got none');
}

/** pinText builds pin text from body lines after the version line. */
const pinText = (...body: string[]) => ['lode-pin 1', ...body].join('\n') + '\n';

describe('encodePin', () => {
  it('writes the golden text, datasets sorted by path', () => {
    expect(encodePin(SAMPLE)).toBe(GOLDEN);
  });

  it('leaves out the branch line when HEAD was detached', () => {
    const text = encodePin({ ...SAMPLE, branch: null });
    expect(text).not.toMatch(/^branch /m);
    expect(parsePin(text, 'lode.lock').branch).toBeNull();
  });

  it('parses the golden text back to the same pin (datasets in path order)', () => {
    const p = parsePin(GOLDEN, 'lode.lock');
    expect(p).toEqual({ ...SAMPLE, datasets: [SAMPLE.datasets[1], SAMPLE.datasets[0]] });
  });

  it('reads CRLF line endings (a checkout with core.autocrlf) as the same pin', () => {
    expect(parsePin(GOLDEN.replace(/\n/g, '\r\n'), 'lode.lock')).toEqual(parsePin(GOLDEN, 'lode.lock'));
  });

  it('round-trips: parse(encode(pin)) = pin with datasets sorted, and encode is a fixed point', () => {
    const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
    const part = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_ .-]{0,8}$/);
    const dsPath = fc.array(part, { minLength: 1, maxLength: 3 }).map((ps) => ps.join('/'));
    const dataset: fc.Arbitrary<PinnedDataset> = fc.record({
      path: dsPath,
      kind: fc.constantFrom('tree' as const, 'blob' as const, 'chunked' as const),
      id: hex,
      files: fc.nat(),
      bytes: fc.nat(),
    });
    const pin: fc.Arbitrary<Pin> = fc.record({
      commit: hex,
      branch: fc.option(fc.stringMatching(/^[a-z][a-z0-9/_-]{0,12}$/), { nil: null }),
      datasets: fc.uniqueArray(dataset, { selector: (d) => d.path, maxLength: 5 }),
    });
    fc.assert(
      fc.property(pin, (p) => {
        const text = encodePin(p);
        const back = parsePin(text, 'lode.lock');
        expect(back).toEqual({ ...p, datasets: [...p.datasets].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) });
        expect(encodePin(back)).toBe(text);
      }),
    );
  });

  it('keeps spaces inside a dataset path (the path is the last field)', () => {
    const p = parsePin(pinText(`commit ${C1}`, `dataset tree ${T1} 3 30 my data/two words`), 'lode.lock');
    expect(p.datasets[0].path).toBe('my data/two words');
  });

  it('accepts comments and blank lines anywhere', () => {
    const p = parsePin(`\n# hello\n\nlode-pin 1\n# between\ncommit ${C1}\n\n# end\n`, 'lode.lock');
    expect(p).toEqual({ commit: C1, branch: null, datasets: [] });
  });
});

describe('parsePin rejects malformed text, naming the file and the line', () => {
  const cases: [string, string, number, RegExp][] = [
    ['empty file', '', 1, /no `lode-pin 1` line/],
    ['only comments', '# nothing\n', 1, /no `lode-pin 1` line/],
    ['a field before the version', `commit ${C1}\nlode-pin 1\n`, 1, /expected `lode-pin 1` first/],
    ['a newer version', 'lode-pin 2\ncommit x\n', 1, /unsupported version "2"/],
    ['no commit line', pinText('branch main'), 3, /no commit line/],
    ['a short commit ID', pinText('commit c2eb44c8b1ad'), 2, /not a 64-digit hex ID/],
    ['an upper-case commit ID', pinText(`commit ${C1.toUpperCase()}`), 2, /not a 64-digit hex ID/],
    ['two commit lines', pinText(`commit ${C1}`, `commit ${C1}`), 3, /two commit lines/],
    ['two branch lines', pinText(`commit ${C1}`, 'branch a', 'branch b'), 4, /two branch lines/],
    ['an empty branch', pinText(`commit ${C1}`, 'branch '), 3, /bad branch name/],
    ['a branch with a space', pinText(`commit ${C1}`, 'branch a b'), 3, /bad branch name/],
    ['an unknown kind', pinText(`commit ${C1}`, `dataset folder ${T1} 1 1 data`), 3, /expected `dataset KIND ID FILES BYTES PATH`/],
    ['a dataset without a path', pinText(`commit ${C1}`, `dataset tree ${T1} 1 1`), 3, /expected `dataset KIND ID FILES BYTES PATH`/],
    ['a negative count', pinText(`commit ${C1}`, `dataset tree ${T1} -1 1 data`), 3, /expected `dataset/],
    ['a dataset path with ..', pinText(`commit ${C1}`, `dataset tree ${T1} 1 1 ../etc`), 3, /bad dataset path "..\/etc"/],
    ['an absolute dataset path', pinText(`commit ${C1}`, `dataset tree ${T1} 1 1 /etc`), 3, /bad dataset path/],
    ['a dataset path inside .git', pinText(`commit ${C1}`, `dataset tree ${T1} 1 1 .git/hooks`), 3, /bad dataset path "\.git\/hooks"/],
    ['a dataset path that is .lode', pinText(`commit ${C1}`, `dataset tree ${T1} 1 1 .lode`), 3, /bad dataset path "\.lode"/],
    ['a dataset path a file system takes for .git', pinText(`commit ${C1}`, `dataset tree ${T1} 1 1 data/GIT~1`), 3, /bad dataset path/],
    ['an unknown field', pinText(`commit ${C1}`, 'remote origin'), 3, /unknown field "remote"/],
    ['free text', pinText(`commit ${C1}`, 'this is not a pin'), 3, /unknown field "this"/],
  ];
  for (const [what, text, line, problem] of cases) {
    it(what, () => {
      const e = errorOf(() => parsePin(text, 'lode.lock at git HEAD'));
      expect(e).toBeInstanceOf(PinError);
      expect(e.code).toBe('CORRUPT');
      expect(e.message).toContain('lode.lock at git HEAD is not a valid pin file');
      expect(e.message).toContain(`(line ${line}:`);
      expect(e.message).toMatch(problem);
      expect(e.hint).toBeTruthy();
    });
  }
});

describe('parsePin on a file git left conflicted', () => {
  it('reports conflict markers as CONFLICT with the line of the first marker', () => {
    const ours = encodePin(SAMPLE);
    const theirs = encodePin({ ...SAMPLE, commit: 'a'.repeat(64) });
    const text = `<<<<<<< ours\n${ours}=======\n${theirs}>>>>>>> theirs\n`;
    const e = errorOf(() => parsePin(text, 'lode.lock'));
    expect(e.code).toBe('CONFLICT');
    expect(e).not.toBeInstanceOf(PinError);
    expect(e.message).toBe('lode.lock has unresolved merge conflict markers (line 1)');
    expect(e.hint).toMatch(/lode merge/);
  });

  it('finds markers git put around just the lines that differ', () => {
    const lines = encodePin(SAMPLE).split('\n');
    const at = lines.findIndex((l) => l.startsWith('commit '));
    const text = [...lines.slice(0, at), '<<<<<<< HEAD', lines[at], '=======', `commit ${'b'.repeat(64)}`, '>>>>>>> feature', ...lines.slice(at + 1)].join('\n');
    const e = errorOf(() => parsePin(text, 'lode.lock'));
    expect(e.code).toBe('CONFLICT');
    expect(e.message).toContain(`(line ${at + 1})`);
  });

  it('recognises the diff3 base marker too', () => {
    const e = errorOf(() => parsePin(pinText(`commit ${C1}`, '||||||| base'), 'lode.lock'));
    expect(e.code).toBe('CONFLICT');
    expect(e.message).toContain('(line 3)');
  });
});
