/**
 * Rep profiles over HTTP: the rep's own profile (/api/v1/reps/me), validation of every field, photo
 * uploads normalized with sharp (upright, metadata stripped, raster only, bounded), the low-resolution
 * warning, the admin's view of any profile, and a profile change reaching the rep's next PDF.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isImageXObject, pdfObjects, pdfText } from '../support/pdf.js';
import { countBlobs } from '../support/data-dir.js';
import { cleanup } from '../support/files.js';
import { gradientJpeg, halfTransparentPng, pixelAt, solidPng } from '../support/images.js';
import { sampleRecord } from '../support/records.js';
import { type JsonObject, putProfile, request } from '../support/request.js';
import { createKey, fullProfile, startTestServer, type TestServer } from '../support/server.js';
import { PHOTO_MIN_PX } from '../../src/model/manifest.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.close();
  await cleanup();
});

/** A fresh rep key over its own (empty) profile, so tests do not share state. */
async function newRep(repId: string): Promise<string> {
  return (await createKey(server, 'rep', `key of ${repId}`, repId)).key;
}

const getMe = (key: string) => request(server, 'GET', '/api/v1/reps/me', { key });
const jpeg = (bytes: Buffer) => ({ bytes, type: 'image/jpeg', filename: 'photo.jpg' });
const png = (bytes: Buffer) => ({ bytes, type: 'image/png', filename: 'photo.png' });

/** Pixel sizes ("900x700") of the image XObjects in a PDF. */
async function imageSizes(pdf: Buffer): Promise<string[]> {
  const objects = [...(await pdfObjects(pdf)).objects.values()].filter(isImageXObject);
  return objects.map((o) => {
    const dict = o.value as Record<string, unknown>;
    return `${String(dict['/Width'])}x${String(dict['/Height'])}`;
  });
}

describe('GET /api/v1/reps/me', () => {
  it('returns an empty profile for a rep who has never saved one', async () => {
    const key = await newRep('empty-rep');
    const reply = await getMe(key);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    const profile = reply.json();
    expect(profile).toMatchObject({
      id: 'empty-rep',
      name: '',
      title: '',
      phone: '',
      email: '',
      licenseNumber: '',
      photo: null,
    });
    expect(Number.isNaN(Date.parse(profile.updatedAt as string))).toBe(false);
    // No photo yet.
    const photo = await request(server, 'GET', '/api/v1/reps/me/photo', { key });
    expect(photo.status).toBe(404);
    expect(photo.json().code).toBe('not_found');
  });

  it('is refused without a key (401) and for marketing and admin keys (403: they have no profile)', async () => {
    expect((await request(server, 'GET', '/api/v1/reps/me')).status).toBe(401);
    const marketing = await createKey(server, 'marketing', 'marketing');
    expect((await getMe(marketing.key)).status).toBe(403);
    expect((await getMe(server.adminKey)).status).toBe(403);
  });
});

