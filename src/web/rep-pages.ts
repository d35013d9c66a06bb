import { readFile } from 'node:fs/promises';
import type { Response, Router } from 'express';
import { z } from 'zod';
import { uploadsOf } from '../api/bodies.js';
import { HttpError } from '../api/problem.js';
import { pieceCodeSchema } from '../api/routes/pieces.js';
import { templateIdSchema, templateParams } from '../api/routes/templates.js';
import { ConflictError, NotFoundError, PlatenError, type Problem } from '../errors.js';
import { type ApiKey, can } from '../service/policy.js';
import { profileUpdateSchema, type RepProfile } from '../service/profiles.js';
import type { Manifest } from '../model/manifest.js';
import { PROFILE_INPUTS } from '../service/render.js';
import type { TemplateVersion } from '../service/templates.js';
import type { CompiledTemplate } from '../model/template.js';
import type { FitReportEntry } from '../model/piece.js';
import { plainWords } from '../template/design-problems.js';
import {
  elementInputs,
  fieldViews,
  type FormValues,
  formValuesSchema,
  type PageProblem,
  pageProblems,
  previewValues,
  toRenderRequest,
} from './form.js';
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
  /** How far the rep has zoomed the preview in: drawn sharper, up to twice the pixels. */
  zoom: z.number().min(1).max(3).default(1),
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
    const viewer = viewerOf(res);
    const found = await s.templates.resolve(id, version, viewer.key);
    // Another's piece is a 404 before anything else is said about this one.
    const values = from ? await enteredValues(web, viewer, from, id) : {};
    if (!can(viewer.key.role, 'reps.any') && (await s.profiles.refusals(viewer.key, found)).length > 0) {
      return res.redirect(303, profileFirst(req.originalUrl));
    }
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
        // A profile that lacks what the template prints is fixed on the profile, not in this form.
        if (!can(viewer.key.role, 'reps.any') && error.problems.some((p) => p.path.startsWith('rep.'))) {
          return res.redirect(303, profileFirst(`/make/${id}?version=${found.version}`));
        }
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
      const m = found.manifest;
      const signal = res.locals.signal as AbortSignal;
      const draw = (problems: Problem[]) =>
        s.gate.run(signal, () =>
          s.renders.preview(
            viewer.key,
            toRenderRequest(m, id, found.version, previewValues(m, body.values, problems)),
            body.page,
            PREVIEW_SCALE * Math.min(2, body.zoom),
            signal,
          ),
        );
      const answer = async (preview: Awaited<ReturnType<typeof draw>>, problems: Problem[]) => ({
        image: `data:image/png;base64,${preview.png.toString('base64')}`,
        pages: preview.pages,
        report: preview.report,
        problems: previewProblems(m, problems),
        // Compiled once per version and cached: the preview has just compiled it.
        overflow: overflowing(m, await s.templates.compiled(found), preview.report),
      });
      res.set('Cache-Control', 'no-store');
      let refused: PlatenError;
      try {
        const preview = await draw([]);
        return res.json(await answer(preview, preview.problems));
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        refused = error;
      }
      // Refused values: still a preview, with placeholders in their place, and the problems (422).
      try {
        const preview = await draw(refused.problems);
        res.status(422).json(await answer(preview, [...refused.problems, ...preview.problems]));
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        res.status(422).json({ problems: previewProblems(m, refused.problems), report: [], overflow: [] });
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

  router.get('/profile', pageCsp, signedIn(web, 'profile.own'), async (req, res) => {
    const { next } = parseWith(profileQuery, req.query);
    await sendProfilePage(web, res, {}, [], { next });
  });

  router.post(
    '/profile',
    pageCsp,
    signedIn(web, 'profile.own'),
    // What a browser form sends: urlencoded without a file, multipart with one.
    body(web, { ...FORM, multipart: { files: ['photo'], maxBytes: IMAGE_MAX_BYTES } }),
    csrf(web),
    async (req, res) => {
      const { _csrf, next: sentNext, ...values } = req.body as Record<string, string>;
      const { next } = parseWith(profileQuery, { next: sentNext });
      try {
        const update = parseWith(profileUpdateSchema, values);
        await s.profiles.update(viewerOf(res).key, undefined, update, uploadsOf(req).photo?.path);
        // Back to the piece the rep was making, once the profile has what its template prints.
        const template = next ? await templateOf(web, res, next) : null;
        if (next && template && (await s.profiles.refusals(viewerOf(res).key, template)).length === 0) {
          return res.redirect(303, next);
        }
        await sendProfilePage(web, res, {}, [], { saved: true, next });
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        await sendProfilePage(web, res, values, error.problems, { next }, 422);
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

/** Where a rep whose profile lacks what a template prints goes first: the profile, then back. */
function profileFirst(back: string): string {
  return `/profile?next=${encodeURIComponent(back)}`;
}

/** Where the profile page returns to: a template's form, nowhere else. */
const makePath = z
  .string()
  .regex(/^\/make\/[a-z0-9][a-z0-9-]{0,63}(\?version=[1-9][0-9]{0,8})?$/)
  .optional()
  .catch(undefined);
const profileQuery = z.object({ next: makePath });

/** The template version a form path names, or null if there is none the viewer may make. */
async function templateOf(web: Web, res: Response, path: string): Promise<TemplateVersion | null> {
  const url = new URL(path, 'http://form');
  const version = url.searchParams.get('version');
  try {
    return await web.s.templates.resolve(
      url.pathname.slice('/make/'.length),
      version ? Number(version) : undefined,
      viewerOf(res).key,
    );
  } catch (error) {
    // Retired or gone since the link was made: the profile page simply does not go back.
    if (error instanceof NotFoundError || error instanceof ConflictError) return null;
    throw error;
  }
}

/** A preview's problems: in words for the page, with path and rule as the API has them. */
function previewProblems(m: Manifest, problems: Problem[]) {
  const worded = pageProblems(m, problems);
  return problems.map((p, i) => ({ path: p.path, rule: p.rule, ...worded[i] }));
}

/**
 * The text boxes that overflow, for the preview to outline: their page, the labels of the inputs
 * they show, and where they are on the page as percentages of the trimmed page.
 */
function overflowing(m: Manifest, compiled: CompiledTemplate, report: FitReportEntry[]) {
  const shows = elementInputs(m);
  const pct = (v: number, of: number) => Math.round((v / of) * 10_000) / 100;
  return report.flatMap((entry) => {
    if (entry.status !== 'overflow') return [];
    const page = compiled.pages.findIndex((p) =>
      p.layers.some((l) => 'name' in l && l.name === entry.element),
    );
    const el = compiled.pages[page]?.layers.find((l) => 'name' in l && l.name === entry.element);
    if (!el || !('box' in el)) return [];
    const { trimWidth: w, trimHeight: h } = compiled.page;
    const inputs = shows.find((e) => e.element === entry.element)?.inputs ?? [];
    const labels = inputs.map((name) => {
      const [scope, key] = name.split('.') as ['rep' | 'prospect' | 'fields', string];
      return m[scope][key]?.label ?? key;
    });
    return [
      {
        page: page + 1,
        ...(entry.field !== undefined ? { field: entry.field } : {}),
        label: labels.length > 0 ? labels.join(', ') : 'Text',
        chars: entry.overflow?.chars ?? 0,
        box: {
          left: pct(el.box.x, w),
          top: pct(el.box.y, h),
          width: pct(el.box.w, w),
          height: pct(el.box.h, h),
        },
      },
    ];
  });
}

/** Problems for the summary at the top of a form: each a link to its field where it has one. */
function summary(problems: PageProblem[], idOf: (field: string) => string) {
  return problems.map((p) => ({ message: p.message, href: p.field ? `#${idOf(p.field)}` : undefined }));
}

const problemsTitle = (n: number) =>
  n === 1 ? 'One thing to fix before you download' : `${n} things to fix before you download`;

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
  const worded = pageProblems(m, problems);
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
        // In words for reps; the description is marketing's, about print set-up.
        summary: m.summary ?? null,
        version: v.version,
        state: v.state,
      },
      // Whose piece in progress the browser keeps: another person signing in on it never sees it.
      owner: viewer.key.repId ?? viewer.key.id,
      isDraft: v.state !== 'published',
      pages: m.pages.map((p, i) => ({ number: i + 1, name: p.name, first: i === 0 })),
      multiPage: m.pages.length > 1,
      prospect: fieldViews(m, 'prospect', values, worded),
      fields: fieldViews(m, 'fields', values, worded),
      repEditable: isRep
        ? null
        : fieldViews(m, 'rep', values, worded, sampleRep).filter((f) => f.control !== 'image'),
      repDetails: isRep ? await repDetails(web, viewer, v) : null,
      canDownload: can(viewer.key.role, 'pieces.render'),
      problems: summary(worded, (field) => `in-${field.replace('.', '-')}`),
      problemsTitle: problemsTitle(worded.length),
    },
    status,
  );
}

