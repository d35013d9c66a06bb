/**
 * One rate limit per API key across every face: the API's routes and the signed-in pages (the
 * preview and render routes included) draw on one count, keyed by the key, so the pages are no way
 * around it. Other keys keep their own counts; the sign-in form keeps its own limit per address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup } from '../support/files.js';
import { call, createKey, startTestServer, type TestServer } from '../support/server.js';
import { pageRequest, type PageSession, signInPages } from '../support/pages.js';

const LIMIT = 8;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    env: { PLATEN_RATE_LIMIT: String(LIMIT), PLATEN_BATCH_WORKERS: '1' },
  });
});

afterAll(async () => {
  await server?.close();
  await cleanup();
});

/** A preview of the empty form: refused (422) for its missing fields, but a request all the same. */
const preview = (session: PageSession) =>
  session.request('post', '/make/postcard-6x4/preview', { json: { version: 1, page: 1, values: {} } });

describe('the per-key rate limit', () => {
  it('counts the pages, their previews and downloads against the key, with Retry-After', async () => {
    const rep = await createKey(server, 'rep', 'Hasty', 'hasty');
    // Signing in lands on the gallery: that page is the key's first request.
    const session = await signInPages(server.url, rep.key);
    const statuses: number[] = [];
    for (let i = 1; i < LIMIT; i++) statuses.push((await preview(session)).status);
    expect(statuses.every((s) => s === 422)).toBe(true);

    const over = await preview(session);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over.json).toMatchObject({ message: expect.stringMatching(/too many requests/i) });
    const download = await session.request('post', '/make/postcard-6x4/pdf', {
      form: { _csrf: session.csrf, version: '1' },
    });
    expect(download.status).toBe(429);
    const page = await session.request('get', '/gallery');
    expect(page.status).toBe(429);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toMatch(/too many requests/i);
    // And the API, for the same key, is over the limit too.
    const api = await call(server.url, 'get', '/api/v1/templates', { key: rep.key });
    expect(api.status).toBe(429);
  });

  it('is one count for the API and the pages together', async () => {
    const marketing = await createKey(server, 'marketing', 'Both faces');
    const session = await signInPages(server.url, marketing.key);
    let answered = 1;
    for (let i = 0; i < 2 * LIMIT; i++) {
      const res =
        i % 2 === 0
          ? await call(server.url, 'get', '/api/v1/templates', { key: marketing.key })
          : await preview(session);
      if (res.status === 429) break;
      answered += 1;
    }
    expect(answered).toBe(LIMIT);
    expect((await preview(session)).status).toBe(429);
    expect((await call(server.url, 'get', '/api/v1/renders', { key: marketing.key })).status).toBe(429);
  });

  it('is each key’s own: another key, and the sign-in form, are not held back', async () => {
    const first = await createKey(server, 'rep', 'Spent', 'spent');
    for (let i = 0; i < LIMIT; i++) await call(server.url, 'get', '/api/v1/templates', { key: first.key });
    expect((await call(server.url, 'get', '/api/v1/templates', { key: first.key })).status).toBe(429);

    const other = await createKey(server, 'rep', 'Calm', 'calm');
    const session = await signInPages(server.url, other.key);
    expect((await preview(session)).status).toBe(422);
    // Signing in is limited per address, not per key: a spent key can still reach the form.
    expect((await pageRequest(server.url, 'get', '/sign-in')).status).toBe(200);
  });
});
