/**
 * Results over HTTP on a real server: reps render brochures through the API (each render makes a
 * piece), some pieces draw responses through the service's tracked-URL answer and one an outcome;
 * marketing then reads the groups (counts, rates with their Wilson intervals, "too small"), the same
 * as CSV, and the responses export for CRM matchback. Queries that cannot be answered name what to fix.
 */
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ResultGroup, type Results, wilson } from '../../src/service/results.js';
import { cleanup } from '../support/files.js';
import { brief, putProfile, request } from '../support/request.js';
import {
  type CreatedKey,
  createKey,
  fullProfile,
  startTestServer,
  type TestServer,
} from '../support/server.js';

const TEMPLATE = 'insurance-brochure';
const STEADY = 'Coverage that keeps you steady';
const PEACE = 'Peace of mind, close to home';

let server: TestServer;
let repA: CreatedKey;
let repB: CreatedKey;
let marketing: CreatedKey;
const codes: { a: string[]; b: string[] } = { a: [], b: [] };

async function render(rep: CreatedKey, n: number, headline: string, message?: string): Promise<string> {
  const reply = await request(server, 'POST', '/api/v1/renders', {
    key: rep.key,
    json: {
      templateId: TEMPLATE,
      prospect: { id: `HM-${n}`, firstName: 'José', lastName: 'Álvarez', productLine: 'home' },
      fields: { headline, ...(message ? { message } : {}) },
    },
  });
  expect(reply.status, brief(reply)).toBe(201);
  return reply.headers.get('platen-piece-code')!;
}

const respond = (code: string) =>
  server.running.platen.pieces.respond(code, { kind: 'scan', device: 'phone', count: true });

const results = (query: string, key = marketing.key) =>
  request(server, 'GET', `/api/v1/results?${query}`, { key });

