/**
 * Renders and previews over HTTP: every bundled template renders with the caller's own profile as the
 * rep (never a rep named in the request or the sample), validation problems name their paths, the
 * audit trail records and guards each render, 50 concurrent renders all come back right, and
 * previews return a PNG and a fit report while storing nothing.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pdfInfo, pdfText, qpdfCheck } from '../support/pdf.js';
import { countBlobs } from '../support/data-dir.js';
import { cleanup, sha256 } from '../support/files.js';
import { sampleRecord } from '../support/records.js';
import { BUNDLED } from '../support/repo.js';
import { brief, type JsonObject, putProfile, request } from '../support/request.js';
import {
  type CreatedKey,
  createKey,
  fullProfile,
  startTestServer,
  type TestServer,
} from '../support/server.js';

let server: TestServer;
let repA: CreatedKey;
let repB: CreatedKey;
let marketing: CreatedKey;

const REP_A_NAME = 'Quentin Marlowe';
const REP_B_NAME = 'Ysolde Brannigan';

beforeAll(async () => {
  server = await startTestServer();
  repA = await createKey(server, 'rep', 'rep A', 'rep-a');
  repB = await createKey(server, 'rep', 'rep B', 'rep-b');
  marketing = await createKey(server, 'marketing', 'marketing');
  expect((await putProfile(server, repA.key, fullProfile(REP_A_NAME, 'ME-PC-100200'))).status).toBe(200);
  expect((await putProfile(server, repB.key, fullProfile(REP_B_NAME, 'ME-PC-300400'))).status).toBe(200);
});

afterAll(async () => {
  await server?.close();
  await cleanup();
});

const render = (key: string, json: unknown) => request(server, 'POST', '/api/v1/renders', { key, json });

/** The request body for a template's sample 0, without its rep. */
async function sampleBody(templateId: string): Promise<{
  templateId: string;
  prospect: Record<string, string>;
  fields: Record<string, string>;
}> {
  const { prospect, fields } = await sampleRecord(templateId);
  return { templateId, prospect, fields };
}

/** A copy of `values` without `key`. */
function without(values: Record<string, string>, key: string): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([k]) => k !== key));
}

/** Every audit record, as an admin sees them. */
async function auditCount(): Promise<number> {
  const reply = await request(server, 'GET', '/api/v1/renders?limit=500', { key: server.adminKey });
  expect(reply.status).toBe(200);
  return (reply.json().renders as unknown[]).length;
}

/** Renders kept for the audit tests: template id → the render's id and PDF. */
const rendered = new Map<string, { id: string; pdf: Buffer }>();

