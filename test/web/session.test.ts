/** Session cookies and CSRF tokens: signed, expiring, bound to their session, secret kept 0600. */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Request, Response } from 'express';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Sessions } from '../../src/web/session.js';
import { cleanup, tempDir } from '../api/helpers.js';

/** Just enough of express's request and response for cookies. */
function exchange(cookie = '') {
  const set: Record<string, string> = {};
  const req = { headers: { cookie }, secure: false } as unknown as Request;
  const res = {
    cookie: (name: string, value: string) => (set[name] = value),
    clearCookie: (name: string) => (set[name] = ''),
  } as unknown as Response;
  return { req, res, set };
}

afterEach(() => vi.useRealTimers());
afterAll(cleanup);

describe('sessions', () => {
  it('signs a session that only this secret accepts, until it expires', async () => {
    const dir = await tempDir();
    const sessions = Sessions.open(dir);
    expect((await stat(path.join(dir, 'session.key'))).mode & 0o777).toBe(0o600);
    const start = exchange();
    const session = sessions.start(start.req, start.res, 'abc123');
    const cookie = `platen_session=${start.set.platen_session}`;

    expect(sessions.read(exchange(cookie).req)).toEqual(session);
    // The same secret after a restart; another data directory's secret does not accept it.
    expect(Sessions.open(dir).read(exchange(cookie).req)).toEqual(session);
    expect(Sessions.open(await tempDir()).read(exchange(cookie).req)).toBeNull();
    // Changing the key id (or anything else) breaks the signature.
    expect(sessions.read(exchange(cookie.replace('abc123', 'abc124')).req)).toBeNull();

    vi.useFakeTimers();
    vi.setSystemTime(session.expires + 1);
    expect(sessions.read(exchange(cookie).req)).toBeNull();
  });

  it('derives a CSRF token per session, and per visitor before sign-in', async () => {
    const sessions = Sessions.open(await tempDir());
    const a = exchange();
    const one = sessions.start(a.req, a.res, 'k1');
    const two = sessions.start(a.req, a.res, 'k1');
    const token = sessions.csrfToken(a.req, a.res, one);
    expect(sessions.checkCsrf(a.req, one, token)).toBe(true);
    expect(sessions.checkCsrf(a.req, two, token)).toBe(false);
    expect(sessions.checkCsrf(a.req, one, '')).toBe(false);
    expect(sessions.checkCsrf(a.req, one, undefined)).toBe(false);

    const visitor = exchange();
    const visitorToken = sessions.csrfToken(visitor.req, visitor.res, null);
    const back = exchange(`platen_visitor=${visitor.set.platen_visitor}`);
    expect(sessions.checkCsrf(back.req, null, visitorToken)).toBe(true);
    expect(sessions.checkCsrf(exchange().req, null, visitorToken)).toBe(false);
  });
});
