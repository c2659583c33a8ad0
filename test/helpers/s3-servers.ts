// Test helper: S3 servers on free loopback ports for the S3 backend tests.
//
// - moto (Python, `pip install "moto[server]"`): a maintained S3 implementation
//   that enforces conditional writes; it does not check signatures. Started by
//   test/helpers/moto.js, which the bench shares.
// - s3rver (npm): a weaker one that checks credentials but ignores
//   If-Match / If-None-Match on PUT. Its ListObjectsV2 continuation tokens are
//   DES-encrypted, which OpenSSL 3 refuses without the legacy provider (every
//   truncated page then fails with 500), so it runs in a child Node with
//   --openssl-legacy-provider.
// - a scripted server answering whatever a test tells it to, for the failure
//   modes no real server shows on demand (403s, broken paging, short bodies).
//
// Credentials here are static test values, never real ones.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { MOTO_CREDENTIALS as MOTO, createBucket as createBucketOn, freePort, startMoto as startMotoServer } from './moto.js';

export { freePort };

export interface TestServer {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  stop(): Promise<void>;
}

export interface TestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** moto accepts any credentials (it does not check signatures by default). */
export const MOTO_CREDENTIALS: TestCredentials = MOTO;
/** s3rver's single built-in account. */
export const S3RVER_CREDENTIALS: TestCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** startMoto runs moto on a free port and waits until it answers (test/helpers/moto.js). */
export function startMoto(): Promise<TestServer> {
  return startMotoServer();
}

