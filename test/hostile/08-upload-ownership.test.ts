/**
 * Uploaded images belong to their uploader and expire. An image input takes only the caller's own
 * upload (`upload:<sha256>` as the upload answered it); anything else — another rep's upload, a
 * profile photo, a stored PDF, any other blob, an expired upload, a malformed ref — is refused with
 * a 422 naming the field, on every face: the API's render, preview and fit, the pages' preview and
 * download. A list row carries no image at all: its cell is a rejected row naming the column.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanup } from '../support/files.js';
import { gradientJpeg } from '../support/images.js';
import { makePackage } from '../support/packages.js';
import { postcardFormValues, postcardRender } from '../support/records.js';
import {
  call,
  client,
  type CreatedKey,
  createKey,
  problem,
  profileForm,
  startTestServer,
  type TestServer,
  uploadZip,
} from '../support/server.js';
import { zipFolder } from '../support/zips.js';
import { type PageSession, signInPages } from '../support/pages.js';

const TEMPLATE = 'upload-card';
const LABEL = 'Street snapshot';
let server: TestServer;
const keys = {} as Record<'repA' | 'repB' | 'repA2' | 'marketing', CreatedKey>;
const sessions = {} as Record<'repA' | 'repB' | 'marketing', PageSession>;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Uploads an image through the pages, as the form's image control does; returns its ref. */
async function upload(session: PageSession, width = 240): Promise<string> {
  const form = new FormData();
  form.set(
    'image',
    new Blob([new Uint8Array(await gradientJpeg(width, width))], { type: 'image/jpeg' }),
    'a.jpg',
  );
  const res = await session.request('post', '/uploads', { body: form });
  expect(res.status, res.text).toBe(201);
  return (res.json as { ref: string }).ref;
}

const renderBody = (snapshot: unknown) => {
  const body = postcardRender(TEMPLATE);
  return { ...body, fields: { ...body.fields, snapshot } };
};
const formValues = (snapshot: string) => ({ ...postcardFormValues(), 'fields.snapshot': snapshot });

/** Every face a rep can name an image on: what each answers, and the field its refusal names. */
async function everyFace(who: 'repA' | 'repB', snapshot: string) {
  const key = keys[who].key;
  const session = sessions[who];
  const render = await call(server.url, 'post', '/api/v1/renders', { key, json: renderBody(snapshot) });
  const preview = await call(server.url, 'post', '/api/v1/previews', { key, json: renderBody(snapshot) });
  const fit = await call(server.url, 'post', '/api/v1/previews/fit', { key, json: renderBody(snapshot) });
  const pagePreview = await session.request('post', `/make/${TEMPLATE}/preview`, {
    json: { version: 1, page: 2, values: formValues(snapshot) },
  });
  const download = await session.request('post', `/make/${TEMPLATE}/pdf`, {
    form: { _csrf: session.csrf, version: '1', ...formValues(snapshot) },
  });
  return { render, preview, fit, pagePreview, download };
}

/** Asserts every face refused the ref with a 422 naming the field (by input name; by label on the pages). */
function expectRefusedEverywhere(faces: Awaited<ReturnType<typeof everyFace>>) {
  for (const name of ['render', 'preview', 'fit'] as const) {
    const res = faces[name];
    expect(res.status, `${name}: ${res.bytes.toString()}`).toBe(422);
    expect(problem(res).errors, name).toContainEqual(
      expect.objectContaining({ path: 'fields.snapshot', message: expect.stringContaining(LABEL) }),
    );
  }
  expect(faces.pagePreview.status, faces.pagePreview.text).toBe(422);
  expect((faces.pagePreview.json as { problems: unknown[] }).problems).toContainEqual(
    expect.objectContaining({ path: 'fields.snapshot', message: expect.stringContaining(LABEL) }),
  );
  expect(faces.download.status).toBe(422);
  const error = /id="in-fields-snapshot-error"[^>]*><p>([^<]*)</.exec(faces.download.text)?.[1] ?? '';
  expect(error).toContain(LABEL);
  expect(error).not.toMatch(/upload:|[0-9a-f]{64}/);
}

