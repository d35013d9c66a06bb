/**
 * The template lifecycle over HTTP: uploads become drafts, marketing publishes and retires, reps see
 * only what is published; invalid or hostile packages are refused whole, with every problem, and
 * leave nothing behind.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanup, entries } from '../support/files.js';
import { makePackage } from '../support/packages.js';
import { postcardRender } from '../support/records.js';
import { BUNDLED } from '../support/repo.js';
import {
  client,
  type Client,
  createKey,
  problem,
  profileForm,
  type Reply,
  startTestServer,
  type TestServer,
  uploadMultipart,
  uploadZip,
} from '../support/server.js';
import { zipFolder } from '../support/zips.js';

interface VersionSummary {
  templateId: string;
  version: number;
  name: string;
  state: 'draft' | 'published' | 'retired';
  createdBy: string;
  createdAt: string;
  publishedBy: string | null;
  publishedAt: string | null;
  retiredBy: string | null;
  retiredAt: string | null;
  renders?: number;
}

interface ListEntry {
  id: string;
  latest: VersionSummary;
  published: VersionSummary | null;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const MARKETING_NAME = 'Marketing Mia';
const NEW_POSTCARD_NAME = 'Harbor Mutual – spring postcard (v2)';

let server: TestServer;
let marketing: Client;
let rep: Client;

const list = async (api: Client): Promise<ListEntry[]> => {
  const res = await api('get', '/api/v1/templates');
  expect(res.status).toBe(200);
  return (res.json as { templates: ListEntry[] }).templates;
};

const versions = async (id: string): Promise<{ status: number; versions: VersionSummary[] }> => {
  const res = await marketing('get', `/api/v1/templates/${id}/versions`);
  return { status: res.status, versions: (res.json as { versions: VersionSummary[] }).versions };
};

/** The audit record behind a render's Location header. */
const auditOf = async (render: Reply): Promise<{ templateId: string; version: number }> => {
  const location = render.headers.get('location');
  expect(location).toMatch(/^\/api\/v1\/renders\/[0-9a-f]{16}$/);
  const res = await rep('get', location!);
  expect(res.status).toBe(200);
  return res.json as { templateId: string; version: number };
};

beforeAll(async () => {
  server = await startTestServer();
  marketing = client(server.url, (await createKey(server, 'marketing', MARKETING_NAME)).key);
  rep = client(server.url, (await createKey(server, 'rep', 'Rep Dana', 'dana')).key);
  expect((await rep('put', '/api/v1/reps/me', { body: profileForm() })).status).toBe(200);
});

afterAll(async () => {
  await server?.close();
  await cleanup();
});

