/**
 * Persistence: everything a first server wrote (keys, template versions and their states, rep
 * profiles with photos, the audit trail and its PDFs) is there, unchanged, after a restart on the
 * same data directory; and the first-start work (admin key, bundled templates) is not done twice.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanup, entries } from '../support/files.js';
import { makePackage } from '../support/packages.js';
import { postcardRender } from '../support/records.js';
import { BUNDLED } from '../support/repo.js';
import {
  client,
  type CreatedKey,
  createKey,
  profileForm,
  type Reply,
  startTestServer,
  type TestServer,
  uploadZip,
} from '../support/server.js';
import { zipFolder } from '../support/zips.js';

const TEMPLATE = 'spring-postcard';

let first: TestServer;
let second: TestServer | undefined;
let adminKeyFile: string;
let marketingKey: CreatedKey;
let repKey: CreatedKey;
let revokedKey: CreatedKey;
let renderLocation: string;
let renderedPdf: Buffer;
let photoBytes: Buffer;
let photoBefore: Buffer;

/** What the first server answered, to compare with the second. */
const before: Record<string, unknown> = {};

async function state(server: TestServer): Promise<Record<string, unknown>> {
  const admin = client(server.url, server.adminKey);
  const marketing = client(server.url, marketingKey.key);
  const rep = client(server.url, repKey.key);
  const json = async (res: Promise<Reply>) => {
    const r = await res;
    expect(r.status, r.bytes.toString()).toBe(200);
    return r.json;
  };
  const out: Record<string, unknown> = {
    keys: await json(admin('get', '/api/v1/keys')),
    reps: await json(admin('get', '/api/v1/reps')),
    profile: await json(rep('get', '/api/v1/reps/me')),
    repTemplates: await json(rep('get', '/api/v1/templates')),
    allTemplates: await json(marketing('get', '/api/v1/templates')),
    template: await json(rep('get', `/api/v1/templates/${TEMPLATE}`)),
    audit: await json(marketing('get', renderLocation)),
    auditList: await json(rep('get', '/api/v1/renders')),
  };
  for (const id of [...BUNDLED, TEMPLATE])
    out[`versions:${id}`] = await json(marketing('get', `/api/v1/templates/${id}/versions`));
  return out;
}

beforeAll(async () => {
  first = await startTestServer();
  adminKeyFile = await readFile(path.join(first.dataDir, 'admin.key'), 'utf8');
  marketingKey = await createKey(first, 'marketing', 'Marketing Mia');
  repKey = await createKey(first, 'rep', 'Rep Dana', 'dana');
  revokedKey = await createKey(first, 'rep', 'Former rep', 'former');
  const admin = client(first.url, first.adminKey);
  expect((await admin('delete', `/api/v1/keys/${revokedKey.id}`)).status).toBe(204);

  const marketing = client(first.url, marketingKey.key);
  const rep = client(first.url, repKey.key);

  photoBytes = await sharp({
    create: { width: 900, height: 1200, channels: 3, background: { r: 40, g: 90, b: 140 } },
  })
    .jpeg()
    .toBuffer();
  const profile = await rep('put', '/api/v1/reps/me', { body: profileForm(undefined, photoBytes) });
  expect(profile.status, profile.bytes.toString()).toBe(200);
  expect(profile.json).toMatchObject({ id: 'dana', name: 'Dana Whitcomb', photo: '/api/v1/reps/me/photo' });

  const upload = await uploadZip(marketing, await zipFolder(await makePackage(TEMPLATE, 'Spring postcard')));
  expect(upload.status, upload.bytes.toString()).toBe(201);
  const publish = await marketing('post', `/api/v1/templates/${TEMPLATE}/versions/1/publish`);
  expect(publish.status, publish.bytes.toString()).toBe(200);

  const render = await rep('post', '/api/v1/renders', { json: postcardRender(TEMPLATE) });
  expect(render.status, render.bytes.toString()).toBe(201);
  expect(render.bytes.subarray(0, 5).toString()).toBe('%PDF-');
  renderedPdf = render.bytes;
  renderLocation = render.headers.get('location')!;
  expect(renderLocation).toMatch(/^\/api\/v1\/renders\/[0-9a-f]{16}$/);

  Object.assign(before, await state(first));
  photoBefore = (await rep('get', '/api/v1/reps/me/photo')).bytes;
  await first.close();

  second = await startTestServer({ dataDir: first.dataDir });
});

afterAll(async () => {
  await second?.close();
  await cleanup();
});

