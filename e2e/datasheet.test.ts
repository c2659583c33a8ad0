// `lode datasheet` through the built binary in a real git repository: a
// vendor drop, two `lode run` steps and a folder-per-class image set under a
// data contract. The datasheet's numbers must match what `lode ls`, `lode
// diff` and `lode check` say on their own, declared fields must come from
// datasheet.toml with the missing ones listed as gaps, the Markdown must have
// its sections, the HTML must render in headless Chromium without a single
// request leaving the page, and bad input must fail with a clear error.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpDom } from '../test/helpers/chromium.js';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, removeDir, runLode, writeFile, type RunOptions } from '../test/helpers/cli.js';

const NODE = process.execPath;

const CLEAN = `import fs from 'node:fs';
const rows = fs.readFileSync('data/raw/items.csv', 'utf8').trim().split('\\n');
const kept = [rows[0], ...rows.slice(1).filter((r) => r.split(',')[1] !== '')];
fs.mkdirSync('data/clean', { recursive: true });
fs.writeFileSync('data/clean/items.csv', kept.join('\\n') + '\\n');
`;

const LABEL = `import fs from 'node:fs';
import path from 'node:path';
const rows = fs.readFileSync(path.join(process.env.LODE_INPUT_0, 'items.csv'), 'utf8').trim().split('\\n');
const out = ['id,text,label', ...rows.slice(1).map((r) => { const [id, text] = r.split(','); return [id, text, text.length > 4 ? 'long' : 'short'].join(','); })];
fs.mkdirSync(process.env.LODE_OUTPUT_0, { recursive: true });
fs.writeFileSync(path.join(process.env.LODE_OUTPUT_0, 'items.csv'), out.join('\\n') + '\\n');
`;

const CONTRACT = `[[table]]
path = "data/labelled/*.csv"
columns = { id = "integer", text = "string", label = "string" }
unique = ["id"]
labels = { label = ["long", "short"] }

[[folder]]
path = "data/images"
classes = ["cat", "dog", "bird"]
class_files = [1, 100]
`;

// An HTML tag in a declared field: escaped, it must neither render nor fetch.
const PURPOSE_PREFIX = 'Train the item-length classifier. Not for ranking people.';

const WORDS = ['apple', 'fig', 'banana', '', 'kiwi', 'cherry', 'plum', 'melon', '', 'pear', 'grape', 'lime'];

interface ClassJson {
  name: string;
  files: number;
  bytes: number;
  share: number;
}
interface SheetJson {
  rev: string;
  commit: string;
  declared: { found: boolean; fields: { key: string; value: string | null }[] };
  composition: {
    files: number;
    bytes: number;
    entries: { path: string; files: number; bytes: number }[];
    fileTypes: { ext: string; files: number; bytes: number }[];
    classFolders: { path: string; source: string; files: number; classes: ClassJson[]; imbalance: number | null }[];
    tables: { path: string; rows?: number; columns?: { name: string; type: string; nulls: number; top?: { value: string; count: number }[] }[]; error?: string }[];
  };
  provenance: { record: boolean; lineage: { steps: { kind: string; command?: string[]; commit: string }[]; sources: string[] } };
  changes: {
    sinceParent: { summary: Record<string, number>; stat: { dir: string; before: { files: number }; after: { files: number } }[] } | null;
    sinceBaseline?: { baseline: string; summary: Record<string, number>; classes: { path: string; classes: { name: string; before: number; after: number; shareBefore: number; shareAfter: number }[] }[] };
  };
  contract: { source: string; file: string; ok: boolean; rules: number; violations: unknown[] } | null;
  gaps: { section: string; field?: string; message: string }[];
}

let base: string;
let dir: string;
let at: RunOptions;
let env: Record<string, string>;
let server: http.Server;
let port: number;
const requests: string[] = [];

