/**
 * A rep's pages in headless Chromium against a real server: sign-in, the brochure form with its live
 * preview and fit feedback, the PDF download (opened and read, and again from My pieces), My pieces with a
 * scan's response and an outcome marked, the profile, and what a rep must not reach (marketing
 * pages, a POST without its CSRF token, a revoked session). At a laptop's and a phone's width, axe
 * clean in their error states: problems in words, a profile completed before the first piece, the
 * preview (placeholders, the edited field's page, overflow outlined, zoom), Download and its reason,
 * and a piece in progress kept across a reload.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { PHOTO_MIN_PX } from '../../src/model/manifest.js';
import { axeViolations, scrollsSideways, WIDTHS } from '../support/axe.js';
import { signIn, statusOf, useBrowser } from '../support/browser.js';
import { cleanup, tempDir } from '../support/files.js';
import { gradientJpeg } from '../support/images.js';
import { call, createKey, profileForm, startTestServer, type TestServer } from '../support/server.js';
import { popplerText } from '../support/pdf.js';
import { brochureRecord } from '../support/records.js';

const BROCHURE = 'Harbor Mutual – personalized product brochure';
const GALLERY = /\/gallery$/;
const PHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

describe('the rep pages', () => {
  const browser = useBrowser();
  let server: TestServer;
  let repKey: string;

  beforeAll(async () => {
    server = await startTestServer();
    repKey = (await createKey(server, 'rep', 'Dana Whitcomb', 'dana')).key;
    const profile = await call(server.url, 'put', '/api/v1/reps/me', { key: repKey, body: profileForm() });
    expect(profile.status, JSON.stringify(profile.json)).toBe(200);
  });

  afterAll(async () => {
    await server.close();
    await cleanup();
  });

  async function repPage(options: { javaScriptEnabled?: boolean } = {}) {
    const page = await (await browser.context(server.url, options)).newPage();
    await signIn(page, repKey, GALLERY);
    return page;
  }

  it('sends signed-out visitors to sign in, and back where they were going', async () => {
    const page = await (await browser.context(server.url)).newPage();
    await page.goto('/make/insurance-brochure');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await page.getByLabel('API key').fill('platen_not-a-real-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('alert').first().textContent())
      .toContain('unknown or has been revoked');
    await page.getByLabel('API key').fill(repKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/make\/insurance-brochure$/);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(BROCHURE);
    // What the piece is for, in the template's words for reps; never its print set-up.
    expect(await page.locator('.lead').textContent()).toMatch(/^A two-page brochure for a prospect/);
    expect(await page.locator('main').textContent()).not.toContain('0.125in bleed');

    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'platen_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(session!.value).not.toContain(repKey.slice(7));
  });

  it('fills the brochure with a live preview and fit feedback, downloads the PDF and finds it in My pieces', async () => {
    const page = await repPage();
    const res = await page.goto('/gallery');
    expect(res!.headers()['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
    await page.getByRole('link', { name: BROCHURE }).click();
    await page.waitForURL(/\/make\/insurance-brochure$/);

    // The rep's own details are shown read-only, from the profile.
    await expect.poll(() => page.locator('.rep-details').textContent()).toContain('Dana Whitcomb');
    expect(await page.locator('input[name^="rep."]').count()).toBe(0);

    const preview = page.locator('#preview-image');
    await page.getByLabel('Prospect ID').fill('HM-777');
    await page.getByLabel('First name').fill('Winifred');
    // Hebrew or Arabic typed into a field reads right to left as it is typed.
    expect(await page.getByLabel('First name').getAttribute('dir')).toBe('auto');
    await page.getByLabel('Last name').fill('Quayle');
    await page.getByLabel('Product line').selectOption('auto');
    await expect.poll(() => preview.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    const first = await preview.getAttribute('src');

    const message = 'Winifred, lovely to meet you at the Quayside fair in Port Alden.';
    const note = page.getByLabel('Your message');
    await note.fill(message);
    await expect.poll(() => preview.getAttribute('src')).not.toBe(first);
    expect(await page.locator('#in-fields-message-count').textContent()).toBe(
      `${message.length} / 400 characters`,
    );

    // Eleven short paragraphs: the box copyfits them smaller, and says so beside the field.
    const lines = (n: number) =>
      Array.from({ length: n }, (_, i) => `Point ${i + 1}: we go through it together.`);
    await note.fill(lines(11).join('\n'));
    const fit = page.locator('#in-fields-message-fit');
    await expect
      .poll(() => fit.textContent())
      .toMatch(/^Will shrink to [\d.]+ pt \(from 12.5 pt\) to fit\.$/);
    // Fourteen do not fit at any allowed size.
    await note.fill(lines(14).join('\n').slice(0, 400));
    await expect.poll(() => fit.textContent()).toMatch(/^Too long by about \d+ characters/);

    await note.fill(message);
    await expect.poll(() => fit.textContent()).toBe('');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download PDF' }).click(),
    ]);
    const file = path.join(await tempDir('platen-web-'), 'piece.pdf');
    await download.saveAs(file);
    const pdf = await readFile(file);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const [front] = await popplerText(pdf);
    expect(front).toContain(message);
    expect(front).toContain('Winifred Quayle');
    expect(front).toContain('Dana Whitcomb');

    await page.goto('/pieces');
    const row = page.getByRole('listitem').filter({ hasText: BROCHURE });
    await expect.poll(() => row.count()).toBe(1);
    const link = row.getByRole('link', { name: /Download PDF/ });
    const [again] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const againFile = path.join(path.dirname(file), 'again.pdf');
    await again.saveAs(againFile);
    expect((await readFile(againFile)).equals(pdf)).toBe(true);

    // Audited like an API render; another rep cannot fetch it.
    const audit = await call(server.url, 'get', '/api/v1/renders', { key: repKey });
    const renders = (audit.json as { renders: { id: string; templateId: string }[] }).renders;
    expect(renders.map((r) => r.templateId)).toEqual(['insurance-brochure']);
    expect(await link.getAttribute('href')).toBe(`/pieces/${renders[0]!.id}.pdf`);
    const other = await (await browser.context(server.url)).newPage();
    await signIn(other, (await createKey(server, 'rep', 'Other rep', 'other')).key, GALLERY);
    expect(await statusOf(other, `/pieces/${renders[0]!.id}.pdf`)).toBe(404);
  });

  it('switches preview pages with the keyboard alone', async () => {
    const page = await repPage();
    await page.goto('/make/insurance-brochure');
    await page.getByLabel('Prospect ID').fill('HM-778');
    await page.getByLabel('First name').fill('Ada');
    await page.getByLabel('Last name').fill('Vance');
    const preview = page.locator('#preview-image');
    await expect.poll(() => preview.getAttribute('alt')).toBe('Preview of page 1 with your details');
    const back = page.getByRole('button', { name: 'Page 2: back' });
    await back.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => preview.getAttribute('alt')).toBe('Preview of page 2 with your details');
    expect(await back.getAttribute('aria-pressed')).toBe('true');
  });

  it('works without scripts: a refused form comes back with each error beside its field', async () => {
    const page = await repPage({ javaScriptEnabled: false });
    await page.goto('/make/insurance-brochure');
    await page.getByLabel('Prospect ID').fill('not valid!');
    await page.getByRole('button', { name: 'Download PDF' }).click();
    await page.waitForLoadState();
    // A summary at the top names each problem in words, each a link to its field.
    const summary = page.locator('#error-summary');
    expect(await summary.getByRole('heading').textContent()).toMatch(
      /^\d+ things to fix before you download$/,
    );
    const link = summary.getByRole('link', {
      name: 'Prospect ID: letters, digits, hyphens and underscores only, with no spaces',
    });
    expect(await link.getAttribute('href')).toBe('#in-prospect-id');
    expect(await summary.getByRole('link', { name: 'First name: required' }).count()).toBe(1);
    expect(await summary.textContent()).not.toMatch(/prospect\.|\^|\$|invalid_format/);
    const error = page.locator('#in-prospect-id-error');
    expect(await error.textContent()).toBe('Letters, digits, hyphens and underscores only, with no spaces');
    expect(await page.getByLabel('Prospect ID').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#in-prospect-firstName-error').textContent()).not.toBe('');
    expect(await page.getByLabel('Prospect ID').inputValue()).toBe('not valid!');
  });

  it('edits the profile, and the form shows the new details', async () => {
    const page = await repPage();
    await page.getByRole('link', { name: 'My profile' }).click();
    await page.getByLabel('Phone').fill('not a phone');
    await page.getByRole('button', { name: 'Save profile' }).click();
    expect(await page.locator('#profile-phone-error').textContent()).toBe('Not a phone number');
    expect(await page.locator('#error-summary').textContent()).toContain('Phone: not a phone number');
    await page.getByLabel('Phone').fill('(207) 555-0101');
    await page.getByLabel('Title').fill('Coastal Lines Agent');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('saved');
    await page.goto('/make/insurance-brochure');
    expect(await page.locator('.rep-details').textContent()).toContain('Coastal Lines Agent');
  });

  it('keeps a rep out of the marketing pages', async () => {
    const page = await repPage();
    expect(await statusOf(page, '/marketing')).toBe(403);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Not allowed');
    expect(await statusOf(page, '/marketing/templates/insurance-brochure')).toBe(403);
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const publish = await page.request.post('/marketing/templates/insurance-brochure/versions/1/retire', {
      form: { _csrf: csrf },
      maxRedirects: 0,
    });
    expect(publish.status()).toBe(403);
  });

  it('refuses a state-changing request without the session’s CSRF token', async () => {
    const page = await repPage();
    await page.goto('/make/insurance-brochure');
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const form = { version: '1', 'prospect.id': 'HM-1', 'prospect.firstName': 'A', 'prospect.lastName': 'B' };
    for (const token of [undefined, 'forged', csrf.slice(0, -2) + 'xx']) {
      const res = await page.request.post('/make/insurance-brochure/pdf', {
        form: token === undefined ? form : { ...form, _csrf: token },
      });
      expect(res.status()).toBe(403);
    }
    const preview = await page.request.post('/make/insurance-brochure/preview', {
      data: { version: 1, page: 1, values: {} },
    });
    expect(preview.status()).toBe(403);
    const signOut = await page.request.post('/sign-out', { form: {}, maxRedirects: 0 });
    expect(signOut.status()).toBe(403);
    // With the token, the same preview is answered (with placeholders for what is not typed yet).
    const ok = await page.request.post('/make/insurance-brochure/preview', {
      data: { version: 1, page: 1, values: {} },
      headers: { 'x-csrf-token': csrf },
    });
    expect(ok.status()).toBe(200);
    // A rep never types whose details a piece carries: rep values are refused, not ignored.
    const impersonate = await page.request.post('/make/insurance-brochure/preview', {
      data: { version: 1, page: 1, values: { 'rep.name': 'Someone Else' } },
      headers: { 'x-csrf-token': csrf },
    });
    expect(impersonate.status()).toBe(422);
    expect((await impersonate.json()).problems).toContainEqual(
      expect.objectContaining({ path: 'rep', rule: 'unknown_key' }),
    );
  });

  it('shows on My pieces the scan of a piece and takes what came of it', async () => {
    const { prospect, fields } = brochureRecord();
    const render = await call(server.url, 'post', '/api/v1/renders', {
      key: repKey,
      json: { templateId: 'insurance-brochure', prospect, fields },
    });
    expect(render.status).toBe(201);
    const code = render.headers.get('platen-piece-code')!;
    const scan = await fetch(`${server.url}/r/${code}?qr`, {
      redirect: 'manual',
      headers: { 'user-agent': PHONE },
    });
    expect(scan.status).toBe(302);

    const page = await repPage();
    await page.getByRole('navigation').getByRole('link', { name: 'My pieces' }).click();
    await page.waitForURL(/\/pieces$/);
    const row = page.getByRole('listitem').filter({ hasText: code });
    await expect.poll(() => row.count()).toBe(1);
    await expect
      .poll(() => row.textContent())
      .toMatch(/1 response, first\s+[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d [AP]M \S+/);
    await row.getByLabel(`What came of piece ${code}`).selectOption({ label: 'Meeting booked' });
    await row.getByLabel(`Note on piece ${code}`).fill('Tuesday, 10 am');
    await row.getByRole('button', { name: `Save piece ${code}` }).click();
    await page.waitForURL(/\/pieces(#.*)?$/);
    await expect
      .poll(() => page.getByLabel(`What came of piece ${code}`).inputValue())
      .toBe('meeting_booked');
    const stored = await call(server.url, 'get', `/api/v1/pieces/${code}`, { key: repKey });
    expect(stored.json).toMatchObject({
      outcome: 'meeting_booked',
      outcomeNote: 'Tuesday, 10 am',
      responses: 1,
    });
  });

  it('ends the session when the key is revoked, and on signing out', async () => {
    const { id, key } = await createKey(server, 'rep', 'Short-lived', 'dana');
    const page = await (await browser.context(server.url)).newPage();
    await signIn(page, key, GALLERY);
    expect(await statusOf(page, '/gallery')).toBe(200);
    const revoked = await call(server.url, 'delete', `/api/v1/keys/${id}`, { key: server.adminKey });
    expect(revoked.status).toBeLessThan(300);
    await page.goto('/gallery');
    expect(new URL(page.url()).pathname).toBe('/sign-in');

    const other = await repPage();
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.waitForURL(/\/sign-in$/);
    await other.goto('/gallery');
    expect(new URL(other.url()).pathname).toBe('/sign-in');
  });
  describe.each(WIDTHS)('at $name width', ({ name, ...viewport }) => {
    async function signedIn(key: string): Promise<Page> {
      const page = await (await browser.context(server.url, { viewport })).newPage();
      await signIn(page, key, GALLERY);
      return page;
    }

    async function expectAccessible(page: Page) {
      expect(await axeViolations(page)).toEqual([]);
      expect(await scrollsSideways(page)).toBe(false);
    }

    it('takes a rep whose profile is incomplete to complete it, refuses what templates refuse, and goes back', async () => {
      const key = (await createKey(server, 'rep', 'Nell Ostrander', `nell-${name}`)).key;
      const page = await signedIn(key);
      await page.goto('/make/insurance-brochure');
      await page.waitForURL(/\/profile\?next=%2Fmake%2Finsurance-brochure$/);
      expect(await page.locator('#profile-first').textContent()).toContain(BROCHURE);
      const summary = page.locator('#error-summary');
      await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('error-summary');
      expect(await summary.getByRole('link').allTextContents()).toEqual([
        'Name: required: the template prints it',
        'Licence number: required: the template prints it',
        'Phone: required: the template prints it',
        'Email: required: the template prints it',
      ]);
      expect(await page.locator('#profile-photo-help').textContent()).toContain(
        `at least ${PHOTO_MIN_PX} × ${PHOTO_MIN_PX} pixels`,
      );
      await expectAccessible(page);

      // A lower-case licence number and a small photo are refused at save, in words.
      await page.getByLabel('Name').fill('Nell Ostrander');
      await page.getByLabel('Phone').fill('(207) 555-0177');
      await page.getByLabel('Email').fill('nell@harbormutual.example');
      await page.getByLabel('Licence number').fill('me-4521');
      await page.getByLabel('Photo').setInputFiles({
        name: 'small.jpg',
        mimeType: 'image/jpeg',
        buffer: await gradientJpeg(200, 200),
      });
      await page.getByRole('button', { name: 'Save profile' }).click();
      await page.waitForLoadState();
      await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('error-summary');
      expect(await summary.getByRole('link').allTextContents()).toEqual([
        'Licence number: 4 to 20 capital letters, digits or hyphens, such as ME-1234567',
        `Photo: the photo is 200 × 200 pixels; it needs at least ${PHOTO_MIN_PX} × ${PHOTO_MIN_PX}`,
      ]);
      expect(await page.locator('#profile-licenseNumber-error').textContent()).toBe(
        '4 to 20 capital letters, digits or hyphens, such as ME-1234567',
      );
      await expectAccessible(page);

      await page.getByLabel('Licence number').fill('ME-4521');
      await page.getByRole('button', { name: 'Save profile' }).click();
      await page.waitForURL(/\/make\/insurance-brochure$/);
      expect(await page.locator('.rep-details').textContent()).toContain('ME-4521');
    });

    it('previews placeholders, turns to the edited field’s page, outlines overflowing text and zooms', async () => {
      const page = await signedIn(repKey);
      await page.goto('/make/postcard-6x4');
      const preview = page.locator('#preview-image');
      // Until the rep types: the placeholders' preview, not a sample's, and Download says what it needs.
      await expect.poll(() => preview.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
      expect(await page.locator('#preview-status').textContent()).toBe(
        'Until you fill in every detail, the preview shows each empty one by its name.',
      );
      const download = page.getByRole('button', { name: 'Download PDF' });
      expect(await download.isDisabled()).toBe(true);
      expect(await page.locator('#download-reason').textContent()).toBe(
        'To download, fill in First name, Last name, Street address, City, State, ZIP code.',
      );
      await expectAccessible(page);

      // The message is on the postcard's back: editing it turns the preview there.
      const message = page.getByLabel('Your message');
      await message.click();
      await expect.poll(() => preview.getAttribute('alt')).toBe('Preview of page 2 with your details');
      expect(await page.getByRole('button', { name: 'Page 2: back' }).getAttribute('aria-pressed')).toBe(
        'true',
      );

      // Too many lines for the box, though under the 240 characters: outlined and listed, by label,
      // and the counter and the fit line give the same count.
      await message.fill(Array.from({ length: 12 }, (_, i) => `Point ${i + 1}: together.`).join('\n'));
      const outline = page.locator('.overflow-box');
      await expect.poll(() => outline.textContent()).toBe('Your message: too long');
      const fit = await page.locator('#in-fields-message-fit').textContent();
      const cut = /^Too long by about (\d+) characters/.exec(fit!)?.[1];
      expect(cut).toBeDefined();
      expect(await page.locator('#in-fields-message-count').textContent()).toMatch(
        new RegExp(`^\\d+ / 240 characters: about \\d+ fit, ${cut} too many for the box$`),
      );
      expect(await page.locator('#preview-overflow').textContent()).toBe(
        `Your message does not fit (Page 2: back): about ${cut} characters too many.`,
      );
      expect(await page.locator('#download-reason').textContent()).toMatch(/fix Your message\.$/);

      // While typing, the preview stays in view beside (or, on a phone, above) the field.
      for (const locator of [preview, message]) {
        const box = (await locator.boundingBox())!;
        expect(box.y).toBeGreaterThanOrEqual(0);
        expect(box.y + Math.min(box.height, 40)).toBeLessThanOrEqual(viewport.height);
      }
      await expectAccessible(page);

      const sheet = page.locator('#preview-sheet');
      const before = (await sheet.boundingBox())!.width;
      const pixels = () =>
        page.evaluate("document.getElementById('preview-image').naturalWidth") as Promise<number>;
      const drawn = await pixels();
      await page.getByRole('button', { name: 'Zoom in' }).click();
      expect(await page.locator('#zoom-level').textContent()).toBe('150%');
      expect((await sheet.boundingBox())!.width).toBeCloseTo(before * 1.5, 0);
      // Drawn again with more pixels, so the zoomed preview stays sharp.
      await expect.poll(pixels).toBe(Math.round(drawn * 1.5));
      expect(await scrollsSideways(page)).toBe(false);
    });

    it('keeps a piece in progress across a reload, names every problem, and refuses a download with a summary it moves to', async () => {
      const page = await signedIn(repKey);
      await page.goto('/make/insurance-brochure');
      await page.getByLabel('Prospect ID').fill('HM-900');
      await page.getByLabel('First name').fill('Ida');
      await page.getByLabel('Last name').fill('Rhee');
      await page.getByLabel('Product line').selectOption('life');
      await page.reload();
      expect(await page.getByLabel('First name').inputValue()).toBe('Ida');
      expect(await page.getByLabel('Product line').inputValue()).toBe('life');
      expect(await page.locator('#restored').isVisible()).toBe(true);

      // Two characters no font shows: both are named beside the field.
      const note = page.getByLabel('Your message');
      await note.fill('See you soon 🦜 and 🐙');
      const errors = page.locator('#in-fields-message-error p');
      await expect.poll(() => errors.count()).toBe(2);
      expect((await errors.allTextContents()).join(' ')).toMatch(/🦜.*🐙/);
      await expectAccessible(page);
      await note.fill('See you soon.');
      await expect.poll(() => errors.count()).toBe(0);

      // A refusal the page could not foresee comes back with a summary at the top, focused.
      await page.getByLabel('Prospect ID').fill('not valid!');
      await expect
        .poll(() => page.locator('#download-reason').textContent())
        .toBe('To download, fix Prospect ID.');
      // The preview goes on, the refused value shown by its placeholder.
      expect(await page.locator('#preview-status').textContent()).toBe(
        'Details that need fixing show by their name until they are fixed.',
      );
      expect(await page.locator('#preview-image').isVisible()).toBe(true);
      await page.evaluate("document.getElementById('piece-form').requestSubmit()");
      await page.waitForURL(/\/make\/insurance-brochure\/pdf$/);
      await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('error-summary');
      expect(await page.locator('#error-summary').getByRole('link').allTextContents()).toEqual([
        'Prospect ID: letters, digits, hyphens and underscores only, with no spaces',
      ]);
      await expectAccessible(page);

      await page.getByLabel('Prospect ID').fill('HM-900');
      const download = page.getByRole('button', { name: 'Download PDF' });
      await expect.poll(() => download.isEnabled()).toBe(true);
      const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
      expect(file.suggestedFilename()).toMatch(/^insurance-brochure-[0-9a-f]{16}\.pdf$/);
      // Made: the piece in progress is forgotten.
      await page.goto('/make/insurance-brochure');
      expect(await page.getByLabel('First name').inputValue()).toBe('');
      expect(await page.locator('#restored').isVisible()).toBe(false);

      // A piece in progress is its maker's: someone else signing in on the same tab never sees it.
      await page.getByLabel('First name').fill('Zed');
      const other = (await createKey(server, 'rep', 'Ola Brandt', `ola-${name}`)).key;
      const profile = await call(server.url, 'put', '/api/v1/reps/me', { key: other, body: profileForm() });
      expect(profile.status).toBe(200);
      await page.context().clearCookies();
      await signIn(page, other, GALLERY);
      await page.goto('/make/insurance-brochure');
      expect(await page.getByLabel('First name').inputValue()).toBe('');
    });
  });
});
