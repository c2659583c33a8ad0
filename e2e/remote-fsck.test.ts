// fsck --remote through the binary, and the remote-safety fixes users see:
// a healthy remote passes; a flipped byte, a lost pack and an orphan pack are
// each reported as such; gc --remote collects the orphan after the grace
// period and shrugs off a damaged mark; push repairs a remote that lost data.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import xxhash from 'xxhash-wasm';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, sha256, writeFile } from '../test/helpers/cli.js';
import { createBucket, MOTO_CREDENTIALS, startMoto, type TestServer } from '../test/helpers/s3-servers.js';
import { pushedToShare } from './repos.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

const SMALL = (i: number) => pseudoRandomBytes(1500 + i, 500 + i);
const BIG = pseudoRandomBytes(200_000, 77);

/** A workspace with two commits pushed to a directory remote, one pack per push. */
async function setup(prefix: string) {
  const base = makeTempDir(`lode-e2e-${prefix}`);
  dirs.push(base);
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 5; i++) files[`data/s${i}.bin`] = SMALL(i);
  const { a, at, share } = await pushedToShare(base, files);
  const firstPack = packsIn(share).find((f) => f.endsWith('.pack'))!;
  writeFile(a, 'data/big.bin', BIG);
  await lodeOk(['add', 'data'], at);
  await lodeOk(['commit', '-m', 'v2'], at);
  await lodeOk(['push'], at);
  return { base, a, at, share, firstPack };
}

function packsIn(share: string): string[] {
  return fs.readdirSync(path.join(share, 'packs')).sort();
}

async function fsckRemote(args: string[], at: { cwd: string; env?: Record<string, string> }) {
  const r = await runLode(['fsck', '--remote', ...args, '--json'], at);
  return { code: r.code, stderr: r.stderr, json: JSON.parse(r.stdout) };
}

