// The S3 backend: the shared Backend contract on moto and on s3rver, then what
// only S3 has (URLs, credentials, unreachable endpoints, sloppy stores).
//
// moto must be installed (`python3 -m pip install "moto[server]"`, as .ci/run
// does). One test runs the built module: run `npx tsc -p tsconfig.json` first
// when running vitest by hand (`npm test` builds).

import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendContract } from './backend-contract.js';
import { openS3Backend, parseS3Url, type S3Options } from '../src/storage/s3.js';
import { openBackend } from '../src/storage/registry.js';
import type { Backend, BlobInfo } from '../src/storage/backend.js';
import { CorruptObjectError, LodeError, NotFoundError, RefConflictError, RemoteError, UsageError } from '../src/core/errors.js';
import {
  MOTO_CREDENTIALS,
  S3RVER_CREDENTIALS,
  createBucket,
  freePort,
  listXml,
  s3ErrorXml,
  startMoto,
  startS3rver,
  startScriptedS3,
  type TestServer,
} from './helpers/s3-servers.js';

const RUN = randomUUID().slice(0, 8);
const S3RVER_BUCKET = 'lode-s3rver';
const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';

let moto: TestServer;
let s3rver: TestServer;

beforeAll(async () => {
  [moto, s3rver] = await Promise.all([startMoto(), startS3rver([S3RVER_BUCKET])]);
});
afterAll(async () => {
  await Promise.all([moto?.stop(), s3rver?.stop()]);
});

function onMoto(bucket: string, prefix: string, extra: Partial<S3Options> = {}): Promise<Backend> {
  return openS3Backend({ url: `s3://${bucket}/${prefix}`, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS, ...extra });
}

function onS3rver(prefix: string, extra: Partial<S3Options> = {}): Promise<Backend> {
  return openS3Backend({ url: `s3://${S3RVER_BUCKET}/${prefix}`, endpoint: s3rver.endpoint, credentials: S3RVER_CREDENTIALS, ...extra });
}

async function collect(it: AsyncIterable<BlobInfo>): Promise<string[]> {
  const out: string[] = [];
  for await (const b of it) out.push(b.key);
  return out;
}

/** failure runs `p` and returns what it threw (failing the test if it did not). */
async function failure(p: Promise<unknown>): Promise<LodeError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LodeError);
    return e as LodeError;
  }
  throw new Error('expected a failure');
}

/** Everything an error would show a user or a log. */
function shown(e: LodeError): string {
  return `${e.message}\n${e.hint ?? ''}\n${String(e)}\n${JSON.stringify({ code: e.code, message: e.message, hint: e.hint })}`;
}

backendContract('S3 on moto', async () => {
  const bucket = `lode-contract-${RUN}`;
  await createBucket(moto.endpoint, bucket);
  return onMoto(bucket, `run-${RUN}/remote`);
});

// As every sync opens it: through the registry, wrapped in the retry layer.
backendContract('S3 on moto through openBackend (retry wrapper)', async () => {
  const bucket = `lode-contract-retry-${RUN}`;
  await createBucket(moto.endpoint, bucket);
  return openBackend(`s3://${bucket}/run-${RUN}`, { endpoint: moto.endpoint, accessKeyId: MOTO_CREDENTIALS.accessKeyId, secretAccessKey: MOTO_CREDENTIALS.secretAccessKey });
});

// s3rver ignores If-Match / If-None-Match on PUT, so it is opened as a store
// without conditional writes (see "S3 conditional writes" below): the
// contract then checks that conditional saves are refused, never ignored.
backendContract('S3 on s3rver', async () => onS3rver(`run-${RUN}/remote`, { conditionalWrites: false }));

