/**
 * The lineage of a version drawn as an inline SVG graph, for the HTML pages
 * (the datasheet's Provenance section and the diff report): data nodes (a
 * path at the content it had), step nodes (a commit that made data: a `lode
 * run`, provenance declared at commit, or an unrecorded change) and external
 * source nodes, with edges input → step → output and source → step, laid out
 * in layers left to right by depth (longest path from a node without inputs).
 *
 * Pure: a function of the typed lineage result. Every label is escaped; the
 * SVG holds no script, no link and nothing to fetch, so it fits the pages'
 * Content-Security-Policy. The graph carries its counts
 * (`svg.lineage[data-nodes][data-edges]`), each node its kind
 * (`g.lg-node[data-kind]`), so tests and tools can read it back.
 */
import type { LineageInput, LineageResult, LineageStep } from '../commands/lineage.js';
import { quoteArgs } from './governance.js';
import { esc } from './html-escape.js';

/** LINEAGE_GRAPH_STEP_LIMIT caps the steps drawn; the rest are counted beneath the graph. */
export const LINEAGE_GRAPH_STEP_LIMIT = 60;

export interface LineageNode {
  id: string;
  kind: 'data' | 'step' | 'source';
  /** The short text drawn in the box. */
  label: string;
  /** The longer text shown on hover. */
  title: string;
  layer: number;
}

export interface LineageGraph {
  nodes: LineageNode[];
  edges: { from: string; to: string }[];
  /** Steps left out past LINEAGE_GRAPH_STEP_LIMIT. */
  omitted: number;
}

const short = (id: string | undefined | null) => (id ? id.slice(0, 12) : '');

/**
 * lineageGraph turns a lineage result into nodes and edges. A data node is a
 * path with the object ID it had, so the output of one step and the input of
 * another that read exactly it are one node; a step is one per commit.
 */
