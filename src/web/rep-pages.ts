import { readFile } from 'node:fs/promises';
import type { Response, Router } from 'express';
import { z } from 'zod';
import { uploadsOf } from '../api/bodies.js';
import { HttpError } from '../api/problem.js';
import { pieceCodeSchema } from '../api/routes/pieces.js';
import { templateIdSchema, templateParams } from '../api/routes/templates.js';
import { PlatenError, type Problem } from '../errors.js';
import { can } from '../service/policy.js';
import { profileUpdateSchema } from '../service/profiles.js';
import { PROFILE_INPUTS } from '../service/render.js';
import type { TemplateVersion } from '../service/templates.js';
import { fieldViews, type FormValues, formValuesSchema, problemsByField, toRenderRequest } from './form.js';
import {
  csrf,
  body,
  FORM,
  json,
  pageCsp,
  parseWith,
  sendPage,
  signedIn,
  type Viewer,
  viewerOf,
  type Web,
} from './pages.js';
import { enteredValues } from './piece-pages.js';
import { SAMPLE_SCALES } from './samples.js';

const versionQuery = z.object({ version: z.coerce.number().int().positive().optional() });
/** The form may start from a piece made before: "make another like this". */
const makeQuery = versionQuery.extend({ from: pieceCodeSchema.optional() });
const pieceParams = z.strictObject({ id: z.string().regex(/^[0-9a-f]{16}$/, 'not a piece id') });
const sampleParams = z.strictObject({
  id: templateIdSchema,
  n: z.coerce.number().int().positive(),
  sample: z.coerce.number().int().min(0).max(200),
  page: z.coerce.number().int().min(1).max(50),
});
const sampleQuery = z.object({ size: z.enum(['thumb', 'page']).default('page') });
/** The hidden fields every template form posts beside the values. */
const formMeta = z.object({ _csrf: z.string(), version: z.coerce.number().int().positive() });
/** What the preview script posts. */
const previewBody = z.strictObject({
  version: z.number().int().positive(),
  page: z.number().int().min(1).max(50),
  values: formValuesSchema,
});

const IMAGE_MAX_BYTES = 15 * 1024 * 1024;
/** Live previews at 96 dpi: a CSS pixel per 1/96 in. */
export const PREVIEW_SCALE = 4 / 3;