describe('PUT /api/v1/reps/me (multipart)', () => {
  it('sets name, title, phone, email and licence number, and GET returns them', async () => {
    const key = await newRep('profile-rep');
    const fields = {
      name: 'Odette Marchetti',
      title: 'Senior Advisor',
      // Within the 24 characters the templates print.
      phone: '+1 207 555-0111 ext. 42',
      email: 'odette@agency.example',
      licenseNumber: 'ME-PC-777001',
    };
    const reply = await putProfile(server, key, fields);
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({ id: 'profile-rep', ...fields, photo: null });
    expect((await getMe(key)).json()).toMatchObject({ id: 'profile-rep', ...fields });
  });

  it('changes only the fields sent, and trims them', async () => {
    const key = await newRep('partial-rep');
    expect((await putProfile(server, key, fullProfile('Bram Oyelaran'))).status).toBe(200);
    const reply = await putProfile(server, key, { title: '  Branch Manager  ' });
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({
      name: 'Bram Oyelaran',
      title: 'Branch Manager',
      phone: '(207) 555-0199',
      licenseNumber: 'ME-PC-123456',
    });
  });

  it('refuses a bad email with 422 naming the field, and changes nothing', async () => {
    const key = await newRep('email-rep');
    await putProfile(server, key, fullProfile('Ilse Dunmore'));
    const reply = await putProfile(server, key, { name: 'Changed Name', email: 'ilse-at-agency' });
    expect(reply.status).toBe(422);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = reply.json();
    expect(problem.code).toBe('invalid_request');
    expect(problem.errors).toEqual([expect.objectContaining({ path: 'email' })]);
    const profile = (await getMe(key)).json();
    expect(profile.name).toBe('Ilse Dunmore');
    expect(profile.email).toBe('ilse.dunmore@agency.example');
  });

  it('refuses a bad phone number with 422 naming the field', async () => {
    const key = await newRep('phone-rep');
    const reply = await putProfile(server, key, { phone: 'call me maybe' });
    expect(reply.status).toBe(422);
    expect(reply.json().errors).toEqual([expect.objectContaining({ path: 'phone' })]);
    expect((await getMe(key)).json().phone).toBe('');
  });

  it('names every bad field at once', async () => {
    const key = await newRep('many-bad-rep');
    const reply = await putProfile(server, key, { phone: 'x', email: 'y', name: 'N'.repeat(101) });
    expect(reply.status).toBe(422);
    const paths = (reply.json().errors as JsonObject[]).map((e) => e.path).sort();
    expect(paths).toEqual(['email', 'name', 'phone']);
  });

  it('refuses an unknown form field with 422 unknown_key naming it', async () => {
    const key = await newRep('unknown-field-rep');
    const reply = await putProfile(server, key, { name: 'Someone', nickname: 'Ace' });
    expect(reply.status).toBe(422);
    expect(reply.json().errors).toEqual([expect.objectContaining({ path: 'nickname', rule: 'unknown_key' })]);
    expect((await getMe(key)).json().name).toBe('');
  });

  it('refuses a form field trying to set the photo hash directly', async () => {
    const key = await newRep('photo-hash-rep');
    const reply = await putProfile(server, key, { photoSha256: 'a'.repeat(64) });
    expect(reply.status).toBe(422);
    expect(reply.json().errors).toEqual([
      expect.objectContaining({ path: 'photoSha256', rule: 'unknown_key' }),
    ]);
  });
});

