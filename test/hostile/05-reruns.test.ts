/**
 * Issue 15, item 5: reruns that do nothing. Running a job's rejected rows again with a list that
 * lacks some of them is refused before anything runs, naming each missing row by the row and line
 * the report gave it: over the API, on the job page, and with `platen batch --rerun-errors`.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, useBrowser } from '../support/browser.js';
import { cleanup, tempDir } from '../support/files.js';
import { type JobBody, jobEnded, jobForm } from '../support/jobs.js';
import { REPO_ROOT, runCli } from '../support/repo.js';
import {
  type Client,
  client,
  createKey,
  problem,
  profileForm,
  startTestServer,
  type TestServer,
} from '../support/server.js';

/** A postcard list of `rows` rows; every fifth has a state the template refuses, unless `corrected`. */
function list(rows: number, corrected = false): string {
  const lines = ['First Name,Last Name,Street Address,City,State,ZIP'];
  for (let n = 1; n <= rows; n++) {
    const state = !corrected && n % 5 === 0 ? 'Maine' : 'ME';
    lines.push(`First${n},Last${n},${n} Harbor Rd,Portland,${state},04101`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

afterAll(cleanup);

describe('a finished job run again', () => {
  let server: TestServer;
  let repKey: string;
  let rep: Client;
  let first: JobBody;

  beforeAll(async () => {
    server = await startTestServer({ env: { PLATEN_BATCH_WORKERS: '1' } });
    repKey = (await createKey(server, 'rep', 'Chloé', 'chloe')).key;
    rep = client(server.url, repKey);
    expect((await rep('put', '/api/v1/reps/me', { body: profileForm() })).status).toBe(200);
    const started = await rep('post', '/api/v1/jobs', {
      body: jobForm(list(20), { templateId: 'postcard-6x4', output: 'check' }),
    });
    first = await jobEnded(rep, (started.json as JobBody).id);
    // Rows 5, 10, 15 and 20 (lines 6, 11, 16 and 21) are rejected.
    expect(first).toMatchObject({ state: 'done', rejected: 4 });
  });
  afterAll(async () => {
    await server.close();
  });

  const jobCount = async () => ((await rep('get', '/api/v1/jobs')).json as { jobs: unknown[] }).jobs.length;

  describe('POST /api/v1/jobs/:id/rerun', () => {
    it('refuses a list without some of the rejected rows, naming them as the report did, and starts nothing', async () => {
      const before = await jobCount();
      const reply = await rep('post', `${first.links.self}/rerun`, { body: jobForm(list(12, true), {}) });
      expect(reply.status).toBe(422);
      expect(problem(reply).errors).toEqual([
        {
          path: 'csv',
          rule: 'missing_rows',
          message: expect.stringContaining(
            'has 12 rows, so not the rejected rows 15 (line 16), 20 (line 21)',
          ),
        },
      ]);
      expect(await jobCount()).toBe(before);
    });

    it('refuses a list with none of them', async () => {
      const reply = await rep('post', `${first.links.self}/rerun`, { body: jobForm(list(0), {}) });
      expect(reply.status).toBe(422);
      expect(problem(reply).errors?.[0]?.message).toContain(
        'has 0 rows, so not the rejected rows 5 (line 6), 10 (line 11), 15 (line 16), 20 (line 21)',
      );
    });
  });

  describe("the job page's rerun", () => {
    const browser = useBrowser();

    it('refuses a list without some of the rejected rows, naming them, and runs a whole one', async () => {
      const page = await (await browser.context(server.url)).newPage();
      await signIn(page, repKey, /\/gallery$/);
      const rerun = async (csv: string) => {
        await page.goto(`/batch/jobs/${first.id}`);
        await page
          .getByLabel('The list with the rejected rows corrected')
          .setInputFiles({ name: 'list.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
        await page.getByRole('button', { name: 'Run the rejected rows again' }).click();
      };

      const before = await jobCount();
      await rerun(list(12, true));
      await expect
        .poll(() => page.locator('ul.problems').textContent())
        .toContain('has 12 rows, so not the rejected rows 15 (line 16), 20 (line 21)');
      expect(await jobCount()).toBe(before);

      await rerun(list(20, true));
      await page.waitForURL(/\/batch\/jobs\/[0-9a-f]{16}$/);
      expect(page.url()).not.toContain(first.id);
      await expect
        .poll(() => page.locator('#results-summary').textContent(), { timeout: 30_000 })
        .toMatch(/4 of 4 rows will render;\s+0 rejected/);
    });
  });
});

describe('platen batch --rerun-errors', () => {
  it('refuses a list without some of the rows the report names, and writes nothing', async () => {
    const dir = await tempDir('platen-reruns-');
    const csv = path.join(dir, 'list.csv');
    await writeFile(csv, list(10, true));
    const repFile = path.join(dir, 'rep.json');
    await writeFile(
      repFile,
      JSON.stringify({ name: 'Alex Morgan', phone: '(415) 555-0141', email: 'a@b.example' }),
    );
    const report = path.join(dir, 'errors.csv');
    await writeFile(
      report,
      '\uFEFFrow,line,column,rule,message,value\r\n' +
        '3,4,State,pattern,bad,Maine\r\n40,41,State,pattern,bad,Maine\r\n12,13,State,pattern,bad,Maine\r\n',
    );
    const out = path.join(dir, 'rerun.pdf');
    const batch = (rerun: string) =>
      runCli([
        'batch',
        path.join(REPO_ROOT, 'templates/postcard-6x4'),
        '--csv',
        csv,
        '--rep',
        repFile,
        '--out',
        out,
        '--rerun-errors',
        rerun,
      ]);

    const refused = await batch(report);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain('has 10 rows, so not the rejected rows 12 (line 13), 40 (line 41)');
    expect(existsSync(out)).toBe(false);

    // A report that lists no rejected row has nothing to run again.
    await writeFile(report, '\uFEFFrow,line,column,rule,message,value\r\n');
    const empty = await batch(report);
    expect(empty.code, empty.stderr).toBe(2);
    expect(empty.stderr).toContain('lists no rejected rows');
  });
});
