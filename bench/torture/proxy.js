// A fault-injecting HTTP proxy for S3 on loopback: it forwards every request
// to an upstream server (moto) and, with a seeded probability, answers it
// badly instead, the ways real networks and stores do:
//
//   reset       the connection is cut: before the request reaches the store,
//               or (half the time) after it did, so a write may have happened
//   500         InternalError, S3 XML body
//   503         SlowDown, S3 XML body, Retry-After: 1
//   short       the store's answer with its full Content-Length, cut halfway
//   flip        the store's answer with one byte of the body inverted
//               (only for answers with a body; others get a 500 instead)
//
// `stripConditional` removes If-Match / If-None-Match from the requests it
// matches (a store that makes conditional writes non-atomic); `holdRefWrites`
// holds writes of refs until that many have arrived (or a timeout), so
// concurrent pushes both write before either reads back.
//
// Requests and responses are buffered whole: the proxy is for correctness
// runs, not for throughput.

import * as http from 'node:http';

export function s3ErrorXml(code, message) {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>torture-proxy</RequestId></Error>`;
}

const FAULTS = ['reset', '500', '503', 'short', 'flip'];

/**
 * startFaultProxy listens on a free loopback port and forwards to `upstream`
 * (`http://host:port`). `rand` is the seeded RNG; `rate` can be changed
 * while it runs. Returns { endpoint, stats, set(options), stop() }.
 */
export async function startFaultProxy({ upstream, rand, rate = 0 }) {
  const up = new URL(upstream);
  const opts = { rate, stripConditional: undefined, holdRefWrites: 0, holdTimeoutMs: 20_000 };
  const stats = { requests: 0, faults: Object.fromEntries(FAULTS.map((f) => [f, 0])), stripped: 0, held: 0 };
  let held = [];
  let holdTimer;
  const releaseHeld = () => {
    clearTimeout(holdTimer);
    holdTimer = undefined;
    const batch = held;
    held = [];
    // Forward in arrival order, one after the other; answer each after all were written.
    (async () => {
      const answers = [];
      for (const h of batch) answers.push(await forward(h.req, h.body).catch((e) => ({ error: e })));
      batch.forEach((h, i) => send(h.res, answers[i]));
    })();
  };

  const forward = (req, body) =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: up.host };
      delete headers['expect'];
      headers['content-length'] = String(body.length);
      delete headers['transfer-encoding'];
      const r = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      r.on('error', reject);
      r.end(body);
    });

  const send = (res, answer, cut = undefined) => {
    if (answer.error) {
      res.socket?.destroy();
      return;
    }
    const headers = { ...answer.headers };
    delete headers['transfer-encoding'];
    delete headers['connection'];
    if (res.req.method === 'HEAD') {
      // A HEAD answer has no body but the object's Content-Length: keep it.
      res.writeHead(answer.status, headers);
      res.end();
      return;
    }
    headers['content-length'] = String(answer.body.length);
    res.writeHead(answer.status, headers);
    if (cut === undefined) res.end(answer.body);
    else res.write(answer.body.subarray(0, cut), () => res.socket?.destroy());
  };

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      stats.requests++;
      let body = Buffer.concat(chunks);
      if (opts.stripConditional && opts.stripConditional(req) && (req.headers['if-match'] || req.headers['if-none-match'])) {
        delete req.headers['if-match'];
        delete req.headers['if-none-match'];
        stats.stripped++;
      }
      if (opts.holdRefWrites > 0 && req.method === 'PUT' && /\/refs\//.test(req.url ?? '')) {
        stats.held++;
        held.push({ req, res, body });
        if (held.length >= opts.holdRefWrites) releaseHeld();
        else holdTimer ??= setTimeout(releaseHeld, opts.holdTimeoutMs);
        return;
      }
      const fault = rand() < opts.rate ? FAULTS[Math.floor(rand() * FAULTS.length)] : undefined;
      const before = rand() < 0.5;
      try {
        if (fault === 'reset' && before) {
          stats.faults.reset++;
          req.socket.destroy();
          return;
        }
        if (fault === '500' || fault === '503') {
          stats.faults[fault]++;
          const xml = Buffer.from(fault === '500' ? s3ErrorXml('InternalError', 'We encountered an internal error. Please try again.') : s3ErrorXml('SlowDown', 'Please reduce your request rate.'));
          res.writeHead(Number(fault), { 'content-type': 'application/xml', 'content-length': xml.length, ...(fault === '503' ? { 'retry-after': '1' } : {}) });
          res.end(req.method === 'HEAD' ? undefined : xml);
          return;
        }
        const answer = await forward(req, body);
        body = undefined;
        if (fault === 'reset') {
          stats.faults.reset++;
          req.socket.destroy();
          return;
        }
        const hasBody = req.method !== 'HEAD' && answer.body.length > 1;
        if (fault === 'short' && hasBody) {
          stats.faults.short++;
          send(res, answer, Math.floor(answer.body.length / 2));
          return;
        }
        if (fault === 'flip' && hasBody) {
          stats.faults.flip++;
          const i = Math.floor(rand() * answer.body.length);
          answer.body[i] ^= 0xff;
          send(res, answer);
          return;
        }
        if (fault === 'short' || fault === 'flip') {
          stats.faults['500']++;
          const xml = Buffer.from(s3ErrorXml('InternalError', 'We encountered an internal error. Please try again.'));
          res.writeHead(500, { 'content-type': 'application/xml', 'content-length': xml.length });
          res.end(req.method === 'HEAD' ? undefined : xml);
          return;
        }
        send(res, answer);
      } catch {
        req.socket.destroy();
      }
    });
  });
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    /** set changes options while the proxy runs: rate, stripConditional(req) => bool, holdRefWrites, holdTimeoutMs. */
    set(o) {
      Object.assign(opts, o);
    },
    async stop() {
      if (held.length) releaseHeld();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