/** A rep's pages (gallery, form with live preview, pieces, profile); marketing also tries the form. */
export function repRoutes(web: Web, router: Router): void {
  const { s } = web;
  const formBody = body(web, FORM);

  router.get('/make/:id', pageCsp, signedIn(web, 'pieces.preview'), async (req, res) => {
    const { id } = parseWith(templateParams, req.params);
    const { version, from } = parseWith(makeQuery, req.query);
    const found = await s.templates.resolve(id, version, viewerOf(res).key);
    const values = from ? await enteredValues(web, viewerOf(res), from, id) : {};
    await sendMakePage(web, res, found, values, []);
  });

  router.post(
    '/make/:id/pdf',
    pageCsp,
    signedIn(web, 'pieces.render'),
    formBody,
    csrf(web),
    async (req, res) => {
      const { id } = parseWith(templateParams, req.params);
      const { _csrf, version, ...rest } = parseWith(formMeta.loose(), req.body);
      const viewer = viewerOf(res);
      const found = await s.templates.resolve(id, version, viewer.key);
      const values = rest as FormValues;
      try {
        const request = toRenderRequest(
          found.manifest,
          id,
          found.version,
          parseWith(formValuesSchema, values),
        );
        const signal = res.locals.signal as AbortSignal;
        const { pdf, audit } = await s.gate.run(signal, () =>
          s.renders.render(viewer.key, request, 'form', signal),
        );
        res
          .type('application/pdf')
          .set('Content-Disposition', `attachment; filename="${audit.templateId}-${audit.id}.pdf"`)
          .send(pdf);
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        await sendMakePage(web, res, found, values, error.problems, 422);
      }
    },
  );

  router.post(
    '/make/:id/preview',
    json,
    pageCsp,
    signedIn(web, 'pieces.preview'),
    body(web, { json: { maxBytes: 256 * 1024 } }),
    csrf(web),
    async (req, res) => {
      const { id } = parseWith(templateParams, req.params);
      const body = parseWith(previewBody, req.body);
      const viewer = viewerOf(res);
      const found = await s.templates.resolve(id, body.version, viewer.key);
      const request = toRenderRequest(found.manifest, id, found.version, body.values);
      const signal = res.locals.signal as AbortSignal;
      try {
        const preview = await s.gate.run(signal, () =>
          s.renders.preview(viewer.key, request, body.page, PREVIEW_SCALE, signal),
        );
        res.set('Cache-Control', 'no-store').json({
          image: `data:image/png;base64,${preview.png.toString('base64')}`,
          pages: preview.pages,
          report: preview.report,
          problems: preview.problems,
        });
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        res.status(422).json({ problems: error.problems, report: [] });
      }
    },
  );

  router.post(
    '/uploads',
    json,
    pageCsp,
    signedIn(web, 'pieces.preview'),
    body(web, { multipart: { files: ['image'], maxBytes: IMAGE_MAX_BYTES } }),
    csrf(web),
    async (req, res) => {
      const image = uploadsOf(req).image;
      if (!image) throw new HttpError(400, 'no_file', 'choose an image to upload');
      res.status(201).json(await s.renders.storeImage(viewerOf(res).key, await readFile(image.path)));
    },
  );

  router.get('/samples/:id/:n/:sample/:page', pageCsp, signedIn(web, 'templates.read'), async (req, res) => {
    const p = parseWith(sampleParams, req.params);
    const { size } = parseWith(sampleQuery, req.query);
    const png = await web.samples.png(
      viewerOf(res).key,
      p.id,
      p.n,
      p.sample,
      p.page,
      size,
      res.locals.signal as AbortSignal,
    );
    // A version's pages never change; the session decides who may see them, so private.
    res.type('image/png').set('Cache-Control', 'private, max-age=86400').send(png);
  });

  router.get('/pieces/:id.pdf', pageCsp, signedIn(web, 'renders.read'), async (req, res) => {
    const { id } = parseWith(pieceParams, req.params);
    const { record, pdf } = await s.renders.pdf(viewerOf(res).key, id);
    res
      .type('application/pdf')
      .set('Content-Disposition', `attachment; filename="${record.templateId}-${record.id}.pdf"`)
      .send(pdf);
  });

  router.get('/profile', pageCsp, signedIn(web, 'profile.own'), async (_req, res) => {
    await sendProfilePage(web, res, {}, []);
  });

  router.post(
    '/profile',
    pageCsp,
    signedIn(web, 'profile.own'),
    // What a browser form sends: urlencoded without a file, multipart with one.
    body(web, { ...FORM, multipart: { files: ['photo'], maxBytes: IMAGE_MAX_BYTES } }),
    csrf(web),
    async (req, res) => {
      const { _csrf, ...values } = req.body as Record<string, string>;
      try {
        const update = parseWith(profileUpdateSchema, values);
        const { warnings } = await s.profiles.update(
          viewerOf(res).key,
          undefined,
          update,
          uploadsOf(req).photo?.path,
        );
        await sendProfilePage(web, res, {}, [], { saved: true, warnings });
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        await sendProfilePage(web, res, values, error.problems, {}, 422);
      }
    },
  );

  router.get('/profile/photo', pageCsp, signedIn(web, 'profile.own'), async (_req, res) => {
    const bytes = await s.profiles.photo(viewerOf(res).key);
    res.type('image/jpeg').set('Cache-Control', 'private, no-cache').send(bytes);
  });
}

export function sampleUrl(
  v: TemplateVersion,
  sample: number,
  page: number,
  size: keyof typeof SAMPLE_SCALES,
) {
  return `/samples/${v.templateId}/${v.version}/${sample}/${page}?size=${size}`;
}