function git(...args: string[]): string {
  const r = spawnSync('git', ['-c', 'init.defaultBranch=main', ...args], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    res.end('');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;

  base = makeTempDir('lode-e2e-datasheet');
  dir = path.join(base, 'work');
  const home = path.join(base, 'home');
  fs.mkdirSync(dir);
  fs.mkdirSync(home);
  env = { HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Ada Tester', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada Tester', GIT_COMMITTER_EMAIL: 'ada@example.com' };
  at = { cwd: dir, env };
  git('init', '-q');
  await lodeOk(['init'], at);
  writeFile(dir, 'steps/clean.mjs', CLEAN);
  writeFile(dir, 'steps/label.mjs', LABEL);
  writeFile(dir, 'lode.checks.toml', CONTRACT);
  writeFile(
    dir,
    'datasheet.toml',
    `title = "Items and pictures"
purpose = """${PURPOSE_PREFIX} <img src="http://127.0.0.1:${port}/purpose.png">"""
collection_method = "Vendor drop of November 2026, as delivered."
labelling_procedure = "Labelled by steps/label.mjs: long when the text has more than four letters."
# known_gaps_and_biases, personal_data and retention are left out on purpose
`,
  );
  git('add', '.');
  git('commit', '-qm', 'pipeline code');
  writeFile(dir, 'data/raw/items.csv', ['id,text', ...WORDS.map((w, i) => `${i + 1},${w}`)].join('\n') + '\n');
  for (let i = 0; i < 6; i++) writeFile(dir, `data/images/cat/c${i}.jpg`, `cat picture ${i}\n`);
  for (let i = 0; i < 3; i++) writeFile(dir, `data/images/dog/d${i}.jpg`, `dog ${i}\n`);
  writeFile(dir, 'data/images/bird/b0.jpg', 'a bird\n');
  // Not named by the contract: found as a class folder. Folders of tables are not.
  for (let i = 0; i < 3; i++) writeFile(dir, `data/audio/yes/y${i}.wav`, `yes ${i}\n`);
  writeFile(dir, 'data/audio/no/n0.wav', 'no\n');
  writeFile(dir, 'data/exports/2026-10/a.csv', 'k,v\n1,2\n');
  writeFile(dir, 'data/exports/2026-11/b.csv', 'k,v\n3,4\n');
  await lodeOk(['add', 'data'], at);
  await lodeOk(['commit', '-m', 'vendor drop', '--source', 'https://vendor.example/drop-2026-11.tar'], at);
  await lodeOk(['tag', 'v1'], at);
  await lodeOk(['run', '-i', 'data/raw', '-o', 'data/clean', '--', NODE, 'steps/clean.mjs'], at);
  writeFile(dir, 'data/images/bird/b1.jpg', 'another bird\n');
  await lodeOk(['add', 'data/images'], at);
  await lodeOk(['run', '-i', 'HEAD:data/clean', '-o', 'data/labelled', '-m', 'label by length', '--', NODE, 'steps/label.mjs'], at);
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  removeDir(base);
});

