import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { uploadsOf } from '../api/bodies.js';
import { sendFile } from '../api/download.js';
import { experimentOf, holdoutSchema, jobParams } from '../api/routes/jobs.js';
import { repIdSchema } from '../api/routes/reps.js';
import { templateIdSchema } from '../api/routes/templates.js';
import { PlatenError, type Problem } from '../errors.js';
import { parseMapEntries } from '../jobs/mapping.js';
import { CSV_HEAD_BYTES, CSV_MAX_BYTES, type JobView, type Rejection } from '../service/jobs.js';
import { can } from '../service/policy.js';
import {
  csrf,
  body,
  FORM,
  json,
  pageCsp,
  parseWith,
  sendPage,
  sentence,
  signedIn,
  viewerOf,
  type Web,
  when,
} from './pages.js';
import { PREVIEW_SCALE } from './rep-pages.js';

/** What the batch script posts beside the list: `map` is `Header=input`, once per mapped input. */
const listForm = z.strictObject({
  templateId: templateIdSchema,
  version: z.coerce.number().int().positive().optional(),
  map: z.union([z.string(), z.array(z.string())]).optional(),
  repId: repIdSchema.optional(),
});
/** A run's form: the output, and optionally whose pieces they are and an experiment. */
const jobForm = listForm.extend({
  output: z.enum(['pdf', 'zip', 'check']),
  recipientColumn: z.string().max(1000).optional(),
  split: z.string().max(200).optional(),
  holdout: holdoutSchema.optional(),
});

/** The batch page's query: preflight checks are listed only when asked for. */
const batchQuery = z.strictObject({ checks: z.literal('1').optional() });
/** Which page of a list's first piece the batch page previews. */
const previewQuery = z.strictObject({ page: z.coerce.number().int().min(1).max(100).default(1) });
const sampleQuery = z.strictObject({ template: templateIdSchema });
/** The job page's inline fixes: a rejected row's number, its column and the corrected value, once per cell. */
const many = z.union([z.string(), z.array(z.string())]).transform((v) => (typeof v === 'string' ? [v] : v));
const fixForm = z.strictObject({
  _csrf: z.string().optional(),
  row: many.pipe(
    z.array(
      z
        .string()
        .regex(/^[1-9][0-9]{0,9}$/, 'not a row number')
        .transform(Number),
    ),
  ),
  column: many.pipe(z.array(z.string().max(1000))),
  value: many.pipe(z.array(z.string().max(10_000))),
});

/** Rejected-row lines a page shows; the whole report is a download. */
const REJECTIONS_SHOWN = 100;
const RECENT_JOBS = 20;

const KINDS: Record<JobView['kind'], string> = {
  check: 'Preflight check',
  pdf: 'Merged PDF',
  zip: 'ZIP of PDFs',
};

/**
 * The batch page: a prospect list for a published template, its columns mapped to the template's
 * prospect inputs, a preflight (a `check` job), then the real run, with a page per job for its live
 * progress and downloads. Everything goes through the job service, as the API's jobs do; reps see
 * and run their own jobs only.
 */