describe('profile photos', () => {
  it('turns a JPEG with EXIF orientation 6 upright and strips its metadata', async () => {
    const key = await newRep('exif-rep');
    // Stored 900 wide × 600 high; orientation 6 means "rotate 90° clockwise to display".
    const upload = await gradientJpeg(900, 600, { orientation: 6, gps: true });
    const before = await sharp(upload).metadata();
    expect([before.width, before.height, before.orientation]).toEqual([900, 600, 6]);
    expect(before.exif?.includes('PlatenTestCam')).toBe(true);

    const reply = await putProfile(server, key, {}, jpeg(upload));
    expect(reply.status).toBe(200);
    expect(reply.json().photo).toBe('/api/v1/reps/me/photo');

    const photo = await request(server, 'GET', '/api/v1/reps/me/photo', { key });
    expect(photo.status).toBe(200);
    expect(photo.headers.get('content-type')).toBe('image/jpeg');
    const after = await sharp(photo.body).metadata();
    expect(after.format).toBe('jpeg');
    // Upright: the displayed size, width and height swapped relative to the stored pixels.
    expect([after.width, after.height]).toEqual([600, 900]);
    expect(after.orientation === undefined || after.orientation === 1).toBe(true);
    // No EXIF (camera, GPS), XMP or IPTC left.
    expect(after.exif).toBeUndefined();
    expect(after.xmp).toBeUndefined();
    expect(after.iptc).toBeUndefined();
    expect(photo.body.includes('PlatenTestCam')).toBe(false);
    // The pixels really turned clockwise: the stored bottom-left corner (red 0, green 255) is now
    // the top-left, and the stored top-left (red 0, green 0) the top-right.
    const [r1, g1] = await pixelAt(photo.body, 2, 2);
    const [r2, g2] = await pixelAt(photo.body, 597, 2);
    const [r3, g3] = await pixelAt(photo.body, 2, 897);
    expect(r1).toBeLessThan(40);
    expect(g1).toBeGreaterThan(215);
    expect(r2).toBeLessThan(40);
    expect(g2).toBeLessThan(40);
    expect(r3).toBeGreaterThan(215);
    expect(g3).toBeGreaterThan(215);
  });

  it('accepts a PNG with alpha and stores it as a JPEG flattened onto white', async () => {
    const key = await newRep('alpha-rep');
    const reply = await putProfile(server, key, {}, png(await halfTransparentPng(700, 700)));
    expect(reply.status).toBe(200);
    const photo = await request(server, 'GET', '/api/v1/reps/me/photo', { key });
    const meta = await sharp(photo.body).metadata();
    expect(meta.format).toBe('jpeg');
    expect([meta.width, meta.height]).toEqual([700, 700]);
    expect(meta.hasAlpha).toBe(false);
    const [lr, lg, lb] = await pixelAt(photo.body, 50, 350);
    const [rr, rg, rb] = await pixelAt(photo.body, 650, 350);
    expect(Math.min(lr, lg, lb)).toBeGreaterThan(245); // transparent → white, not black
    expect(rb).toBeGreaterThan(190);
    expect(Math.max(rr, rg)).toBeLessThan(80);
  });

  it('scales a large photo down to at most 1800 px on its longest side', async () => {
    const key = await newRep('large-photo-rep');
    const reply = await putProfile(server, key, {}, jpeg(await gradientJpeg(2400, 1600)));
    expect(reply.status).toBe(200);
    const photo = await request(server, 'GET', '/api/v1/reps/me/photo', { key });
    const meta = await sharp(photo.body).metadata();
    expect([meta.width, meta.height]).toEqual([1800, 1200]);
  });

  const refused = async (repId: string, file: { bytes: Buffer; type: string; filename?: string }) => {
    const key = await newRep(repId);
    const blobs = await countBlobs(server.dataDir);
    const reply = await putProfile(server, key, { name: 'Kept Out' }, file);
    expect(reply.status).toBe(422);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = reply.json();
    expect(problem.errors).toEqual([expect.objectContaining({ path: 'photo', rule: 'image' })]);
    // Nothing changed and nothing was stored.
    const profile = (await getMe(key)).json();
    expect(profile.photo).toBeNull();
    expect(profile.name).toBe('');
    expect(await countBlobs(server.dataDir)).toBe(blobs);
    return problem;
  };

  it('refuses an SVG upload (raster only), even when it claims to be a PNG', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="800">' +
        '<image href="file:///etc/passwd" width="800" height="800"/><rect width="800" height="800"/></svg>',
    );
    const problem = await refused('svg-rep', { bytes: svg, type: 'image/svg+xml', filename: 'me.svg' });
    expect(problem.detail).toMatch(/svg/i);
    await refused('svg-as-png-rep', { bytes: svg, type: 'image/png', filename: 'me.png' });
  });

  it('refuses bytes that are not an image', async () => {
    await refused('garbage-rep', jpeg(Buffer.from('this is not a photo, just some bytes '.repeat(20))));
  });

  it('refuses a truncated JPEG', async () => {
    const whole = await gradientJpeg(800, 800);
    await refused('truncated-rep', jpeg(whole.subarray(0, Math.floor(whole.length / 2))));
  });

  it('refuses an image over the pixel limit (a 10000×6000 single-colour PNG: a small file, 60 MP)', async () => {
    const bomb = await solidPng(10_000, 6_000);
    expect(bomb.length).toBeLessThan(1_000_000);
    await refused('bomb-rep', png(bomb));
  });

  it('refuses a photo smaller than the profile takes, in words', async () => {
    const key = await newRep('small-photo-rep');
    const reply = await putProfile(server, key, {}, jpeg(await gradientJpeg(200, 200)));
    expect(reply.status).toBe(422);
    expect(reply.json().errors).toEqual([
      {
        path: 'photo',
        rule: 'image_too_small',
        message: `the photo is 200 × 200 pixels; it needs at least ${PHOTO_MIN_PX} × ${PHOTO_MIN_PX}`,
      },
    ]);
    expect((await getMe(key)).json().photo).toBeNull();
  });

  it('refuses a licence number the templates would refuse, and keeps the one saved', async () => {
    const key = await newRep('lower-licence-rep');
    expect((await putProfile(server, key, { licenseNumber: 'ME-1234' })).status).toBe(200);
    const reply = await putProfile(server, key, { licenseNumber: 'me-1234', name: 'Lower Case' });
    expect(reply.status).toBe(422);
    expect(reply.json().errors).toEqual([
      expect.objectContaining({
        path: 'licenseNumber',
        message: '4 to 20 capital letters, digits or hyphens, such as ME-1234567',
      }),
    ]);
    expect((await getMe(key)).json()).toMatchObject({ licenseNumber: 'ME-1234', name: '' });
  });

  it('replaces the photo on a new upload and keeps it across a fields-only update', async () => {
    const key = await newRep('replace-photo-rep');
    await putProfile(server, key, {}, jpeg(await gradientJpeg(640, 640)));
    await putProfile(server, key, {}, jpeg(await gradientJpeg(720, 720)));
    await putProfile(server, key, { name: 'Still Pictured' });
    const photo = await request(server, 'GET', '/api/v1/reps/me/photo', { key });
    const meta = await sharp(photo.body).metadata();
    expect([meta.width, meta.height]).toEqual([720, 720]);
  });
});

