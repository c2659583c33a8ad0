/**
 * S3Backend stores blobs as objects in an S3-compatible bucket (AWS S3, MinIO,
 * Ceph RGW, Cloudflare R2, moto, s3rver) under an optional key prefix.
 *
 * The SDK is imported only when a remote is opened: it costs about 80 ms, and
 * commands that never touch a remote must not pay for it.
 *
 * Nothing the store says is taken on trust: bodies are uploaded as plain
 * buffers (no aws-chunked framing, which some stores save as the object's
 * bytes), every load checks the length it received, listings are checked for
 * broken continuation, and conditional writes are probed once before the
 * first ref update relies on them.
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { CorruptObjectError, LodeError, NotFoundError, RefConflictError, RemoteError, UsageError } from '../core/errors.js';
import { checkRange, validateKey, validatePrefix, type Backend, type BlobInfo, type Range, type RemoveOptions, type SaveOptions } from './backend.js';
import { parseS3Url, redactEndpoint, resolveS3Location } from './s3-url.js';

export { parseS3Url } from './s3-url.js';

type S3Sdk = typeof import('@aws-sdk/client-s3');

export interface S3Options {
  /** `s3://bucket` or `s3://bucket/prefix`. */
  url: string;
  /** An S3-compatible endpoint (MinIO, Ceph, R2, moto): `http://127.0.0.1:9000`. Default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's endpoint_url, then AWS. */
  endpoint?: string;
  /** Default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, then us-east-1. */
  region?: string;
  /** Address buckets as `endpoint/bucket` rather than `bucket.endpoint`. Default: true when an endpoint is set (here or in the environment). */
  forcePathStyle?: boolean;
  /** A profile of ~/.aws/config and ~/.aws/credentials. Default: AWS_PROFILE. */
  profile?: string;
  /** Explicit credentials; otherwise the SDK's default chain (env, AWS_PROFILE, SSO, instance role...). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /**
   * Whether the SDK adds checksums to requests and validates them on responses
   * when the API allows it ('when-supported') or only when an operation needs
   * them ('when-required', the default: several S3-compatible stores mishandle
   * the newer checksum headers).
   */
  checksumMode?: 'when-required' | 'when-supported';
  /** Requests in flight at once (the size of the socket pool). Default 16. */
  maxConnections?: number;
  /** Tries per request, first one included, for retryable failures. Default 5. */
  maxAttempts?: number;
  /** Connection and inactivity timeout of one request, in ms. Default 20 000. */
  timeoutMs?: number;
  /**
   * Set false for a store known to ignore If-Match / If-None-Match: conditional
   * saves then throw UsageError instead of silently overwriting. When true (the
   * default) the first conditional save checks that the store enforces them.
   */
  conditionalWrites?: boolean;
}

/** openS3Backend checks the options and builds the client; it sends no request. */
export async function openS3Backend(options: S3Options): Promise<Backend> {
  const { bucket, prefix } = parseS3Url(options.url);
  const maxConnections = positiveInt(options.maxConnections, 16, 'maxConnections');
  const maxAttempts = positiveInt(options.maxAttempts, 5, 'maxAttempts');
  const timeoutMs = positiveInt(options.timeoutMs, 20_000, 'timeoutMs');
  // The AWS CLI's conventions: the remote's own settings, then AWS_ENDPOINT_URL_S3 / AWS_REGION / AWS_PROFILE..., then ~/.aws/config.
  const { endpoint, region, profile, endpointFrom } = resolveS3Location(options);
  if (options.checksumMode !== undefined && options.checksumMode !== 'when-required' && options.checksumMode !== 'when-supported') {
    throw new UsageError(`invalid checksum mode ${JSON.stringify(options.checksumMode)}`, { hint: 'use when-required or when-supported' });
  }
  const checksum = options.checksumMode === 'when-supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED';

  // SDK releases announce on stderr that they will require Node 22; lode pins a
  // release that runs on Node 20, so the notice is noise on the user's screen.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [sdk, http, https] = await Promise.all([import('@aws-sdk/client-s3'), import('node:http'), import('node:https')]);

  // Our own agents bound the socket pool to maxConnections; the silent logger
  // keeps the handler's "sockets at capacity" notice off the screen, since
  // queueing beyond the pool is expected when callers overshoot.
  const agentOptions = { keepAlive: true, maxSockets: maxConnections };
  const client = new sdk.S3Client({
    region,
    endpoint,
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
    followRegionRedirects: endpoint === undefined,
    profile,
    credentials: options.credentials,
    maxAttempts,
    requestChecksumCalculation: checksum,
    responseChecksumValidation: checksum,
    // Bodies are buffers of known length: waiting for "100 Continue" only adds
    // a round trip, and some stores mishandle it.
    expectContinueHeader: false,
    logger: silentLogger,
    requestHandler: {
      httpAgent: new http.Agent(agentOptions),
      httpsAgent: new https.Agent(agentOptions),
      connectionTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      logger: silentLogger,
    },
  });
  const secrets = [options.credentials?.secretAccessKey, options.credentials?.sessionToken].filter((s): s is string => !!s && s.length >= 4);
  return new S3Backend(sdk, client, {
    bucket,
    prefix,
    maxConnections,
    conditionalWrites: options.conditionalWrites ?? true,
    where: endpoint === undefined ? `AWS S3 (${region})` : endpointFrom === '--endpoint' ? redactEndpoint(endpoint) : `${redactEndpoint(endpoint)} via ${endpointFrom}`,
    secrets,
  });
}

