/**
 * What a webhook receiver relies on: the signature (checked against a value computed by OpenSSL,
 * `printf '1767225600.{"id":"e1"}' | openssl dgst -sha256 -hmac whsec_test`), and what follows
 * an attempt: delivered, a retry after a wait, or given up.
 */
import { describe, expect, test } from 'vitest';
import { afterAttempt, signature } from '../../src/service/webhooks.js';

describe('webhook deliveries', () => {
  test('are signed with HMAC-SHA256 over the timestamp, a dot and the body', () => {
    expect(signature('whsec_test', 1767225600, '{"id":"e1"}')).toBe(
      't=1767225600,v1=454f7f9597bf74f9ee7b13eab0ac98e91665e9039d783864ee4129a0f2c9c88f',
    );
  });

  test('are delivered by a 2xx, retried after anything else, and given up after 20 attempts', () => {
    for (const status of [200, 202, 204, 299])
      expect(afterAttempt(status, 1, 1000), String(status)).toEqual({ state: 'delivered' });
    for (const status of [null, 100, 301, 304, 404, 429, 500, 503])
      expect(afterAttempt(status, 1, 1000, 0, 0.5), String(status)).toEqual({
        state: 'pending',
        retryAt: 750,
      });
    expect(afterAttempt(500, 19, 1000).state).toBe('pending');
    expect(afterAttempt(500, 20, 1000)).toEqual({ state: 'failed' });
    expect(afterAttempt(null, 20, 1000)).toEqual({ state: 'failed' });
    expect(afterAttempt(200, 20, 1000)).toEqual({ state: 'delivered' });
  });

  test('wait twice as long after each failed attempt, less up to half at random, at most an hour', () => {
    const wait = (attempts: number, random: number) => {
      const next = afterAttempt(500, attempts, 1000, 1_000_000, random);
      return next.state === 'pending' ? next.retryAt - 1_000_000 : next.state;
    };
    expect([1, 2, 3, 4].map((n) => wait(n, 0.5))).toEqual([750, 1500, 3000, 6000]);
    expect([1, 2, 3, 4].map((n) => wait(n, 0))).toEqual([500, 1000, 2000, 4000]);
    expect(wait(1, 0.99)).toBe(995);
    expect(wait(12, 0.5)).toBe(1_536_000);
    expect(wait(13, 0.5)).toBe(2_700_000);
    expect(wait(19, 0)).toBe(1_800_000);
  });
});
