// Two workspaces sharing a directory remote, as two people sharing a dataset:
// push, clone, pull, a push race, a corrupted remote, and a hostile remote tree.

import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, workspaceSnapshot, writeFile } from '../test/helpers/cli.js';
import { loadXxhash } from '../src/core/checksum.js';
import { encodeCommit } from '../src/core/encoding.js';
import { PackWriter } from '../src/objects/pack.js';
import { DirBackend } from '../src/storage/dir.js';
import { pushedToShare } from './repos.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function setup(prefix: string) {
  const base = makeTempDir(`lode-e2e-${prefix}`);
  dirs.push(base);
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 30; i++) files[`data/img/f${i}.bin`] = pseudoRandomBytes(2000 + i, i + 1);
  files['data/big.bin'] = pseudoRandomBytes(6 << 20, 99);
  const { a, share } = await pushedToShare(base, files);
  return { base, a, share };
}

describe('sharing through a directory remote', () => {
  it('push, clone, pull: both workspaces end equal; a small edit of a big file sends little', async () => {
    const { base, a, share } = await setup('sync-flow');
    const b = path.join(base, 'bob');
    const cl = await lodeJson(['clone', share, b], { cwd: base });
    expect(cl.branch).toBe('main');
    expect(workspaceSnapshot(b)).toEqual(workspaceSnapshot(a));
    expect((await lodeJson(['status'], { cwd: b })).clean).toBe(true);

    // Alice edits 100 bytes in the middle of the 6 MiB file and adds a file.
    const big = path.join(a, 'data/big.bin');
    const fd = fs.openSync(big, 'r+');
    fs.writeSync(fd, Buffer.alloc(100, 7), 0, 100, 3 << 20);
    fs.closeSync(fd);
    writeFile(a, 'data/img/new.bin', 'new\n');
    await lodeOk(['commit', '-a', '-m', 'v2'], { cwd: a });
    const p = await lodeJson(['push'], { cwd: a });
    expect(p.pushed[0].bytes).toBeLessThan((6 << 20) / 4);

    const pl = await lodeJson(['pull'], { cwd: b });
    expect(pl.outcome).toBe('fastForward');
    expect(pl.fetched.reused).toBeGreaterThan(3 << 20);
    expect(workspaceSnapshot(b)).toEqual(workspaceSnapshot(a));
    expect((await lodeJson(['diff', 'HEAD~1', 'HEAD'], { cwd: b })).changes.map((c: { path: string }) => c.path)).toEqual(['data/big.bin', 'data/img/new.bin']);
    expect((await runLode(['fsck'], { cwd: b })).code).toBe(0);
    expect((await lodeJson(['pull'], { cwd: b })).outcome).toBe('upToDate');

    // status --remote: ahead after a local commit, behind (once fetched) on the other side.
    writeFile(b, 'data/img/from-bob.bin', 'bob\n');
    await lodeOk(['commit', '-a', '-m', 'bob'], { cwd: b });
    const sb = await lodeJson(['status', '--remote'], { cwd: b });
    expect(sb).toMatchObject({ state: 'ahead', ahead: 1, behind: 0 });
    expect(sb.toPush.objects).toBeGreaterThan(0);
    expect((await runLode(['status', '--remote', '--exit-code'], { cwd: b })).code).toBe(1);
    await lodeOk(['push'], { cwd: b });
    expect((await lodeJson(['status', '--remote'], { cwd: a })).state).toBe('unknown');
    await lodeOk(['fetch'], { cwd: a });
    expect(await lodeJson(['status', '--remote'], { cwd: a })).toMatchObject({ state: 'behind', behind: 1 });
    // gc --remote on a remote where everything is reachable marks nothing.
    expect(await lodeJson(['gc', '--remote'], { cwd: a })).toMatchObject({ marked: 0, deleted: 0 });
  });

  it('pull -- PATH fetches and restores only that path; HEAD stays', async () => {
    const { base, a, share } = await setup('sync-partial');
    const b = path.join(base, 'bob');
    await lodeOk(['clone', share, b], { cwd: base });
    writeFile(a, 'data/img/f1.bin', 'changed in img\n');
    const fd = fs.openSync(path.join(a, 'data/big.bin'), 'r+');
    fs.writeSync(fd, Buffer.alloc(10, 3), 0, 10, 1000);
    fs.closeSync(fd);
    await lodeOk(['commit', '-a', '-m', 'two changes'], { cwd: a });
    await lodeOk(['push'], { cwd: a });
    const headBefore = (await lodeJson(['log', '-n', '1'], { cwd: b })).commits[0].id;
    const r = await lodeJson(['pull', '--', 'data/img'], { cwd: b });
    expect(r.outcome).toBe('paths');
    expect(fs.readFileSync(path.join(b, 'data/img/f1.bin'), 'utf8')).toBe('changed in img\n');
    // big.bin was neither fetched nor changed, and HEAD did not move.
    expect(fs.readFileSync(path.join(b, 'data/big.bin')).equals(fs.readFileSync(path.join(a, 'data/big.bin')))).toBe(false);
    expect(r.fetched.files).toBe(1);
    expect((await lodeJson(['log', '-n', '1'], { cwd: b })).commits[0].id).toBe(headBefore);
  });

  // Two real pushes at once: which check refuses the loser (the remote already
  // moved, or the conditional ref write) depends on timing; test/push-race.test.ts
  // forces the conditional write's refusal on a directory remote and on S3.
  it('two pushes at once on one branch: exactly one wins, the other is refused with a hint, no commit is lost', async () => {
    const { base, a, share } = await setup('sync-race');
    const b = path.join(base, 'bob');
    await lodeOk(['clone', share, b], { cwd: base });
    writeFile(a, 'data/img/alice.bin', 'from alice\n');
    await lodeOk(['commit', '-a', '-m', 'alice'], { cwd: a });
    writeFile(b, 'data/img/bob.bin', 'from bob\n');
    await lodeOk(['commit', '-a', '-m', 'bob'], { cwd: b });
    const [ra, rb] = await Promise.all([runLode(['push'], { cwd: a }), runLode(['push'], { cwd: b })]);
    expect([ra.code, rb.code].sort()).toEqual([0, 7]);
    const loser = ra.code === 7 ? ra : rb;
    expect(loser.stderr).toMatch(/^hint: .*lode pull/m);
    // The winner's commit is the remote branch; the loser still has its own.
    const winnerDir = ra.code === 0 ? a : b;
    const loserDir = ra.code === 0 ? b : a;
    const winnerHead = (await lodeJson(['log', '-n', '1'], { cwd: winnerDir })).commits[0].id;
    expect(fs.readFileSync(path.join(share, 'refs/heads/main'), 'utf8').trim()).toBe(winnerHead);
    expect((await lodeJson(['log', '-n', '1'], { cwd: loserDir })).commits[0].message).toMatch(/alice|bob/);
    // --force is needed to overwrite, and is refused without it again.
    expectLodeError(await runLode(['push'], { cwd: loserDir }), 7);
  });

  it('a corrupted pack on the remote is detected on clone: exit 5, no workspace left behind', async () => {
    const { base, share } = await setup('sync-corrupt');
    const packs = fs.readdirSync(path.join(share, 'packs')).filter((f) => f.endsWith('.pack'));
    const file = path.join(share, 'packs', packs[0]);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1000] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const r = await runLode(['clone', share, 'bob'], { cwd: base });
    expect(expectLodeError(r, 5)).toMatch(/does not match its ID/);
    expect(fs.existsSync(path.join(base, 'bob'))).toBe(false);
  });

  it('a remote tree naming ../x or /etc/x is refused; nothing is written outside the workspace', async () => {
    await loadXxhash();
    const base = makeTempDir('lode-e2e-sync-hostile');
    dirs.push(base);
    for (const bad of ['../escaped.txt', '/etc-escaped']) {
      const share = path.join(base, `share-${bad.length}`);
      const content = Buffer.from('pwned\n');
      const id = sha(content);
      const name = Buffer.from(bad);
      // A tree encoded by hand: lode's encoder refuses such names.
      const tree = Buffer.concat([Buffer.from('LODT\x01\x01', 'latin1'), Buffer.from([0x62, 0, content.length]), Buffer.from(id, 'hex'), Buffer.from([name.length]), name]);
      const commit = encodeCommit({ tree: sha(tree), parents: [], author: 'm <m@x>', time: 1, datasets: ['data'], message: 'evil' });
      const w = new PackWriter();
      w.add(id, content);
      w.add(sha(tree), tree);
      w.add(sha(commit), commit);
      const { id: packId, pack, index } = w.finish();
      const remote = new DirBackend(share);
      await remote.save(`packs/${packId}.pack`, pack);
      await remote.save(`packs/${packId}.idx`, index);
      await remote.save('refs/heads/main', Buffer.from(`${sha(commit)}\n`));
      const r = await runLode(['clone', share, 'victim'], { cwd: base });
      expect(expectLodeError(r, 5)).toMatch(/unsafe entry name/);
      expect(fs.existsSync(path.join(base, 'escaped.txt'))).toBe(false);
      expect(fs.existsSync('/etc-escaped')).toBe(false);
      expect(fs.existsSync(path.join(base, 'victim'))).toBe(false);
    }
  });
});