export function batchRoutes(web: Web, router: Router): void {
  const { s } = web;
  const formBody = body(web, FORM);

  router.get('/batch', pageCsp, signedIn(web, 'jobs.run'), async (req, res) => {
    const viewer = viewerOf(res);
    const checks = parseWith(batchQuery, req.query).checks === '1';
    const jobs = await s.jobs.list(viewer.key, RECENT_JOBS, checks);
    sendPage(web, res, 'batch', {
      title: 'Batch',
      script: 'batch.js',
      // Jobs run published versions only.
      templates: (await s.templates.list(viewer.key)).flatMap(({ published: v }) =>
        v ? [{ id: v.templateId, name: v.name }] : [],
      ),
      // Marketing runs a drop as a rep: the choice shows who, not their contact details.
      reps: can(viewer.key.role, 'reps.any') ? await s.profiles.names(viewer.key) : null,
      jobs: await Promise.all(jobs.map((job) => jobRow(web, job))),
      checks,
    });
  });

  router.get('/batch/sample.csv', pageCsp, signedIn(web, 'jobs.run'), async (req, res) => {
    const { template } = parseWith(sampleQuery, req.query);
    const { csv, templateId } = await s.jobs.sampleCsv(viewerOf(res).key, template);
    res.type('text/csv; charset=utf-8').attachment(`${templateId}-sample.csv`).send(csv);
  });

  /** What the batch script posts: a list (or its start) and the choices beside it; answered in JSON. */
  const listPost = (headBytes?: number) => [
    json,
    pageCsp,
    signedIn(web, 'jobs.run'),
    body(web, { multipart: { files: ['csv'], maxBytes: CSV_MAX_BYTES, headBytes } }),
    csrf(web),
  ];

  router.post('/batch/columns', ...listPost(CSV_HEAD_BYTES), async (req, res) => {
    const form = parseWith(listForm, withoutCsrf(req.body));
    res
      .set('Cache-Control', 'no-store')
      .json(await s.jobs.columns(viewerOf(res).key, form.templateId, form.version, csvOf(req), mapOf(form)));
  });

  /** The first row's piece, drawn before anything runs: the mapping and rep as the page has them. */
  router.post('/batch/preview', ...listPost(CSV_HEAD_BYTES), async (req, res) => {
    const form = parseWith(listForm, withoutCsrf(req.body));
    const { page } = parseWith(previewQuery, req.query);
    const signal = res.locals.signal as AbortSignal;
    const request = {
      templateId: form.templateId,
      ...(form.version === undefined ? {} : { version: form.version }),
      csv: csvOf(req),
      map: mapOf(form),
      ...(form.repId === undefined ? {} : { repId: form.repId }),
    };
    const preview = await s.gate.run(signal, () =>
      s.jobs.previewFirstRow(viewerOf(res).key, request, page, PREVIEW_SCALE, signal),
    );
    res.set('Cache-Control', 'no-store').json({
      image: `data:image/png;base64,${preview.png.toString('base64')}`,
      pages: preview.pages,
      problems: preview.problems,
    });
  });

  router.post('/batch/jobs', ...listPost(), async (req, res) => {
    const form = parseWith(jobForm, withoutCsrf(req.body));
    const job = await s.jobs.create(viewerOf(res).key, {
      templateId: form.templateId,
      ...(form.version === undefined ? {} : { version: form.version }),
      kind: form.output,
      csv: csvOf(req),
      map: mapOf(form),
      ...(form.repId === undefined ? {} : { repId: form.repId }),
      ...experimentOf(form),
    });
    res.status(202).location(links(job).page).json(withLinks(job));
  });

  /** A job's page; with the problems of a fix it refused, and the values typed, when one was. */
  const sendJobPage = async (
    res: Response,
    id: string,
    refused?: { problems: Problem[]; typed: Map<string, string> },
  ) => {
    const viewer = viewerOf(res);
    const job = await s.jobs.get(viewer.key, id);
    const report = job.state === 'done' ? await s.jobs.rejections(viewer.key, id, REJECTIONS_SHOWN) : null;
    sendPage(
      web,
      res,
      'job',
      {
        title: `${await s.templates.nameOf(job.templateId, job.version)}: batch job`,
        script: 'batch.js',
        job: await jobRow(web, job),
        live: live(job),
        outputLabel:
          job.state !== 'done' || job.kind === 'check' || job.rendered === 0
            ? null
            : `Download the ${job.kind === 'zip' ? 'ZIP' : 'merged PDF'}`,
        report: report && { ...report, rows: fixableRows(report.lines, refused?.typed) },
        more: report ? report.total - report.lines.length : 0,
        problems: refused?.problems ?? [],
      },
      refused ? 422 : 200,
    );
  };

  router.get('/batch/jobs/:id', pageCsp, signedIn(web, 'jobs.run'), async (req, res) => {
    await sendJobPage(res, parseWith(jobParams, req.params).id);
  });

  /** Rejected rows corrected cell by cell on the job's page, run again as a new job. */
  router.post(
    '/batch/jobs/:id/fix',
    pageCsp,
    signedIn(web, 'jobs.run'),
    formBody,
    csrf(web),
    async (req, res) => {
      const { id } = parseWith(jobParams, req.params);
      const form = parseWith(fixForm, req.body);
      const fixes = form.row.map((row, i) => ({
        row,
        column: form.column[i] ?? '',
        value: form.value[i] ?? '',
      }));
      try {
        const job = await s.jobs.rerunFixed(viewerOf(res).key, id, fixes);
        res.redirect(303, links(job).page);
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        const typed = new Map(fixes.map((f) => [cellKey(f.row, f.column), f.value]));
        await sendJobPage(res, id, { problems: error.problems.map(inWords), typed });
      }
    },
  );

  /** Cancel's confirmation, for a browser without the page's script (with it, a dialog asks). */
  router.get('/batch/jobs/:id/cancel', pageCsp, signedIn(web, 'jobs.run'), async (req, res) => {
    const { id } = parseWith(jobParams, req.params);
    const job = await s.jobs.get(viewerOf(res).key, id);
    sendPage(web, res, 'cancel-job', {
      title: 'Cancel the job?',
      job: await jobRow(web, job),
      live: live(job),
    });
  });

  router.get('/batch/jobs/:id/events', pageCsp, signedIn(web, 'jobs.run'), async (req, res) => {
    const { id } = parseWith(jobParams, req.params);
    // Sent with the first event; an unknown job gets the error page before it.
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    const stop = await s.jobs.watch(
      viewerOf(res).key,
      id,
      (event, job) => res.write(`event: ${event}\ndata: ${JSON.stringify(withLinks(job))}\n\n`),
      () => res.end(),
    );
    // A client may have gone while the job was read.
    if (req.socket.destroyed) stop();
    else req.on('close', stop);
  });

  router.get('/batch/jobs/:id/rejections', json, pageCsp, signedIn(web, 'jobs.run'), async (req, res) => {
    const { id } = parseWith(jobParams, req.params);
    res
      .set('Cache-Control', 'no-store')
      .json(await s.jobs.rejections(viewerOf(res).key, id, REJECTIONS_SHOWN));
  });

  router.get('/batch/jobs/:id/output', pageCsp, signedIn(web, 'jobs.run'), async (req, res) => {
    const { id } = parseWith(jobParams, req.params);
    const { file, job } = await s.jobs.outputOf(viewerOf(res).key, id, 'output');
    await sendFile(req, res, file, `${job.templateId}-${job.id}.${job.kind === 'zip' ? 'zip' : 'pdf'}`);
  });

  router.get('/batch/jobs/:id/errors.csv', pageCsp, signedIn(web, 'jobs.run'), async (req, res) => {
    const { id } = parseWith(jobParams, req.params);
    const { file, job } = await s.jobs.outputOf(viewerOf(res).key, id, 'errors');
    await sendFile(req, res, file, `${job.templateId}-${job.id}-errors.csv`);
  });

  /** The job page's form: the rejected rows run again, as corrected in the list, as a new job. */
  router.post(
    '/batch/jobs/:id/rerun',
    pageCsp,
    signedIn(web, 'jobs.run'),
    body(web, { multipart: { files: ['csv'], maxBytes: CSV_MAX_BYTES } }),
    csrf(web),
    async (req, res) => {
      const { id } = parseWith(jobParams, req.params);
      try {
        const job = await s.jobs.rerun(viewerOf(res).key, id, csvOf(req));
        res.redirect(303, links(job).page);
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        await sendJobPage(res, id, { problems: error.problems.map(inWords), typed: new Map() });
      }
    },
  );

  router.post(
    '/batch/jobs/:id/cancel',
    pageCsp,
    signedIn(web, 'jobs.run'),
    formBody,
    csrf(web),
    async (req, res) => {
      const { id } = parseWith(jobParams, req.params);
      await s.jobs.cancel(viewerOf(res).key, id);
      res.redirect(303, links({ id }).page);
    },
  );
}

