/**
 * S3 URLs and endpoints: the one validator of `s3://bucket/prefix` (used by
 * the registry when a remote is added and by the S3 backend when it opens),
 * kept apart from s3.ts so that checking a URL loads nothing of the SDK.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { validateKey } from './backend.js';

const URL_HINT = 'write it as s3://bucket or s3://bucket/prefix (endpoint, region and credentials are separate settings)';

/**
 * bucketNameProblem says why `bucket` is not a valid S3 bucket name, or
 * returns undefined. The rules are AWS's for general purpose buckets, which
 * MinIO, Ceph RGW and R2 also apply: 3 to 63 characters of lower-case
 * letters, digits, '.' and '-'; a letter or digit at both ends; no '..';
 * not shaped like an IP address. (Upper case and '_' survive only in legacy
 * us-east-1 buckets, which cannot be addressed as `bucket.host` either.)
 */
export function bucketNameProblem(bucket: string): string | undefined {
  if (bucket.length < 3 || bucket.length > 63) return 'it must be 3 to 63 characters long';
  if (!/^[a-z0-9.-]+$/.test(bucket)) return 'only lower-case letters, digits, "." and "-" are allowed';
  if (!/^[a-z0-9]/.test(bucket) || !/[a-z0-9]$/.test(bucket)) return 'it must begin and end with a letter or a digit';
  if (bucket.includes('..')) return 'it may not contain ".."';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return 'it may not look like an IP address';
  return undefined;
}

/** parseS3Url splits `s3://bucket/prefix` into the bucket and the prefix ('' or 'a/b', no slashes at either end). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const usage = (why: string) => new UsageError(`invalid S3 URL: ${why}`, { hint: URL_HINT });
  // Do not echo a URL that might carry credentials.
  if (/^s3:\/\/[^/?#]*@/i.test(url)) throw usage('credentials do not belong in the URL');
  const m = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/i.exec(url);
  if (!m) throw usage(`${JSON.stringify(url)} is not of the form s3://bucket/prefix`);
  const bucket = m[1];
  const problem = bucketNameProblem(bucket);
  if (problem) throw usage(`${JSON.stringify(bucket)} is not a valid bucket name: ${problem}`);
  const prefix = (m[2] ?? '').replace(/^\/+/, '').replace(/\/+$/, '');
  if (prefix !== '') {
    try {
      validateKey(prefix);
    } catch {
      throw usage(`the prefix ${JSON.stringify(prefix)} has an empty, "." or ".." part`);
    }
  }
  return { bucket, prefix };
}

/** checkEndpoint returns `endpoint` if it is an http(s) URL without credentials; UsageError otherwise (never echoing it). */
export function checkEndpoint(endpoint: string): string {
  const hint = 'write it as http://host:port or https://host';
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    throw new UsageError('invalid S3 endpoint: not a URL', { hint });
  }
  if (u.username || u.password) {
    throw new UsageError('invalid S3 endpoint: credentials do not belong in the endpoint URL', {
      hint: 'remove the "user:secret@" part; give keys with --access-key-id and --secret-access-key (kept in .lode/config.local), AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or --profile',
    });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`invalid S3 endpoint: ${u.protocol} is not http: or https:`, { hint });
  return endpoint;
}

/** redactEndpoint drops anything but the scheme and host (paths and queries may carry tokens). */
export function redactEndpoint(endpoint: string): string {
  const u = new URL(endpoint);
  return `${u.protocol}//${u.host}`;
}

/** S3Location is where an S3 remote's requests go, after the AWS conventions were applied. */
export interface S3Location {
  /** The endpoint given or found in the environment; undefined for AWS itself. */
  endpoint?: string;
  region: string;
  profile?: string;
  /** Where the endpoint came from (for messages): `--endpoint`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, `the endpoint_url of AWS profile NAME`. */
  endpointFrom?: string;
}

/**
 * resolveS3Location applies the AWS CLI's precedence to a remote's settings:
 * what the remote sets (flag or `[remote.NAME]`, the CLI's command-line
 * options) wins; then the environment (`AWS_ENDPOINT_URL_S3`, then
 * `AWS_ENDPOINT_URL`, ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is
 * true; `AWS_REGION`, then `AWS_DEFAULT_REGION`; `AWS_PROFILE`); then the
 * profile's `endpoint_url` and `region` in the shared config file
 * (`AWS_CONFIG_FILE`, default ~/.aws/config); then us-east-1 and AWS.
 * `readConfigFile` is injectable for tests; an unreadable file counts as empty.
 */
export function resolveS3Location(
  remote: { endpoint?: string; region?: string; profile?: string },
  env: Record<string, string | undefined> = process.env,
  readConfigFile: (file: string) => string | undefined = readQuietly,
): S3Location {
  const profile = remote.profile || env.AWS_PROFILE || undefined;
  let fileSettings: Record<string, string> | undefined;
  const fromFile = (key: string): string | undefined => {
    if (!fileSettings) {
      const home = env.HOME ?? env.USERPROFILE ?? '';
      const file = env.AWS_CONFIG_FILE || (home ? `${home}/.aws/config` : '');
      fileSettings = file ? profileSection(readConfigFile(file) ?? '', profile ?? 'default') : {};
    }
    return fileSettings[key] || undefined;
  };
  const ignoreConfigured = /^true$/i.test(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '');
  let endpoint: string | undefined;
  let endpointFrom: string | undefined;
  const candidates: [string, string | undefined][] = [
    ['--endpoint', remote.endpoint],
    ['AWS_ENDPOINT_URL_S3', ignoreConfigured ? undefined : env.AWS_ENDPOINT_URL_S3],
    ['AWS_ENDPOINT_URL', ignoreConfigured ? undefined : env.AWS_ENDPOINT_URL],
  ];
  for (const [from, value] of candidates) {
    if (value) {
      endpoint = value;
      endpointFrom = from;
      break;
    }
  }
  if (endpoint === undefined && !ignoreConfigured) {
    const v = fromFile('endpoint_url');
    if (v) {
      endpoint = v;
      endpointFrom = `the endpoint_url of AWS profile ${profile ?? 'default'}`;
    }
  }
  if (endpoint !== undefined) {
    try {
      checkEndpoint(endpoint);
    } catch (e) {
      if (endpointFrom === '--endpoint') throw e;
      throw new UsageError(`${(e as Error).message} (from ${endpointFrom})`, { hint: (e as UsageError).hint });
    }
  }
  const region = remote.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || fromFile('region') || 'us-east-1';
  return { endpoint, region, profile, endpointFrom };
}

function readQuietly(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** profileSection returns the `key = value` pairs of `[profile NAME]` (or `[default]`) in an AWS config file. */
function profileSection(text: string, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  let inside = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s[#;].*$/, '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (section) {
      const s = section[1].replace(/\s+/g, ' ');
      inside = s === `profile ${name}` || (name === 'default' && s === 'default');
      continue;
    }
    if (!inside || /^\s/.test(raw)) continue; // nested (indented) sub-settings are not ours
    const kv = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(line);
    if (kv) out[kv[1].toLowerCase()] = kv[2];
  }
  return out;
}