/** startS3rver runs s3rver in a child Node (with the OpenSSL legacy provider) with the given buckets. */
export async function startS3rver(buckets: string[]): Promise<TestServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-s3rver-'));
  const s3rverPath = createRequire(import.meta.url).resolve('s3rver');
  const script = `
    const S3rver = require(${JSON.stringify(s3rverPath)});
    const server = new S3rver({
      address: '127.0.0.1', port: 0, silent: true, directory: ${JSON.stringify(dir)},
      configureBuckets: ${JSON.stringify(buckets.map((name) => ({ name })))},
    });
    server.run().then(
      (addr) => process.stdout.write(JSON.stringify({ port: addr.port }) + '\\n'),
      (err) => { console.error(err); process.exit(1); },
    );
    process.on('SIGTERM', () => server.close().finally(() => process.exit(0)));
  `;
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // the test runner's options are not s3rver's business
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const exited = exitOf(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve((JSON.parse(line) as { port: number }).port);
    });
    void exited.then((code) => reject(new Error(`s3rver exited with ${code} before listening: ${stderr.trim()}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    stop: async () => {
      await stopChild(child, exited);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** createBucket creates `name` on the server at `endpoint`. */
export function createBucket(endpoint: string, name: string, credentials: TestCredentials = MOTO_CREDENTIALS): Promise<void> {
  return createBucketOn(endpoint, name, credentials);
}

/** What the scripted server sends back for one request. */
export interface ScriptedReply {
  status: number;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  /** Send only this many bytes of `body` (keeping its full Content-Length), then cut the connection. */
  cutAfter?: number;
  /** Cut the connection without answering at all. */
  drop?: boolean;
}

export interface ScriptedRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * startScriptedS3 starts an HTTP server that answers each request with what
 * `reply` returns, and records the requests it saw.
 */
export async function startScriptedS3(reply: (req: ScriptedRequest) => ScriptedReply): Promise<TestServer & { requests: ScriptedRequest[] }> {
  const requests: ScriptedRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: ScriptedRequest = { method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://scripted'), headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(r);
      const out = reply(r);
      if (out.drop) {
        req.socket.destroy();
        return;
      }
      const body = out.body === undefined ? Buffer.alloc(0) : Buffer.from(out.body);
      res.writeHead(out.status, { 'content-length': body.length, 'x-amz-request-id': 'scripted', ...out.headers });
      if (out.cutAfter === undefined) {
        res.end(req.method === 'HEAD' ? undefined : body);
      } else {
        res.write(body.subarray(0, out.cutAfter), () => req.socket.destroy());
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** s3ErrorXml is the body S3 sends with an error status. */
export function s3ErrorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>scripted</RequestId></Error>`;
}

/** listXml is a ListObjectsV2 page. */
export function listXml(page: { keys: { key: string; size: number }[]; truncated: boolean; next?: string }): string {
  const contents = page.keys.map((k) => `<Contents><Key>${k.key}</Key><Size>${k.size}</Size><ETag>"e"</ETag></Contents>`).join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
    `<Name>b</Name><KeyCount>${page.keys.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>${page.truncated}</IsTruncated>` +
    (page.next === undefined ? '' : `<NextContinuationToken>${page.next}</NextContinuationToken>`) +
    `${contents}</ListBucketResult>`
  );
}

/** exitOf resolves with the exit code once `child` is gone (-1 if it never started). */
function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export interface FaultProxy extends TestServer {
  /** Faults injected so far, by kind. */
  faults: Record<string, number>;
  /** Requests forwarded or faulted. */
  requests: number;
}

/**
 * startFaultProxy puts an HTTP proxy in front of an S3 server that faults a
 * share of the requests (seeded), the way networks and busy stores do:
 * - `reset`: the connection drops before the request is forwarded;
 * - `lost`: the request is forwarded (the store acts), then the connection drops;
 * - `slowdown` / `error500`: a 503 SlowDown or a 500 InternalError answer;
 * - `short`: the answer's body is cut half-way (its Content-Length kept);
 * - `flip`: one bit of a ranged GET's body is flipped (only lode's own
 *   checks can see it; listings and whole-object reads are left intact);
 *   `flipRangedGets` names ranged GETs (1st, 3rd...) to flip for certain.
 */
export async function startFaultProxy(target: string, options: { probability: number; seed: number; flipRangedGets?: number[] }): Promise<FaultProxy> {
  let rangedGets = 0;
  let state = options.seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const faults: Record<string, number> = {};
  const sockets = new Set<net.Socket>();
  const to = new URL(target);
  const proxy: FaultProxy = { endpoint: '', faults, requests: 0, stop: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      proxy.requests++;
      const ranged = req.method === 'GET' && req.headers.range !== undefined;
      const kinds = ['reset', 'lost', 'slowdown', 'error500', 'short', ...(ranged ? ['flip'] : [])];
      // These ranged GETs (counted from 1) are flipped for certain; the rest are drawn.
      const forced = ranged && options.flipRangedGets?.includes(++rangedGets) ? 'flip' : undefined;
      const kind = forced ?? (random() < options.probability ? kinds[Math.floor(random() * kinds.length)] : undefined);
      if (kind) faults[kind] = (faults[kind] ?? 0) + 1;
      if (kind === 'reset') return void req.socket.destroy();
      if (kind === 'slowdown' || kind === 'error500') {
        const body = kind === 'slowdown' ? s3ErrorXml('SlowDown', 'Please reduce your request rate.') : s3ErrorXml('InternalError', 'We encountered an internal error.');
        res.writeHead(kind === 'slowdown' ? 503 : 500, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
        return void res.end(body);
      }
      const up = http.request(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          const body: Buffer[] = [];
          upRes.on('data', (c: Buffer) => body.push(c));
          upRes.on('end', () => {
            if (kind === 'lost') return void req.socket.destroy();
            const all = Buffer.concat(body);
            if (kind === 'flip' && all.length > 0) all[Math.floor(random() * all.length)] ^= 1 << Math.floor(random() * 8);
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            if (kind === 'short' && all.length > 1) res.write(all.subarray(0, all.length >> 1), () => req.socket.destroy());
            else res.end(req.method === 'HEAD' ? undefined : all);
          });
        },
      );
      up.on('error', () => req.socket.destroy());
      up.end(Buffer.concat(chunks));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  proxy.stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}