beforeAll(async () => {
  server = await startTestServer({ env: { PLATEN_BATCH_WORKERS: '1' } });
  keys.repA = await createKey(server, 'rep', 'Rep A', 'rep-a');
  keys.repA2 = await createKey(server, 'rep', 'Rep A on a second key', 'rep-a');
  keys.repB = await createKey(server, 'rep', 'Rep B', 'rep-b');
  keys.marketing = await createKey(server, 'marketing', 'Marketing');
  for (const who of ['repA', 'repB'] as const) {
    const profile = await call(server.url, 'put', '/api/v1/reps/me', {
      key: keys[who].key,
      body: profileForm(undefined, await gradientJpeg(400, 400)),
    });
    expect(profile.status).toBe(200);
  }
  const dir = await makePackage(TEMPLATE, 'Upload card', (m) => {
    (m.fields as Record<string, unknown>).snapshot = { type: 'image', label: LABEL };
    (m.prospect as Record<string, unknown>).logo = { type: 'image', label: 'Company logo' };
    // With a photo on the piece, a job holds its rep's photo: a list must not reach it.
    (m.rep as Record<string, unknown>).photo = { type: 'image', label: 'Your photo' };
    const [front, back] = m.pages as { elements: unknown[] }[];
    back!.elements.push({
      type: 'image',
      name: 'snapshot',
      input: 'fields.snapshot',
      x: 300,
      y: 80,
      w: 60,
      h: 60,
    });
    front!.elements.push({ type: 'image', name: 'photo', input: 'rep.photo', x: 20, y: 200, w: 60, h: 60 });
    front!.elements.push({
      type: 'image',
      name: 'logo',
      input: 'prospect.logo',
      x: 340,
      y: 200,
      w: 60,
      h: 60,
    });
  });
  const marketing = client(server.url, keys.marketing.key);
  expect((await uploadZip(marketing, await zipFolder(dir))).status).toBe(201);
  expect((await marketing('post', `/api/v1/templates/${TEMPLATE}/versions/1/publish`)).status).toBe(200);
  for (const who of ['repA', 'repB', 'marketing'] as const)
    sessions[who] = await signInPages(server.url, keys[who].key);
});

afterEach(() => vi.useRealTimers());

afterAll(async () => {
  await server?.close();
  await cleanup();
});

describe('an uploaded image', () => {
  it('is its uploader’s: rep A prints it on every face', async () => {
    const ref = await upload(sessions.repA);
    const faces = await everyFace('repA', ref);
    expect(faces.render.status).toBe(201);
    expect(faces.preview.status).toBe(200);
    expect(faces.fit.status).toBe(200);
    expect(faces.pagePreview.status).toBe(200);
    expect(faces.download.status).toBe(200);
    expect(faces.download.headers.get('content-type')).toBe('application/pdf');
    // A rep is one person whichever of their keys they use.
    const second = await call(server.url, 'post', '/api/v1/renders', {
      key: keys.repA2.key,
      json: renderBody(ref),
    });
    expect(second.status).toBe(201);
  });

  it('is refused to another rep, on every face', async () => {
    const ref = await upload(sessions.repA);
    expectRefusedEverywhere(await everyFace('repB', ref));
    // Uploading the same picture makes it rep B's too.
    const own = await upload(sessions.repB);
    expect((await everyFace('repB', own)).render.status).toBe(201);
  });

  it('is refused to marketing and admins too: an upload is its uploader’s alone', async () => {
    const ref = await upload(sessions.repA);
    const preview = {
      templateId: TEMPLATE,
      prospect: postcardRender().prospect,
      fields: { message: 'Hi', snapshot: ref },
      rep: { name: 'Hand Typed', phone: '(207) 555-0100', email: 'hand@typed.example' },
    };
    for (const key of [keys.marketing.key, server.adminKey]) {
      const res = await call(server.url, 'post', '/api/v1/previews/fit', { key, json: preview });
      expect(res.status).toBe(422);
      expect(problem(res).errors).toContainEqual(expect.objectContaining({ path: 'fields.snapshot' }));
    }
    const mine = await upload(sessions.marketing);
    const res = await call(server.url, 'post', '/api/v1/previews/fit', {
      key: keys.marketing.key,
      json: { ...preview, fields: { message: 'Hi', snapshot: mine } },
    });
    expect(res.status).toBe(200);
  });

  it('expires after 24 hours', async () => {
    const ref = await upload(sessions.repA);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 23 * 3_600_000);
    const fresh = await call(server.url, 'post', '/api/v1/previews/fit', {
      key: keys.repA.key,
      json: renderBody(ref),
    });
    expect(fresh.status).toBe(200);
    vi.setSystemTime(Date.now() + 2 * 3_600_000);
    const stale = await call(server.url, 'post', '/api/v1/previews/fit', {
      key: keys.repA.key,
      json: renderBody(ref),
    });
    expect(stale.status).toBe(422);
    expect(problem(stale).errors).toContainEqual(
      expect.objectContaining({ path: 'fields.snapshot', message: expect.stringMatching(/24 hours/) }),
    );
  });
});

