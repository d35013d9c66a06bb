/**
 * The designer in headless Chromium against a real server: marketing builds a postcard from
 * scratch (a background image, a headline bound to the prospect's first name, a rep field with a
 * maximum length, a QR code), saves, previews a sample and publishes; a rep makes a piece from it and
 * the PDF's headline sits where the designer placed it. Then frames are dragged, resized and nudged
 * (undo restores them), a problem selects its element, unprintable work cannot be published, and axe
 * finds nothing on the editor at 1280×800.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as fontkit from 'fontkit';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from '../support/axe.js';
import { signIn, useBrowser } from '../support/browser.js';
import { cleanup, tempDir } from '../support/files.js';
import { gradientJpeg } from '../support/images.js';
import { pageBoxes, pdfInfo, withPdfDocument } from '../support/pdf.js';
import { REPO_ROOT } from '../support/repo.js';
import { deskAndRep, startTestServer, type TestServer } from '../support/server.js';

const ID = 'harbor-spring-card';
const HEADLINE = { x: 36, y: 40, w: 280, h: 40, size: 24 };

describe('the template designer', () => {
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

  async function desk(): Promise<Page> {
    const context = await browser.context(server.url);
    const page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    await signIn(page, marketingKey, /\/marketing$/);
    return page;
  }

  /** Sets a property of the selected element in the properties panel. */
  async function setProperty(page: Page, label: string | RegExp, value: string): Promise<void> {
    const control = page.locator('.d-properties').getByLabel(label, { exact: typeof label === 'string' });
    await control.fill(value);
    await control.press('Tab');
  }

  async function addElement(page: Page, kind: string, name: string): Promise<void> {
    await page.getByLabel('New element').selectOption({ label: kind });
    await page.getByRole('button', { name: 'Add element' }).click();
    await setProperty(page, 'Name', name);
    await expect.poll(() => page.locator('.d-properties h2').textContent()).toContain(name);
  }

  async function box(page: Page, x: number, y: number, w: number, h: number): Promise<void> {
    await setProperty(page, 'X (pt)', String(x));
    await setProperty(page, 'Y (pt)', String(y));
    await setProperty(page, 'Width (pt)', String(w));
    await setProperty(page, 'Height (pt)', String(h));
  }

  const value = (page: Page, key: string) => page.locator(`.d-properties [data-key="${key}"]`).inputValue();
  const noProblems = (page: Page) =>
    expect
      .poll(() => page.locator('#d-check-status').textContent(), { timeout: 30_000 })
      .toContain('No problems');

  it('builds a postcard from scratch, saves, previews and publishes it; a rep makes a piece laid out as designed', async () => {
    const page = await desk();
    await page.getByRole('link', { name: 'Designer' }).click();
    // An id already taken is refused in words, and what was typed stays in the form.
    await page.getByLabel('Id', { exact: true }).fill('postcard-6x4');
    await page.getByLabel('Name', { exact: true }).fill('Spring card');
    await page.getByRole('button', { name: 'Create and open' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('there is already a template postcard-6x4: choose another id');
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('Spring card');
    await page.getByLabel('Id', { exact: true }).fill(ID);
    await page.getByLabel('Name', { exact: true }).fill('Spring card');
    await page.getByLabel('Kind of piece', { exact: true }).selectOption('postcard');
    await page.getByLabel('Page size', { exact: true }).selectOption('postcard-6x4');
    await page.getByLabel('Unit', { exact: true }).selectOption('in');
    await page.getByLabel('Bleed', { exact: true }).fill('0.125');
    await page.getByLabel('Pages or sides', { exact: true }).fill('front, back');
    await page.getByRole('button', { name: 'Create and open' }).click();
    await page.waitForURL(new RegExp(`/designer/${ID}/1$`));
    await expect.poll(() => page.locator('.d-canvas').getAttribute('data-rendered')).toBe('1');

    // Inputs: the prospect's first name, and a rep field of at most 60 characters.
    await page.getByLabel('Kind', { exact: true }).selectOption('prospect');
    await page.getByLabel('Key', { exact: true }).fill('firstName');
    await page.getByRole('button', { name: 'Add input' }).click();
    await page.getByLabel('firstName: label').fill('First name');
    await page.getByLabel('firstName: label').press('Tab');
    await page.getByLabel('Kind', { exact: true }).selectOption('fields');
    await page.getByLabel('Key', { exact: true }).fill('note');
    await page.getByRole('button', { name: 'Add input' }).click();
    await page.getByLabel('note: label').fill('Your note');
    await page.getByLabel('note: label').press('Tab');
    await page.getByLabel('Your note: maximum length').fill('60');
    await page.getByLabel('Your note: maximum length').press('Tab');
    await page.getByLabel('Your note: default').fill('See you soon.');
    await page.getByLabel('Your note: default').press('Tab');

    // The background: an uploaded photo, full bleed (6.25 × 4.25 in at 160 ppi).
    await page.getByLabel('File to upload').setInputFiles({
      name: 'harbor.jpg',
      mimeType: 'image/jpeg',
      buffer: await gradientJpeg(1000, 680),
    });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await expect
      .poll(() => page.locator('.d-brand [role=status]').textContent())
      .toBe('Uploaded images/harbor.jpg.');
    await addElement(page, 'Image', 'background');
    await setProperty(page, 'Image file', 'images/harbor.jpg');
    await box(page, -9, -9, 450, 306);
    await page.locator('.d-properties').getByLabel('Reaches into the bleed').check();

    // The headline reads the prospect's first name, inserted with the picker.
    await addElement(page, 'Text', 'headline');
    await setProperty(page, 'Text', 'Hello ');
    await page.getByLabel('Insert a value into Text').selectOption({ label: 'Prospect: First name' });
    expect(await value(page, 'text')).toBe('Hello {{prospect.firstName}}');
    await box(page, HEADLINE.x, HEADLINE.y, HEADLINE.w, HEADLINE.h);
    await setProperty(page, 'Size (pt)', String(HEADLINE.size));
    await expect
      .poll(() => page.locator('.d-frame[data-name=headline]').textContent())
      .toBe('headline, locked (Text)');

    // The rep's note: the one element reps can change, and the frame says so.
    await addElement(page, 'Text', 'note');
    await setProperty(page, 'Text', '');
    await page.locator('.d-properties').getByLabel('Field').selectOption('note');
    await box(page, 36, 200, 250, 40);
    await expect
      .poll(() => page.locator('.d-frame[data-name=note]').textContent())
      .toBe('note, editable by reps (Text)');

    // A QR code to the piece's tracked link, which needs a landing page.
    await addElement(page, 'QR code', 'reply');
    await box(page, 350, 200, 72, 72);
    await page.getByLabel('Landing page').fill('https://harbor.example/spring');
    await page.getByLabel('Landing page').press('Tab');
    // For press: PDF/X-4, which makes the template CMYK as well.
    await page.getByLabel('Print standard').selectOption('PDF/X-4');

    await page.getByLabel('Sample 1: First name').fill('Avery');
    await page.getByLabel('Sample 1: First name').press('Tab');
    await noProblems(page);

    await page.getByRole('button', { name: 'Save as a new draft version' }).click();
    await page.waitForURL(new RegExp(`/designer/${ID}/2\\?saved=1$`));
    await expect.poll(() => page.locator('.d-notice').textContent()).toBe('Saved as version 2.');
    await expect.poll(() => page.locator('.d-canvas').getAttribute('data-rendered')).toBe('1');
    await page.getByRole('button', { name: 'Preview Sample 1' }).click();
    await expect.poll(() => page.locator('.d-canvas').getAttribute('data-rendered')).toBe('2');
    const png = await page.locator('img.d-page').evaluate((img) => {
      const { naturalWidth, naturalHeight } = img as unknown as {
        naturalWidth: number;
        naturalHeight: number;
      };
      return [naturalWidth, naturalHeight];
    });
    expect(png).toEqual([450, 306]);

    await noProblems(page);
    await page.getByRole('button', { name: 'Publish version 2' }).click();
    await expect.poll(() => page.getByRole('dialog').textContent()).toContain('Publish version 2?');
    await page.getByRole('button', { name: 'Yes, publish' }).click();
    await expect
      .poll(() => page.locator('#d-version-status').textContent())
      .toBe('Version 2 is now published.');

    // A rep makes a piece from it: the headline sits where the designer placed it.
    const rep = await (await browser.context(server.url)).newPage();
    await signIn(rep, repKey, /\/gallery$/);
    await rep.goto(`/make/${ID}`);
    await rep.getByLabel('First name').fill('Winifred');
    const note = 'Lovely to meet you at the fair.';
    await rep.getByLabel('Your note').fill(note);
    // The rep field's maximum length, set in the designer, is the form's.
    expect(await rep.locator('#in-fields-note-count').textContent()).toBe(`${note.length} / 60 characters`);
    const [download] = await Promise.all([
      rep.waitForEvent('download'),
      rep.getByRole('button', { name: 'Download PDF' }).click(),
    ]);
    const file = path.join(await tempDir('platen-designer-'), 'piece.pdf');
    await download.saveAs(file);
    const pdf = new Uint8Array(await readFile(file));
    // The piece is written to the standard chosen: PDF/X-4 is PDF 1.6 at most, and names itself.
    expect(Buffer.from(pdf.subarray(0, 8)).toString('latin1')).toBe('%PDF-1.6');
    expect((await pdfInfo(pdf)).custom.GTS_PDFXVersion).toBe('PDF/X-4');
    const [boxes] = await pageBoxes(pdf);
    const trim = boxes!.trim;
    const at = await textAt(pdf, 'Hello Winifred');
    const font = fontkit.create(
      await readFile(path.join(REPO_ROOT, 'assets/fonts/SourceSans3-Regular.ttf')),
    ) as unknown as { ascent: number; descent: number; unitsPerEm: number };
    // The text layout's first baseline: the line box (1.2 × size) with the face centred in it.
    const ascent = (font.ascent / font.unitsPerEm) * HEADLINE.size;
    const descent = (font.descent / font.unitsPerEm) * HEADLINE.size;
    const baseline = (1.2 * HEADLINE.size - (ascent - descent)) / 2 + ascent;
    expect(Math.abs(at.x - (trim[0] + HEADLINE.x))).toBeLessThan(1);
    expect(Math.abs(at.y - (trim[3] - HEADLINE.y - baseline))).toBeLessThan(1);
  });

  it('drags, resizes and nudges a frame; undo restores it', async () => {
    const page = await desk();
    await page.goto(`/designer/${ID}/2`);
    await expect.poll(() => page.locator('.d-canvas').getAttribute('data-rendered')).toBe('1');
    const frame = page.locator('.d-frame[data-name=headline]');
    await frame.click();
    await expect.poll(() => value(page, 'x')).toBe(String(HEADLINE.x));
    const start = (await frame.boundingBox())!;
    await page.mouse.move(start.x + 40, start.y + 20);
    await page.mouse.down();
    // 20 pt right and down at 100%: clear of the other frames' edges, so nothing snaps.
    for (let i = 1; i <= 10; i++) await page.mouse.move(start.x + 40 + 2 * i, start.y + 20 + 2 * i);
    await page.mouse.up();
    await expect.poll(() => value(page, 'x')).toBe(String(HEADLINE.x + 20));
    expect(await value(page, 'y')).toBe(String(HEADLINE.y + 20));

    const handle = (await page.locator('.moveable-control.moveable-se').boundingBox())!;
    const [hx, hy] = [handle.x + handle.width / 2, handle.y + handle.height / 2];
    await page.mouse.move(hx, hy);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(hx + 3 * i, hy + i);
    await page.mouse.up();
    await expect.poll(() => value(page, 'w')).toBe(String(HEADLINE.w + 30));
    expect(await value(page, 'h')).toBe(String(HEADLINE.h + 10));
    expect(await value(page, 'x')).toBe(String(HEADLINE.x + 20));

    // Tab out of a changed box goes on to the next control, and Shift+Tab back, as they do anywhere.
    const x = page.locator('.d-properties [data-key="x"]');
    await x.fill(String(HEADLINE.x + 20));
    await x.press('Tab');
    await expect.poll(() => page.locator(':focus').getAttribute('data-key')).toBe('y');
    await page.locator('.d-properties [data-key="y"]').fill(String(HEADLINE.y + 20));
    await page.keyboard.press('Shift+Tab');
    await expect.poll(() => page.locator(':focus').getAttribute('data-key')).toBe('x');

    // Keys: an arrow moves by a point, Shift by ten, Alt resizes.
    await page.locator('.d-frame[data-name=headline]').focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Alt+ArrowLeft');
    await expect.poll(() => value(page, 'x')).toBe(String(HEADLINE.x + 21));
    expect(await value(page, 'y')).toBe(String(HEADLINE.y + 30));
    expect(await value(page, 'w')).toBe(String(HEADLINE.w + 29));

    for (let i = 0; i < 5; i++) await page.keyboard.press('Control+z');
    await expect.poll(() => value(page, 'x')).toBe(String(HEADLINE.x));
    expect([await value(page, 'y'), await value(page, 'w'), await value(page, 'h')]).toEqual(
      [HEADLINE.y, HEADLINE.w, HEADLINE.h].map(String),
    );
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => value(page, 'x')).toBe(String(HEADLINE.x + 20));

    // Shift+click adds the note to the selection; aligning left brings the headline back to x 36.
    await page.locator('.d-frame[data-name=note]').click({ modifiers: ['Shift'] });
    await expect.poll(() => page.locator('.d-properties').textContent()).toContain('2 elements selected.');
    await page.getByRole('button', { name: 'Align left' }).click();
    await page.locator('.d-frame[data-name=headline]').click();
    await expect.poll(() => value(page, 'x')).toBe('36');

    // Delete removes the focused frame's element; undo brings it back.
    await page.locator('.d-frame[data-name=note]').focus();
    await page.keyboard.press('Delete');
    await expect.poll(() => page.locator('.d-frame[data-name=note]').count()).toBe(0);
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.locator('.d-frame[data-name=note]').count()).toBe(1);
    await page.locator('.d-frame[data-name=headline]').click();

    // A checkbox toggled with the keyboard keeps the focus while the panels are drawn anew.
    const bleeds = page.locator('.d-properties').getByLabel('Reaches into the bleed');
    await bleeds.focus();
    await page.keyboard.press('Space');
    await expect.poll(() => bleeds.isChecked()).toBe(true);
    expect(await page.locator(':focus').getAttribute('type')).toBe('checkbox');
    expect(
      await page.locator(':focus').evaluate((el) => (el as unknown as { checked: boolean }).checked),
    ).toBe(true);
  });

  it('lists problems by element name, selects the element of one clicked, and refuses to publish unprintable text', async () => {
    const page = await desk();
    await page.goto(`/designer/${ID}/2`);
    await page.locator('.d-frame[data-name=headline]').click();
    await setProperty(page, 'Text', 'Hello {{prospect.favouriteColour}}');
    await page.locator('.d-frame[data-name=reply]').click();
    await expect.poll(() => page.locator('.d-properties h2').textContent()).toBe('Properties: QR code reply');
    const problem = page.locator('.d-problem-list button').filter({ hasText: /^Element headline: / });
    await expect.poll(() => problem.count(), { timeout: 30_000 }).toBe(1);
    await problem.click();
    await expect.poll(() => page.locator('.d-properties h2').textContent()).toBe('Properties: Text headline');

    // On the first draft, locked text far too long for its box: listed in words; it is neither
    // saved nor published, and the page says why.
    await page.goto(`/designer/${ID}/1`);
    await addElement(page, 'Text', 'slogan');
    await setProperty(page, 'Text', 'A very long locked slogan that cannot fit. '.repeat(12));
    const overflow = page.locator('.d-problem-list').getByText(/^Element slogan: /);
    await expect.poll(() => overflow.count(), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await page.locator('.d-problem-list').textContent()).not.toMatch(/pages\[|elements\[|\^|\$\//);
    // Unsaved work survives a reload, with a notice.
    await page.reload();
    await expect
      .poll(() => page.locator('.d-notice').textContent())
      .toBe('Your unsaved changes from last time were restored. Save them as a new version, or undo them.');
    await expect.poll(() => overflow.count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Publish version 1' }).click();
    await expect
      .poll(() => page.locator('#d-version-status').textContent())
      .toMatch(/^Version 1 cannot be published: slogan: /);
    expect(await page.getByRole('dialog').count()).toBe(0);
    await page.getByRole('button', { name: 'Save as a new draft version' }).click();
    await expect.poll(() => page.locator('#d-version-status').textContent()).toMatch(/^Not saved: /);
    expect(page.url()).toMatch(new RegExp(`/designer/${ID}/1$`));
  });

  it('has no accessibility violations at 1280×800', async () => {
    const page = await desk();
    const res = await page.goto(`/designer/${ID}/2`);
    // No inline script: the page's data travels as JSON, the code as a bundled file.
    expect(res!.headers()['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
    await expect.poll(() => page.locator('.d-canvas').getAttribute('data-rendered')).toBe('1');
    await page.locator('.d-frame[data-name=headline]').click();
    expect(await axeViolations(page)).toEqual([]);
  });
});

/** Where a text run starts on page 1: its origin's x and baseline y, in PDF points. */
async function textAt(pdf: Uint8Array, text: string): Promise<{ x: number; y: number }> {
  return withPdfDocument(pdf, async (doc) => {
    const page = await doc.getPage(1);
    const { items } = await page.getTextContent();
    const item = items.find((i) => 'str' in i && i.str.startsWith(text));
    if (!item || !('transform' in item)) throw new Error(`no "${text}" on page 1`);
    return { x: item.transform[4] as number, y: item.transform[5] as number };
  });
}
