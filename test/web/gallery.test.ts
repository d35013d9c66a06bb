/**
 * The gallery in headless Chromium at a laptop's and a phone's width: templates described for reps
 * (their manifest's summary, never print set-up), searched and filtered by kind and product line
 * without scripts (a GET form) and as you choose with them, and a quick look at every page of a
 * template, as a page and as a dialog; axe clean, the empty state included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, scrollsSideways, WIDTHS } from '../support/axe.js';
import { signIn, statusOf, useBrowser } from '../support/browser.js';
import { cleanup } from '../support/files.js';
import { deskAndRep, startTestServer, type TestServer } from '../support/server.js';

const BROCHURE = 'Harbor Mutual – personalized product brochure';
const POSTCARD = 'Harbor Mutual – 6×4 prospecting postcard';
const LETTER = 'Larkspur Solar – sales letter for a #10 window envelope';
const MULTILINGUAL = 'Harbor Mutual – multilingual card (Hebrew, Arabic, English)';

describe('the gallery', () => {
  const browser = useBrowser();
  let server: TestServer;
  let repKey: string;
  let marketingKey: string;

  beforeAll(async () => {
    server = await startTestServer();
    ({ repKey, marketingKey } = await deskAndRep(server));
  });

  afterAll(async () => {
    await server.close();
    await cleanup();
  });

  async function gallery(width: (typeof WIDTHS)[number], options: { javaScriptEnabled?: boolean } = {}) {
    const page = await (await browser.context(server.url, options)).newPage();
    await page.setViewportSize({ width: width.width, height: width.height });
    await signIn(page, repKey, /\/gallery$/);
    return page;
  }
  const names = (page: Awaited<ReturnType<typeof gallery>>) =>
    page.locator('#template-results .template-name').allTextContents();

  for (const width of WIDTHS) {
    it(`describes each template for reps, and filters as they choose (${width.name})`, async () => {
      const page = await gallery(width);
      expect(await names(page)).toEqual([BROCHURE, LETTER, MULTILINGUAL, POSTCARD]);
      const text = await page.locator('main').textContent();
      expect(text).toContain('Pick a headline, add a short personal message');
      expect(text).not.toMatch(/bleed|0\.125in|DMM/);
      expect(await scrollsSideways(page)).toBe(false);
      expect(await axeViolations(page)).toEqual([]);

      await page.getByLabel('Kind').selectOption({ label: 'Postcard' });
      await expect.poll(() => names(page)).toEqual([POSTCARD]);
      expect(new URL(page.url()).searchParams.get('kind')).toBe('postcard');
      expect(await page.getByRole('status').textContent()).toBe('1 of 4 templates');
      await page.getByLabel('Kind').selectOption({ label: 'All kinds' });
      await page.getByLabel('Product line').selectOption('Home solar');
      await expect.poll(() => names(page)).toEqual([LETTER]);
      await page.getByLabel('Product line').selectOption('Insurance');
      await page.getByLabel('Search templates').fill('envelope');
      await expect.poll(() => page.locator('.empty').count()).toBe(1);
      expect(await page.locator('.empty').textContent()).toContain('No template matches these filters');
      expect(await axeViolations(page)).toEqual([]);
    });

    it(`shows every page of a template in a quick look (${width.name})`, async () => {
      const page = await gallery(width);
      const card = page.getByRole('listitem').filter({ hasText: BROCHURE });
      await card.getByRole('link', { name: 'Quick look' }).click();
      const dialog = page.getByRole('dialog', { name: BROCHURE });
      await expect.poll(() => dialog.isVisible()).toBe(true);
      const pages = dialog.getByRole('img');
      expect(await pages.count()).toBe(2);
      for (const img of await pages.all())
        await expect
          .poll(() => img.evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth))
          .toBeGreaterThan(300);
      expect(await pages.nth(1).getAttribute('alt')).toBe('Page 2 (back) with sample details');
      expect(await axeViolations(page)).toEqual([]);
      await page.keyboard.press('Escape');
      await expect.poll(() => dialog.isVisible()).toBe(false);
      expect(new URL(page.url()).pathname).toBe('/gallery');
    });
  }

  it('filters and shows a quick look without scripts', async () => {
    const page = await gallery(WIDTHS[1], { javaScriptEnabled: false });
    await page.getByLabel('Kind').selectOption({ label: 'Letter' });
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/kind=letter/);
    expect(await names(page)).toEqual([LETTER]);
    await page.goto('/gallery?q=postcard&kind=&line=Insurance');
    expect(await names(page)).toEqual([POSTCARD]);
    await page.getByRole('link', { name: 'Quick look' }).click();
    await page.waitForURL(/\/gallery\/postcard-6x4$/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(POSTCARD);
    expect(await page.locator('figcaption').allTextContents()).toEqual(['Page 1: front', 'Page 2: back']);
    await page.getByRole('link', { name: 'Use this template' }).click();
    await page.waitForURL(/\/make\/postcard-6x4$/);
  });

  it('answers a filter no template has, and a template it cannot show, in words', async () => {
    const page = await gallery(WIDTHS[0]);
    // An old link's kind: nothing matches, and the page says how to see everything.
    expect(await statusOf(page, '/gallery?kind=poster')).toBe(200);
    expect(await page.locator('.empty').textContent()).toContain('No template matches these filters');
    expect(await statusOf(page, '/gallery/no-such-template')).toBe(404);
    expect(await axeViolations(page)).toEqual([]);
    const desk = await (await browser.context(server.url)).newPage();
    await signIn(desk, marketingKey, /\/marketing$/);
    expect(await statusOf(desk, '/gallery/insurance-brochure')).toBe(403);
  });
});
