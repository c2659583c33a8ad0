// The team workflow of issue 11 through the built binary: two workspaces and a
// bucket on moto (and a real git repository), for the breaks a colleague hits
// first: AWS environment conventions, resuming an interrupted clone, fsck on a
// partial clone, and remotes that stay usable at any git revision.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expectLodeError, LODE_BIN, lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, sha256, workspaceSnapshot, writeFile } from '../test/helpers/cli.js';
import { dropContent, flipByte } from './repos.js';
import { createBucket, freePort, MOTO_CREDENTIALS, startMoto, type TestServer } from '../test/helpers/s3-servers.js';

let moto: TestServer;
let base: string;
// No AWS_REGION here: the tests set what they need. The AWS config file is pinned so the machine's own never leaks in.
const creds = { AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey, AWS_CONFIG_FILE: '/nonexistent', AWS_REGION: '', AWS_DEFAULT_REGION: '', AWS_PROFILE: '', AWS_ENDPOINT_URL: '', AWS_ENDPOINT_URL_S3: '' };

beforeAll(async () => {
  moto = await startMoto();
  await createBucket(moto.endpoint, 'team-data');
  base = makeTempDir('lode-e2e-team');
});
afterAll(async () => {
  await moto?.stop();
  if (base) removeDir(base);
});

/** workspace makes a directory under base with a committed data/ folder. */
async function workspace(name: string, env: Record<string, string>, files = 3): Promise<string> {
  const dir = path.join(base, name);
  fs.mkdirSync(dir);
  await lodeOk(['init'], { cwd: dir, env });
  if (files === 0) return dir;
  for (let i = 0; i < files; i++) writeFile(dir, `data/f${i}.bin`, pseudoRandomBytes(2000 + i, i + 1));
  await lodeOk(['add', 'data'], { cwd: dir, env });
  await lodeOk(['commit', '-m', 'v1'], { cwd: dir, env });
  return dir;
}

describe('AWS environment conventions (break 7)', () => {
  it('AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL act like --endpoint (path-style included) and errors name the endpoint used', async () => {
    const env = { ...creds, AWS_ENDPOINT_URL_S3: moto.endpoint, AWS_REGION: 'eu-west-1' };
    const a = await workspace('env-alice', env);
    await lodeOk(['remote', 'add', 'origin', 's3://team-data/env'], { cwd: a, env });
    // moto on 127.0.0.1 answers only path-style requests: the push succeeding shows it was turned on.
    const pushed = await lodeJson(['push'], { cwd: a, env });
    expect(pushed.pushed[0].upToDate).toBe(false);

    const generic = { ...creds, AWS_ENDPOINT_URL: moto.endpoint };
    const b = path.join(base, 'env-bob');
    await lodeOk(['clone', 's3://team-data/env', b], { cwd: base, env: generic });
    expect(workspaceSnapshot(b)).toEqual(workspaceSnapshot(a));

    const port = await freePort();
    const dead = `http://127.0.0.1:${port}`;
    const down = await runLode(['fetch'], { cwd: b, env: { ...creds, AWS_ENDPOINT_URL_S3: dead, AWS_ENDPOINT_URL: moto.endpoint } });
    const msg = expectLodeError(down, 9);
    expect(msg).toContain(`127.0.0.1:${port}`);
    expect(msg).toContain('AWS_ENDPOINT_URL_S3');
    expect(msg).not.toContain('AWS S3 (');

    // The remote's own setting wins over the environment (as --endpoint-url does for the AWS CLI).
    await lodeOk(['remote', 'modify', 'origin', '--endpoint', moto.endpoint], { cwd: b, env: creds });
    await lodeOk(['fetch'], { cwd: b, env: { ...creds, AWS_ENDPOINT_URL_S3: dead } });
  });

  it('AWS_PROFILE picks endpoint_url and region from the AWS config file', async () => {
    const configFile = path.join(base, 'aws-config');
    // With a profile the SDK takes credentials from it, not from AWS_ACCESS_KEY_ID (as the AWS CLI does for --profile).
    const keys = `aws_access_key_id = ${MOTO_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${MOTO_CREDENTIALS.secretAccessKey}\n`;
    fs.writeFileSync(configFile, `[default]\nregion = us-west-2\n\n[profile team]\nregion = eu-central-1\nendpoint_url = ${moto.endpoint}\n${keys}`);
    const env = { ...creds, AWS_CONFIG_FILE: configFile, AWS_PROFILE: 'team' };
    const a = await workspace('profile-alice', env);
    await lodeOk(['remote', 'add', 'origin', 's3://team-data/profile'], { cwd: a, env });
    await lodeOk(['push'], { cwd: a, env });
    // A profile whose endpoint is down: the error names it and where it came from.
    const port = await freePort();
    fs.appendFileSync(configFile, `\n[profile down]\nendpoint_url = http://127.0.0.1:${port}\n${keys}`);
    const down = await runLode(['fetch'], { cwd: a, env: { ...env, AWS_PROFILE: 'down' } });
    const msg = expectLodeError(down, 9);
    expect(msg).toContain(`127.0.0.1:${port}`);
    expect(msg).toContain('profile down');
  });
});

