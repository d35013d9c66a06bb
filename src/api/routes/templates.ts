import { z } from 'zod';
import type { TemplateVersion } from '../../service/templates.js';
import { recordJsonSchema } from '../../template/record-schema.js';
import { HttpError } from '../problem.js';
import { type AnyRoute, route } from '../route.js';
import type { Services } from '../services.js';

/** A template's id, as routes and forms name it (the API's and the pages' alike). */
export const templateIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'not a template id');
export const templateParams = z.strictObject({ id: templateIdSchema });
export const versionParams = templateParams.extend({ n: z.coerce.number().int().positive() });
const PACKAGE_MAX_BYTES = 50 * 1024 * 1024;
const versionQuery = z.strictObject({ version: z.coerce.number().int().positive().optional() });

export const versionSummary = z.object({
  templateId: z.string(),
  version: z.number(),
  name: z.string(),
  state: z.enum(['draft', 'published', 'retired']),
  createdBy: z.string(),
  createdAt: z.string(),
  publishedBy: z.string().nullable(),
  publishedAt: z.string().nullable(),
  retiredBy: z.string().nullable(),
  retiredAt: z.string().nullable(),
  approvedBy: z.string().nullable(),
  approvedAt: z.string().nullable(),
  renders: z.number().optional(),
});

export function summary(v: TemplateVersion, renders?: number) {
  const { manifest: _m, report: _r, ...rest } = v;
  return renders === undefined ? rest : { ...rest, renders };
}

/** A version as a form or a client needs it: pages, fields and the JSON Schema of its record. */
export function detail(v: TemplateVersion) {
  const m = v.manifest;
  return {
    ...summary(v),
    description: m.description ?? null,
    pages: m.pages.map((p) => p.name),
    page: m.page,
    fields: m.fields,
    prospect: m.prospect,
    rep: m.rep,
    samples: m.samples.map((s) => s.name),
    recordSchema: recordJsonSchema(m),
  };
}

export function templateRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/api/v1/templates',
      summary: 'Templates: reps see published ones; marketing and admins see all, with their states',
      tag: 'templates',
      action: 'templates.read',
      responses: {
        200: {
          description: 'templates',
          kind: 'json',
          schema: z.object({
            templates: z.array(
              z.object({ id: z.string(), latest: versionSummary, published: versionSummary.nullable() }),
            ),
          }),
        },
      },
      async handle({ res, auth }) {
        const list = (await s.templates.list(auth!)).map((t) => ({
          id: t.id,
          latest: summary(t.latest),
          published: t.published ? summary(t.published) : null,
        }));
        res.json({ templates: list });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/templates/:id',
      summary: 'The latest published version of a template (or ?version=N): pages, fields, record schema',
      tag: 'templates',
      action: 'templates.read',
      params: templateParams,
      query: versionQuery,
      responses: {
        200: { description: 'the version', kind: 'json' },
        404: { description: 'no such template or version', kind: 'json' },
      },
      async handle({ res, auth, params, query }) {
        res.json(detail(await s.templates.resolve(params.id, query.version, auth!)));
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/templates/:id/versions',
      summary:
        'Every version of a template, with who created, published and retired it, and how often reps used it',
      tag: 'templates',
      action: 'templates.manage',
      params: templateParams,
      responses: {
        200: {
          description: 'versions',
          kind: 'json',
          schema: z.object({ versions: z.array(versionSummary) }),
        },
      },
      async handle({ res, auth, params }) {
        const versions = await s.templates.versions(auth!, params.id);
        if (versions.length === 0) res.status(404);
        res.json({ versions: versions.map((v) => summary(v, v.renders)) });
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/templates',
      summary: 'Upload a template package (zip): validated, then stored as a new immutable draft version',
      tag: 'templates',
      action: 'templates.manage',
      body: z.strictObject({}),
      accepts: {
        zip: { maxBytes: PACKAGE_MAX_BYTES },
        multipart: { files: ['file'], maxBytes: PACKAGE_MAX_BYTES },
      },
      responses: {
        201: { description: 'stored as a draft', kind: 'json', headers: { Location: 'the version' } },
        422: { description: 'invalid package: every problem listed; nothing stored', kind: 'json' },
      },
      async handle({ res, auth, files }) {
        if (!files.file || files.file.size === 0) {
          throw new HttpError(
            415,
            'no_package',
            'send the package as an application/zip body or a multipart "file" field',
          );
        }
        const version = await s.templates.upload(auth!, files.file.path);
        res
          .status(201)
          .location(`/api/v1/templates/${version.templateId}?version=${version.version}`)
          .json({ ...detail(version), report: version.report });
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/templates/:id/versions/:n/publish',
      summary: 'Publish a version: its package must compile and every sample render',
      tag: 'templates',
      action: 'templates.manage',
      params: versionParams,
      responses: {
        200: { description: 'published', kind: 'json', schema: versionSummary },
        409: { description: 'already published', kind: 'json' },
      },
      async handle({ res, auth, params }) {
        res.json(summary(await s.templates.publish(auth!, params.id, params.n)));
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/templates/:id/versions/:n/retire',
      summary: 'Retire a version: reps can no longer render it',
      tag: 'templates',
      action: 'templates.manage',
      params: versionParams,
      responses: {
        200: { description: 'retired', kind: 'json', schema: versionSummary },
        409: { description: 'already retired', kind: 'json' },
      },
      async handle({ res, auth, params }) {
        res.json(summary(await s.templates.retire(auth!, params.id, params.n)));
      },
    }),
  ];
}
