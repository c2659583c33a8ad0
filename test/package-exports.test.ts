/**
 * The library as a user installs it: a scratch package in a temp directory
 * with `lode` in its node_modules (a link to this project, built), importing
 * by the package name. docs/library.md lists every export; the test holds the
 * package to that list exactly, imports every documented value and type, and
 * uses them for real (init, add, commit, diff, the HTML report...).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** documentedExports reads the Values: and Types: lists of "Everything `lode` exports" in docs/library.md. */
function documentedExports(): { values: string[]; types: string[] } {
  const md = fs.readFileSync(path.join(ROOT, 'docs', 'library.md'), 'utf8');
  const start = md.indexOf('## Everything `lode` exports');
  if (start < 0) throw new Error('docs/library.md has no "Everything `lode` exports" section');
  const rest = md.slice(start + 3);
  const section = rest.slice(0, rest.search(/\n## /) < 0 ? undefined : rest.search(/\n## /));
  const list = (label: string, next: string | undefined) => {
    const a = section.indexOf(`\n${label}:\n`);
    if (a < 0) throw new Error(`no ${label}: list in the exports section`);
    const b = next ? section.indexOf(`\n${next}:\n`, a) : section.length;
    return [...section.slice(a, b < 0 ? undefined : b).matchAll(/`([A-Za-z_][A-Za-z0-9_]*)`/g)].map((m) => m[1]);
  };
  return { values: list('Values', 'Types'), types: list('Types', undefined) };
}

let dir: string;
const docs = documentedExports();

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) throw new Error('build first: npx tsc -p tsconfig.json');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-consumer-'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'lode-consumer', private: true, type: 'module', dependencies: { lode: `file:${ROOT}` } }));
  // What `npm install` of a file: dependency does: a link in node_modules.
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'lode'), 'dir');
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function node(script: string, text: string): string {
  const file = path.join(dir, script);
  fs.writeFileSync(file, text);
  return execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('the lode package, imported by name from another package', () => {
  it('documents a list that is not empty and has no duplicates', () => {
    expect(docs.values.length).toBeGreaterThan(30);
    expect(docs.types.length).toBeGreaterThan(30);
    expect(new Set(docs.values).size).toBe(docs.values.length);
    expect(new Set(docs.types).size).toBe(docs.types.length);
  });

  it('exports exactly the documented values, and each works', () => {
    // A static import of every documented name: a missing one fails at link time.
    const script = `
import { ${docs.values.join(', ')} } from 'lode';
import * as all from 'lode';
import * as fs from 'node:fs';
import * as path from 'node:path';
const out = { keys: Object.keys(all).sort(), kinds: {} };
for (const n of ${JSON.stringify(docs.values)}) out.kinds[n] = typeof all[n];
const root = path.join(process.cwd(), 'ws');
await init({ dir: root });
const repo = Repository.open(root);
fs.mkdirSync(path.join(root, 'data'));
fs.writeFileSync(path.join(root, 'data', 'a.csv'), 'id,v\\n1,x\\n2,y\\n');
await add(repo, { paths: ['data'], cwd: root });
const c1 = await commit(repo, { message: 'one', author: 'A <a@x>', time: 1 });
await createTag(repo, { name: 'v1' });
fs.writeFileSync(path.join(root, 'data', 'a.csv'), 'id,v\\n1,x\\n2,z\\n');
out.status = (await status(repo)).clean;
const d = await diff(repo, { from: 'v1', to: WORKSPACE_REV, key: ['id'], rows: true, stat: true });
out.changes = d.changes.map((c) => c.status + ' ' + c.path);
out.html = renderHtmlReport(d).startsWith('<!doctype html>') || renderHtmlReport(d).startsWith('<!DOCTYPE html>');
await add(repo, { paths: ['data'], cwd: root });
await commit(repo, { message: 'two', author: 'A <a@x>', time: 2 });
out.log = (await log(repo)).commits.map((x) => x.message);
out.resolved = (await resolveRev(repo, 'v1')).id === c1.id;
out.tags = (await listTags(repo)).tags.map((t) => t.name);
await checkout(repo, { rev: 'v1' });
out.afterCheckout = fs.readFileSync(path.join(root, 'data', 'a.csv'), 'utf8');
try {
  await checkout(repo, { rev: 'no-such-revision' });
} catch (e) {
  out.error = [e instanceof LodeError, e instanceof UnknownRevisionError, isLodeError(e, e.code), typeof e.hint];
}
out.fsck = (await fsck(repo)).ok;
out.chunking = DEFAULT_CHUNKING.avg;
out.index = INDEX_REV;
// Deeper paths are not part of the package.
try {
  await import('lode/dist/ui/report-html.js');
  out.deep = 'importable';
} catch (e) {
  out.deep = e.code;
}
console.log(JSON.stringify(out));
`;
    const out = JSON.parse(node('use.mjs', script));
    expect(out.keys).toEqual([...docs.values].sort());
    for (const n of docs.values) expect(['function', 'string', 'object'], n).toContain(out.kinds[n]);
    expect(out.status).toBe(false);
    expect(out.changes).toEqual(['modified data/a.csv']);
    expect(out.html).toBe(true);
    expect(out.log).toEqual(['two\n', 'one\n']);
    expect(out.resolved).toBe(true);
    expect(out.tags).toEqual(['v1']);
    expect(out.afterCheckout).toBe('id,v\n1,x\n2,y\n');
    expect(out.error).toEqual([true, true, true, 'string']);
    expect(out.fsck).toBe(true);
    expect(out.chunking).toBe(1 << 20);
    expect(out.index).toBe(':index');
    expect(out.deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('exports every documented type (a TypeScript consumer compiles against them)', () => {
    const lines = [`import type { ${docs.types.join(', ')} } from 'lode';`, ...docs.types.map((t, i) => `export type T${i} = ${t};`)];
    fs.writeFileSync(path.join(dir, 'types.ts'), `${lines.join('\n')}\n`);
    // A type the package does not export must fail the same compile: the check can fail.
    fs.writeFileSync(path.join(dir, 'missing.ts'), "import type { TreePool } from 'lode';\nexport type X = TreePool;\n");
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const compile = (file: string) => {
      try {
        execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), file], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
        return '';
      } catch (e) {
        return String((e as { stdout?: string }).stdout ?? e);
      }
    };
    expect(compile('types.ts')).toBe('');
    expect(compile('missing.ts')).toMatch(/has no exported member .?TreePool/);
  });
});

