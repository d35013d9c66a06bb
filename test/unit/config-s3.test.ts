/** PLATEN_BLOB_URL and the SDK's variables beside it: object storage in S3, or a clear refusal. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

describe('PLATEN_BLOB_URL', () => {
  it('is s3://bucket or s3://bucket/prefix, or refused naming what to write', () => {
    const base = { AWS_REGION: 'eu-west-1' };
    expect(loadConfig({ ...base, PLATEN_BLOB_URL: 's3://prints/platen/eu' }).s3).toEqual({
      bucket: 'prints',
      prefix: 'platen/eu/',
      endpoint: null,
      region: 'eu-west-1',
    });
    expect(loadConfig({ ...base, PLATEN_BLOB_URL: 's3://prints' }).s3).toMatchObject({ prefix: '' });
    expect(loadConfig({}).s3).toBeNull();
    for (const url of ['https://prints.s3.amazonaws.com', 's3://', 's3://Prints/x', 'prints/platen'])
      expect(() => loadConfig({ ...base, PLATEN_BLOB_URL: url })).toThrow(/expected s3:\/\/bucket/);
    expect(() => loadConfig({ PLATEN_BLOB_URL: 's3://prints' })).toThrow(/AWS_REGION/);
    expect(
      loadConfig({ PLATEN_BLOB_URL: 's3://prints', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000' }).s3,
    ).toMatchObject({ endpoint: 'http://127.0.0.1:9000', region: 'us-east-1' });
  });
});
