// The push race, forced: two clones of one repository each commit and push
// the same branch. Alice's push reads the remote ref, sends her packs and is
// held at its ref write until Bob's whole push has finished; then her
// conditional write (If-Match on the etag she read) must be refused by the
// remote itself, on a directory remote and on S3 (moto). No timing involved:
// the order is fixed by the gate, so this proves the last line of defence,
// not the checks before it (e2e/sync.test.ts races two real `lode push`es).

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefConflictError } from '../src/core/errors.js';
import { add, commit } from '../src/commands/index.js';
import { Repository } from '../src/repo/repository.js';
import type { Backend, SaveOptions } from '../src/storage/backend.js';
import { DirBackend } from '../src/storage/dir.js';
import { openS3Backend } from '../src/storage/s3.js';
import { pushRef } from '../src/sync/push.js';
import { RemoteStore } from '../src/sync/remote-store.js';
import { pseudoRandomBytes } from './helpers/cli.js';
import { createBucket, MOTO_CREDENTIALS, startMoto, type TestServer } from './helpers/s3-servers.js';

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `lode-race-${prefix}-`));
  dirs.push(d);
  return d;
};

let moto: TestServer;
const BUCKET = `lode-race-${randomUUID().slice(0, 8)}`;
beforeAll(async () => {
  moto = await startMoto();
  await createBucket(moto.endpoint, BUCKET);
});
afterAll(async () => {
  await moto?.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** RefGate passes every call through, but holds ref writes until release(), recording what they asked for. */
class RefGate implements Backend {
  readonly refWrites: { key: string; options: SaveOptions | undefined }[] = [];
  /** Resolves when the first ref write arrives (and is being held). */
  readonly arrived: Promise<void>;
  private onArrive!: () => void;
  private opened!: () => void;
  private readonly open = new Promise<void>((resolve) => (this.opened = resolve));
  constructor(readonly inner: Backend) {
    this.arrived = new Promise((resolve) => (this.onArrive = resolve));
  }
  get location() {
    return this.inner.location;
  }
  get maxConnections() {
    return this.inner.maxConnections;
  }
  get conditionalWrites() {
    return this.inner.conditionalWrites;
  }
  release(): void {
    this.opened();
  }
  async save(key: string, data: Uint8Array, options?: SaveOptions) {
    if (key.startsWith('refs/')) {
      this.refWrites.push({ key, options });
      this.onArrive();
      await this.open;
    }
    return this.inner.save(key, data, options);
  }
  load = (k: string, r?: { offset: number; length: number }) => this.inner.load(k, r);
  stat = (k: string) => this.inner.stat(k);
  list = (p: string) => this.inner.list(p);
  remove = (k: string) => this.inner.remove(k);
}

async function edit(repo: Repository, name: string): Promise<string> {
  fs.writeFileSync(path.join(repo.root, 'data', `${name}.bin`), pseudoRandomBytes(30_000, name.length));
  await add(repo, { paths: [path.join(repo.root, 'data')] });
  return (await commit(repo, { message: name })).id;
}

const push = (repo: Repository, backend: Backend) =>
  pushRef({ store: repo.store, refs: repo.refs, remote: new RemoteStore(backend, path.join(repo.lodeDir, 'remotes', 'race')), kind: 'heads', name: 'main' });

/** race runs the forced race on `backend` (empty) and checks what each side and the remote end with. */
async function race(backend: Backend) {
  const aliceDir = tempDir('alice');
  const alice = Repository.init(aliceDir);
  for (let i = 0; i < 12; i++) {
    fs.mkdirSync(path.join(aliceDir, 'data'), { recursive: true });
    fs.writeFileSync(path.join(aliceDir, 'data', `f${i}.bin`), pseudoRandomBytes(20_000, i + 1));
  }
  await add(alice, { paths: [path.join(aliceDir, 'data')] });
  const v1 = (await commit(alice, { message: 'v1' })).id;
  await push(alice, backend);

  // Bob is a copy of Alice's workspace: same history, main at v1 on both sides.
  const bobDir = tempDir('bob');
  fs.cpSync(aliceDir, bobDir, { recursive: true });
  const bob = Repository.open(bobDir);
  const aliceTip = await edit(alice, 'alice');
  const bobTip = await edit(bob, 'bob');
  const before = await backend.stat('refs/heads/main');
  expect(before).toBeDefined();

  const gate = new RefGate(backend);
  const alicePush = push(alice, gate).then(
    () => undefined,
    (e: unknown) => e,
  );
  await gate.arrived; // Alice read main at v1, passed every check and sent her packs
  expect(gate.refWrites).toEqual([{ key: 'refs/heads/main', options: { ifMatch: before!.etag } }]);
  const won = await push(bob, backend);
  expect(won).toMatchObject({ from: v1, to: bobTip, upToDate: false });
  gate.release();

  const err = await alicePush;
  expect(err).toBeInstanceOf(RefConflictError);
  expect((err as Error).message).toMatch(/refused the update of branch main: it moved while you pushed/);
  // The refusal came from the remote's conditional write, not from lode's own checks.
  expect((err as Error).cause).toBeInstanceOf(RefConflictError);
  expect(gate.refWrites).toHaveLength(1);
  // Bob's commit is the branch; Alice keeps hers, and her packs are on the remote for the next try.
  expect((await backend.load('refs/heads/main')).toString('utf8').trim()).toBe(bobTip);
  expect(alice.refs.get('heads', 'main')).toBe(aliceTip);
  const remote = new RemoteStore(backend, tempDir('check'));
  await remote.refresh();
  expect(remote.location(aliceTip)).toBeDefined();
}

describe('a push race on one branch, forced', () => {
  it('on a directory remote: the loser is refused by the conditional ref write', async () => {
    await race(new DirBackend(tempDir('share')));
  });

  it('on S3 (moto): the loser is refused by the conditional ref write (If-Match)', async () => {
    const backend = await openS3Backend({ url: `s3://${BUCKET}/race`, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS });
    try {
      await race(backend);
    } finally {
      await backend.close?.();
    }
  });
});
