import type { Request, Router } from 'express';
import { z } from 'zod';
import { uploadsOf } from '../api/bodies.js';
import { experimentOf, holdoutSchema, jobParams } from '../api/routes/jobs.js';
import { repIdSchema } from '../api/routes/reps.js';
import { templateIdSchema } from '../api/routes/templates.js';
import { PlatenError } from '../errors.js';
import { parseMapEntries } from '../jobs/mapping.js';
import { CSV_HEAD_BYTES, CSV_MAX_BYTES, type JobView } from '../service/jobs.js';
import { can } from '../service/policy.js';
import {
  csrf,
  body,
  FORM,
  json,
  pageCsp,
  parseWith,
  sendPage,
  signedIn,
  viewerOf,
  type Web,
  when,
} from './pages.js';

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

  router.get('/batch', pageCsp, signedIn(web, 'jobs.run'), async (_req, res) => {
    const viewer = viewerOf(res);
    sendPage(web, res, 'batch', {
      title: 'Batch',
      script: 'batch.js',
      // Jobs run published versions only.
      templates: (await s.templates.list(viewer.key)).flatMap(({ published: v }) =>
        v ? [{ id: v.templateId, name: v.name }] : [],
      ),
      // Marketing runs a drop as a rep: the choice shows who, not their contact details.
      reps: can(viewer.key.role, 'reps.any') ? await s.profiles.names(viewer.key) : null,
      jobs: await Promise.all((await s.jobs.list(viewer.key, RECENT_JOBS)).map((job) => jobRow(web, job))),
    });
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

  router.get('/batch/jobs/:id', pageCsp, signedIn(web, 'jobs.run'), async (req, res) => {
    const { id } = parseWith(jobParams, req.params);
    const viewer = viewerOf(res);
    const job = await s.jobs.get(viewer.key, id);
    const report = job.state === 'done' ? await s.jobs.rejections(viewer.key, id, REJECTIONS_SHOWN) : null;
    sendPage(web, res, 'job', {
      title: `Batch job ${job.id}`,
      script: 'batch.js',
      job: await jobRow(web, job),
      live: job.state === 'queued' || job.state === 'running' || job.state === 'waiting',
      outputLabel:
        job.state !== 'done' || job.kind === 'check' || job.rendered === 0
          ? null
          : `Download the ${job.kind === 'zip' ? 'ZIP' : 'merged PDF'}`,
      report,
      more: report ? report.total - report.lines.length : 0,
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
    const { path, job } = await s.jobs.outputOf(viewerOf(res).key, id, 'output');
    res.download(path, `${job.templateId}-${job.id}.${job.kind === 'zip' ? 'zip' : 'pdf'}`);
  });

  router.get('/batch/jobs/:id/errors.csv', pageCsp, signedIn(web, 'jobs.run'), async (req, res) => {
    const { id } = parseWith(jobParams, req.params);
    const { path, job } = await s.jobs.outputOf(viewerOf(res).key, id, 'errors');
    res.download(path, `${job.templateId}-${job.id}-errors.csv`);
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
      const job = await s.jobs.rerun(viewerOf(res).key, id, csvOf(req));
      res.redirect(303, links(job).page);
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

/** A job as the pages list and show it. */
async function jobRow(web: Web, job: JobView) {
  return {
    ...withLinks(job),
    name: await web.s.templates.nameOf(job.templateId, job.version),
    kindLabel: KINDS[job.kind],
    created: when(job.createdAt),
    finished: when(job.finishedAt),
  };
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
