/**
 * Every page, everywhere: each page route of the pages' router (so a new page is covered the day it
 * is added), as each role it serves, at a laptop's 1366×900 and a phone's 390×844, is clean for axe
 * (WCAG 2.2 AA) and never scrolls sideways; so are the error states: a form posted with mistakes, a
 * page a role may not see, an unknown URL. Then what every page shares: an unknown URL's 404 (a
 * page for browsers, problem JSON for API clients), 405s, a 5xx's reference, times in the viewer's
 * own time zone, and the confirmation toast after a change.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { axeViolations, scrollsSideways, WIDTHS } from '../support/axe.js';
import { signIn, useBrowser } from '../support/browser.js';
import { cleanup } from '../support/files.js';
import { pageRequest, pageRoutes, signInPages } from '../support/pages.js';
import { postcardRender } from '../support/records.js';
import {
  call,
  createKey,
  deskAndRep,
  type Role,
  startTestServer,
  type TestServer,
} from '../support/server.js';

const TEMPLATE = 'postcard-6x4';
/** Where each role lands after signing in. */
const LANDING: Record<Role, RegExp> = { rep: /\/gallery$/, marketing: /\/marketing$/, admin: /\/marketing$/ };
const ROLES: Role[] = ['rep', 'marketing', 'admin'];

let server: TestServer;
const keys = {} as Record<Role, string>;
let renderId: string;
let pieceCode: string;
let jobId: string;
let renderedAt: string;
/** A key and a webhook for the admin pages that ask before revoking or deleting one. */
let spareKeyId: string;
let webhookId: string;

/**
 * A URL each GET route of the pages answers, by its express path. A route without one fails the
 * first test: add it here, and if it answers HTML, every test below checks it.
 */
const EXAMPLES: Record<string, () => string> = {
  '/': () => '/',
  '/sign-in': () => '/sign-in',
  '/auth/sign-in': () => '/auth/sign-in',
  '/auth/callback': () => '/auth/callback',
  '/set-password/:token': () => '/set-password/not-a-link',
  '/waiting': () => '/waiting',
  '/r/:code': () => `/r/${pieceCode}`,
  '/gallery': () => '/gallery',
  '/gallery/:id': () => `/gallery/${TEMPLATE}`,
  '/make/:id': () => `/make/${TEMPLATE}`,
  '/samples/:id/:n/:sample/:page': () => `/samples/${TEMPLATE}/1/0/1?size=thumb`,
  '/pieces/:id.pdf': () => `/pieces/${renderId}.pdf`,
  '/pieces': () => '/pieces',
  '/pieces/:code/thumbnail.png': () => `/pieces/${pieceCode}/thumbnail.png`,
  '/profile': () => '/profile',
  '/profile/photo': () => '/profile/photo',
  '/marketing': () => '/marketing',
  '/marketing/templates/:id': () => `/marketing/templates/${TEMPLATE}`,
  '/marketing/templates/:id/versions/:n': () => `/marketing/templates/${TEMPLATE}/versions/1`,
  '/batch': () => '/batch',
  '/batch/sample.csv': () => `/batch/sample.csv?template=${TEMPLATE}`,
  '/batch/jobs/:id': () => `/batch/jobs/${jobId}`,
  '/batch/jobs/:id/cancel': () => `/batch/jobs/${jobId}/cancel`,
  '/batch/jobs/:id/events': () => `/batch/jobs/${jobId}/events`,
  '/batch/jobs/:id/rejections': () => `/batch/jobs/${jobId}/rejections`,
  '/batch/jobs/:id/output': () => `/batch/jobs/${jobId}/output`,
  '/batch/jobs/:id/errors.csv': () => `/batch/jobs/${jobId}/errors.csv`,
  '/results': () => '/results',
  '/results/:id': () => `/results/${TEMPLATE}`,
  '/results/:id/groups.csv': () => `/results/${TEMPLATE}/groups.csv`,
  '/results/:id/responses.csv': () => `/results/${TEMPLATE}/responses.csv`,
  '/designer': () => '/designer',
  '/designer/:id/:n': () => `/designer/${TEMPLATE}/1`,
  '/designer/:id/:n/changes': () => `/designer/${TEMPLATE}/1/changes`,
  '/designer/:id/:n/package.zip': () => `/designer/${TEMPLATE}/1/package.zip`,
  '/admin': () => '/admin',
  '/admin/people': () => '/admin/people',
  '/admin/keys': () => '/admin/keys',
  '/admin/keys/:id/revoke': () => `/admin/keys/${spareKeyId}/revoke`,
  '/admin/reps': () => '/admin/reps',
  '/admin/reps/:id': () => '/admin/reps/dana',
  '/admin/reps/:id/photo': () => '/admin/reps/dana/photo',
  '/admin/webhooks': () => '/admin/webhooks',
  '/admin/webhooks/:id': () => `/admin/webhooks/${webhookId}`,
  '/admin/webhooks/:id/delete': () => `/admin/webhooks/${webhookId}/delete`,
  '/admin/settings': () => '/admin/settings',
};

