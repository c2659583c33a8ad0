/**
 * The import graph of a source tree, read with the TypeScript parser, and
 * the two rules lode's layering rests on: no import cycle between modules
 * (a lazy `import()` ties two modules as surely as a static import) and no
 * import from a layer folder to a later one. Type-only imports (`import
 * type`, `export type`, or every named specifier marked `type`) are erased by
 * the compiler and do not count.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

/** LAYERS is lode's layer order: a folder may import only from itself and the folders before it. */
export const LAYERS = ['core', 'storage', 'objects', 'graph', 'tabular', 'workspace', 'sync', 'git', 'repo', 'commands', 'ui', 'cli'] as const;

/** ImportEdge is one value import from `from` to `to` (paths relative to the source root, '/'-separated). */
export interface ImportEdge {
  from: string;
  to: string;
  lazy: boolean;
}

/** ImportGraph is every module under a root and the value imports between them. */
export interface ImportGraph {
  files: string[];
  edges: ImportEdge[];
}

/** Violations are what checkLayers finds: each cycle as a list of modules, and each upward import. */
export interface Violations {
  cycles: string[][];
  upward: ImportEdge[];
}

const isSource = (f: string) => /\.(ts|tsx)$/.test(f) && !/\.d\.ts$/.test(f) && !/\.test\.tsx?$/.test(f) && !/\.test-support\.ts$/.test(f);

/** importSpecifiers lists the module specifiers a source text imports as values, with whether each is lazy. */
export function importSpecifiers(fileName: string, text: string): { spec: string; lazy: boolean }[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, fileName.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const out: { spec: string; lazy: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.importClause;
      const typeOnly =
        c !== undefined &&
        (c.isTypeOnly ||
          (c.name === undefined &&
            c.namedBindings !== undefined &&
            ts.isNamedImports(c.namedBindings) &&
            c.namedBindings.elements.length > 0 &&
            c.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) out.push({ spec: node.moduleSpecifier.text, lazy: false });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly =
        node.isTypeOnly ||
        (node.exportClause !== undefined && ts.isNamedExports(node.exportClause) && node.exportClause.elements.length > 0 && node.exportClause.elements.every((e) => e.isTypeOnly));
      if (!typeOnly) out.push({ spec: node.moduleSpecifier.text, lazy: false });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg))) out.push({ spec: arg.text, lazy: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** readImportGraph reads every non-test module under `root` and resolves its relative imports to modules under `root`. */
export function readImportGraph(root: string): ImportGraph {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, d.name);
      if (d.isDirectory()) walk(abs);
      else if (d.isFile() && isSource(d.name)) files.push(path.relative(root, abs).split(path.sep).join('/'));
    }
  };
  walk(root);
  files.sort();
  const known = new Set(files);
  const resolve = (from: string, spec: string): string | undefined => {
    if (!spec.startsWith('.')) return undefined;
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
    const stem = base.replace(/\.(js|jsx|ts|tsx)$/, '');
    return [base, `${stem}.ts`, `${stem}.tsx`, `${base}/index.ts`].find((c) => known.has(c));
  };
  const edges: ImportEdge[] = [];
  for (const f of files) {
    for (const { spec, lazy } of importSpecifiers(f, fs.readFileSync(path.join(root, f), 'utf8'))) {
      const to = resolve(f, spec);
      if (to) edges.push({ from: f, to, lazy });
    }
  }
  return { files, edges };
}

/** layerOf is the layer folder a module is in, or undefined for modules outside every layer (src/index.ts). */
export function layerOf(file: string): string | undefined {
  const i = file.indexOf('/');
  if (i < 0) return undefined;
  const top = file.slice(0, i);
  return (LAYERS as readonly string[]).includes(top) ? top : undefined;
}

/** checkLayers finds the import cycles (strongly connected modules, a module importing itself included) and the upward imports of a graph. */
export function checkLayers(g: ImportGraph, layers: readonly string[] = LAYERS): Violations {
  const upward = g.edges.filter((e) => {
    const a = layerOf(e.from);
    const b = layerOf(e.to);
    return a !== undefined && b !== undefined && layers.indexOf(b) > layers.indexOf(a);
  });
  // Tarjan's strongly connected components, iteratively (no recursion limit on deep graphs).
  const next = new Map<string, string[]>(g.files.map((f) => [f, []]));
  for (const e of g.edges) next.get(e.from)?.push(e.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  for (const start of g.files) {
    if (index.has(start)) continue;
    const work: { v: string; i: number }[] = [{ v: start, i: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const succ = next.get(top.v) ?? [];
      if (top.i < succ.length) {
        const w = succ[top.i++];
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].v;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.v);
        if (comp.length > 1 || succ.includes(top.v)) cycles.push(comp.sort());
      }
    }
  }
  return { cycles, upward };
}
