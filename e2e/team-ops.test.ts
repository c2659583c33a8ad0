// The team workflow of issue 11 through the built binary: two workspaces and a
// bucket on moto (and a real git repository), for the breaks a colleague hits
// first: AWS environment conventions, resuming an interrupted clone, fsck on a
// partial clone, and remotes that stay usable at any git revision.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, workspaceSnapshot, writeFile } from '../test/helpers/cli.js';
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
