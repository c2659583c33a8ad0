// Data governance through the built binary in a real git repository: a
// three-step pipeline (raw -> clean -> labelled) made with `lode run`,
// lineage walked back and forward, reruns that reproduce and one that does
// not, a data contract that passes, a relabel it refuses, --no-verify, and
// provenance travelling through push, clone and pull; then the bad inputs.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, removeDir, runLode, writeFile, type RunOptions } from '../test/helpers/cli.js';

const NODE = process.execPath;

const CLEAN = `import fs from 'node:fs';
const rows = fs.readFileSync('data/raw/items.csv', 'utf8').trim().split('\\n');
const kept = [rows[0], ...rows.slice(1).filter((r) => r.split(',')[1] !== '')];
fs.mkdirSync('data/clean', { recursive: true });
fs.writeFileSync('data/clean/items.csv', kept.join('\\n') + '\\n');
`;

// Reads through the environment lode sets: works wherever the input lies.
const LABEL = `import fs from 'node:fs';
import path from 'node:path';
const rows = fs.readFileSync(path.join(process.env.LODE_INPUT_0, 'items.csv'), 'utf8').trim().split('\\n');
const out = ['id,text,label', ...rows.slice(1).map((r) => { const [id, text] = r.split(','); return [id, text, text.length > 4 ? 'long' : 'short'].join(','); })];
fs.mkdirSync(process.env.LODE_OUTPUT_0, { recursive: true });
fs.writeFileSync(path.join(process.env.LODE_OUTPUT_0, 'items.csv'), out.join('\\n') + '\\n');
`;

const NOISY = `import fs from 'node:fs';
fs.mkdirSync('data/noise', { recursive: true });
fs.writeFileSync('data/noise/n.txt', String(Math.random()) + ' ' + Date.now() + '\\n');
`;

const CONTRACT = `# the contract of the labelled data
[[table]]
path = "data/labelled/*.csv"
columns = { id = "integer", text = "string", label = "string" }
unique = ["id"]
labels = { label = ["long", "short"] }
rows = [5, 1000]

[table.drift]
max_share_shift_pp = { label = 15 }
schema_changes = false

[[folder]]
path = "data/images"
classes = ["cat", "dog"]
class_files = [1, 100]
max_file_bytes = 1000
`;

function rawCsv(): string {
  const words = ['apple', 'fig', 'banana', '', 'kiwi', 'cherry', 'plum', 'melon', '', 'pear', 'grape', 'lime'];
  return ['id,text', ...words.map((w, i) => `${i + 1},${w}`)].join('\n') + '\n';
}

const temps: string[] = [];
afterAll(() => temps.forEach(removeDir));

interface Work {
  dir: string;
  at: RunOptions;
}

let env: Record<string, string>;
let base: string;

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

async function newWork(name: string): Promise<Work> {
  const dir = path.join(base, name);
  fs.mkdirSync(dir);
  git(dir, 'init', '-q');
  const at = { cwd: dir, env };
  await lodeOk(['init'], at);
  return { dir, at };
}

beforeAll(() => {
  base = makeTempDir('lode-e2e-governance');
  temps.push(base);
  const home = path.join(base, 'home');
  fs.mkdirSync(home);
  env = {
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Ada Tester',
    GIT_AUTHOR_EMAIL: 'ada@example.com',
    GIT_COMMITTER_NAME: 'Ada Tester',
    GIT_COMMITTER_EMAIL: 'ada@example.com',
  };
});

/** pipeline builds raw (by hand, with its source), clean and labelled (with lode run) in a git work tree. */
async function pipeline(name: string): Promise<Work & { raw: string; clean: string; labelled: string }> {
  const w = await newWork(name);
  writeFile(w.dir, 'steps/clean.mjs', CLEAN);
  writeFile(w.dir, 'steps/label.mjs', LABEL);
  writeFile(w.dir, 'steps/noisy.mjs', NOISY);
  writeFile(w.dir, 'lode.checks.toml', CONTRACT);
  git(w.dir, 'add', 'steps', 'lode.checks.toml');
  git(w.dir, 'commit', '-qm', 'pipeline code');
  writeFile(w.dir, 'data/raw/items.csv', rawCsv());
  await lodeOk(['add', 'data/raw'], w.at);
  const raw = (await lodeJson(['commit', '-m', 'vendor drop', '--source', 'https://vendor.example/drop-2026-11.tar', '--note', 'as delivered', '--json'], w.at)).id;
  const clean = (await lodeJson(['run', '-i', 'data/raw', '-o', 'data/clean', '--json', '--', NODE, 'steps/clean.mjs'], w.at)).commit.id;
  const labelled = (await lodeJson(['run', '-i', 'HEAD:data/clean', '-o', 'data/labelled', '-m', 'label by length', '--json', '--', NODE, 'steps/label.mjs'], w.at)).commit.id;
  return { ...w, raw, clean, labelled };
}