interface S3BackendConfig {
  bucket: string;
  prefix: string;
  maxConnections: number;
  conditionalWrites: boolean;
  /** The endpoint as it may appear in messages (no credentials). */
  where: string;
  /** Strings scrubbed from every message, in case a layer below echoes one. */
  secrets: string[];
}

/** Error names of S3 and the SDK that mean "your credentials are not accepted". */
const AUTH_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
  'InvalidClientTokenId',
  'AuthorizationHeaderMalformed',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'EHOSTDOWN', 'ENETDOWN', 'ERR_STREAM_PREMATURE_CLOSE']);
const THROTTLE_CODES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'RequestTimeTooSkewed', 'ServiceUnavailable', 'InternalError', 'TooManyRequestsException']);
const CREDENTIALS_HINT =
  'check the credentials lode uses for this remote (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the remote\'s profile setting) and that they may read and write this bucket';

class S3Backend implements Backend {
  readonly location: string;
  readonly maxConnections: number;
  private readonly bucket: string;
  /** '' or 'prefix/': prepended to every key. */
  private readonly base: string;
  private readonly allowConditional: boolean;
  /** Set when the probe found that the store ignores conditional headers. */
  private conditionsIgnored = false;
  private probe?: Promise<void>;
  /** Set once a HeadBucket proved the bucket exists (HEAD 404s cannot tell a missing key from a missing bucket). */
  private bucketSeen = false;
  private closed = false;

  constructor(
    private readonly sdk: S3Sdk,
    private readonly client: S3Client,
    private readonly config: S3BackendConfig,
  ) {
    this.bucket = config.bucket;
    this.base = config.prefix === '' ? '' : `${config.prefix}/`;
    this.location = config.prefix === '' ? `s3://${config.bucket}` : `s3://${config.bucket}/${config.prefix}`;
    this.maxConnections = config.maxConnections;
    this.allowConditional = config.conditionalWrites;
  }

  get conditionalWrites(): boolean {
    return this.allowConditional && !this.conditionsIgnored;
  }

  async save(key: string, data: Uint8Array, options: SaveOptions = {}): Promise<{ etag: string }> {
    validateKey(key);
    const conditional = options.ifNoneMatch === true || options.ifMatch !== undefined;
    if (conditional) await this.requireConditionalWrites();
    const body = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    try {
      const res = await this.put(this.base + key, body, options);
      if (res.ETag) return { etag: res.ETag };
    } catch (e) {
      if (conditional && isConditionFailure(e, options)) {
        // When the SDK retried, the refusal may be of our own first attempt,
        // which landed although its answer was lost: then the key holds
        // exactly our bytes, and the save succeeded.
        const landed = attempts(e) > 1 ? await this.holds(key, body) : undefined;
        if (landed !== undefined) return { etag: landed };
        throw new RefConflictError(
          options.ifNoneMatch ? `${key} already exists in ${this.location}` : `${key} in ${this.location} changed since it was read`,
          { cause: e },
        );
      }
      throw this.fail(e, 'writing', key);
    }
    // A store that returns no ETag on PUT: ask for it (only refs need it, and they are small).
    return { etag: (await this.stat(key))?.etag ?? '' };
  }

