import type { Response } from 'express';
import { z } from 'zod';
import { PlatenError } from '../../errors.js';
import { csvLine } from '../../jobs/report.js';
import { OUTCOMES } from '../../service/pieces.js';
import { DIMENSIONS, type Rate, type ResponseRow, type Results } from '../../service/results.js';
import { type AnyRoute, route } from '../route.js';
import type { Services } from '../services.js';
import { templateIdSchema } from './templates.js';

const day = z.iso.date({ error: 'expected a day as YYYY-MM-DD' });

/** What narrows and groups results: the API's query and the results page's form alike. */
export const resultsFilter = z.strictObject({
  by: z.enum(DIMENSIONS).default('version'),
  /** The choice input to compare, by = choice: `fields.headline`. */
  input: z.string().max(200).optional(),
  /** The first and last day (UTC) of the pieces counted, both included. */
  from: day.optional(),
  to: day.optional(),
});

/** Refuses a range whose last day comes before its first. */
export function daysInOrder(q: { from?: string | undefined; to?: string | undefined }, ctx: z.RefinementCtx) {
  if (q.from && q.to && q.from > q.to)
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'the last day comes before the first: swap them' });
}

const resultsQuery = resultsFilter.extend({ template: templateIdSchema }).superRefine((q, ctx) => {
  daysInOrder(q, ctx);
  if (q.by === 'choice' && !q.input)
    ctx.addIssue({
      code: 'custom',
      path: ['input'],
      message: 'name the choice input to compare when grouping by choice, such as fields.headline',
    });
});
const responsesQuery = resultsFilter
  .pick({ from: true, to: true })
  .extend({ template: templateIdSchema })
  .superRefine(daysInOrder);

const rateSchema = z.object({ rate: z.number(), low: z.number(), high: z.number() }).nullable();
const resultsSchema = z.object({
  templateId: z.string(),
  name: z.string(),
  by: z.enum(DIMENSIONS),
  input: z.object({ key: z.string(), label: z.string() }).nullable(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  groups: z.array(
    z.object({
      key: z.string().nullable(),
      label: z.string(),
      heldOut: z.boolean(),
      pieces: z.number(),
      responded: z.number(),
      responseRate: rateSchema,
      medianMinutesToResponse: z.number().nullable(),
      outcomes: z.record(z.enum(OUTCOMES), z.number()),
      positive: z.number(),
      positiveRate: rateSchema,
      tooSmall: z.boolean(),
    }),
  ),
  fields: z.array(
    z.object({
      field: z.string(),
      label: z.string(),
      edited: z.number(),
      atDefault: z.number(),
      shareEdited: z.number(),
    }),
  ),
});

const share = (n: number | undefined): string => (n === undefined ? '' : n.toFixed(4));
const rateCells = (r: Rate | null): string[] => [share(r?.rate), share(r?.low), share(r?.high)];

/** Results as CSV, one row per group: what a spreadsheet compares. */
export function resultsCsv(results: Results): string {
  const header = [
    'group',
    'key',
    'held_out',
    'pieces',
    'responded',
    'response_rate',
    'response_rate_low',
    'response_rate_high',
    'median_minutes_to_response',
    ...OUTCOMES,
    'positive',
    'positive_rate',
    'positive_rate_low',
    'positive_rate_high',
    'too_small',
  ];
  const rows = results.groups.map((g) => [
    g.label,
    g.key ?? '',
    String(g.heldOut),
    String(g.pieces),
    String(g.responded),
    ...rateCells(g.responseRate),
    g.medianMinutesToResponse === null ? '' : String(Math.round(g.medianMinutesToResponse)),
    ...OUTCOMES.map((o) => String(g.outcomes[o])),
    String(g.positive),
    ...rateCells(g.positiveRate),
    String(g.tooSmall),
  ]);
  return csvText(header, rows);
}

/** Responded pieces as CSV, one row per piece, keyed by recipient: a CRM's matchback. */
export function responsesCsv(rows: ResponseRow[]): string {
  const header = [
    'recipient_ref',
    'code',
    'template',
    'version',
    'rep',
    'channel',
    'job',
    'row',
    'variant',
    'first_response',
    'responses',
    'outcome',
    'outcome_date',
  ];
  return csvText(
    header,
    rows.map((r) => [
      r.recipientRef ?? '',
      r.code,
      r.templateId,
      String(r.version),
      r.repId ?? '',
      r.channel,
      r.jobId ?? '',
      r.row === null ? '' : String(r.row),
      r.variant ?? '',
      r.firstResponseAt ?? '',
      String(r.responses),
      r.outcome ?? '',
      r.outcomeAt ?? '',
    ]),
  );
}

/** UTF-8 with a BOM (so Excel reads accents), CRLF, a header row: as the rejected-rows report. */
function csvText(header: string[], rows: string[][]): string {
  return '\uFEFF' + [header, ...rows].map(csvLine).join('');
}

export function sendCsv(res: Response, fileName: string, text: string): void {
  res.type('text/csv; charset=utf-8').attachment(fileName).set('Cache-Control', 'no-store').send(text);
}

/** The service's problems with a query parameter, named as the API names the others (`query.input`). */
function inQuery(error: unknown): never {
  if (error instanceof PlatenError)
    throw new PlatenError(
      error.code,
      error.problems.map((p) => ({ ...p, path: `query.${p.path}` })),
    );
  throw error;
}

export function resultRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/api/v1/results',
      summary:
        "What worked: a template's pieces grouped by version, choice, rep, channel, job or split arm, with response rates (95 % Wilson intervals), time to first response, outcomes, and the rep fields reps edit",
      tag: 'results',
      action: 'results.read',
      query: resultsQuery,
      responses: {
        200: {
          description: 'the results; with `Accept: text/csv`, one CSV row per group',
          kind: 'json',
          schema: resultsSchema,
          alternatives: ['csv'],
        },
        404: { description: 'no such template', kind: 'json' },
      },
      async handle({ req, res, auth, query }) {
        const results = await s.results
          .results(auth!, {
            templateId: query.template,
            by: query.by,
            input: query.input,
            from: query.from,
            to: query.to,
          })
          .catch(inQuery);
        if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
          sendCsv(res, `${query.template}-results-by-${query.by}.csv`, resultsCsv(results));
        } else res.json(results);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/results/responses.csv',
      summary:
        "A template's pieces that drew a response, one CSV row each keyed by recipient reference: for matching back in a CRM",
      tag: 'results',
      action: 'results.read',
      query: responsesQuery,
      responses: {
        200: { description: 'the responses (UTF-8 with BOM)', kind: 'csv' },
        404: { description: 'no such template', kind: 'json' },
      },
      async handle({ res, auth, query }) {
        const rows = await s.results.responses(auth!, {
          templateId: query.template,
          from: query.from,
          to: query.to,
        });
        sendCsv(res, `${query.template}-responses.csv`, responsesCsv(rows));
      },
    }),
  ];
}
