import type { Request, Router } from 'express';
import { z } from 'zod';
import { daysInOrder, resultsCsv, resultsFilter, responsesCsv, sendCsv } from '../api/routes/results.js';
import { templateParams } from '../api/routes/templates.js';
import { OUTCOME_LABELS, OUTCOMES } from '../service/pieces.js';
import type { ApiKey } from '../service/policy.js';
import type { Dimension, Rate, Results } from '../service/results.js';
import { pageCsp, parseWith, sendPage, signedIn, viewerOf, type Web } from './pages.js';

/** What the results form sends: a GET form's fields, blank ones meaning "any". */
const resultsForm = z.preprocess(
  (query) => Object.fromEntries(Object.entries(query as Record<string, unknown>).filter(([, v]) => v !== '')),
  resultsFilter.superRefine(daysInOrder),
);

const DIMENSION_LABELS: Record<Dimension, string> = {
  version: 'Template version',
  choice: 'A choice on the piece (such as the headline)',
  rep: 'Rep',
  channel: 'How it was made (form, API, batch)',
  job: 'Batch job',
  variant: 'Arm of a batch’s split (A/B test)',
};

/** Marketing's view of what worked: a template's results, grouped as asked, and the CSV exports. */
export function resultsRoutes(web: Web, router: Router): void {
  const { s } = web;

  router.get('/results', pageCsp, signedIn(web, 'results.read'), async (_req, res) => {
    const templates = (await s.templates.list(viewerOf(res).key)).map((t) => ({
      id: t.id,
      name: t.latest.name,
    }));
    sendPage(web, res, 'results-index', { title: 'Results', templates });
  });

  router.get('/results/:id', pageCsp, signedIn(web, 'results.read'), async (req, res) => {
    const { results, inputs } = await query(web, req, viewerOf(res).key);
    const id = results.templateId;
    sendPage(web, res, 'results', {
      title: `Results: ${results.name}`,
      id,
      name: results.name,
      dimensions: Object.entries(DIMENSION_LABELS)
        .filter(([by]) => by !== 'choice' || inputs.length > 0)
        .map(([by, label]) => ({ by, label, selected: by === results.by })),
      inputs: inputs.map((i) => ({ ...i, selected: i.key === results.input?.key })),
      from: results.from ?? '',
      to: results.to ?? '',
      groupedBy: results.input ? results.input.label : DIMENSION_LABELS[results.by],
      outcomes: OUTCOMES.map((o) => OUTCOME_LABELS[o]),
      groups: results.groups.map((g) => ({
        label: g.label,
        key: g.key,
        heldOut: g.heldOut,
        pieces: g.pieces,
        responded: g.responded,
        rate: percent(g.responseRate),
        median: duration(g.medianMinutesToResponse),
        outcomes: OUTCOMES.map((o) => g.outcomes[o]),
        positive: `${g.positive}, ${percent(g.positiveRate)}`,
        tooSmall: g.tooSmall,
      })),
      fields: results.fields.map((f) => ({
        ...f,
        share: `${Math.round(f.shareEdited * 100)} %`,
      })),
      groupsCsv: `/results/${id}/groups.csv?${filterOf(results)}`,
      responsesCsv: `/results/${id}/responses.csv?${new URLSearchParams(days(results))}`,
    });
  });

  router.get('/results/:id/groups.csv', signedIn(web, 'results.read'), async (req, res) => {
    const { results } = await query(web, req, viewerOf(res).key);
    sendCsv(res, `${results.templateId}-results-by-${results.by}.csv`, resultsCsv(results));
  });

  router.get('/results/:id/responses.csv', signedIn(web, 'results.read'), async (req, res) => {
    const { id } = parseWith(templateParams, req.params);
    const { from, to } = parseWith(resultsForm, req.query);
    const rows = await s.results.responses(viewerOf(res).key, { templateId: id, from, to });
    sendCsv(res, `${id}-responses.csv`, responsesCsv(rows));
  });
}

/** A page's results, as its form asks; grouping by choice without naming one compares the first. */
async function query(web: Web, req: Request, caller: ApiKey) {
  const { id } = parseWith(templateParams, req.params);
  const filter = parseWith(resultsForm, req.query);
  const inputs = await web.s.results.choiceInputs(caller, id);
  const input = filter.by === 'choice' ? (filter.input ?? inputs[0]?.key) : undefined;
  const results = await web.s.results.results(caller, { ...filter, input, templateId: id });
  return { results, inputs };
}

function days(results: Results): Record<string, string> {
  return {
    ...(results.from ? { from: results.from } : {}),
    ...(results.to ? { to: results.to } : {}),
  };
}

/** The page's query, as its links carry it on. */
function filterOf(results: Results): URLSearchParams {
  return new URLSearchParams({
    by: results.by,
    ...(results.input ? { input: results.input.key } : {}),
    ...days(results),
  });
}

/** "12 % (8–17 %)": a rate with its 95 % interval, in whole percent. */
export function percent(rate: Rate | null): string {
  if (!rate) return '';
  const p = (n: number) => Math.round(n * 100);
  return `${p(rate.rate)} % (${p(rate.low)}–${p(rate.high)} %)`;
}

/** "45 min", "3 h 20 min", "2 d 4 h": a time to respond as people say it. */
export function duration(minutes: number | null): string {
  if (minutes === null) return '';
  const m = Math.round(minutes);
  if (m < 60) return `${m} min`;
  if (m < 24 * 60) return m % 60 === 0 ? `${m / 60} h` : `${Math.floor(m / 60)} h ${m % 60} min`;
  const h = Math.round(m / 60);
  return h % 24 === 0 ? `${h / 24} d` : `${Math.floor(h / 24)} d ${h % 24} h`;
}