describe('parseS3Url', () => {
  it('splits bucket and prefix', () => {
    expect(parseS3Url('s3://bucket')).toEqual({ bucket: 'bucket', prefix: '' });
    expect(parseS3Url('s3://bucket/')).toEqual({ bucket: 'bucket', prefix: '' });
    expect(parseS3Url('s3://my.bucket-1/datasets/cats/')).toEqual({ bucket: 'my.bucket-1', prefix: 'datasets/cats' });
    expect(parseS3Url('S3://bucket/p')).toEqual({ bucket: 'bucket', prefix: 'p' }); // schemes are case-insensitive
  });

  it('applies the S3 bucket naming rules (the one validator: remote add uses it too)', () => {
    for (const good of ['abc', 'a-b.c1', '1bucket', 'a'.repeat(63), 'my.data.2024']) expect(parseS3Url(`s3://${good}/p`).bucket).toBe(good);
    for (const bad of ['Legacy_Bucket', 'UPPER', 'a_b', 'ab', 'a'.repeat(64), 'bucket-', '.bucket', 'a..b', '192.168.1.1', 'b@d']) {
      expect(() => parseS3Url(`s3://${bad}/p`), bad).toThrow(UsageError);
    }
  });

  it('refuses what is not an S3 URL, without echoing credentials', () => {
    for (const bad of ['bucket/x', 'http://bucket/x', 's3://', 's3:///x', 's3://ab', 's3://-bucket', 's3://bucket/a//b', 's3://bucket/a/../b', 's3://bucket/./b', 's3://bucket/x?versionId=1']) {
      expect(() => parseS3Url(bad), bad).toThrow(UsageError);
    }
    try {
      parseS3Url(`s3://AKIAEXAMPLE:${SECRET}@bucket/x`);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      expect(shown(e as LodeError)).not.toContain(SECRET);
    }
  });

  it('openS3Backend checks its options before loading anything', async () => {
    await expect(openS3Backend({ url: 'gs://bucket' })).rejects.toBeInstanceOf(UsageError);
    await expect(openS3Backend({ url: 's3://bucket', maxConnections: 0 })).rejects.toBeInstanceOf(UsageError);
    await expect(openS3Backend({ url: 's3://bucket', endpoint: 'ftp://127.0.0.1' })).rejects.toBeInstanceOf(UsageError);
    const e = await failure(openS3Backend({ url: 's3://bucket', endpoint: `http://AKIAEXAMPLE:${SECRET}@127.0.0.1:9000` }));
    expect(e).toBeInstanceOf(UsageError);
    expect(shown(e)).not.toContain(SECRET);
  });

  it('names itself by URL', async () => {
    const b = await openS3Backend({ url: 's3://bucket/a/b/', endpoint: 'http://127.0.0.1:1', credentials: MOTO_CREDENTIALS });
    expect(b.location).toBe('s3://bucket/a/b');
    expect(b.maxConnections).toBe(16);
    await b.close?.();
    await b.close?.(); // idempotent
  });
});