describe('POST /api/v1/renders: every bundled template', () => {
  it.each(BUNDLED)('%s renders with the caller as the rep', async (templateId) => {
    const sample = await sampleRecord(templateId);
    const reply = await render(repA.key, await sampleBody(templateId));
    expect(reply.status, brief(reply)).toBe(201);
    expect(reply.headers.get('content-type')).toBe('application/pdf');
    const location = reply.headers.get('location');
    expect(location).toMatch(/^\/api\/v1\/renders\/[0-9a-f]{16}$/);
    expect(reply.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');

    const check = await qpdfCheck(reply.body);
    expect(check.ok, check.output).toBe(true);
    const text = (await pdfText(reply.body)).join('\n');
    expect(text).toContain(sample.prospect.firstName);
    expect(text).toContain(REP_A_NAME);
    expect(text).not.toContain(sample.rep.name);
    expect(text).not.toContain(sample.rep.email);
    const info = await pdfInfo(reply.body);
    expect(info.custom.PlatenTemplate).toBe(templateId);
    expect(String(info.custom.PlatenTemplateVersion)).toBe('1');

    rendered.set(templateId, { id: location!.split('/').pop()!, pdf: reply.body });
  });

  it('renders a named version, and 404s a version that does not exist', async () => {
    const body = await sampleBody('postcard-6x4');
    expect((await render(repA.key, { ...body, version: 1 })).status).toBe(201);
    const missing = await render(repA.key, { ...body, version: 7 });
    expect(missing.status).toBe(404);
    expect(missing.json().code).toBe('not_found');
  });
});

describe('POST /api/v1/renders: refused requests store nothing', () => {
  /** Sends `json` as rep A, expects 422, and checks no audit record or blob was written. */
  async function refused(json: unknown, status = 422): Promise<JsonObject> {
    const audits = await auditCount();
    const blobs = await countBlobs(server.dataDir);
    const reply = await render(repA.key, json);
    expect(reply.status, brief(reply)).toBe(status);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await auditCount()).toBe(audits);
    expect(await countBlobs(server.dataDir)).toBe(blobs);
    return reply.json();
  }

  it('refuses a body with a `rep` key (impersonation), naming `rep`', async () => {
    const sample = await sampleRecord('insurance-brochure');
    const problem = await refused({ ...(await sampleBody('insurance-brochure')), rep: sample.rep });
    expect(problem.errors).toEqual([expect.objectContaining({ path: 'rep', rule: 'unknown_key' })]);
  });

  it('refuses an empty `rep` too: the key itself is not accepted', async () => {
    const problem = await refused({ ...(await sampleBody('letter-window')), rep: {} });
    expect(problem.errors).toEqual([expect.objectContaining({ path: 'rep', rule: 'unknown_key' })]);
  });

  it('refuses an unknown key inside fields (locked content), naming fields.disclaimer', async () => {
    const body = await sampleBody('insurance-brochure');
    const problem = await refused({
      ...body,
      fields: { ...body.fields, disclaimer: 'No exclusions apply.' },
    });
    expect(problem.errors).toEqual([
      expect.objectContaining({ path: 'fields.disclaimer', rule: 'unknown_key' }),
    ]);
  });

  it('refuses an unknown key inside prospect, naming it', async () => {
    const body = await sampleBody('postcard-6x4');
    const problem = await refused({ ...body, prospect: { ...body.prospect, logo: 'evil.png' } });
    expect(problem.errors).toEqual([expect.objectContaining({ path: 'prospect.logo', rule: 'unknown_key' })]);
  });

  it('refuses a `__proto__` key inside fields, naming it', async () => {
    // Written by hand: JSON.stringify of an object literal cannot produce a "__proto__" key.
    const body = await sampleBody('insurance-brochure');
    const json = JSON.stringify(body).replace('"fields":{', '"fields":{"__proto__":{"disclaimer":"x"},');
    expect(json).toContain('"__proto__"');
    const audits = await auditCount();
    const reply = await request(server, 'POST', '/api/v1/renders', {
      key: repA.key,
      body: json,
      headers: { 'content-type': 'application/json' },
    });
    expect(reply.status, brief(reply)).toBe(422);
    expect(reply.json().errors).toEqual([
      expect.objectContaining({ path: 'fields.__proto__', rule: 'unknown_key' }),
    ]);
    expect(await auditCount()).toBe(audits);
  });

  it('refuses a missing required prospect value, naming it', async () => {
    const body = await sampleBody('insurance-brochure');
    const prospect = without(body.prospect, 'firstName');
    const problem = await refused({ ...body, prospect });
    expect(problem.errors).toEqual([expect.objectContaining({ path: 'prospect.firstName' })]);
  });

  it('names every problem of a record at once', async () => {
    const body = await sampleBody('letter-window');
    const problem = await refused({
      ...body,
      prospect: { ...body.prospect, state: 'Oregon', zip: 'ninety' },
      fields: { ...body.fields, letterDate: 'last Tuesday' },
    });
    const paths = (problem.errors as JsonObject[]).map((e) => e.path).sort();
    expect(paths).toEqual(['fields.letterDate', 'prospect.state', 'prospect.zip']);
  });

  it('refuses a copyfit field that overflows even at its minimum size (rule overflow)', async () => {
    const body = await sampleBody('insurance-brochure');
    const problem = await refused({ ...body, fields: { ...body.fields, message: 'Line\n'.repeat(30) } });
    expect(problem.errors).toEqual([expect.objectContaining({ path: 'fields.message', rule: 'overflow' })]);
  });

  it('refuses a template that does not exist with 404', async () => {
    const problem = await refused(
      { ...(await sampleBody('postcard-6x4')), templateId: 'no-such-template' },
      404,
    );
    expect(problem.code).toBe('not_found');
  });

  it("refuses a rep whose profile lacks what the template needs, naming the profile's paths", async () => {
    const empty = await createKey(server, 'rep', 'new rep', 'rep-empty');
    const audits = await auditCount();
    const reply = await render(empty.key, await sampleBody('postcard-6x4'));
    expect(reply.status).toBe(422);
    const paths = (reply.json().errors as JsonObject[]).map((e) => e.path).sort();
    expect(paths).toEqual(['rep.email', 'rep.name', 'rep.phone']);
    expect(await auditCount()).toBe(audits);
  });

  it('is for reps only: marketing and admin keys get 403, no key 401', async () => {
    const body = await sampleBody('postcard-6x4');
    expect((await render(marketing.key, body)).status).toBe(403);
    expect((await render(server.adminKey, body)).status).toBe(403);
    expect((await request(server, 'POST', '/api/v1/renders', { json: body })).status).toBe(401);
  });
});

