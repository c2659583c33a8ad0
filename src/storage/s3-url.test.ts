import { describe, expect, it } from 'vitest';
import { resolveS3Location } from './s3-url.js';

const FILE = `[default]
region = us-west-2

[profile team]
region = eu-central-1
endpoint_url = http://team.example:9000
s3 =
  endpoint_url = http://nested.example
`;
const read = () => FILE;

describe('resolveS3Location follows the AWS CLI precedence', () => {
  it('the remote setting wins, then AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile, AWS', () => {
    const env = { AWS_ENDPOINT_URL_S3: 'http://s3-env:1', AWS_ENDPOINT_URL: 'http://any-env:2', AWS_PROFILE: 'team', HOME: '/h' };
    expect(resolveS3Location({ endpoint: 'http://flag:3' }, env, read)).toMatchObject({ endpoint: 'http://flag:3', endpointFrom: '--endpoint' });
    expect(resolveS3Location({}, env, read)).toMatchObject({ endpoint: 'http://s3-env:1', endpointFrom: 'AWS_ENDPOINT_URL_S3' });
    expect(resolveS3Location({}, { ...env, AWS_ENDPOINT_URL_S3: '' }, read)).toMatchObject({ endpoint: 'http://any-env:2', endpointFrom: 'AWS_ENDPOINT_URL' });
    expect(resolveS3Location({}, { AWS_PROFILE: 'team', HOME: '/h' }, read)).toMatchObject({ endpoint: 'http://team.example:9000', region: 'eu-central-1', profile: 'team' });
    expect(resolveS3Location({}, { HOME: '/h' }, read)).toEqual({ endpoint: undefined, endpointFrom: undefined, region: 'us-west-2', profile: undefined });
    expect(resolveS3Location({}, { HOME: '/h' }, () => undefined)).toMatchObject({ endpoint: undefined, region: 'us-east-1' });
  });

  it('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS drops the environment and file endpoints, not the remote one', () => {
    const env = { AWS_ENDPOINT_URL_S3: 'http://s3-env:1', AWS_PROFILE: 'team', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true', HOME: '/h' };
    expect(resolveS3Location({}, env, read).endpoint).toBeUndefined();
    expect(resolveS3Location({ endpoint: 'http://flag:3' }, env, read).endpoint).toBe('http://flag:3');
  });

  it('region: the remote, AWS_REGION, AWS_DEFAULT_REGION, the profile, us-east-1; the remote profile beats AWS_PROFILE', () => {
    const env = { AWS_REGION: 'ap-south-1', AWS_DEFAULT_REGION: 'sa-east-1', AWS_PROFILE: 'nobody', HOME: '/h' };
    expect(resolveS3Location({ region: 'eu-north-1' }, env, read).region).toBe('eu-north-1');
    expect(resolveS3Location({}, env, read).region).toBe('ap-south-1');
    expect(resolveS3Location({}, { ...env, AWS_REGION: '' }, read).region).toBe('sa-east-1');
    expect(resolveS3Location({ profile: 'team' }, { AWS_PROFILE: 'nobody', HOME: '/h' }, read)).toMatchObject({ region: 'eu-central-1', profile: 'team' });
  });

  it('a bad endpoint from the environment names its source', () => {
    expect(() => resolveS3Location({}, { AWS_ENDPOINT_URL_S3: 'ftp://x' }, read)).toThrow(/AWS_ENDPOINT_URL_S3/);
  });
});
