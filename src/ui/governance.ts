/**
 * Text for provenance and the data contract: `lode run`, `rerun`,
 * `lineage`, `check`, and the marks log, show, diff and commit print.
 */
import type { CheckResult } from '../commands/check.js';
import type { DownstreamResult, LineageResult, LineageStep } from '../commands/lineage.js';
import type { RerunResult, RunResult } from '../commands/run.js';
import type { CheckViolation, CommitRecord } from '../core/record.js';
import type { ChecksMark, ProvenanceMark } from '../repo/provenance.js';
import type { Style } from './text.js';

const short = (id: string) => id.slice(0, 12);

/** quoteArgs shows a command as a shell would need it typed. */
export function quoteArgs(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** checksBadge is the one-word mark of a commit's check results. */
export function checksBadge(m: ChecksMark | undefined, st: Style): string {
  if (!m) return '';
  if (m.violations === 0) return st.green('✓ checks');
  return st.red(`✗ ${m.violations} violation${m.violations === 1 ? '' : 's'}${m.forced ? ' (--no-verify)' : ''}`);
}

/** provenanceLine is the one-line form of a commit's provenance. */
export function provenanceLine(p: ProvenanceMark): string {
  const ins = p.inputs.length ? ` ← ${p.inputs.join(', ')}` : '';
  if (p.kind === 'run') return `run: ${quoteArgs(p.command ?? [])}${ins}`;
  return `from: ${[...p.sources, ...p.inputs].join(', ') || 'declared by hand'}`;
}

export function renderViolations(vs: readonly CheckViolation[], st: Style, limit = 50): string[] {
  const lines = vs.slice(0, limit).map((v) => `  ${st.red('✗')} ${v.path}: ${v.rule}: ${v.message} (observed ${fmt(v.observed)}, allowed ${fmt(v.allowed)})`);
  if (vs.length > limit) lines.push(`  … and ${vs.length - limit} more (--json lists all)`);
  return lines;
}

function fmt(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function renderCheck(r: CheckResult, st: Style): string[] {
  const what = r.commit ? `${r.rev} (${short(r.commit)})` : r.rev;
  const lines = [`Contract ${r.contract} on ${what}: ${r.rules} rule${r.rules === 1 ? '' : 's'}, ${r.tables.scanned + r.tables.cached} table(s) (${r.tables.cached} cached), ${r.folders} folder(s)`];
  if (r.ok) lines.push(st.green('✓ no violations'));
  else lines.push(st.red(`✗ ${r.violations.length} violation${r.violations.length === 1 ? '' : 's'}`), ...renderViolations(r.violations, st));
  for (const s of r.skipped) lines.push(`  skipped ${s.path}: ${s.reason}`);
  if (r.recorded) lines.push(`At commit time: ${r.recorded.violations.length === 0 ? 'no violations' : `${r.recorded.violations.length} violation(s)${r.recorded.forced ? ', committed with --no-verify' : ''}`}`);
  return lines;
}

/** renderCommitChecks adds the contract's verdict to `lode commit`'s lines. */
export function renderCommitChecks(checks: { contract: string; rules: number; violations: CheckViolation[] } | undefined, st: Style): string[] {
  if (!checks) return [];
  if (checks.violations.length === 0) return [` ${st.green('✓')} contract ${checks.contract}: ${checks.rules} rules passed`];
  return [` ${st.red('✗')} contract ${checks.contract}: ${checks.violations.length} violation(s), committed with --no-verify`, ...renderViolations(checks.violations, st, 10)];
}

export function renderRun(r: RunResult, st: Style): string[] {
  const c = r.commit;
  const where = c.branch ?? 'detached HEAD';
  const lines = [`[${where} ${short(c.id)}] ran ${quoteArgs(r.provenance.command ?? [])}`];
  for (const i of r.provenance.inputs) lines.push(`  input  ${i.spec}  ${i.kind} ${short(i.id)}${i.commit ? ` at ${short(i.commit)}` : ' (workspace)'}${r.materialised.includes(i.spec) ? ', materialised in $LODE_INPUT_*' : ''}`);
  for (const o of r.provenance.outputs) lines.push(`  output ${o.path}  ${o.kind} ${short(o.id)}`);
  const p = r.provenance;
  if (p.code) lines.push(`  code   git ${p.code.git.slice(0, 10)}${p.code.dirty ? st.yellow(' (dirty work tree)') : ''}`);
  if (p.start !== undefined && p.end !== undefined) lines.push(`  took   ${((p.end - p.start) / 1000).toFixed(1)} s`);
  lines.push(...renderCommitChecks(c.checks, st));
  if (c.pinFile) lines.push(' Pinned in lode.lock: `git add lode.lock` and commit it with the code');
  return lines;
}

export function renderRerun(r: RerunResult, st: Style): string[] {
  const lines = [`Reran ${quoteArgs(r.command)} (recorded in ${r.rev}, ${short(r.commit)})`];
  for (const o of r.outputs) {
    const bad = o.differ.length + o.missing.length + o.extra.length;
    lines.push(bad === 0 ? `  ${st.green('=')} ${o.path}: ${o.files} file(s) byte-identical` : `  ${st.red('≠')} ${o.path}: ${bad} of ${o.files} file(s) differ`);
    for (const p of o.differ.slice(0, 20)) lines.push(`      differs  ${p}`);
    for (const p of o.missing.slice(0, 20)) lines.push(`      missing  ${p}`);
    for (const p of o.extra.slice(0, 20)) lines.push(`      extra    ${p}`);
  }
  lines.push(r.identical ? st.green('Reproducible: the outputs are byte-identical') : st.red('Not reproducible: the outputs differ'));
  if (r.dir) lines.push(`Scratch copy kept in ${r.dir}`);
  return lines;
}

export function renderLineage(r: LineageResult, st: Style): string[] {
  const lines: string[] = [];
  if (r.path !== null) {
    lines.push(`Lineage of ${r.path} at ${r.rev} (${short(r.commit)})`);
    if (r.steps.length === 0) lines.push('  no commit records how it was made');
    const seen = new Set<string>();
    const rec = (s: LineageStep, indent: string) => {
      lines.push(...stepLines(s, indent, st));
      const key = `${s.commit}`;
      if (seen.has(key)) return;
      seen.add(key);
      for (const i of s.inputs) {
        lines.push(`${indent}  ← ${i.spec} (${i.kind} ${short(i.id)}${i.commit ? ` at ${short(i.commit)}` : ''})`);
        if (i.upstream) rec(i.upstream, `${indent}      `);
        else if (i.note) lines.push(`${indent}      ${i.note}`);
      }
    };
    for (const s of r.steps) rec(s, '  ');
  } else {
    lines.push(`Lineage of ${r.rev} (${short(r.commit)}): ${r.steps.length} recorded step(s)${r.unrecorded ? `, ${r.unrecorded} commit(s) without a record` : ''}`);
    for (const s of r.steps) {
      lines.push(...stepLines(s, '  ', st));
      for (const i of s.inputs) lines.push(`      ← ${i.spec} (${i.kind} ${short(i.id)}${i.commit ? ` at ${short(i.commit)}` : ''})`);
      for (const o of s.outputs) lines.push(`      → ${o.path} (${o.kind} ${short(o.id)})`);
    }
  }
  if (r.sources.length > 0) lines.push('External sources:', ...r.sources.map((s) => `  ${s}`));
  return lines;
}

function stepLines(s: LineageStep, indent: string, st: Style): string[] {
  const head = `${indent}${st.yellow(short(s.commit))} ${s.date.slice(0, 19).replace('T', ' ')} ${s.message.split('\n')[0]}`;
  const out = [head];
  if (s.kind === 'run') out.push(`${indent}  run ${quoteArgs(s.command ?? [])}${s.cwd ? ` (in ${s.cwd})` : ''}${s.user ? ` by ${s.user}` : ''}`);
  if (s.kind === 'unrecorded') out.push(`${indent}  changed by a commit without provenance (${s.author})`);
  if (s.code) out.push(`${indent}  code git ${s.code.git.slice(0, 10)}${s.code.dirty ? ' (dirty)' : ''}`);
  for (const src of s.sources) out.push(`${indent}  source ${src}`);
  if (s.note) out.push(`${indent}  note ${s.note}`);
  for (const e of s.erasedInputs ?? []) out.push(`${indent}  ← ${e} (erased by lode forget)`);
  return out;
}

export function renderDownstream(r: DownstreamResult, st: Style): string[] {
  const lines = [`Derived from ${r.rev ? `${r.rev}:` : ''}${r.path}: ${r.derived.length} version(s)`];
  for (const d of r.derived) {
    const refs = d.refs.length ? ` (${d.refs.join(', ')})` : '';
    lines.push(`  ${st.yellow(short(d.commit))}${refs} ${d.date.slice(0, 10)} ${d.message.split('\n')[0]}`);
    lines.push(`      ${'  '.repeat(d.level - 1)}via ${d.via.join(', ')} → ${d.outputs.join(', ') || '(no outputs)'}${d.command ? `  [${quoteArgs(d.command)}]` : ''}`);
  }
  return lines;
}

/** renderRecord is the record block of `lode show`. */
export function renderRecord(r: CommitRecord, st: Style): string[] {
  const lines: string[] = [];
  const p = r.provenance;
  if (p) {
    if (p.kind === 'run') lines.push(`Step:   ${quoteArgs(p.command ?? [])}${p.cwd ? ` (in ${p.cwd})` : ''}`);
    else lines.push('Provenance: declared by hand');
    for (const i of p.inputs) lines.push(`Input:  ${i.spec} (${i.kind} ${short(i.id)}${i.commit ? ` at ${short(i.commit)}` : ', workspace'})`);
    for (const o of p.outputs) lines.push(`Output: ${o.path} (${o.kind} ${short(o.id)})`);
    for (const i of p.erasedInputs ?? []) lines.push(`Input:  ${i.spec} (erased by lode forget)`);
    for (const o of p.erasedOutputs ?? []) lines.push(`Output: ${o} (erased by lode forget)`);
    for (const s of p.sources) lines.push(`Source: ${s}`);
    if (p.note) lines.push(`Note:   ${p.note}`);
    if (p.code) lines.push(`Code:   git ${p.code.git}${p.code.dirty ? ' (dirty work tree)' : ''}`);
    if (p.start !== undefined && p.end !== undefined) lines.push(`Ran:    ${new Date(p.start).toISOString()} – ${new Date(p.end).toISOString()}, exit ${p.exit ?? 0}, by ${p.user}, lode ${p.lode}`);
    else lines.push(`By:     ${p.user}, lode ${p.lode}`);
  }
  const c = r.checks;
  if (c) {
    lines.push(`Checks: ${c.violations.length === 0 ? st.green(`✓ ${c.rules} rules passed`) : st.red(`✗ ${c.violations.length} violation(s)${c.forced ? ', committed with --no-verify' : ''}`)} (${c.contract} ${c.contractSha256.slice(0, 12)})`);
    lines.push(...renderViolations(c.violations, st, 20));
  }
  return lines;
}