describe('admin: /api/v1/reps/:id', () => {
  it("reads and updates any rep's profile, and the rep sees the change", async () => {
    const key = await newRep('managed-rep');
    await putProfile(server, key, fullProfile('Wen Castellanos'));

    const read = await request(server, 'GET', '/api/v1/reps/managed-rep', { key: server.adminKey });
    expect(read.status).toBe(200);
    expect(read.json()).toMatchObject({ id: 'managed-rep', name: 'Wen Castellanos', photo: null });

    const update = await putProfile(
      server,
      server.adminKey,
      { title: 'Regional Director', licenseNumber: 'ME-RD-900900' },
      jpeg(await gradientJpeg(600, 600)),
      '/api/v1/reps/managed-rep',
    );
    expect(update.status).toBe(200);
    expect(update.json()).toMatchObject({
      id: 'managed-rep',
      name: 'Wen Castellanos',
      title: 'Regional Director',
      licenseNumber: 'ME-RD-900900',
      photo: '/api/v1/reps/managed-rep/photo',
    });

    const mine = (await getMe(key)).json();
    expect(mine).toMatchObject({ title: 'Regional Director', licenseNumber: 'ME-RD-900900' });
    expect(mine.photo).toBe('/api/v1/reps/me/photo');
    const adminPhoto = await request(server, 'GET', '/api/v1/reps/managed-rep/photo', {
      key: server.adminKey,
    });
    const repPhoto = await request(server, 'GET', '/api/v1/reps/me/photo', { key });
    expect(adminPhoto.status).toBe(200);
    expect(adminPhoto.body.equals(repPhoto.body)).toBe(true);

    const list = await request(server, 'GET', '/api/v1/reps', { key: server.adminKey });
    expect(list.status).toBe(200);
    expect((list.json().reps as JsonObject[]).find((r) => r.id === 'managed-rep')).toMatchObject({
      title: 'Regional Director',
    });
  });

  it('validates an admin update like a rep one', async () => {
    const reply = await putProfile(
      server,
      server.adminKey,
      { email: 'nope' },
      undefined,
      '/api/v1/reps/x-rep',
    );
    expect(reply.status).toBe(422);
    expect(reply.json().errors).toEqual([expect.objectContaining({ path: 'email' })]);
  });

  it('creates a profile for a new rep id on PUT and 404s a rep that does not exist on GET', async () => {
    const missing = await request(server, 'GET', '/api/v1/reps/nobody-here', { key: server.adminKey });
    expect(missing.status).toBe(404);
    expect(missing.json().code).toBe('not_found');
    const created = await putProfile(
      server,
      server.adminKey,
      { name: 'New Hire' },
      undefined,
      '/api/v1/reps/new-hire',
    );
    expect(created.status).toBe(200);
    expect(created.json()).toMatchObject({ id: 'new-hire', name: 'New Hire' });
    const read = await request(server, 'GET', '/api/v1/reps/new-hire', { key: server.adminKey });
    expect(read.json()).toMatchObject({ id: 'new-hire', name: 'New Hire' });
  });

  it("refuses reps (403) on another rep's profile, and rejects a malformed rep id (422)", async () => {
    const key = await newRep('nosy-rep');
    expect((await request(server, 'GET', '/api/v1/reps/managed-rep', { key })).status).toBe(403);
    expect(
      (await putProfile(server, key, { name: 'Impostor' }, undefined, '/api/v1/reps/managed-rep')).status,
    ).toBe(403);
    expect((await request(server, 'GET', '/api/v1/reps', { key })).status).toBe(403);
    const bad = await request(server, 'GET', '/api/v1/reps/..%2Fetc', { key: server.adminKey });
    expect(bad.status).toBe(422);
    expect(bad.json().errors).toEqual([expect.objectContaining({ path: 'params.id' })]);
  });
});

