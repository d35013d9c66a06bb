/**
 * Closing the loop, end to end on a real server: a rep renders the brochure through the API; its QR
 * code, rasterized by poppler's pdftoppm and read by zbar's zbarimg, is the piece's tracked link
 * marked as a scan; following it redirects to the landing page with the campaign's UTM parameters,
 * sets no cookie, and shows in the API as one scan from a phone. HEAD requests and link previews are
 * led on uncounted; unknown codes all get the same 404; another rep can neither see nor mark the
 * piece; outcomes are set through the API and the My pieces page; tracked links are rate-limited.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { PieceCodes, SAMPLE_PIECE_CODE } from '../../src/model/piece-code.js';
import { pieceCodes } from '../support/pieces.js';
import { cleanup } from '../support/files.js';
import { qrCodesOn } from '../support/pdf.js';
import { type PageSession, signInPages } from '../support/pages.js';
import { brochureRecord } from '../support/records.js';
import { brief, type JsonObject, PHONE_BROWSER, putProfile, request } from '../support/request.js';
import {
  type CreatedKey,
  createKey,
  fullProfile,
  startTestServer,
  type TestServer,
} from '../support/server.js';

const DESKTOP =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36';
const SLACK_PREVIEW = 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)';
/** Tracked-link visits a minute per client on this server: few, so the last test can pass it. */
const TRACKING_LIMIT = 40;

let server: TestServer;
let repA: CreatedKey;
let repB: CreatedKey;
let marketing: CreatedKey;
let pdf: Buffer;
let code: string;

beforeAll(async () => {
  server = await startTestServer({ env: { PLATEN_TRACKING_RATE_LIMIT: String(TRACKING_LIMIT) } });
  repA = await createKey(server, 'rep', 'rep A', 'rep-a');
  repB = await createKey(server, 'rep', 'rep B', 'rep-b');
  marketing = await createKey(server, 'marketing', 'marketing');
  expect((await putProfile(server, repA.key, fullProfile('Quentin Marlowe'))).status).toBe(200);
  expect((await putProfile(server, repB.key, fullProfile('Ysolde Brannigan'))).status).toBe(200);
  const { prospect, fields } = brochureRecord();
  const render = await request(server, 'POST', '/api/v1/renders', {
    key: repA.key,
    json: { templateId: 'insurance-brochure', prospect, fields },
  });
  expect(render.status, brief(render)).toBe(201);
  pdf = render.body;
  code = render.headers.get('platen-piece-code')!;
  expect(code).toMatch(/^[0-9A-Z*~$=]{13}$/);
});

afterAll(async () => {
  await server?.close();
  await cleanup();
});

/** Follows a tracked link as a browser would, without going on to where it leads. */
const visit = (url: string, userAgent = PHONE_BROWSER, method = 'GET') =>
  fetch(url.startsWith('http') ? url : `${server.url}${url}`, {
    method,
    redirect: 'manual',
    headers: { 'user-agent': userAgent },
  });

const piece = async (key = repA.key) => request(server, 'GET', `/api/v1/pieces/${code}`, { key });

/** Every byte the server keeps in its data directory (the database with its journal, files), as one buffer. */
async function storedBytes(dir: string): Promise<Buffer> {
  const files = await readdir(dir, { recursive: true, withFileTypes: true });
  const parts = await Promise.all(
    files.filter((f) => f.isFile()).map((f) => readFile(path.join(f.parentPath, f.name))),
  );
  return Buffer.concat(parts);
}