/**
 * The form for a template version. Reps see their own details read-only (they come from the
 * profile, never the form); marketing types rep details by hand to try a version before publishing.
 */
async function sendMakePage(
  web: Web,
  res: Response,
  v: TemplateVersion,
  values: Record<string, string>,
  problems: Problem[],
  status = 200,
): Promise<void> {
  const viewer = viewerOf(res);
  // Those who may not work with any rep print their own details, from their profile.
  const isRep = !can(viewer.key.role, 'reps.any');
  const m = v.manifest;
  const { byField, other } = problemsByField(problems);
  const sampleRep = (m.samples[0]?.record as { rep?: Record<string, unknown> } | undefined)?.rep ?? {};
  sendPage(
    web,
    res,
    'make',
    {
      title: m.name,
      script: 'form.js',
      template: {
        id: v.templateId,
        name: m.name,
        description: m.description,
        version: v.version,
        state: v.state,
      },
      isDraft: v.state !== 'published',
      pages: m.pages.map((p, i) => ({ number: i + 1, name: p.name, first: i === 0 })),
      multiPage: m.pages.length > 1,
      thumb: m.samples.length > 0 ? sampleUrl(v, 0, 1, 'page') : null,
      prospect: fieldViews(m, 'prospect', values, byField),
      fields: fieldViews(m, 'fields', values, byField),
      repEditable: isRep
        ? null
        : fieldViews(m, 'rep', values, byField, sampleRep).filter((f) => f.control !== 'image'),
      repDetails: isRep ? await repDetails(web, viewer, v, byField) : null,
      canDownload: can(viewer.key.role, 'pieces.render'),
      problems: other,
      hasProblems: problems.length > 0,
    },
    status,
  );
}

/** What the piece will print from the rep's profile, flagging required details it lacks. */
async function repDetails(web: Web, viewer: Viewer, v: TemplateVersion, errors: Map<string, string>) {
  const profile = await web.s.profiles.get(viewer.key);
  return Object.entries(v.manifest.rep).map(([key, def]) => {
    const value =
      def.type === 'image' ? (profile.photoSha256 ? 'on file' : '') : (PROFILE_INPUTS[key]?.(profile) ?? '');
    return {
      label: def.label ?? key,
      value,
      missing: value === '' && def.required,
      error: errors.get(`rep.${key}`),
    };
  });
}

/** The profile form's fields: a rep's own page and the admin's edit of any rep's show the same. */
export const PROFILE_FIELDS = [
  { key: 'name', label: 'Name', type: 'text', autocomplete: 'name' },
  { key: 'title', label: 'Title', type: 'text', autocomplete: 'organization-title' },
  { key: 'phone', label: 'Phone', type: 'tel', autocomplete: 'tel' },
  { key: 'email', label: 'Email', type: 'email', autocomplete: 'email' },
  { key: 'licenseNumber', label: 'Licence number', type: 'text', autocomplete: 'off' },
] as const;

async function sendProfilePage(
  web: Web,
  res: Response,
  values: Record<string, string>,
  problems: Problem[],
  outcome: { saved?: boolean; warnings?: string[] } = {},
  status = 200,
): Promise<void> {
  const profile = await web.s.profiles.get(viewerOf(res).key);
  const errors = new Map(problems.map((p) => [p.path.split('.')[0]!, p.message]));
  sendPage(
    web,
    res,
    'profile',
    {
      title: 'My profile',
      fields: PROFILE_FIELDS.map((f) => ({
        ...f,
        id: `profile-${f.key}`,
        value: values[f.key] ?? profile[f.key],
        error: errors.get(f.key),
      })),
      photo: profile.photoSha256 ? `/profile/photo?v=${profile.photoSha256.slice(0, 12)}` : null,
      photoError: errors.get('photo'),
      hasProblems: problems.length > 0,
      ...outcome,
    },
    status,
  );
}