describe('S3 failures', () => {
  it('an unreachable endpoint is a retryable RemoteError naming the endpoint', async () => {
    const port = await freePort(); // closed again: nothing listens there
    const endpoint = `http://127.0.0.1:${port}`;
    const b = await openS3Backend({ url: 's3://bucket/p', endpoint, credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: SECRET }, maxAttempts: 2, timeoutMs: 1000 });
    for (const op of [() => b.load('k'), () => b.save('k', Buffer.from('x')), () => b.stat('k'), () => collect(b.list('')), () => b.remove('k')]) {
      const e = await failure(op());
      expect(e).toBeInstanceOf(RemoteError);
      expect((e as RemoteError).retryable).toBe(true);
      expect(e.message).toContain(endpoint);
      expect(e.message).toContain('ECONNREFUSED');
      expect(shown(e)).not.toContain(SECRET);
    }
    await b.close?.();
  });

  it('a store that accepts connections but never answers times out as a retryable RemoteError', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    try {
      const b = await openS3Backend({ url: 's3://bucket/p', endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 2, timeoutMs: 300 });
      const e = await failure(b.load('k'));
      expect(e).toBeInstanceOf(RemoteError);
      expect((e as RemoteError).retryable).toBe(true);
      expect(e.message).toContain(endpoint);
      expect(e.message).toMatch(/timed out/);
      // The request reached the server (a timeout, not a refused connection).
      expect(sockets.length).toBeGreaterThan(0);
      await b.close?.();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('a missing bucket is a RemoteError that says to create it', async () => {
    const b = await onMoto(`lode-absent-${RUN}`, 'p', { credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: SECRET } });
    for (const op of [() => b.load('k'), () => b.save('k', Buffer.from('x')), () => b.stat('k'), () => collect(b.list('')), () => b.load('k', { offset: 0, length: 0 })]) {
      const e = await failure(op());
      expect(e).toBeInstanceOf(RemoteError);
      expect((e as RemoteError).retryable).toBe(false);
      expect(e.message).toContain(`lode-absent-${RUN}`);
      expect(e.hint).toMatch(/create the bucket or check the URL/);
      expect(shown(e)).not.toContain(SECRET);
    }
    await b.close?.();
  });

  // moto accepts any credentials; s3rver checks the access key id but not V4
  // signatures (a wrong secret passes), so the other refusals are scripted.
  it('an unknown access key is a RemoteError about credentials that never shows the secret (s3rver)', async () => {
    for (const credentials of [
      { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: SECRET },
      { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: SECRET, sessionToken: `token-${SECRET}` },
    ]) {
      const b = await onS3rver('p', { credentials });
      for (const op of [() => b.load('k'), () => b.save('k', Buffer.from('x')), () => b.stat('k'), () => collect(b.list(''))]) {
        const e = await failure(op());
        expect(e).toBeInstanceOf(RemoteError);
        expect((e as RemoteError).retryable).toBe(false);
        expect(e.hint).toMatch(/credentials/);
        expect(shown(e)).not.toContain(SECRET);
      }
      await b.close?.();
    }
  });

  it('403 refusals map to a credentials RemoteError without the server\'s text (scripted server)', async () => {
    let code = '';
    const server = await startScriptedS3(() => ({
      status: 403,
      headers: { 'content-type': 'application/xml' },
      body: s3ErrorXml(code, `Refused AKIAEXAMPLE (a careless store echoing ${SECRET})`),
    }));
    try {
      const b = await openS3Backend({ url: 's3://bucket/p', endpoint: server.endpoint, credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: SECRET }, maxAttempts: 1 });
      for (code of ['AccessDenied', 'SignatureDoesNotMatch', 'InvalidAccessKeyId', 'ExpiredToken']) {
        const e = await failure(b.save('k', Buffer.from('x')));
        expect(e).toBeInstanceOf(RemoteError);
        expect((e as RemoteError).retryable).toBe(false);
        expect(e.message).toContain(code);
        expect(e.hint).toMatch(/credentials/);
        expect(shown(e)).not.toContain(SECRET);
        expect(shown(e)).not.toContain('AKIAEXAMPLE');
      }
      await b.close?.();
    } finally {
      await server.stop();
    }
  });

  it('a 503 is a retryable RemoteError, after the configured attempts', async () => {
    const server = await startScriptedS3(() => ({ status: 503, body: s3ErrorXml('SlowDown', 'Please reduce your request rate.') }));
    try {
      const b = await openS3Backend({ url: 's3://bucket/p', endpoint: server.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 2 });
      const e = await failure(b.load('k'));
      expect(e).toBeInstanceOf(RemoteError);
      expect((e as RemoteError).retryable).toBe(true);
      expect(server.requests).toHaveLength(2);
      await b.close?.();
    } finally {
      await server.stop();
    }
  });
});

