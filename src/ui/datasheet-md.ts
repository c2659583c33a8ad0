/**
 * The datasheet of a version as Markdown (`lode datasheet REV`, the
 * default): a document that reads as plain text in a terminal and renders
 * as a page on a code host. Sections, in order: version, declared fields,
 * gaps, composition, provenance, changes, data contract.
 */
import type { ChangeSheet, DatasheetResult, TableSheet } from '../commands/datasheet.js';
import type { LineageStep } from '../commands/lineage.js';
import { quoteArgs } from './governance.js';
import { formatBytes, formatCount } from './progress-format.js';
import { fmtShare } from './report-html.js';

/** DATASHEET_SECTIONS are the second-level headings every datasheet has, in order. */
export const DATASHEET_SECTIONS = ['Version', 'Declared', 'Gaps', 'Composition', 'Provenance', 'Changes', 'Data contract'] as const;

/** mdText makes data safe as Markdown text on one line: no markup, no line breaks, no table cell breaks. */
export function mdText(s: string): string {
  return String(s)
    .replace(/[\r\n]+/g, ' ')
    .replace(/([\\`*_[\]<>|#])/g, '\\$1');
}

/** code writes data as a code span; `|` is escaped so a span cannot split a table cell. */
const code = (s: string) => {
  const t = String(s).replace(/[\r\n]+/g, ' ').replace(/\|/g, '\\|');
  const fence = t.includes('`') ? '`` ' : '`';
  return `${fence}${t}${fence === '`' ? '`' : ' ``'}`;
};
const short = (id: string | null | undefined) => (id ? id.slice(0, 12) : '(none)');
const num = (n: number | null) => (n === null ? '—' : Number.isInteger(n) ? formatCount(n) : String(Math.round(n * 1000) / 1000));

function table(head: string[], rows: string[][], right: number[] = []): string[] {
  if (rows.length === 0) return [];
  const align = head.map((_, i) => (right.includes(i) ? '---:' : '---'));
  return [`| ${head.join(' | ')} |`, `| ${align.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** renderDatasheetMarkdown writes the whole datasheet; every data-derived string is escaped. */
export function renderDatasheetMarkdown(r: DatasheetResult): string {
  const out: string[] = [];
  const title = r.declared.optional.find((f) => f.key === 'title')?.value;
  out.push(`# Datasheet: ${mdText(title ?? r.rev)}`, '');
  out.push('## Version', '');
  out.push(`- Revision: ${code(r.rev)}${r.refs.length ? ` (${r.refs.map(mdText).join(', ')})` : ''}`);
  out.push(`- Commit: ${code(r.commit)}`);
  out.push(`- Message: ${mdText(r.message.split('\n')[0])}`);
  out.push(`- Author: ${mdText(r.author)}`, `- Date: ${r.date}`);
  if (r.datasets.length) out.push(`- Datasets: ${r.datasets.map((d) => code(d || '.')).join(', ')}`);
  for (const f of r.declared.optional) if (f.value !== null && f.key !== 'title') out.push(`- ${f.title}: ${mdText(f.value)}`);
  out.push('');

  out.push('## Declared', '');
  out.push(r.declared.found ? `From ${code(r.declared.file)} (declared by people; lode does not check it).` : `No ${code(r.declared.file)}: nothing is declared.`, '');
  for (const f of r.declared.fields) {
    out.push(`### ${f.title}`, '');
    out.push(f.value === null ? '*Not declared (a gap).*' : f.value.split('\n').map((l) => mdText(l)).join('  \n'), '');
  }

  out.push('## Gaps', '');
  if (r.gaps.length === 0) out.push('None: every declared field is present, the version has provenance and passes its contract.');
  for (const g of r.gaps) out.push(`- **${g.section}**${g.field ? ` ${code(g.field)}` : ''}: ${mdText(g.message)}`);
  out.push('');

  const c = r.composition;
  out.push('## Composition', '');
  out.push(`${formatCount(c.files)} files, ${formatBytes(c.bytes)} (${formatCount(c.bytes)} bytes).`, '');
  out.push(...table(['Path', 'Kind', 'Files', 'Bytes'], c.entries.map((e) => [code(e.path), e.kind, formatCount(e.files), formatCount(e.bytes)]), [2, 3]), '');
  if (c.fileTypes.length) {
    out.push('### File types', '');
    out.push(...table(['Extension', 'Files', 'Bytes'], c.fileTypes.map((t) => [t.ext ? code(`.${t.ext}`) : '(none)', formatCount(t.files), formatCount(t.bytes)]), [1, 2]), '');
  }
  for (const f of c.classFolders) {
    out.push(`### Classes of ${code(f.path)}`, '');
    out.push(`${formatCount(f.classes.length)} classes, ${formatCount(f.files)} files (${f.source === 'contract' ? 'a [[folder]] section of the contract' : 'detected: one folder per class'}); largest / smallest class: ${f.imbalance === null ? '—' : `${Math.round(f.imbalance * 100) / 100}×`}.`, '');
    out.push(...table(['Class', 'Files', 'Share', 'Bytes'], f.classes.map((k) => [code(k.name), formatCount(k.files), fmtShare(k.share), formatCount(k.bytes)]), [1, 2, 3]), '');
  }
  for (const t of c.tables) out.push(...renderTableSheet(t), '');
  if (c.tablesSkipped) out.push(`${formatCount(c.tablesSkipped)} more table files were not profiled.`, '');

  out.push('## Provenance', '');
  const lin = r.provenance.lineage;
  if (!r.provenance.record) out.push('This version has no provenance record of its own.', '');
  if (lin.steps.length === 0) out.push('No recorded preparation steps in its history.', '');
  for (const s of lin.steps) out.push(...renderStep(s), '');
  if (lin.sources.length) out.push(`External sources: ${lin.sources.map(code).join(', ')}`, '');
  if (lin.unrecorded) out.push(`${formatCount(lin.unrecorded)} commit${lin.unrecorded === 1 ? ' in the history carries' : 's in the history carry'} no record.`, '');

  out.push('## Changes', '');
  if (r.changes.sinceParent) out.push(...renderChanges('Since the previous version', r.changes.sinceParent), '');
  else out.push('The previous version is not in the local store.', '');
  if (r.changes.sinceBaseline) out.push(...renderChanges(`Since the baseline ${r.changes.sinceBaseline.baseline}`, r.changes.sinceBaseline), '');

  out.push('## Data contract', '');
  const k = r.contract;
  if (!k) out.push('No data contract and no recorded check results.', '');
  else {
    out.push(`${k.source === 'recorded' ? 'Recorded when the version was committed' : 'Evaluated now'}: ${code(k.file)} (sha256 ${k.sha256.slice(0, 12)}), ${formatCount(k.rules)} rules, ${k.ok ? '**passed**' : `**${formatCount(k.violations.length)} violation${k.violations.length === 1 ? '' : 's'}**`}${k.forced ? ' (committed with --no-verify)' : ''}.`, '');
    if (k.note) out.push(mdText(k.note), '');
    if (k.sections?.length) out.push(...k.sections.map((s) => `- [[${s.kind}]] ${code(s.path)}`), '');
    out.push(...table(['Path', 'Rule', 'Observed', 'Allowed', 'Message'], k.violations.map((v) => [code(v.path), code(v.rule), mdText(JSON.stringify(v.observed)), mdText(JSON.stringify(v.allowed)), mdText(v.message)])), '');
    for (const s of k.skipped ?? []) out.push(`- not checked: ${code(s.path)}: ${mdText(s.reason)}`);
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

function renderTableSheet(t: TableSheet): string[] {
  const head = `### Table ${code(t.path)} (${t.format}, ${formatBytes(t.bytes)})`;
  if ('error' in t) return [head, '', `Not profiled: ${mdText(t.error)}`];
  const rows = t.columns.map((c) => [
    code(c.name),
    c.type,
    formatCount(c.nulls),
    fmtShare(c.nullRate),
    num(c.min),
    num(c.max),
    c.distinct === null ? 'many' : formatCount(c.distinct),
    // a column whose every value is distinct (an ID) has no most frequent values worth listing
    c.top && c.distinct !== null && c.distinct < t.rows - c.nulls ? c.top.slice(0, 5).map((v) => `${mdText(v.value)} ${fmtShare(v.share)}`).join(', ') : '',
  ]);
  return [head, '', `${formatCount(t.rows)} rows, ${formatCount(t.columns.length)} columns.`, '', ...table(['Column', 'Type', 'Nulls', 'Null rate', 'Min', 'Max', 'Distinct', 'Most frequent'], rows, [2, 3, 4, 5, 6])];
}

function renderStep(s: LineageStep): string[] {
  const head = `- ${code(short(s.commit))} ${s.date.slice(0, 10)} ${mdText(s.message.split('\n')[0])} — ${s.kind === 'run' ? `run ${code(quoteArgs(s.command ?? []))}` : s.kind === 'manual' ? 'declared at commit' : 'unrecorded'}`;
  const out = [head];
  if (s.code) out.push(`  - code: git ${code(s.code.git.slice(0, 12))}${s.code.dirty ? ' (uncommitted changes)' : ''}`);
  for (const i of s.inputs) out.push(`  - input: ${code(i.spec)} = ${i.kind} ${code(short(i.id))}${i.commit ? ` at ${code(short(i.commit))}` : ''}`);
  for (const o of s.outputs) out.push(`  - output: ${code(o.path)} = ${o.kind} ${code(short(o.id))}`);
  for (const src of s.sources) out.push(`  - source: ${code(src)}`);
  if (s.note) out.push(`  - note: ${mdText(s.note)}`);
  if (s.user) out.push(`  - by: ${mdText(s.user)}${s.start && s.end ? `, ${s.start} → ${s.end}` : ''}`);
  return out;
}

function renderChanges(title: string, c: ChangeSheet): string[] {
  const s = c.summary;
  const out = [`### ${mdText(title)}`, '', `${code(c.from.rev)} → ${code(c.to.rev)}: ${formatCount(s.added)} added, ${formatCount(s.deleted)} deleted, ${formatCount(s.modified)} modified, ${formatCount(s.renamed)} renamed; ${formatBytes(s.changedBytes)} of new content.`, ''];
  const dirs = c.stat.filter((d) => d.added + d.deleted + d.modified + d.renamed > 0 || d.before.files !== d.after.files);
  out.push(...table(['Directory', 'Files before', 'Files after', 'Added', 'Deleted', 'Modified'], dirs.map((d) => [code(d.dir || '.'), formatCount(d.before.files), formatCount(d.after.files), formatCount(d.added), formatCount(d.deleted), formatCount(d.modified)]), [1, 2, 3, 4, 5]));
  for (const k of c.classes) {
    if (k.classes.every((x) => x.before === x.after)) continue;
    out.push('', `Classes of ${code(k.path)}:`, '');
    out.push(...table(['Class', 'Files before', 'Files after', 'Share before', 'Share after', 'Shift'], k.classes.map((x) => [code(x.name), formatCount(x.before), formatCount(x.after), fmtShare(x.shareBefore), fmtShare(x.shareAfter), `${x.shareAfter >= x.shareBefore ? '+' : '−'}${Math.abs(Math.round((x.shareAfter - x.shareBefore) * 1000) / 10)} pp`]), [1, 2, 3, 4, 5]));
  }
  if (c.tables.length) out.push('');
  for (const t of c.tables) {
    if ('error' in t) out.push(`- table ${code(t.path)}: not compared (${mdText(t.error.message)})`);
    else out.push(`- table ${code(t.path)}: rows ${formatCount(t.rows.before)} → ${formatCount(t.rows.after)} (${formatCount(t.rows.added)} added, ${formatCount(t.rows.removed)} removed, ${formatCount(t.rows.modified)} modified)`);
  }
  return out;
}
