// moto, the S3 server the tests (through test/helpers/s3-servers.ts) and the
// bench (section 8) run against: started on a free loopback port, plus the
// few S3 calls both make (create a bucket, list or empty a prefix). Plain ESM
// JavaScript (bench/ has no build step) with types in moto.d.ts.
//
// moto (`pip install "moto[server]"`) is a maintained S3 implementation that
// enforces conditional writes; it accepts any credentials (it does not check
// signatures), so the static test values below are used. The server runs in
// its own process group, so stop() (and killSync(), for exit and signal
// handlers) also end whatever a pyenv shim started. Every request moto logs
// on stderr is counted: `requests` is the server's own count, to read beside
// what lode reports.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';

export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** freePort returns a loopback TCP port that was free a moment ago. */
export async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

function onPath(cmd) {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** motoUnavailable returns why moto cannot run here, or null. */
export function motoUnavailable() {
  if (onPath('moto_server')) return null;
  const r = spawnSyncQuiet('python3', ['-c', 'import moto.server']);
  return r ? null : 'moto_server is not on PATH and `python3 -c "import moto.server"` fails (pip install "moto[server]")';
}

function spawnSyncQuiet(cmd, args) {
  try {
    return spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 }).status === 0;
  } catch {
    return false;
  }
}

/**
 * startMoto runs moto_server (or python3 -m moto.server) on a free port and
 * waits until it answers. `env` extends the server's environment (the bench
 * points TMPDIR into its own directory, where moto spools large objects).
 */
export async function startMoto({ env = {} } = {}) {
  const port = await freePort();
  const args = ['-H', '127.0.0.1', '-p', String(port)];
  const [cmd, argv] = onPath('moto_server') ? ['moto_server', args] : ['python3', ['-m', 'moto.server', ...args]];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, ...env } });
  const endpoint = `http://127.0.0.1:${port}`;
  const state = { requests: 0, byMethod: {}, stderrTail: '' };
  let partial = '';
  child.stderr.on('data', (d) => {
    const text = partial + d.toString();
    const lines = text.split('\n');
    partial = lines.pop();
    for (const l of lines) {
      const m = /"(GET|PUT|HEAD|POST|DELETE) /.exec(l);
      if (m) {
        state.requests++;
        state.byMethod[m[1]] = (state.byMethod[m[1]] ?? 0) + 1;
      } else {
        state.stderrTail = (state.stderrTail + l + '\n').slice(-4000);
      }
    }
  });
  const exited = new Promise((resolve) => {
    child.once('exit', (code, sig) => resolve(code ?? sig));
    child.once('error', (e) => resolve(`spawn error: ${e.message}`));
  });
  let gone;
  exited.then((c) => (gone = c));
  const killSync = (signal = 'SIGKILL') => {
    if (child.pid === undefined || gone !== undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  };
  const deadline = Date.now() + 30_000;
  let up = false;
  while (Date.now() < deadline) {
    if (gone !== undefined) break;
    up = await new Promise((resolve) => {
      const req = http.get(endpoint, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.setTimeout(1000, () => req.destroy());
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!up) {
    killSync();
    throw new Error(
      `moto did not start (${gone !== undefined ? `exited with ${gone}` : 'no answer within 30 s'}): ${state.stderrTail.trim().split('\n').slice(-3).join(' | ')}. ` +
        'It is the S3 server these tests need: install it with  python3 -m pip install "moto[server]"  (`npm test` does, as root).',
    );
  }
  // A detached server outlives a process that dies without stop().
  process.once('exit', killSync);
  state.requests = 0; // the readiness probes are not anyone's requests
  state.byMethod = {};
  return {
    endpoint,
    port,
    pid: child.pid,
    /** requests moto has logged so far (read before and after a command) */
    get requests() {
      return state.requests;
    },
    get byMethod() {
      return { ...state.byMethod };
    },
    /** peak RSS of the server process in KiB (VmHWM; null if unknown) */
    rssKiB() {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        return m ? Number(m[1]) : null;
      } catch {
        return null;
      }
    },
    killSync,
    async stop() {
      process.off('exit', killSync);
      if (gone !== undefined) return;
      killSync('SIGTERM');
      const t = setTimeout(() => killSync('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

async function sdkClient(endpoint, credentials = MOTO_CREDENTIALS) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await import('@aws-sdk/client-s3');
  const client = new sdk.S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 2 });
  return { sdk, client };
}

/** createBucket creates `name` on the server at `endpoint` (moto's credentials unless given). */
export async function createBucket(endpoint, name, credentials = MOTO_CREDENTIALS) {
  const { sdk, client } = await sdkClient(endpoint, credentials);
  try {
    await client.send(new sdk.CreateBucketCommand({ Bucket: name }));
  } finally {
    client.destroy();
  }
}

/**
 * emptyPrefix lists every object under `prefix` (ending in '/') and, unless
 * `dryRun`, deletes them; returns how many objects and bytes there were.
 */
export async function emptyPrefix(endpoint, bucket, prefix, { dryRun = false } = {}) {
  const { sdk, client } = await sdkClient(endpoint);
  let objects = 0;
  let bytes = 0;
  try {
    const keys = [];
    let token;
    do {
      const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        keys.push(o.Key);
        objects++;
        bytes += o.Size ?? 0;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (!dryRun) {
      for (let i = 0; i < keys.length; i += 1000) {
        await client.send(new sdk.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
      }
    }
  } finally {
    client.destroy();
  }
  return { objects, bytes };
}
