/**
 * `lode check [REV]`: evaluate the data contract (lode.checks.toml) on a
 * version: the index by default (what the next commit would record), or any
 * commit, comparing drift with its first parent.
 */
import { ConfigError } from '../core/errors.js';
import type { ObjectId } from '../core/id.js';
import type { CheckSummary } from '../core/record.js';
import { TreePool } from '../graph/trees.js';
import { evaluateContract, readContract, type CheckReport } from '../repo/checks.js';
import { CONTRACT_FILE } from '../repo/contract.js';
import { readRecord } from '../repo/provenance.js';
import type { Repository } from '../repo/repository.js';
import { resolveRev } from '../repo/revisions.js';
import { headSnapshot, INDEX_REV, resolveSnapshot } from '../repo/snapshot.js';

export interface CheckOptions {
  /** A commit, or :index (default). */
  rev?: string;
  /** Another contract file than the workspace's lode.checks.toml. */
  contract?: string;
}

export interface CheckResult extends CheckReport {
  rev: string;
  commit: ObjectId | null;
  /** What the contract found when the commit was made, as its record keeps it. */
  recorded?: CheckSummary;
}

export async function check(repo: Repository, options: CheckOptions = {}): Promise<CheckResult> {
  const contract = readContract(repo, options.contract);
  if (!contract) throw new ConfigError(`there is no ${CONTRACT_FILE} at the top of the workspace`, { hint: `write one (docs/formats.md describes the contract), or name another with --contract FILE` });
  const rev = options.rev ?? INDEX_REV;
  // Over objects/, then the index's kept trees: :index reads below a tree objects/ holds through it.
  const pool = new TreePool(repo.treeReader());
  if (rev === INDEX_REV) {
    const snap = await resolveSnapshot(repo, rev, pool, { index: await repo.readIndex() });
    const head = headSnapshot(repo);
    const report = await evaluateContract(repo, contract, pool, snap.tree, head.kind === 'commit' ? head.tree : undefined);
    return { rev, commit: null, ...report };
  }
  const r = await resolveRev(repo, rev);
  const parent = r.commit.parents[0];
  const parentTree = parent && repo.store.hasObject(parent) ? (await resolveRev(repo, parent)).commit.tree : undefined;
  const report = await evaluateContract(repo, contract, pool, r.commit.tree, parentTree);
  const recorded = readRecord(repo, r.commit)?.checks;
  return { rev, commit: r.id, ...report, ...(recorded ? { recorded } : {}) };
}