describe('a tracked brochure', () => {
  it("prints the piece's tracked link, marked as a scan, in its QR code", async () => {
    expect(await qrCodesOn(pdf, 1)).toEqual([`${server.url}/r/${code}?qr`]);
  });

  it('leads a scan to the landing page with the campaign, sets no cookie, and counts it', async () => {
    const [scanned] = await qrCodesOn(pdf, 1);
    const res = await visit(scanned!);
    expect(res.status).toBe(302);
    const landing = new URL(res.headers.get('location')!);
    expect(landing.origin).toBe('https://harbormutual.example');
    expect(landing.pathname).toBe('/q/P-1001');
    expect(Object.fromEntries(landing.searchParams)).toEqual({
      line: 'auto',
      utm_source: 'platen',
      utm_medium: 'brochure',
      utm_campaign: 'insurance-brochure',
      utm_content: 'v1',
    });
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');

    const reply = await piece();
    expect(reply.status, brief(reply)).toBe(200);
    const body = reply.json();
    expect(body).toMatchObject({
      code,
      url: `${server.url}/r/${code}`,
      templateId: 'insurance-brochure',
      version: 1,
      repId: 'rep-a',
      channel: 'api',
      recipientRef: 'P-1001',
      responses: 1,
      outcome: null,
    });
    expect(body.responseLog).toEqual([
      { at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/), kind: 'scan', device: 'phone' },
    ]);
    expect(body.firstResponseAt).toBe(body.responseLog[0].at);
    // Nothing about the visitor beyond the minute, the kind and the device class, anywhere it stores.
    const stored = await storedBytes(server.dataDir);
    expect(stored.includes(`${code}`)).toBe(true);
    expect(stored.includes('iPhone OS')).toBe(false);
    expect(stored.includes('127.0.0.1')).toBe(false);
  });

  it('leads HEAD requests and link previews on without counting them; a typed link is a visit', async () => {
    for (const res of [
      await visit(`/r/${code}?qr`, PHONE_BROWSER, 'HEAD'),
      await visit(`/r/${code}`, SLACK_PREVIEW),
    ]) {
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toMatch(/^https:\/\/harbormutual\.example\/q\/P-1001\?/);
    }
    expect((await piece()).json().responses).toBe(1);
    // Typed as people type a code: lower case, with a hyphen.
    const typed = `${code.slice(0, 6)}-${code.slice(6)}`.toLowerCase();
    expect((await visit(`/r/${typed}`, DESKTOP)).status).toBe(302);
    const body = (await piece()).json();
    expect(body.responses).toBe(2);
    expect(body.responseLog.map((r: JsonObject) => [r.kind, r.device])).toEqual([
      ['scan', 'phone'],
      ['visit', 'desktop'],
    ]);
  });

  it('answers every code that leads nowhere with the same plain 404 page', async () => {
    const oneOff = `${code.slice(0, 12)}${code[12] === '0' ? '1' : '0'}`;
    const texts = new Set<string>();
    // A code of a number never handed out, one of another installation, the sample, a mistyped one.
    const unissued = (await pieceCodes(server)).code(10 ** 12);
    const foreign = new PieceCodes(randomBytes(32)).code(1);
    const wrongs = [unissued, foreign, SAMPLE_PIECE_CODE, oneOff, 'not-a-code', 'x'.repeat(300)];
    // And what is no code at all: nothing, more than a code, a code that cannot be decoded.
    const paths = [
      ...wrongs.map((w) => `/r/${encodeURIComponent(w)}`),
      '/r/',
      `/r/${code}/more`,
      '/r/%E0%A4%A',
    ];
    for (const wrong of paths) {
      const res = await visit(wrong);
      expect(res.status, wrong).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(res.headers.get('cache-control')).toBe('no-store');
      texts.add(await res.text());
    }
    expect(texts.size).toBe(1);
    const [text] = texts;
    expect(text).toContain('This link is not known');
    expect(text).not.toContain(code);
  });
});