/** A page to check: who sees it (null: signed out) and where. */
interface Visit {
  role: Role | null;
  url: string;
}

/** Every page a role sees: each GET route's example that answers that role 200 with HTML. */
async function pagesToVisit(): Promise<Visit[]> {
  const visits: Visit[] = [];
  const sessions = Object.fromEntries(
    await Promise.all(ROLES.map(async (role) => [role, await signInPages(server.url, keys[role])] as const)),
  );
  for (const { path: route, methods } of await pageRoutes(server.running.services)) {
    if (!methods.includes('get')) continue;
    const url = EXAMPLES[route]!();
    for (const role of [null, ...ROLES]) {
      const reply = role
        ? await sessions[role]!.request('get', url)
        : await pageRequest(server.url, 'get', url);
      if (reply.status === 200 && /^text\/html/.test(reply.headers.get('content-type') ?? ''))
        visits.push({ role, url });
    }
  }
  return visits;
}

/** What is wrong with the page as it stands, each line headed by where: axe's violations, scrolling sideways. */
async function problemsOf(page: Page, where: string): Promise<string[]> {
  const found = (await axeViolations(page)).map((v) => `${where}: ${v}`);
  if (await scrollsSideways(page)) found.push(`${where}: scrolls sideways`);
  return found;
}

