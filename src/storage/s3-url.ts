/**
 * S3 URLs and endpoints: the one validator of `s3://bucket/prefix` (used by
 * the registry when a remote is added and by the S3 backend when it opens),
 * kept apart from s3.ts so that checking a URL loads nothing of the SDK.
 */
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