describe('the template lifecycle', () => {
  test('a rep lists the three bundled templates, published as version 1', async () => {
    const templates = await list(rep);
    expect(templates.map((t) => t.id)).toEqual([...BUNDLED]);
    for (const t of templates) {
      expect(t.latest).toMatchObject({
        templateId: t.id,
        version: 1,
        state: 'published',
        createdBy: 'bundled',
      });
      expect(t.published?.version).toBe(1);
      expect(t.published?.publishedBy).toBe('bundled');
      expect(t.published?.publishedAt).toMatch(ISO);
    }
    const detail = await rep('get', '/api/v1/templates/postcard-6x4');
    expect(detail.status).toBe(200);
    const body = detail.json as { version: number; pages: string[]; recordSchema: { type?: string } };
    expect(body.version).toBe(1);
    expect(body.pages).toEqual(['front', 'back']);
    expect(body.recordSchema.type).toBe('object');
  });

  test('an upload with a new id (application/zip body) is draft version 1', async () => {
    const zip = await zipFolder(await makePackage('spring-postcard', 'Spring postcard'));
    const res = await uploadZip(marketing, zip);
    expect(res.status, res.bytes.toString()).toBe(201);
    expect(res.headers.get('location')).toBe('/api/v1/templates/spring-postcard?version=1');
    const body = res.json as VersionSummary & { report: unknown[] };
    expect(body).toMatchObject({
      templateId: 'spring-postcard',
      version: 1,
      name: 'Spring postcard',
      state: 'draft',
      createdBy: MARKETING_NAME,
      publishedBy: null,
      publishedAt: null,
    });
    expect(body.createdAt).toMatch(ISO);
    expect(body.report).toEqual([]);

    // Marketing sees the draft where the Location points; reps do not see it at all.
    const at = await marketing('get', res.headers.get('location')!);
    expect(at.status).toBe(200);
    expect(at.json).toMatchObject({ templateId: 'spring-postcard', version: 1, state: 'draft' });
    const forRep = await rep('get', '/api/v1/templates/spring-postcard');
    expect(forRep.status).toBe(404);
    expect(problem(forRep).code).toBe('not_found');
    expect((await list(rep)).map((t) => t.id)).toEqual([...BUNDLED]);
    const all = await list(marketing);
    const spring = all.find((t) => t.id === 'spring-postcard');
    expect(spring?.latest).toMatchObject({ version: 1, state: 'draft' });
    expect(spring?.published).toBeNull();
    const render = await rep('post', '/api/v1/renders', { json: postcardRender('spring-postcard') });
    expect(render.status).toBe(404);
  });

  test('an upload for an existing id (multipart "file") is the next version, still a draft', async () => {
    const dir = await makePackage('postcard-6x4', NEW_POSTCARD_NAME, (m) => {
      m.description = 'The spring refresh of the 6×4 postcard.';
    });
    const res = await uploadMultipart(marketing, await zipFolder(dir));
    expect(res.status, res.bytes.toString()).toBe(201);
    expect(res.headers.get('location')).toBe('/api/v1/templates/postcard-6x4?version=2');
    expect(res.json).toMatchObject({
      templateId: 'postcard-6x4',
      version: 2,
      state: 'draft',
      name: NEW_POSTCARD_NAME,
      createdBy: MARKETING_NAME,
    });
    expect(existsSync(path.join(server.dataDir, 'packages', 'postcard-6x4', '2', 'template.json'))).toBe(
      true,
    );
  });

  test('a rep cannot see or render the draft; the published version is still the default', async () => {
    const draft = await rep('get', '/api/v1/templates/postcard-6x4?version=2');
    expect(draft.status).toBe(404);
    expect(problem(draft).code).toBe('not_found');
    const latest = await rep('get', '/api/v1/templates/postcard-6x4');
    expect(latest.json).toMatchObject({ version: 1, state: 'published' });
    const postcard = (await list(rep)).find((t) => t.id === 'postcard-6x4');
    expect(postcard?.latest.version).toBe(1);
    expect(postcard?.published?.version).toBe(1);
    const render = await rep('post', '/api/v1/renders', { json: postcardRender('postcard-6x4', 2) });
    expect(render.status).toBe(404);

    // Marketing sees the draft, and the state of each.
    const forMarketing = (await list(marketing)).find((t) => t.id === 'postcard-6x4');
    expect(forMarketing?.latest).toMatchObject({ version: 2, state: 'draft' });
    expect(forMarketing?.published?.version).toBe(1);
    const v2 = await marketing('get', '/api/v1/templates/postcard-6x4?version=2');
    expect(v2.json).toMatchObject({ version: 2, state: 'draft', name: NEW_POSTCARD_NAME });
  });

  test('publishing records who and when; reps then get the new version by default', async () => {
    const res = await marketing('post', '/api/v1/templates/postcard-6x4/versions/2/publish');
    expect(res.status, res.bytes.toString()).toBe(200);
    const body = res.json as VersionSummary;
    expect(body).toMatchObject({ templateId: 'postcard-6x4', version: 2, state: 'published' });
    expect(body.publishedBy).toBe(MARKETING_NAME);
    expect(body.publishedAt).toMatch(ISO);
    expect(Date.parse(body.publishedAt!)).toBeGreaterThanOrEqual(Date.parse(body.createdAt));

    const latest = await rep('get', '/api/v1/templates/postcard-6x4');
    expect(latest.json).toMatchObject({ version: 2, state: 'published', name: NEW_POSTCARD_NAME });
    expect((await list(rep)).find((t) => t.id === 'postcard-6x4')?.latest.version).toBe(2);
    const render = await rep('post', '/api/v1/renders', { json: postcardRender() });
    expect(render.status, render.bytes.toString()).toBe(201);
    expect(render.headers.get('content-type')).toMatch(/^application\/pdf/);
    expect(render.bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(await auditOf(render)).toMatchObject({ templateId: 'postcard-6x4', version: 2 });
  });

  test('publishing a published version again is 409', async () => {
    const again = await marketing('post', '/api/v1/templates/postcard-6x4/versions/2/publish');
    expect(again.status).toBe(409);
    expect(problem(again).code).toBe('already_published');
    const bundled = await marketing('post', '/api/v1/templates/letter-window/versions/1/publish');
    expect(bundled.status).toBe(409);
    const missing = await marketing('post', '/api/v1/templates/postcard-6x4/versions/9/publish');
    expect(missing.status).toBe(404);
  });

  test('retiring: reps get 409 for that version, and the default falls back', async () => {
    const res = await marketing('post', '/api/v1/templates/postcard-6x4/versions/2/retire');
    expect(res.status, res.bytes.toString()).toBe(200);
    expect(res.json).toMatchObject({ version: 2, state: 'retired', retiredBy: MARKETING_NAME });
    expect((res.json as VersionSummary).retiredAt).toMatch(ISO);

    const pinned = await rep('get', '/api/v1/templates/postcard-6x4?version=2');
    expect(pinned.status).toBe(409);
    expect(problem(pinned).code).toBe('retired');
    const render = await rep('post', '/api/v1/renders', { json: postcardRender('postcard-6x4', 2) });
    expect(render.status).toBe(409);
    expect(problem(render).code).toBe('retired');

    const latest = await rep('get', '/api/v1/templates/postcard-6x4');
    expect(latest.json).toMatchObject({ version: 1, state: 'published' });
    const fallback = await rep('post', '/api/v1/renders', { json: postcardRender() });
    expect(fallback.status).toBe(201);
    expect(await auditOf(fallback)).toMatchObject({ templateId: 'postcard-6x4', version: 1 });

    const again = await marketing('post', '/api/v1/templates/postcard-6x4/versions/2/retire');
    expect(again.status).toBe(409);
    expect(problem(again).code).toBe('already_retired');
  });

  test('the versions list shows who did what, when, and how often reps rendered each', async () => {
    const { status, versions: list } = await versions('postcard-6x4');
    expect(status).toBe(200);
    expect(list.map((v) => [v.version, v.state])).toEqual([
      [1, 'published'],
      [2, 'retired'],
    ]);
    expect(list[0]).toMatchObject({
      createdBy: 'bundled',
      publishedBy: 'bundled',
      retiredBy: null,
      renders: 1,
    });
    expect(list[1]).toMatchObject({
      createdBy: MARKETING_NAME,
      publishedBy: MARKETING_NAME,
      retiredBy: MARKETING_NAME,
      renders: 1,
    });
    for (const v of list) {
      expect(v.createdAt).toMatch(ISO);
      expect(v.publishedAt).toMatch(ISO);
    }
    const spring = await versions('spring-postcard');
    expect(spring.versions).toEqual([
      expect.objectContaining({ version: 1, state: 'draft', publishedAt: null, renders: 0 }),
    ]);
    const none = await versions('no-such-template');
    expect(none.status).toBe(404);
    expect(none.versions).toEqual([]);
  });

  test('a zip whose files sit in one top-level folder is accepted and unwrapped', async () => {
    const zip = await zipFolder(await makePackage('autumn-postcard', 'Autumn postcard'), {
      folder: 'autumn-postcard',
      directories: true,
    });
    expect(zip.includes(Buffer.from('autumn-postcard/fonts/'))).toBe(true);
    const res = await uploadZip(marketing, zip);
    expect(res.status, res.bytes.toString()).toBe(201);
    expect(res.json).toMatchObject({ templateId: 'autumn-postcard', version: 1, state: 'draft' });
    const stored = path.join(server.dataDir, 'packages', 'autumn-postcard', '1');
    expect(await entries(stored)).toEqual(['art', 'fonts', 'images', 'template.json']);
  });
});

describe('publishing keeps one consistent record of who and when', () => {
  test('two publishes of the same draft at once: one 200, the other 409; the record names the winner', async () => {
    const upload = await uploadZip(marketing, await zipFolder(await makePackage('race-postcard', 'Race')));
    expect(upload.status).toBe(201);
    const other = client(server.url, (await createKey(server, 'marketing', 'Marketing Max')).key);
    const results = await Promise.all([
      marketing('post', '/api/v1/templates/race-postcard/versions/1/publish'),
      other('post', '/api/v1/templates/race-postcard/versions/1/publish'),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const loser = results.find((r) => r.status === 409)!;
    expect(problem(loser).code).toBe('already_published');
    const winner = results.find((r) => r.status === 200)!.json as VersionSummary;
    const stored = (await versions('race-postcard')).versions[0]!;
    expect(stored.publishedBy).toBe(winner.publishedBy);
    expect(stored.publishedAt).toBe(winner.publishedAt);
  });

  test('a retired version is not shown as published and retired at once', async () => {
    const upload = await uploadZip(
      marketing,
      await zipFolder(await makePackage('revived-postcard', 'Revived')),
    );
    expect(upload.status).toBe(201);
    expect((await marketing('post', '/api/v1/templates/revived-postcard/versions/1/publish')).status).toBe(
      200,
    );
    expect((await marketing('post', '/api/v1/templates/revived-postcard/versions/1/retire')).status).toBe(
      200,
    );
    // Re-publishing a retired version may be refused (409) or allowed; if allowed, it is no longer retired.
    const again = await marketing('post', '/api/v1/templates/revived-postcard/versions/1/publish');
    const stored = (await versions('revived-postcard')).versions[0]!;
    if (again.status === 409) {
      expect(stored).toMatchObject({ state: 'retired', retiredBy: MARKETING_NAME });
    } else {
      expect(again.status).toBe(200);
      expect(stored).toMatchObject({ state: 'published', retiredBy: null, retiredAt: null });
    }
  });
});

describe('invalid packages: 422, every problem, nothing stored', () => {
  /** Everything an upload could leave behind. */
  async function snapshot() {
    const packagesDir = path.join(server.dataDir, 'packages');
    const packages: Record<string, string[]> = {};
    for (const id of await entries(packagesDir)) packages[id] = await entries(path.join(packagesDir, id));
    return {
      packages,
      staging: await entries(path.join(server.dataDir, 'staging')),
      dataDir: await entries(server.dataDir),
      templates: (await list(marketing)).map((t) => `${t.id}@${t.latest.version}`),
      postcardVersions: (await versions('postcard-6x4')).versions.length,
    };
  }

  async function refused(zip: Buffer, ids: string[]) {
    const before = await snapshot();
    const res = await uploadZip(marketing, zip);
    expect(res.status, res.bytes.toString()).toBe(422);
    const body = problem(res);
    expect(body.status).toBe(422);
    expect(body.errors?.length).toBeGreaterThan(0);
    for (const e of body.errors ?? []) {
      expect(typeof e.path).toBe('string');
      expect(e.rule).toMatch(/^[a-z_]+$/);
      expect(e.message.length).toBeGreaterThan(0);
    }
    expect(res.bytes.toString()).not.toMatch(/\bat .*\.(ts|js):\d+/); // never a stack trace
    // The uploaded zip is removed once the response has closed, which the client may see first.
    await expect.poll(() => entries(path.join(server.dataDir, 'staging'))).toEqual([]);
    const after = await snapshot();
    expect(after).toEqual(before);
    expect(after.staging).toEqual([]);
    for (const id of ids) {
      const v = await versions(id);
      expect(v.status, id).toBe(404);
      expect(v.versions).toEqual([]);
    }
    return body;
  }

  test('a zip with a ../evil.txt entry', async () => {
    const zip = await zipFolder(await makePackage('evil-postcard', 'Evil'), { traversal: true });
    expect(zip.includes(Buffer.from('../evil.txt'))).toBe(true);
    const body = await refused(zip, ['evil-postcard']);
    expect(body.errors!.some((e) => `${e.path} ${e.message}`.includes('../evil.txt'))).toBe(true);
    for (const dir of [server.dataDir, path.dirname(server.dataDir), path.join(server.dataDir, 'packages')])
      expect(existsSync(path.join(dir, 'evil.txt')), dir).toBe(false);
  });

  test('a zip with a symlink entry', async () => {
    const zip = await zipFolder(await makePackage('linked-postcard', 'Linked'), { symlink: true });
    const body = await refused(zip, ['linked-postcard']);
    expect(body.errors).toContainEqual(expect.objectContaining({ path: 'link', rule: 'link' }));
  });

  test('a zip with 10,000 files', async () => {
    const zip = await zipFolder(await makePackage('many-postcard', 'Many'), { manyFiles: 10_000 });
    const body = await refused(zip, ['many-postcard']);
    expect(body.errors).toContainEqual(expect.objectContaining({ rule: 'too_many_files' }));
  });

  test('not a zip', async () => {
    const body = await refused(Buffer.from('this is not a zip file, just some text\n'.repeat(20)), []);
    expect(body.errors).toContainEqual(expect.objectContaining({ rule: 'not_a_zip' }));
  });

  test('a template.json that is not JSON', async () => {
    const dir = await makePackage('broken-json', 'Broken');
    await writeFile(path.join(dir, 'template.json'), '{ "id": "broken-json", "name": ');
    const body = await refused(await zipFolder(dir), ['broken-json']);
    expect(body.errors).toEqual([expect.objectContaining({ path: 'template.json', rule: 'json' })]);
  });

  test('a template.json that breaks the schema: every problem listed', async () => {
    const dir = await makePackage('bad-manifest', 'Bad manifest', (m) => {
      (m.page as Record<string, unknown>).size = 'tabloid';
      (m.colors as Record<string, unknown>).navy = 'not a colour';
    });
    const body = await refused(await zipFolder(dir), ['bad-manifest']);
    expect(body.errors!.map((e) => e.path).sort()).toEqual(['colors.navy', 'page.size']);
  });

  test('a package with missing assets: each one named', async () => {
    const dir = await makePackage('missing-assets', 'Missing');
    const zip = await zipFolder(dir, { omit: ['images/coast-1875x1275.jpg', 'art/mark.svg'] });
    const body = await refused(zip, ['missing-assets']);
    expect(body.errors).toHaveLength(2);
    for (const file of ['images/coast-1875x1275.jpg', 'art/mark.svg']) {
      expect(body.errors).toContainEqual(
        expect.objectContaining({ rule: 'missing_asset', message: expect.stringContaining(file) }),
      );
    }
  });

  test('a zip without a template.json', async () => {
    const dir = await makePackage('no-manifest', 'No manifest');
    const body = await refused(await zipFolder(dir, { omit: ['template.json'] }), ['no-manifest']);
    expect(body.errors).toEqual([expect.objectContaining({ path: 'template.json', rule: 'not_found' })]);
  });

  test('an empty body is 415, not stored', async () => {
    const res = await marketing('post', '/api/v1/templates', {
      body: new Uint8Array(0),
      headers: { 'content-type': 'application/zip' },
    });
    expect(res.status).toBe(415);
    expect(problem(res).code).toBe('no_package');
  });

  test('the stored packages are the bundled ones plus the accepted uploads', async () => {
    const packagesDir = path.join(server.dataDir, 'packages');
    expect(await entries(packagesDir)).toEqual(
      [...BUNDLED, 'autumn-postcard', 'race-postcard', 'revived-postcard', 'spring-postcard'].sort(),
    );
    expect(await entries(path.join(packagesDir, 'postcard-6x4'))).toEqual(['1', '2']);
    const manifest = JSON.parse(
      await readFile(path.join(packagesDir, 'postcard-6x4', '2', 'template.json'), 'utf8'),
    ) as { name: string };
    expect(manifest.name).toBe(NEW_POSTCARD_NAME);
  });
});

describe('body limits', () => {
  test('a 1 MB JSON body to POST /api/v1/renders is 413 too_large', async () => {
    const big = { ...postcardRender(), fields: { message: 'x'.repeat(1024 * 1024) } };
    const res = await rep('post', '/api/v1/renders', { json: big });
    expect(res.status).toBe(413);
    const body = problem(res);
    expect(body.code).toBe('too_large');
    expect(body.status).toBe(413);
  });

  test('a body just under the limit is read and validated (422 for the long message, not 413)', async () => {
    const res = await rep('post', '/api/v1/renders', {
      json: { ...postcardRender(), fields: { message: 'x'.repeat(100_000) } },
    });
    expect(res.status).toBe(422);
    expect(problem(res).errors).toContainEqual(expect.objectContaining({ path: 'fields.message' }));
  });
});
