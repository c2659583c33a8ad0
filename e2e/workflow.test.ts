// The everyday workflow, end to end through the built binary: one dataset
// followed through init, add, commit, edits, diff, rename, tags, switching
// versions and branches. The steps share one repository and run in order.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import {
  lodeJson,
  lodeOk,
  makeTempDir,
  pseudoRandomBytes,
  readFile,
  removeDir,
  runLode,
  sha256,
  workspaceSnapshot,
  writeFile,
  type RunOptions,
  type TreeSnapshot,
} from '../test/helpers/cli.js';

const MiB = 1024 * 1024;

interface Side {
  id: string;
  size: number;
  kind: 'blob' | 'chunked';
  exec: boolean;
}
interface Change {
  status: 'added' | 'deleted' | 'modified' | 'renamed';
  path: string;
  oldPath?: string;
  old?: Side;
  new?: Side;
}
interface DiffJson {
  from: { rev: string; kind: string; commit: string | null; tree: string };
  to: { rev: string; kind: string; commit: string | null; tree: string };
  changes: Change[];
  summary: { added: number; deleted: number; modified: number; renamed: number; bytesAdded: number; bytesDeleted: number };
  stat?: { dir: string; added: number; deleted: number; modified: number; renamed: number; before: { files: number; bytes: number }; after: { files: number; bytes: number } }[];
}
interface StatusJson {
  branch: string | null;
  head: string | null;
  datasets: string[];
  staged: Change[];
  unstaged: { path: string; status: 'modified' | 'deleted' }[];
  untracked: string[];
  skipped: { path: string; reason: string }[];
  clean: boolean;
}

/** Changes as "status path" (renames as "renamed old -> new"), for compact assertions. */
const brief = (changes: Change[]) => changes.map((c) => (c.status === 'renamed' ? `renamed ${c.oldPath} -> ${c.path}` : `${c.status} ${c.path}`));

