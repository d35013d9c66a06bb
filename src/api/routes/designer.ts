import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { PlatenError } from '../../errors.js';
import type { DraftInput } from '../../service/designer.js';
import { PACKAGE_LIMITS } from '../../service/unzip.js';
import { designProblems } from '../../template/design-problems.js';
import { HttpError } from '../problem.js';
import { type AnyRoute, route } from '../route.js';
import type { Services } from '../services.js';
import { detail, summary, templateParams, versionParams, versionSummary } from './templates.js';

/** template.json: compile refuses a larger one. */
const MANIFEST_MAX_BYTES = 1024 * 1024;
const DRAFT_MAX_FILES = 100;

const problemSchema = z.object({
  path: z.string(),
  rule: z.string(),
  message: z.string(),
  element: z.string().optional(),
  page: z.string().optional(),
  input: z.string().optional(),
});

/** A stored version as the draft route answers it (the template's GET answers the same). */
const versionDetail = versionSummary.extend({
  description: z.string().nullable(),
  pages: z.array(z.string()),
  page: z.unknown(),
  fields: z.record(z.string(), z.unknown()),
  prospect: z.record(z.string(), z.unknown()),
  rep: z.record(z.string(), z.unknown()),
  samples: z.array(z.string()),
  recordSchema: z.record(z.string(), z.unknown()),
});

const draftQuery = z.strictObject({
  from: z.coerce.number().int().positive().optional(),
  dryRun: z.enum(['true', 'false']).default('false'),
});

const previewQuery = z.strictObject({
  page: z.coerce.number().int().min(1).max(50).default(1),
  /** 1 = 72 dpi. */
  scale: z.coerce.number().min(0.1).max(4).default(1),
  /** Which sample record, from 0. */
  sample: z.coerce.number().int().min(0).max(49).default(0),
});

const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'expected the sha256 an asset upload answered');
const previewBody = z.strictObject({
  manifest: z.record(z.string(), z.unknown()),
  from: z.number().int().positive().optional(),
  assets: z.record(z.string().min(1).max(1024), sha256Schema).optional(),
});

const assetSchema = z.object({
  path: z.string(),
  sha256: z.string(),
  kind: z.enum(['image', 'font', 'svg']),
  width: z.number().optional(),
  height: z.number().optional(),
});

const changeSchema = z.object({
  what: z.enum(['element', 'input', 'page', 'palette', 'font', 'sample', 'setting']),
  name: z.string(),
  change: z.enum(['added', 'removed', 'moved', 'resized', 'restyled', 'changed']),
  detail: z.string(),
});

const propertySchema = z.object({
  key: z.string(),
  label: z.string(),
  group: z.string(),
  control: z.string(),
  unit: z.string().optional(),
  choices: z.array(z.string()).optional(),
  bindable: z.boolean().optional(),
  required: z.boolean().optional(),
});

const kindsSchema = z.object({
  kinds: z.array(
    z.object({
      type: z.string(),
      label: z.string(),
      summary: z.string(),
      properties: z.array(propertySchema),
      defaults: z.record(z.string(), z.unknown()),
    }),
  ),
  pagePresets: z.array(
    z.object({ id: z.string(), label: z.string(), width: z.number(), height: z.number() }),
  ),
  patternPresets: z.array(z.object({ id: z.string(), label: z.string(), description: z.string() })),
});

/** A manifest sent as text: parsed, or refused in words. */
function parseManifest(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PlatenError(
      'invalid_template',
      designProblems(undefined, [
        { path: 'template.json', rule: 'json', message: `not valid JSON: ${(error as Error).message}` },
      ]),
    );
  }
}

