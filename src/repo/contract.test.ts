import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { globRegExp, literalPrefix, parseContract } from './contract.js';

const GOOD = `# contract
[[table]]
path = "data/*.csv"
columns = { id = "integer", label = "string" }
unique = ["id"]
labels = { label = ["a", "b"] }
rows = [1, 10]

[table.drift]
max_share_shift_pp = { label = 5 }

[[folder]]
path = "images"
class_share = [0.1, 0.9]
[folder.drift]
max_share_shift_pp = 3
`;

function errorOf(text: string): string {
  try {
    parseContract(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('parsed');
}

describe('parseContract', () => {
  it('reads tables, folders and their drift sections', () => {
    const c = parseContract(GOOD);
    expect(c.tables).toHaveLength(1);
    expect(c.tables[0]).toMatchObject({ pattern: 'data/*.csv', unique: ['id'], rows: [1, 10], labels: { label: ['a', 'b'] }, drift: { maxSharePp: { label: 5 } }, line: 2 });
    expect(c.folders[0]).toMatchObject({ pattern: 'images', classShare: [0.1, 0.9], drift: { maxSharePp: 3 }, line: 12 });
    expect(c.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names line and column of a syntax error', () => {
    expect(errorOf('[[table]]\npath = "x"\nrows = [1,\n')).toMatch(/^lode\.checks\.toml:\d+:\d+: /);
  });

  it('names the line of an unknown key, a bad value and a rule on an undeclared column', () => {
    expect(errorOf('[[table]]\npath = "x"\n\n  max_nul_rate = 1\n')).toMatch(/^lode\.checks\.toml:4:3: \[\[table\]\] #1: unknown key "max_nul_rate"/);
    expect(errorOf('[[table]]\npath = "x"\n[[table]]\npath = "y"\nrows = [5, 1]\n')).toMatch(/^lode\.checks\.toml:5:1: \[\[table\]\] #2: rows: MIN 5 is above MAX 1/);
    expect(errorOf('[[table]]\npath = "x"\ncolumns = { a = "integer" }\nunique = ["b"]\n')).toMatch(/^lode\.checks\.toml:4:1: .*unique names column "b", which is not among the declared columns \(a\)/);
    expect(errorOf('[[table]]\npath = "x"\ncolumns = { a = "int" }\n')).toMatch(/type "int"; the types are integer, number, boolean, string, date/);
    expect(errorOf('[[table]]\npath = "x"\n[table.drift]\nmax_ks = { a = 2 }\n')).toMatch(/^lode\.checks\.toml:4:1: .*max_ks must be between 0 and 1/);
    expect(errorOf('[[table]]\nrows = [1, 2]\n')).toMatch(/needs path = "GLOB"/);
    expect(errorOf('[[table]]\npath = "../x"\n')).toMatch(/relative to the top of the workspace/);
    expect(errorOf('[other]\nx = 1\n')).toMatch(/^lode\.checks\.toml:1:1: unknown section or key "other"/);
  });

  it('names the line and column of a malformed second section header, not 1:1', () => {
    const first = '[[table]]\npath = "a.csv"\n\n';
    // The TOML parser accepts `[[table]` on the last line as a header; lode must not.
    expect(errorOf(`${first}[[table]\n`)).toMatch(/^lode\.checks\.toml:4:1: malformed section header "\[\[table\]": write \[\[table\]\]$/);
    expect(errorOf(`${first}  [[folder]\n`)).toMatch(/^lode\.checks\.toml:4:3: malformed section header "\[\[folder\]"/);
    // Followed by keys, the parser fails a line later; the header's line is named.
    expect(errorOf(`${first}[[table]\npath = "b.csv"\n`)).toMatch(/^lode\.checks\.toml:4:1: malformed section header/);
    // A quoted key is a well-formed header: its own errors name its line.
    expect(errorOf(`${first}[["table"]]\nrows = [1, 2]\n`)).toMatch(/^lode\.checks\.toml:4:1: \[\[table\]\] #2: needs path/);
    expect(errorOf(`${first}[[ 'table' ]] # b\nrows = [5, 1]\npath = "b"\n`)).toMatch(/^lode\.checks\.toml:5:1: \[\[table\]\] #2: rows: MIN 5 is above MAX 1/);
    // [table] written once, not as an array of sections: its line.
    expect(errorOf(`# c\n\n[table]\npath = "a"\n`)).toMatch(/^lode\.checks\.toml:3:1: /);
    // Sub-tables are not headers of their own.
    expect(parseContract(`${first}[table.drift]\nschema_changes = false\n`).tables).toHaveLength(1);
  });
});

describe('globRegExp', () => {
  it('keeps * and ? within a name and lets ** cross directories', () => {
    expect(globRegExp('data/*.csv').test('data/a.csv')).toBe(true);
    expect(globRegExp('data/*.csv').test('data/x/a.csv')).toBe(false);
    expect(globRegExp('data/**/*.csv').test('data/a.csv')).toBe(true);
    expect(globRegExp('data/**/*.csv').test('data/x/y/a.csv')).toBe(true);
    expect(globRegExp('data/?.csv').test('data/ab.csv')).toBe(false);
    expect(globRegExp('data/a+b.csv').test('data/a+b.csv')).toBe(true);
    expect(literalPrefix('data/x/*.csv')).toBe('data/x');
    expect(literalPrefix('*.csv')).toBe('');
    expect(literalPrefix('data/a.csv')).toBe('data/a.csv');
  });
});
