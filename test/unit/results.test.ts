/**
 * Results for marketing, without a server: the Wilson score interval against published values, and
 * the grouping of a template's pieces (fed from a fake store) by each dimension, with the held-out
 * group, median time to response, outcomes, "too small to judge" and the rep fields reps edit.
 */
import { describe, expect, it } from 'vitest';
import { ForbiddenError, NotFoundError, PlatenError } from '../../src/errors.js';
import type { ApiKey } from '../../src/service/policy.js';
import { ResultsService, wilson } from '../../src/service/results.js';
import type { Store, StoredPiece } from '../../src/store/store.js';
import { duration, percent } from '../../src/web/results-pages.js';

describe('wilson', () => {
  // Newcombe (1998), "Two-sided confidence intervals for the single proportion: comparison of seven
  // methods", Statistics in Medicine 17, Table II, method 3 (score interval without continuity
  // correction), to four decimals.
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
    [29, 29, 0.883, 1],
  ])('%i of %i: %f to %f', (x, n, low, high) => {
    const r = wilson(x, n)!;
    expect(r.rate).toBeCloseTo(x / n, 10);
    expect(r.low).toBeCloseTo(low, 4);
    expect(r.high).toBeCloseTo(high, 4);
  });

  it('stays within 0 and 1, narrows with n, widens with z, and has nothing to say of no pieces', () => {
    expect(wilson(29, 29)!.high).toBe(1);
    expect(wilson(0, 29)!.low).toBe(0);
    expect(wilson(0, 0)).toBeNull();
    const small = wilson(5, 10)!;
    const large = wilson(500, 1000)!;
    expect(large.high - large.low).toBeLessThan(small.high - small.low);
    const z99 = wilson(5, 10, 2.576)!;
    expect(z99.high - z99.low).toBeGreaterThan(small.high - small.low);
  });
});

const MADE = '2026-11-02T10:00:00.000Z';
const after = (minutes: number) => new Date(Date.parse(MADE) + minutes * 60_000).toISOString();

let counter = 0;
function piece(over: Partial<StoredPiece> = {}): StoredPiece {
  counter++;
  return {
    number: counter,
    code: `CODE${counter}`,
    templateId: 'brochure',
    version: 1,
    repId: 'rep-a',
    keyId: 'key-a',
    channel: 'api',
    jobId: null,
    row: null,
    recipientRef: `P-${counter}`,
    landingUrl: 'https://example.com/',
    choices: { 'fields.headline': 'Steady' },
    variant: null,
    holdout: false,
    edited: [],
    createdAt: MADE,
    responses: 0,
    firstResponseAt: null,
    outcome: null,
    outcomeNote: null,
    outcomeAt: null,
    entered: null,
    ...over,
  };
}

const manifest = (fields: Record<string, { label?: string; type?: string; choices?: string[] }>) => ({
  name: 'Insurance brochure',
  prospect: {},
  rep: {},
  fields,
});

/** A store with two versions of `brochure`, these pieces, a rep profile and a job. */
function fakeStore(pieces: StoredPiece[], asked: unknown[] = []): Store {
  const versions = [
    manifest({
      headline: { label: 'Headline', type: 'choice', choices: ['Steady', 'Local'] },
      message: { label: 'Personal message' },
    }),
    manifest({
      headline: { label: 'Headline', type: 'choice', choices: ['Steady', 'Local'] },
      message: { label: 'Your note' },
      offer: { label: 'Offer' },
    }),
  ].map((m, i) => ({ templateId: 'brochure', version: i + 1, manifest: m }));
  return {
    templates: {
      versions: async (id: string) => (id === 'brochure' ? versions : []),
    },
    pieces: {
      made: async function* (filter: unknown) {
        asked.push(filter);
        yield* pieces;
      },
    },
    reps: { get: async (id: string) => (id === 'rep-a' ? { id, name: 'Quentin Marlowe' } : null) },
    jobs: {
      get: async (id: string) => (id === 'job-1' ? { id, createdAt: '2026-11-01T09:00:00.000Z' } : null),
    },
  } as unknown as Store;
}