/** interruptClone starts `lode clone URL DIR` and sends it SIGINT (Ctrl-C) once `ready(dir)` holds; resolves with its exit code. */
async function interruptClone(args: string[], dir: string, env: Record<string, string>, ready: (dir: string) => boolean): Promise<number | null> {
  const child = spawn(process.execPath, [LODE_BIN, 'clone', ...args], { cwd: base, env: { ...process.env, NO_COLOR: '1', CI: '1', ...env }, stdio: 'ignore' });
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let exited = false;
  void done.then(() => (exited = true));
  while (!exited && !ready(dir)) await new Promise((r) => setTimeout(r, 20));
  if (!exited) child.kill('SIGINT');
  return done;
}

/** cachedFiles counts the file contents in a workspace's local cache. */
function cachedFiles(dir: string): number {
  const cache = path.join(dir, '.lode', 'cache');
  if (!fs.existsSync(cache)) return 0;
  return fs.readdirSync(cache, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
}

describe('an interrupted clone (break 6)', () => {
  it('cloning the same URL into the directory it left resumes it; another URL is refused', async () => {
    const env = { ...creds, AWS_REGION: 'us-east-1' };
    const a = await workspace('resume-alice', env, 0);
    // Many packs: one commit per file, each pushed, so the clone fetches pack after pack.
    for (let i = 0; i < 12; i++) {
      writeFile(a, `data/part${i}.bin`, pseudoRandomBytes(600_000, 100 + i));
      await lodeOk(['add', 'data'], { cwd: a, env });
      await lodeOk(['commit', '-m', `part ${i}`], { cwd: a, env });
    }
    await lodeOk(['remote', 'add', 'origin', 's3://team-data/resume', '--endpoint', moto.endpoint], { cwd: a, env });
    await lodeOk(['push'], { cwd: a, env });

    const b = path.join(base, 'resume-bob');
    const url = 's3://team-data/resume';
    const code = await interruptClone([url, b, '--endpoint', moto.endpoint], b, env, (d) => cachedFiles(d) > 0);
    // Interrupted (exit 130): the directory stays, marked, with whatever was fetched.
    expect(code).toBe(130);
    {
      expect(fs.existsSync(path.join(b, '.lode', 'clone-in-progress'))).toBe(true);
      const other = await runLode(['clone', 's3://team-data/other', b, '--endpoint', moto.endpoint], { cwd: base, env });
      expect(expectLodeError(other, 7)).toMatch(/exists and is not empty/);
      expect(fs.existsSync(path.join(b, '.lode'))).toBe(true);
      const before = cachedFiles(b);
      expect(before).toBeGreaterThan(0);
      const r = await lodeJson(['clone', url, b, '--endpoint', moto.endpoint], { cwd: base, env });
      expect(r.resumed).toBe(true);
      // What the first try fetched is not downloaded again.
      expect(r.fetched.files).toBeLessThanOrEqual(12 - before);
    }
    expect(fs.existsSync(path.join(b, '.lode', 'clone-in-progress'))).toBe(false);
    expect(workspaceSnapshot(b)).toEqual(workspaceSnapshot(a));
    await lodeOk(['fsck'], { cwd: b, env });
    // A finished clone is never "resumed": the directory is a workspace with a commit now.
    const again = await runLode(['clone', url, b, '--endpoint', moto.endpoint], { cwd: base, env });
    expectLodeError(again, 7);
  });

  it('a workspace with no commit whose remote is the URL (a clone from before the marker) is resumed too', async () => {
    const env = { ...creds, AWS_REGION: 'us-east-1' };
    const url = 's3://team-data/resume';
    const c = path.join(base, 'resume-carol');
    fs.mkdirSync(c);
    await lodeOk(['init'], { cwd: c, env });
    await lodeOk(['remote', 'add', 'origin', url, '--endpoint', moto.endpoint], { cwd: c, env });
    const r = await lodeJson(['clone', url, c], { cwd: base, env });
    expect(r).toMatchObject({ resumed: true, remote: 'origin', branch: 'main' });
    expect(workspaceSnapshot(c)).toEqual(workspaceSnapshot(path.join(base, 'resume-alice')));
  });
});

describe('fsck on a partial clone (break 4)', () => {
  it('content never fetched is "not fetched" (exit 0); content missing everywhere and corrupt content fail (exit 5)', async () => {
    const env = { ...creds, AWS_REGION: 'us-east-1' };
    const a = await workspace('fsck-alice', env);
    const remoteFlags = ['--endpoint', moto.endpoint];
    await lodeOk(['remote', 'add', 'origin', 's3://team-data/fsck', ...remoteFlags], { cwd: a, env });
    await lodeOk(['push'], { cwd: a, env });
    const b = path.join(base, 'fsck-bob');
    await lodeOk(['clone', 's3://team-data/fsck', b, ...remoteFlags], { cwd: base, env });
    writeFile(a, 'data/f0.bin', pseudoRandomBytes(3000, 50));
    writeFile(a, 'data/f1.bin', pseudoRandomBytes(3000, 51));
    await lodeOk(['commit', '-a', '-m', 'v2'], { cwd: a, env });
    await lodeOk(['push'], { cwd: a, env });
    const log = await lodeJson(['log', '-n', '1'], { cwd: a, env });
    const v2: string = (Array.isArray(log) ? log : log.commits)[0].id;

    // Only data/f0.bin of v2 is fetched; a branch at v2 makes fsck walk it.
    await lodeOk(['pull', '--', 'data/f0.bin'], { cwd: b, env });
    await lodeOk(['branch', 'theirs', v2], { cwd: b, env });
    const partial = await runLode(['fsck', '--json'], { cwd: b, env });
    expect(partial.code).toBe(0);
    const pj = JSON.parse(partial.stdout);
    expect(pj.ok).toBe(true);
    expect(pj.problems).toEqual([]);
    expect(pj.notFetched).toHaveLength(1);
    expect(pj.notFetched[0]).toMatchObject({ remote: 'origin' });
    const text = await lodeOk(['fsck'], { cwd: b, env });
    expect(text.stdout).toMatch(/^1 file not fetched yet \(on remote origin\)/m);
    expect(text.stdout).not.toMatch(/corrupt|^\d+ problems? found/m);
    expect(text.stdout).toMatch(/^No problems found/m);

    // The remote unreachable: a commit only a path-limited pull brought is presumed not fetched, still exit 0.
    const port = await freePort();
    await lodeOk(['remote', 'modify', 'origin', '--endpoint', `http://127.0.0.1:${port}`], { cwd: b, env });
    const offline = JSON.parse((await lodeOk(['fsck', '--json'], { cwd: b, env })).stdout);
    expect(offline.notFetched).toHaveLength(1);
    expect(offline.notFetched[0].remote).toBeNull();
    expect(offline.remoteNote).toContain(`127.0.0.1:${port}`);
    await lodeOk(['remote', 'modify', 'origin', ...remoteFlags], { cwd: b, env });

    // Content that exists nowhere: committed here, never pushed, then lost from the cache.
    writeFile(b, 'data/mine.bin', pseudoRandomBytes(4000, 60));
    await lodeOk(['add', 'data/mine.bin'], { cwd: b, env });
    await lodeOk(['commit', '-m', 'mine'], { cwd: b, env });
    // A small file: packed by add; dropped from the cache as gc would.
    dropContent(b, [sha256(pseudoRandomBytes(4000, 60))]);
    fs.rmSync(path.join(b, 'data/mine.bin'));
    const gone = await runLode(['fsck', '--json'], { cwd: b, env });
    expect(gone.code).toBe(5);
    const gj = JSON.parse(gone.stdout);
    // The committed content (and its staged entry) is missing: a failure, named as not on the remote either.
    expect(gj.problems.map((p: { kind: string }) => p.kind)).toEqual(gj.problems.map(() => 'missing'));
    expect(gj.problems.some((p: { message: string }) => p.message.includes('nor on remote origin'))).toBe(true);
    expect(gj.notFetched).toHaveLength(1);

    // Corrupt content is a failure of its own kind: a cache file, or (small files a clone
    // fetched) a byte inside a local pack, past its 21-byte header.
    const packsDir = path.join(b, '.lode', 'packs');
    const cacheDir = path.join(b, '.lode', 'cache');
    const loose = fs
      .readdirSync(cacheDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name));
    const packed = fs.existsSync(packsDir) ? fs.readdirSync(packsDir).filter((n) => n.endsWith('.pack')).map((n) => path.join(packsDir, n)) : [];
    if (loose.length > 0) flipByte(loose[0], 10);
    else flipByte(packed[0], 30);
    const bad = await runLode(['fsck', '--json'], { cwd: b, env });
    expect(bad.code).toBe(5);
    expect(JSON.parse(bad.stdout).problems.some((p: { kind: string }) => p.kind === 'corrupt')).toBe(true);
  });
});

