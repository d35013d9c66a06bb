/**
 * The results page in headless Chromium against a real server: a rep's brochures (made through the
 * API, three of them scanned: their QR codes read by zbarimg and followed) show to marketing as a table of groups, headline against headline, with
 * rates and their intervals in words, a small group marked too small to judge, the fields reps edit,
 * and a CSV download of the table. Reps have no way in.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, statusOf, useBrowser } from '../support/browser.js';
import { cleanup } from '../support/files.js';
import { qrCodesOn } from '../support/pdf.js';
import { brief, PHONE_BROWSER, request } from '../support/request.js';
import { deskAndRep, startTestServer, type TestServer } from '../support/server.js';

const TEMPLATE = 'insurance-brochure';
const STEADY = 'Coverage that keeps you steady';
const PEACE = 'Peace of mind, close to home';

describe('the results page', () => {
  const browser = useBrowser();
  let server: TestServer;
  let marketingKey: string;
  let repKey: string;

  beforeAll(async () => {
    server = await startTestServer();
    ({ marketingKey, repKey } = await deskAndRep(server));
    const pdfs: Buffer[] = [];
    for (let i = 0; i < 12; i++) {
      const reply = await request(server, 'POST', '/api/v1/renders', {
        key: repKey,
        json: {
          templateId: TEMPLATE,
          prospect: { id: `HM-${i}`, firstName: 'José', lastName: 'Álvarez', productLine: 'home' },
          fields: { headline: i < 10 ? STEADY : PEACE, ...(i < 4 ? { message: 'Good to meet you.' } : {}) },
        },
      });
      expect(reply.status, brief(reply)).toBe(201);
      pdfs.push(reply.body);
    }
    // Three prospects scan their brochure's QR code, read here by zbarimg from a poppler raster; the
    // link leads on to the landing page with the campaign's UTM parameters.
    for (const pdf of pdfs.slice(0, 3)) {
      const [link] = await qrCodesOn(pdf, 1);
      expect(link).toMatch(new RegExp(`^${server.url}/r/[0-9A-Z*~$=]{13}\\?qr$`));
      const visit = await fetch(link!, { redirect: 'manual', headers: { 'user-agent': PHONE_BROWSER } });
      expect(visit.status).toBe(302);
      expect(new URL(visit.headers.get('location')!).searchParams.get('utm_campaign')).toBe(TEMPLATE);
    }
  }, 120_000);

  afterAll(async () => {
    await server.close();
    await cleanup();
  });

  it('shows marketing the groups, headline against headline, and downloads them as CSV', async () => {
    const page = await (await browser.context(server.url)).newPage();
    await signIn(page, marketingKey, /\/marketing$/);
    await page.getByRole('link', { name: 'Results' }).click();
    await page.waitForURL(/\/results$/);
    await page.getByRole('link', { name: 'Harbor Mutual – personalized product brochure' }).click();
    await page.waitForURL(new RegExp(`/results/${TEMPLATE}$`));

    // By version, at first: one group of all twelve pieces.
    const version = page.getByRole('row').filter({ hasText: 'Version 1' });
    expect(await version.locator('td').first().textContent()).toBe('12');

    await page
      .getByLabel('Compare by')
      .selectOption({ label: 'A choice on the piece (such as the headline)' });
    await page.getByLabel('Choice to compare').selectOption({ label: 'Headline' });
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/by=choice&input=fields.headline/);
    expect(await page.getByRole('heading', { level: 2 }).first().textContent()).toBe('By Headline');

    const steady = page.getByRole('row').filter({ hasText: STEADY });
    // 3 of 10: Wilson 95 % from 10.8 % to 60.3 %.
    expect(await steady.locator('td').allTextContents()).toEqual([
      '10',
      '3',
      '30 % (11–60 %)',
      expect.stringMatching(/^\d+ min$/),
      ...['0', '0', '0', '0', '0', '0'],
      '0, 0 % (0–28 %)',
    ]);
    expect(await steady.textContent()).not.toContain('too small to judge');
    const peace = page.getByRole('row').filter({ hasText: PEACE });
    expect(await peace.getByRole('rowheader').textContent()).toContain('too small to judge');
    expect(await peace.locator('td').nth(2).textContent()).toBe('0 % (0–66 %)');

    const message = page.getByRole('row').filter({ hasText: 'Your message' });
    expect(await message.locator('td').allTextContents()).toEqual(['4', '8', '33 %']);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download this table (CSV)' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${TEMPLATE}-results-by-choice.csv`);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toMatch(/^\uFEFFgroup,key,held_out,pieces,responded,response_rate,/);
    expect(csv).toContain(`${STEADY},${STEADY},false,10,3,0.3000,`);
  });

  it('has no way in for reps', async () => {
    const page = await (await browser.context(server.url)).newPage();
    await signIn(page, repKey, /\/gallery$/);
    expect(await page.getByRole('link', { name: 'Results' }).count()).toBe(0);
    expect(await statusOf(page, `/results/${TEMPLATE}`)).toBe(403);
  });
});
