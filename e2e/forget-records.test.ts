// `lode forget` and commit records (provenance and check results), through
// the built binary: a pipeline made with `lode run` (raw -> clean ->
// labelled, the last committed with --no-verify so that the contract's
// violations, which quote a value of the row to erase, are recorded); one
// row erased from every version; `lode lineage` then walks the rewritten
// commits end to end, every ID it names is one of the new history, and the
// erased values are in no byte of .lode (old records deleted, profile cache
// dropped), which `lode forget --verify` confirms. A whole input file
// erased: the step that read it says so. Old records do not survive gc.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lodeJson, lodeOk, makeTempDir, removeDir, runLode, writeFile, type RunOptions } from '../test/helpers/cli.js';
import { readExpanded } from '../test/helpers/packs.js';

const NODE = process.execPath;

// The key of the row to erase is a tag no contract allows, and its score is out of range:
// both show in the recorded violations.
const SECRET_TAG = 'ZQ-ERASE-91x';
const SECRET_SCORE = '987654.5';

const CLEAN = `import fs from 'node:fs';
const rows = fs.readFileSync('data/raw/items.csv', 'utf8').trim().split('\\n');
const kept = [rows[0], ...rows.slice(1).filter((r) => r.split(',')[1] !== '')];
fs.mkdirSync('data/clean', { recursive: true });
fs.writeFileSync('data/clean/items.csv', kept.join('\\n') + '\\n');
`;

const LABEL = `import fs from 'node:fs';
import path from 'node:path';
const rows = fs.readFileSync(path.join(process.env.LODE_INPUT_0, 'items.csv'), 'utf8').trim().split('\\n');
const out = ['id,text,tag,score,label', ...rows.slice(1).map((r) => { const [id, text, tag, score] = r.split(','); return [id, text, tag, score, text.length > 4 ? 'long' : 'short'].join(','); })];
fs.mkdirSync(process.env.LODE_OUTPUT_0, { recursive: true });
fs.writeFileSync(path.join(process.env.LODE_OUTPUT_0, 'items.csv'), out.join('\\n') + '\\n');
`;

const CONTRACT = `[[table]]
path = "data/labelled/*.csv"
labels = { tag = ["a", "b"] }
range = { score = [0, 100] }
`;

function rawCsv(withSecret: boolean): string {
  const words = ['apple', 'fig', 'banana', '', 'kiwi', 'cherry', 'plum', 'melon'];
  const rows = ['id,text,tag,score', ...words.map((w, i) => `${i + 1},${w},${i % 2 ? 'a' : 'b'},${10 + i}`)];
  if (withSecret) rows.splice(3, 0, `77,secretrow,${SECRET_TAG},${SECRET_SCORE}`);
  return `${rows.join('\n')}\n`;
}

let base: string;
beforeAll(() => {
  base = makeTempDir('lode-e2e-forget-records');
});
afterAll(() => {
  if (base) removeDir(base);
});

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function holding(dir: string, needle: string): string[] {
  const n = Buffer.from(needle);
  // A pack's compressed objects are searched as they decompress.
  return filesUnder(dir).filter((f) => readExpanded(f).includes(n));
}

interface Pipeline {
  dir: string;
  at: RunOptions;
  raw: string;
  clean: string;
  labelled: string;
}

/** pipeline makes raw (by hand, with a source), clean and labelled (lode run, the last with recorded violations). */
async function pipeline(name: string): Promise<Pipeline> {
  const dir = path.join(base, name);
  fs.mkdirSync(dir);
  const at = { cwd: dir };
  await lodeOk(['init'], at);
  writeFile(dir, 'steps/clean.mjs', CLEAN);
  writeFile(dir, 'steps/label.mjs', LABEL);
  writeFile(dir, 'data/raw/items.csv', rawCsv(true));
  await lodeOk(['add', 'data/raw'], at);
  const raw = (await lodeJson(['commit', '-m', 'vendor drop', '--source', 'https://vendor.example/drop.tar'], at)).id;
  const clean = (await lodeJson(['run', '-i', 'data/raw', '-o', 'data/clean', '--', NODE, 'steps/clean.mjs'], at)).commit.id;
  writeFile(dir, 'lode.checks.toml', CONTRACT);
  // The contract refuses the labelled data (the secret row breaks it): committed anyway, the violations recorded.
  const refused = await runLode(['run', '-i', 'HEAD:data/clean', '-o', 'data/labelled', '-m', 'label', '--', NODE, 'steps/label.mjs'], at);
  expect(refused.code).not.toBe(0);
  const labelled = (await lodeJson(['run', '--no-verify', '-i', 'HEAD:data/clean', '-o', 'data/labelled', '-m', 'label', '--', NODE, 'steps/label.mjs'], at)).commit.id;
  return { dir, at, raw, clean, labelled };
}

