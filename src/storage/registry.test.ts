import { describe, expect, it } from 'vitest';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { RemoteError, UsageError } from '../core/errors.js';
import { BACKENDS, allOptions, backendFor, checkRemoteOptions, configKeyOf, flagOf, normaliseRemoteUrl, openBackend, parseOptionValue, redactUrl } from './registry.js';
import { RetryBackend } from './retry.js';

const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';

/** thrown returns what `f` throws (failing the test if nothing is thrown). */
function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('backend registry', () => {
  it('registers dir and s3, each option once, with derived flags and config keys', () => {
    expect(BACKENDS.map((b) => b.scheme).sort()).toEqual(['dir', 's3']);
    const names = allOptions().map((o) => o.name);
    expect(new Set(names).size).toBe(names.length);
    const pathStyle = allOptions().find((o) => o.name === 'pathStyle')!;
    expect(flagOf(pathStyle)).toBe('path-style');
    expect(configKeyOf(pathStyle)).toBe('path_style');
    expect(allOptions().filter((o) => o.secret).map(configKeyOf).sort()).toEqual(['access_key_id', 'secret_access_key', 'session_token']);
    expect(names).toContain('retryMaxTime');
  });

  it('routes URLs to their backend', () => {
    expect(backendFor('s3://bucket/p').scheme).toBe('s3');
    expect(backendFor('S3://bucket').scheme).toBe('s3');
    expect(backendFor('/mnt/share').scheme).toBe('dir');
    expect(backendFor('relative/dir').scheme).toBe('dir');
    expect(backendFor('file:///mnt/share').scheme).toBe('dir');
    expect(() => backendFor('https://example.org/x')).toThrow(UsageError);
  });

  it('normalises URLs: S3 without trailing slashes, directories absolute', () => {
    expect(normaliseRemoteUrl('s3://bucket/a/b/', '/x')).toBe('s3://bucket/a/b');
    expect(normaliseRemoteUrl('S3://bucket', '/x')).toBe('s3://bucket');
    expect(normaliseRemoteUrl('../share', '/x/y')).toBe('/x/share');
    expect(normaliseRemoteUrl('file:///mnt/a%20b', '/x')).toBe('/mnt/a b');
    for (const bad of ['s3://Bad_Bucket', 's3://ab', 's3://bucket/a/../b', 'gs://bucket', '']) expect(() => normaliseRemoteUrl(bad, '/x'), bad).toThrow(UsageError);
  });

  it('refuses credentials in any URL without echoing them', () => {
    for (const url of [`s3://AKIAEXAMPLE:${SECRET}@bucket/p`, `s3://${SECRET}@bucket`, `file://me:${SECRET}@host/dir`, `https://me:${SECRET}@example.org/x`]) {
      const e = thrown(() => normaliseRemoteUrl(url, '/x'));
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).toMatch(/credentials do not belong in a remote URL/);
      expect(`${e.message} ${(e as UsageError).hint}`).not.toContain(SECRET);
      expect((e as UsageError).hint).toMatch(/--access-key-id/);
    }
    const e = thrown(() => checkRemoteOptions('s3://bucket', { endpoint: `http://AKIAEXAMPLE:${SECRET}@127.0.0.1:9000` }));
    expect(e).toBeInstanceOf(UsageError);
    expect(`${e.message} ${(e as UsageError).hint}`).not.toContain(SECRET);
  });

  it('redacts the user part of every URL in a text', () => {
    expect(redactUrl(`pushing to s3://K:${SECRET}@bucket/p via http://u:p@host:9000/x failed`)).toBe('pushing to s3://***@bucket/p via http://***@host:9000/x failed');
    expect(redactUrl('s3://bucket/p and user@example.org')).toBe('s3://bucket/p and user@example.org');
  });

  it('types option values from text and refuses bad ones by flag name', () => {
    const opt = (n: string) => allOptions().find((o) => o.name === n)!;
    expect(parseOptionValue(opt('retryMaxTime'), '30')).toBe(30);
    expect(parseOptionValue(opt('retryMaxTime'), 0.5)).toBe(0.5);
    expect(parseOptionValue(opt('pathStyle'), 'true')).toBe(true);
    expect(() => parseOptionValue(opt('retryMaxTime'), '-1')).toThrow(/--retry-max-time/);
    expect(() => parseOptionValue(opt('retryMaxTime'), 'soon')).toThrow(UsageError);
    expect(() => parseOptionValue(opt('checksumMode'), 'always')).toThrow(/when-required, when-supported/);
    expect(() => parseOptionValue(opt('endpoint'), 'ftp://h')).toThrow(UsageError);
  });

  it('checks options against the backend of the URL', () => {
    expect(checkRemoteOptions('s3://bucket', { region: 'eu-west-1', pathStyle: true, retryMaxTime: '5' })).toEqual({ region: 'eu-west-1', pathStyle: true, retryMaxTime: 5 });
    expect(checkRemoteOptions('/mnt/share', { retryMaxTime: 5 })).toEqual({ retryMaxTime: 5 });
    expect(() => checkRemoteOptions('/mnt/share', { region: 'eu-west-1' })).toThrow(/--region does not apply to a directory remote/);
    expect(() => checkRemoteOptions('s3://bucket', { accessKeyId: 'AKIA' })).toThrow(/both --access-key-id and --secret-access-key/);
  });

  it('opens a directory remote wrapped in the retry layer; creates it only when asked', async () => {
    const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lode-registry-')), 'remote');
    try {
      await expect(openBackend(root, {})).rejects.toBeInstanceOf(RemoteError);
      const b = await openBackend(root, { retryMaxTime: 3 }, { create: true });
      expect(b).toBeInstanceOf(RetryBackend);
      expect(b.location).toBe(`dir ${root}`);
      await b.save('k', Buffer.from('x'));
      expect((await b.load('k')).toString()).toBe('x');
    } finally {
      fs.rmSync(path.dirname(root), { recursive: true, force: true });
    }
  });
});
