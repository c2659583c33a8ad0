/** Text for `lode forget` and `lode forget --verify`. */
import type { ForgetResult, VerifyResult } from '../commands/forget.js';
import type { RemoteEraseResult } from '../sync/erase.js';

const short = (id: string | undefined) => (id ? id.slice(0, 12) : '');
const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

export function renderForget(r: ForgetResult): string[] {
  const lines: string[] = [];
  if (r.fetched) lines.push(`Fetched the tables of ${plural(r.fetched.versions, 'version')} this workspace lacked from ${r.fetched.remote} (${plural(r.fetched.files, 'file')}, ${r.fetched.bytes} bytes)`);
  if (r.resumed.length > 0) lines.push(`Completed an interrupted erasure (${r.resumed.map(short).join(', ')})`);
  if (!r.matched) {
    if (r.resumed.length === 0) lines.push('Nothing matches: no commit holds such a file or row here');
    if (r.remote) lines.push(...renderRemoteErase(r.remote));
    return lines;
  }
  const byCommit = new Map<string, string[]>();
  for (const c of r.changes) {
    const l = byCommit.get(c.commit) ?? [];
    l.push(c.removed ? `  ${c.path}: removed` : `  ${c.path}: ${plural(c.rows, 'row')}`);
    byCommit.set(c.commit, l);
  }
  const newOf = new Map(r.commits.map((c) => [c.old, c.new]));
  for (const [commit, l] of byCommit) {
    lines.push(`commit ${short(commit)}${newOf.get(commit) ? ` -> ${short(newOf.get(commit))}` : ''}`);
    lines.push(...l);
  }
  const descendants = r.commits.length - byCommit.size;
  const verb = r.dryRun ? 'Would rewrite' : 'Rewrote';
  lines.push(`${verb} ${plural(r.counts.commits, 'commit')} (${descendants} only because an ancestor changed): ${plural(r.counts.files, 'file version')}, ${plural(r.counts.rows, 'row')} removed`);
  if (r.recordsRewritten > 0) lines.push(`${r.dryRun ? 'Would rewrite' : 'Rewrote'} ${plural(r.recordsRewritten, 'commit record')} (provenance IDs mapped to the new commits; check values on erased data redacted)`);
  if (r.dryRun) return [...lines, 'Dry run: nothing was written'];
  if (r.record) lines.push(`Erasure record ${short(r.record)} (.lode/erasures/${r.record})`);
  if (r.refsMoved.length) lines.push(`Moved ${r.refsMoved.join(', ')}`);
  if (r.refsKept?.length) lines.push(`Not moved (replacement not in this store, or not the same commit with another tree): ${r.refsKept.join(', ')}`);
  if (r.workspaceFiles.length) lines.push(`Updated in the workspace: ${r.workspaceFiles.join(', ')}`);
  if (r.workspaceKept.length) lines.push(`Left as they are (changed locally, still hold erased content): ${r.workspaceKept.join(', ')}`);
  lines.push(`Deleted ${plural(r.objectsDeleted, 'object')} (${r.bytesDeleted} bytes) from the local store`);
  if (r.remote) lines.push(...renderRemoteErase(r.remote));
  else lines.push('Remotes still hold the erased content: `lode forget --push` (or `lode push` then `lode gc --remote --erase`)');
  return lines;
}

export function renderVerify(r: VerifyResult): string[] {
  const scanned = `${plural(r.scanned.commits, 'commit')}, ${plural(r.scanned.localObjects, 'local object')}, ${plural(r.scanned.remoteObjects, 'remote object')} scanned`;
  const unread = r.notLocal > 0 ? [`${plural(r.notLocal, 'table version')} the rule covers ${r.notLocal === 1 ? 'is' : 'are'} not in this workspace and ${r.notLocal === 1 ? 'was' : 'were'} not read here (\`lode fetch --all\`, or scan the remote with --remote)`] : [];
  if (r.ok) return [`Nothing matching the rule remains (${scanned})`, ...unread];
  return [`Content matching the rule remains in ${plural(r.places.length, 'place')} (${scanned}):`, ...r.places.map((p) => `  ${p}`), ...unread];
}

export function renderRemoteErase(m: RemoteEraseResult & { remote: string }): string[] {
  return [
    `${m.remote}: ${plural(m.recordsUploaded, 'erasure record')} uploaded, ${plural(m.refsMoved.length, 'ref')} moved, ${plural(m.objectsErased, 'erased object')} removed`,
    `${m.remote}: ${plural(m.packsDeleted, 'pack')} deleted (${m.bytesDeleted} bytes), ${plural(m.packsWritten, 'pack')} written (${m.bytesUploaded} bytes uploaded)`,
  ];
}