  /** holds returns the etag of `key` if it holds exactly `data`, else undefined (also on any error). */
  private async holds(key: string, data: Buffer): Promise<string | undefined> {
    try {
      const res = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.base + key }));
      const bytes = res.Body ? await res.Body.transformToByteArray() : new Uint8Array(0);
      return res.ETag !== undefined && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(data) ? res.ETag : undefined;
    } catch {
      return undefined;
    }
  }

  async load(key: string, range?: Range): Promise<Buffer> {
    validateKey(key);
    if (range) {
      checkRange(range, Number.MAX_SAFE_INTEGER, key);
      // S3 cannot express an empty range; the blob must still exist and be long enough.
      if (range.length === 0) {
        const info = await this.stat(key);
        if (!info) throw new NotFoundError(`${key} is not in ${this.location}`);
        checkRange(range, info.size, key);
        return Buffer.alloc(0);
      }
    }
    let got: { body: Buffer; status?: number; contentLength?: number; contentRange?: string };
    try {
      const res = await this.client.send(
        new this.sdk.GetObjectCommand({
          Bucket: this.bucket,
          Key: this.base + key,
          Range: range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined,
        }),
      );
      // Reading the body is part of the request: a reset here is a RemoteError too.
      const bytes = res.Body ? await res.Body.transformToByteArray() : new Uint8Array(0);
      got = {
        body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        status: res.$metadata.httpStatusCode,
        contentLength: res.ContentLength,
        contentRange: res.ContentRange,
      };
    } catch (e) {
      if (range && (errorCode(e) === 'InvalidRange' || httpStatus(e) === 416)) {
        throw new RangeError(`range ${range.offset}+${range.length} is outside ${key} in ${this.location}`);
      }
      throw this.fail(e, 'reading', key);
    }
    const { body, status, contentLength, contentRange } = got;
    const short = (expected: number, what: string) =>
      new CorruptObjectError(`${key} from ${this.location}: received ${body.length} bytes, ${what} ${expected}`, {
        path: `${this.location}/${key}`,
        hint: 'the transfer or the store lost bytes; try again, and check the store if it persists',
      });
    if (contentLength !== undefined && body.length !== contentLength) {
      // A body cut short in transit: asking again may well work.
      throw new RemoteError(`reading ${key} in ${this.location}: received ${body.length} of the ${contentLength} bytes the store announced`, true, {
        hint: 'the connection lost bytes; the command can be run again',
      });
    }
    if (!range) return body;

    if (status === 200) {
      // The store ignored the Range header and sent the whole blob.
      checkRange(range, body.length, key);
      return body.subarray(range.offset, range.offset + range.length);
    }
    const cr = contentRange === undefined ? undefined : /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange.trim());
    if (cr) {
      if (cr[3] !== '*') checkRange(range, Number(cr[3]), key);
      if (Number(cr[1]) !== range.offset) {
        throw new CorruptObjectError(`${key} from ${this.location}: asked for bytes from ${range.offset}, received ${contentRange}`, { path: `${this.location}/${key}` });
      }
    }
    if (body.length !== range.length) throw short(range.length, 'asked for');
    return body;
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    validateKey(key);
    try {
      const res = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.base + key }));
      const size = res.ContentLength;
      if (size === undefined || !Number.isSafeInteger(size) || size < 0) {
        throw new RemoteError(`${this.location} gave no valid size for ${key} (${String(size)})`, false);
      }
      return res.ETag === undefined ? { key, size } : { key, size, etag: res.ETag };
    } catch (e) {
      if (isNotFound(e)) {
        await this.checkBucket();
        return undefined;
      }
      throw this.fail(e, 'looking up', key);
    }
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    validatePrefix(prefix);
    const full = this.base + prefix;
    // Continuation tokens are followed while they behave. A store whose token
    // repeats, goes missing while the listing is truncated, or leads back to
    // keys already listed is instead walked with StartAfter = the greatest key
    // seen (S3 lists in UTF-8 byte order), yielding only keys beyond it: no key
    // twice, and an error rather than an endless loop if even that stalls.
    const tokens = new Set<string>();
    let token: string | undefined;
    /** Set once continuation is abandoned: the full key to resume after. */
    let startAfter: string | undefined;
    /** The greatest full key listed so far. */
    let greatest: string | undefined;
    for (;;) {
      let res: { Contents?: { Key?: string; Size?: number; ETag?: string }[]; IsTruncated?: boolean; NextContinuationToken?: string };
      try {
        res = await this.client.send(new this.sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: full, ContinuationToken: token, StartAfter: startAfter }));
      } catch (e) {
        throw this.fail(e, 'listing', prefix || '/');
      }
      const contents = res.Contents ?? [];
      const first = contents[0]?.Key;
      if (token !== undefined && greatest !== undefined && first !== undefined && byteCompare(first, greatest) <= 0) {
        // The token led back to keys already listed: drop the page, walk on from `greatest`.
        token = undefined;
        startAfter = greatest;
        continue;
      }
      for (const o of contents) {
        const fullKey = o.Key;
        if (fullKey === undefined || !fullKey.startsWith(full)) continue;
        if (startAfter !== undefined && byteCompare(fullKey, startAfter) <= 0) continue;
        if (greatest === undefined || byteCompare(fullKey, greatest) > 0) greatest = fullKey;
        const key = fullKey.slice(this.base.length);
        if (!isValidKey(key)) continue; // not a key lode could have written
        if (!Number.isSafeInteger(o.Size) || o.Size! < 0) {
          throw new RemoteError(`${this.location} listed ${key} with an invalid size (${String(o.Size)})`, false);
        }
        yield o.ETag === undefined ? { key, size: o.Size! } : { key, size: o.Size!, etag: o.ETag };
      }
      if (res.IsTruncated !== true) return;
      const next = res.NextContinuationToken;
      if (startAfter === undefined && next !== undefined && next !== '' && !tokens.has(next)) {
        tokens.add(next);
        token = next;
        continue;
      }
      // Broken continuation (or already walking by StartAfter): resume after the greatest key seen.
      const last = contents.at(-1)?.Key;
      const resume = last === undefined ? greatest : greatest === undefined ? last : max(last, greatest);
      if (resume === undefined || (startAfter !== undefined && byteCompare(resume, startAfter) <= 0)) {
        throw new RemoteError(`listing ${prefix || '/'} in ${this.location} does not advance: the store keeps returning the same keys`, false, {
          hint: 'the S3-compatible store mishandles ListObjectsV2 paging; upgrade it or report it to its maintainers',
        });
      }
      token = undefined;
      startAfter = resume;
    }
  }

  async remove(key: string, options: RemoveOptions = {}): Promise<void> {
    validateKey(key);
    // If-Match on DeleteObject (AWS since 2024): a ref is deleted only if it still holds what was read.
    if (options.ifMatch !== undefined) await this.requireConditionalWrites();
    try {
      await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.base + key, IfMatch: options.ifMatch }));
    } catch (e) {
      if (options.ifMatch !== undefined && isConditionFailure(e, options)) {
        // The SDK retried: the refusal may be of our own first attempt, which landed although its answer was lost.
        if (attempts(e) > 1 && (await this.stat(key).catch(() => 'unknown')) === undefined) return;
        throw new RefConflictError(`${key} in ${this.location} changed since it was read`, { cause: e });
      }
      if (errorCode(e) === 'NoSuchKey') return;
      throw this.fail(e, 'removing', key);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
  }

  private put(fullKey: string, body: Buffer, options: SaveOptions) {
    return this.client.send(
      new this.sdk.PutObjectCommand({
        Bucket: this.bucket,
        Key: fullKey,
        Body: body,
        ContentLength: body.length,
        ContentType: 'application/octet-stream',
        IfNoneMatch: options.ifNoneMatch ? '*' : undefined,
        IfMatch: options.ifMatch,
      }),
    );
  }

  /**
   * requireConditionalWrites throws UsageError unless conditional saves are
   * both allowed and enforced by the store. Several S3-compatible stores accept
   * If-Match / If-None-Match on PUT and ignore them, which would let two
   * pushes overwrite each other's ref silently; one probe per backend (three
   * PUTs and a DELETE of a scratch key) tells.
   */
  private async requireConditionalWrites(): Promise<void> {
    const refuse = () =>
      new UsageError(`${this.location} does not enforce conditional writes (If-Match / If-None-Match)`, {
        hint: 'use a store that enforces them (AWS S3, recent MinIO, Ceph RGW or R2): on this one, two pushes could overwrite each other\'s commits without either noticing',
      });
    if (!this.conditionalWrites) throw refuse();
    this.probe ??= this.probeConditionalWrites().catch((e: unknown) => {
      this.probe = undefined; // a network failure should not decide for good
      throw e;
    });
    await this.probe;
    if (this.conditionsIgnored) throw refuse();
  }

  private async probeConditionalWrites(): Promise<void> {
    const key = `${this.base}.lode-probe/${randomUUID()}`;
    const rejected = async (options: SaveOptions): Promise<boolean> => {
      try {
        await this.put(key, Buffer.from('probe\n'), options);
        return false;
      } catch (e) {
        if (isConditionFailure(e, options)) return true;
        if (httpStatus(e) === 501 || errorCode(e) === 'NotImplemented') return false;
        throw this.fail(e, 'checking conditional writes with', key.slice(this.base.length));
      }
    };
    try {
      await this.put(key, Buffer.from('probe\n'), {}).catch((e: unknown) => {
        throw this.fail(e, 'checking conditional writes with', key.slice(this.base.length));
      });
      const enforced = (await rejected({ ifNoneMatch: true })) && (await rejected({ ifMatch: '"0-lode-probe-mismatch"' }));
      if (!enforced) this.conditionsIgnored = true;
    } finally {
      await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: key })).catch(() => undefined);
    }
  }

  /** checkBucket throws RemoteError once if the bucket does not exist. */
  private async checkBucket(): Promise<void> {
    if (this.bucketSeen) return;
    try {
      await this.client.send(new this.sdk.HeadBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      if (isNotFound(e) || errorCode(e) === 'NoSuchBucket') throw this.noBucket(e);
      // Anything else (a policy without s3:ListBucket, a store without HeadBucket)
      // says nothing about the key: leave the answer to the HEAD of the object.
    }
    this.bucketSeen = true;
  }

  private noBucket(cause: unknown): RemoteError {
    return new RemoteError(`bucket "${this.bucket}" does not exist at ${this.config.where}`, false, {
      cause,
      hint: 'create the bucket or check the URL (and the endpoint and region)',
    });
  }

  /** fail turns an SDK or network error into a LodeError whose text names the remote but never a secret. */
  private fail(e: unknown, doing: string, key: string): LodeError {
    if (e instanceof LodeError) return e;
    const code = errorCode(e);
    const status = httpStatus(e);
    const what = `${doing} ${key} in ${this.location}`;
    const scrub = (s: string) => this.config.secrets.reduce((m, secret) => m.split(secret).join('***'), s);
    if (code === 'NoSuchKey') return new NotFoundError(`${key} is not in ${this.location}`, { cause: e });
    if (code === 'NoSuchBucket') return this.noBucket(e);
    if (code === 'CredentialsProviderError' || (e as Error)?.name === 'CredentialsProviderError') {
      return new RemoteError(`no credentials found for ${this.location} (${this.config.where})`, false, {
        cause: e,
        hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or give the remote a profile or credentials',
      });
    }
    if (status === 401 || status === 403 || (code !== undefined && AUTH_CODES.has(code))) {
      // The server's own text is left out: some stores echo request details.
      return new RemoteError(`${this.config.where} refused ${what}: ${code ?? 'access denied'} (HTTP ${status ?? 403})`, false, { cause: e, hint: CREDENTIALS_HINT });
    }
    const net = networkCode(e);
    if (net !== undefined) {
      return new RemoteError(`cannot reach ${this.config.where} while ${what}: ${net}`, true, {
        cause: e,
        hint: 'check the endpoint, your network and that the store is running; the command can be run again',
      });
    }
    if (status !== undefined && status >= 200 && status < 300) {
      // The store said yes but its answer could not be read (XML cut short or
      // malformed): the parser's own text would only confuse, and asking again may work.
      return new RemoteError(`${what}: the answer of ${this.config.where} was cut short or malformed (HTTP ${status})`, true, {
        cause: e,
        hint: 'the connection or the store garbled the answer; the command can be run again',
      });
    }
    const throttled = status === 429 || status === 503 || (code !== undefined && THROTTLE_CODES.has(code) && code !== 'InternalError' && code !== 'RequestTimeout');
    const retryable = (status !== undefined && (status >= 500 || status === 429)) || (code !== undefined && THROTTLE_CODES.has(code));
    const detail = [code, status === undefined ? undefined : `HTTP ${status}`].filter(Boolean).join(', ');
    const message = errorMessage(e);
    return new RemoteError(scrub(`${what} failed${detail ? ` (${detail})` : ''}${message ? `: ${message}` : ''}`), retryable, {
      cause: e,
      throttled,
      retryAfterMs: retryAfter(e),
      hint: retryable ? 'the store is busy or failing; the command can be run again' : undefined,
    });
  }
}

