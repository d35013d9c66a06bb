/**
 * The service on PostgreSQL (PLATEN_DATABASE_URL), end to end over HTTP: keys, a render, a batch job
 * and the pieces they made land in the database, not in a SQLite file, and a restart finds them all.
 */
import { existsSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup } from '../support/files.js';
import { jobEnded, type JobBody, jobForm, jobReport } from '../support/jobs.js';
import { pageLabels } from '../support/pdf.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { postcardDrop, postcardRender } from '../support/records.js';
import { client, deskAndRep, startTestServer, type TestServer } from '../support/server.js';

let database: TestDatabase;
let first: TestServer;
let second: TestServer | undefined;
let repKey: string;
let renderLocation: string;
let job: JobBody;
let goodRows: string[];
let badRows: number[];

/** The same public address on both starts, so that pieces' tracked URLs read the same. */
const env = () => ({
  PLATEN_DATABASE_URL: database.url,
  PLATEN_BATCH_WORKERS: '2',
  PLATEN_PUBLIC_URL: 'https://go.harbor.example',
});

beforeAll(async () => {
  database = await createTestDatabase();
  first = await startTestServer({ env: env() });
  ({ repKey } = await deskAndRep(first));
  const rep = client(first.url, repKey);

  const render = await rep('post', '/api/v1/renders', { json: postcardRender() });
  expect(render.status, render.bytes.toString()).toBe(201);
  expect(render.bytes.subarray(0, 5).toString()).toBe('%PDF-');
  renderLocation = render.headers.get('location')!;

  const { csv, bad } = postcardDrop(12, 5);
  const started = await rep('post', '/api/v1/jobs', { body: jobForm(csv, { templateId: 'postcard-6x4' }) });
  expect(started.status, started.bytes.toString()).toBe(202);
  job = await jobEnded(rep, (started.json as JobBody).id);
  badRows = bad;
  goodRows = Array.from({ length: 12 }, (_, i) => String(i + 1)).filter((row) => !bad.includes(Number(row)));
}, 180_000);

afterAll(async () => {
  // The first server is closed by the restart; when something failed before it, here.
  if (second) await second.close();
  else await first?.close();
  await database?.drop();
  await cleanup();
});

describe('the service on PostgreSQL', () => {
  it('runs a batch job to the end: every good row once, in order, the bad ones reported', async () => {
    expect(job).toMatchObject({ state: 'done', total: 12, rendered: 10, rejected: 2 });
    const output = await client(first.url, repKey)('get', job.links.output);
    expect(output.status).toBe(200);
    expect([...new Set(await pageLabels(output.bytes))]).toEqual(goodRows);
    const { lines } = await jobReport(client(first.url, repKey), job);
    expect(lines.map((line) => Number(line.row))).toEqual(badRows);
  });

  it('keeps its rows in the database, with no SQLite file beside them', async () => {
    expect(existsSync(path.join(first.dataDir, 'platen.db'))).toBe(false);
    expect(
      await database.query('SELECT state, rendered, rejected FROM jobs WHERE id = $1', [job.id]),
    ).toEqual([{ state: 'done', rendered: 10, rejected: 2 }]);
    const pieces = await database.query<{ channel: string; n: number }>(
      'SELECT channel, count(*)::int AS n FROM pieces GROUP BY channel ORDER BY channel',
    );
    expect(pieces).toEqual([
      { channel: 'api', n: 1 },
      { channel: 'batch', n: 10 },
    ]);
    expect(await database.query('SELECT count(*)::int AS n FROM api_keys')).toEqual([{ n: 3 }]);
  });

  it('finds everything again after a restart, without doing the first start twice, and sweeps only old leftovers', async () => {
    const rep = client(first.url, repKey);
    const before = {
      keys: (await client(first.url, first.adminKey)('get', '/api/v1/keys')).json,
      render: (await rep('get', renderLocation)).json,
      job: (await rep('get', `/api/v1/jobs/${job.id}`)).json,
      pieces: (await rep('get', '/api/v1/pieces?limit=100')).json,
      templates: (await rep('get', '/api/v1/templates')).json,
    };
    await first.close();
    // Files without their rows, as another node leaves them a moment before it stores the rows, and as
    // a crash two hours ago left them. The sweep at start-up removes only the old ones.
    const orphans = {
      freshJob: path.join(first.dataDir, 'jobs', '00000000feedf00d'),
      oldJob: path.join(first.dataDir, 'jobs', '00000000deadbeef'),
      freshPackage: path.join(first.dataDir, 'packages', 'postcard-6x4', '9'),
      oldPackage: path.join(first.dataDir, 'packages', 'postcard-6x4', '8'),
    };
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    for (const [name, folder] of Object.entries(orphans)) {
      await mkdir(folder, { recursive: true });
      const file = path.join(folder, name.endsWith('Job') ? 'input.csv' : 'template.json');
      await writeFile(file, name.endsWith('Job') ? 'First Name\r\n' : '{}');
      if (name.startsWith('old')) {
        await utimes(file, twoHoursAgo, twoHoursAgo);
        await utimes(folder, twoHoursAgo, twoHoursAgo);
      }
    }
    second = await startTestServer({ dataDir: first.dataDir, env: env() });
    expect(
      Object.fromEntries(Object.entries(orphans).map(([name, folder]) => [name, existsSync(folder)])),
    ).toEqual({
      freshJob: true,
      oldJob: false,
      freshPackage: true,
      oldPackage: false,
    });
    expect(second.adminKey).toBe(first.adminKey);
    const again = client(second.url, repKey);
    expect((await client(second.url, second.adminKey)('get', '/api/v1/keys')).json).toEqual(before.keys);
    expect((await again('get', renderLocation)).json).toEqual(before.render);
    expect((await again('get', `/api/v1/jobs/${job.id}`)).json).toEqual(before.job);
    expect((await again('get', '/api/v1/pieces?limit=100')).json).toEqual(before.pieces);
    expect((await again('get', '/api/v1/templates')).json).toEqual(before.templates);
    const output = await again('get', job.links.output);
    expect([...new Set(await pageLabels(output.bytes))]).toEqual(goodRows);
    // The bundled templates were loaded once: each is at version 1 still.
    expect(await database.query('SELECT DISTINCT version FROM template_versions')).toEqual([{ version: 1 }]);
  });
});
