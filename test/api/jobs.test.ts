/**
 * Batch jobs over the API against a real server: multipart CSV in, progress over server-sent events,
 * the merged PDF (or ZIP) and the rejected-rows report out; who sees which job; cancel; concurrent
 * jobs sharing the worker pool; a job's rows recorded as pieces, with an A/B split and a holdout;
 * and a job that survives SIGKILL of the service.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHeldOut } from '../../src/jobs/experiment.js';
import { PieceCodes } from '../../src/model/piece-code.js';
import { LocalBlobStore } from '../../src/store/local-blobs.js';
import { LocalObjectStore } from '../../src/store/local-objects.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { splitPostcard } from '../support/packages.js';
import { pageBoxes, pageLabels, pdfInfo, popplerText, qpdfCheck } from '../support/pdf.js';
import { cleanup, tempDir } from '../support/files.js';
import { type JobBody, jobForm as form } from '../support/jobs.js';
import { storedPiece } from '../support/pieces.js';
import { postcardDrop as drop, postcardRender } from '../support/records.js';
import { CLI, REPO_ROOT } from '../support/repo.js';
import {
  type Client,
  client,
  createKey,
  problem,
  profileForm,
  startTestServer,
  type TestServer,
  uploadZip,
} from '../support/server.js';
import { zipFolder } from '../support/zips.js';

/** Reads server-sent events until the `end` event; returns every job state seen. */
async function events(base: string, key: string, job: JobBody): Promise<{ event: string; job: JobBody }[]> {
  const res = await fetch(`${base}${job.links.events}`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const text = await res.text(); // the stream ends after `end`
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)![1]!;
      return { event, job: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as JobBody };
    });
}

async function waitFor(api: Client, id: string, until: (job: JobBody) => boolean): Promise<JobBody> {
  // Well under the rate limit (600 requests a minute per key).
  for (let i = 0; i < 1200; i++) {
    const job = (await api('get', `/api/v1/jobs/${id}`)).json as JobBody;
    if (until(job)) return job;
    await new Promise((r) => setTimeout(r, 120));
  }
  throw new Error(`job ${id} never got there`);
}

/** The names of a ZIP's entries, in the order they are stored. */
async function zipNames(file: string): Promise<string[]> {
  const names: string[] = [];
  await new Promise<void>((resolve, reject) => {
    yauzl.open(file, { lazyEntries: false }, (error, zip) => {
      if (error) return reject(error);
      zip.on('entry', (entry: yauzl.Entry) => names.push(entry.fileName));
      zip.on('end', resolve);
      zip.on('error', reject);
    });
  });
  return names;
}