export function lineageGraph(result: LineageResult): LineageGraph {
  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, { from: string; to: string }>();
  const addNode = (n: Omit<LineageNode, 'layer'>) => {
    if (!nodes.has(n.id)) nodes.set(n.id, { ...n, layer: 0 });
    return n.id;
  };
  const addEdge = (from: string, to: string) => {
    if (from !== to) edges.set(`${from}\u0000${to}`, { from, to });
  };
  const dataNode = (path: string, kind: string, id: string, at?: string) =>
    addNode({ id: `data:${path}\u0000${id}`, kind: 'data', label: path || '.', title: `${path || '.'} = ${kind} ${short(id)}${at ? ` at ${short(at)}` : ''}` });
  let steps = 0;
  let omitted = 0;
  const seen = new Set<string>();
  const visit = (s: LineageStep): string => {
    const sid = `step:${s.commit}`;
    if (seen.has(sid)) return sid;
    seen.add(sid);
    steps++;
    const what = s.kind === 'run' ? quoteArgs(s.command ?? []) : s.kind === 'manual' ? 'declared at commit' : 'unrecorded change';
    // In the box, a run shows its program by name (`node steps/clean.mjs`); the hover text has it in full.
    const cmd = s.command?.length ? quoteArgs([s.command[0].replace(/^.*[\\/]/, ''), ...s.command.slice(1)]) : what;
    addNode({ id: sid, kind: 'step', label: `${short(s.commit).slice(0, 8)} ${s.kind === 'run' ? cmd : s.message.split('\n')[0] || what}`, title: `${short(s.commit)} ${s.date.slice(0, 10)} ${s.message.split('\n')[0]} — ${what}${s.code ? ` (code git ${short(s.code.git)}${s.code.dirty ? ', uncommitted changes' : ''})` : ''}` });
    for (const src of s.sources) addEdge(addNode({ id: `source:${src}`, kind: 'source', label: src, title: `external source: ${src}` }), sid);
    for (const o of s.outputs) addEdge(sid, dataNode(o.path, o.kind, o.id, s.commit));
    for (const i of s.inputs) input(i, sid);
    return sid;
  };
  const reads: { node: string; input: LineageInput }[] = [];
  const input = (i: LineageInput, to: string) => {
    const d = dataNode(i.path, i.kind, i.id, i.commit);
    addEdge(d, to);
    reads.push({ node: d, input: i });
    if (i.upstream) {
      const up = visit(i.upstream);
      // The step that made the input is linked through its outputs; when none names the input, link it directly.
      if (![...edges.values()].some((e) => e.from === up && e.to === d)) addEdge(up, d);
    }
  };
  for (const s of result.steps) {
    if (steps >= LINEAGE_GRAPH_STEP_LIMIT && !seen.has(`step:${s.commit}`)) {
      omitted++;
      continue;
    }
    visit(s);
  }
  // Whole-version lineage does not walk inputs back: an input nothing drawn has made yet was read at a
  // commit; when that commit is a step drawn here which wrote the path (or names no outputs), it made it.
  const byCommit = new Map(result.steps.map((s) => [s.commit, s]));
  for (const { node, input: i } of reads) {
    if (!i.commit || [...edges.values()].some((e) => e.to === node && e.from.startsWith('step:'))) continue;
    const s = byCommit.get(i.commit);
    if (!s || !seen.has(`step:${s.commit}`)) continue;
    if (s.outputs.length === 0 || s.outputs.some((o) => o.path === i.path || i.path.startsWith(`${o.path}/`) || o.path === '')) addEdge(`step:${s.commit}`, node);
  }
  // For one path: the version asked about is the final node, made by the first step.
  if (result.path !== null && result.steps[0]) {
    const top = result.steps[0];
    const made = top.outputs.some((o) => o.path === result.path || result.path!.startsWith(`${o.path}/`) || o.path.startsWith(`${result.path}/`) || result.path === '');
    if (!made) addEdge(`step:${top.commit}`, addNode({ id: `version:${result.commit}`, kind: 'data', label: result.path || '.', title: `${result.path || '.'} in ${result.rev} (${short(result.commit)})` }));
  }
  layerNodes(nodes, [...edges.values()]);
  return { nodes: [...nodes.values()], edges: [...edges.values()], omitted };
}

/** layerNodes sets each node's layer to its longest distance from a node without incoming edges (a forged cycle is cut). */
function layerNodes(nodes: Map<string, LineageNode>, edges: { from: string; to: string }[]): void {
  const indeg = new Map<string, number>([...nodes.keys()].map((k) => [k, 0]));
  const out = new Map<string, string[]>();
  for (const e of edges) {
    indeg.set(e.to, (indeg.get(e.to) ?? 0) + 1);
    out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
  }
  const queue = [...nodes.keys()].filter((k) => indeg.get(k) === 0);
  const done = new Set<string>();
  while (queue.length) {
    const k = queue.shift()!;
    done.add(k);
    for (const t of out.get(k) ?? []) {
      const n = nodes.get(t)!;
      n.layer = Math.max(n.layer, nodes.get(k)!.layer + 1);
      indeg.set(t, indeg.get(t)! - 1);
      if (indeg.get(t) === 0) queue.push(t);
    }
  }
  // Nodes on a cycle (only a forged record makes one) keep the layer reached so far.
  for (const k of nodes.keys()) if (!done.has(k)) nodes.get(k)!.layer = Math.max(nodes.get(k)!.layer, 0);
}

const NODE_W = 200;
const NODE_H = 34;
const COL_GAP = 44;
const ROW_GAP = 14;
const PAD = 10;
const CHAR_PX = 6.6;