describe('workflow: a dataset through init, add, commit, diff, tag, checkout and branches', () => {
  let dir: string;
  let at: RunOptions;
  const big = pseudoRandomBytes(6 * MiB, 1);
  const first: Record<string, string | Buffer> = {
    'data/labels.csv': 'id,label\n1,cat\n2,dog\n3,dog\n',
    'data/images/cat/1.txt': 'a cat\n',
    'data/images/dog/2.txt': 'a dog\n',
    'data/images/dog/3.txt': 'another dog\n',
    'data/big.bin': big,
  };
  const commits: string[] = [];
  const snapshots: TreeSnapshot[] = [];

  beforeAll(() => {
    dir = makeTempDir('lode-e2e-workflow');
    at = { cwd: dir };
  });
  afterAll(() => removeDir(dir));

  it('init creates an empty workspace on branch main', async () => {
    const r = await runLode(['init'], at);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Initialised an empty lode workspace');
    expect(fs.existsSync(path.join(dir, '.lode', 'HEAD'))).toBe(true);
    const st = await lodeJson<StatusJson>(['status'], at);
    expect(st).toMatchObject({ branch: 'main', head: null, datasets: [], staged: [], clean: true });
    expect((await runLode(['log', '--json'], at)).stdout).toContain('"commits": []');
  });

  it('add stages a directory of nested files, the big one chunked', async () => {
    for (const [rel, content] of Object.entries(first)) writeFile(dir, rel, content);
    const r = await lodeJson(['add', 'data'], at);
    expect(r).toMatchObject({ added: 5, modified: 0, removed: 0, datasets: ['data'], skipped: [] });
    expect(r.bytesHashed).toBe(Object.values(first).reduce((s, c) => s + Buffer.byteLength(c), 0));

    const st = await lodeJson<StatusJson>(['status'], at);
    expect(st.clean).toBe(false);
    expect(st.unstaged).toEqual([]);
    expect(st.untracked).toEqual([]);
    expect(brief(st.staged)).toEqual([
      'added data/big.bin',
      'added data/images/cat/1.txt',
      'added data/images/dog/2.txt',
      'added data/images/dog/3.txt',
      'added data/labels.csv',
    ]);
    const bigEntry = st.staged.find((c) => c.path === 'data/big.bin')!.new!;
    // 6 MiB is more than one chunk at the defaults (1 MiB average, 4 MiB max).
    expect(bigEntry).toMatchObject({ kind: 'chunked', size: 6 * MiB });
    // A file's ID is the SHA-256 of its bytes; a small file is a plain blob.
    expect(st.staged.find((c) => c.path === 'data/labels.csv')!.new).toMatchObject({ kind: 'blob', id: sha256(Buffer.from(first['data/labels.csv'])) });
    expect((await runLode(['status', '--exit-code'], at)).code).toBe(1);
  });

  it('commit records the staged files; log lists the commit', async () => {
    const c = await lodeJson(['commit', '-m', 'first version'], at);
    expect(c).toMatchObject({ branch: 'main', parent: null, files: 5, bytes: 6 * MiB + 51, changes: { added: 5, deleted: 0, modified: 0, renamed: 0 } });
    expect(c.id).toMatch(/^[0-9a-f]{64}$/);
    commits.push(c.id);
    snapshots.push(workspaceSnapshot(dir));

    const log = await lodeJson(['log'], at);
    expect(log.commits).toHaveLength(1);
    expect(log.commits[0]).toMatchObject({ id: c.id, parents: [], datasets: ['data'], files: 5, refs: ['HEAD -> main'] });
    expect(log.commits[0].message.trim()).toBe('first version');

    const st = await runLode(['status', '--exit-code'], at);
    expect(st.code).toBe(0);
    expect(st.stdout).toContain('Nothing to commit');
  });

  it('status separates unstaged edits and deletions from untracked files', async () => {
    writeFile(dir, 'data/labels.csv', 'id,label\n1,cat\n2,wolf\n');
    fs.rmSync(path.join(dir, 'data/images/dog/3.txt'));
    writeFile(dir, 'data/images/bird/4.txt', 'a bird\n');
    // Four bytes changed in the middle of the big file: same size, new content.
    const edited = Buffer.from(big);
    edited.write('EDIT', 3 * MiB);
    writeFile(dir, 'data/big.bin', edited);

    const st = await lodeJson<StatusJson>(['status'], at);
    expect(st.staged).toEqual([]);
    expect(st.unstaged).toEqual([
      { path: 'data/big.bin', status: 'modified' },
      { path: 'data/images/dog/3.txt', status: 'deleted' },
      { path: 'data/labels.csv', status: 'modified' },
    ]);
    expect(st.untracked).toEqual(['data/images/bird/4.txt']);
    expect(st.clean).toBe(false);

    const text = await runLode(['status', '--exit-code'], at);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/Changes not staged[^\n]*\n(.*\n)*\s+modified:\s+data\/labels\.csv/);
    // A folder with only new files is one line, as in git (issue 11); -u lists every file.
    expect(text.stdout).toMatch(/New files in datasets[^\n]*\n\s+data\/images\/bird\/ \(1 file\)\n/);
    const all = await runLode(['status', '-u'], at);
    expect(all.stdout).toMatch(/New files in datasets[^\n]*\n\s+data\/images\/bird\/4\.txt/);
  });

  it('diff compares HEAD with the workspace: text, --json and --stat', async () => {
    const j = await lodeJson<DiffJson>(['diff'], at);
    expect(j.from).toMatchObject({ rev: 'HEAD', kind: 'commit', commit: commits[0] });
    expect(j.to).toMatchObject({ rev: ':workspace', kind: 'workspace', commit: null });
    expect(brief(j.changes)).toEqual([
      'modified data/big.bin',
      'added data/images/bird/4.txt',
      'deleted data/images/dog/3.txt',
      'modified data/labels.csv',
    ]);
    const byPath = new Map(j.changes.map((c) => [c.path, c]));
    expect(byPath.get('data/labels.csv')!.old!.size).toBe(27);
    expect(byPath.get('data/labels.csv')!.new!.size).toBe(22);
    expect(byPath.get('data/big.bin')!.old!.id).not.toBe(byPath.get('data/big.bin')!.new!.id);
    expect(byPath.get('data/images/bird/4.txt')!.new!.size).toBe(7);
    expect(byPath.get('data/images/dog/3.txt')!.old!.size).toBe(12);
    // changedBytes (issue 11): the 4-byte edit of big.bin costs its chunks around the edit, not 6 MiB.
    const bigChanged = (byPath.get('data/big.bin') as { changedBytes?: number }).changedBytes!;
    expect(bigChanged).toBeGreaterThan(0);
    expect(bigChanged).toBeLessThan(6 * MiB);
    expect(j.summary).toEqual({ added: 1, deleted: 1, modified: 2, renamed: 0, bytesAdded: 7 + 22 + 6 * MiB, bytesDeleted: 12 + 27 + 6 * MiB, changedBytes: 7 + 22 + bigChanged });

    const text = await runLode(['diff'], at);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^M {2}data\/big\.bin\s+6\.0 MiB → 6\.0 MiB \(\d+(\.\d)? [KM]iB new\)$/);
    expect(lines).toContainEqual(expect.stringMatching(/^A {2}data\/images\/bird\/4\.txt\s+7 B$/));
    expect(lines).toContainEqual(expect.stringMatching(/^D {2}data\/images\/dog\/3\.txt\s+12 B$/));
    expect(lines).toContainEqual(expect.stringMatching(/^M {2}data\/labels\.csv\s+27 B → 22 B$/));
    expect(lines[lines.length - 1]).toMatch(/^4 files changed: 1 added, 1 deleted, 2 modified, 0 renamed/);

    const stat = await lodeJson<DiffJson>(['diff', '--stat'], at);
    const dirs = new Map(stat.stat!.map((d) => [d.dir, d]));
    // data/images/cat has no change but stands beside changed class folders: listed for the balance.
    expect([...dirs.keys()]).toEqual(['data', 'data/images/bird', 'data/images/cat', 'data/images/dog']);
    expect(dirs.get('data/images/cat')).toMatchObject({ added: 0, deleted: 0, modified: 0, renamed: 0, before: { files: 1 }, after: { files: 1 } });
    expect(dirs.get('data')).toMatchObject({ modified: 2, added: 0, deleted: 0, before: { files: 5 }, after: { files: 5 } });
    expect(dirs.get('data/images/dog')).toMatchObject({ deleted: 1, before: { files: 2, bytes: 18 }, after: { files: 1, bytes: 6 } });
    expect(dirs.get('data/images/bird')).toMatchObject({ added: 1, before: { files: 0, bytes: 0 }, after: { files: 1, bytes: 7 } });
    const statText = await runLode(['diff', '--stat'], at);
    expect(statText.stdout).toMatch(/^directory\s+added\s+deleted\s+modified\s+renamed/m);
    // The "new bytes" column (issue 11): a deletion brings no new content.
    expect(statText.stdout).toMatch(/^data\/images\/dog\/\s+0\s+1\s+0\s+0\s+2 → 1\s+18 B → 6 B\s+0 B$/m);

    expect((await runLode(['diff', '--exit-code'], at)).code).toBe(1);
  });

  it('diff --staged and diff :index split the changes at the index', async () => {
    // Nothing staged yet: HEAD..index is empty, index..workspace has everything.
    expect((await runLode(['diff', '--staged', '--exit-code'], at)).code).toBe(0);
    expect(brief((await lodeJson<DiffJson>(['diff', ':index'], at)).changes)).toHaveLength(4);

    const add = await lodeJson(['add', 'data'], at);
    expect(add).toMatchObject({ added: 1, modified: 2, removed: 1 });

    const staged = await lodeJson<DiffJson>(['diff', '--staged'], at);
    expect(staged.to.kind).toBe('index');
    expect(brief(staged.changes)).toEqual([
      'modified data/big.bin',
      'added data/images/bird/4.txt',
      'deleted data/images/dog/3.txt',
      'modified data/labels.csv',
    ]);
    expect(brief((await lodeJson<DiffJson>(['diff', 'HEAD', ':index'], at)).changes)).toEqual(brief(staged.changes));
    const rest = await runLode(['diff', ':index', '--exit-code'], at);
    expect(rest.code).toBe(0);
    expect(rest.stdout).toContain('No differences between :index and :workspace');
    expect((await runLode(['diff', '--staged', '--exit-code'], at)).code).toBe(1);

    const st = await lodeJson<StatusJson>(['status'], at);
    expect(st.unstaged).toEqual([]);
    expect(st.untracked).toEqual([]);
    expect(brief(st.staged)).toEqual(brief(staged.changes));
  });

  it('a second commit; diff HEAD~1 HEAD shows what it changed', async () => {
    const c = await lodeJson(['commit', '-m', 'relabel, add a bird'], at);
    expect(c).toMatchObject({ parent: commits[0], files: 5, changes: { added: 1, deleted: 1, modified: 2, renamed: 0 } });
    commits.push(c.id);
    snapshots.push(workspaceSnapshot(dir));
    expect((await runLode(['status', '--exit-code'], at)).code).toBe(0);
    expect((await runLode(['diff', '--exit-code'], at)).code).toBe(0);

    const d = await lodeJson<DiffJson>(['diff', 'HEAD~1', 'HEAD'], at);
    expect(d.from.commit).toBe(commits[0]);
    expect(d.to.commit).toBe(commits[1]);
    expect(brief(d.changes)).toEqual([
      'modified data/big.bin',
      'added data/images/bird/4.txt',
      'deleted data/images/dog/3.txt',
      'modified data/labels.csv',
    ]);
    // diff(a, b) mirrors diff(b, a).
    const back = await lodeJson<DiffJson>(['diff', 'HEAD', 'HEAD~1'], at);
    expect(brief(back.changes)).toEqual([
      'modified data/big.bin',
      'deleted data/images/bird/4.txt',
      'added data/images/dog/3.txt',
      'modified data/labels.csv',
    ]);
    expect(back.summary.bytesAdded).toBe(d.summary.bytesDeleted);

    // Paths after -- restrict the diff.
    const only = await lodeJson<DiffJson>(['diff', 'HEAD~1', 'HEAD', '--', 'data/images'], at);
    expect(brief(only.changes)).toEqual(['added data/images/bird/4.txt', 'deleted data/images/dog/3.txt']);
    const log = await lodeJson(['log'], at);
    expect(log.commits.map((x: { id: string }) => x.id)).toEqual([commits[1], commits[0]]);
  });

  it('checkout REV -- PATH restores one file and stages it, without moving HEAD', async () => {
    const r = await lodeJson(['checkout', 'HEAD~1', '--', 'data/labels.csv'], at);
    expect(r).toMatchObject({ written: 1, removed: 0, moved: false, branch: 'main' });
    expect(readFile(dir, 'data/labels.csv').toString()).toBe(first['data/labels.csv']);
    // Nothing else moved.
    const now = workspaceSnapshot(dir);
    expect({ ...now, 'data/labels.csv': '' }).toEqual({ ...snapshots[1], 'data/labels.csv': '' });
    const st = await lodeJson<StatusJson>(['status'], at);
    expect(st).toMatchObject({ branch: 'main', head: commits[1], unstaged: [], untracked: [] });
    expect(brief(st.staged)).toEqual(['modified data/labels.csv']);

    // --force puts HEAD's version back over the staged one.
    await lodeOk(['checkout', '--force', 'HEAD', '--', 'data/labels.csv'], at);
    expect(workspaceSnapshot(dir)).toEqual(snapshots[1]);
    expect((await runLode(['status', '--exit-code'], at)).code).toBe(0);
  });

  it('a moved file is detected as a rename', async () => {
    fs.mkdirSync(path.join(dir, 'data/images/kitten'));
    fs.renameSync(path.join(dir, 'data/images/cat/1.txt'), path.join(dir, 'data/images/kitten/1.txt'));
    fs.rmdirSync(path.join(dir, 'data/images/cat'));
    const ws = await lodeJson<DiffJson>(['diff'], at);
    expect(brief(ws.changes)).toEqual(['renamed data/images/cat/1.txt -> data/images/kitten/1.txt']);

    await lodeOk(['add', 'data'], at);
    const c = await lodeJson(['commit', '-m', 'cats are kittens'], at);
    expect(c.changes).toEqual({ added: 0, deleted: 0, modified: 0, renamed: 1 });
    commits.push(c.id);
    snapshots.push(workspaceSnapshot(dir));

    const d = await lodeJson<DiffJson>(['diff', 'HEAD~1', 'HEAD'], at);
    expect(d.changes).toHaveLength(1);
    expect(d.changes[0]).toMatchObject({ status: 'renamed', oldPath: 'data/images/cat/1.txt', path: 'data/images/kitten/1.txt' });
    expect(d.changes[0].old!.id).toBe(d.changes[0].new!.id);
    expect(d.summary).toMatchObject({ renamed: 1, bytesAdded: 0, bytesDeleted: 0 });
    const text = await runLode(['diff', 'HEAD~1', 'HEAD'], at);
    expect(text.stdout).toMatch(/^R {2}data\/images\/cat\/1\.txt → data\/images\/kitten\/1\.txt\s+6 B$/m);
  });

  it('tag v1 names the first commit', async () => {
    const t = await lodeJson(['tag', 'v1', 'HEAD~2'], at);
    expect(t).toEqual({ name: 'v1', commit: commits[0] });
    expect(await lodeJson(['tag'], at)).toEqual({ tags: [{ name: 'v1', commit: commits[0] }] });
    const again = await runLode(['tag', 'v1'], at);
    expect(again.code).toBe(7);
    expect(again.stderr).toMatch(/^error: tag v1 already exists/m);
    const log = await lodeJson(['log', 'v1'], at);
    expect(log.commits.map((x: { id: string }) => x.id)).toEqual([commits[0]]);
    expect(log.commits[0].refs).toContain('tag: v1');
  });

  it('checkout v1 restores every byte of the first version, and prunes what v1 lacks', async () => {
    const r = await lodeJson(['checkout', 'v1'], at);
    expect(r).toMatchObject({ commit: commits[0], branch: null, moved: true });
    // big.bin, labels.csv and dog/3.txt come back, cat/1.txt reappears; bird/ and kitten/ go.
    expect(r.written).toBe(4);
    expect(r.removed).toBe(2);
    expect(workspaceSnapshot(dir)).toEqual(snapshots[0]);
    expect(sha256(readFile(dir, 'data/big.bin'))).toBe(sha256(big));
    expect(fs.existsSync(path.join(dir, 'data/images/bird'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'data/images/kitten'))).toBe(false);
    const st = await lodeJson<StatusJson>(['status'], at);
    expect(st).toMatchObject({ branch: null, head: commits[0], clean: true });
    expect((await runLode(['status'], at)).stdout).toMatch(/^HEAD detached at [0-9a-f]{12}/);
  });

  it('checkout main goes back to the tip', async () => {
    const r = await lodeJson(['checkout', 'main'], at);
    expect(r).toMatchObject({ commit: commits[2], branch: 'main', moved: true });
    expect(workspaceSnapshot(dir)).toEqual(snapshots[2]);
    expect(await lodeJson<StatusJson>(['status'], at)).toMatchObject({ branch: 'main', head: commits[2], clean: true });
  });

  it('checkout -b makes a branch; branch lists and deletes branches', async () => {
    const r = await lodeJson(['checkout', '-b', 'experiment'], at);
    expect(r).toMatchObject({ branch: 'experiment', commit: commits[2], moved: true, written: 0 });
    expect(workspaceSnapshot(dir)).toEqual(snapshots[2]);
    expect(await lodeJson(['branch'], at)).toEqual({
      branches: [
        { name: 'experiment', commit: commits[2], current: true },
        { name: 'main', commit: commits[2], current: false },
      ],
      current: 'experiment',
      detached: null,
    });
    const text = await runLode(['branch'], at);
    expect(text.stdout).toMatch(/^\* experiment [0-9a-f]{12}$/m);

    // A commit on the branch; main does not see it.
    writeFile(dir, 'data/images/bird/5.txt', 'another bird\n');
    await lodeOk(['add', 'data'], at);
    const c = await lodeJson(['commit', '-m', 'more birds'], at);
    expect(c.branch).toBe('experiment');
    await lodeOk(['checkout', 'main'], at);
    expect(fs.existsSync(path.join(dir, 'data/images/bird/5.txt'))).toBe(false);
    expect(workspaceSnapshot(dir)).toEqual(snapshots[2]);

    // The current branch cannot be deleted; an unmerged one needs -D.
    const cur = await runLode(['branch', '-d', 'main'], at);
    expect(cur.code).toBe(2);
    expect(cur.stderr).toMatch(/^error: cannot delete the current branch main/m);
    const unmerged = await runLode(['branch', '-d', 'experiment'], at);
    expect(unmerged.code).toBe(7);
    expect(unmerged.stderr).toMatch(/^hint: .*-D experiment/m);
    const del = await runLode(['branch', '-D', 'experiment'], at);
    expect(del.code).toBe(0);
    expect(del.stdout).toMatch(/^Deleted branch experiment/);
    expect((await lodeJson(['branch'], at)).branches.map((b: { name: string }) => b.name)).toEqual(['main']);

    // A merged branch goes with plain -d.
    await lodeOk(['branch', 'merged'], at);
    expect((await runLode(['branch', '-d', 'merged'], at)).code).toBe(0);
  });

  it('checkout with no revision restores a deleted file from HEAD', async () => {
    fs.rmSync(path.join(dir, 'data/big.bin'));
    expect(await lodeJson<StatusJson>(['status'], at)).toMatchObject({ unstaged: [{ path: 'data/big.bin', status: 'deleted' }] });
    const r = await lodeJson(['checkout'], at);
    expect(r).toMatchObject({ written: 1, removed: 0, moved: false, branch: 'main' });
    expect(workspaceSnapshot(dir)).toEqual(snapshots[2]);
    expect((await runLode(['status', '--exit-code'], at)).code).toBe(0);
  });
});