describe('a reference to anything else', () => {
  it('another rep’s profile photo, a stored PDF, or a malformed ref is refused with a 422 naming the field', async () => {
    const photo = await call(server.url, 'get', '/api/v1/reps/me/photo', { key: keys.repA.key });
    expect(photo.status).toBe(200);
    const ownPhoto = await call(server.url, 'get', '/api/v1/reps/me/photo', { key: keys.repB.key });
    const render = await call(server.url, 'post', '/api/v1/renders', {
      key: keys.repB.key,
      json: postcardRender(),
    });
    expect(render.status).toBe(201);
    const audit = await call(server.url, 'get', render.headers.get('location')!, { key: keys.repB.key });
    const pdf = (audit.json as { outputSha256: string }).outputSha256;
    const refs = [
      `upload:${sha256(photo.bytes)}`,
      `profile:${sha256(ownPhoto.bytes)}`,
      `upload:${pdf}`,
      `upload:${'0'.repeat(64)}`,
      'upload:not-a-hash',
      'https://example.com/cat.jpg',
      '../../data/admin.key',
    ];
    for (const ref of refs) expectRefusedEverywhere(await everyFace('repB', ref));
  });

  it('a non-text value for an image input is refused naming the field', async () => {
    const res = await call(server.url, 'post', '/api/v1/renders', {
      key: keys.repB.key,
      json: renderBody(true),
    });
    expect(res.status).toBe(422);
    expect(problem(res).errors?.map((e) => e.path)).toContain('fields.snapshot');
  });
});

describe('a list', () => {
  it('carries no images: a row naming one is rejected, naming its column; the others render', async () => {
    const photo = await call(server.url, 'get', '/api/v1/reps/me/photo', { key: keys.repA.key });
    const own = await upload(sessions.repA);
    const list = [
      'First Name,Last Name,Street Address,City,State,ZIP,Logo',
      'Pat,Lee,1 Main St,Portland,ME,04101,',
      `Sam,Roe,2 Main St,Portland,ME,04101,profile:${sha256(photo.bytes)}`,
      `Ann,Fox,3 Main St,Portland,ME,04101,${own}`,
    ].join('\r\n');
    const form = new FormData();
    form.set('templateId', TEMPLATE);
    form.set('csv', new Blob([`${list}\r\n`], { type: 'text/csv' }), 'list.csv');
    const created = await call(server.url, 'post', '/api/v1/jobs', { key: keys.repA.key, body: form });
    expect(created.status).toBe(202);
    const id = (created.json as { id: string }).id;
    let job = { state: '', rendered: 0, rejected: 0 };
    for (let i = 0; i < 300 && job.state !== 'done'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = (await call(server.url, 'get', `/api/v1/jobs/${id}`, { key: keys.repA.key })).json as typeof job;
    }
    expect(job).toMatchObject({ state: 'done', rendered: 1, rejected: 2 });
    const report = await call(server.url, 'get', `/api/v1/jobs/${id}/errors.csv`, { key: keys.repA.key });
    const lines = report.bytes.toString('utf8').trim().split(/\r?\n/).slice(1);
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/,Logo,/);
  });
});
