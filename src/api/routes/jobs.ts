import { z } from 'zod';
import { PlatenError } from '../../errors.js';
import { checkJsonDepth } from '../../json.js';
import { parseMapEntries } from '../../jobs/mapping.js';
import { parseSheetSize } from '../../model/units.js';
import { MOST_HELD_OUT } from '../../jobs/experiment.js';
import { CSV_HEAD_BYTES, CSV_MAX_BYTES, type JobRequest, type JobView } from '../../service/jobs.js';
import type { UploadedFile } from '../bodies.js';
import { sendFile } from '../download.js';
import { type AnyRoute, route } from '../route.js';
import type { Services } from '../services.js';
import { repIdSchema } from './reps.js';
import { templateParams } from './templates.js';

/** The percentage of a job's rows held out, as a form field. */
export const holdoutSchema = z.coerce
  .number()
  .min(0)
  .max(MOST_HELD_OUT)
  .describe(`percent of rows (0 to ${MOST_HELD_OUT}) held out at random: recorded as pieces, not printed`);

/** A job's form fields (multipart, beside the `csv` file). */
const jobBody = z.strictObject({
  templateId: z.string().min(1).max(64),
  version: z.coerce.number().int().positive().optional(),
  output: z
    .enum(['pdf', 'zip', 'check'])
    .default('pdf')
    .describe('check: preflight, every row validated and fitted, nothing drawn'),
  /** `Header=input` lines, or a JSON object of header → input. */
  map: z.string().max(16_000).optional(),
  repId: repIdSchema
    .optional()
    .describe(
      "marketing and admins: the rep profile on every piece (with a `rep` column naming each row's rep: on rows that name none)",
    ),
  marks: z.stringbool().optional().describe("crop and bleed marks on every piece (default: the template's)"),
  impose: z
    .string()
    .max(40)
    .transform((text, ctx) => parseSheetSize(text) ?? (ctx.addIssue('a sheet size such as 12x18in'), z.NEVER))
    .optional()
    .describe('output pdf: step and repeat the pieces on press sheets of this size, e.g. 12x18in'),
  recipientColumn: z
    .string()
    .min(1)
    .max(1000)
    .optional()
    .describe(
      "the list's column naming each row's recipient, recorded with its piece (default: prospect.id)",
    ),
  split: z
    .string()
    .max(200)
    .optional()
    .describe(
      'an input with choices (e.g. fields.headline) split across the rows at random, recorded per piece',
    ),
  arms: z
    .string()
    .max(16_000)
    .optional()
    .describe(
      "with split: the choices to split between, one a line or a JSON array (default: all the input's)",
    ),
  holdout: holdoutSchema.optional(),
});
const rerunBody = z.strictObject({});
const columnsBody = jobBody.pick({ templateId: true, version: true, map: true });
export const jobParams = z.strictObject({ id: z.string().regex(/^[0-9a-f]{16}$/, 'not a job id') });
const listQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50) });

const jobSchema = z.object({
  id: z.string(),
  repId: z.string().nullable(),
  templateId: z.string(),
  version: z.number(),
  kind: z.enum(['pdf', 'zip', 'check']),
  state: z
    .enum(['queued', 'running', 'waiting', 'done', 'failed', 'cancelled'])
    .describe("waiting: held up by the server's storage (a full disk); it goes on by itself"),
  total: z.number().nullable(),
  done: z.number(),
  rendered: z.number(),
  rejected: z.number(),
  heldOut: z.number().describe('rows held out: recorded as pieces, not printed'),
  split: z
    .object({ input: z.string(), label: z.string(), arms: z.array(z.string()) })
    .nullable()
    .describe('the choice input split across the rows, and its arms'),
  holdout: z.number().describe('percent of rows held out'),
  rep: z
    .object({ id: z.string(), name: z.string() })
    .nullable()
    .describe('the rep whose profile prints on the pieces (with a rep column: on rows naming none)'),
  rate: z.number().nullable().describe('rows per second'),
  etaSeconds: z.number().nullable(),
  waiting: z.string().nullable().describe('why a waiting job waits'),
  error: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  links: z.object({ self: z.string(), events: z.string(), output: z.string(), errors: z.string() }),
});

const view = (job: JobView) => {
  const self = `/api/v1/jobs/${job.id}`;
  return {
    ...job,
    links: { self, events: `${self}/events`, output: `${self}/output`, errors: `${self}/errors.csv` },
  };
};

/** `Header=input` lines or a JSON object, as the mapping of a job. */
function mappingOf(text: string | undefined): Record<string, string> {
  if (text === undefined || text.trim() === '') return {};
  if (text.trim().startsWith('{')) {
    checkJsonDepth(text, 'map');
    const parsed = z.record(z.string(), z.string()).safeParse(safeJson(text));
    if (parsed.success) return parsed.data;
    throw new PlatenError('invalid_request', [
      { path: 'map', rule: 'mapping', message: 'a JSON mapping is an object of CSV header → input name' },
    ]);
  }
  return parseMapEntries(text.split(/\r?\n/).filter((line) => line.trim() !== ''));
}