/** What the piece will print from the rep's profile (complete: the form is reached only then). */
async function repDetails(web: Web, viewer: Viewer, v: TemplateVersion) {
  const profile = await web.s.profiles.get(viewer.key);
  return Object.entries(v.manifest.rep).map(([key, def]) => ({
    label: def.label ?? key,
    value:
      def.type === 'image' ? (profile.photoSha256 ? 'on file' : '') : (PROFILE_INPUTS[key]?.(profile) ?? ''),
  }));
}

/** The profile form's fields: a rep's own page and the admin's edit of any rep's show the same. */
export const PROFILE_FIELDS = [
  { key: 'name', label: 'Name', type: 'text', autocomplete: 'name' },
  { key: 'title', label: 'Title', type: 'text', autocomplete: 'organization-title' },
  { key: 'phone', label: 'Phone', type: 'tel', autocomplete: 'tel' },
  { key: 'email', label: 'Email', type: 'email', autocomplete: 'email' },
  { key: 'licenseNumber', label: 'Licence number', type: 'text', autocomplete: 'off' },
] as const;

/** The profile's labels, by key, the photo's included. */
const PROFILE_LABELS: Record<string, string> = {
  ...Object.fromEntries(PROFILE_FIELDS.map((f) => [f.key, f.label])),
  photo: 'Photo',
};

