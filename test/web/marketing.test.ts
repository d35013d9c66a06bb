/**
 * Marketing's publishing desk in headless Chromium against a real server: a package with problems
 * is refused with its validation report; a good one (zipped here from a bundled template) becomes a
 * draft that marketing previews, tries with hand-typed data and publishes, after which a rep sees it
 * in the gallery, uses its image field, and the version history counts the piece made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, useBrowser } from '../support/browser.js';
import { cleanup } from '../support/files.js';
import { gradientJpeg } from '../support/images.js';
import { makePackage } from '../support/packages.js';
import { deskAndRep, startTestServer, type TestServer } from '../support/server.js';
import { zipFolder } from '../support/zips.js';

const NAME = 'Spring check-in postcard';

describe('the publishing desk', () => {
  const browser = useBrowser();
  let server: TestServer;
  let marketingKey: string;
  let repKey: string;

  beforeAll(async () => {
    server = await startTestServer();
    ({ marketingKey, repKey } = await deskAndRep(server));
  });

  afterAll(async () => {
    await server.close();
    await cleanup();
  });

  it('uploads, previews, publishes and retires a template; reps see only what is published', async () => {
    const desk = await (await browser.context(server.url)).newPage();
    await signIn(desk, marketingKey, /\/marketing$/);

    // A package with a broken manifest is refused, each problem in words (never its JSON path).
    const broken = await makePackage('spring-check-in', NAME, (m) => {
      (m.page as Record<string, unknown>).size = 'napkin';
    });
    await desk.getByLabel('Package (.zip)').setInputFiles({
      name: 'broken.zip',
      mimeType: 'application/zip',
      buffer: await zipFolder(broken),
    });
    await desk.getByRole('button', { name: 'Upload and check' }).click();
    await expect.poll(() => desk.locator('.problems').textContent()).toContain('Page setup');
    expect(await desk.locator('.problems').textContent()).not.toContain('page.size');

    // A good one, with an image field added, becomes a draft.
    const dir = await makePackage('spring-check-in', NAME, (m) => {
      (m.fields as Record<string, unknown>).snapshot = {
        type: 'image',
        label: 'Snapshot',
        help: 'A photo of the street.',
      };
      const back = (m.pages as { elements: unknown[] }[])[1]!;
      back.elements.push({
        type: 'image',
        name: 'snapshot',
        input: 'fields.snapshot',
        x: 300,
        y: 80,
        w: 60,
        h: 60,
      });
    });
    await desk.getByLabel('Package (.zip)').setInputFiles({
      name: 'spring.zip',
      mimeType: 'application/zip',
      buffer: await zipFolder(dir),
    });
    await desk.getByRole('button', { name: 'Upload and check' }).click();
    await desk.waitForURL(/\/marketing\/templates\/spring-check-in\/versions\/1\?uploaded=1$/);
    expect(await desk.getByRole('status').first().textContent()).toContain('Uploaded as a draft');

    // Every page of every sample is shown as the renderer draws it.
    const samples = desk.locator('.sample img');
    expect(await samples.count()).toBeGreaterThanOrEqual(2);
    const first = samples.first();
    await first.scrollIntoViewIfNeeded();
    await expect
      .poll(() => first.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
      .toBe(432);

    // Not published yet: a rep does not see it.
    const rep = await (await browser.context(server.url)).newPage();
    await signIn(rep, repKey, /\/gallery$/);
    expect(await rep.getByRole('link', { name: NAME, exact: true }).count()).toBe(0);
    expect((await rep.goto('/make/spring-check-in'))!.status()).toBe(404);

    // Marketing tries it with hand-typed rep and prospect details.
    await desk.getByRole('link', { name: 'Try it with your own data' }).click();
    await desk.getByLabel('First name').fill('Juniper');
    await desk.getByLabel('Last name').fill('Hale');
    await desk.getByLabel('Street address').fill('12 Harbour Row');
    await desk.getByLabel('City').fill('Rockport');
    await desk.getByLabel('State').fill('ME');
    await desk.getByLabel('ZIP code').fill('04856');
    await desk.locator('#in-rep-name').fill('Hand Typed');
    await expect.poll(() => desk.locator('#preview-image').getAttribute('src')).toMatch(/^data:image\/png/);
    expect(await desk.getByRole('button', { name: 'Download PDF' }).count()).toBe(0);

    // Publish: the history says who and when.
    await desk.goto('/marketing/templates/spring-check-in');
    await desk.getByRole('button', { name: 'Publish version 1' }).click();
    await desk.waitForURL(/\/marketing\/templates\/spring-check-in$/);
    await expect
      .poll(() => desk.getByRole('status').first().textContent())
      .toContain('Version 1 is published: reps can use it now.');
    const row = desk.getByRole('row').filter({ hasText: 'Version 1' });
    expect(await row.locator('td').nth(1).textContent()).toBe('published');
    // In the viewer's time zone, named.
    await expect
      .poll(() => row.locator('td').nth(3).textContent())
      .toMatch(/^Morgan Lee, [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d [AP]M \S+$/);
    expect(await row.locator('td').nth(5).textContent()).toBe('0');

    // Now the rep sees it, uploads a snapshot for its image field, and makes a piece.
    await rep.goto('/gallery');
    await rep.getByRole('link', { name: NAME, exact: true }).click();
    await rep.waitForURL(/\/make\/spring-check-in$/);
    await rep.getByLabel('First name').fill('Juniper');
    await rep.getByLabel('Last name').fill('Hale');
    await rep.getByLabel('Street address').fill('12 Harbour Row');
    await rep.getByLabel('City').fill('Rockport');
    await rep.getByLabel('State').fill('ME');
    await rep.getByLabel('ZIP code').fill('04856');
    await rep.getByRole('button', { name: 'Page 2: back' }).click();
    const preview = rep.locator('#preview-image');
    await expect.poll(() => preview.getAttribute('alt')).toBe('Preview of page 2 with your details');
    const before = await preview.getAttribute('src');
    await rep.getByLabel('Snapshot').setInputFiles({
      name: 'street.jpg',
      mimeType: 'image/jpeg',
      buffer: await gradientJpeg(400, 400),
    });
    await expect
      .poll(() => rep.locator('input[name="fields.snapshot"]').inputValue())
      .toMatch(/^upload:[0-9a-f]{64}$/);
    await expect.poll(() => preview.getAttribute('src')).not.toBe(before);
    const [download] = await Promise.all([
      rep.waitForEvent('download'),
      rep.getByRole('button', { name: 'Download PDF' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^spring-check-in-[0-9a-f]{16}\.pdf$/);

    await desk.reload();
    expect(await row.locator('td').nth(5).textContent()).toBe('1');

    // Retired: gone from the gallery.
    await desk.getByRole('button', { name: 'Retire version 1' }).click();
    await desk.waitForURL(/\/marketing\/templates\/spring-check-in$/);
    expect(await row.locator('td').nth(1).textContent()).toBe('retired');
    await rep.goto('/gallery');
    expect(await rep.getByRole('link', { name: NAME, exact: true }).count()).toBe(0);
  });
});
