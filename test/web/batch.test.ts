/**
 * The batch page in headless Chromium against a real server: a rep uploads a prospect list, fixes the
 * column mapping by hand, reads the preflight's counts and failures, starts a merged PDF, watches it
 * to the end and downloads the print file (opened and read) and the error report. Marketing must
 * name the rep a drop runs as; reps never see another rep's jobs. A run can split a choice across
 * the rows and hold some out.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, scrollsSideways, WIDTHS } from '../support/axe.js';
import { signIn, statusOf, useBrowser } from '../support/browser.js';
import { cleanup, tempDir } from '../support/files.js';
import { REPO_ROOT } from '../support/repo.js';
import { splitPostcard } from '../support/packages.js';
import {
  call,
  client,
  createKey,
  deskAndRep,
  profileForm,
  startTestServer,
  type TestServer,
  uploadZip,
} from '../support/server.js';
import { zipFolder } from '../support/zips.js';
import { pdfInfo, popplerText } from '../support/pdf.js';

const LIST = path.join(REPO_ROOT, 'test/fixtures/csv/batch-postcard.csv');
const POSTCARD = 'Harbor Mutual – 6×4 prospecting postcard';
/** The fixture's rows, in order; row 3 ("Maine") and row 7 (no first name) are refused. */
const FIRST_NAMES = ['Winifred', 'Ada', 'Milo', 'Zoë', 'Theo', 'Ines', '', 'Rosa', 'Ivan', 'June'];
const BAD_ROWS = [3, 7];

/** The browser's computed styles, as the page's scripts read them. */
interface Styles {
  getComputedStyle(element: unknown): { accentColor: string; overflowX: string };
}

/** Screenshots of the pages as the tests leave them, to look at. */
const SHOTS = path.join(REPO_ROOT, 'test-results', 'batch');

/** The fixture list with its "Postcode" column renamed: a name no synonym matches, say. */
async function renamedList(header: string): Promise<string> {
  const file = path.join(await tempDir('platen-batch-'), 'list.csv');
  await writeFile(file, (await readFile(LIST, 'utf8')).replace('Postcode', header));
  return file;
}

