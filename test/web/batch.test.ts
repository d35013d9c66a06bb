/**
 * The batch page in headless Chromium against a real server: a rep uploads a prospect list, fixes the
 * column mapping by hand, reads the preflight's counts and failures, starts a merged PDF, watches it
 * to the end and downloads the print file (opened and read) and the error report. Marketing must
 * name the rep a drop runs as; reps never see another rep's jobs. A run can split a choice across
 * the rows and hold some out.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, statusOf, useBrowser } from '../support/browser.js';
import { cleanup, tempDir } from '../support/files.js';
import { REPO_ROOT } from '../support/repo.js';
import { splitPostcard } from '../support/packages.js';
import {
  call,
  client,
  createKey,
  deskAndRep,
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

  /** Chooses the postcard and the fixture list, and waits for the columns. */
  async function chooseList(page: Page): Promise<void> {
    await page.getByLabel('Template', { exact: true }).selectOption({ label: POSTCARD });
    await page.getByLabel('Prospect list (CSV)').setInputFiles(LIST);
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

  it('maps, checks, runs and downloads a rep’s merged drop', async () => {
    const page = await signedIn(repKey, /\/gallery$/);
    await page.getByRole('link', { name: 'Batch' }).click();
    await page.waitForURL(/\/batch$/);
    // A rep runs as themselves: there is no rep to choose.
    expect(await page.locator('#batch-rep').count()).toBe(0);
    await chooseList(page);

    // Named columns are matched automatically; "Postcode" is not, and the page says what is missing.
    expect(await page.getByLabel('First name').inputValue()).toBe('First Name');
    expect(await page.getByLabel('Street address').inputValue()).toBe('Street Address');
    const zip = page.getByLabel('ZIP code');
    expect(await zip.inputValue()).toBe('');
    expect(await zip.getAttribute('aria-invalid')).toBe('true');
    const status = page.locator('#mapping-status');
    expect(await status.textContent()).toBe(
      'No column feeds ZIP code (zip): choose one for each before checking the list.',
    );
    expect(await page.locator('#mapping-unused').textContent()).toBe('Not used: Postcode, Notes.');
    const check = page.getByRole('button', { name: 'Check the list' });
    expect(await check.isDisabled()).toBe(true);

    // Fixed by hand, with the keyboard: the server's mapping now feeds every required input.
    await zip.focus();
    await page.keyboard.press('P');
    expect(await zip.inputValue()).toBe('Postcode');
    await expect.poll(() => status.textContent()).toBe('');
    expect(await page.locator('#mapping-unused').textContent()).toBe('Not used: Notes.');
    expect(await zip.getAttribute('aria-invalid')).toBeNull();
    await expect.poll(() => check.isDisabled()).toBe(false);

    // The preflight: every row checked, nothing drawn; the failures named by row, column and rule.
    await check.focus();
    await page.keyboard.press('Enter');
    const summary = page.locator('#preflight-summary');
    await expect.poll(() => summary.textContent()).toBe('8 rows of 10 will render; 2 rows fail.');
    const failures = page.getByRole('table', { name: 'Rejected rows' });
    // The counts came as server-sent events, to the end.
    expect(await page.locator('#preflight [data-k="done"]').textContent()).toBe('10 of 10');
    await expect.poll(() => failures.locator('tbody tr').count()).toBe(2);
    const cells = async (n: number) => failures.locator('tbody tr').nth(n).locator('td').allTextContents();
    const [maine, nameless] = [await cells(0), await cells(1)];
    expect(maine.slice(0, 3)).toEqual(['3', '4', 'State']);
    expect(maine[3]).toBe('too_big');
    expect(maine[5]).toBe('Maine');
    expect(nameless.slice(0, 3)).toEqual(['7', '8', 'First Name']);
    expect(nameless[3]).toBe('invalid_type');

    // The real run: a merged PDF, followed live to its end on the job's own page.
    await page.getByLabel('One merged PDF for the printer').check();
    await page.getByRole('button', { name: 'Start the run' }).click();
    await page.waitForURL(/\/batch\/jobs\/[0-9a-f]{16}$/);
    const jobId = page.url().split('/').pop()!;
    const progress = page.locator('progress');
    await expect.poll(() => page.locator('[data-k="state"]').textContent()).toBe('done');
    expect(await progress.getAttribute('max')).toBe('10');
    expect(await progress.getAttribute('value')).toBe('10');
    expect(await page.locator('[data-k="done"]').textContent()).toBe('10 of 10');
    expect(await page.locator('[data-k="rejected"]').textContent()).toBe('2');
    await expect
      .poll(() => page.locator('#results-summary').textContent())
      .toMatch(/^8 of 10 rows rendered;\s+2 rejected\.$/);

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

    // The error report: every refused row, its column, rule and value.
    const report = parse(await download(page, 'Download the error report (CSV)', 'errors.csv'), {
      bom: true,
      columns: true,
    }) as Record<string, string>[];
    expect(report.map((r) => [Number(r.row), r.column, r.rule, r.value])).toEqual([
      [3, 'State', 'too_big', 'Maine'],
      [7, 'First Name', 'invalid_type', ''],
    ]);

    // Both jobs are in the rep's list; another rep sees neither, nor anything of them.
    await page.goto('/batch');
    const rows = page.getByRole('table', { name: 'Recent jobs' }).locator('tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).textContent()).toContain('Merged PDF');
    expect(await rows.nth(1).textContent()).toContain('Preflight check');
    const other = await signedIn((await createKey(server, 'rep', 'Sam Other', 'sam')).key, /\/gallery$/);
    for (const url of ['', '/output', '/errors.csv', '/rejections', '/events'])
      expect(await statusOf(other, `/batch/jobs/${jobId}${url}`), url).toBe(404);
    await other.goto('/batch');
    expect(await other.getByRole('table', { name: 'Recent jobs' }).count()).toBe(0);
  });

  it('makes marketing name the rep a drop runs as, and keeps it from reps', async () => {
    const page = await signedIn(marketingKey, /\/marketing$/);
    await page.goto('/batch');
    await chooseList(page);
    await page.getByLabel('ZIP code').selectOption('Postcode');
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
    await page.goto('/batch');
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
