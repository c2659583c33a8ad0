// The lineage graph on hand-made lineage results: the nodes and edges drawn
// match the steps, data and sources of the result, layers run left to right,
// and hostile labels stay text.

import { describe, expect, it } from 'vitest';
import type { LineageResult, LineageStep } from '../commands/lineage.js';
import { lineageGraph, renderLineageSvg } from './lineage-svg.js';

const id = (c: string) => c.repeat(64);

function step(commit: string, over: Partial<LineageStep>): LineageStep {
  return { commit: id(commit), message: `step ${commit}`, author: 'Ada', date: '2026-12-01T00:00:00.000Z', kind: 'run', sources: [], inputs: [], outputs: [], ...over };
}

/** raw (a vendor drop, declared at commit) → clean.js → label.js, walked back from data/labelled. */
function chain(hostile = false): LineageResult {
  const src = hostile ? 'javascript:<b>bold</b>' : 'https://vendor.example/drop';
  const rawPath = hostile ? 'data/"><img src=x onerror=alert(1)>' : 'data/raw';
  const a = step('a', { kind: 'manual', message: 'vendor drop', sources: [src] });
  const b = step('b', { command: hostile ? ['<script>alert(1)</script>'] : ['node', 'clean.js'], inputs: [{ spec: `${'a'.repeat(12)}:${rawPath}`, path: rawPath, kind: 'tree', id: id('1'), commit: id('a'), upstream: a }], outputs: [{ path: 'data/clean', kind: 'tree', id: id('2') }] });
  const c = step('c', { command: ['node', 'label.js'], inputs: [{ spec: 'v2:data/clean', path: 'data/clean', kind: 'tree', id: id('2'), commit: id('b'), upstream: b }], outputs: [{ path: 'data/labelled', kind: 'tree', id: id('3') }] });
  return { rev: 'HEAD', commit: id('c'), path: 'data/labelled', steps: [c], sources: [src] };
}

describe('lineage graph', () => {
  it('one node per step, data version and source; edges input → step → output', () => {
    const g = lineageGraph(chain());
    const kinds = g.nodes.map((n) => n.kind).sort();
    expect(kinds).toEqual(['data', 'data', 'data', 'source', 'step', 'step', 'step']);
    // source → a → raw → b → clean → c → labelled: a chain of 7 nodes, 6 edges, 7 layers.
    expect(g.edges).toHaveLength(6);
    expect(new Set(g.nodes.map((n) => n.layer))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
    const layer = (label: RegExp) => g.nodes.find((n) => label.test(n.label))!.layer;
    expect(layer(/vendor\.example/)).toBe(0);
    expect(layer(/^data\/raw$/)).toBe(2);
    expect(layer(/^data\/labelled$/)).toBe(6);
    const svg = renderLineageSvg(chain());
    expect(svg.match(/<g class="lg-node/g)).toHaveLength(7);
    expect(svg.match(/class="lg-edge"/g)).toHaveLength(6);
    expect(svg).toContain('data-nodes="7" data-edges="6"');
    expect(svg.match(/data-kind="step"/g)).toHaveLength(3);
  });

  it('whole-version lineage: an input read at the ID a step wrote is that step’s output node', () => {
    const s1 = step('1', { inputs: [{ spec: 'data/raw', path: 'data/raw', kind: 'tree', id: id('7'), upstream: null }], outputs: [{ path: 'data/clean', kind: 'tree', id: id('8') }] });
    const s2 = step('2', { inputs: [{ spec: 'v1:data/clean', path: 'data/clean', kind: 'tree', id: id('8'), commit: id('1'), upstream: null }], outputs: [{ path: 'data/labelled', kind: 'tree', id: id('9') }] });
    const g = lineageGraph({ rev: 'HEAD', commit: id('2'), path: null, steps: [s2, s1], sources: [], unrecorded: 0 });
    expect(g.nodes).toHaveLength(5); // 2 steps, raw, clean (shared), labelled
    expect(g.edges).toHaveLength(4);
    expect(g.nodes.find((n) => n.label === 'data/clean')!.layer).toBe(2);
  });

  it('whole-version lineage: an input read at a drawn step that names no outputs comes from it', () => {
    const drop = step('5', { kind: 'manual', message: 'vendor drop', sources: ['s3://vendor/drop'] });
    const run = step('6', { inputs: [{ spec: 'v1:data/raw', path: 'data/raw', kind: 'tree', id: id('7'), commit: id('5'), upstream: null }], outputs: [{ path: 'data/clean', kind: 'tree', id: id('8') }] });
    const other = step('4', { inputs: [{ spec: 'data/x', path: 'data/x', kind: 'tree', id: id('3'), commit: id('6'), upstream: null }] });
    const g = lineageGraph({ rev: 'HEAD', commit: id('6'), path: null, steps: [run, drop, other], sources: [] });
    // source → drop → raw → run → clean; data/x was read at run's commit but run did not write it: no edge from run.
    expect(g.edges.map((e) => `${e.from.slice(0, 7)}>${e.to.slice(0, 7)}`).sort()).toEqual(['data:da>step:44', 'data:da>step:66', 'source:>step:55', 'step:55>data:da', 'step:66>data:da'].sort());
  });

  it('a step without outputs that made the path asked about points at it', () => {
    const s = step('d', { kind: 'unrecorded', message: 'copied by hand' });
    const g = lineageGraph({ rev: 'v3', commit: id('d'), path: 'data/x.csv', steps: [s], sources: [] });
    expect(g.nodes.map((n) => n.kind).sort()).toEqual(['data', 'step']);
    expect(g.edges).toHaveLength(1);
  });

  it('nothing to draw: an empty string', () => {
    expect(renderLineageSvg({ rev: 'HEAD', commit: id('e'), path: null, steps: [], sources: [], unrecorded: 3 })).toBe('');
  });

  it('hostile commands, paths and sources stay text', () => {
    const svg = renderLineageSvg(chain(true), 'caption <i>x</i>');
    expect(svg).not.toMatch(/<(script|img|b|i)[\s>]/i);
    expect(svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(svg).toContain('&lt;b&gt;bold&lt;/b&gt;');
    expect(svg).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(svg).toContain('caption &lt;i&gt;x&lt;/i&gt;');
    expect(svg.match(/<g class="lg-node/g)).toHaveLength(7);
  });
});