/** A profile problem in words: its field and what to do (`forTemplate`: a template's refusal). */
export function profileProblem(problem: Problem, forTemplate = false): PageProblem {
  const key = problem.path.split('.')[0]!;
  const label = PROFILE_LABELS[key];
  const words =
    forTemplate && problem.message === 'required'
      ? 'required: the template prints it'
      : plainWords(null, problem.message);
  const text = sentence(words);
  return label ? { field: key, message: `${label}: ${words}`, text } : { message: text, text };
}

async function sendProfilePage(
  web: Web,
  res: Response,
  values: Record<string, string>,
  problems: Problem[],
  outcome: { saved?: boolean; next?: string | undefined },
  status = 200,
): Promise<void> {
  const key = viewerOf(res).key;
  const profile = await web.s.profiles.get(key);
  const template = outcome.next ? await templateOf(web, res, outcome.next) : null;
  // What the template the rep is on their way to needs, unless the form itself was refused.
  const refusals = template && problems.length === 0 ? await web.s.profiles.refusals(key, template) : [];
  const worded = [...problems.map((p) => profileProblem(p)), ...refusals.map((p) => profileProblem(p, true))];
  sendPage(
    web,
    res,
    'profile',
    {
      title: 'My profile',
      script: 'form.js',
      ...(await profileForm(web, key, profile, values, worded)),
      photo: profile.photoSha256 ? `/profile/photo?v=${profile.photoSha256.slice(0, 12)}` : null,
      forTemplate: template?.manifest.name ?? null,
      ...outcome,
    },
    status,
  );
}

/**
 * The profile form's fields, each with its value and its problems in words, and the summary of
 * those problems at the top: the same on a rep's own page and on an admin's edit of any rep's.
 */
export async function profileForm(
  web: Web,
  caller: ApiKey,
  profile: RepProfile,
  values: Record<string, string>,
  worded: PageProblem[],
) {
  const min = await web.s.profiles.photoMinimum(caller);
  const errorsOf = (field: string) => worded.filter((p) => p.field === field).map((p) => p.text);
  return {
    fields: PROFILE_FIELDS.map((f) => ({
      ...f,
      id: `profile-${f.key}`,
      value: values[f.key] ?? profile[f.key],
      errors: errorsOf(f.key),
    })),
    photoErrors: errorsOf('photo'),
    photoMinimum: `${min.width} × ${min.height}`,
    problems: summary(worded, (field) => `profile-${field}`),
    problemsTitle: worded.length === 1 ? 'One thing to fix' : `${worded.length} things to fix`,
  };
}