describe('every page', () => {
  const browser = useBrowser();
  let visits: Visit[];

  beforeAll(async () => {
    server = await startTestServer({ env: { PLATEN_BATCH_WORKERS: '1' } });
    const { marketingKey, repKey } = await deskAndRep(server);
    Object.assign(keys, { rep: repKey, marketing: marketingKey, admin: server.adminKey });
    const render = await call(server.url, 'post', '/api/v1/renders', { key: repKey, json: postcardRender() });
    expect(render.status).toBe(201);
    renderId = render.headers.get('location')!.split('/').pop()!;
    pieceCode = render.headers.get('platen-piece-code')!;
    const listed = await call(server.url, 'get', `/api/v1/renders/${renderId}`, { key: repKey });
    renderedAt = (listed.json as { createdAt: string }).createdAt;
    const form = new FormData();
    form.set('templateId', TEMPLATE);
    form.set('output', 'check');
    form.set(
      'csv',
      new Blob([
        'First Name,Last Name,Street Address,City,State,ZIP\r\nPat,Lee,1 Main St,Portland,ME,04101\r\n',
      ]),
      'list.csv',
    );
    const job = await call(server.url, 'post', '/api/v1/jobs', { key: repKey, body: form });
    expect(job.status).toBe(202);
    jobId = (job.json as { id: string }).id;
    spareKeyId = (await createKey(server, 'marketing', 'Spare key')).id;
    const hook = await call(server.url, 'post', '/api/v1/webhooks', {
      key: server.adminKey,
      json: { url: 'https://crm.example/hooks/platen', events: ['piece.created'] },
    });
    expect(hook.status).toBe(201);
    webhookId = (hook.json as { id: string }).id;
    visits = await pagesToVisit();
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await server?.close();
    await cleanup();
  });

  it('knows an example URL for every GET route of the pages', async () => {
    const routes = (await pageRoutes(server.running.services))
      .filter((r) => r.methods.includes('get'))
      .map((r) => r.path);
    expect(routes.filter((r) => !(r in EXAMPLES))).toEqual([]);
    // Every role has pages to check, and the signed-out sign-in page is one of them.
    for (const role of [null, ...ROLES]) expect(visits.some((v) => v.role === role)).toBe(true);
  });

  for (const size of WIDTHS) {
    for (const role of [null, ...ROLES]) {
      it(`has no axe violations and nothing scrolling sideways on any page ${role ? `as ${role}` : 'signed out'}, at ${size.width}×${size.height}`, async () => {
        const found: string[] = [];
        const page = await (await browser.context(server.url, { viewport: size })).newPage();
        if (role) await signIn(page, keys[role], LANDING[role]);
        for (const visit of visits.filter((v) => v.role === role)) {
          await page.goto(visit.url);
          await page.waitForLoadState('networkidle');
          found.push(...(await problemsOf(page, visit.url)));
        }
        expect(found).toEqual([]);
      });
    }

    it(`shows error states cleanly at ${size.width}×${size.height}: forms posted with mistakes, a refusal, an unknown URL`, async () => {
      const found: string[] = [];
      const check = async (page: Page, what: string) => {
        found.push(...(await problemsOf(page, what)));
      };
      const context = await browser.context(server.url, { viewport: size });
      const page = await context.newPage();

      await page.goto('/sign-in');
      await page.getByLabel('API key').fill('platen_not-a-real-key');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.locator('#key-error').textContent()).toContain('unknown');
      await check(page, 'sign-in with a wrong key');

      await signIn(page, keys.rep, LANDING.rep);
      await page.goto('/profile');
      await page.locator('input[name="email"]').fill('not an email');
      await page.locator('form[action="/profile"] button[type="submit"]').click();
      await expect.poll(() => page.locator('[aria-invalid="true"]').count()).toBeGreaterThan(0);
      await check(page, 'profile with a wrong email');

      const refused = await page.goto('/marketing');
      expect(refused!.status()).toBe(403);
      await check(page, 'a rep on the desk');

      const missing = await page.goto('/no/such/page');
      expect(missing!.status()).toBe(404);
      await check(page, 'an unknown URL');
      expect(found).toEqual([]);
    });
  }

  it('says what to do next where a list is empty, cleanly at both widths', async () => {
    const newcomer = await createKey(server, 'rep', 'Robin New', 'robin');
    for (const size of WIDTHS) {
      const page = await (await browser.context(server.url, { viewport: size })).newPage();
      await signIn(page, newcomer.key, LANDING.rep);
      await page.goto('/pieces');
      const empty = page.locator('.empty');
      expect(await empty.locator('.empty-title').textContent()).toBe('You have not made any pieces yet');
      expect(await empty.getByRole('link', { name: 'Choose a template' }).getAttribute('href')).toBe(
        '/gallery',
      );
      await page.goto('/batch');
      expect(await page.locator('.empty .empty-title').textContent()).toBe('No batch jobs yet');
      for (const url of ['/pieces', '/batch', '/gallery']) {
        await page.goto(url);
        expect(await problemsOf(page, `${url} at ${size.width}`)).toEqual([]);
      }
    }
  });

  it('answers an unknown URL with a 404 page for browsers, and problem JSON for API clients', async () => {
    const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    const page = await pageRequest(server.url, 'get', '/no/such/page', { headers: html });
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('Page not found');
    expect(page.text).toContain('href="/"');
    // Signed in, the page keeps the navigation.
    const rep = await signInPages(server.url, keys.rep);
    const signedIn = await rep.request('get', '/no/such/page', { headers: html });
    expect(signedIn.status).toBe(404);
    expect(signedIn.text).toContain('href="/pieces"');

    for (const [path, accept] of [
      ['/no/such/page', 'application/json'],
      ['/no/such/page', '*/*'],
      ['/api/v1/no-such-thing', html.accept],
    ] as const) {
      const reply = await pageRequest(server.url, 'get', path, { headers: { accept } });
      expect(reply.status).toBe(404);
      expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(reply.json).toMatchObject({ status: 404, code: 'not_found' });
    }
  });

  it('answers a method an address does not take with 405 and Allow, as a page or as problem JSON', async () => {
    const page = await pageRequest(server.url, 'get', '/sign-out', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(405);
    expect(page.headers.get('allow')).toBe('POST');
    expect(page.text).toContain('Not available this way');

    const api = await call(server.url, 'delete', '/api/v1/templates', { key: keys.admin });
    expect(api.status).toBe(405);
    expect(api.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(api.json).toMatchObject({ status: 405, code: 'method_not_allowed' });
  });

  it('gives a 5xx page the request id to quote, and says what to do next', async () => {
    const desk = await signInPages(server.url, keys.marketing);
    vi.spyOn(server.running.services.templates, 'list').mockImplementation(() => {
      throw new Error('a fault of ours');
    });
    try {
      const reply = await desk.request('get', '/marketing');
      expect(reply.status).toBe(500);
      expect(reply.text).toContain(`Error reference ${reply.headers.get('x-request-id')}`);
      expect(reply.text).toContain('Try again in a moment');
      expect(reply.text).not.toContain('a fault of ours');
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('shows every time in the viewer’s own time zone', async () => {
    const shown: string[] = [];
    for (const timezoneId of ['America/New_York', 'Asia/Tokyo']) {
      const page = await (await browser.context(server.url, { timezoneId, locale: 'en-US' })).newPage();
      await signIn(page, keys.rep, LANDING.rep);
      // The piece's time on its card in My pieces.
      await page.goto('/pieces');
      const times = page.locator('.piece-card time');
      const expected = new Intl.DateTimeFormat('en-US', {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: 'numeric',
        minute: '2-digit',
        timeZoneName: 'short',
        timeZone: timezoneId,
      }).format(new Date(renderedAt));
      await expect.poll(() => times.allTextContents()).toEqual([expected]);
      // The instant in UTC stays at hand.
      expect(await times.first().getAttribute('title')).toBe(
        `${renderedAt.slice(0, 10)} ${renderedAt.slice(11, 16)} UTC`,
      );
      shown.push(expected);
    }
    expect(shown[0]).toMatch(/ (EST|EDT)$/);
    expect(shown[1]).toMatch(/ GMT\+9$/);
  });

  it('confirms a change with a toast after its redirect, once', async () => {
    const page = await (await browser.context(server.url, { viewport: WIDTHS[1] })).newPage();
    await signIn(page, keys.rep, LANDING.rep);
    await page.goto('/pieces');
    await page.getByLabel(`What came of piece ${pieceCode}`).selectOption('contacted');
    await page.getByRole('button', { name: `Save piece ${pieceCode}` }).click();
    const toast = page.getByRole('status').filter({ hasText: `Saved what came of piece ${pieceCode}.` });
    await expect.poll(() => toast.isVisible()).toBe(true);
    expect(await problemsOf(page, 'the toast')).toEqual([]);
    // It can be dismissed, and is not shown again.
    await toast.getByRole('button', { name: 'Dismiss' }).click();
    await expect.poll(() => toast.count()).toBe(0);
    await page.reload();
    expect(await page.locator('[data-toast]').count()).toBe(0);

    // Only this server's words: a toast cookie made elsewhere shows nothing.
    const forged = `${Math.floor(Date.now() / 1000) + 60}.${Buffer.from('You won a prize').toString('base64url')}.AAAA`;
    await page.context().addCookies([{ name: 'platen_flash', value: forged, url: server.url }]);
    await page.reload();
    expect(await page.locator('[data-toast]').count()).toBe(0);
  });
});
