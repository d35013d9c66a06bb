/** Session cookies and CSRF tokens: stored sessions that expire, tokens bound to their session, secret kept 0600. */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Request, Response } from 'express';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { SessionService } from '../../src/service/sessions.js';
import { LocalBlobStore } from '../../src/store/local-blobs.js';
import { LocalObjectStore } from '../../src/store/local-objects.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { Sessions } from '../../src/web/session.js';
import { cleanup, tempDir } from '../support/files.js';

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

const stores: SqliteStore[] = [];
async function open(): Promise<{ dir: string; store: { sessions: SessionService }; keyId: string }> {
  const dir = await tempDir();
  const sqlite = new SqliteStore(dir, new LocalBlobStore(path.join(dir, 'blobs')), new LocalObjectStore(dir));
  stores.push(sqlite);
  const key = await sqlite.keys.create({ role: 'marketing', name: 'M', repId: null }, 'a'.repeat(64));
  return { dir, store: { sessions: new SessionService(sqlite) }, keyId: key.id };
}

afterEach(() => vi.useRealTimers());
afterAll(async () => {
  for (const store of stores) await store.close();
  await cleanup();
});

describe('sessions', () => {
  it('are known to the store that started them, until they expire', async () => {
    const { dir, store, keyId } = await open();
    const sessions = Sessions.open(dir, store.sessions);
    expect((await stat(path.join(dir, 'session.key'))).mode & 0o777).toBe(0o600);
    const start = exchange();
    await sessions.start(start.req, start.res, { keyId });
    const cookie = `platen_session=${start.set.platen_session}`;

    const session = await sessions.read(exchange(cookie).req);
    expect(session).toMatchObject({ caller: { id: keyId, role: 'marketing' }, person: null });
    // The same store after a restart; another data directory's store does not know it.
    expect(await Sessions.open(dir, store.sessions).read(exchange(cookie).req)).toEqual(session);
    const other = await open();
    expect(await Sessions.open(other.dir, other.store.sessions).read(exchange(cookie).req)).toBeNull();
    // A changed id is no session.
    expect(
      await sessions.read(exchange(cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))).req),
    ).toBeNull();

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(session!.expires + 1);
    expect(await sessions.read(exchange(cookie).req)).toBeNull();
  });

  it('derives a CSRF token per session, and per visitor before sign-in', async () => {
    const { dir, store, keyId } = await open();
    const sessions = Sessions.open(dir, store.sessions);
    const started = [exchange(), exchange()];
    for (const { req, res } of started) await sessions.start(req, res, { keyId });
    const [one, two] = await Promise.all(
      started.map(
        async (s) => (await sessions.read(exchange(`platen_session=${s.set.platen_session}`).req))!,
      ),
    );
    const a = exchange();
    const token = sessions.csrfToken(a.req, a.res, one!);
    expect(sessions.checkCsrf(a.req, one!, token)).toBe(true);
    expect(sessions.checkCsrf(a.req, two!, token)).toBe(false);
    expect(sessions.checkCsrf(a.req, one!, '')).toBe(false);
    expect(sessions.checkCsrf(a.req, one!, undefined)).toBe(false);

    const visitor = exchange();
    const visitorToken = sessions.csrfToken(visitor.req, visitor.res, null);
    const back = exchange(`platen_visitor=${visitor.set.platen_visitor}`);
    expect(sessions.checkCsrf(back.req, null, visitorToken)).toBe(true);
    expect(sessions.checkCsrf(exchange().req, null, visitorToken)).toBe(false);
  });

  it('carries a toast to the next page: signed, read once, gone after a minute', async () => {
    const { dir, store } = await open();
    const sessions = Sessions.open(dir, store.sessions);
    const left = exchange();
    sessions.flash(left.req, left.res, 'Version 2 is published.');
    const cookie = `platen_flash=${left.set.platen_flash}`;
    const shown = exchange(cookie);
    expect(sessions.takeFlash(shown.req, shown.res)).toBe('Version 2 is published.');
    // Shown once: the page that shows it clears it.
    expect(shown.set.platen_flash).toBe('');
    // Another server's secret, or a changed message, shows nothing.
    const other = await open();
    expect(
      Sessions.open(other.dir, other.store.sessions).takeFlash(exchange(cookie).req, exchange().res),
    ).toBeNull();
    const changed = cookie.replace(
      /\.([^.]+)\./,
      `.${Buffer.from('You won a prize').toString('base64url')}.`,
    );
    expect(sessions.takeFlash(exchange(changed).req, exchange().res)).toBeNull();

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 61_000);
    expect(sessions.takeFlash(exchange(cookie).req, exchange().res)).toBeNull();
  });
});