describe('fsck --remote on a directory remote', () => {
  it('a healthy remote: exit 0, every pack read and verified with --read-data', async () => {
    const { at } = await setup('rfsck-ok');
    const plain = await fsckRemote([], at);
    expect(plain.code).toBe(0);
    expect(plain.json).toMatchObject({ remote: 'share', ok: true, refs: 1, packs: 2, packsRead: 0, problems: [], warnings: [] });
    // 6 files + 2 commits + 2 trees each (the root and data/): nothing is chunked at this size.
    expect(plain.json.reachable).toBe(12);
    const full = await fsckRemote(['share', '--read-data'], at);
    expect(full.code).toBe(0);
    expect(full.json).toMatchObject({ ok: true, packsRead: 2 });
    expect(full.json.bytesRead).toBeGreaterThan(BIG.length);
    const text = await lodeOk(['fsck', '--remote'], at);
    expect(text.stdout).toMatch(/^No problems found$/m);
  });

  it('a flipped byte inside a file in a pack: found with --read-data (exit 5, object named), invisible without', async () => {
    const { at, share } = await setup('rfsck-flip');
    const packFile = packsIn(share)
      .filter((f) => f.endsWith('.pack'))
      .map((f) => path.join(share, 'packs', f))
      .find((f) => fs.readFileSync(f).includes(BIG))!;
    const bytes = fs.readFileSync(packFile);
    bytes[bytes.indexOf(BIG) + 1234] ^= 0x01;
    fs.writeFileSync(packFile, bytes);
    expect((await fsckRemote([], at)).code).toBe(0);
    const r = await fsckRemote(['--read-data'], at);
    expect(r.code).toBe(5);
    expect(r.json.ok).toBe(false);
    expect(r.json.problems).toEqual([expect.objectContaining({ kind: 'corrupt', id: sha256(BIG) })]);
    const text = await runLode(['fsck', '--remote', '--read-data'], at);
    expect(text.code).toBe(5);
    expect(text.stdout.split('\n')).toContainEqual(expect.stringMatching(new RegExp(`^  corrupt: object ${sha256(BIG)} in pack [0-9a-f]{64} does not match its ID$`)));
  });

  it('--read-data-subset reads a deterministic subset of packs; a bad subset is a usage error', async () => {
    const { at } = await setup('rfsck-subset');
    const parts = [];
    for (let n = 1; n <= 3; n++) parts.push((await fsckRemote(['--read-data-subset', `${n}/3`], at)).json);
    for (const p of parts) expect(p).toMatchObject({ ok: true, subset: expect.stringMatching(/^\d\/3$/) });
    // The three subsets partition the packs.
    expect(parts.reduce((s, p) => s + p.packsRead, 0)).toBe(2);
    expect((await fsckRemote(['--read-data-subset', '1/3'], at)).json.packsRead).toBe(parts[0].packsRead);
    expectLodeError(await runLode(['fsck', '--remote', '--read-data-subset', '4/3'], at), 2);
    expectLodeError(await runLode(['fsck', '--read-data'], at), 2);
  });

  it('a deleted pack: the objects refs reach are named missing, with their paths (exit 5); push sends them again', async () => {
    const { at, share, firstPack } = await setup('rfsck-lost');
    fs.rmSync(path.join(share, 'packs', firstPack));
    fs.rmSync(path.join(share, 'packs', firstPack.replace(/\.pack$/, '.idx')));
    const r = await fsckRemote([], at);
    expect(r.code).toBe(5);
    const missing = r.json.problems.filter((p: { kind: string }) => p.kind === 'missing');
    // v1's files (still in v2) and v1's commit and tree were in the first pack.
    for (let i = 0; i < 5; i++) expect(missing).toContainEqual(expect.objectContaining({ id: sha256(SMALL(i)), path: `data/s${i}.bin`, ref: 'main' }));
    expect(missing.map((p: { id: string }) => p.id)).not.toContain(sha256(BIG));

    // status --remote and push both notice: the ref is right, the data is not.
    const st = await lodeJson(['status', '--remote'], at);
    expect(st.state).toBe('incomplete');
    expect(st.toPush.objects).toBeGreaterThanOrEqual(5);
    expect((await runLode(['status', '--remote', '--exit-code'], at)).code).toBe(1);
    const p = await lodeJson(['push'], at);
    expect(p.pushed[0]).toMatchObject({ upToDate: false, repaired: true });
    expect(p.pushed[0].objects).toBeGreaterThanOrEqual(5);
    expect((await fsckRemote(['--read-data'], at)).json).toMatchObject({ ok: true, problems: [] });
    expect((await lodeJson(['push'], at)).pushed[0]).toMatchObject({ upToDate: true, objects: 0 });
  });

  it('a pack without its index only: reported as an index without its pack (exit 5)', async () => {
    const { at, share, firstPack } = await setup('rfsck-noidx');
    fs.rmSync(path.join(share, 'packs', firstPack));
    const r = await fsckRemote([], at);
    expect(r.code).toBe(5);
    expect(r.json.problems).toContainEqual(expect.objectContaining({ kind: 'index', pack: firstPack.slice(0, 64) }));
  });

  it('an orphan pack is a warning (exit 0); gc --remote marks it, collects it after the grace period, and a damaged mark restarts the grace', async () => {
    const { at, share } = await setup('rfsck-orphan');
    const orphanId = sha256(Buffer.from('an interrupted push'));
    fs.writeFileSync(path.join(share, 'packs', `${orphanId}.pack`), pseudoRandomBytes(5000, 3));
    const r = await fsckRemote([], at);
    expect(r.code).toBe(0);
    expect(r.json.ok).toBe(true);
    expect(r.json.warnings).toEqual([expect.objectContaining({ kind: 'orphanPack', pack: orphanId })]);

    const g1 = await lodeJson(['gc', '--remote'], at);
    expect(g1).toMatchObject({ unindexed: 1, marked: 1, deleted: 0 });
    const mark = path.join(share, 'gc', 'pending', orphanId);
    expect(fs.existsSync(mark)).toBe(true);
    // Within the grace period it stays.
    expect(await lodeJson(['gc', '--remote'], at)).toMatchObject({ deleted: 0 });
    expect(fs.existsSync(path.join(share, 'packs', `${orphanId}.pack`))).toBe(true);

    // A damaged mark (here: truncated to "1", which once read as 1 ms after 1970) is not old: it restarts the grace.
    fs.writeFileSync(mark, '1');
    expect(await lodeJson(['gc', '--remote'], at)).toMatchObject({ deleted: 0, rewrittenMarks: 1 });
    expect(fs.existsSync(path.join(share, 'packs', `${orphanId}.pack`))).toBe(true);

    // A valid mark from 7 hours ago (the documented format, written here by hand): swept.
    const { h64ToString } = await xxhash();
    const ms = String(Date.now() - 7 * 3600_000);
    fs.writeFileSync(mark, `${ms} ${h64ToString(ms)}\n`);
    const g2 = await lodeJson(['gc', '--remote'], at);
    expect(g2).toMatchObject({ deleted: 1, bytesFreed: 5000 });
    expect(fs.existsSync(path.join(share, 'packs', `${orphanId}.pack`))).toBe(false);
    expect(fs.readdirSync(path.join(share, 'gc', 'pending'))).toEqual([]);
    expect((await fsckRemote(['--read-data'], at)).json).toMatchObject({ ok: true, warnings: [] });
  });

  it('gc --remote refuses a grace period under an hour', async () => {
    const { at } = await setup('rfsck-grace');
    expectLodeError(await runLode(['gc', '--remote', '--grace-hours', '0'], at), 2);
  });
});

