// `lode remote`: configuring remotes, and keeping credentials out of tracked
// files and out of every output.

import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { expectLodeError, lodeJson, lodeOk, removeDir, runLode } from '../test/helpers/cli.js';
import { newRepo } from './repos.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';

describe('lode remote', () => {
  it('adds, lists, renames, sets the default and removes remotes', async () => {
    const { dir, at } = await newRepo('remote-cfg');
    dirs.push(dir);
    await lodeOk(['remote', 'add', 'backup', '../share'], at);
    await lodeOk(['remote', 'add', 'origin', 's3://team-data/cats', '--region', 'eu-west-1', '--endpoint', 'http://127.0.0.1:9000', '--path-style'], at);
    let r = await lodeJson(['remote', 'list'], at);
    expect(r.default).toBe('backup'); // the first remote becomes the default
    expect(r.remotes).toEqual([
      { name: 'backup', url: path.resolve(dir, '../share'), hasCredentials: false },
      { name: 'origin', url: 's3://team-data/cats', endpoint: 'http://127.0.0.1:9000', region: 'eu-west-1', pathStyle: true, hasCredentials: false },
    ]);
    await lodeOk(['remote', 'rename', 'origin', 'team'], at);
    await lodeOk(['remote', 'default', 'team'], at);
    await lodeOk(['remote', 'remove', 'backup'], at);
    r = await lodeJson(['remote', 'list'], at);
    expect(r).toMatchObject({ default: 'team', remotes: [{ name: 'team' }] });
    expectLodeError(await runLode(['remote', 'remove', 'nope'], at), 6);
    expectLodeError(await runLode(['remote', 'add', 'team', 's3://x-y-z'], at), 7);
    expectLodeError(await runLode(['remote', 'add', 'bad', 's3://A_B'], at), 2);
    expectLodeError(await runLode(['remote', 'add', 'web', 'https://example.org/x'], at), 2);
  });

  it('keeps access keys in .lode/config.local (0600) and never prints them', async () => {
    const { dir, at } = await newRepo('remote-secret');
    dirs.push(dir);
    const outputs: string[] = [];
    const run = async (args: string[]) => {
      const r = await runLode(args, at);
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    await run(['remote', 'add', 'origin', 's3://team-data/cats', '--access-key-id', 'AKIAEXAMPLE', '--secret-access-key', SECRET]);
    await run(['remote', 'list']);
    await run(['remote', 'list', '--json']);
    await run(['config', '--list']);
    await run(['config', '--list', '--json']);
    await run(['config', 'remote.origin.secret_access_key']);
    for (const o of outputs) expect(o).not.toContain(SECRET);
    expect(fs.readFileSync(path.join(dir, '.lode/config'), 'utf8')).not.toContain(SECRET);
    expect(fs.readFileSync(path.join(dir, '.lode/config.local'), 'utf8')).toContain(SECRET);
    expect(fs.statSync(path.join(dir, '.lode/config.local')).mode & 0o777).toBe(0o600);
    // .lode/.gitignore keeps config.local out of git.
    expect(fs.readFileSync(path.join(dir, '.lode/.gitignore'), 'utf8')).not.toContain('config.local');
    expect((await lodeJson(['remote', 'list'], at)).remotes[0].hasCredentials).toBe(true);
  });
});

describe('remote URLs and options (one validator, from the backend registry)', () => {
  /** What lode wrote under .lode/ (config and config.local), for "nothing written" checks. */
  const configFiles = (dir: string) => ['config', 'config.local'].map((f) => fs.readFileSync(path.join(dir, '.lode', f), { encoding: 'utf8', flag: 'a+' })).join('\n');

  it('refuses credentials inside a URL or an endpoint: exit 2, a hint, nothing written, the secret never printed', async () => {
    const { dir, at } = await newRepo('remote-url-creds');
    dirs.push(dir);
    const before = configFiles(dir);
    for (const args of [
      ['remote', 'add', 'origin', `s3://AKIAEXAMPLE:${SECRET}@team-data/cats`],
      ['remote', 'add', 'origin', `s3://${SECRET}@team-data`, '--json'],
      ['remote', 'add', 'origin', 's3://team-data/cats', '--endpoint', `http://AKIAEXAMPLE:${SECRET}@127.0.0.1:9000`],
      ['remote', 'add', 'backup', `file://me:${SECRET}@host/share`],
    ]) {
      const r = await runLode(args, at);
      const err = expectLodeError(r, 2);
      expect(err).toMatch(/^error: .*credentials do not belong in (a remote|the endpoint) URL/m);
      expect(err).toMatch(/^hint: .*--access-key-id/m);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
    }
    expect(configFiles(dir)).toBe(before);
    expect((await lodeJson(['remote', 'list'], at)).remotes).toEqual([]);

    // clone refuses before creating anything.
    const r = await runLode(['clone', `s3://AKIAEXAMPLE:${SECRET}@team-data/cats`, 'c'], at);
    expectLodeError(r, 2);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(fs.existsSync(path.join(dir, 'c'))).toBe(false);
  });

  it('a URL with credentials already in .lode/config (older lode) is never printed', async () => {
    const { dir, at } = await newRepo('remote-url-legacy');
    dirs.push(dir);
    fs.appendFileSync(path.join(dir, '.lode/config'), `\n[remote.origin]\nurl = "s3://AKIAEXAMPLE:${SECRET}@team-data/cats"\nendpoint = "http://AKIAEXAMPLE:${SECRET}@127.0.0.1:9"\n`);
    const outputs: string[] = [];
    for (const args of [['remote', 'list'], ['remote', 'list', '--json'], ['config', '--list'], ['config', '--list', '--json'], ['config', 'remote.origin.url'], ['push', 'origin'], ['fetch', 'origin', '--json']]) {
      const r = await runLode(args, at);
      outputs.push(r.stdout, r.stderr);
    }
    for (const o of outputs) expect(o).not.toContain(SECRET);
    expect((await lodeJson(['remote', 'list'], at)).remotes[0].url).toBe('s3://***@team-data/cats');
  });

  it('a secret found in the shared .lode/config is refused (exit 8), never used or printed', async () => {
    const { dir, at } = await newRepo('remote-secret-shared');
    dirs.push(dir);
    fs.appendFileSync(path.join(dir, '.lode/config'), `\n[remote.origin]\nurl = "s3://team-data/cats"\nsecret_access_key = "${SECRET}"\n`);
    const r = await runLode(['fetch', 'origin'], at);
    expect(expectLodeError(r, 8)).toMatch(/^error: remote\.origin\.secret_access_key is in .*\.lode\/config, which may be shared or tracked by git$/m);
    expect(r.stderr).toMatch(/^hint: +move it to .*config\.local/m);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it('validates S3 bucket names one way, and options by the backend they belong to', async () => {
    const { dir, at } = await newRepo('remote-url-rules');
    dirs.push(dir);
    for (const bad of ['s3://Team_Data', 's3://TEAMDATA/x', 's3://ab', 's3://a..b', 's3://team-data/a/../b', 's3://192.168.0.1']) {
      expect(expectLodeError(await runLode(['remote', 'add', 'x', bad], at), 2), bad).toMatch(/^error: invalid S3 URL/m);
    }
    expect(expectLodeError(await runLode(['remote', 'add', 'd', '../share', '--region', 'eu-west-1'], at), 2)).toMatch(/^error: --region does not apply to a directory remote/m);
    expect(expectLodeError(await runLode(['remote', 'add', 'x', 's3://team-data', '--retry-max-time', 'soon'], at), 2)).toMatch(/^error: --retry-max-time must be a positive number of seconds/m);
    expect(expectLodeError(await runLode(['remote', 'add', 'x', 's3://team-data', '--access-key-id', 'AKIAEXAMPLE'], at), 2)).toMatch(/^error: give both/m);
    expect((await lodeJson(['remote', 'list'], at)).remotes).toEqual([]);

    await lodeOk(['remote', 'add', 'origin', 'S3://team-data/cats/', '--retry-max-time', '30', '--checksum-mode', 'when-supported'], at);
    await lodeOk(['remote', 'add', 'backup', '../share', '--retry-max-time', '5'], at);
    await lodeOk(['remote', 'modify', 'origin', '--region', 'eu-west-1', '--session-token', SECRET, '--access-key-id', 'AKIAEXAMPLE', '--secret-access-key', SECRET], at);
    expect((await lodeJson(['remote', 'list'], at)).remotes).toEqual([
      { name: 'backup', url: path.resolve(dir, '../share'), retryMaxTime: 5, hasCredentials: false },
      { name: 'origin', url: 's3://team-data/cats', region: 'eu-west-1', checksumMode: 'when-supported', retryMaxTime: 30, hasCredentials: true },
    ]);
    const shared = fs.readFileSync(path.join(dir, '.lode/config'), 'utf8');
    expect(shared).toMatch(/retry_max_time = 30/);
    expect(shared).not.toContain(SECRET);
    expect(shared).not.toContain('AKIAEXAMPLE');
    expect(fs.readFileSync(path.join(dir, '.lode/config.local'), 'utf8')).toMatch(/session_token = /);
    const help = (await lodeOk(['remote', 'add', '--help'], at)).stdout;
    for (const flag of ['--endpoint', '--region', '--profile', '--path-style', '--checksum-mode', '--access-key-id', '--secret-access-key', '--session-token', '--retry-max-time']) expect(help).toContain(flag);
  });
});