/** git runs the real git in `cwd` with a sandboxed HOME and identity; throws unless it exits 0. */
async function git(cwd: string, ...args: string[]): Promise<string> {
  const home = path.join(base, 'git-home');
  fs.mkdirSync(home, { recursive: true });
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('GIT_')) env[k] = v;
  Object.assign(env, { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada', GIT_COMMITTER_EMAIL: 'ada@example.com' });
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-c', 'init.defaultBranch=main', '-c', 'advice.detachedHead=false', ...args], { cwd, env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out).toString('utf8').trim()) : reject(new Error(`git ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString('utf8')}`))));
  });
}

describe('remotes at any git revision (break 1)', () => {
  it("a colleague's git clone goes back to data pinned before the remote was configured", async () => {
    const env = { ...creds, AWS_REGION: 'us-east-1' };
    const a = path.join(base, 'git-alice');
    fs.mkdirSync(a);
    await git(a, 'init', '-q');
    await lodeOk(['init'], { cwd: a, env });
    writeFile(a, 'data/labels.csv', 'id,label\n1,cat\n');
    writeFile(a, 'data/big.bin', pseudoRandomBytes(300_000, 70));
    await lodeOk(['add', 'data'], { cwd: a, env });
    await lodeOk(['commit', '-m', 'last month'], { cwd: a, env });
    const dataOf = (dir: string) => Object.fromEntries(Object.entries(workspaceSnapshot(dir)).filter(([k]) => k.startsWith('data/')));
    const lastMonth = dataOf(a);
    expect(Object.keys(lastMonth)).toHaveLength(2);
    await git(a, 'add', '-A');
    await git(a, 'commit', '-q', '-m', 'last month: no remote yet');
    // Later the team gets a bucket; the new config (with the remote) is committed with the next data.
    await lodeOk(['remote', 'add', 'origin', 's3://team-data/git', '--endpoint', moto.endpoint], { cwd: a, env });
    writeFile(a, 'data/labels.csv', 'id,label\n1,cat\n2,dog\n');
    await lodeOk(['commit', '-a', '-m', 'this month'], { cwd: a, env });
    await lodeOk(['push'], { cwd: a, env });
    await git(a, 'add', '-A');
    await git(a, 'commit', '-q', '-m', 'this month, shared on S3');

    const b = path.join(base, 'git-bob');
    await git(base, 'clone', '-q', a, b);
    await lodeOk(['init'], { cwd: b, env });
    // The workspace sees the remote of the current code once (any command reads the config).
    expect((await lodeJson(['remote', 'list'], { cwd: b, env })).remotes).toHaveLength(1);
    // Back to last month's code: its .lode/config has no remote, yet the data comes back from the one lode remembers.
    await git(b, 'checkout', '-q', 'HEAD~1');
    expect(fs.readFileSync(path.join(b, '.lode/config'), 'utf8')).not.toContain('team-data');
    const co = await lodeJson(['checkout'], { cwd: b, env });
    expect(co.fetched).toBe(true);
    expect(dataOf(b)).toEqual(lastMonth);
    await lodeOk(['fetch'], { cwd: b, env });
    const list = await lodeJson(['remote', 'list'], { cwd: b, env });
    expect(list.default).toBe('origin');
    expect(list.remotes).toEqual([expect.objectContaining({ name: 'origin', url: 's3://team-data/git', remembered: true })]);
    // The remembered definition stays out of git and carries no secret.
    expect(await git(b, 'status', '--porcelain', '--', '.lode')).toBe('');

    // Data that was simply not fetched is named so, with the command that fetches it (never blamed on gc).
    await lodeOk(['remote', 'remove', 'origin'], { cwd: b, env });
    const history = await lodeJson(['log'], { cwd: a, env });
    const firstId: string = (Array.isArray(history) ? history : history.commits).at(-1).id;
    // Make the old version's big file unfetched: a fresh partial workspace (pull of one path) with its remote removed.
    const d = path.join(base, 'git-dave');
    fs.mkdirSync(d);
    await lodeOk(['init'], { cwd: d, env });
    await lodeOk(['remote', 'add', 'origin', 's3://team-data/git', '--endpoint', moto.endpoint], { cwd: d, env });
    await lodeOk(['pull', '--', 'data/labels.csv'], { cwd: d, env });
    await lodeOk(['remote', 'remove', 'origin'], { cwd: d, env });
    const missing = await runLode(['checkout', '-f', firstId], { cwd: d, env });
    const msg = expectLodeError(missing, 6);
    expect(msg).toMatch(/not fetched yet/);
    expect(missing.stderr).toMatch(/^hint: +`lode fetch /m);
    expect(missing.stderr).not.toMatch(/garbage/);
  });
});