beforeAll(async () => {
  server = await startTestServer();
  repA = await createKey(server, 'rep', 'rep A', 'rep-a');
  repB = await createKey(server, 'rep', 'rep B', 'rep-b');
  marketing = await createKey(server, 'marketing', 'marketing');
  expect((await putProfile(server, repA.key, fullProfile('Quentin Marlowe', 'ME-1'))).status).toBe(200);
  expect((await putProfile(server, repB.key, fullProfile('Ysolde Brannigan', 'ME-2'))).status).toBe(200);
  // Rep A: 12 pieces with the default headline, half with a message of their own.
  for (let i = 0; i < 12; i++)
    codes.a.push(await render(repA, 100 + i, STEADY, i % 2 === 0 ? 'See you at the open house.' : undefined));
  // Rep B: 3 pieces with another headline.
  for (let i = 0; i < 3; i++) codes.b.push(await render(repB, 200 + i, PEACE));
  // Four of rep A's pieces draw responses (one twice), one of rep B's; one of rep A's is won.
  for (const code of [...codes.a.slice(0, 4), codes.a[0]!, codes.b[0]!])
    expect(await respond(code)).toMatch(/^https:\/\/harbormutual\.example\//);
  const caller = (await server.running.services.keys.authenticate(repA.key))!;
  await server.running.platen.pieces.setOutcome(caller, codes.a[1]!, 'won', null);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await cleanup();
});

const group = (r: Results, key: string | null): ResultGroup => r.groups.find((g) => g.key === key)!;

describe('GET /api/v1/results', () => {
  it('compares headline A with B: counts, response rate with its Wilson interval, too small', async () => {
    const reply = await results(`template=${TEMPLATE}&by=choice&input=fields.headline`);
    expect(reply.status, brief(reply)).toBe(200);
    const r = reply.json<Results>();
    expect(r.input).toEqual({ key: 'fields.headline', label: 'Headline' });
    expect(r.groups.map((g) => g.key)).toEqual([STEADY, PEACE]);

    const steady = group(r, STEADY);
    expect(steady).toMatchObject({ label: STEADY, pieces: 12, responded: 4, positive: 1, tooSmall: false });
    expect(steady.responseRate!.rate).toBeCloseTo(4 / 12, 10);
    // Wilson 95 % for 4 of 12: 0.1381 to 0.6094.
    expect(steady.responseRate!.low).toBeCloseTo(0.1381, 4);
    expect(steady.responseRate!.high).toBeCloseTo(0.6094, 4);
    expect(steady.outcomes.won).toBe(1);
    expect(steady.positiveRate).toEqual(wilson(1, 12));
    expect(steady.medianMinutesToResponse).toBeGreaterThanOrEqual(0);

    const peace = group(r, PEACE);
    expect(peace).toMatchObject({ pieces: 3, responded: 1, positive: 0, tooSmall: true });
    expect(peace.responseRate).toEqual(wilson(1, 3));
  });

  it('names reps by their profiles, and counts the fields reps edit', async () => {
    const reply = await results(`template=${TEMPLATE}&by=rep`);
    expect(reply.status, brief(reply)).toBe(200);
    const r = reply.json<Results>();
    expect(r.groups.map((g) => [g.key, g.label, g.pieces])).toEqual([
      ['rep-a', 'Quentin Marlowe', 12],
      ['rep-b', 'Ysolde Brannigan', 3],
    ]);
    expect(r.fields).toEqual([
      { field: 'message', label: 'Your message', edited: 6, atDefault: 9, shareEdited: 6 / 15 },
      { field: 'headline', label: 'Headline', edited: 3, atDefault: 12, shareEdited: 3 / 15 },
    ]);
  });

  it('filters by day: pieces made today are in today, not in the days before', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const inToday = (
      await results(`template=${TEMPLATE}&by=channel&from=${today}&to=${today}`)
    ).json<Results>();
    expect(inToday.groups.map((g) => [g.key, g.label, g.pieces])).toEqual([['api', 'API', 15]]);
    const before = (await results(`template=${TEMPLATE}&to=${yesterday}`)).json<Results>();
    expect(before.groups).toEqual([]);
  });

  it('answers CSV when asked: a header row and a row per group', async () => {
    const reply = await request(server, 'GET', `/api/v1/results?template=${TEMPLATE}&by=rep`, {
      key: marketing.key,
      headers: { accept: 'text/csv' },
    });
    expect(reply.status, brief(reply)).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(reply.headers.get('content-disposition')).toContain(`${TEMPLATE}-results-by-rep.csv`);
    expect(reply.text.startsWith('\uFEFFgroup,key,held_out,pieces,responded,response_rate,')).toBe(true);
    const rows = parse(reply.text, { bom: true, columns: true }) as Record<string, string>[];
    expect(rows.map((row) => [row.group, row.key, row.pieces, row.responded, row.too_small])).toEqual([
      ['Quentin Marlowe', 'rep-a', '12', '4', 'false'],
      ['Ysolde Brannigan', 'rep-b', '3', '1', 'true'],
    ]);
    expect(rows[0]).toMatchObject({
      response_rate: '0.3333',
      response_rate_low: '0.1381',
      response_rate_high: '0.6094',
      won: '1',
      positive: '1',
    });
  });

  it('names what to fix in a query it cannot answer', async () => {
    const problem = async (query: string, status = 422) => {
      const reply = await results(query);
      expect(reply.status, brief(reply)).toBe(status);
      return reply.json();
    };
    const noInput = await problem(`template=${TEMPLATE}&by=choice`);
    expect(noInput.errors).toEqual([
      expect.objectContaining({ path: 'query.input', message: expect.stringContaining('fields.headline') }),
    ]);
    const notChoice = await problem(`template=${TEMPLATE}&by=choice&input=fields.message`);
    expect(notChoice.errors).toEqual([
      expect.objectContaining({
        path: 'query.input',
        message: expect.stringContaining('fields.headline (Headline)'),
      }),
    ]);
    const backwards = await problem(`template=${TEMPLATE}&from=2026-03-02&to=2026-03-01`);
    expect(backwards.errors.map((e: { path: string }) => e.path)).toEqual(['query.to']);
    const badDay = await problem(`template=${TEMPLATE}&from=March`);
    expect(badDay.errors.map((e: { path: string }) => e.path)).toEqual(['query.from']);
    expect((await problem(`template=${TEMPLATE}&by=headline`)).errors[0].path).toBe('query.by');
    expect((await problem('by=rep')).errors[0].path).toBe('query.template');
    expect((await problem('template=no-such-template', 404)).code).toBe('not_found');
    expect((await results(`template=${TEMPLATE}`, repA.key)).status).toBe(403);
  });
});