interface SdkError {
  name?: string;
  code?: unknown;
  Code?: unknown;
  message?: string;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number };
}

function errorCode(e: unknown): string | undefined {
  const x = e as SdkError | undefined;
  if (typeof x?.Code === 'string') return x.Code;
  if (typeof x?.name === 'string' && x.name !== 'Error' && x.name !== 'UnknownError' && x.name !== 'S3ServiceException') return x.name;
  return undefined;
}

/** attempts is how many times the SDK sent the request that failed with `e`. */
function attempts(e: unknown): number {
  return (e as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts ?? 1;
}

/** retryAfter reads a Retry-After header (seconds or an HTTP date) of the failed response, in ms. */
function retryAfter(e: unknown): number | undefined {
  const headers = (e as { $response?: { headers?: Record<string, string | undefined> } } | undefined)?.$response?.headers;
  const v = headers?.['retry-after'] ?? headers?.['Retry-After'];
  if (v === undefined) return undefined;
  const ms = /^\s*\d+\s*$/.test(v) ? Number(v) * 1000 : Date.parse(v) - Date.now();
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, 60_000) : undefined;
}

function httpStatus(e: unknown): number | undefined {
  return (e as SdkError | undefined)?.$metadata?.httpStatusCode;
}

function errorMessage(e: unknown): string {
  const m = (e as SdkError | undefined)?.message;
  if (typeof m !== 'string' || m === 'UnknownError') return '';
  return m.length > 200 ? `${m.slice(0, 200)}...` : m;
}

