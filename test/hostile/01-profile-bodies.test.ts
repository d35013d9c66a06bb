/**
 * Profile updates in every body a client may send. The API takes JSON (what API clients send by
 * default) or multipart (with a photo), and refuses any other type with 415 naming what it accepts;
 * the profile page takes what a browser form sends (urlencoded, or multipart with a photo). A 200
 * means the update was applied; nothing is ever answered 200 while dropping what was sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup } from '../support/files.js';
import { gradientJpeg } from '../support/images.js';
import { brief, type Reply, request } from '../support/request.js';
import { createKey, fullProfile, profileForm, startTestServer, type TestServer } from '../support/server.js';
import { type PageSession, signInPages } from '../support/pages.js';
import { PHOTO_MIN_PX } from '../../src/model/manifest.js';

let server: TestServer;
let rep: string;

beforeAll(async () => {
  server = await startTestServer();
  rep = (await createKey(server, 'rep', 'Dana', 'dana')).key;
});

afterAll(async () => {
  await server?.close();
  await cleanup();
});

const profileOf = async (repId = 'dana') =>
  (await request(server, 'GET', `/api/v1/reps/${repId}`, { key: server.adminKey })).json();

/** The problem of a 415: it names the types the route accepts. */
function expectUnsupported(reply: Reply, accepted: string[]): void {
  expect(reply.status, brief(reply)).toBe(415);
  expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = reply.json();
  expect(body.code).toBe('unsupported_media_type');
  for (const type of accepted) expect(body.detail).toContain(type);
}

describe('PUT /api/v1/reps/me and /api/v1/reps/:id', () => {
  it('applies a JSON body', async () => {
    const reply = await request(server, 'PUT', '/api/v1/reps/me', {
      key: rep,
      json: { name: 'Dana Whitcomb', title: 'Senior Agent' },
    });
    expect(reply.status, brief(reply)).toBe(200);
    expect(reply.json()).toMatchObject({ name: 'Dana Whitcomb', title: 'Senior Agent' });
    expect(await profileOf()).toMatchObject({ name: 'Dana Whitcomb', title: 'Senior Agent' });

    const admin = await request(server, 'PUT', '/api/v1/reps/lee', {
      key: server.adminKey,
      json: fullProfile('Lee Park'),
    });
    expect(admin.status, brief(admin)).toBe(200);
    expect(await profileOf('lee')).toMatchObject(fullProfile('Lee Park'));
  });

  it('validates a JSON body as it validates a form, naming the field', async () => {
    const reply = await request(server, 'PUT', '/api/v1/reps/me', {
      key: rep,
      json: { phone: 'call me', nickname: 'D' },
    });
    expect(reply.status, brief(reply)).toBe(422);
    expect(
      reply
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(['nickname', 'phone']);
    expect((await profileOf()).phone).toBe('');
  });

  it('still takes multipart, with a photo', async () => {
    const reply = await request(server, 'PUT', '/api/v1/reps/me', {
      key: rep,
      body: profileForm(
        { title: 'Agent' },
        { bytes: await gradientJpeg(PHOTO_MIN_PX, PHOTO_MIN_PX), type: 'image/jpeg' },
      ),
    });
    expect(reply.status, brief(reply)).toBe(200);
    expect(reply.json()).toMatchObject({ title: 'Agent', photo: '/api/v1/reps/me/photo' });
  });

  it('refuses urlencoded, text and untyped bodies with 415 naming what it accepts, changing nothing', async () => {
    const before = await profileOf();
    const bodies: { body: string | Buffer; headers: Record<string, string> }[] = [
      { body: 'title=Changed', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      { body: '{"title":"Changed"}', headers: { 'content-type': 'text/plain' } },
      { body: Buffer.from('{"title":"Changed"}'), headers: {} },
      { body: '{"title":"Changed"}', headers: { 'content-type': 'application/json; charset=utf-16' } },
    ];
    for (const { body, headers } of bodies) {
      for (const [path, key] of [
        ['/api/v1/reps/me', rep],
        ['/api/v1/reps/dana', server.adminKey],
      ] as const) {
        const reply = await request(server, 'PUT', path, { key, body, headers });
        expectUnsupported(reply, ['application/json', 'multipart/form-data']);
      }
    }
    expect(await profileOf()).toEqual(before);
  });

  it('refuses an update that carries nothing to update rather than answering 200', async () => {
    for (const options of [{}, { json: {} }, { body: profileForm({}) }]) {
      const reply = await request(server, 'PUT', '/api/v1/reps/me', { key: rep, ...options });
      expect(reply.status, brief(reply)).toBe(422);
      expect(reply.json().errors[0]).toMatchObject({ rule: 'nothing_to_update' });
    }
  });

  it('documents both media types in the OpenAPI document', async () => {
    const doc = (await request(server, 'GET', '/openapi.json')).json();
    for (const path of ['/api/v1/reps/me', '/api/v1/reps/{id}']) {
      expect(Object.keys(doc.paths[path].put.requestBody.content).sort()).toEqual([
        'application/json',
        'multipart/form-data',
      ]);
    }
  });
});

describe('POST /profile', () => {
  let page: PageSession;

  beforeAll(async () => {
    page = await signInPages(server.url, rep);
  });

  it('saves what a form without a file sends (urlencoded)', async () => {
    const reply = await page.request('POST', '/profile', {
      csrf: '',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: page.csrf, ...fullProfile('Dana Form') } as Record<string, string>),
    });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.text).toContain('Your profile is saved.');
    expect(await profileOf()).toMatchObject(fullProfile('Dana Form'));
  });

  it('saves what a form with a file sends (multipart)', async () => {
    const form = profileForm({ _csrf: page.csrf, title: 'Multipart Agent' });
    const reply = await page.request('POST', '/profile', { csrf: '', body: form });
    expect(reply.status, reply.text).toBe(200);
    expect((await profileOf()).title).toBe('Multipart Agent');
  });

  it('answers JSON, text and empty bodies with a 4xx, never a 500', async () => {
    const before = await profileOf();
    const json = await page.request('POST', '/profile', {
      csrf: '',
      headers: { 'content-type': 'application/json', 'x-csrf-token': page.csrf },
      body: JSON.stringify({ title: 'Changed' }),
    });
    expect(json.status, json.text).toBe(415);
    expect(json.text).toContain('application/x-www-form-urlencoded');
    const text = await page.request('POST', '/profile', {
      csrf: '',
      headers: { 'content-type': 'text/plain', 'x-csrf-token': page.csrf },
      body: 'title=Changed',
    });
    expect(text.status, text.text).toBe(415);
    const empty = await page.request('POST', '/profile', {
      csrf: '',
      headers: { 'x-csrf-token': page.csrf },
    });
    expect(empty.status, empty.text).toBe(422);
    expect(await profileOf()).toEqual(before);
  });
});