describe('lineage', () => {
  it('records each step and walks back from labelled data to the external source', async () => {
    const w = await pipeline('lineage');
    const show = await lodeJson(['show', w.labelled, '--json'], w.at);
    const p = show.record.provenance;
    expect(p.kind).toBe('run');
    expect(p.command).toEqual([NODE, 'steps/label.mjs']);
    expect(p.inputs).toEqual([expect.objectContaining({ spec: 'HEAD:data/clean', path: 'data/clean', kind: 'tree', commit: w.clean })]);
    expect(p.outputs.map((o: { path: string }) => o.path)).toEqual(['data/labelled']);
    expect(p.code.git).toBe(git(w.dir, 'rev-parse', 'HEAD'));
    expect(p.code.dirty).toBe(false);
    expect(p.exit).toBe(0);
    expect(p.end).toBeGreaterThanOrEqual(p.start);
    expect(typeof p.lode).toBe('string');
    expect(typeof p.user).toBe('string');
    // The input's ID is the one data/clean had in the commit that made it.
    const cleanTree = (await lodeJson(['ls', `${w.clean}:data`, '--json'], w.at)).entries.find((e: { name: string }) => e.name === 'clean').id;
    expect(p.inputs[0].id).toBe(cleanTree);

    const back = await lodeJson(['lineage', 'HEAD:data/labelled/items.csv', '--json'], w.at);
    expect(back.steps).toHaveLength(1);
    const label = back.steps[0];
    expect(label.commit).toBe(w.labelled);
    const clean = label.inputs[0].upstream;
    expect(clean.commit).toBe(w.clean);
    expect(clean.command).toEqual([NODE, 'steps/clean.mjs']);
    const raw = clean.inputs[0].upstream;
    expect(raw.commit).toBe(w.raw);
    expect(raw.kind).toBe('manual');
    expect(raw.sources).toEqual(['https://vendor.example/drop-2026-11.tar']);
    expect(raw.note).toBe('as delivered');
    expect(back.sources).toEqual(['https://vendor.example/drop-2026-11.tar']);

    const text = (await lodeOk(['lineage', 'HEAD:data/labelled'], w.at)).stdout;
    expect(text).toMatch(/^ {4}run .*steps\/label\.mjs by /m);
    expect(text).toMatch(/source https:\/\/vendor\.example\/drop-2026-11\.tar/);

    const all = await lodeJson(['lineage', '--json'], w.at);
    expect(all.steps.map((s: { commit: string }) => s.commit)).toEqual([w.labelled, w.clean, w.raw]);

    const down = await lodeJson(['lineage', '--downstream', 'data/raw', '--json'], w.at);
    expect(down.derived.map((d: { commit: string; level: number }) => [d.commit, d.level])).toEqual([
      [w.labelled, 2],
      [w.clean, 1],
    ]);
    // At a version no step read, nothing derives from it.
    writeFile(w.dir, 'data/raw/items.csv', rawCsv() + '99,extra\n');
    await lodeOk(['add', 'data/raw'], w.at);
    await lodeOk(['commit', '-m', 'more raw', '--no-verify'], w.at);
    expect((await lodeJson(['lineage', '--downstream', 'HEAD:data/raw', '--json'], w.at)).derived).toEqual([]);
    expect((await lodeJson(['lineage', '--downstream', `${w.raw}:data/raw`, '--json'], w.at)).derived).toHaveLength(2);

    const log = (await lodeOk(['log', '--oneline'], w.at)).stdout;
    expect(log).toMatch(/\[✓ checks\] label by length/);
    const entry = (await lodeJson(['log', '-n', '1', w.labelled, '--json'], w.at)).commits[0];
    expect(entry.provenance).toEqual({ kind: 'run', command: [NODE, 'steps/label.mjs'], inputs: ['HEAD:data/clean'], outputs: ['data/labelled'], sources: [] });
  });

  it('reads an input at another version from a scratch copy, and records that version', async () => {
    const w = await pipeline('materialise');
    // The workspace's clean data moves on; the step asks for the older one.
    writeFile(w.dir, 'data/clean/items.csv', 'id,text\n1,changed\n');
    await lodeOk(['add', 'data/clean'], w.at);
    await lodeOk(['commit', '-m', 'hand edit'], w.at);
    // Code edited but not committed: the record says so.
    fs.appendFileSync(path.join(w.dir, 'steps/label.mjs'), '// tweak\n');
    const r = await lodeJson(['run', '-i', `${w.clean}:data/clean`, '-o', 'data/relabelled', '--json', '--', NODE, 'steps/label.mjs'], w.at);
    expect(r.provenance.code).toEqual({ git: git(w.dir, 'rev-parse', 'HEAD'), dirty: true });
    expect(r.materialised).toEqual([`${w.clean}:data/clean`]);
    expect(r.provenance.inputs[0].commit).toBe(w.clean);
    const made = fs.readFileSync(path.join(w.dir, 'data/relabelled/items.csv'), 'utf8');
    expect(made).toBe(fs.readFileSync(path.join(w.dir, 'data/labelled/items.csv'), 'utf8'));
  });
});