/** networkCode names a connection-level failure (refused, DNS, reset, timeout), or undefined. */
function networkCode(e: unknown): string | undefined {
  const x = e as SdkError | undefined;
  if (x?.name === 'TimeoutError') return 'timed out';
  if (typeof x?.code === 'string' && NETWORK_CODES.has(x.code)) return x.code;
  // Node tries every address of a name and reports an AggregateError.
  for (const inner of x?.errors ?? []) {
    const c = (inner as SdkError | undefined)?.code;
    if (typeof c === 'string' && NETWORK_CODES.has(c)) return c;
  }
  return undefined;
}

function isNotFound(e: unknown): boolean {
  const code = errorCode(e);
  return code === 'NotFound' || code === 'NoSuchKey' || (httpStatus(e) === 404 && code !== 'NoSuchBucket');
}

/** isConditionFailure: the store refused a conditional PUT because its condition did not hold. */
function isConditionFailure(e: unknown, options: SaveOptions | RemoveOptions): boolean {
  const code = errorCode(e);
  const status = httpStatus(e);
  if (status === 412 || code === 'PreconditionFailed') return true;
  if (status === 409 || code === 'ConditionalRequestConflict') return true;
  // AWS answers If-Match on an absent key with 404 NoSuchKey.
  return options.ifMatch !== undefined && (code === 'NoSuchKey' || (status === 404 && code !== 'NoSuchBucket'));
}

function isValidKey(key: string): boolean {
  try {
    validateKey(key);
    return true;
  } catch {
    return false;
  }
}

/** byteCompare orders strings as S3 does: by their UTF-8 bytes. */
function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function max(a: string | undefined, b: string): string {
  return a === undefined || byteCompare(a, b) < 0 ? b : a;
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new UsageError(`${name} must be a positive integer, not ${value}`);
  return value;
}

const silentLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
