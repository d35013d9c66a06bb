/**
 * My pieces in headless Chromium at a laptop's and a phone's width: each piece with its prospect's
 * name, template, a thumbnail of its first page and its time; search by prospect, template and code,
 * with and without scripts; "make another like this" opening the form filled in; the thumbnails
 * authorized as the PDFs are; axe clean, error states included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, scrollsSideways, WIDTHS } from '../support/axe.js';
import { signIn, statusOf, useBrowser } from '../support/browser.js';
import { cleanup } from '../support/files.js';
import { brochureRecord, postcardRender } from '../support/records.js';
import {
  call,
  createKey,
  deskAndRep,
  profileForm,
  startTestServer,
  type TestServer,
} from '../support/server.js';

const BROCHURE = 'Harbor Mutual – personalized product brochure';
const POSTCARD = 'Harbor Mutual – 6×4 prospecting postcard';
const MESSAGE = 'Lovely to meet you at the Quayside fair.';

describe('My pieces', () => {
  const browser = useBrowser();
  let server: TestServer;
  let repKey: string;
  let marketingKey: string;
  /** Rep Dana's pieces: a brochure for Winifred Quayle and a postcard for Chloé Köhler. */
  const made = { brochure: { code: '', render: '' }, postcard: { code: '', render: '' } };

  async function render(json: object): Promise<{ code: string; render: string }> {
    const reply = await call(server.url, 'post', '/api/v1/renders', { key: repKey, json });
    expect(reply.status).toBe(201);
    return {
      code: reply.headers.get('platen-piece-code')!,
      render: reply.headers.get('location')!.split('/').pop()!,
    };
  }

  beforeAll(async () => {
    server = await startTestServer();
    ({ repKey, marketingKey } = await deskAndRep(server));
    const { fields } = brochureRecord();
    made.brochure = await render({
      templateId: 'insurance-brochure',
      prospect: { id: 'HM-4410', firstName: 'Winifred', lastName: 'Quayle', productLine: 'home' },
      fields: { ...fields, message: MESSAGE },
    });
    made.postcard = await render(postcardRender());
  });

  afterAll(async () => {
    await server.close();
    await cleanup();
  });

  async function piecesPage(width: (typeof WIDTHS)[number], options: { javaScriptEnabled?: boolean } = {}) {
    const page = await (await browser.context(server.url, options)).newPage();
    await page.setViewportSize({ width: width.width, height: width.height });
    await signIn(page, repKey, /\/gallery$/);
    await page.goto('/pieces');
    return page;
  }

  for (const width of WIDTHS) {
    it(`shows each piece's prospect, template, thumbnail and time, axe clean (${width.name})`, async () => {
      const page = await piecesPage(width);
      const card = page
        .getByRole('listitem')
        .filter({ has: page.getByRole('heading', { name: 'Winifred Quayle' }) });
      await expect.poll(() => card.count()).toBe(1);
      expect(await card.textContent()).toContain(BROCHURE);
      expect(await card.textContent()).toContain(made.brochure.code);
      const time = card.locator('time').first();
      const iso = await time.getAttribute('datetime');
      expect(new Date(iso!).toISOString()).toBe(iso);
      expect(Math.abs(Date.parse(iso!) - Date.now())).toBeLessThan(10 * 60_000);
      // The thumbnail is the piece's own first page, drawn.
      const thumb = card.locator('img.piece-thumb');
      await expect
        .poll(() => thumb.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
        .toBeGreaterThan(100);
      expect(await thumb.getAttribute('src')).toBe(`/pieces/${made.brochure.code}/thumbnail.png`);
      const postcard = page
        .getByRole('listitem')
        .filter({ has: page.getByRole('heading', { name: 'Chloé Köhler' }) });
      expect(await postcard.textContent()).toContain(POSTCARD);
      // Nothing scrolls sideways.
      expect(await scrollsSideways(page)).toBe(false);
      expect(await axeViolations(page)).toEqual([]);
    });

    it(`shows a refused outcome beside its piece, axe clean (${width.name})`, async () => {
      const page = await piecesPage(width);
      const code = made.postcard.code;
      await page.getByLabel(`Note on piece ${code}`).evaluate((input) => {
        input.removeAttribute('maxlength');
      });
      await page.getByLabel(`What came of piece ${code}`).selectOption({ label: 'Contacted' });
      await page.getByLabel(`Note on piece ${code}`).fill('x'.repeat(1001));
      await page.getByRole('button', { name: `Save piece ${code}` }).click();
      await expect
        .poll(() => page.locator(`[id="error-${code}"]`).textContent())
        .toBe('Keep the note to 1000 characters or fewer.');
      expect(await axeViolations(page)).toEqual([]);
    });
  }

  it('searches by prospect, template and code without scripts', async () => {
    const page = await piecesPage(WIDTHS[0], { javaScriptEnabled: false });
    const search = async (text: string) => {
      await page.getByLabel('Search pieces').fill(text);
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForURL((url) => url.searchParams.get('q') === text);
      return page.locator('.piece-prospect').allTextContents();
    };
    expect(await search('quayle')).toEqual(['Winifred Quayle']);
    expect(await search('postcard')).toEqual(['Chloé Köhler']);
    // A code as printed, in any case, with or without its hyphens.
    expect(await search(made.brochure.code.toLowerCase())).toEqual(['Winifred Quayle']);
    expect(await search('Nobody At All')).toEqual([]);
    expect(await page.locator('.empty').textContent()).toContain('No pieces match “Nobody At All”');
  });

  it('searches as you type with scripts, keeping the address in step', async () => {
    const page = await piecesPage(WIDTHS[1]);
    const url = page.url();
    await page.getByLabel('Search pieces').pressSequentially('winif');
    await expect.poll(() => page.locator('.piece-prospect').allTextContents()).toEqual(['Winifred Quayle']);
    expect(page.url()).toMatch(/\/pieces\?q=winif$/);
    expect(await page.getByRole('status').textContent()).toBe('1 piece matching “winif”');
    await page.getByLabel('Search pieces').fill('no such prospect');
    await expect.poll(() => page.locator('.empty').count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByLabel('Search pieces').fill('');
    await expect.poll(() => page.locator('.piece-prospect').count()).toBe(2);
    expect(url).toMatch(/\/pieces$/);
  });

  it('makes another like this in one click: the form opens filled in with the piece’s values', async () => {
    const page = await piecesPage(WIDTHS[0]);
    const card = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('heading', { name: 'Winifred Quayle' }) });
    await card.getByRole('link', { name: /Make another like this/ }).click();
    // The code's check symbol may be one of * ~ $ =, so the address is compared parsed, not as a pattern.
    await page.waitForURL(
      (url) =>
        url.pathname === '/make/insurance-brochure' && url.searchParams.get('from') === made.brochure.code,
    );
    expect(await page.getByLabel('Prospect ID').inputValue()).toBe('HM-4410');
    expect(await page.getByLabel('First name').inputValue()).toBe('Winifred');
    expect(await page.getByLabel('Last name').inputValue()).toBe('Quayle');
    expect(await page.getByLabel('Product line').inputValue()).toBe('home');
    expect(await page.getByLabel('Your message').inputValue()).toBe(MESSAGE);
  });

  it('shows thumbnails and starts from pieces only to those who may see them', async () => {
    const other = await createKey(server, 'rep', 'Other rep', 'other');
    // A complete profile: the form is reached only with one, and would send them to it first.
    expect(
      (await call(server.url, 'put', '/api/v1/reps/me', { key: other.key, body: profileForm() })).status,
    ).toBe(200);
    const page = await (await browser.context(server.url)).newPage();
    await signIn(page, other.key, /\/gallery$/);
    expect(await statusOf(page, `/pieces/${made.brochure.code}/thumbnail.png`)).toBe(404);
    expect(await statusOf(page, `/make/insurance-brochure?from=${made.brochure.code}`)).toBe(404);
    await page.goto('/pieces?q=quayle');
    expect(await page.locator('.piece-card').count()).toBe(0);

    // Marketing sees every rep's pieces, with their thumbnails, but makes none.
    const desk = await (await browser.context(server.url)).newPage();
    await signIn(desk, marketingKey, /\/marketing$/);
    await desk.goto('/pieces?q=quayle');
    expect(await desk.locator('.piece-prospect').allTextContents()).toEqual(['Winifred Quayle']);
    expect(await desk.getByRole('link', { name: /Make another like this/ }).count()).toBe(0);
    const png = await desk.request.get(`/pieces/${made.brochure.code}/thumbnail.png`);
    expect(png.status()).toBe(200);
    expect(png.headers()['content-type']).toBe('image/png');
    expect((await png.body()).subarray(1, 4).toString()).toBe('PNG');
  });
});