function links(job: { id: string }) {
  const page = `/batch/jobs/${job.id}`;
  return {
    page,
    events: `${page}/events`,
    rejections: `${page}/rejections`,
    output: `${page}/output`,
    errors: `${page}/errors.csv`,
  };
}

const withLinks = (job: JobView) => ({ ...job, links: links(job) });

const live = (job: JobView) => job.state === 'queued' || job.state === 'running' || job.state === 'waiting';

const STATES: Record<JobView['state'], string> = {
  queued: 'Queued',
  running: 'Running',
  waiting: 'Waiting',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** A job as the pages list and show it. */
async function jobRow(web: Web, job: JobView) {
  return {
    ...withLinks(job),
    name: await web.s.templates.nameOf(job.templateId, job.version),
    kindLabel: KINDS[job.kind],
    stateLabel: STATES[job.state],
    created: when(job.createdAt),
    finished: when(job.finishedAt),
  };
}

const cellKey = (row: number, column: string) => `${row}\u0000${column}`;

/**
 * The rejected rows as the job page lists them, one per row with its problems; each problem's cell
 * editable where it is one of the list's cells (a problem of the whole row has none), once per cell.
 */
function fixableRows(lines: Rejection[], typed: Map<string, string> = new Map()) {
  const rows = new Map<
    number,
    { row: number; line: number; problems: (Rejection & { edit: boolean; typed: string; field: string })[] }
  >();
  const seen = new Set<string>();
  for (const line of lines) {
    const entry = rows.get(line.row) ?? { row: line.row, line: line.line, problems: [] };
    const key = cellKey(line.row, line.column);
    // A cell of the list: the worker names a problem's column by its header, or by its path if none.
    const edit = line.column !== '' && !/^(prospect|fields|rep)\.|^csv$/.test(line.column) && !seen.has(key);
    seen.add(key);
    entry.problems.push({
      ...line,
      message: sentence(line.message),
      edit,
      typed: typed.get(key) ?? line.value,
      field: `fix-${line.row}-${entry.problems.length}`,
    });
    rows.set(line.row, entry);
  }
  return [...rows.values()];
}

/** A refused fix's problems as the page shows them: by row and column, never a path. */
function inWords(problem: Problem): Problem {
  return { ...problem, path: '', message: sentence(problem.message) };
}

/** The CSRF token travels in a header from the script, or as a field; it is not part of the form. */
function withoutCsrf(body: unknown): unknown {
  const { _csrf: _token, ...rest } = (body ?? {}) as Record<string, unknown>;
  return rest;
}

/** The path of the request's list. */
function csvOf(req: Request): string {
  const file = uploadsOf(req).csv;
  if (!file || file.size === 0) {
    throw new PlatenError('invalid_request', [
      { path: 'csv', rule: 'required', message: 'choose a prospect list (a CSV file)' },
    ]);
  }
  return file.path;
}

function mapOf(form: z.infer<typeof listForm>): Record<string, string> {
  if (form.map === undefined) return {};
  return parseMapEntries(typeof form.map === 'string' ? [form.map] : form.map);
}