describe('S3 errors say whether to retry (scripted server)', () => {
  async function errorFor(reply: Parameters<typeof startScriptedS3>[0], op: (b: Backend) => Promise<unknown>): Promise<RemoteError> {
    const server = await startScriptedS3(reply);
    try {
      const b = await openS3Backend({ url: 's3://bucket/p', endpoint: server.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 });
      const e = await failure(op(b));
      await b.close?.();
      expect(e).toBeInstanceOf(RemoteError);
      return e as RemoteError;
    } finally {
      await server.stop();
    }
  }
  const list = (b: Backend) => collect(b.list(''));
  const xml = listXml({ keys: [{ key: 'p/a', size: 1 }, { key: 'p/b', size: 1 }], truncated: false });

  it('listing XML cut short (short body, or reset mid-body) is retryable, without the parser\'s text', async () => {
    for (const reply of [
      () => ({ status: 200, headers: { 'content-type': 'application/xml' }, body: xml.slice(0, -40) }),
      () => ({ status: 200, headers: { 'content-type': 'application/xml' }, body: xml, cutAfter: xml.length - 40 }),
    ]) {
      const e = await errorFor(reply, list);
      expect(e.retryable).toBe(true);
      expect(e.message).not.toMatch(/Deserialization|XML parse|\$response/);
      expect(e.message).toContain('listing / in s3://bucket/p');
    }
  });

  it('a body cut short is retryable; 503 SlowDown and 429 are throttling (with Retry-After); 400 and 404 are not retryable', async () => {
    expect((await errorFor(() => ({ status: 200, body: randomBytes(1000), cutAfter: 400 }), (b) => b.load('k'))).retryable).toBe(true);
    const slow = await errorFor(() => ({ status: 503, body: s3ErrorXml('SlowDown', 'Please reduce your request rate.') }), (b) => b.load('k'));
    expect(slow).toMatchObject({ retryable: true, throttled: true });
    const many = await errorFor(() => ({ status: 429, headers: { 'retry-after': '3' }, body: s3ErrorXml('TooManyRequests', 'slow down') }), (b) => b.stat('k'));
    expect(many).toMatchObject({ retryable: true, throttled: true, retryAfterMs: 3000 });
    const internal = await errorFor(() => ({ status: 500, body: s3ErrorXml('InternalError', 'oops') }), (b) => b.save('k', Buffer.from('x')));
    expect(internal).toMatchObject({ retryable: true, throttled: false });
    const bad = await errorFor(() => ({ status: 400, body: s3ErrorXml('InvalidArgument', 'no') }), (b) => b.save('k', Buffer.from('x')));
    expect(bad.retryable).toBe(false);
  });

  it('through the registry (retry wrapper), a flaky store converges and a dead one gives up with one line', async () => {
    const data = randomBytes(5000);
    let n = 0;
    const server = await startScriptedS3(() => {
      n++;
      if (n === 1) return { status: 503, body: s3ErrorXml('SlowDown', 'Please reduce your request rate.') };
      if (n === 2) return { status: 200, body: data, cutAfter: 100 };
      if (n === 3) return { status: 500, body: s3ErrorXml('InternalError', 'oops') };
      return { status: 206, headers: { 'content-range': `bytes 10-4009/${data.length}` }, body: data.subarray(10, 4010) };
    });
    try {
      const b = await openBackend('s3://bucket/p', { endpoint: server.endpoint, accessKeyId: 'a', secretAccessKey: 'b', retryMaxTime: 30 });
      expect((await b.load('k', { offset: 10, length: 4000 })).equals(data.subarray(10, 4010))).toBe(true);
      expect(server.requests).toHaveLength(4); // the SDK itself does not retry: one layer decides
      await b.close?.();
    } finally {
      await server.stop();
    }
    const dead = await startScriptedS3(() => ({ status: 500, body: s3ErrorXml('InternalError', 'oops') }));
    try {
      const b = await openBackend('s3://bucket/p', { endpoint: dead.endpoint, accessKeyId: 'a', secretAccessKey: 'b', retryMaxTime: 1 });
      const e = await failure(b.load('packs/x.pack'));
      expect(e.message).toMatch(/^gave up reading packs\/x\.pack in s3:\/\/bucket\/p after \d+ attempts in [\d.]+ s: .*InternalError/);
      expect(dead.requests.length).toBeGreaterThan(2);
      await b.close?.();
    } finally {
      await dead.stop();
    }
  });
});

