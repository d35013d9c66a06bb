/**
 * Every route with a body says which media types it takes, and a body of any other type is refused
 * with 415 naming them, before it is read: a JSON body sent as text/plain is a 415, never a 422 about
 * a field it seems to lack, nor a 200 that dropped it. The API's routes come from /openapi.json (whose
 * request bodies list the accepted types); the pages' from their router.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup } from '../support/files.js';
import { brief, type JsonObject, request } from '../support/request.js';
import { roleKeys, startTestServer, type TestServer } from '../support/server.js';
import { pageRoutes, type PageSession, signInPages } from '../support/pages.js';

/** Bodies of the types clients commonly send, by media type ('' for none). */
const BODIES: Record<string, { body: string | Buffer; headers: Record<string, string> }> = {
  'application/json': {
    body: '{"templateId":"postcard-6x4"}',
    headers: { 'content-type': 'application/json' },
  },
  'application/x-www-form-urlencoded': {
    body: 'templateId=postcard-6x4',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  },
  'multipart/form-data': {
    body: '--b\r\nContent-Disposition: form-data; name="templateId"\r\n\r\npostcard-6x4\r\n--b--\r\n',
    headers: { 'content-type': 'multipart/form-data; boundary=b' },
  },
  'application/zip': { body: Buffer.from('PK\u0005\u0006'), headers: { 'content-type': 'application/zip' } },
  'text/plain': { body: '{"templateId":"postcard-6x4"}', headers: { 'content-type': 'text/plain' } },
  'application/xml': {
    body: '<templateId>postcard-6x4</templateId>',
    headers: { 'content-type': 'application/xml' },
  },
  '': { body: Buffer.from('{"templateId":"postcard-6x4"}'), headers: {} },
};

let server: TestServer;
const keys: Record<string, string> = {};

beforeAll(async () => {
  // Password sign-in on: its forms are among those checked.
  server = await startTestServer({ env: { PLATEN_RATE_LIMIT: '100000', PLATEN_PASSWORD_SIGN_IN: '1' } });
  Object.assign(keys, await roleKeys(server));
});

afterAll(async () => {
  await server?.close();
  await cleanup();
});

/** A route's path with each parameter filled in (bodies are read before parameters are checked). */
const filled = (path: string) => path.replace(/\{\w+\}|:\w+/g, 'x');

describe('the API', () => {
  it('refuses every type a route does not list with 415 naming those it does, and reads those it lists', async () => {
    const doc = (await request(server, 'GET', '/openapi.json')).json();
    let routes = 0;
    for (const [path, methods] of Object.entries(doc.paths as Record<string, JsonObject>)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!op.requestBody) continue;
        routes += 1;
        const accepted = Object.keys(op.requestBody.content as object);
        const key = keys[(op['x-roles'] as string[])[0]!];
        for (const [type, { body, headers }] of Object.entries(BODIES)) {
          const reply = await request(server, method.toUpperCase(), filled(path), { key, body, headers });
          const where = `${method} ${path} with ${type || 'no type'}: ${brief(reply)}`;
          if (accepted.includes(type)) {
            expect(reply.status, where).not.toBe(415);
            continue;
          }
          expect(reply.status, where).toBe(415);
          const problem = reply.json();
          expect(problem.code, where).toBe('unsupported_media_type');
          for (const name of accepted) expect(problem.detail, where).toContain(name);
        }
      }
    }
    // Profiles (two), renders, previews (two), keys, jobs (three), templates, webhooks, piece outcomes,
    // the designer's drafts, draft previews and assets, and the organisation's settings.
    expect(routes).toBe(16);
  });
});

describe('the pages', () => {
  const sessions: Record<string, PageSession> = {};

  beforeAll(async () => {
    for (const role of ['rep', 'marketing', 'admin'])
      sessions[role] = await signInPages(server.url, keys[role]!);
  });

  it('refuse text, XML and untyped bodies on every form with 415, for the roles they serve', async () => {
    const posts = (await pageRoutes(server.running.services))
      .filter((r) => r.methods.includes('post'))
      .map((r) => r.path);
    expect(posts.length).toBeGreaterThanOrEqual(11);
    for (const path of posts) {
      for (const type of ['text/plain', 'application/xml', '']) {
        const { body, headers } = BODIES[type]!;
        const statuses = [];
        for (const session of Object.values(sessions)) {
          const reply = await session.request('POST', filled(path), {
            csrf: '',
            body,
            headers: { ...headers, 'x-csrf-token': session.csrf },
          });
          statuses.push(reply.status);
          // A role the page is not for is told so first.
          expect([403, 415], `${path} with ${type || 'no type'}: ${reply.text.slice(0, 500)}`).toContain(
            reply.status,
          );
        }
        expect(statuses, `${path} with ${type || 'no type'}`).toContain(415);
      }
    }
  });
});