describe('outcomes', () => {
  it('another rep can neither see nor mark the piece; marketing sees it', async () => {
    expect((await piece(repB.key)).status).toBe(404);
    const mark = await request(server, 'POST', `/api/v1/pieces/${code}/outcome`, {
      key: repB.key,
      json: { outcome: 'won' },
    });
    expect(mark.status, brief(mark)).toBe(404);
    const codes = async (key: string, query = '') =>
      (await request(server, 'GET', `/api/v1/pieces${query}`, { key }))
        .json()
        .pieces.map((p: JsonObject) => p.code);
    expect(await codes(repB.key)).not.toContain(code);
    expect(await codes(repB.key, '?rep=rep-a')).toEqual([]);
    expect(await codes(repA.key)).toEqual([code]);
    expect(await codes(marketing.key, '?template=insurance-brochure')).toEqual([code]);
    expect(await codes(marketing.key, '?template=postcard-6x4')).toEqual([]);
  });

  it('a rep marks an outcome with a note and reads it back', async () => {
    const mark = await request(server, 'POST', `/api/v1/pieces/${code}/outcome`, {
      key: repA.key,
      json: { outcome: 'meeting_booked', note: 'Meeting on Tuesday at 10.' },
    });
    expect(mark.status, brief(mark)).toBe(200);
    expect(mark.json()).toMatchObject({
      code,
      outcome: 'meeting_booked',
      outcomeNote: 'Meeting on Tuesday at 10.',
    });
    const body = (await piece()).json();
    expect(body).toMatchObject({ outcome: 'meeting_booked', outcomeNote: 'Meeting on Tuesday at 10.' });
    expect(body.outcomeAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('refuses a bad outcome with 422 naming what to fix', async () => {
    const refused = async (json: unknown, at = code) => {
      const res = await request(server, 'POST', `/api/v1/pieces/${at}/outcome`, { key: repA.key, json });
      expect(res.status, brief(res)).toBe(422);
      return res.json<{ errors: { path: string; message: string }[] }>().errors.map((e) => e.path);
    };
    expect(await refused({ outcome: 'maybe' })).toEqual(['outcome']);
    expect(await refused({})).toEqual(['outcome']);
    expect(await refused({ outcome: 'won', note: 'n'.repeat(1001) })).toEqual(['note']);
    expect(await refused({ outcome: 'won', rep: 'rep-b' })).toEqual(['rep']);
    expect(await refused({ outcome: 'won' }, 'not-a-code')).toEqual(['params.code']);
    expect((await piece()).json().outcome).toBe('meeting_booked');
  });

  it('My pieces shows the responses and takes the outcome in words', async () => {
    const page: PageSession = await signInPages(server.url, repA.key);
    const list = await page.request('get', '/pieces');
    expect(list.status).toBe(200);
    expect(list.text).toContain(code);
    expect(list.text).toMatch(/<option value="meeting_booked" selected>Meeting booked<\/option>/);
    expect(list.text).toContain('Meeting on Tuesday at 10.');

    const saved = await page.request('post', `/pieces/${code}/outcome`, {
      form: { _csrf: page.csrf, outcome: 'won', note: '' },
    });
    expect(saved.status, saved.text).toBe(303);
    expect(saved.location).toBe('/pieces');
    expect((await piece()).json()).toMatchObject({ outcome: 'won', outcomeNote: null });

    const wrong = await page.request('post', `/pieces/${code}/outcome`, {
      form: { _csrf: page.csrf, outcome: '' },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('Choose what came of the piece.');
    expect(wrong.text).not.toContain('no_response,');

    const desk = await (await signInPages(server.url, marketing.key)).request('get', '/pieces');
    expect(desk.text).toContain('<h1>Pieces</h1>');
    const card = desk.text
      .slice(desk.text.indexOf(`<li class="piece-card" id="piece-${code}">`))
      .split('</li>')[0]!;
    expect(card).toContain(', by rep-a');
    expect(card).toContain('recipient P-1001');

    const other = await signInPages(server.url, repB.key);
    expect((await other.request('get', '/pieces')).text).not.toContain(code);
    const refused = await other.request('post', `/pieces/${code}/outcome`, {
      form: { _csrf: other.csrf, outcome: 'lost' },
    });
    expect(refused.status).toBe(404);
    expect((await piece()).json().outcome).toBe('won');
  });
});

describe('tracked links', () => {
  it('are rate-limited per client, which a forged X-Forwarded-For does not change', async () => {
    let res: Response | undefined;
    for (let i = 0; i <= TRACKING_LIMIT; i++) {
      res = await fetch(`${server.url}/r/${new PieceCodes(randomBytes(32)).code(i + 1)}`, {
        redirect: 'manual',
        headers: { 'user-agent': PHONE_BROWSER, 'x-forwarded-for': `198.51.100.${i}` },
      });
      if (res.status === 429) break;
      expect(res.status).toBe(404);
    }
    expect(res!.status).toBe(429);
    expect(Number(res!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await res!.text()).toContain('wait a minute');
  });

  it('behind a trusted proxy, count each client by the address the proxy names', async () => {
    const proxied = await startTestServer({
      env: { PLATEN_TRACKING_RATE_LIMIT: '2', PLATEN_TRUST_PROXY: '1' },
    });
    try {
      const from = async (client: string) =>
        (
          await fetch(`${proxied.url}/r/${SAMPLE_PIECE_CODE}`, {
            redirect: 'manual',
            headers: { 'user-agent': PHONE_BROWSER, 'x-forwarded-for': client },
          })
        ).status;
      expect([await from('203.0.113.1'), await from('203.0.113.1'), await from('203.0.113.1')]).toEqual([
        404, 404, 429,
      ]);
      expect(await from('203.0.113.2')).toBe(404);
    } finally {
      await proxied.close();
    }
  });
});