describe('lode datasheet', () => {
  it('--json: composition matches lode ls, classes and tables are counted from the data', async () => {
    const sheet = await lodeJson<SheetJson>(['datasheet', 'HEAD', '--json'], at);
    const top = await lodeJson<{ entries: { path: string; size: number; files: number }[] }>(['ls', 'HEAD', '--json'], at);
    expect(sheet.composition.files).toBe(top.entries.reduce((n, e) => n + e.files, 0));
    expect(sheet.composition.bytes).toBe(top.entries.reduce((n, e) => n + e.size, 0));
    expect(sheet.composition.entries.map((e) => [e.path, e.files, e.bytes])).toEqual(top.entries.map((e) => [e.path, e.files, e.size]));

    const all = await lodeJson<{ entries: { path: string; size: number }[] }>(['ls', 'HEAD', '-r', '--json'], at);
    const jpg = all.entries.filter((e) => e.path.endsWith('.jpg'));
    expect(sheet.composition.fileTypes.find((t) => t.ext === 'jpg')).toEqual({ ext: 'jpg', files: jpg.length, bytes: jpg.reduce((n, e) => n + e.size, 0) });

    const images = await lodeJson<{ entries: { name: string; files: number; size: number }[] }>(['ls', 'HEAD:data/images', '--json'], at);
    const folder = sheet.composition.classFolders.find((f) => f.path === 'data/images')!;
    expect(folder.source).toBe('contract');
    expect(folder.classes.map((c) => [c.name, c.files, c.bytes])).toEqual(images.entries.map((e) => [e.name, e.files, e.size]));
    expect(folder.classes.map((c) => c.files)).toEqual([2, 6, 3]); // bird, cat, dog
    expect(folder.classes.find((c) => c.name === 'cat')!.share).toBeCloseTo(6 / 11, 10);
    expect(folder.imbalance).toBe(3);

    const audio = sheet.composition.classFolders.find((f) => f.path === 'data/audio')!;
    expect(audio.source).toBe('detected');
    expect(audio.classes.map((c) => [c.name, c.files])).toEqual([
      ['no', 1],
      ['yes', 3],
    ]);
    expect(audio.imbalance).toBe(3);
    expect(sheet.composition.classFolders.map((f) => f.path).sort()).toEqual(['data/audio', 'data/images']);

    // The labelled table, counted here from the words the pipeline started with.
    const kept = WORDS.filter((w) => w !== '');
    const labelled = sheet.composition.tables.find((t) => t.path === 'data/labelled/items.csv')!;
    expect(labelled.rows).toBe(kept.length);
    expect(labelled.columns!.map((c) => [c.name, c.type, c.nulls])).toEqual([
      ['id', 'integer', 0],
      ['text', 'string', 0],
      ['label', 'string', 0],
    ]);
    const long = kept.filter((w) => w.length > 4).length;
    expect(Object.fromEntries(labelled.columns!.find((c) => c.name === 'label')!.top!.map((v) => [v.value, v.count]))).toEqual({ long, short: kept.length - long });
    const raw = sheet.composition.tables.find((t) => t.path === 'data/raw/items.csv')!;
    expect(raw.rows).toBe(WORDS.length);
    expect(raw.columns!.find((c) => c.name === 'text')!.nulls).toBe(WORDS.length - kept.length);

    // A second datasheet reads the tables' columns from the cache: the same numbers.
    const again = await lodeJson<SheetJson>(['datasheet', 'HEAD', '--json'], at);
    expect(again.composition).toEqual(sheet.composition);
  });

  it('--json: changes match lode diff, provenance the lineage, the contract its recorded results', async () => {
    const sheet = await lodeJson<SheetJson>(['datasheet', 'HEAD', '--baseline', 'v1', '--json'], at);
    const sinceParent = await lodeJson<{ summary: Record<string, number> }>(['diff', 'HEAD~1', 'HEAD', '--json'], at);
    const sinceV1 = await lodeJson<{ summary: Record<string, number>; changes: unknown[] }>(['diff', 'v1', 'HEAD', '--json'], at);
    expect(sheet.changes.sinceParent!.summary).toEqual(sinceParent.summary);
    expect(sheet.changes.sinceBaseline!.baseline).toBe('v1');
    expect(sheet.changes.sinceBaseline!.summary).toEqual(sinceV1.summary);
    // since v1: data/clean/items.csv, data/labelled/items.csv and one bird
    expect(sheet.changes.sinceBaseline!.summary.added).toBe(3);
    const bird = sheet.changes.sinceParent!.stat.find((d) => d.dir === 'data/images/bird')!;
    expect([bird.before.files, bird.after.files]).toEqual([1, 2]);
    // class balance since v1: 6 cats, 3 dogs, 1 bird then; one more bird now
    const images = sheet.changes.sinceBaseline!.classes.find((k) => k.path === 'data/images')!;
    expect(images.classes.map((k) => [k.name, k.before, k.after])).toEqual([
      ['bird', 1, 2],
      ['cat', 6, 6],
      ['dog', 3, 3],
    ]);
    expect(images.classes[0].shareBefore).toBeCloseTo(1 / 10, 10);
    expect(images.classes[0].shareAfter).toBeCloseTo(2 / 11, 10);

    expect(sheet.provenance.record).toBe(true);
    const runs = sheet.provenance.lineage.steps.filter((s) => s.kind === 'run');
    expect(runs.map((s) => s.command!.at(-1))).toEqual(['steps/label.mjs', 'steps/clean.mjs']);
    expect(sheet.provenance.lineage.sources).toContain('https://vendor.example/drop-2026-11.tar');

    const check = await lodeJson<{ rules: number; ok: boolean; contractSha256: string }>(['check', 'HEAD', '--json'], at);
    expect(sheet.contract).toMatchObject({ source: 'recorded', file: 'lode.checks.toml', ok: true, rules: check.rules, violations: [] });
    const evaluated = await lodeJson<SheetJson>(['datasheet', 'HEAD', '--evaluate', '--json'], at);
    expect(evaluated.contract).toMatchObject({ source: 'evaluated', ok: true, rules: check.rules });
  });

  it('--json: declared fields come from datasheet.toml, the missing ones are gaps', async () => {
    const sheet = await lodeJson<SheetJson>(['datasheet', '--json'], at);
    const fields = Object.fromEntries(sheet.declared.fields.map((f) => [f.key, f.value]));
    expect(fields['purpose']).toContain(PURPOSE_PREFIX);
    expect(fields['collection_method']).toBe('Vendor drop of November 2026, as delivered.');
    for (const k of ['known_gaps_and_biases', 'personal_data', 'retention']) expect(fields[k]).toBeNull();
    const declaredGaps = sheet.gaps.filter((g) => g.section === 'declared').map((g) => g.field);
    expect(declaredGaps.sort()).toEqual(['known_gaps_and_biases', 'personal_data', 'retention']);
    // the version was made by `lode run`, passes its contract: no other gaps
    expect(sheet.gaps.filter((g) => g.section !== 'declared')).toEqual([]);

    // the vendor drop has manual provenance, but its history starts there; v1 compares with the empty tree
    const v1 = await lodeJson<SheetJson>(['datasheet', 'v1', '--json'], at);
    expect(v1.provenance.record).toBe(true);
    expect(v1.changes.sinceParent!.summary.added).toBe(v1.composition.files);
  });

  it('without datasheet.toml every declared field is a gap', async () => {
    const moved = path.join(base, 'datasheet.toml.aside');
    fs.renameSync(path.join(dir, 'datasheet.toml'), moved);
    try {
      const sheet = await lodeJson<SheetJson>(['datasheet', '--json'], at);
      expect(sheet.declared.found).toBe(false);
      expect(sheet.declared.fields.every((f) => f.value === null)).toBe(true);
      expect(sheet.gaps.filter((g) => g.section === 'declared')).toHaveLength(6);
      // --fields reads another file
      const other = await lodeJson<SheetJson>(['datasheet', '--fields', moved, '--json'], at);
      expect(other.declared.fields.find((f) => f.key === 'purpose')!.value).toContain(PURPOSE_PREFIX);
    } finally {
      fs.renameSync(moved, path.join(dir, 'datasheet.toml'));
    }
  });

  it('Markdown (the default) has every section, the declared text and the gaps', async () => {
    const r = await lodeOk(['datasheet', 'HEAD', '--baseline', 'v1'], at);
    const lines = r.stdout.split('\n');
    const headings = lines.filter((l) => l.startsWith('## '));
    expect(headings).toEqual(['## Version', '## Declared', '## Gaps', '## Composition', '## Provenance', '## Changes', '## Data contract']);
    expect(lines[0]).toBe('# Datasheet: Items and pictures');
    expect(r.stdout).toContain(PURPOSE_PREFIX);
    expect(r.stdout).not.toMatch(/(^|[^\\])<img/m); // escaped as \<img
    expect(lines).toContain('### Since the baseline v1');
    expect(lines).toContain('| `bird` | 1 | 2 | 10% | 18% | +8.2 pp |');
    expect(lines.filter((l) => l === '*Not declared (a gap).*')).toHaveLength(3);
    expect(lines.some((l) => l.startsWith('| `cat` | 6 |'))).toBe(true);
    expect((await lodeOk(['datasheet', 'HEAD', '--baseline', 'v1', '--md'], at)).stdout).toBe(r.stdout);
  });

  it('--html writes one page that renders in headless Chromium and requests nothing', async () => {
    const file = path.join(base, 'sheet.html');
    await lodeOk(['datasheet', 'HEAD', '--baseline', 'v1', '--html', file], at);
    const html = fs.readFileSync(file, 'utf8');
    expect(html).toContain(`default-src 'none'`);
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i);
    const dom = await dumpDom(file);
    expect(dom).toMatch(/data-rendered="ok"/);
    expect(Number(/data-charts="(\d+)"/.exec(dom)?.[1])).toBeGreaterThanOrEqual(3); // file types, classes, label values
    expect(Number(/data-bars-visible="(\d+)"/.exec(dom)?.[1])).toBeGreaterThan(0);
    expect(dom).toContain(PURPOSE_PREFIX);
    expect(dom).toMatch(/data-label="cat" data-value="6"/);
    expect(requests).toEqual([]); // the <img> in the purpose stayed text
    // The lineage graph: the vendor's source, the drop, raw, clean.mjs, clean, label.mjs, labelled — all laid out.
    expect(html).toContain('<svg class="lineage" data-nodes="7" data-edges="6"');
    expect(dom).toMatch(/data-lineage-nodes="7"/);
    expect(dom).toMatch(/data-lineage-visible="7"/);
    fs.mkdirSync('test-artifacts', { recursive: true });
    fs.copyFileSync(file, path.join('test-artifacts', 'e2e-datasheet.html'));
  }, 60_000);

  it('diff --report draws the right-hand version’s lineage when it has a record, and none for the workspace', async () => {
    const file = path.join(base, 'diff.html');
    await lodeOk(['diff', 'v1', 'HEAD', '--report', file], at);
    const html = fs.readFileSync(file, 'utf8');
    expect(html).toContain('<section id="lineage">');
    expect(html).toContain('<svg class="lineage" data-nodes="7" data-edges="6"');
    expect(html.match(/data-kind="step"/g)).toHaveLength(3);
    const dom = await dumpDom(file);
    expect(dom).toMatch(/data-rendered="ok"/);
    expect(dom).toMatch(/data-lineage-visible="7"/);
    await lodeOk(['diff', 'HEAD', '--report', file], at); // HEAD against the files on disk
    expect(fs.readFileSync(file, 'utf8')).not.toContain('<svg class="lineage"');
  }, 60_000);

  it('bad input: an unknown revision, and datasheet.toml errors with line and column', async () => {
    expect(expectLodeError(await runLode(['datasheet', 'no-such-rev'], at), 6)).toMatch(/^error: .*no-such-rev/m);
    expectLodeError(await runLode(['datasheet', 'HEAD', '--baseline', 'nope'], at), 6);
    expectLodeError(await runLode(['datasheet', '--json', '--md'], at), 2);

    const good = fs.readFileSync(path.join(dir, 'datasheet.toml'), 'utf8');
    try {
      writeFile(dir, 'datasheet.toml', 'purpose = "ok"\nretention = "one year\n');
      const syntax = expectLodeError(await runLode(['datasheet'], at), 8);
      expect(syntax).toMatch(/^error: datasheet\.toml:2:\d+: /m);

      writeFile(dir, 'datasheet.toml', 'purpose = "ok"\n\n  porpose = "typo"\n');
      expect(expectLodeError(await runLode(['datasheet'], at), 8)).toMatch(/^error: datasheet\.toml:3:3: unknown key "porpose"$/m);

      writeFile(dir, 'datasheet.toml', 'purpose = "ok"\nretention = 365\n');
      expect(expectLodeError(await runLode(['datasheet', '--json'], at), 8)).toMatch(/^error: datasheet\.toml:2:1: retention must be a string$/m);
    } finally {
      writeFile(dir, 'datasheet.toml', good);
    }
  });
});

