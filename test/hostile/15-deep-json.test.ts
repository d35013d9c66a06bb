/**
 * JSON nested deeper than the service reads is refused with a 422 naming the limit, wherever a client
 * can send it: API and page JSON bodies, a job's `map` field, a package's template.json. Never a 500
 * (a recursive walk of a value 15,000 deep ran out of stack), and brackets inside strings are text.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/json.js';
import { cleanup } from '../support/files.js';
import { makePackage } from '../support/packages.js';
import { brief, type Reply, request } from '../support/request.js';
import { client, roleKeys, startTestServer, type TestServer, uploadZip } from '../support/server.js';
import { zipFolder } from '../support/zips.js';
import { signInPages } from '../support/pages.js';

/** A JSON array nested `depth` deep. */
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const DEEP = nested(15_000);

let server: TestServer;
const keys: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer({ env: { PLATEN_RATE_LIMIT: '100000' } });
  Object.assign(keys, await roleKeys(server));
});

afterAll(async () => {
  await server?.close();
  await cleanup();
});

function expectTooDeep(reply: Reply, path: string): void {
  expect(reply.status, brief(reply)).toBe(422);
  const problem = reply.json();
  expect(problem.errors, brief(reply)).toEqual([
    expect.objectContaining({
      path,
      rule: 'max_depth',
      message: expect.stringContaining(String(MAX_JSON_DEPTH)),
    }),
  ]);
}

const json = { 'content-type': 'application/json' };

describe('API bodies', () => {
  const bodies = [
    [
      'POST',
      '/api/v1/renders',
      'rep',
      (v: string) => `{"templateId":"postcard-6x4","prospect":{"firstName":${v}}}`,
    ],
    [
      'POST',
      '/api/v1/previews',
      'rep',
      (v: string) => `{"templateId":"postcard-6x4","fields":{"message":${v}}}`,
    ],
    ['POST', '/api/v1/previews/fit', 'marketing', (v: string) => `{"templateId":"postcard-6x4","rep":${v}}`],
    ['POST', '/api/v1/keys', 'admin', (v: string) => `{"role":"rep","name":${v}}`],
    ['PUT', '/api/v1/reps/me', 'rep', (v: string) => `{"title":${v}}`],
  ] as const;

  it('refuses a body nested 15,000 deep with 422 naming the limit', async () => {
    for (const [method, url, role, body] of bodies) {
      const reply = await request(server, method, url, { key: keys[role], body: body(DEEP), headers: json });
      expectTooDeep(reply, '');
    }
  });

  it('reads a body at the limit, and brackets inside strings are not nesting', async () => {
    for (const [method, url, role, body] of bodies) {
      const atLimit = body(nested(MAX_JSON_DEPTH - 2));
      const reply = await request(server, method, url, { key: keys[role], body: atLimit, headers: json });
      expect(reply.status, brief(reply)).toBe(422);
      expect(reply.json().errors.map((e: { rule: string }) => e.rule)).not.toContain('max_depth');
    }
    const text = JSON.stringify({ title: `${'['.repeat(20_000)} not a list` });
    const reply = await request(server, 'PUT', '/api/v1/reps/me', {
      key: keys.rep,
      body: text,
      headers: json,
    });
    // Too long a title, not too deep.
    expect(reply.status, brief(reply)).toBe(422);
    expect(reply.json().errors).toEqual([expect.objectContaining({ path: 'title', rule: 'too_big' })]);
  });
});

describe("a job's map", () => {
  it('refuses a JSON mapping nested 7,000 deep (as deep as its 16,000 characters go), naming the field', async () => {
    for (const route of ['/api/v1/jobs', '/api/v1/jobs/columns']) {
      const form = new FormData();
      form.append('csv', new Blob(['First Name,Last Name\nAnn,Lee\n']), 'list.csv');
      form.append('templateId', 'postcard-6x4');
      form.append('map', `{"First Name":${nested(7_000)}}`);
      expectTooDeep(await request(server, 'POST', route, { key: keys.rep, body: form }), 'map');
    }
  });
});

describe('a package', () => {
  it('refuses a template.json nested 15,000 deep, naming it', async () => {
    const dir = await makePackage('deep-postcard', 'Deep postcard');
    await writeFile(path.join(dir, 'template.json'), `{"id":"deep-postcard","pages":${DEEP}}`);
    const marketing = client(server.url, keys.marketing!);
    const reply = await uploadZip(marketing, await zipFolder(dir));
    expect(reply.status, reply.bytes.toString()).toBe(422);
    expect((reply.json as { errors: unknown[] }).errors).toEqual([
      expect.objectContaining({ path: 'template.json', rule: 'max_depth' }),
    ]);
  });
});

describe('the pages', () => {
  it('refuse a preview or a mapping nested 15,000 deep with 422 naming the limit', async () => {
    const page = await signInPages(server.url, keys.rep!);
    const preview = await page.request('POST', '/make/postcard-6x4/preview', {
      csrf: '',
      headers: { ...json, 'x-csrf-token': page.csrf },
      body: `{"version":1,"page":1,"values":{"fields.message":${DEEP}}}`,
    });
    expect(preview.status, preview.text).toBe(422);
    expect(JSON.parse(preview.text).problems).toEqual([
      expect.objectContaining({
        rule: 'max_depth',
        message: expect.stringContaining(String(MAX_JSON_DEPTH)),
      }),
    ]);

    const form = new FormData();
    form.append('csv', new Blob(['First Name,Last Name\nAnn,Lee\n']), 'list.csv');
    form.append('templateId', 'postcard-6x4');
    form.append('map', `{"First Name":${DEEP}}`);
    const columns = await page.request('POST', '/batch/columns', {
      csrf: '',
      headers: { 'x-csrf-token': page.csrf },
      body: form,
    });
    expect(columns.status, columns.text).toBe(422);
    expect(JSON.parse(columns.text).problems).toEqual([expect.objectContaining({ rule: 'max_depth' })]);
  });
});
