/**
 * What a webhook receiver relies on: the signature (checked against a value computed by OpenSSL,
 * `printf '1767225600.{"id":"e1"}' | openssl dgst -sha256 -hmac whsec_test`), and the retry waits.
 */
import { describe, expect, test } from 'vitest';
import { retryDelay, signature } from '../../src/service/webhooks.js';

describe('webhook deliveries', () => {
  test('are signed with HMAC-SHA256 over the timestamp, a dot and the body', () => {
    expect(signature('whsec_test', 1767225600, '{"id":"e1"}')).toBe(
      't=1767225600,v1=454f7f9597bf74f9ee7b13eab0ac98e91665e9039d783864ee4129a0f2c9c88f',
    );
  });

  test('wait twice as long after each failed attempt, jittered down by up to half, at most an hour', () => {
    expect([1, 2, 3, 4].map((n) => retryDelay(n, 1000, 0.5))).toEqual([750, 1500, 3000, 6000]);
    expect([1, 2, 3, 4].map((n) => retryDelay(n, 1000, 0))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelay(1, 1000, 0.99)).toBe(995);
    expect(retryDelay(12, 1000, 0.5)).toBe(1_536_000);
    expect(retryDelay(13, 1000, 0.5)).toBe(2_700_000);
    expect(retryDelay(40, 1000, 0)).toBe(1_800_000);
  });
});