describe('batch jobs over the API', () => {
  let server: TestServer;
  let rep: Client;
  let otherRep: Client;
  let marketing: Client;
  let repKey: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { PLATEN_BATCH_WORKERS: '2' } });
    const repKeyInfo = await createKey(server, 'rep', 'Chloé', 'chloe');
    repKey = repKeyInfo.key;
    rep = client(server.url, repKey);
    otherRep = client(server.url, (await createKey(server, 'rep', 'Sam', 'sam')).key);
    marketing = client(server.url, (await createKey(server, 'marketing', 'Marketing')).key);
    expect((await rep('put', '/api/v1/reps/me', { body: profileForm() })).status).toBe(200);
  });
  afterAll(async () => {
    await server.close();
    await cleanup();
  });

  it('merges a list into one print file: progress as events, every good row once, every bad row reported', async () => {
    const { csv, bad } = drop(400, 50);
    const started = await rep('post', '/api/v1/jobs', { body: form(csv, { templateId: 'postcard-6x4' }) });
    expect(started.status).toBe(202);
    const job = started.json as JobBody;
    expect(started.headers.get('location')).toBe(`/api/v1/jobs/${job.id}`);
    expect(job).toMatchObject({ total: 400, repId: 'chloe' });

    const seen = await events(server.url, repKey, job);
    expect(seen.at(-1)!.event).toBe('end');
    const done = seen.at(-1)!.job;
    expect(done).toMatchObject({
      state: 'done',
      done: 400,
      rendered: 400 - bad.length,
      rejected: bad.length,
    });
    const counts = seen.map((e) => e.job.done);
    expect(counts).toEqual([...counts].sort((a, b) => a - b)); // progress never goes back

    const output = await rep('get', job.links.output);
    expect(output.status).toBe(200);
    expect(output.headers.get('content-type')).toBe('application/pdf');
    const file = path.join(await tempDir(), 'drop.pdf');
    await writeFile(file, output.bytes);
    expect((await qpdfCheck(file)).ok).toBe(true);
    expect((await pdfInfo(file)).pageCount).toBe(2 * (400 - bad.length)); // the postcard has two pages
    const good = Array.from({ length: 400 }, (_, i) => String(i + 1)).filter((n) => !bad.includes(Number(n)));
    expect(await pageLabels(file)).toEqual(good);

    const errors = await rep('get', job.links.errors);
    expect(errors.status).toBe(200);
    const rows = parse(errors.bytes, { bom: true, columns: true }) as Record<string, string>[];
    expect(rows.map((r) => Number(r.row))).toEqual(bad);
    expect(rows.every((r) => r.column === 'State' && r.value === 'Maine')).toBe(true);
    // Finished: its parts are gone, its output stays.
    expect(existsSync(path.join(server.dataDir, 'jobs', job.id, 'parts'))).toBe(false);
  });

  it('writes one PDF per row into a ZIP, named by the template', async () => {
    const { csv } = drop(30);
    const job = (
      await rep('post', '/api/v1/jobs', { body: form(csv, { templateId: 'postcard-6x4', output: 'zip' }) })
    ).json as JobBody;
    const done = await waitFor(rep, job.id, (j) => j.state !== 'queued' && j.state !== 'running');
    expect(done.state).toBe('done');
    const output = await rep('get', job.links.output);
    expect(output.headers.get('content-type')).toBe('application/zip');
    const file = path.join(await tempDir(), 'drop.zip');
    await writeFile(file, output.bytes);
    const names = await zipNames(file);
    expect(names).toHaveLength(30);
    expect(new Set(names).size).toBe(30);
    expect(names.every((n) => n.endsWith('.pdf'))).toBe(true);
  });

  it('runs a preflight (output=check): counts and report, no output', async () => {
    const { csv, bad } = drop(60, 7);
    const job = (
      await rep('post', '/api/v1/jobs', { body: form(csv, { templateId: 'postcard-6x4', output: 'check' }) })
    ).json as JobBody;
    const done = await waitFor(rep, job.id, (j) => j.state === 'done');
    expect(done).toMatchObject({ rendered: 60 - bad.length, rejected: bad.length });
    expect((await rep('get', job.links.output)).status).toBe(404);
    expect((await rep('get', job.links.errors)).status).toBe(200);
  });

  it('maps columns from the request, and refuses a list missing a required column, naming it', async () => {
    const { csv } = drop(5);
    // A name no synonym covers: "Postcode" would be matched.
    const renamed = csv.replace('ZIP', 'Delivery Code');
    const refused = await rep('post', '/api/v1/jobs', {
      body: form(renamed, { templateId: 'postcard-6x4' }),
    });
    expect(refused.status).toBe(422);
    expect(problem(refused).errors).toContainEqual(
      expect.objectContaining({ path: 'prospect.zip', rule: 'missing_column' }),
    );
    // Checked before starting: the columns, what each feeds, what is missing.
    const columns = await rep('post', '/api/v1/jobs/columns', {
      body: form(renamed, { templateId: 'postcard-6x4' }),
    });
    expect(columns.json).toMatchObject({ missingRequired: ['zip'], unused: ['Delivery Code'] });
    const fixed = await rep('post', '/api/v1/jobs/columns', {
      body: form(renamed, { templateId: 'postcard-6x4', map: 'Delivery Code=zip' }),
    });
    expect(fixed.json).toMatchObject({ missingRequired: [], unused: [] });
    expect((fixed.json as { inputs: { key: string; column: string }[] }).inputs).toContainEqual(
      expect.objectContaining({ key: 'zip', column: 'Delivery Code' }),
    );
    const mapped = await rep('post', '/api/v1/jobs', {
      body: form(renamed, { templateId: 'postcard-6x4', map: 'Delivery Code=zip' }),
    });
    expect(mapped.status).toBe(202);
    const json = await rep('post', '/api/v1/jobs', {
      body: form(renamed, { templateId: 'postcard-6x4', map: '{"Delivery Code":"zip"}' }),
    });
    expect(json.status).toBe(202);
    expect((await waitFor(rep, (json.json as JobBody).id, (j) => j.state === 'done')).rendered).toBe(5);
  });

  it('keeps the columns each person mapped to a template, and offers them with their next list', async () => {
    const german = [
      'Vorname,Nachname,Strasse,Ort,Staat,PLZ',
      'Ada,Vance,3 Ferry Ln,Bath,ME,04530',
      ',Okafor,17 Quarry Rd,Hallowell,ME,04347',
      'Milo,Brandt,88 Shore Path,Camden,ME,04843',
      'Rosa,Delgado,230 Main St,Brunswick,ME,04011',
    ].join('\r\n');
    const map = 'Vorname=firstName\nNachname=lastName\nStrasse=address1\nOrt=city\nStaat=state\nPLZ=zip';
    type Columns = {
      saved: Record<string, string> | null;
      samples: Record<string, string[]>;
      missingRequired: string[];
    };
    const columns = async (api: Client, csv: string, extra: Record<string, string> = {}) => {
      const res = await api('post', '/api/v1/jobs/columns', {
        body: form(csv, { templateId: 'postcard-6x4', ...extra }),
      });
      expect(res.status).toBe(200);
      return res.json as Columns;
    };

    // Nothing kept yet; each column's first non-empty values are shown.
    const first = await columns(marketing, german);
    expect(first.saved).toBeNull();
    expect(first.missingRequired).toEqual(['firstName', 'lastName', 'address1', 'city', 'state', 'zip']);
    expect(first.samples.Vorname).toEqual(['Ada', 'Milo', 'Rosa']);
    expect(first.samples.PLZ).toEqual(['04530', '04347', '04843']);

    // A job kept its mapping for the one who ran it.
    const started = await marketing('post', '/api/v1/jobs', {
      body: form(german, { templateId: 'postcard-6x4', repId: 'chloe', output: 'check', map }),
    });
    expect(started.status).toBe(202);

    // The next list, its columns in another order and one more: the kept mapping is offered, and fits.
    const next = [
      'Notiz,PLZ,Staat,Ort,Strasse,Nachname,Vorname',
      'call,04101,ME,Portland,1 Main St,Lee,Pat',
    ].join('\r\n');
    const offered = await columns(marketing, next);
    expect(offered.saved).toEqual({
      Vorname: 'firstName',
      Nachname: 'lastName',
      Strasse: 'address1',
      Ort: 'city',
      Staat: 'state',
      PLZ: 'zip',
    });
    // Offered, not applied: the automatic mapping is as it was.
    expect(offered.missingRequired).toHaveLength(6);
    const lines = Object.entries(offered.saved!).map(([header, input]) => `${header}=${input}`);
    expect((await columns(marketing, next, { map: lines.join('\n') })).missingRequired).toEqual([]);
    // Only the columns this list has are offered; another person's mapping is their own.
    expect((await columns(marketing, 'Vorname,Surname\r\nPat,Lee')).saved).toEqual({ Vorname: 'firstName' });
    expect((await columns(rep, next)).saved).toBeNull();
  });

  it('gives a sample list for a template that a job takes as it is', async () => {
    const res = await rep('get', '/api/v1/templates/postcard-6x4/sample.csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toContain('postcard-6x4-sample.csv');
    expect([...res.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parse(res.bytes, { bom: true, columns: true }) as Record<string, string>[];
    const manifest = JSON.parse(
      await readFile(path.join(REPO_ROOT, 'templates/postcard-6x4/template.json'), 'utf8'),
    ) as { samples: { record: { prospect: Record<string, string> } }[] };
    expect(rows).toHaveLength(manifest.samples.length);
    expect(Object.keys(rows[0]!).slice(0, 4)).toEqual([
      'First name',
      'Last name',
      'Company',
      'Street address',
    ]);
    expect(rows.map((r) => r['First name'])).toEqual(
      manifest.samples.map((s) => s.record.prospect.firstName),
    );
    const job = await rep('post', '/api/v1/jobs', {
      body: form(res.bytes, { templateId: 'postcard-6x4', output: 'check' }),
    });
    expect(job.status).toBe(202);
    const done = await waitFor(rep, (job.json as JobBody).id, (j) => j.state === 'done');
    expect(done).toMatchObject({ rendered: manifest.samples.length, rejected: 0 });
    expect((await rep('get', '/api/v1/templates/no-such-template/sample.csv')).status).toBe(404);
  });

  it('refuses bad requests with the field and rule', async () => {
    const { csv } = drop(3);
    const cases: [Client, Record<string, string>, number, string, string][] = [
      [marketing, { templateId: 'postcard-6x4' }, 422, 'repId', 'required'],
      [rep, { templateId: 'postcard-6x4', repId: 'sam' }, 422, 'repId', 'not_allowed'],
      [marketing, { templateId: 'postcard-6x4', repId: 'nobody' }, 422, 'repId', 'unknown_rep'],
      [rep, { templateId: 'postcard-6x4', output: 'tiff' }, 422, 'output', 'invalid_value'],
      [rep, { templateId: 'postcard-6x4', map: '{"a": 1}' }, 422, 'map', 'mapping'],
    ];
    for (const [api, fields, status, path, rule] of cases) {
      const reply = await api('post', '/api/v1/jobs', { body: form(csv, fields) });
      expect(reply.status, JSON.stringify(fields)).toBe(status);
      expect(problem(reply).errors, JSON.stringify(fields)).toContainEqual(
        expect.objectContaining({ path, rule }),
      );
    }
    expect((await rep('post', '/api/v1/jobs', { body: form(csv, { templateId: 'no-such' }) })).status).toBe(
      404,
    );
    // A profile without the details the template requires would sink every row: refused up front.
    const pat = client(server.url, (await createKey(server, 'rep', 'Pat', 'pat')).key);
    expect((await pat('get', '/api/v1/reps/me')).status).toBe(200);
    const incomplete = await marketing('post', '/api/v1/jobs', {
      body: form(csv, { templateId: 'postcard-6x4', repId: 'pat' }),
    });
    expect(incomplete.status).toBe(422);
    expect(problem(incomplete).errors).toContainEqual(expect.objectContaining({ path: 'rep.phone' }));
    const noFile = new FormData();
    noFile.set('templateId', 'postcard-6x4');
    const missing = await rep('post', '/api/v1/jobs', { body: noFile });
    expect(problem(missing).errors).toContainEqual(
      expect.objectContaining({ path: 'csv', rule: 'required' }),
    );
  });

  it('lets reps see their own jobs only; marketing sees all and may run a job as a named rep', async () => {
    const { csv } = drop(5);
    const theirs = (
      await marketing('post', '/api/v1/jobs', {
        body: form(csv, { templateId: 'postcard-6x4', repId: 'chloe' }),
      })
    ).json as JobBody;
    await waitFor(marketing, theirs.id, (j) => j.state === 'done');
    const mine = ((await rep('get', '/api/v1/jobs')).json as { jobs: JobBody[] }).jobs;
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((j) => j.repId === 'chloe')).toBe(true);
    expect(mine.map((j) => j.id)).not.toContain(theirs.id);
    expect(((await otherRep('get', '/api/v1/jobs')).json as { jobs: JobBody[] }).jobs).toEqual([]);
    const one = mine[0]!;
    for (const url of [one.links.self, one.links.output, one.links.errors, one.links.events])
      expect((await otherRep('get', url)).status, url).toBe(404);
    expect((await otherRep('delete', one.links.self)).status).toBe(404);
    const all = ((await marketing('get', '/api/v1/jobs')).json as { jobs: JobBody[] }).jobs.map((j) => j.id);
    expect(all).toEqual(expect.arrayContaining([theirs.id, one.id]));
  });

  it('cancels a running job: it stops, keeps no output, and leaves no parts', async () => {
    const { csv } = drop(3000);
    const job = (
      await rep('post', '/api/v1/jobs', { body: form(csv, { templateId: 'postcard-6x4', output: 'zip' }) })
    ).json as JobBody;
    const cancelled = await rep('delete', job.links.self);
    expect(cancelled.status).toBe(200);
    expect((cancelled.json as JobBody).state).toBe('cancelled');
    // It stays cancelled, and its files go once the workers have stopped.
    const dir = path.join(server.dataDir, 'jobs', job.id);
    for (let i = 0; i < 500 && existsSync(path.join(dir, 'parts')); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(path.join(dir, 'parts'))).toBe(false);
    expect(((await rep('get', job.links.self)).json as JobBody).state).toBe('cancelled');
    expect((await rep('get', job.links.output)).status).toBe(404);
    expect((await readdir(dir)).filter((n) => n.startsWith('output'))).toEqual([]);
  });

  it("takes a rep per row from a rep column (marketing only): each piece carries its row's rep", async () => {
    const sam = profileForm({
      name: 'Sam Ortiz',
      phone: '(207) 555-0123',
      email: 'sam@harbormutual.example',
    });
    expect((await otherRep('put', '/api/v1/reps/me', { body: sam })).status).toBe(200);
    const reps = ['chloe', 'sam', '', 'nobody', 'sam', 'chloe'];
    const lines = drop(6).csv.trim().split('\r\n');
    const csv = lines.map((line, i) => `${line},${i === 0 ? 'Rep' : reps[i - 1]}`).join('\r\n');

    const job = (await marketing('post', '/api/v1/jobs', { body: form(csv, { templateId: 'postcard-6x4' }) }))
      .json as JobBody;
    const done = await waitFor(marketing, job.id, (j) => j.state === 'done');
    expect(done).toMatchObject({ repId: null, rendered: 4, rejected: 2 });
    const pages = await popplerText((await marketing('get', job.links.output)).bytes);
    // Two pages a postcard; the back carries the rep.
    const backs = [1, 3, 5, 7].map((i) => pages[i]!);
    expect(backs.map((back) => /Dana Whitcomb|Sam Ortiz/.exec(back)?.[0])).toEqual([
      'Dana Whitcomb',
      'Sam Ortiz',
      'Sam Ortiz',
      'Dana Whitcomb',
    ]);
    const errors = parse((await marketing('get', job.links.errors)).bytes, { bom: true, columns: true });
    expect(errors).toEqual([
      expect.objectContaining({ row: '3', column: 'Rep', rule: 'required' }),
      expect.objectContaining({ row: '4', column: 'Rep', rule: 'unknown_rep', value: 'nobody' }),
    ]);

    // A rep for rows that name none; and reps never name another rep.
    const fallback = (
      await marketing('post', '/api/v1/jobs', {
        body: form(csv, { templateId: 'postcard-6x4', repId: 'sam' }),
      })
    ).json as JobBody;
    expect(await waitFor(marketing, fallback.id, (j) => j.state === 'done')).toMatchObject({ rendered: 5 });
    const refused = await rep('post', '/api/v1/jobs', { body: form(csv, { templateId: 'postcard-6x4' }) });
    expect(refused.status).toBe(422);
    expect(problem(refused).errors).toContainEqual(
      expect.objectContaining({ path: 'csv.Rep', rule: 'not_allowed' }),
    );
  });

  it("runs a finished job's rejected rows again, as corrected, as a new job", async () => {
    const { csv, bad } = drop(20, 5);
    const first = (await rep('post', '/api/v1/jobs', { body: form(csv, { templateId: 'postcard-6x4' }) }))
      .json as JobBody;
    expect(await waitFor(rep, first.id, (j) => j.state === 'done')).toMatchObject({ rejected: bad.length });
    // Only the other rep's view of it is refused: it is not theirs.
    expect(
      (await otherRep('post', `${first.links.self}/rerun`, { body: form(drop(20).csv, {}) })).status,
    ).toBe(404);
    const again = await rep('post', `${first.links.self}/rerun`, { body: form(drop(20).csv, {}) });
    expect(again.status).toBe(202);
    const rerun = again.json as JobBody;
    expect(rerun).toMatchObject({ total: bad.length, repId: 'chloe' });
    expect(await waitFor(rep, rerun.id, (j) => j.state === 'done')).toMatchObject({
      rendered: bad.length,
      rejected: 0,
    });
    const file = path.join(await tempDir(), 'rerun.pdf');
    await writeFile(file, (await rep('get', rerun.links.output)).bytes);
    expect(await pageLabels(file)).toEqual(bad.map(String));
    // The corrected rows are pieces of the new job, and a piece made after it is its own.
    const pieces = await server.running.platen.store.pieces.list({ jobId: rerun.id, limit: 50 });
    expect(pieces.map((p) => p.row).sort((a, b) => a! - b!)).toEqual(bad);
    const later = await rep('post', '/api/v1/renders', { json: postcardRender() });
    expect(later.status).toBe(201);
    const code = later.headers.get('platen-piece-code')!;
    expect(await storedPiece(server, code)).toMatchObject({ code, channel: 'api', jobId: null });
    // Nothing was rejected the second time: nothing to run again.
    const nothing = await rep('post', `${rerun.links.self}/rerun`, { body: form(drop(20).csv, {}) });
    expect(problem(nothing).errors).toContainEqual(expect.objectContaining({ rule: 'nothing_rejected' }));
  });

  it('imposes a merged drop on press sheets when asked, and refuses to impose a ZIP', async () => {
    const job = (
      await rep('post', '/api/v1/jobs', {
        body: form(drop(9).csv, { templateId: 'postcard-6x4', impose: '18x12in' }),
      })
    ).json as JobBody;
    await waitFor(rep, job.id, (j) => j.state === 'done');
    const boxes = await pageBoxes((await rep('get', job.links.output)).bytes);
    // Nine postcards 4-up: three sheets, each a front and a back.
    expect(boxes.map((b) => b.media)).toEqual(Array(6).fill([0, 0, 1296, 864]));
    for (const [fields, rule] of [
      [{ impose: '18x12in', output: 'zip' }, 'sheet'],
      [{ impose: 'A4' }, 'custom'],
    ] as const) {
      const refused = await rep('post', '/api/v1/jobs', {
        body: form(drop(3).csv, { templateId: 'postcard-6x4', ...fields }),
      });
      expect(problem(refused).errors, JSON.stringify(fields)).toContainEqual(
        expect.objectContaining({ path: 'impose', rule }),
      );
    }
  });

  it('splits a choice across the rows and holds some out: recorded per piece, held-out rows not printed', async () => {
    // The postcard with a headline to choose, printed on its front (its reply code prints {{piece.code}}).
    const arms = ['Smooth sailing', 'Calm, clear waters'];
    const pkg = await splitPostcard('split-postcard', 'Split postcard', [...arms, 'Fair winds']);
    expect((await uploadZip(marketing, await zipFolder(pkg))).status).toBe(201);
    expect((await marketing('post', '/api/v1/templates/split-postcard/versions/1/publish')).status).toBe(200);

    const { csv, bad } = drop(200, 40);
    const experiment = {
      templateId: 'split-postcard',
      split: 'fields.headline',
      arms: arms.join('\n'), // one a line: a choice may have a comma
      holdout: '10',
      recipientColumn: 'Last Name',
    };
    const started = await rep('post', '/api/v1/jobs', { body: form(csv, experiment) });
    expect(started.status, started.bytes.toString()).toBe(202);
    const done = await waitFor(rep, (started.json as JobBody).id, (j) => j.state === 'done');
    const { spec } = (await server.running.platen.store.jobs.get(done.id))!;
    // The seed is the job's secret: no answer about the job carries it.
    const seed = spec.pieceSeed!;
    for (const reply of [
      started,
      await rep('get', `/api/v1/jobs/${done.id}`),
      await rep('get', '/api/v1/jobs'),
    ])
      expect(reply.bytes.toString()).not.toContain(seed);
    expect(done).toMatchObject({
      split: { input: 'fields.headline', label: 'Headline', arms },
      holdout: 10,
      rejected: bad.length,
    });
    expect(done.rendered + done.rejected + done.heldOut).toBe(200);

    const pieces = await server.running.platen.store.pieces.list({ jobId: done.id, limit: 500 });
    pieces.sort((a, b) => a.row! - b.row!);
    const printed = pieces.filter((p) => !p.holdout);
    const held = pieces.filter((p) => p.holdout);
    expect(printed).toHaveLength(done.rendered);
    expect(held).toHaveLength(done.heldOut);
    // Rejected rows are no pieces, held out or not; every other row is one, with the job's own code.
    expect(pieces.map((p) => p.row)).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1).filter((n) => !bad.includes(n)),
    );
    // Row N is the job's piece number firstNumber + N - 1, printed under the installation's key.
    const codes = new PieceCodes(await server.running.platen.store.pieces.codeKey());
    expect(pieces.map((p) => [p.number, p.code])).toEqual(
      pieces.map((p) => [spec.firstNumber! + p.row! - 1, codes.code(spec.firstNumber! + p.row! - 1)]),
    );
    expect(new Set(pieces.map((p) => p.code)).size).toBe(pieces.length);
    expect(held.map((p) => p.row)).toEqual(
      pieces
        .filter((p) => isHeldOut({ firstNumber: 1, codeKey: '', seed, publicUrl: '', holdout: 10 }, p.row!))
        .map((p) => p.row),
    );
    // About a tenth (195 rows: below 5 or above 40 is a chance of about 1 in 60,000).
    expect(held.length).toBeGreaterThanOrEqual(5);
    expect(held.length).toBeLessThanOrEqual(40);
    for (const p of pieces)
      expect(p).toMatchObject({
        channel: 'batch',
        jobId: done.id,
        repId: 'chloe',
        templateId: 'split-postcard',
        recipientRef: `Last${p.row}`,
        edited: [],
      });
    expect(held.every((p) => p.variant === null && p.landingUrl === null)).toBe(true);
    expect(printed.every((p) => arms.includes(p.variant!))).toBe(true);
    expect(printed.every((p) => p.choices['fields.headline'] === p.variant)).toBe(true);
    for (const arm of arms) expect(printed.some((p) => p.variant === arm)).toBe(true);

    // The print file: the printed rows only, in order, each with its code and its arm's headline.
    const file = path.join(await tempDir(), 'split.pdf');
    await writeFile(file, (await rep('get', done.links.output)).bytes);
    expect((await pdfInfo(file)).pageCount).toBe(2 * printed.length);
    expect(await pageLabels(file)).toEqual(printed.map((p) => String(p.row)));
    const pages = await popplerText(file);
    printed.forEach((p, i) => {
      const text = `${pages[2 * i]} ${pages[2 * i + 1]}`;
      expect(text).toContain(`code ${p.code}`);
      expect(text).toContain(p.variant);
    });

    // A preflight of the same drop records nothing.
    const check = (await rep('post', '/api/v1/jobs', { body: form(csv, { ...experiment, output: 'check' }) }))
      .json as JobBody;
    await waitFor(rep, check.id, (j) => j.state === 'done');
    expect(await server.running.platen.store.pieces.list({ jobId: check.id, limit: 10 })).toEqual([]);

    // What cannot be split or held out is refused, in words.
    const cases: [Record<string, string>, string, string][] = [
      [{ split: 'fields.message' }, 'split', 'not_a_choice'],
      [{ split: 'fields.headline', arms: 'Smooth sailing\nRough seas' }, 'arms', 'not_a_choice'],
      [{ split: 'fields.headline', arms: 'Smooth sailing' }, 'arms', 'too_few'],
      [{ arms: 'Smooth sailing' }, 'arms', 'split'],
      [{ holdout: '60' }, 'holdout', 'too_big'],
      [{ recipientColumn: 'Customer' }, 'recipientColumn', 'unknown_column'],
    ];
    for (const [fields, at, rule] of cases) {
      const refused = await rep('post', '/api/v1/jobs', {
        body: form(csv, { templateId: 'split-postcard', ...fields }),
      });
      expect(refused.status, JSON.stringify(fields)).toBe(422);
      expect(problem(refused).errors, JSON.stringify(fields)).toContainEqual(
        expect.objectContaining({ path: at, rule }),
      );
    }
    const notChoice = await rep('post', '/api/v1/jobs', {
      body: form(csv, { templateId: 'split-postcard', split: 'fields.message' }),
    });
    expect(problem(notChoice).errors![0]!.message).toContain('"Headline" (fields.headline)');
  });

  it('runs concurrent jobs side by side, each whole', async () => {
    const jobs = await Promise.all(
      [120, 90, 150].map(async (n) => {
        const reply = await rep('post', '/api/v1/jobs', {
          body: form(drop(n).csv, { templateId: 'postcard-6x4' }),
        });
        return { n, job: reply.json as JobBody };
      }),
    );
    for (const { n, job } of jobs) {
      const done = await waitFor(rep, job.id, (j) => j.state === 'done');
      expect(done.rendered).toBe(n);
      const output = await rep('get', job.links.output);
      const file = path.join(await tempDir(), `${job.id}.pdf`);
      await writeFile(file, output.bytes);
      expect(await pageLabels(file)).toEqual(Array.from({ length: n }, (_, i) => String(i + 1)));
    }
  });
});