describe('the batch page', () => {
  const browser = useBrowser();
  let server: TestServer;
  let repKey: string;
  let marketingKey: string;

  beforeAll(async () => {
    server = await startTestServer();
    ({ marketingKey, repKey } = await deskAndRep(server));
  });

  afterAll(async () => {
    await server.close();
    await cleanup();
  });

  async function signedIn(key: string, landing: RegExp): Promise<Page> {
    const page = await (await browser.context(server.url)).newPage();
    await signIn(page, key, landing);
    return page;
  }

  /** Chooses the postcard and a list (the fixture's by default), and waits for the columns. */
  async function chooseList(page: Page, list = LIST): Promise<void> {
    await page.getByLabel('Template', { exact: true }).selectOption({ label: POSTCARD });
    await page.getByLabel('Prospect list (CSV)').setInputFiles(list);
    await expect
      .poll(() => page.locator('#mapping-found').textContent())
      .toBe('8 columns found (utf-8, separated by commas).');
  }

  async function download(page: Page, link: string, name: string): Promise<Buffer> {
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: link }).click(),
    ]);
    const saved = path.join(await tempDir('platen-batch-'), name);
    await file.saveAs(saved);
    return readFile(saved);
  }

  it('maps, previews, checks, runs and downloads a rep’s merged drop, then fixes its rejected rows in place', async () => {
    const page = await signedIn(repKey, /\/gallery$/);
    await page.getByRole('link', { name: 'Batch' }).click();
    await page.waitForURL(/\/batch$/);
    // A rep runs as themselves: there is no rep to choose.
    expect(await page.locator('#batch-rep').count()).toBe(0);
    await chooseList(page, await renamedList('Delivery Code'));

    // Named columns are matched automatically, synonyms too; "Delivery Code" is not, and the page says
    // what is missing. Each column shows its first values.
    expect(await page.getByLabel('First name').inputValue()).toBe('First Name');
    expect(await page.getByLabel('Street address').inputValue()).toBe('Street Address');
    expect(await page.locator('#map-firstName-samples .sample-value').allTextContents()).toEqual([
      'Winifred',
      'Ada',
      'Milo',
    ]);
    const zip = page.getByLabel('ZIP code');
    expect(await zip.inputValue()).toBe('');
    expect(await zip.getAttribute('aria-invalid')).toBe('true');
    const status = page.locator('#mapping-status');
    expect(await status.textContent()).toBe(
      'No column feeds ZIP code: choose one for each before checking the list.',
    );
    expect(await page.locator('#mapping-unused').textContent()).toBe('Not used: Delivery Code, Notes.');
    const check = page.getByRole('button', { name: 'Check the list' });
    expect(await check.isDisabled()).toBe(true);

    // Fixed by hand, with the keyboard: the server's mapping now feeds every required input.
    await zip.focus();
    await page.keyboard.press('D');
    expect(await zip.inputValue()).toBe('Delivery Code');
    await expect.poll(() => status.textContent()).toBe('');
    expect(await page.locator('#map-zip-samples .sample-value').allTextContents()).toEqual([
      '04101',
      '04530',
      '04843',
    ]);
    expect(await page.locator('#mapping-unused').textContent()).toBe('Not used: Notes.');
    expect(await zip.getAttribute('aria-invalid')).toBeNull();
    await expect.poll(() => check.isDisabled()).toBe(false);

    // The first piece, before anything runs: row 1 merged with the rep's profile, page by page.
    await page.getByRole('button', { name: 'Preview the first piece' }).click();
    const image = page.getByRole('img', { name: "Row 1's piece, page 1 of 2" });
    await expect.poll(() => image.count()).toBe(1);
    await expect
      .poll(() => image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
      .toBeGreaterThan(100);
    await page.getByRole('button', { name: 'Page 2' }).click();
    await expect.poll(() => page.getByRole('img', { name: "Row 1's piece, page 2 of 2" }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Page 2' }).getAttribute('aria-pressed')).toBe('true');

    // The preflight: every row checked, nothing drawn; the failures named by row and column, in words.
    await check.focus();
    await page.keyboard.press('Enter');
    const summary = page.locator('#preflight-summary');
    await expect.poll(() => summary.textContent()).toBe('8 rows of 10 will render; 2 rows fail.');
    const failures = page.getByRole('table', { name: 'Rejected rows' });
    // The counts came as server-sent events, to the end.
    expect(await page.locator('#preflight [data-k="done"]').textContent()).toBe('10 of 10');
    await expect.poll(() => failures.locator('tbody tr').count()).toBe(2);
    const cells = async (n: number) => failures.locator('tbody tr').nth(n).locator('td').allTextContents();
    expect(await cells(0)).toEqual([
      '3',
      'State',
      'Longer than 2 characters. Use the two-letter code: ME',
      'Maine',
    ]);
    expect(await cells(1)).toEqual(['7', 'First Name', 'Required', '']);
    // No rule codes on the page.
    expect(await failures.textContent()).not.toMatch(/too_big|invalid_type/);

    // The real run: a merged PDF, followed live to its end on the job's own page.
    await page.getByLabel('One merged PDF for the printer').check();
    await page.getByRole('button', { name: 'Start the run' }).click();
    await page.waitForURL(/\/batch\/jobs\/[0-9a-f]{16}$/);
    const jobId = page.url().split('/').pop()!;
    const progress = page.locator('progress');
    await expect.poll(() => page.locator('[data-k="state"]').textContent()).toBe('done');
    expect(await progress.getAttribute('max')).toBe('10');
    expect(await progress.getAttribute('value')).toBe('10');
    // In the brand colour.
    expect(
      await progress.evaluate((el) => (globalThis as unknown as Styles).getComputedStyle(el).accentColor),
    ).toBe('rgb(31, 58, 95)');
    expect(await page.locator('[data-k="done"]').textContent()).toBe('10 of 10');
    expect(await page.locator('[data-k="rejected"]').textContent()).toBe('2');
    await expect
      .poll(() => page.locator('#results-summary').textContent())
      .toMatch(/^8 of 10 rows rendered;\s+2 rejected\.$/);
    expect(await page.locator('dl.facts').first().textContent()).toMatch(/Rep\s*Dana Whitcomb/);

    // The job's event stream, ended: one `end` event with the finished job.
    const stream = await page.evaluate(
      async (url) => (await fetch(url)).text(),
      `/batch/jobs/${jobId}/events`,
    );
    expect(stream).toMatch(/^event: end\ndata: .*\n\n$/);
    expect(JSON.parse(stream.split('\n')[1]!.slice('data: '.length))).toMatchObject({
      state: 'done',
      done: 10,
      rendered: 8,
      rejected: 2,
      links: { output: `/batch/jobs/${jobId}/output` },
    });

    // The print file: a two-page postcard per good row, in row order, with the rep's details.
    const pdf = await download(page, 'Download the merged PDF', 'drop.pdf');
    expect((await pdfInfo(pdf)).pageCount).toBe(2 * 8);
    const pages = await popplerText(pdf);
    const good = FIRST_NAMES.filter((_, i) => !BAD_ROWS.includes(i + 1));
    const shown = good.map((name) => pages.findIndex((text) => text.includes(name)));
    expect(shown.every((i) => i >= 0)).toBe(true);
    expect(shown).toEqual([...shown].sort((a, b) => a - b));
    expect(pages.some((text) => text.includes('Milo'))).toBe(false);
    expect(pages.join('\n')).toContain('Dana Whitcomb');

    // The error report: every refused row, its column, rule and value, with the hint.
    const report = parse(await download(page, 'Download the error report (CSV)', 'errors.csv'), {
      bom: true,
      columns: true,
    }) as Record<string, string>[];
    expect(report.map((r) => [Number(r.row), r.column, r.rule, r.value])).toEqual([
      [3, 'State', 'too_big', 'Maine'],
      [7, 'First Name', 'invalid_type', ''],
    ]);
    expect(report[0]!.message).toBe('longer than 2 characters. Use the two-letter code: ME');

    // Fixed in place: each rejected cell is a field, labelled by its row and column.
    await page.getByLabel('Row 3, State').fill('ME');
    await page.getByLabel('Row 7, First Name').fill('Milo');
    await page.getByRole('button', { name: 'Run the corrected rows' }).click();
    await page.waitForURL(
      (url) => /\/batch\/jobs\/[0-9a-f]{16}$/.test(url.pathname) && !url.pathname.endsWith(jobId),
    );
    await expect.poll(() => page.locator('[data-k="state"]').textContent()).toBe('done');
    await expect
      .poll(() => page.locator('#results-summary').textContent())
      .toMatch(/^2 of 2 rows rendered;\s+0 rejected\.$/);
    const fixed = await popplerText(await download(page, 'Download the merged PDF', 'fixed.pdf'));
    expect(fixed).toHaveLength(4);
    expect(fixed.join('\n')).toContain('Milo');
    expect(fixed.join('\n')).toContain('Okafor');

    // The jobs list names the template and the rep; the preflight is hidden until asked for.
    await page.goto('/batch');
    const rows = page.getByRole('table', { name: 'Recent jobs' }).locator('tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).locator('td').allTextContents()).toEqual([
      POSTCARD,
      'Dana Whitcomb',
      'Merged PDF',
      'Done',
      '2 rendered, 0 rejected of 2',
      expect.stringMatching(/ UTC$/),
    ]);
    expect(await rows.nth(1).textContent()).toContain('8 rendered, 2 rejected of 10');
    await page.getByRole('link', { name: 'Show preflight checks' }).click();
    await page.waitForURL(/\/batch\?checks=1$/);
    expect(await rows.count()).toBe(3);
    expect(await rows.nth(2).textContent()).toContain('Preflight check');
    expect(await rows.nth(2).textContent()).toContain('8 will render, 2 rejected of 10');
    await page.getByRole('link', { name: 'Hide preflight checks' }).click();
    await page.waitForURL(/\/batch$/);
    expect(await rows.count()).toBe(2);

    const other = await signedIn((await createKey(server, 'rep', 'Sam Other', 'sam')).key, /\/gallery$/);
    for (const url of ['', '/output', '/errors.csv', '/rejections', '/events', '/cancel'])
      expect(await statusOf(other, `/batch/jobs/${jobId}${url}`), url).toBe(404);
    await other.goto('/batch?checks=1');
    expect(await other.getByRole('table', { name: 'Recent jobs' }).count()).toBe(0);
    expect(await other.locator('.empty').textContent()).toContain(
      'Choose a template and a prospect list above',
    );
  });

  it('makes marketing name the rep a drop runs as, and keeps it from reps', async () => {
    const page = await signedIn(marketingKey, /\/marketing$/);
    await page.goto('/batch');
    await chooseList(page);
    // "Postcode" is a ZIP code's other name.
    expect(await page.getByLabel('ZIP code').inputValue()).toBe('Postcode');
    const check = page.getByRole('button', { name: 'Check the list' });
    await expect.poll(() => check.isDisabled()).toBe(false);

    // No rep chosen: the job service refuses, and the page says so beside the choice.
    await check.click();
    const repError = page.locator('#batch-rep-error');
    await expect
      .poll(() => repError.textContent())
      .toBe('name the rep profile whose details go on every piece');
    await page.getByLabel('Rep on every piece').selectOption('dana');
    expect(await repError.textContent()).toBe('');
    const [created] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/batch/jobs' && r.status() === 202),
      check.click(),
    ]);
    await expect
      .poll(() => page.locator('#preflight-summary').textContent())
      .toBe('8 rows of 10 will render; 2 rows fail.');

    // Marketing's job is not the rep's, though it prints their details; marketing lists it.
    const jobUrl = ((await created.json()) as { links: { page: string } }).links.page;
    await page.goto('/batch?checks=1');
    const listed = page.getByRole('table', { name: 'Recent jobs' }).getByRole('link');
    expect(await listed.evaluateAll((links) => links.map((a) => a.getAttribute('href')))).toContain(jobUrl);
    const rep = await signedIn(repKey, /\/gallery$/);
    expect(await statusOf(rep, jobUrl)).toBe(404);
  });

  it('runs an experiment: a choice split across the rows, some held out, the recipient from a column', async () => {
    const marketing = client(server.url, marketingKey);
    const pkg = await splitPostcard('split-postcard', 'Split postcard', ['Smooth sailing', 'Calm waters']);
    expect((await uploadZip(marketing, await zipFolder(pkg))).status).toBe(201);
    expect((await marketing('post', '/api/v1/templates/split-postcard/versions/1/publish')).status).toBe(200);

    const page = await signedIn(repKey, /\/gallery$/);
    await page.goto('/batch');
    await page.getByLabel('Template', { exact: true }).selectOption({ label: 'Split postcard' });
    await page.getByLabel('Prospect list (CSV)').setInputFiles(LIST);
    await page.getByLabel('ZIP code').selectOption('Postcode');
    await page.getByRole('button', { name: 'Check the list' }).click();
    await expect
      .poll(() => page.locator('#preflight-summary').textContent())
      .toBe('8 rows of 10 will render; 2 rows fail.');

    // The template's choice inputs and the list's columns are offered, in words.
    const split = page.getByLabel('Try each choice of');
    expect(await split.locator('option').allTextContents()).toEqual([
      'Nothing: every piece as the list and template say',
      'Headline (2 choices)',
    ]);
    await split.selectOption({ label: 'Headline (2 choices)' });
    await page.getByLabel('Hold out (percent of the rows)').fill('50');
    await page
      .getByLabel("Each row's recipient is named by")
      .selectOption({ label: 'The column “Last Name”' });
    await page.getByRole('button', { name: 'Start the run' }).click();
    await page.waitForURL(/\/batch\/jobs\/[0-9a-f]{16}$/);
    const jobId = page.url().split('/').pop()!;
    await expect.poll(() => page.locator('[data-k="state"]').textContent()).toBe('done');

    const facts = await page.locator('dl.facts').first().textContent();
    expect(facts).toMatch(
      /Split\s+Headline: each piece shows one of “Smooth sailing”, “Calm waters”,\s+chosen at random/,
    );
    expect(facts).toMatch(/Held out\s+50 % of the rows/);
    const job = (await server.running.platen.store.jobs.get(jobId))!;
    expect(job.rendered + job.heldOut).toBe(8);
    expect(await page.locator('[data-k="heldOut"]').textContent()).toBe(String(job.heldOut));
    const pieces = await server.running.platen.store.pieces.list({ jobId, limit: 20 });
    expect(pieces.filter((p) => p.holdout)).toHaveLength(job.heldOut);
    expect(pieces.map((p) => p.recipientRef).sort()).toEqual(
      ['Quayle', 'Vance', 'Lindqvist', 'Marsh', 'Carvalho', 'Delgado', 'Petrov', 'Harlow'].sort(),
    );
    for (const piece of pieces.filter((p) => !p.holdout))
      expect(['Smooth sailing', 'Calm waters']).toContain(piece.variant);
  });

  it('fixes a cell that was not text in the list’s encoding only when it is typed again', async () => {
    const lines = [
      'First Name,Last Name,Street Address,City,State,ZIP',
      'Zoë,Lindqvist,5 Elm St,Rockland,ME,04841',
      'Chloé,Köhler,418 Birchwood Lane,Bangor,ME,04401',
    ].map((line) => Buffer.from(`${line}\r\n`, 'utf8'));
    // A row another program added, in Windows-1252: "José" is not UTF-8 text.
    const csv = Buffer.concat([
      ...lines,
      Buffer.from('Jos\xe9,Alvarez,1 Main St,Portland,ME,04101\r\n', 'latin1'),
    ]);
    const body = new FormData();
    body.set('templateId', 'postcard-6x4');
    body.set('output', 'pdf');
    body.set('csv', new Blob([new Uint8Array(csv)], { type: 'text/csv' }), 'mixed.csv');
    const started = await call(server.url, 'post', '/api/v1/jobs', { key: repKey, body });
    expect(started.status).toBe(202);
    const jobUrl = `/batch/jobs/${(started.json as { id: string }).id}`;

    const page = await signedIn(repKey, /\/gallery$/);
    await page.goto(jobUrl);
    await expect
      .poll(() => page.locator('#results-summary').textContent())
      .toMatch(/2 of 3 rows rendered;\s+1 rejected/);
    expect(await page.getByLabel('Row 3, First Name').inputValue()).toBe('Jos\\xE9');

    // Another cell of the row corrected, the unreadable one left: refused, in words, nothing run.
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const refused = await page.request.post(`${jobUrl}/fix`, {
      form: { _csrf: csrf, row: '3', column: 'Last Name', value: 'Álvarez' },
      maxRedirects: 0,
    });
    expect(refused.status()).toBe(422);
    expect(await refused.text()).toContain(
      'Row 3: the cell in the column &quot;First Name&quot; is not text in the list&#x27;s encoding',
    );

    await page.getByLabel('Row 3, First Name').fill('José');
    await page.getByRole('button', { name: 'Run the corrected rows' }).click();
    await page.waitForURL(
      (url) => /\/batch\/jobs\/[0-9a-f]{16}$/.test(url.pathname) && url.pathname !== jobUrl,
    );
    await expect
      .poll(() => page.locator('#results-summary').textContent())
      .toMatch(/^1 of 1 rows rendered;\s+0 rejected\.$/);
    const fixed = await popplerText(await download(page, 'Download the merged PDF', 'fixed.pdf'));
    expect(fixed.join('\n')).toContain('José');
  });

  it('keeps the set-up across a reload, and offers the columns chosen last time for the template', async () => {
    const context = await browser.context(server.url);
    const page = await context.newPage();
    await signIn(page, marketingKey, /\/marketing$/);
    await page.goto('/batch');
    const list = await renamedList('Delivery Code');
    await chooseList(page, list);
    await page.getByLabel('Rep on every piece').selectOption('dana');
    await page.getByLabel('ZIP code').selectOption('Delivery Code');
    await page.getByRole('button', { name: 'Check the list' }).click();
    await expect
      .poll(() => page.locator('#preflight-summary').textContent())
      .toBe('8 rows of 10 will render; 2 rows fail.');
    await page.getByLabel('A ZIP with one PDF per row').check();
    await page.getByLabel('Hold out (percent of the rows)').fill('10');
    await page.getByLabel('Hold out (percent of the rows)').blur();

    // Reloaded: the template, the rep and the options are as they were; the list is chosen again
    // (browsers forget files), and its columns are mapped as they were.
    await page.reload();
    expect(await page.getByLabel('Template', { exact: true }).inputValue()).toBe('postcard-6x4');
    expect(await page.getByLabel('Rep on every piece').inputValue()).toBe('dana');
    expect(await page.locator('#output-zip').isChecked()).toBe(true);
    expect(await page.locator('#experiment-holdout').inputValue()).toBe('10');
    expect(
      await page.getByRole('link', { name: 'Download a sample list for this template' }).getAttribute('href'),
    ).toBe('/batch/sample.csv?template=postcard-6x4');
    await page.getByLabel('Prospect list (CSV)').setInputFiles(list);
    await expect.poll(() => page.getByLabel('ZIP code').inputValue()).toBe('Delivery Code');
    await expect.poll(() => page.locator('#mapping-status').textContent()).toBe('');

    // Another day, another browser: the columns chosen for this template are offered again.
    const fresh = await signedIn(marketingKey, /\/marketing$/);
    await fresh.goto('/batch');
    await chooseList(fresh, list);
    await expect.poll(() => fresh.getByLabel('ZIP code').inputValue()).toBe('Delivery Code');
    const note = fresh.locator('#mapping-saved');
    expect(await note.isVisible()).toBe(true);
    await fresh.getByRole('button', { name: 'Match them automatically instead' }).click();
    await expect.poll(() => fresh.getByLabel('ZIP code').inputValue()).toBe('');
    expect(await note.isVisible()).toBe(false);

    // The sample list names the template's inputs, as the page offers it.
    const sample = await download(fresh, 'Download a sample list for this template', 'sample.csv');
    expect(sample.toString('utf8')).toMatch(/^\uFEFFFirst name,Last name,Company,Street address,/);
  });

  it('asks before cancelling a job: in a dialog, and on a page of its own without the script', async () => {
    const long = async () => {
      const rows = Array.from({ length: 5000 }, (_, i) => `Pat${i},Lee,${i} Main St,Portland,ME,04101`);
      const body = new FormData();
      body.set('templateId', 'postcard-6x4');
      body.set('output', 'pdf');
      const csv = ['First Name,Last Name,Street Address,City,State,ZIP', ...rows].join('\r\n');
      body.set('csv', new Blob([csv], { type: 'text/csv' }), 'long.csv');
      const started = await call(server.url, 'post', '/api/v1/jobs', { key: repKey, body });
      expect(started.status).toBe(202);
      return `/batch/jobs/${(started.json as { id: string }).id}`;
    };
    const page = await signedIn(repKey, /\/gallery$/);
    await page.goto(await long());
    const dialog = page.getByRole('dialog', { name: 'Cancel the job?' });
    await page.getByRole('link', { name: 'Cancel the job…' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'No, keep it running' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(await page.locator('[data-k="state"]').textContent()).not.toBe('cancelled');
    await page.getByRole('link', { name: 'Cancel the job…' }).click();
    await page.getByRole('button', { name: 'Yes, cancel the job' }).click();
    await expect.poll(() => page.locator('[data-k="state"]').textContent()).toBe('cancelled');

    // Without the script, the link leads to the question on a page of its own.
    const bare = await (await browser.context(server.url, { javaScriptEnabled: false })).newPage();
    await signIn(bare, repKey, /\/gallery$/);
    const job = await long();
    await bare.goto(job);
    await bare.getByRole('link', { name: 'Cancel the job…' }).click();
    await bare.waitForURL(new RegExp(`${job}/cancel$`));
    expect(await bare.getByRole('heading', { level: 1 }).textContent()).toBe('Cancel the job?');
    await bare.getByRole('button', { name: 'Yes, cancel the job' }).click();
    await bare.waitForURL(new RegExp(`${job}$`));
    expect(await bare.locator('[data-k="state"]').textContent()).toBe('cancelled');
    // Asked again of an ended job, there is nothing to cancel.
    await bare.goto(`${job}/cancel`);
    expect(await bare.getByRole('status').textContent()).toContain('there is nothing to cancel');
  });

  for (const { width, height } of WIDTHS) {
    it(`is accessible and fits at ${width}×${height}, error states included`, async () => {
      // A rep of their own: nothing mapped before for the template.
      const key = (await createKey(server, 'rep', `Ada ${width}`, `ada-${width}`)).key;
      expect((await call(server.url, 'put', '/api/v1/reps/me', { key, body: profileForm() })).status).toBe(
        200,
      );
      const page = await signedIn(key, /\/gallery$/);
      await page.setViewportSize({ width, height });
      const shot = async (name: string) => {
        expect(await axeViolations(page), name).toEqual([]);
        expect(await scrollsSideways(page), name).toBe(false);
        await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
      };

      // A list that is not one: the error beside the file.
      await page.goto('/batch');
      await page.getByLabel('Template', { exact: true }).selectOption({ label: POSTCARD });
      await page.getByLabel('Prospect list (CSV)').setInputFiles({
        name: 'list.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from('\uFEFF\r\n'),
      });
      await expect.poll(() => page.locator('#batch-csv-error').textContent()).not.toBe('');
      await shot('batch-bad-list');

      // A first row that cannot be printed: its preview says why, by the input's label.
      const fixture = (await readFile(LIST, 'utf8')).split('\n');
      await page.getByLabel('Prospect list (CSV)').setInputFiles({
        name: 'list.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from([fixture[0], fixture[7], ...fixture.slice(1, 7)].join('\n')),
      });
      await page.getByRole('button', { name: 'Preview the first piece' }).click();
      await expect
        .poll(() => page.locator('#first-piece-status').textContent())
        .toBe('Row 1 cannot be previewed. First name: required.');
      await shot('batch-first-row-refused');

      // A mapping with a required input unfed, the first piece, and a preflight's failures.
      await page.getByLabel('Prospect list (CSV)').setInputFiles(await renamedList('Delivery Code'));
      await expect.poll(() => page.locator('#mapping-status').textContent()).not.toBe('');
      await shot('batch-unmapped');
      await page.getByLabel('ZIP code').selectOption('Delivery Code');
      await expect.poll(() => page.locator('#mapping-status').textContent()).toBe('');
      await page.getByRole('button', { name: 'Preview the first piece' }).click();
      await expect.poll(() => page.getByRole('img', { name: "Row 1's piece, page 1 of 2" }).count()).toBe(1);
      await page.getByRole('button', { name: 'Check the list' }).click();
      await expect.poll(() => page.locator('#preflight-summary').textContent()).toMatch(/fail/);
      await shot('batch-preflight');

      // A finished job with rejected rows to fix; then a fix refused, its problems above the form.
      await page.getByRole('button', { name: 'Start the run' }).click();
      await page.waitForURL(/\/batch\/jobs\/[0-9a-f]{16}$/);
      await expect.poll(() => page.locator('#results-summary').count()).toBe(1);
      await shot('job-rejections');
      await page
        .locator('input[name="row"]')
        .first()
        .evaluate((input) => {
          (input as unknown as { value: string }).value = '1';
        });
      await page.getByRole('button', { name: 'Run the corrected rows' }).click();
      const summary = page.getByRole('alert').filter({ hasText: 'The corrected rows were not run' });
      await expect.poll(() => summary.textContent()).toContain('Row 1 was not rejected');
      expect(
        await page.evaluate(
          () =>
            (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement
              .id,
        ),
      ).toBe('fix-problems');
      await shot('job-fix-refused');
      await page.goto(`${new URL(page.url()).pathname.replace(/\/fix$/, '')}/cancel`);
      await shot('job-cancel-ended');
      await page.goto('/batch');
      await shot('batch-jobs');
    });
  }

  it('refuses changes without the session’s CSRF token, and a rep naming another rep', async () => {
    const page = await signedIn(repKey, /\/gallery$/);
    await page.goto('/batch');
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const list = { name: 'list.csv', mimeType: 'text/csv', buffer: await readFile(LIST) };
    const fields = { templateId: 'postcard-6x4', output: 'check', map: 'Postcode=zip', csv: list };
    const forged = await page.request.post('/batch/jobs', { multipart: fields });
    expect(forged.status()).toBe(403);
    const impersonating = await page.request.post('/batch/jobs', {
      multipart: { ...fields, repId: 'sam' },
      headers: { 'x-csrf-token': csrf },
    });
    expect(impersonating.status()).toBe(422);
    expect((await impersonating.json()).problems).toContainEqual(
      expect.objectContaining({ path: 'repId', rule: 'not_allowed' }),
    );

    // A long job (started over the API) is cancelled from its page, with the token only.
    const rows = Array.from({ length: 3000 }, (_, i) => `Pat${i},Lee,${i} Main St,Portland,ME,04101`);
    const body = new FormData();
    body.set('templateId', 'postcard-6x4');
    body.set('output', 'zip');
    const csv = ['First Name,Last Name,Street Address,City,State,ZIP', ...rows].join('\r\n');
    body.set('csv', new Blob([csv], { type: 'text/csv' }), 'long.csv');
    const started = await call(server.url, 'post', '/api/v1/jobs', { key: repKey, body });
    expect(started.status).toBe(202);
    const cancel = `/batch/jobs/${(started.json as { id: string }).id}/cancel`;
    expect((await page.request.post(cancel, { form: {}, maxRedirects: 0 })).status()).toBe(403);
    const cancelled = await page.request.post(cancel, { form: { _csrf: csrf }, maxRedirects: 0 });
    expect(cancelled.status()).toBe(303);
    await page.goto(cancelled.headers().location!);
    expect(await page.locator('[data-k="state"]').textContent()).toBe('cancelled');
  });
});