describe('rerun', () => {
  it('says byte-identical for a deterministic step and not for one using time and randomness', async () => {
    const w = await pipeline('rerun');
    const same = await runLode(['rerun', w.clean, '--json'], w.at);
    expect(same.code, same.stderr).toBe(0);
    expect(JSON.parse(same.stdout)).toMatchObject({ identical: true, outputs: [{ path: 'data/clean', files: 1, differ: [], missing: [], extra: [] }] });
    expect((await runLode(['rerun', w.labelled], w.at)).stdout).toMatch(/byte-identical/);
    // The workspace is untouched by a rerun.
    const before = fs.readFileSync(path.join(w.dir, 'data/clean/items.csv'));
    await lodeOk(['run', '-o', 'data/noise', '--', NODE, 'steps/noisy.mjs'], w.at);
    const noisy = await runLode(['rerun', 'HEAD', '--json'], w.at);
    expect(noisy.code).toBe(1);
    expect(JSON.parse(noisy.stdout).outputs[0].differ).toEqual(['data/noise/n.txt']);
    expect(fs.readFileSync(path.join(w.dir, 'data/clean/items.csv'))).toEqual(before);
    const text = await runLode(['rerun', 'HEAD'], w.at);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/Not reproducible/);
    // A commit without a recorded step cannot be rerun.
    expectLodeError(await runLode(['rerun', w.raw], w.at), 2);
  });
});