describe('the audit trail: GET /api/v1/renders', () => {
  it('records who, what and when, with the record and output SHA-256', async () => {
    const started = Date.now();
    const body = await sampleBody('insurance-brochure');
    const reply = await render(repA.key, body);
    expect(reply.status).toBe(201);
    const location = reply.headers.get('location')!;

    const audit = await request(server, 'GET', location, { key: repA.key });
    expect(audit.status).toBe(200);
    const record = audit.json();
    expect(record).toMatchObject({
      id: location.split('/').pop(),
      keyId: repA.id,
      repId: 'rep-a',
      templateId: 'insurance-brochure',
      version: 1,
      outputSha256: sha256(reply.body),
      bytes: reply.body.length,
      pdf: `${location}/pdf`,
    });
    expect(record.recordSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(record.recordSha256).not.toBe(record.outputSha256);
    // The PDF names the same record hash in its Info dictionary.
    expect((await pdfInfo(reply.body)).custom.PlatenRecordSHA256).toBe(record.recordSha256);
    const createdAt = Date.parse(record.createdAt as string);
    expect(createdAt).toBeGreaterThanOrEqual(started - 1000);
    expect(createdAt).toBeLessThanOrEqual(Date.now() + 1000);

    const pdf = await request(server, 'GET', `${location}/pdf`, { key: repA.key });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.body.equals(reply.body)).toBe(true);
  });

  it('gives the same record hash to the same record, and a different one to another', async () => {
    const body = await sampleBody('letter-window');
    const hashOf = async (json: unknown) => {
      const reply = await render(repA.key, json);
      expect(reply.status).toBe(201);
      const audit = await request(server, 'GET', reply.headers.get('location')!, { key: repA.key });
      return audit.json().recordSha256 as string;
    };
    const first = await hashOf(body);
    expect(await hashOf(body)).toBe(first);
    expect(await hashOf({ ...body, prospect: { ...body.prospect, firstName: 'Other' } })).not.toBe(first);
  });

  it("hides a rep's renders from other reps, and shows them to marketing and admins", async () => {
    const { id, pdf } = rendered.get('postcard-6x4')!;
    for (const path of [`/api/v1/renders/${id}`, `/api/v1/renders/${id}/pdf`]) {
      const other = await request(server, 'GET', path, { key: repB.key });
      expect(other.status).toBe(404);
      expect(other.json().code).toBe('not_found');
      expect(other.text).not.toContain('rep-a');
      for (const key of [marketing.key, server.adminKey]) {
        expect((await request(server, 'GET', path, { key })).status).toBe(200);
      }
    }
    const viaMarketing = await request(server, 'GET', `/api/v1/renders/${id}/pdf`, { key: marketing.key });
    expect(viaMarketing.body.equals(pdf)).toBe(true);

    // rep B's own render, so its list is not trivially empty.
    expect((await render(repB.key, await sampleBody('postcard-6x4'))).status).toBe(201);
    const listB = (await request(server, 'GET', '/api/v1/renders', { key: repB.key })).json()
      .renders as JsonObject[];
    expect(listB.length).toBeGreaterThan(0);
    expect(listB.every((r) => r.repId === 'rep-b')).toBe(true);
    expect(listB.map((r) => r.id)).not.toContain(id);
    // A rep cannot widen the list with ?rep=.
    const sneaky = await request(server, 'GET', '/api/v1/renders?rep=rep-a', { key: repB.key });
    expect(sneaky.status).toBe(200);
    expect((sneaky.json().renders as JsonObject[]).every((r) => r.repId === 'rep-b')).toBe(true);

    const listA = (await request(server, 'GET', '/api/v1/renders', { key: repA.key })).json()
      .renders as JsonObject[];
    expect(listA.map((r) => r.id)).toContain(id);
    expect(listA.every((r) => r.repId === 'rep-a')).toBe(true);

    for (const key of [marketing.key, server.adminKey]) {
      const all = (await request(server, 'GET', '/api/v1/renders?limit=500', { key })).json()
        .renders as JsonObject[];
      const reps = new Set(all.map((r) => r.repId));
      expect(reps).toEqual(new Set(['rep-a', 'rep-b']));
      expect(all.map((r) => r.id)).toContain(id);
    }
  });

  it('filters by ?template= and ?rep=', async () => {
    const byTemplate = (
      await request(server, 'GET', '/api/v1/renders?template=letter-window&limit=500', { key: marketing.key })
    ).json().renders as JsonObject[];
    expect(byTemplate.length).toBeGreaterThan(0);
    expect(byTemplate.every((r) => r.templateId === 'letter-window')).toBe(true);
    expect(byTemplate.map((r) => r.id)).toContain(rendered.get('letter-window')!.id);

    const byRep = (
      await request(server, 'GET', '/api/v1/renders?rep=rep-b&limit=500', { key: server.adminKey })
    ).json().renders as JsonObject[];
    expect(byRep.length).toBeGreaterThan(0);
    expect(byRep.every((r) => r.repId === 'rep-b')).toBe(true);

    const both = (
      await request(server, 'GET', '/api/v1/renders?rep=rep-a&template=postcard-6x4&limit=500', {
        key: marketing.key,
      })
    ).json().renders as JsonObject[];
    expect(both.length).toBeGreaterThan(0);
    expect(both.every((r) => r.repId === 'rep-a' && r.templateId === 'postcard-6x4')).toBe(true);

    const none = await request(server, 'GET', '/api/v1/renders?template=no-such-template', {
      key: marketing.key,
    });
    expect(none.json().renders).toEqual([]);

    const unknownParam = await request(server, 'GET', '/api/v1/renders?owner=rep-a', { key: marketing.key });
    expect(unknownParam.status).toBe(422);
    expect(unknownParam.json().errors).toEqual([
      expect.objectContaining({ path: 'query.owner', rule: 'unknown_key' }),
    ]);
  });

  it('lists newest first and honours ?limit=', async () => {
    const list = (await request(server, 'GET', '/api/v1/renders?limit=3', { key: marketing.key })).json()
      .renders as JsonObject[];
    expect(list).toHaveLength(3);
    const times = list.map((r) => Date.parse(r.createdAt as string));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });
});