describe('a batch job and a killed service', () => {
  let child: ChildProcess;
  let dataDir: string;
  let url: string;
  let log = '';

  async function serve(): Promise<void> {
    child = spawn(process.execPath, [CLI, 'serve'], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', PLATEN_DATA_DIR: dataDir, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The port is in the first log line that has a url.
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        log += chunk.toString();
        const match = /"url":"(http:[^"]+)"/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
    });
  }

  beforeAll(async () => {
    dataDir = await tempDir('platen-resume-');
  });
  afterAll(async () => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    await cleanup();
  });

  it('resumes after SIGKILL from its last checkpoint: every good row exactly once, in order, with its own code', async () => {
    await serve();
    const admin = (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();
    const key = (await createKey({ url, adminKey: admin }, 'marketing', 'ops')).key;
    const api = client(url, key);
    await client(url, (await createKey({ url, adminKey: admin }, 'rep', 'Chloé', 'chloe')).key)(
      'put',
      '/api/v1/reps/me',
      { body: profileForm() },
    );
    const { csv, bad } = drop(3000, 97);
    const job = (
      await api('post', '/api/v1/jobs', { body: form(csv, { templateId: 'postcard-6x4', repId: 'chloe' }) })
    ).json as JobBody;
    // Killed once at least one chunk is checkpointed and before the job is done.
    const partway = await waitFor(api, job.id, (j) => j.done > 0 || j.state === 'done');
    expect(partway.state).toBe('running');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    log = '';
    await serve();
    const done = await waitFor(
      client(url, key),
      job.id,
      (j) => j.state !== 'running' && j.state !== 'queued',
    );
    expect(done).toMatchObject({
      state: 'done',
      done: 3000,
      rendered: 3000 - bad.length,
      rejected: bad.length,
    });
    // It picked up where it was: from a checkpoint, not from the first row.
    const resumed = JSON.parse(log.split('\n').find((line) => line.includes('resuming batch job'))!) as {
      done: number;
    };
    expect(resumed.done).toBeGreaterThan(0);
    const output = await client(url, key)('get', job.links.output);
    const file = path.join(dataDir, 'check.pdf');
    await writeFile(file, output.bytes);
    expect((await qpdfCheck(file)).ok).toBe(true);
    const good = Array.from({ length: 3000 }, (_, i) => i + 1)
      .filter((n) => !bad.includes(n))
      .map(String);
    expect(await pageLabels(file)).toEqual(good);
    const errors = parse((await client(url, key)('get', job.links.errors)).bytes, {
      bom: true,
      columns: true,
    }) as {
      row: string;
    }[];
    expect(errors.map((r) => Number(r.row))).toEqual(bad);

    // Every good row is one piece (its chunk recorded again if the kill came between its pieces and its
    // checkpoint), and prints the code recorded, whichever run drew it.
    const store = new SqliteStore(
      dataDir,
      new LocalBlobStore(path.join(dataDir, 'blobs')),
      new LocalObjectStore(dataDir),
    );
    try {
      const { firstNumber } = (await store.jobs.get(job.id))!.spec;
      const codes = new PieceCodes(await store.pieces.codeKey());
      const pieces = await store.pieces.list({ jobId: job.id, limit: 5000 });
      pieces.sort((a, b) => a.row! - b.row!);
      expect(pieces.map((p) => String(p.row))).toEqual(good);
      expect(pieces.every((p) => p.code === codes.code(firstNumber! + p.row! - 1))).toBe(true);
      const pages = await popplerText(file);
      expect(pieces.filter((p, i) => !pages[2 * i]!.includes(`code ${p.code}`))).toEqual([]);
    } finally {
      await store.close();
    }
    child.kill('SIGTERM');
  });
});