describe("a profile change reaches the rep's next render", () => {
  it('prints the current profile in the PDF, never the previous one', async () => {
    const key = await newRep('render-profile-rep');
    const sample = await sampleRecord('insurance-brochure');
    const body = { templateId: 'insurance-brochure', prospect: sample.prospect, fields: sample.fields };

    await putProfile(server, key, { ...fullProfile('Ottoline Varga'), title: 'Coastal Specialist' });
    const first = await request(server, 'POST', '/api/v1/renders', { key, json: body });
    expect(first.status).toBe(201);
    const firstText = (await pdfText(first.body)).join('\n');
    expect(firstText).toContain('Ottoline Varga');
    expect(firstText).toContain('Coastal Specialist');

    await putProfile(server, key, {
      name: 'Leopold Amankwah',
      phone: '(207) 555-0777',
      email: 'leopold@agency.example',
      licenseNumber: 'ME-PC-424242',
    });
    const second = await request(server, 'POST', '/api/v1/renders', { key, json: body });
    expect(second.status).toBe(201);
    const text = (await pdfText(second.body)).join('\n');
    expect(text).toContain('Leopold Amankwah');
    expect(text).toContain('(207) 555-0777');
    expect(text).toContain('leopold@agency.example');
    expect(text).toContain('ME-PC-424242');
    expect(text).toContain('Coastal Specialist');
    expect(text).not.toContain('Ottoline Varga');
    expect(text).not.toContain(sample.rep.name);
  });

  it('draws the uploaded photo in place of the placeholder', async () => {
    const key = await newRep('photo-render-rep');
    await putProfile(server, key, fullProfile('Saoirse Lindahl'));
    const sample = await sampleRecord('insurance-brochure');
    const body = { templateId: 'insurance-brochure', prospect: sample.prospect, fields: sample.fields };
    const without = await request(server, 'POST', '/api/v1/renders', { key, json: body });
    expect(without.status).toBe(201);
    await putProfile(server, key, {}, jpeg(await gradientJpeg(900, 700)));
    const withPhoto = await request(server, 'POST', '/api/v1/renders', { key, json: body });
    expect(withPhoto.status).toBe(201);
    const withoutImages = await imageSizes(without.body);
    const withImages = await imageSizes(withPhoto.body);
    expect(withoutImages).not.toContain('900x700');
    expect(withImages).toContain('900x700');
    // Exactly the placeholder was swapped for the photo.
    expect(withImages.length).toBe(withoutImages.length);
  });
});