function clip(s: string, px: number): string {
  const max = Math.max(4, Math.floor(px / CHAR_PX));
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/**
 * renderLineageSvg draws the graph as one `<figure>` holding an inline SVG,
 * or a short note when there is nothing to draw.
 */
export function renderLineageSvg(result: LineageResult, caption = 'Lineage graph'): string {
  const g = lineageGraph(result);
  if (g.nodes.length === 0) return '';
  const layers: LineageNode[][] = [];
  for (const n of g.nodes) (layers[n.layer] ??= []).push(n);
  const pos = new Map<string, { x: number; y: number }>();
  let rows = 0;
  layers.forEach((col, li) => {
    col.forEach((n, ri) => pos.set(n.id, { x: PAD + li * (NODE_W + COL_GAP), y: PAD + ri * (NODE_H + ROW_GAP) }));
    rows = Math.max(rows, col.length);
  });
  const width = PAD * 2 + layers.length * NODE_W + (layers.length - 1) * COL_GAP;
  const height = PAD * 2 + rows * NODE_H + (rows - 1) * ROW_GAP;
  const edges = g.edges
    .map((e) => {
      const a = pos.get(e.from)!;
      const b = pos.get(e.to)!;
      const x1 = a.x + NODE_W;
      const y1 = a.y + NODE_H / 2;
      const x2 = b.x;
      const y2 = b.y + NODE_H / 2;
      const mx = (x1 + x2) / 2;
      // The arrowhead is drawn, not a <marker> referenced by url(#id): nothing in the page refers to anything.
      return `<path class="lg-edge" d="M${x1} ${y1} C${mx} ${y1} ${mx} ${y2} ${x2 - 6} ${y2}"/><path class="lg-head" d="M${x2 - 7} ${y2 - 4} L${x2} ${y2} L${x2 - 7} ${y2 + 4} z"/>`;
    })
    .join('');
  const nodes = g.nodes
    .map((n) => {
      const p = pos.get(n.id)!;
      const rx = n.kind === 'step' ? 4 : n.kind === 'source' ? 17 : 10;
      return `<g class="lg-node lg-${n.kind}" data-kind="${n.kind}"><title>${esc(n.title)}</title><rect x="${p.x}" y="${p.y}" width="${NODE_W}" height="${NODE_H}" rx="${rx}"/><text x="${p.x + 8}" y="${p.y + NODE_H / 2 + 4}">${esc(clip(n.label, NODE_W - 16))}</text></g>`;
    })
    .join('');
  const legend = '<p class="lg-legend"><span class="lg-key lg-data"></span>data (path at its content) <span class="lg-key lg-step"></span>step (commit) <span class="lg-key lg-source"></span>external source</p>';
  return `<figure class="lineage-box"><figcaption>${esc(caption)}</figcaption><div class="scroll"><svg class="lineage" data-nodes="${g.nodes.length}" data-edges="${g.edges.length}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(caption)}">${edges}${nodes}</svg></div>${legend}${g.omitted > 0 ? `<p class="more">and ${g.omitted} more step${g.omitted === 1 ? '' : 's'} not drawn</p>` : ''}</figure>`;
}

/** LINEAGE_SVG_STYLE styles the graph; each page adds it to its own inline CSS. */
export const LINEAGE_SVG_STYLE = `
figure.lineage-box{margin:12px 0 20px}
svg.lineage{display:block;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-size:11px}
svg.lineage .lg-edge{fill:none;stroke:#7b8794;stroke-width:1.2}
svg.lineage .lg-head{fill:#7b8794}
svg.lineage rect{stroke-width:1.2}
svg.lineage .lg-data rect{fill:#eff6ff;stroke:#1d4ed8}.lg-key.lg-data{background:#eff6ff;border-color:#1d4ed8}
svg.lineage .lg-step rect{fill:#fffbeb;stroke:#8a5a00}.lg-key.lg-step{background:#fffbeb;border-color:#8a5a00}
svg.lineage .lg-source rect{fill:#f0fdf4;stroke:#0f7a3d}.lg-key.lg-source{background:#f0fdf4;border-color:#0f7a3d}
svg.lineage text{fill:#1f2933}
.lg-legend{font-size:12px;color:#52606d}.lg-key{display:inline-block;width:12px;height:10px;border:1px solid;margin:0 4px 0 10px;vertical-align:middle}
`;