describe('GET /api/v1/results/responses.csv', () => {
  it('lists each piece that drew a response, keyed by recipient, for CRM matchback', async () => {
    const reply = await request(server, 'GET', `/api/v1/results/responses.csv?template=${TEMPLATE}`, {
      key: marketing.key,
    });
    expect(reply.status, brief(reply)).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const [header] = reply.text.replace('\uFEFF', '').split('\r\n');
    expect(header).toBe(
      'recipient_ref,code,template,version,rep,channel,job,row,variant,first_response,responses,outcome,outcome_date',
    );
    const rows = parse(reply.text, { bom: true, columns: true }) as Record<string, string>[];
    expect(rows.map((row) => row.code).sort()).toEqual([...codes.a.slice(0, 4), codes.b[0]!].sort());
    const first = rows.find((row) => row.code === codes.a[0])!;
    expect(first).toMatchObject({
      recipient_ref: 'HM-100',
      template: TEMPLATE,
      version: '1',
      rep: 'rep-a',
      channel: 'api',
      job: '',
      row: '',
      variant: '',
      responses: '2',
      outcome: '',
    });
    expect(first.first_response).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/);
    const won = rows.find((row) => row.code === codes.a[1])!;
    expect(won.outcome).toBe('won');
    expect(won.outcome_date).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});

describe('a batch split with a holdout', () => {
  it('groups rows by arm, held-out rows apart, with positive outcomes to measure lift', async () => {
    // Splitting a batch is the batch's own work; its rows are stored as it stores them.
    const store = server.running.platen.store;
    const first = await store.pieces.reserve(50);
    const rows = Array.from({ length: 50 }, (_, i) => ({
      number: first + i,
      code: `SPLIT${String(i).padStart(8, '0')}`,
      templateId: 'postcard-6x4',
      version: 1,
      repId: 'rep-a',
      keyId: repA.id,
      channel: 'batch' as const,
      jobId: 'job-split',
      row: i + 1,
      recipientRef: `R-${i}`,
      landingUrl: 'https://example.com/',
      choices: {},
      variant: i < 5 ? null : i % 2 === 0 ? 'A' : 'B',
      holdout: i < 5,
      edited: [],
    }));
    await store.pieces.add(rows);
    const at = new Date().toISOString();
    for (const i of [0, 6, 8, 10, 12, 14, 7])
      await store.pieces.setOutcome(rows[i]!.number, { outcome: 'won', note: null, at });
    await store.pieces.respond(rows[6]!.number, { at, kind: 'visit', device: 'desktop' });

    const reply = await results('template=postcard-6x4&by=variant');
    expect(reply.status, brief(reply)).toBe(200);
    const r = reply.json<Results>();
    expect(r.groups.map((g) => [g.key, g.label, g.heldOut, g.pieces, g.responded, g.positive])).toEqual([
      ['A', 'Arm A', false, 22, 1, 5],
      ['B', 'Arm B', false, 23, 0, 1],
      [null, 'Held out', true, 5, 0, 1],
    ]);
    expect(group(r, 'A').positiveRate).toEqual(wilson(5, 22));
    expect(r.groups.at(-1)!.positiveRate).toEqual(wilson(1, 5));
    expect(r.groups.at(-1)!.tooSmall).toBe(true);
    // By job, the held-out rows stay apart too: printed pieces count once, in their job.
    const byJob = (await results('template=postcard-6x4&by=job')).json<Results>();
    expect(byJob.groups.map((g) => [g.key, g.label, g.pieces])).toEqual([
      ['job-split', 'Job job-split', 45],
      [null, 'Held out', 5],
    ]);
  });
});
