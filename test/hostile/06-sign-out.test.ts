/**
 * Sessions end on the server. Signing out ends that session at once: its cookie and its CSRF token,
 * replayed, get nowhere. Revoking a key ends every session of the key. Only a hash of a session's
 * id is stored, and expired sessions are cleared away as new ones start.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { cleanup } from '../support/files.js';
import { call, createKey, startTestServer, type TestServer } from '../support/server.js';
import { pageRequest, signInPages } from '../support/pages.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ env: { PLATEN_BATCH_WORKERS: '1' } });
});

afterAll(async () => {
  vi.useRealTimers();
  await server?.close();
  await cleanup();
});

/** What the pages answer a cookie (and its CSRF token) with: a page, and a script's preview. */
async function reach(cookie: string, csrf: string) {
  const page = await pageRequest(server.url, 'get', '/batch', { cookie });
  const preview = await pageRequest(server.url, 'post', '/make/postcard-6x4/preview', {
    cookie,
    csrf,
    json: { version: 1, page: 1, values: {} },
  });
  const signOut = await pageRequest(server.url, 'post', '/sign-out', { cookie, form: { _csrf: csrf } });
  return { page: page.status, where: page.location, preview: preview.status, signOut: signOut.status };
}

describe('signing out', () => {
  it('ends that session at once: the old cookie and its CSRF token no longer work', async () => {
    const rep = await createKey(server, 'rep', 'Dana', 'dana');
    const session = await signInPages(server.url, rep.key);
    const before = await session.request('get', '/batch');
    expect(before.status).toBe(200);

    const out = await session.request('post', '/sign-out', { form: { _csrf: session.csrf } });
    expect(out.status).toBe(303);
    expect(out.location).toBe('/sign-in');

    const replay = await pageRequest(server.url, 'get', '/batch', { cookie: session.cookie });
    expect(replay.status).toBe(303);
    expect(replay.location).toBe('/sign-in');
    const preview = await pageRequest(server.url, 'post', '/make/postcard-6x4/preview', {
      cookie: session.cookie,
      csrf: session.csrf,
      json: { version: 1, page: 1, values: {} },
    });
    expect(preview.status).toBe(401);
    expect(preview.json).toMatchObject({ message: expect.stringMatching(/sign in/i) });
    // The key itself still works: signing out ends a session, not the key.
    expect((await call(server.url, 'get', '/api/v1/templates', { key: rep.key })).status).toBe(200);
  });

  it('ends only that session: the same key signed in elsewhere stays signed in', async () => {
    const rep = await createKey(server, 'rep', 'Dana at home', 'dana');
    const office = await signInPages(server.url, rep.key);
    const home = await signInPages(server.url, rep.key);
    expect((await office.request('post', '/sign-out', { form: { _csrf: office.csrf } })).status).toBe(303);
    expect((await reach(office.cookie, office.csrf)).page).toBe(303);
    const still = await home.request('get', '/batch');
    expect(still.status).toBe(200);
    const preview = await home.request('post', '/make/postcard-6x4/preview', {
      json: { version: 1, page: 1, values: {} },
    });
    // Answered (the empty form's problems), not refused as signed out.
    expect(preview.status).toBe(422);
  });

  it('signing in again in the same browser ends the session it had', async () => {
    const rep = await createKey(server, 'rep', 'Dana again', 'dana');
    const first = await signInPages(server.url, rep.key);
    const form = await pageRequest(server.url, 'get', '/sign-in', { cookie: first.cookie });
    const visitor = form.headers
      .getSetCookie()
      .find((c) => c.startsWith('platen_visitor='))!
      .split(';')[0]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
    const again = await pageRequest(server.url, 'post', '/sign-in', {
      cookie: `${first.cookie}; ${visitor}`,
      form: { key: rep.key, _csrf: csrf },
    });
    expect(again.status).toBe(303);
    expect((await pageRequest(server.url, 'get', '/batch', { cookie: first.cookie })).status).toBe(303);
  });
});

describe('revoking a key', () => {
  it('ends every session of the key, and its CSRF tokens with them', async () => {
    const marketing = await createKey(server, 'marketing', 'Morgan');
    const a = await signInPages(server.url, marketing.key);
    const b = await signInPages(server.url, marketing.key);
    const revoked = await call(server.url, 'delete', `/api/v1/keys/${marketing.id}`, {
      key: server.adminKey,
    });
    expect(revoked.status).toBe(204);
    for (const session of [a, b]) {
      const after = await reach(session.cookie, session.csrf);
      expect(after).toMatchObject({ page: 303, where: '/sign-in', preview: 401 });
      // Signing out of a dead session sends the browser to sign in, like any page behind it.
      expect(after.signOut).toBe(303);
    }
    const { db } = server.running.platen.store as SqliteStore;
    const left = db.prepare('SELECT count(*) AS n FROM sessions WHERE key_id = ?').get(marketing.id) as {
      n: number;
    };
    expect(left.n).toBe(0);
  });
});

describe('the session store', () => {
  it('keeps only a hash of each session id, never the cookie itself', async () => {
    const rep = await createKey(server, 'rep', 'Hash check', 'dana');
    const session = await signInPages(server.url, rep.key);
    const id = decodeURIComponent(session.cookie.split('=')[1]!);
    const rows = (server.running.platen.store as SqliteStore).db.prepare('SELECT * FROM sessions').all();
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(id);
    // Nor is the key's secret anywhere in the cookie.
    expect(session.cookie).not.toContain(rep.key.slice('platen_'.length));
  });

  it('clears expired sessions away as new ones start', async () => {
    const rep = await createKey(server, 'rep', 'Many devices', 'dana');
    const sessions = server.running.services.sessions;
    const { db } = server.running.platen.store as SqliteStore;
    const count = () => (db.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n;
    for (let i = 0; i < 5; i++) await sessions.start({ keyId: rep.id });
    const before = count();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 9 * 3_600_000);
    const fresh = await sessions.start({ keyId: rep.id });
    // Everything started 9 hours ago has expired (8 hours) and is gone; the new one is there.
    expect(count()).toBe(1);
    expect(before).toBeGreaterThanOrEqual(6);
    expect((await sessions.find(fresh.token))?.caller?.id).toBe(rep.id);
    vi.useRealTimers();
  });
});
