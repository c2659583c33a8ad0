/**
 * lode's layering, checked on every test run: src/ has no import cycle
 * (lazy `import()` included) and no folder imports a later layer. The checker
 * itself is tested first on tiny synthetic trees, so a green run means
 * something: it does find cycles, lazy cycles and upward imports.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLayers, importSpecifiers, readImportGraph } from './import-graph.js';

const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** tree writes files (path -> text) into a fresh temp directory and returns it. */
function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-layers-'));
  dirs.push(root);
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), text);
  }
  return root;
}

describe('the import checker', () => {
  it('finds a cycle of static imports between three modules', () => {
    const root = tree({
      'commands/a.ts': "import { b } from './b.js';\nexport const a = () => b();\n",
      'commands/b.ts': "import { c } from './c.js';\nexport const b = () => c();\n",
      'commands/c.ts': "import { a } from './a.js';\nexport const c = () => a();\n",
      'commands/d.ts': "import { a } from './a.js';\nexport const d = a;\n",
    });
    const v = checkLayers(readImportGraph(root));
    expect(v.cycles).toEqual([['commands/a.ts', 'commands/b.ts', 'commands/c.ts']]);
    expect(v.upward).toEqual([]);
  });

  it('counts a lazy import() as an edge: a cycle hidden behind await import() is still a cycle', () => {
    const root = tree({
      'ui/progress.ts': "export async function load() { return (await import('./view.js')).view; }\nexport const fmt = 1;\n",
      'ui/view.tsx': "import { fmt } from './progress.js';\nexport const view = fmt;\n",
    });
    const v = checkLayers(readImportGraph(root));
    expect(v.cycles).toEqual([['ui/progress.ts', 'ui/view.tsx']]);
  });

  it('finds a module that imports itself', () => {
    const root = tree({ 'core/x.ts': "export * from './x.js';\n" });
    expect(checkLayers(readImportGraph(root)).cycles).toEqual([['core/x.ts']]);
  });

  it('finds an upward import (a lower layer importing a later one), lazy or not', () => {
    const root = tree({
      'graph/trees.ts': "import { Repository } from '../repo/repository.js';\nexport const t = Repository;\n",
      'sync/open.ts': "export async function f() { return import('../commands/x.js'); }\n",
      'repo/repository.ts': "import '../graph/trees.js';\nexport class Repository {}\n",
      'commands/x.ts': 'export const x = 1;\n',
      'index.ts': "export * from './cli/main.js';\n",
      'cli/main.ts': "export * from '../core/a.js';\n",
      'core/a.ts': 'export const a = 1;\n',
    });
    const v = checkLayers(readImportGraph(root));
    expect(v.upward.map((e) => `${e.from} -> ${e.to}`).sort()).toEqual(['graph/trees.ts -> repo/repository.ts', 'sync/open.ts -> commands/x.ts']);
    // graph -> repo -> graph is also a cycle.
    expect(v.cycles).toEqual([['graph/trees.ts', 'repo/repository.ts']]);
  });

  it('ignores type-only imports and exports, and imports of packages', () => {
    const text = [
      "import type { A } from './a.js';",
      "import { type B, type C } from './b.js';",
      "export type { D } from './d.js';",
      "export { type E } from './e.js';",
      "import { F, type G } from './f.js';",
      "import * as fs from 'node:fs';",
      "export * from './h.js';",
      "const m = await import('./i.js');",
    ].join('\n');
    expect(importSpecifiers('x.ts', text)).toEqual([
      { spec: './f.js', lazy: false },
      { spec: 'node:fs', lazy: false },
      { spec: './h.js', lazy: false },
      { spec: './i.js', lazy: true },
    ]);
  });

  it('passes a clean layered tree', () => {
    const root = tree({
      'core/a.ts': 'export const a = 1;\n',
      'graph/b.ts': "import { a } from '../core/a.js';\nexport const b = a;\n",
      'cli/c.ts': "export async function run() { return (await import('../graph/b.js')).b; }\n",
    });
    const g = readImportGraph(root);
    expect(g.edges).toHaveLength(2);
    expect(checkLayers(g)).toEqual({ cycles: [], upward: [] });
  });
});

describe('src/', () => {
  it('has no import cycle and no upward import between layers', () => {
    const g = readImportGraph(SRC);
    // The graph is real: src/ has many modules and imports (a broken reader would find none and pass).
    expect(g.files.length).toBeGreaterThan(50);
    expect(g.edges.length).toBeGreaterThan(200);
    const v = checkLayers(g);
    const report = [...v.cycles.map((c) => `cycle: ${c.join(' ')}`), ...v.upward.map((e) => `upward: ${e.from} -> ${e.to}${e.lazy ? ' (lazy)' : ''}`)];
    expect(report).toEqual([]);
  });
});