describe('50 concurrent renders', () => {
  it('all succeed with correct, distinct PDFs', async () => {
    const body = await sampleBody('insurance-brochure');
    const audits = await auditCount();
    const names = Array.from({ length: 50 }, (_, i) => `Conc${String(i).padStart(2, '0')}ury`);
    const replies = await Promise.all(
      names.map((firstName, i) =>
        render(i % 2 === 0 ? repA.key : repB.key, { ...body, prospect: { ...body.prospect, firstName } }),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(names.map(() => 201));
    expect(new Set(replies.map((r) => sha256(r.body))).size).toBe(50);
    expect(new Set(replies.map((r) => r.headers.get('location'))).size).toBe(50);
    expect(await auditCount()).toBe(audits + 50);

    for (const [i, reply] of replies.entries()) {
      const text = (await pdfText(reply.body)).join('\n');
      expect(text).toContain(`Hello, ${names[i]}!`);
      expect(text).toContain(i % 2 === 0 ? REP_A_NAME : REP_B_NAME);
      expect(text).not.toContain(i % 2 === 0 ? REP_B_NAME : REP_A_NAME);
      // No other prospect leaked into this piece.
      expect(names.filter((n) => text.includes(n))).toEqual([names[i]]);
    }
    // Each audit record matches the bytes its caller received.
    for (const [i, reply] of replies.entries()) {
      const audit = await request(server, 'GET', reply.headers.get('location')!, {
        key: i % 2 === 0 ? repA.key : repB.key,
      });
      expect(audit.json()).toMatchObject({
        outputSha256: sha256(reply.body),
        bytes: reply.body.length,
        repId: i % 2 === 0 ? 'rep-a' : 'rep-b',
      });
    }
    const check = await qpdfCheck(replies[49]!.body);
    expect(check.ok, check.output).toBe(true);
  });
});

describe('previews', () => {
  const preview = (key: string, json: unknown, query = '') =>
    request(server, 'POST', `/api/v1/previews${query}`, { key, json });
  const fit = (key: string, json: unknown) => request(server, 'POST', '/api/v1/previews/fit', { key, json });
  const fitHeader = (reply: { headers: Headers }) =>
    JSON.parse(reply.headers.get('x-platen-fit') ?? 'null') as {
      report: JsonObject[];
      problems: JsonObject[];
    };
  const messageEntry = (report: JsonObject[]) => report.find((e) => e.field === 'message');

  // The brochure is Letter (612 × 792 pt) with a 0.125 in bleed; a preview shows the trim box only,
  // the piece as it will be after cutting.
  const SHEET = { width: 612, height: 792 };

  it('returns page 2 of the brochure as a PNG at 96 dpi, with the page count and fit report', async () => {
    const reply = await preview(repA.key, await sampleBody('insurance-brochure'), '?page=2');
    expect(reply.status, brief(reply)).toBe(200);
    expect(reply.headers.get('content-type')).toBe('image/png');
    expect(reply.headers.get('x-platen-pages')).toBe('2');
    const meta = await sharp(reply.body).metadata();
    expect(meta.format).toBe('png');
    expect([meta.width, meta.height]).toEqual([(SHEET.width * 4) / 3, (SHEET.height * 4) / 3]);
    const report = fitHeader(reply);
    expect(report.problems).toEqual([]);
    expect(messageEntry(report.report)).toMatchObject({ status: 'fits', size: 12.5, preferredSize: 12.5 });
    expect(report.report.every((e) => ['fits', 'shrunk', 'overflow'].includes(e.status as string))).toBe(
      true,
    );
  });

  it('scales with ?scale=', async () => {
    const reply = await preview(repA.key, await sampleBody('insurance-brochure'), '?page=1&scale=1');
    expect(reply.status).toBe(200);
    const meta = await sharp(reply.body).metadata();
    expect([meta.width, meta.height]).toEqual([SHEET.width, SHEET.height]);
  });

  it('still draws a page whose message overflows, and reports the overflow', async () => {
    const body = await sampleBody('insurance-brochure');
    const reply = await preview(repA.key, {
      ...body,
      fields: { ...body.fields, message: 'Line\n'.repeat(30) },
    });
    expect(reply.status, brief(reply)).toBe(200);
    expect(reply.headers.get('content-type')).toBe('image/png');
    expect((await sharp(reply.body).metadata()).format).toBe('png');
    const report = fitHeader(reply);
    const message = messageEntry(report.report);
    expect(message).toMatchObject({ element: 'message', status: 'overflow', size: 9 });
    expect(message?.overflow?.chars).toBeGreaterThan(0);
    expect(message?.overflow?.points).toBeGreaterThan(0);
    expect(report.problems).toEqual([expect.objectContaining({ path: 'fields.message', rule: 'overflow' })]);
  });

  it('POST /api/v1/previews/fit reports fits, shrunk and overflow', async () => {
    const body = await sampleBody('insurance-brochure');
    const ok = await fit(repA.key, body);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^application\/json/);
    expect(ok.json().problems).toEqual([]);
    expect(messageEntry(ok.json().report as JsonObject[])?.status).toBe('fits');

    const long = 'MMMMMMMMMM '.repeat(36).trim();
    const shrunk = await fit(repA.key, { ...body, fields: { ...body.fields, message: long } });
    expect(shrunk.json().problems).toEqual([]);
    const shrunkEntry = messageEntry(shrunk.json().report as JsonObject[]);
    expect(shrunkEntry?.status).toBe('shrunk');
    expect(shrunkEntry?.preferredSize).toBe(12.5);
    expect(shrunkEntry?.size).toBeLessThan(12.5);
    expect(shrunkEntry?.size).toBeGreaterThanOrEqual(9);
    expect(shrunkEntry?.overflow).toBeUndefined();

    const over = await fit(repA.key, { ...body, fields: { ...body.fields, message: 'Line\n'.repeat(30) } });
    expect(over.status).toBe(200);
    const overEntry = messageEntry(over.json().report as JsonObject[]);
    expect(overEntry).toMatchObject({ status: 'overflow', size: 9, preferredSize: 12.5 });
    expect(overEntry?.overflow?.chars).toBeGreaterThan(0);
    expect(over.json().problems).toEqual([
      expect.objectContaining({ path: 'fields.message', rule: 'overflow' }),
    ]);
  });

  it('POST /api/v1/previews/fit lists validation problems instead of failing', async () => {
    const body = await sampleBody('insurance-brochure');
    const prospect = without(body.prospect, 'firstName');
    const reply = await fit(repA.key, { ...body, prospect });
    expect(reply.status).toBe(200);
    expect(reply.json().problems).toEqual([expect.objectContaining({ path: 'prospect.firstName' })]);
  });

  it('refuses a rep who sends a `rep` key, on both endpoints', async () => {
    const sample = await sampleRecord('insurance-brochure');
    const json = { ...(await sampleBody('insurance-brochure')), rep: { name: sample.rep.name } };
    for (const reply of [await preview(repA.key, json), await fit(repA.key, json)]) {
      expect(reply.status).toBe(422);
      expect(reply.json().errors).toEqual([expect.objectContaining({ path: 'rep', rule: 'unknown_key' })]);
    }
  });

  it('lets marketing preview with hand-entered rep details, validated like a record', async () => {
    const body = await sampleBody('insurance-brochure');
    const rep = {
      name: 'Hand Entered',
      title: 'Test Agent',
      licenseNumber: 'ME-XX-000001',
      phone: '(207) 555-0100',
      email: 'hand@agency.example',
    };
    const reply = await preview(marketing.key, { ...body, rep });
    expect(reply.status, brief(reply)).toBe(200);
    expect(reply.headers.get('content-type')).toBe('image/png');
    expect(fitHeader(reply).problems).toEqual([]);

    const bad = await preview(marketing.key, { ...body, rep: { ...rep, email: 'not-an-email' } });
    expect(bad.status).toBe(422);
    expect(bad.json().errors).toEqual([expect.objectContaining({ path: 'rep.email' })]);
  });

  it("lets marketing preview a template's sample", async () => {
    const reply = await preview(marketing.key, { templateId: 'insurance-brochure', sample: 0 }, '?page=1');
    expect(reply.status, brief(reply)).toBe(200);
    expect(reply.headers.get('content-type')).toBe('image/png');
    expect(reply.headers.get('x-platen-pages')).toBe('2');
    const missing = await preview(marketing.key, { templateId: 'insurance-brochure', sample: 99 });
    expect(missing.status).toBe(422);
    expect(missing.json().errors).toEqual([expect.objectContaining({ path: 'sample' })]);
  });

  it("refuses a page beyond the template's pages", async () => {
    const reply = await preview(repA.key, await sampleBody('insurance-brochure'), '?page=3');
    expect(reply.status).toBe(422);
    expect(reply.json().errors).toEqual([expect.objectContaining({ path: 'page' })]);
    const letter = await preview(repA.key, await sampleBody('letter-window'), '?page=2');
    expect(letter.status).toBe(422);
    const zero = await preview(repA.key, await sampleBody('letter-window'), '?page=0');
    expect(zero.status).toBe(422);
    expect(zero.json().errors).toEqual([expect.objectContaining({ path: 'query.page' })]);
  });

  it('refuses an invalid record with its problems', async () => {
    const body = await sampleBody('postcard-6x4');
    const reply = await preview(repA.key, { ...body, prospect: { ...body.prospect, state: 'Maine' } });
    expect(reply.status).toBe(422);
    expect(reply.json().errors).toEqual([expect.objectContaining({ path: 'prospect.state' })]);
  });

  it('stores nothing: no audit record, no blob', async () => {
    const audits = await auditCount();
    const blobs = await countBlobs(server.dataDir);
    for (const templateId of BUNDLED) {
      const body = await sampleBody(templateId);
      expect((await preview(repA.key, body)).status).toBe(200);
      expect((await fit(repA.key, body)).status).toBe(200);
    }
    expect((await preview(marketing.key, { templateId: 'postcard-6x4', sample: 1 }, '?page=2')).status).toBe(
      200,
    );
    expect(await auditCount()).toBe(audits);
    expect(await countBlobs(server.dataDir)).toBe(blobs);
  });
});