const caller = (role: ApiKey['role']): ApiKey => ({
  id: 'k',
  name: role,
  role,
  repId: role === 'rep' ? 'rep-a' : null,
  createdAt: MADE,
  revokedAt: null,
  lastUsedAt: null,
});
const marketing = caller('marketing');

describe('ResultsService', () => {
  it('groups by version: counts, rate with its interval, median minutes to response, too small', async () => {
    const pieces = [
      ...Array.from({ length: 12 }, (_, i) =>
        piece({
          version: 1,
          ...(i < 3 ? { responses: 1, firstResponseAt: after([30, 10, 20][i]!) } : {}),
        }),
      ),
      piece({ version: 2, responses: 2, firstResponseAt: after(5), outcome: 'won' }),
      piece({ version: 2, responses: 1, firstResponseAt: after(15), outcome: 'lost' }),
    ];
    const results = await new ResultsService(fakeStore(pieces)).results(marketing, {
      templateId: 'brochure',
      by: 'version',
    });
    expect(results.name).toBe('Insurance brochure');
    expect(results.groups.map((g) => [g.key, g.label, g.pieces, g.responded, g.tooSmall])).toEqual([
      ['1', 'Version 1', 12, 3, false],
      ['2', 'Version 2', 2, 2, true],
    ]);
    const [v1, v2] = results.groups;
    expect(v1!.responseRate).toEqual(wilson(3, 12));
    expect(v1!.medianMinutesToResponse).toBe(20);
    expect(v2!.medianMinutesToResponse).toBe(10);
    expect(v2!.outcomes).toEqual({
      contacted: 0,
      meeting_booked: 0,
      quote_sent: 0,
      won: 1,
      lost: 1,
      no_response: 0,
    });
    expect(v2!.positive).toBe(1);
    expect(v2!.positiveRate).toEqual(wilson(1, 2));
  });

  it('compares a choice input’s values, with held-out rows as their own group only', async () => {
    const pieces = [
      piece({ choices: { 'fields.headline': 'Steady' }, responses: 1, firstResponseAt: after(1) }),
      piece({ choices: { 'fields.headline': 'Steady' }, outcome: 'meeting_booked' }),
      piece({ choices: { 'fields.headline': 'Local' } }),
      piece({ choices: {} }),
      piece({ choices: { 'fields.headline': 'Local' }, holdout: true, outcome: 'quote_sent' }),
      piece({ choices: { 'fields.headline': 'Steady' }, holdout: true }),
    ];
    const results = await new ResultsService(fakeStore(pieces)).results(marketing, {
      templateId: 'brochure',
      by: 'choice',
      input: 'fields.headline',
    });
    expect(results.input).toEqual({ key: 'fields.headline', label: 'Headline' });
    expect(results.groups.map((g) => [g.label, g.key, g.heldOut, g.pieces, g.responded, g.positive])).toEqual(
      [
        ['Local', 'Local', false, 1, 0, 0],
        ['Steady', 'Steady', false, 2, 1, 1],
        ['No value', null, false, 1, 0, 0],
        ['Held out', null, true, 2, 0, 1],
      ],
    );
    expect(results.groups.at(-1)!.positiveRate).toEqual(wilson(1, 2));
  });

  it('names reps by their profile, channels in words, jobs by their day, and split arms', async () => {
    const pieces = [
      piece({ repId: 'rep-a', channel: 'form' }),
      piece({ repId: 'rep-a', channel: 'api' }),
      piece({ repId: 'rep-z', channel: 'batch', jobId: 'job-1', row: 1, variant: 'A' }),
      piece({ repId: null, channel: 'batch', jobId: 'job-1', row: 2, variant: 'B' }),
    ];
    const service = new ResultsService(fakeStore(pieces));
    const labels = async (by: 'rep' | 'channel' | 'job' | 'variant') =>
      (await service.results(marketing, { templateId: 'brochure', by })).groups.map((g) => [g.key, g.label]);
    expect(await labels('rep')).toEqual([
      ['rep-a', 'Quentin Marlowe'],
      ['rep-z', 'rep-z'],
      [null, 'No rep'],
    ]);
    expect(await labels('channel')).toEqual([
      ['api', 'API'],
      ['batch', 'Batch job'],
      ['form', 'Rep’s form'],
    ]);
    expect(await labels('job')).toEqual([
      ['job-1', 'Job of 2026-11-01 (job-1)'],
      [null, 'Not from a batch job'],
    ]);
    expect(await labels('variant')).toEqual([
      ['A', 'Arm A'],
      ['B', 'Arm B'],
      [null, 'Not split'],
    ]);
  });

  it('counts the rep fields reps edit, per version that has them, most edited first', async () => {
    const pieces = [
      piece({ version: 1, edited: ['message'] }),
      piece({ version: 1, edited: [] }),
      piece({ version: 2, edited: ['message', 'offer'] }),
      piece({ version: 2, edited: ['offer'] }),
      piece({ version: 2, edited: ['offer'], holdout: true }),
    ];
    const results = await new ResultsService(fakeStore(pieces)).results(marketing, {
      templateId: 'brochure',
      by: 'version',
    });
    expect(results.fields).toEqual([
      { field: 'offer', label: 'Offer', edited: 2, atDefault: 0, shareEdited: 1 },
      { field: 'message', label: 'Your note', edited: 2, atDefault: 2, shareEdited: 0.5 },
      { field: 'headline', label: 'Headline', edited: 0, atDefault: 4, shareEdited: 0 },
    ]);
  });

  it('asks the store for the days named, both included', async () => {
    const asked: unknown[] = [];
    await new ResultsService(fakeStore([], asked)).results(marketing, {
      templateId: 'brochure',
      by: 'version',
      from: '2026-11-01',
      to: '2026-11-30',
    });
    expect(asked).toEqual([
      { templateId: 'brochure', from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' },
    ]);
  });

  it('refuses reps, unknown templates and an input that is not a choice, naming the choices', async () => {
    const service = new ResultsService(fakeStore([]));
    await expect(service.results(caller('rep'), { templateId: 'brochure', by: 'version' })).rejects.toThrow(
      ForbiddenError,
    );
    await expect(service.responses(caller('rep'), { templateId: 'brochure' })).rejects.toThrow(
      ForbiddenError,
    );
    await expect(service.results(marketing, { templateId: 'nothing', by: 'version' })).rejects.toThrow(
      NotFoundError,
    );
    const wrong = await service
      .results(marketing, { templateId: 'brochure', by: 'choice', input: 'fields.message' })
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(PlatenError);
    expect((wrong as PlatenError).problems).toEqual([
      expect.objectContaining({
        path: 'input',
        message: expect.stringContaining('fields.headline (Headline)'),
      }),
    ]);
  });

  it('lists the pieces that drew a response for matchback, and no others', async () => {
    const responded = piece({
      responses: 3,
      firstResponseAt: after(2),
      outcome: 'won',
      outcomeAt: after(60),
    });
    const rows = await new ResultsService(fakeStore([piece(), responded])).responses(marketing, {
      templateId: 'brochure',
    });
    expect(rows).toEqual([
      {
        recipientRef: responded.recipientRef,
        code: responded.code,
        templateId: 'brochure',
        version: 1,
        repId: 'rep-a',
        channel: 'api',
        jobId: null,
        row: null,
        variant: null,
        firstResponseAt: after(2),
        responses: 3,
        outcome: 'won',
        outcomeAt: after(60),
      },
    ]);
  });
});

describe('the results page’s words', () => {
  it('writes a rate with its interval in whole percent', () => {
    expect(percent(wilson(3, 10))).toBe('30 % (11–60 %)');
    expect(percent(wilson(0, 2))).toBe('0 % (0–66 %)');
    expect(percent(null)).toBe('');
  });

  it('writes a time to respond in minutes, hours or days', () => {
    expect(duration(null)).toBe('');
    expect(duration(0.4)).toBe('0 min');
    expect(duration(45)).toBe('45 min');
    expect(duration(120)).toBe('2 h');
    expect(duration(200)).toBe('3 h 20 min');
    expect(duration(2 * 1440)).toBe('2 d');
    expect(duration(2 * 1440 + 4 * 60 + 10)).toBe('2 d 4 h');
  });
});
