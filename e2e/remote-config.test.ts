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