describe('S3 loads never return wrong bytes', () => {
  it('a body cut short is an error, not a short blob', async () => {
    const data = randomBytes(1000);
    const server = await startScriptedS3(() => ({ status: 200, body: data, cutAfter: 400 }));
    try {
      const b = await openS3Backend({ url: 's3://bucket/p', endpoint: server.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 });
      const e = await failure(b.load('k'));
      expect(e.code === 'REMOTE' || e.code === 'CORRUPT').toBe(true);
      await b.close?.();
    } finally {
      await server.stop();
    }
  });

  it('a ranged answer of the wrong length is CorruptObjectError', async () => {
    const server = await startScriptedS3(() => ({ status: 206, headers: { 'content-range': 'bytes 10-14/100' }, body: 'abcde' }));
    try {
      const b = await openS3Backend({ url: 's3://bucket/p', endpoint: server.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 });
      await expect(b.load('k', { offset: 10, length: 10 })).rejects.toBeInstanceOf(CorruptObjectError);
      expect(server.requests[0].headers.range).toBe('bytes=10-19');
      await b.close?.();
    } finally {
      await server.stop();
    }
  });

  it('a store that ignores Range still yields the asked bytes', async () => {
    const data = randomBytes(100);
    const server = await startScriptedS3(() => ({ status: 200, body: data }));
    try {
      const b = await openS3Backend({ url: 's3://bucket/p', endpoint: server.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 });
      expect((await b.load('k', { offset: 10, length: 20 })).equals(data.subarray(10, 30))).toBe(true);
      await expect(b.load('k', { offset: 90, length: 20 })).rejects.toBeInstanceOf(RangeError);
      await b.close?.();
    } finally {
      await server.stop();
    }
  });

  it('a range past the end is RangeError on a real store', async () => {
    const b = await onS3rver(`run-${RUN}/range`);
    await b.save('x', randomBytes(100));
    await expect(b.load('x', { offset: 100, length: 1 })).rejects.toBeInstanceOf(RangeError);
    await expect(b.load('x', { offset: 90, length: 20 })).rejects.toBeInstanceOf(RangeError);
    await expect(b.load('x', { offset: 101, length: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(b.load('absent', { offset: 0, length: 0 })).rejects.toBeInstanceOf(NotFoundError);
    await b.close?.();
  });

  // The SDK's default mode adds a CRC32 to each upload. lode uploads buffers,
  // so the checksum goes in a header and the body stays plain; streamed bodies
  // would be sent aws-chunked, and s3rver stores that framing as the object.
  for (const [label, open] of [
    ['s3rver', () => onS3rver(`run-${RUN}/when-supported`, { checksumMode: 'when-supported' })],
    ['moto', async () => {
      const bucket = `lode-checksums-${RUN}`;
      await createBucket(moto.endpoint, bucket);
      return onMoto(bucket, 'p', { checksumMode: 'when-supported' });
    }],
  ] as const) {
    it(`checksumMode 'when-supported' round-trips exact bytes on ${label}`, async () => {
      const b = await open();
      const blobs = [Buffer.alloc(0), Buffer.from('hello\n'), randomBytes(3 << 20)];
      for (const [i, v] of blobs.entries()) await b.save(`blob${i}`, v);
      for (const [i, v] of blobs.entries()) {
        const back = await b.load(`blob${i}`);
        expect(back.length).toBe(v.length);
        expect(back.equals(v)).toBe(true);
        expect((await b.load(`blob${i}`, { offset: 0, length: v.length })).equals(v)).toBe(true);
      }
      await b.close?.();
    });
  }
});

describe('S3 listing copes with broken continuation (scripted server)', () => {
  const keys = Array.from({ length: 9 }, (_, i) => `p/k${i}`);
  /** A page of three keys after `after` (exclusive), as a sloppy store might send it. */
  function pageAfter(after: string | undefined, next: (last: string) => string | undefined) {
    const rest = keys.filter((k) => after === undefined || k > after).slice(0, 3);
    const truncated = rest.length > 0 && rest.at(-1) !== keys.at(-1);
    return listXml({ keys: rest.map((k) => ({ key: k, size: 1 })), truncated, next: truncated ? next(rest.at(-1)!) : undefined });
  }

  async function listWith(serve: (q: URLSearchParams) => string): Promise<{ listed: string[] | LodeError; requests: number }> {
    const server = await startScriptedS3((req) => ({ status: 200, headers: { 'content-type': 'application/xml' }, body: serve(req.url.searchParams) }));
    try {
      const b = await openS3Backend({ url: 's3://bucket/p', endpoint: server.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 });
      let listed: string[] | LodeError;
      try {
        listed = await collect(b.list(''));
      } catch (e) {
        listed = e as LodeError;
      }
      await b.close?.();
      return { listed, requests: server.requests.length };
    } finally {
      await server.stop();
    }
  }
  const expected = keys.map((k) => k.slice(2));

  it('follows good tokens', async () => {
    const r = await listWith((q) => pageAfter(q.get('continuation-token') ?? undefined, (last) => last));
    expect(r.listed).toEqual(expected);
    expect(r.requests).toBe(3);
  });

  it('IsTruncated without a token: walks on with StartAfter', async () => {
    const r = await listWith((q) => pageAfter(q.get('start-after') ?? undefined, () => undefined));
    expect(r.listed).toEqual(expected);
  });

  it('a token that repeats: walks on with StartAfter', async () => {
    const r = await listWith((q) => pageAfter(q.get('start-after') ?? (q.get('continuation-token') ? 'p/k2' : undefined), () => 'same-token'));
    expect(r.listed).toEqual(expected);
  });

  it('a fresh token that leads back to the start: no key twice', async () => {
    let n = 0;
    const r = await listWith((q) => pageAfter(q.get('start-after') ?? undefined, () => `token-${n++}`));
    expect(r.listed).toEqual(expected);
  });

  it('a store that ignores both: an error, not an endless loop', async () => {
    const r = await listWith(() => pageAfter(undefined, () => undefined));
    expect(r.listed).toBeInstanceOf(RemoteError);
    expect((r.listed as LodeError).message).toMatch(/does not advance/);
    expect(r.requests).toBeLessThan(5);
  });
});

describe('S3 conditional writes', () => {
  it('on a store that ignores them (s3rver): refused with UsageError, nothing overwritten', async () => {
    const b = await onS3rver(`run-${RUN}/probe`);
    expect(b.conditionalWrites).toBe(true); // not known before the first conditional save
    const { etag } = await b.save('refs/main', Buffer.from('v1'));
    await expect(b.save('refs/main', Buffer.from('v2'), { ifNoneMatch: true })).rejects.toBeInstanceOf(UsageError);
    await expect(b.save('refs/main', Buffer.from('v2'), { ifMatch: etag })).rejects.toBeInstanceOf(UsageError);
    expect(b.conditionalWrites).toBe(false);
    expect((await b.load('refs/main')).toString()).toBe('v1');
    expect(await collect(b.list(''))).toEqual(['refs/main']); // the probe cleaned up
    await b.close?.();
  });

  it('conditionalWrites: false refuses without a request', async () => {
    const server = await startScriptedS3(() => ({ status: 500 }));
    try {
      const b = await openS3Backend({ url: 's3://bucket/p', endpoint: server.endpoint, credentials: MOTO_CREDENTIALS, conditionalWrites: false });
      expect(b.conditionalWrites).toBe(false);
      await expect(b.save('refs/main', Buffer.from('x'), { ifNoneMatch: true })).rejects.toBeInstanceOf(UsageError);
      expect(server.requests).toHaveLength(0);
      await b.close?.();
    } finally {
      await server.stop();
    }
  });

  it('a conditional save whose answer was lost and retried is no false conflict (scripted store)', async () => {
    const objects = new Map<string, Buffer>();
    const etagOf = (b: Buffer) => `"${createHash('md5').update(b).digest('hex')}"`;
    let dropped = false;
    const server = await startScriptedS3((req) => {
      const key = req.url.pathname;
      const cur = objects.get(key);
      if (req.method === 'PUT') {
        const ifNoneMatch = req.headers['if-none-match'];
        const ifMatch = req.headers['if-match'];
        if ((ifNoneMatch === '*' && cur) || (ifMatch !== undefined && (!cur || etagOf(cur) !== ifMatch))) {
          return { status: 412, body: s3ErrorXml('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold') };
        }
        objects.set(key, req.body);
        if (key.endsWith('/refs/main') && !dropped) {
          dropped = true; // stored, but the answer never arrives
          return { status: 200, drop: true };
        }
        return { status: 200, headers: { etag: etagOf(req.body) } };
      }
      if (req.method === 'GET' && cur) return { status: 200, headers: { etag: etagOf(cur) }, body: cur };
      if (req.method === 'DELETE') {
        objects.delete(key);
        return { status: 204 };
      }
      return { status: 404, body: s3ErrorXml('NoSuchKey', 'The specified key does not exist.') };
    });
    try {
      const b = await openS3Backend({ url: 's3://bucket/p', endpoint: server.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 3 });
      const { etag } = await b.save('refs/main', Buffer.from('mine'), { ifNoneMatch: true });
      expect(etag).toBe(etagOf(Buffer.from('mine')));
      expect(server.requests.filter((r) => r.method === 'PUT' && r.url.pathname === '/bucket/p/refs/main')).toHaveLength(2);
      // A real conflict still is one.
      await expect(b.save('refs/main', Buffer.from('theirs'), { ifNoneMatch: true })).rejects.toBeInstanceOf(RefConflictError);
      await expect(b.save('refs/main', Buffer.from('theirs'), { ifMatch: '"stale"' })).rejects.toBeInstanceOf(RefConflictError);
      await b.close?.();
    } finally {
      await server.stop();
    }
  });

  it('on moto: enforced, and a lost race names the key', async () => {
    const bucket = `lode-cond-${RUN}`;
    await createBucket(moto.endpoint, bucket);
    const b = await onMoto(bucket, 'p');
    await b.save('refs/main', Buffer.from('v1'), { ifNoneMatch: true });
    const e = await failure(b.save('refs/main', Buffer.from('v2'), { ifNoneMatch: true }));
    expect(e).toBeInstanceOf(RefConflictError);
    expect(e.message).toContain('refs/main');
    expect(b.conditionalWrites).toBe(true);
    expect(await collect(b.list(''))).toEqual(['refs/main']);
    await b.close?.();
  });
});

describe('S3 backend process hygiene (built module)', () => {
  const built = fileURLToPath(new URL('../dist/storage/s3.js', import.meta.url));

  it('importing it does not load the SDK; opening it prints no SDK warning', async () => {
    expect(fs.existsSync(built), `${built} is missing: run npx tsc -p tsconfig.json`).toBe(true);
    const script = `
      const { createRequire } = await import('node:module');
      const require = createRequire(${JSON.stringify(built)});
      const sdkLoaded = () => Object.keys(require.cache).some((k) => k.includes('@aws-sdk'));
      const { openS3Backend } = await import(${JSON.stringify(built)});
      const before = sdkLoaded();
      const b = await openS3Backend({ url: 's3://bucket/p', endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
      await b.close();
      console.log(JSON.stringify({ before, after: sdkLoaded() }));
    `;
    const env = { ...process.env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ before: false, after: true });
  });
});