/** stepsOf flattens a lineage: each step, then the steps of its inputs. */
function stepsOf(step: any): any[] {
  if (!step) return [];
  return [step, ...step.inputs.flatMap((i: any) => stepsOf(i.upstream))];
}

describe('forget rewrites commit records', () => {
  it('maps lineage to the rewritten commits and redacts violations that quote erased values', async () => {
    const w = await pipeline('rows');
    // Before: the violations quote the secret, and --verify finds it in the record too.
    const before = await lodeJson(['show', w.labelled], w.at);
    const quoted = before.record.checks.violations.filter((v: any) => JSON.stringify(v).includes(SECRET_TAG) || JSON.stringify(v).includes(SECRET_SCORE));
    expect(quoted.map((v: any) => v.rule).sort()).toEqual(['labels.tag', 'range.score']);
    expect(holding(path.join(w.dir, '.lode'), SECRET_TAG).length).toBeGreaterThan(0);
    const verifyBefore = await runLode(['forget', '--verify', '--rows', '*.csv', '--key', `tag=${SECRET_TAG}`], w.at);
    expect(verifyBefore.code).toBe(1);
    expect(verifyBefore.stdout.split('\n').some((l) => l.includes(`record's check violation labels.tag on data/labelled/items.csv quotes an erased value`))).toBe(true);

    const r = await lodeJson(['forget', '--rows', '*.csv', '--key', `tag=${SECRET_TAG}`], w.at);
    expect(r.matched).toBe(true);
    // clean's and labelled's (the hand-made raw record names no ID: it stays as it is).
    expect(r.recordsRewritten).toBe(2);
    const newOf = new Map<string, string>(r.commits.map((c: any) => [c.old, c.new]));
    const [raw, clean, labelled] = [w.raw, w.clean, w.labelled].map((id) => newOf.get(id)!);
    expect([raw, clean, labelled].every((x) => typeof x === 'string')).toBe(true);

    // Lineage walks the new history end to end, down to the source.
    const lin = await lodeJson(['lineage', 'HEAD:data/labelled'], w.at);
    const steps = stepsOf(lin.steps[0]);
    expect(steps.map((s) => s.commit)).toEqual([labelled, clean, raw]);
    expect(lin.sources).toEqual(['https://vendor.example/drop.tar']);
    const inputs = steps.flatMap((s) => s.inputs);
    expect(inputs.some((i: any) => i.note)).toBe(false);
    for (const i of inputs) expect([raw, clean, labelled]).toContain(i.commit);
    // Each input's ID is the one its path has in the rewritten commit it names; each output's too.
    const idAt = async (commit: string, p: string) => {
      const dirName = path.posix.dirname(p);
      const entries = (await lodeJson(['ls', `${commit}:${dirName}`], w.at)).entries;
      return entries.find((e: any) => e.name === path.posix.basename(p)).id;
    };
    for (const i of inputs) expect(i.id).toBe(await idAt(i.commit, i.path));
    for (const s of steps) for (const o of s.outputs) expect(o.id).toBe(await idAt(s.commit, o.path));

    // The violations of the rewritten version are redacted, and say so.
    const after = await lodeJson(['show', labelled], w.at);
    const vs = after.record.checks.violations;
    expect(vs.length).toBe(before.record.checks.violations.length);
    for (const v of vs.filter((x: any) => x.path === 'data/labelled/items.csv')) {
      expect(v.redacted).toBe(true);
      expect(v.observed).toBe('[redacted by lode forget]');
    }
    expect(JSON.stringify(after.record)).not.toContain(SECRET_TAG);
    expect(JSON.stringify(after.record)).not.toContain(SECRET_SCORE);

    // Nothing of the row anywhere: not in the store, not in old records, not in cached profiles.
    await lodeOk(['gc'], w.at);
    expect(holding(path.join(w.dir, '.lode'), SECRET_TAG)).toEqual([]);
    expect(holding(path.join(w.dir, '.lode'), SECRET_SCORE)).toEqual([]);
    const verify = await runLode(['forget', '--verify', '--rows', '*.csv', '--key', `tag=${SECRET_TAG}`], w.at);
    expect(verify.stdout).toContain('Nothing matching the rule remains');
    expect(verify.code).toBe(0);
    // The erasure record lists the old record as erased (so remotes and other workspaces delete it too).
    const oldRecordId: string = before.commit.record;
    expect(oldRecordId).toMatch(/^[0-9a-f]{64}$/);
    expect(after.commit.record).not.toBe(oldRecordId);
    const erasure = JSON.parse(fs.readFileSync(path.join(w.dir, '.lode', 'erasures', r.record), 'utf8').split('\n')[1]);
    expect(erasure.erased).toContain(oldRecordId);
    await lodeOk(['fsck'], w.at);
    // Lineage still walks after gc (the new records and commits are kept).
    const again = await lodeJson(['lineage', 'HEAD:data/labelled'], w.at);
    expect(stepsOf(again.steps[0]).map((s) => s.commit)).toEqual([labelled, clean, raw]);
  });

  it('the rewritten records travel: a second workspace applies the erasure on fetch and walks the new lineage', async () => {
    const w = await pipeline('travel');
    const remote = path.join(base, 'travel-remote');
    await lodeOk(['remote', 'add', 'origin', remote], w.at);
    await lodeOk(['push'], w.at);
    const other = path.join(base, 'travel-other');
    await lodeOk(['clone', '--all', remote, other], { cwd: base });
    expect(holding(path.join(other, '.lode'), SECRET_TAG).length).toBeGreaterThan(0);
    expect(holding(remote, SECRET_SCORE).length).toBeGreaterThan(0);
    const r = await lodeJson(['forget', '--rows', '*.csv', '--key', `tag=${SECRET_TAG}`, '--push'], w.at);
    const newOf = new Map<string, string>(r.commits.map((c: any) => [c.old, c.new]));
    const expected = [w.labelled, w.clean, w.raw].map((x) => newOf.get(x));
    // The other workspace learns of the erasure on fetch: its refs move, its old records go.
    await lodeOk(['pull'], { cwd: other });
    const lin = await lodeJson(['lineage', 'HEAD:data/labelled'], { cwd: other });
    expect(stepsOf(lin.steps[0]).map((s) => s.commit)).toEqual(expected);
    expect(stepsOf(lin.steps[0]).flatMap((s) => s.inputs).some((i: any) => i.note)).toBe(false);
    await lodeOk(['gc'], { cwd: other });
    expect(holding(path.join(other, '.lode'), SECRET_TAG)).toEqual([]);
    expect(holding(remote, SECRET_TAG)).toEqual([]);
    expect(holding(remote, SECRET_SCORE)).toEqual([]);
  });

  it('moves an input whose content was erased entirely to erasedInputs', async () => {
    const w = await pipeline('paths');
    const r = await lodeJson(['forget', 'data/raw'], w.at);
    expect(r.matched).toBe(true);
    const newOf = new Map<string, string>(r.commits.map((c: any) => [c.old, c.new]));
    const clean = newOf.get(w.clean)!;
    const shown = await lodeJson(['show', clean], w.at);
    const p = shown.record.provenance;
    expect(p.inputs).toEqual([]);
    expect(p.erasedInputs).toEqual([{ spec: 'data/raw', path: 'data/raw' }]);
    // The step's own output is kept, with its ID in the rewritten commit.
    expect(p.outputs.map((o: any) => o.path)).toEqual(['data/clean']);
    const lin = await lodeJson(['lineage', `${clean}:data/clean`], w.at);
    expect(lin.steps[0].commit).toBe(clean);
    expect(lin.steps[0].inputs).toEqual([]);
    expect(lin.steps[0].erasedInputs).toEqual(['data/raw']);
    const text = await lodeOk(['lineage', `${clean}:data/clean`], w.at);
    expect(text.stdout.split('\n').some((l) => l.trim() === '← data/raw (erased by lode forget)')).toBe(true);
  });
});