describe('lode datasheet on a version committed with --no-verify', () => {
  it('shows the recorded violations, marks them forced and lists them as a gap', async () => {
    const file = path.join(dir, 'data/labelled/items.csv');
    const text = fs.readFileSync(file, 'utf8');
    fs.rmSync(file); // a new file, never a write into one the cache may share
    fs.writeFileSync(file, `${text}99,papaya,medium\n`);
    await lodeOk(['add', 'data/labelled'], at);
    expect((await runLode(['commit', '-m', 'a label outside the set'], at)).code).toBe(1);
    await lodeOk(['commit', '-m', 'a label outside the set', '--no-verify'], at);
    const sheet = await lodeJson<SheetJson & { contract: { forced?: boolean; violations: { path: string; rule: string }[] } }>(['datasheet', '--json'], at);
    const check = await runLode(['check', 'HEAD', '--json'], at);
    expect(check.code).toBe(1);
    const checked = JSON.parse(check.stdout) as { violations: { path: string; rule: string }[] };
    expect(sheet.contract).toMatchObject({ source: 'recorded', ok: false, forced: true });
    expect(sheet.contract!.violations.map((v) => [v.path, v.rule])).toEqual(checked.violations.map((v) => [v.path, v.rule]));
    expect(sheet.contract!.violations.map((v) => v.rule)).toContain('labels.label');
    expect(sheet.gaps.filter((g) => g.section === 'contract').map((g) => g.message)).toEqual([`${checked.violations.length} contract violation${checked.violations.length === 1 ? '' : 's'} (committed with --no-verify)`]);
    const md = (await lodeOk(['datasheet'], at)).stdout;
    expect(md).toMatch(/^\| `data\/labelled\/items\.csv` \| `labels\.label` \|/m);
  });

  it('a contract that no longer parses: recorded results still shown with a gap; --evaluate fails with its line', async () => {
    const contract = path.join(dir, 'lode.checks.toml');
    const good = fs.readFileSync(contract, 'utf8');
    try {
      fs.writeFileSync(contract, `${good}oops = = 3\n`);
      const sheet = await lodeJson<SheetJson>(['datasheet', '--json'], at);
      expect(sheet.contract).toMatchObject({ source: 'recorded', ok: false });
      expect(sheet.gaps.some((g) => g.section === 'contract' && g.message.includes('lode.checks.toml:'))).toBe(true);
      const line = good.split('\n').length; // good ends with a newline: the next line is this one
      expect(expectLodeError(await runLode(['datasheet', '--evaluate'], at), 8)).toMatch(new RegExp(`^error: lode\\.checks\\.toml:${line}:8: `, 'm'));
    } finally {
      fs.writeFileSync(contract, good);
    }
  });
});