describe('quality gates', () => {
  it('passes the contract, refuses a relabel that shifts label shares, and records --no-verify', async () => {
    const w = await pipeline('gates');
    const ok = await runLode(['check', 'HEAD', '--json'], w.at);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const rep = JSON.parse(ok.stdout);
    expect(rep.ok).toBe(true);
    expect(rep.rules).toBeGreaterThan(5);
    // The profile of an unchanged table comes from the cache.
    expect(rep.tables).toEqual({ scanned: 0, cached: 1 });
    expect((await lodeJson(['show', '--json'], w.at)).record.checks).toMatchObject({ contract: 'lode.checks.toml', violations: [], forced: false });

    // Relabel: almost everything becomes "long" (a share shift far beyond 15 pp).
    const file = path.join(w.dir, 'data/labelled/items.csv');
    const relabelled = fs.readFileSync(file, 'utf8').replace(/,short$/gm, ',long');
    fs.writeFileSync(file, relabelled);
    await lodeOk(['add', 'data/labelled'], w.at);
    const head = (await lodeJson(['log', '-n', '1', '--json'], w.at)).commits[0].id;
    const check = await runLode(['check'], w.at);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/data\/labelled\/items\.csv: drift\.max_share_shift_pp\.label: .*percentage points/);
    const refused = await runLode(['commit', '-m', 'relabel'], w.at);
    const err = expectLodeError(refused, 1);
    expect(err).toMatch(/^error: the data contract \(lode\.checks\.toml\) found 1 violation: nothing was committed$/m);
    expect(err).toMatch(/drift\.max_share_shift_pp\.label/);
    expect((await lodeJson(['log', '-n', '1', '--json'], w.at)).commits[0].id).toBe(head);

    const forced = await lodeJson(['commit', '-m', 'relabel anyway', '--no-verify', '--json'], w.at);
    expect(forced.checks.ok).toBe(false);
    const entry = (await lodeJson(['log', '-n', '1', '--json'], w.at)).commits[0];
    expect(entry.checks).toEqual({ rules: expect.any(Number), violations: 1, forced: true });
    expect((await lodeOk(['log', '--oneline'], w.at)).stdout).toMatch(/\[✗ 1 violation \(--no-verify\)\] relabel anyway/);
    const d = await lodeJson(['diff', 'HEAD~1', 'HEAD', '--json'], w.at);
    expect(d.from.checks).toEqual({ rules: expect.any(Number), violations: 0, forced: false });
    expect(d.to.checks.violations).toBe(1);
    const report = path.join(w.dir, 'report.html');
    await lodeOk(['diff', 'HEAD~1', 'HEAD', '--report', report], w.at);
    const html = fs.readFileSync(report, 'utf8');
    expect(html).toContain('<span class="checks ok">✓ checks</span>');
    expect(html).toContain('<span class="checks bad">✗ 1 violation (--no-verify)</span>');
    const recorded = await runLode(['check', 'HEAD', '--json'], w.at);
    expect(recorded.code).toBe(1);
    expect(JSON.parse(recorded.stdout).recorded.forced).toBe(true);
  });

  it('checks folder-per-class datasets from tree statistics', async () => {
    const w = await newWork('folders');
    writeFile(w.dir, 'lode.checks.toml', CONTRACT);
    writeFile(w.dir, 'data/images/cat/1.jpg', 'c1');
    writeFile(w.dir, 'data/images/dog/1.jpg', 'd1');
    await lodeOk(['add', 'data'], w.at);
    await lodeOk(['commit', '-m', 'images'], w.at);
    writeFile(w.dir, 'data/images/bird/1.jpg', 'x'.repeat(2000));
    await lodeOk(['add', 'data'], w.at);
    const r = await runLode(['check', '--json'], w.at);
    expect(r.code).toBe(1);
    const rules = JSON.parse(r.stdout).violations.map((v: { path: string; rule: string }) => `${v.path} ${v.rule}`);
    expect(rules.sort()).toEqual(['data/images classes', 'data/images max_file_bytes']);
  });

  it('leaves a commit with no contract and no provenance without a record', async () => {
    const w = await newWork('plain');
    writeFile(w.dir, 'data/a.txt', 'a\n');
    await lodeOk(['add', 'data'], w.at);
    const c = await lodeJson(['commit', '-m', 'plain', '--json'], w.at);
    expect(c.record).toBeUndefined();
    expect((await lodeJson(['log', '--json'], w.at)).commits[0].record).toBeUndefined();
  });
});

describe('provenance travels', () => {
  it('survives push, clone, pull and gc', async () => {
    const w = await pipeline('travel');
    const share = path.join(base, 'travel-share');
    await lodeOk(['remote', 'add', 'share', share], w.at);
    await lodeOk(['push', 'share', 'main'], w.at);
    const bob = path.join(base, 'travel-bob');
    await lodeOk(['clone', share, bob], { cwd: base, env });
    const at = { cwd: bob, env };
    const back = await lodeJson(['lineage', 'HEAD:data/labelled', '--json'], at);
    expect(back.steps[0].inputs[0].upstream.inputs[0].upstream.sources).toEqual(['https://vendor.example/drop-2026-11.tar']);
    expect((await lodeJson(['show', '--json'], at)).record.checks.violations).toEqual([]);
    // Bob gets the code from git (here: a copy): the contract holds and the steps reproduce on his clone,
    // whose fetched small files may live in local packs.
    fs.cpSync(path.join(w.dir, 'steps'), path.join(bob, 'steps'), { recursive: true });
    fs.copyFileSync(path.join(w.dir, 'lode.checks.toml'), path.join(bob, 'lode.checks.toml'));
    const bobCheck = await runLode(['check', 'HEAD', '--json'], at);
    expect(bobCheck.code, bobCheck.stdout + bobCheck.stderr).toBe(0);
    expect(JSON.parse(bobCheck.stdout)).toMatchObject({ ok: true, skipped: [], tables: { scanned: 1, cached: 0 } });
    const bobRerun = await runLode(['rerun', w.clean, '--json'], at);
    expect(bobRerun.code, bobRerun.stderr).toBe(0);
    expect(JSON.parse(bobRerun.stdout).identical).toBe(true);

    await lodeOk(['run', '-i', 'data/clean', '-o', 'data/noise', '--', NODE, path.join(w.dir, 'steps/noisy.mjs')], w.at);
    await lodeOk(['push', 'share', 'main'], w.at);
    await lodeOk(['pull'], at);
    const pulled = (await lodeJson(['log', '-n', '1', '--json'], at)).commits[0];
    expect(pulled.provenance.inputs).toEqual(['data/clean']);
    expect(pulled.provenance.outputs).toEqual(['data/noise']);

    await lodeOk(['gc'], w.at);
    expect((await lodeJson(['lineage', 'HEAD:data/labelled', '--json'], w.at)).steps[0].commit).toBe(w.labelled);
    const fsck = await runLode(['fsck'], w.at);
    expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
    // Remote gc counts records as live: nothing of this history is dead.
    expect((await lodeJson(['gc', '--remote', 'share', '--json'], w.at)).deadObjects).toBe(0);
    const remote = await runLode(['fsck', '--remote', 'share'], w.at);
    expect(remote.code, remote.stdout + remote.stderr).toBe(0);
  });
});