/** The designer's routes: drafts, their previews and assets, package export, changes and approval. */
export function designerRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'post',
      path: '/api/v1/templates/:id/drafts',
      summary:
        'Save a draft: multipart with `manifest` (template.json) and files named by package path; ?from=N takes every other file from version N; ?dryRun=true only validates',
      tag: 'designer',
      action: 'templates.manage',
      params: templateParams,
      query: draftQuery,
      body: z.strictObject({ manifest: z.string().max(MANIFEST_MAX_BYTES).optional() }),
      accepts: {
        multipart: {
          files: 'any',
          maxBytes: PACKAGE_LIMITS.maxFileBytes,
          maxFiles: DRAFT_MAX_FILES,
          fieldBytes: MANIFEST_MAX_BYTES,
        },
      },
      responses: {
        201: {
          description: 'stored as the next draft version',
          kind: 'json',
          schema: versionDetail,
          headers: { Location: 'the version' },
        },
        200: {
          description: 'dryRun: the draft is valid; nothing stored',
          kind: 'json',
          schema: z.object({ problems: z.array(problemSchema) }),
        },
        422: {
          description: 'every problem, each naming its element, page or input; nothing stored',
          kind: 'json',
        },
      },
      async handle({ res, auth, params, query, body, files }) {
        const { manifest: manifestFile, ...rest } = files;
        if (manifestFile && manifestFile.size > MANIFEST_MAX_BYTES) {
          throw new HttpError(413, 'too_large', 'the manifest is larger than 1 MB, the most accepted');
        }
        const text = body.manifest ?? (manifestFile ? await readFile(manifestFile.path, 'utf8') : undefined);
        if (text === undefined) {
          throw new HttpError(
            400,
            'no_manifest',
            'send the template.json text in the multipart field "manifest"',
          );
        }
        const total = Object.values(rest).reduce((sum, f) => sum + f.size, 0);
        if (total > PACKAGE_LIMITS.maxTotalBytes) {
          throw new HttpError(
            413,
            'too_large',
            `the files add up to more than ${PACKAGE_LIMITS.maxTotalBytes / (1024 * 1024)} MB, the most a package may hold`,
          );
        }
        const draft: DraftInput = { manifest: parseManifest(text), files: {} };
        if (query.from !== undefined) draft.from = query.from;
        for (const [path, file] of Object.entries(rest)) draft.files![path] = await readFile(file.path);
        if (query.dryRun === 'true') {
          const problems = await s.designer.check(auth!, params.id, draft);
          if (problems.length > 0) throw new PlatenError('invalid_template', problems);
          res.json({ problems });
          return;
        }
        const version = await s.designer.saveDraft(auth!, params.id, draft);
        res
          .status(201)
          .location(`/api/v1/templates/${version.templateId}?version=${version.version}`)
          .json(detail(version));
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/templates/:id/drafts/preview',
      summary:
        'A PNG of one page of a draft (?page=N&scale=S&sample=K), as Platen draws it, cropped to the bleed box; cached by content',
      tag: 'designer',
      action: 'templates.manage',
      params: templateParams,
      query: previewQuery,
      body: previewBody,
      accepts: { json: { maxBytes: MANIFEST_MAX_BYTES + 64 * 1024 } },
      gated: true,
      responses: {
        200: {
          description: 'the page',
          kind: 'png',
          headers: { 'X-Platen-Cache': '`hit` when the same draft page was drawn before, else `miss`' },
        },
        422: { description: 'the draft does not compile: every problem', kind: 'json' },
        503: { description: 'overloaded', kind: 'json' },
      },
      async handle({ res, auth, params, query, body, signal }) {
        const draft: DraftInput & { page: number; scale: number; sample: number } = {
          manifest: body.manifest,
          ...query,
          ...(body.from !== undefined ? { from: body.from } : {}),
          ...(body.assets ? { assets: body.assets } : {}),
        };
        const preview = await s.gate.run(signal, () => s.designer.preview(auth!, params.id, draft, signal));
        res
          .type('image/png')
          .set({ 'X-Platen-Cache': preview.cached ? 'hit' : 'miss', 'Cache-Control': 'no-store' })
          .send(preview.png);
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/templates/:id/assets',
      summary:
        'Upload an image, font or SVG art for a draft (multipart `file` and its package `path`): checked as package files are, kept for 24 hours',
      tag: 'designer',
      action: 'templates.manage',
      params: templateParams,
      body: z.strictObject({ path: z.string().min(1).max(1024) }),
      accepts: { multipart: { files: ['file'], maxBytes: PACKAGE_LIMITS.maxFileBytes } },
      responses: {
        201: { description: 'stored: name it in a draft by its sha256', kind: 'json', schema: assetSchema },
        422: { description: 'not a file a package may hold', kind: 'json' },
      },
      async handle({ res, auth, params, body, files }) {
        if (!files.file || files.file.size === 0) {
          throw new HttpError(400, 'no_file', 'send the file in the multipart field "file"');
        }
        const asset = await s.designer.storeAsset(
          auth!,
          params.id,
          body.path,
          await readFile(files.file.path),
        );
        res.status(201).json(asset);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/templates/:id/versions/:n/package',
      summary: 'A version’s package as a zip: what POST /api/v1/templates takes back',
      tag: 'designer',
      action: 'templates.manage',
      params: versionParams,
      responses: { 200: { description: 'the package', kind: 'zip' } },
      async handle({ res, auth, params }) {
        const zip = await s.designer.packageZip(auth!, params.id, params.n);
        res
          .type('application/zip')
          .set('Content-Disposition', `attachment; filename="${params.id}-v${params.n}.zip"`)
          .send(zip);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/templates/:id/versions/:n/changes',
      summary: 'What changed in a version against the one before it, in words',
      tag: 'designer',
      action: 'templates.manage',
      params: versionParams,
      responses: {
        200: {
          description: 'the changes',
          kind: 'json',
          schema: z.object({ changes: z.array(changeSchema) }),
        },
      },
      async handle({ res, auth, params }) {
        res.json({ changes: await s.designer.changes(auth!, params.id, params.n) });
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/templates/:id/versions/:n/approve',
      summary:
        'Approve a draft for publishing, where the organisation’s settings require approval: by a second marketing user, not its creator',
      tag: 'designer',
      action: 'templates.manage',
      params: versionParams,
      responses: {
        200: { description: 'approved', kind: 'json', schema: versionSummary },
        403: { description: 'the version’s creator cannot approve it', kind: 'json' },
        409: {
          description: 'approval is not required, the version is not a draft, or it is approved already',
          kind: 'json',
        },
      },
      async handle({ res, auth, params }) {
        res.json(summary(await s.designer.approve(auth!, params.id, params.n)));
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/element-kinds',
      summary: 'The element kinds with their editor properties and defaults, page sizes and pattern presets',
      tag: 'designer',
      action: 'templates.read',
      responses: {
        200: { description: 'what the designer builds its panels from', kind: 'json', schema: kindsSchema },
      },
      async handle({ res }) {
        res.json(s.designer.kinds());
      },
    }),
  ];
}