describe('fsck --remote on S3 (moto)', () => {
  let moto: TestServer;
  const env = { AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };
  beforeAll(async () => {
    moto = await startMoto();
    await createBucket(moto.endpoint, 'checked');
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('healthy: exit 0 with every pack read; a pack lost from the bucket is reported with its index (exit 5)', async () => {
    const base = makeTempDir('lode-e2e-rfsck-s3');
    dirs.push(base);
    const at = { cwd: base, env };
    await lodeOk(['init'], at);
    for (let i = 0; i < 5; i++) writeFile(base, `data/s${i}.bin`, SMALL(i));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v1'], at);
    await lodeOk(['remote', 'add', 'origin', 's3://checked/team', '--endpoint', moto.endpoint, '--path-style'], at);
    await lodeOk(['push'], at);
    writeFile(base, 'data/big.bin', BIG);
    await lodeOk(['commit', '-a', '-m', 'v2'], at);
    await lodeOk(['push'], at);
    const ok = await fsckRemote(['origin', '--read-data'], at);
    expect(ok.code).toBe(0);
    expect(ok.json).toMatchObject({ ok: true, packs: 2, packsRead: 2, problems: [] });

    // Delete the pack holding the big file, straight from the bucket.
    const { openS3Backend } = await import('../src/storage/s3.js');
    const bucket = await openS3Backend({ url: 's3://checked/team', endpoint: moto.endpoint, forcePathStyle: true, credentials: MOTO_CREDENTIALS });
    try {
      for await (const b of bucket.list('packs/')) {
        if (b.key.endsWith('.pack') && (await bucket.load(b.key)).includes(BIG)) await bucket.remove(b.key);
      }
    } finally {
      await bucket.close?.();
    }
    const bad = await fsckRemote([], at);
    expect(bad.code).toBe(5);
    expect(bad.json.problems).toContainEqual(expect.objectContaining({ kind: 'index' }));
    const again = await runLode(['fsck', '--remote'], at);
    expect(again.code).toBe(5);
    expect(again.stdout).toMatch(/^  index: pack [0-9a-f]{64} is missing: its index lists \d+ objects that cannot be read$/m);
  }, 120_000);
});