describe('bad input', () => {
  it('names line and column of a malformed contract, and a rule on a missing column', async () => {
    const w = await pipeline('bad-contract');
    writeFile(w.dir, 'data/labelled/broken.csv', 'id,text,label\n1,"never closed\n');
    await lodeOk(['add', 'data/labelled'], w.at);
    const unreadable = await runLode(['check', '--json'], w.at);
    expect(unreadable.code).toBe(1);
    expect(JSON.parse(unreadable.stdout).violations).toEqual([expect.objectContaining({ path: 'data/labelled/broken.csv', rule: 'format', observed: 'unreadable', allowed: 'csv' })]);
    writeFile(w.dir, 'lode.checks.toml', '[[table]]\npath = "data/labelled/*.csv"\nrows = [1, \n');
    const syntax = expectLodeError(await runLode(['check'], w.at), 8);
    expect(syntax).toMatch(/^error: lode\.checks\.toml:\d+:\d+: /m);
    writeFile(w.dir, 'lode.checks.toml', '[[table]]\npath = "data/labelled/*.csv"\n\nmax_nul_rate = { text = 0.1 }\n');
    expect(expectLodeError(await runLode(['check'], w.at), 8)).toMatch(/^error: lode\.checks\.toml:4:1: \[\[table\]\] #1: unknown key "max_nul_rate"/m);
    writeFile(w.dir, 'lode.checks.toml', '[[table]]\npath = "data/labelled/*.csv"\nmax_null_rate = { txet = 0.1 }\n');
    const missing = expectLodeError(await runLode(['check'], w.at), 8);
    expect(missing).toMatch(/^error: lode\.checks\.toml:3:1: .*column "txet", which data\/labelled\/items\.csv does not have \(columns: id, text, label\)$/m);
    // A commit refuses to go on with a broken contract too.
    writeFile(w.dir, 'data/raw/more.csv', 'id\n1\n');
    await lodeOk(['add', 'data/raw'], w.at);
    expectLodeError(await runLode(['commit', '-m', 'x'], w.at), 8);
  });

  it('a command not found, an output outside the workspace, a failing step: nothing committed', async () => {
    const w = await pipeline('bad-run');
    const head = (await lodeJson(['log', '-n', '1', '--json'], w.at)).commits[0].id;
    const nf = await runLode(['run', '-o', 'data/x', '--', 'no-such-command-lode'], w.at);
    expectLodeError(nf, 6);
    expect(nf.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual(['error: command not found: no-such-command-lode']);
    expectLodeError(await runLode(['run', '-o', '../outside', '--', NODE, '-e', ''], w.at), 2);
    expect(fs.existsSync(path.join(base, 'outside'))).toBe(false);
    const failed = await runLode(['run', '-o', 'data/y', '--', NODE, '-e', 'require("fs").mkdirSync("data/y"); process.exit(3)'], w.at);
    expect(expectLodeError(failed, 11)).toMatch(/^error: the step exited with status 3: nothing was committed$/m);
    expectLodeError(await runLode(['run', '-i', 'data/nope', '-o', 'data/z', '--', NODE, '-e', ''], w.at), 6);
    expectLodeError(await runLode(['run', '-o', 'data/z', NODE], w.at), 2);
    expect((await lodeJson(['log', '-n', '1', '--json'], w.at)).commits[0].id).toBe(head);
  });
});
