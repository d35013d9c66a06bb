/**
 * What Platen keeps about recipients, and how it lets go: an admin erases one recipient (their pieces,
 * the responses traced to them, what the rep entered for them, and the PDFs rendered for them with
 * their thumbnails) and nobody else's; after the retention period a piece keeps its counts but no
 * longer names its recipient nor keeps what was entered, and its tracked link still leads to the
 * landing site, personalised no more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup } from '../support/files.js';
import { jobEnded, jobForm } from '../support/jobs.js';
import { signInPages } from '../support/pages.js';
import { pieceCodes, storedPiece } from '../support/pieces.js';
import { postcardDrop, sampleRecord } from '../support/records.js';
import { brief, PHONE_BROWSER, putProfile, request } from '../support/request.js';
import {
  client,
  type CreatedKey,
  createKey,
  fullProfile,
  startTestServer,
  type TestServer,
} from '../support/server.js';

let server: TestServer;
let rep: CreatedKey;

beforeAll(async () => {
  server = await startTestServer();
  rep = await createKey(server, 'rep', 'rep', 'rep-a');
  expect((await putProfile(server, rep.key, fullProfile('Quentin Marlowe', 'ME-PC-100200'))).status).toBe(
    200,
  );
});

afterAll(async () => {
  await server?.close();
  await cleanup();
});

/** Renders the brochure for a prospect; returns the render's id and the piece's code. */
async function renderFor(prospectId: string): Promise<{ renderId: string; code: string }> {
  const { prospect, fields } = await sampleRecord('insurance-brochure');
  const reply = await request(server, 'POST', '/api/v1/renders', {
    key: rep.key,
    json: { templateId: 'insurance-brochure', prospect: { ...prospect, id: prospectId }, fields },
  });
  expect(reply.status, brief(reply)).toBe(201);
  return {
    renderId: reply.headers.get('location')!.split('/').pop()!,
    code: reply.headers.get('platen-piece-code')!,
  };
}

const visit = (code: string) =>
  fetch(`${server.url}/r/${code}`, { redirect: 'manual', headers: { 'user-agent': PHONE_BROWSER } });
const piece = (code: string) => storedPiece(server, code);
const pdfStatus = async (renderId: string) =>
  (await request(server, 'GET', `/api/v1/renders/${renderId}/pdf`, { key: rep.key })).status;

describe('DELETE /api/v1/recipients/:ref', () => {
  it("erases one recipient's pieces, responses and PDFs, and nobody else's", async () => {
    const first = await renderFor('HM-ERASE');
    const second = await renderFor('HM-ERASE');
    const other = await renderFor('HM-KEEP');
    await server.running.platen.pieces.respond(first.code, { kind: 'visit', device: 'phone', count: true });
    expect((await piece(first.code))?.recipientRef).toBe('HM-ERASE');
    // What the rep entered is kept with the piece, to list it by name and make another like it.
    expect((await piece(first.code))?.entered).toMatchObject({
      prospectName: expect.stringMatching(/\S/),
      prospect: { id: 'HM-ERASE' },
    });
    const shown = await request(server, 'GET', `/api/v1/pieces/${first.code}`, { key: rep.key });
    expect(shown.json()).not.toHaveProperty('entered');
    expect(await pdfStatus(first.renderId)).toBe(200);
    // The thumbnail My pieces shows goes with the PDF.
    const pages = await signInPages(server.url, rep.key);
    expect((await pages.request('GET', `/pieces/${first.code}/thumbnail.png`)).status).toBe(200);

    const reply = await request(server, 'DELETE', '/api/v1/recipients/HM-ERASE', { key: server.adminKey });
    expect(reply.status, brief(reply)).toBe(200);
    expect(reply.json()).toEqual({ pieces: 2, pdfs: 2 });

    expect(await piece(first.code)).toBeNull();
    expect(await piece(second.code)).toBeNull();
    expect((await pages.request('GET', `/pieces/${first.code}/thumbnail.png`)).status).toBe(404);
    expect(
      await server.running.platen.store.pieces.responsesOf((await pieceCodes(server)).number(first.code)!),
    ).toEqual([]);
    expect(await pdfStatus(first.renderId)).toBe(404);
    expect(await pdfStatus(second.renderId)).toBe(404);
    expect((await visit(first.code)).status).toBe(404);
    // The audit trail keeps that a render happened, naming no recipient.
    const audit = await request(server, 'GET', `/api/v1/renders/${first.renderId}`, { key: rep.key });
    expect(audit.status).toBe(200);
    expect(JSON.stringify(audit.json())).not.toContain('HM-ERASE');

    expect((await piece(other.code))?.recipientRef).toBe('HM-KEEP');
    expect(await pdfStatus(other.renderId)).toBe(200);
    const again = await request(server, 'DELETE', '/api/v1/recipients/HM-ERASE', { key: server.adminKey });
    expect(again.json()).toEqual({ pieces: 0, pdfs: 0 });
  });

  it('is for admins only', async () => {
    const reply = await request(server, 'DELETE', '/api/v1/recipients/HM-KEEP', { key: rep.key });
    expect(reply.status).toBe(403);
  });
});

describe('retention', () => {
  it('cuts pieces past it from their recipients, keeping their counts and a working link', async () => {
    const old = await renderFor('HM-OLD');
    await server.running.platen.pieces.respond(old.code, { kind: 'scan', device: 'phone', count: true });
    const before = await visit(old.code);
    expect(new URL(before.headers.get('location')!).pathname).toBe('/q/HM-OLD');

    expect((await piece(old.code))?.entered?.prospect).toMatchObject({ id: 'HM-OLD' });

    // A retention period that began a minute from now has passed for every piece made so far.
    const cut = await server.running.platen.pieces.cutExpired(new Date(Date.now() + 60_000).toISOString());
    expect(cut).toBeGreaterThanOrEqual(1);
    expect(await piece(old.code)).toMatchObject({ recipientRef: null, entered: null, responses: 2 });
    expect(await pdfStatus(old.renderId)).toBe(404);

    const after = await visit(old.code);
    expect(after.status).toBe(302);
    const landing = new URL(after.headers.get('location')!);
    expect(landing.origin + landing.pathname).toBe('https://harbormutual.example/');
    expect(landing.searchParams.get('utm_campaign')).toBe('insurance-brochure');
    expect(landing.search).not.toContain('HM-OLD');
  });
});

describe('retention of batch jobs', () => {
  it("removes an ended job's list, output and report, keeping its counts", async () => {
    const api = client(server.url, rep.key);
    const created = await api('post', '/api/v1/jobs', {
      body: jobForm(postcardDrop(3).csv, { templateId: 'postcard-6x4', output: 'pdf' }),
    });
    expect(created.status).toBe(202);
    const job = await jobEnded(api, (created.json as { id: string }).id);
    expect(job.state).toBe('done');
    expect((await api('get', job.links.output)).status).toBe(200);

    const removed = await server.running.platen.jobs.expireFiles(new Date(Date.now() + 60_000).toISOString());
    expect(removed).toContain(`jobs/${job.id}/`);
    const output = await api('get', job.links.output);
    expect(output.status).toBe(404);
    expect((output.json as { detail: string }).detail).toMatch(/removed at the end of the retention period/);
    expect((await api('get', `/api/v1/jobs/${job.id}`)).json).toMatchObject({ state: 'done', rendered: 3 });
  });
});