describe('a restart on the same data directory', () => {
  test('does not regenerate the admin key', async () => {
    const file = path.join(first.dataDir, 'admin.key');
    expect(await readFile(file, 'utf8')).toBe(adminKeyFile);
    expect(second!.adminKey).toBe(first.adminKey);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const keys = (before.keys as { keys: { role: string }[] }).keys;
    expect(keys.filter((k) => k.role === 'admin')).toHaveLength(1);
  });

  test('the old keys still work, and a revoked key stays revoked', async () => {
    const s = second!;
    expect((await client(s.url, s.adminKey)('get', '/api/v1/keys')).status).toBe(200);
    expect(
      (await client(s.url, marketingKey.key)('get', `/api/v1/templates/${TEMPLATE}/versions`)).status,
    ).toBe(200);
    expect((await client(s.url, repKey.key)('get', '/api/v1/reps/me')).status).toBe(200);
    const gone = await client(s.url, revokedKey.key)('get', '/api/v1/templates');
    expect(gone.status).toBe(401);
  });

  test('keys, templates, versions, profile and audit records are all unchanged', async () => {
    const after = await state(second!);
    expect(after).toEqual(before);
    // And they are what the first server was told, not merely equal.
    expect(after.template).toMatchObject({ templateId: TEMPLATE, version: 1, state: 'published' });
    expect((after[`versions:${TEMPLATE}`] as { versions: unknown[] }).versions).toEqual([
      expect.objectContaining({
        version: 1,
        state: 'published',
        createdBy: 'Marketing Mia',
        publishedBy: 'Marketing Mia',
        renders: 1,
      }),
    ]);
    expect(after.profile).toMatchObject({
      id: 'dana',
      name: 'Dana Whitcomb',
      title: 'Senior Agent',
      phone: '(207) 555-0199',
      email: 'dana.whitcomb@harbormutual.example',
      licenseNumber: 'ME-448812',
      photo: '/api/v1/reps/me/photo',
    });
    const keys = (after.keys as { keys: { id: string; revokedAt: string | null }[] }).keys;
    expect(keys.map((k) => k.id)).toEqual(
      expect.arrayContaining([marketingKey.id, repKey.id, revokedKey.id]),
    );
    expect(keys.find((k) => k.id === revokedKey.id)?.revokedAt).toMatch(/^\d{4}-/);
  });

  test('the profile photo is the same bytes', async () => {
    const photo = await client(second!.url, repKey.key)('get', '/api/v1/reps/me/photo');
    expect(photo.status).toBe(200);
    expect(photo.headers.get('content-type')).toMatch(/^image\/jpeg/);
    expect(photo.bytes.length).toBeGreaterThan(1000);
    expect(photo.bytes.equals(photoBefore)).toBe(true);
    // Normalized (re-encoded, metadata stripped), not the upload as sent.
    expect(photo.bytes.equals(photoBytes)).toBe(false);
  });

  test('the audit record and its PDF are there, byte for byte', async () => {
    const rep = client(second!.url, repKey.key);
    const audit = await rep('get', renderLocation);
    expect(audit.status).toBe(200);
    const record = audit.json as {
      id: string;
      repId: string;
      keyId: string;
      templateId: string;
      version: number;
      outputSha256: string;
      recordSha256: string;
      bytes: number;
      pdf: string;
    };
    expect(record).toMatchObject({
      repId: 'dana',
      keyId: repKey.id,
      templateId: TEMPLATE,
      version: 1,
      bytes: renderedPdf.length,
      pdf: `${renderLocation}/pdf`,
    });
    expect(record.outputSha256).toBe(createHash('sha256').update(renderedPdf).digest('hex'));
    expect(record.recordSha256).toMatch(/^[0-9a-f]{64}$/);
    const pdf = await rep('get', record.pdf);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toMatch(/^application\/pdf/);
    expect(pdf.bytes.equals(renderedPdf)).toBe(true);
  });

  test('bundled templates were not loaded a second time', async () => {
    for (const id of BUNDLED) {
      const versions = (before[`versions:${id}`] as { versions: { version: number; createdBy: string }[] })
        .versions;
      expect(
        versions.map((v) => [v.version, v.createdBy]),
        id,
      ).toEqual([[1, 'bundled']]);
      expect(await entries(path.join(second!.dataDir, 'packages', id)), id).toEqual(['1']);
    }
    const all = (before.allTemplates as { templates: { id: string }[] }).templates.map((t) => t.id);
    expect(all).toEqual([...BUNDLED, TEMPLATE].sort());
    expect(await entries(path.join(second!.dataDir, 'staging'))).toEqual([]);
  });

  test('the restarted server renders from the stored package and adds to the same trail', async () => {
    const rep = client(second!.url, repKey.key);
    const render = await rep('post', '/api/v1/renders', { json: postcardRender(TEMPLATE) });
    expect(render.status, render.bytes.toString()).toBe(201);
    expect(render.bytes.subarray(0, 5).toString()).toBe('%PDF-');
    const list = await rep('get', `/api/v1/renders?template=${TEMPLATE}`);
    const renders = (list.json as { renders: { id: string; version: number }[] }).renders;
    expect(renders).toHaveLength(2);
    expect(renders.map((r) => `/api/v1/renders/${r.id}`)).toContain(renderLocation);
    const versions = await client(second!.url, marketingKey.key)(
      'get',
      `/api/v1/templates/${TEMPLATE}/versions`,
    );
    expect((versions.json as { versions: { renders: number }[] }).versions[0]?.renders).toBe(2);
  });
});