/** A split's arms: one a line, or a JSON array. */
function armsOf(text: string | undefined): string[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  if (text.trim().startsWith('[')) {
    checkJsonDepth(text, 'arms');
    const parsed = z.array(z.string()).safeParse(safeJson(text));
    if (parsed.success) return parsed.data;
    throw new PlatenError('invalid_request', [
      { path: 'arms', rule: 'arms', message: "a JSON list of arms is an array of the input's choices" },
    ]);
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** A job's split, from its `split` and `arms` fields. */
function splitOf(
  input: string | undefined,
  arms: string | undefined,
): { input: string; arms?: string[] } | undefined {
  const chosen = armsOf(arms);
  if (input === undefined || input.trim() === '') {
    if (chosen === undefined) return undefined;
    throw new PlatenError('invalid_request', [
      { path: 'arms', rule: 'split', message: 'arms need a split: name the input in `split`' },
    ]);
  }
  return { input: input.trim(), ...(chosen ? { arms: chosen } : {}) };
}

/** The path of the uploaded list. */
function requiredCsv(csv: UploadedFile | undefined): string {
  if (csv) return csv.path;
  throw new PlatenError('invalid_request', [
    { path: 'csv', rule: 'required', message: 'attach the prospect list as `csv`' },
  ]);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** What a job's form asks of its pieces: whose they are, a split and a holdout. */
export function experimentOf(body: {
  recipientColumn?: string | undefined;
  split?: string | undefined;
  arms?: string | undefined;
  holdout?: number | undefined;
}): Pick<JobRequest, 'recipientColumn' | 'split' | 'holdout'> {
  const split = splitOf(body.split, body.arms);
  return {
    ...(body.recipientColumn ? { recipientColumn: body.recipientColumn } : {}),
    ...(split ? { split } : {}),
    ...(body.holdout ? { holdout: body.holdout } : {}),
  };
}

/** A 202 answer: a job, started, and where it is. */
const started = (description: string) =>
  ({ description, kind: 'json', schema: jobSchema, headers: { Location: 'the job' } }) as const;

export function jobRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'post',
      path: '/api/v1/jobs',
      summary:
        'Start a batch job: a prospect list (multipart `csv`) merged into a print file, a ZIP or a preflight',
      tag: 'jobs',
      action: 'jobs.run',
      body: jobBody,
      accepts: { multipart: { files: ['csv'], maxBytes: CSV_MAX_BYTES } },
      responses: {
        202: started('the job, started'),
        404: { description: 'no such template (or not published)', kind: 'json' },
        422: { description: 'a bad CSV, mapping or rep: every problem named', kind: 'json' },
      },
      async handle({ res, auth, body, files }) {
        const job = await s.jobs.create(auth!, {
          templateId: body.templateId,
          ...(body.version === undefined ? {} : { version: body.version }),
          kind: body.output,
          csv: requiredCsv(files.csv),
          map: mappingOf(body.map),
          ...(body.repId === undefined ? {} : { repId: body.repId }),
          ...(body.marks ? { marks: true } : {}),
          ...(body.impose ? { impose: body.impose } : {}),
          ...experimentOf(body),
        });
        res.status(202).location(`/api/v1/jobs/${job.id}`).json(view(job));
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/jobs/columns',
      summary:
        "A list's columns (multipart `csv`; only the header is read) mapped to a template's prospect inputs, as a job would map them: check before starting",
      tag: 'jobs',
      action: 'jobs.run',
      body: columnsBody,
      accepts: { multipart: { files: ['csv'], maxBytes: CSV_MAX_BYTES, headBytes: CSV_HEAD_BYTES } },
      responses: {
        200: { description: 'headers, the input each feeds, required inputs without a column', kind: 'json' },
        404: { description: 'no such template (or not published)', kind: 'json' },
      },
      async handle({ res, auth, body, files }) {
        res.json(
          await s.jobs.columns(
            auth!,
            body.templateId,
            body.version,
            requiredCsv(files.csv),
            mappingOf(body.map),
          ),
        );
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/templates/:id/sample.csv',
      summary:
        "A list to start a batch from: a column for each of the published template's prospect inputs (by label), a row for each sample",
      tag: 'jobs',
      action: 'jobs.run',
      params: templateParams,
      responses: {
        200: { description: 'the list (UTF-8 with BOM)', kind: 'csv' },
        404: { description: 'no such template (or not published)', kind: 'json' },
      },
      async handle({ res, auth, params }) {
        const { csv, templateId } = await s.jobs.sampleCsv(auth!, params.id);
        res.type('text/csv; charset=utf-8').attachment(`${templateId}-sample.csv`).send(csv);
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/jobs/:id/rerun',
      summary:
        "Run a finished job's rejected rows again, as corrected in the list (multipart `csv`, rows where they were): a new job",
      tag: 'jobs',
      action: 'jobs.run',
      params: jobParams,
      body: rerunBody,
      accepts: { multipart: { files: ['csv'], maxBytes: CSV_MAX_BYTES } },
      responses: {
        202: started('the new job, started'),
        404: { description: 'no such job, or not finished', kind: 'json' },
        422: { description: 'no rejected rows, or a bad CSV: every problem named', kind: 'json' },
      },
      async handle({ res, auth, params, files }) {
        const job = await s.jobs.rerun(auth!, params.id, requiredCsv(files.csv));
        res.status(202).location(`/api/v1/jobs/${job.id}`).json(view(job));
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/jobs',
      summary: 'Batch jobs, newest first: reps see their own, marketing and admins all',
      tag: 'jobs',
      action: 'jobs.run',
      query: listQuery,
      responses: {
        200: { description: 'jobs', kind: 'json', schema: z.object({ jobs: z.array(jobSchema) }) },
      },
      async handle({ res, auth, query }) {
        res.json({ jobs: (await s.jobs.list(auth!, query.limit)).map(view) });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/jobs/:id',
      summary: 'A job: state, rows done and rejected, rate and ETA',
      tag: 'jobs',
      action: 'jobs.run',
      params: jobParams,
      responses: {
        200: { description: 'the job', kind: 'json', schema: jobSchema },
        404: { description: 'no such job', kind: 'json' },
      },
      async handle({ res, auth, params }) {
        res.json(view(await s.jobs.get(auth!, params.id)));
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/jobs/:id/events',
      summary:
        "A job's progress as server-sent events (`progress`, then one `end`), starting with its state now",
      tag: 'jobs',
      action: 'jobs.run',
      params: jobParams,
      responses: {
        200: { description: 'event stream; each data line is the job as JSON', kind: 'events' },
        404: { description: 'no such job', kind: 'json' },
      },
      async handle({ req, res, auth, params }) {
        // Sent with the first event; an unknown job is answered 404 before it.
        res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
        const stop = await s.jobs.watch(
          auth!,
          params.id,
          (event, job) => res.write(`event: ${event}\ndata: ${JSON.stringify(view(job))}\n\n`),
          () => res.end(),
        );
        // A client may have gone while the job was read.
        if (req.socket.destroyed) stop();
        else req.on('close', stop);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/jobs/:id/output',
      summary: "A finished job's output: the merged PDF or the ZIP",
      tag: 'jobs',
      action: 'jobs.run',
      params: jobParams,
      responses: {
        200: { description: 'the print file (application/pdf) or the ZIP (application/zip)', kind: 'pdf' },
        206: { description: 'the one byte range a Range header asked for (a resumed download)', kind: 'pdf' },
        404: { description: 'no such job, or no output yet', kind: 'json' },
        416: { description: 'a range that starts past the end (Content-Range: bytes */size)', kind: 'empty' },
      },
      async handle({ req, res, auth, params }) {
        const { file, job } = await s.jobs.outputOf(auth!, params.id, 'output');
        await sendFile(req, res, file, `${job.templateId}-${job.id}.${job.kind === 'zip' ? 'zip' : 'pdf'}`);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/jobs/:id/errors.csv',
      summary: "A finished job's rejected rows: row, line, column, rule, message, value",
      tag: 'jobs',
      action: 'jobs.run',
      params: jobParams,
      responses: {
        200: { description: 'the report (UTF-8 with BOM)', kind: 'csv' },
        206: { description: 'the one byte range a Range header asked for', kind: 'csv' },
        404: { description: 'no such job, or no report yet', kind: 'json' },
        416: { description: 'a range that starts past the end (Content-Range: bytes */size)', kind: 'empty' },
      },
      async handle({ req, res, auth, params }) {
        const { file, job } = await s.jobs.outputOf(auth!, params.id, 'errors');
        await sendFile(req, res, file, `${job.templateId}-${job.id}-errors.csv`);
      },
    }),
    route({
      method: 'delete',
      path: '/api/v1/jobs/:id',
      summary: 'Cancel a queued or running job (a finished job is left as it is)',
      tag: 'jobs',
      action: 'jobs.run',
      params: jobParams,
      responses: {
        200: { description: 'the job', kind: 'json', schema: jobSchema },
        404: { description: 'no such job', kind: 'json' },
      },
      async handle({ res, auth, params }) {
        res.json(view(await s.jobs.cancel(auth!, params.id)));
      },
    }),
  ];
}
