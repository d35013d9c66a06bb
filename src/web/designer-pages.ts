import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { RequestHandler, Response, Router } from 'express';
import helmet from 'helmet';
import { z } from 'zod';
import { uploadsOf } from '../api/bodies.js';
import { HttpError } from '../api/problem.js';
import { templateParams, versionParams } from '../api/routes/templates.js';
import { ConflictError, PlatenError, type Problem } from '../errors.js';
import { PAGE_PRESETS, TEMPLATE_KINDS } from '../model/manifest.js';
import type { DraftInput } from '../service/designer.js';
import {
  body,
  csrf,
  FORM,
  json,
  PAGE_POLICY,
  pageCsp,
  parseWith,
  sendPage,
  signedIn,
  viewerOf,
  type Web,
  when,
} from './pages.js';
import { html } from './views.js';

const MANAGE = 'templates.manage';
/** A draft as the editor sends it: the manifest, the version it started from, its uploaded files. */
const draftSchema = z.strictObject({
  manifest: z.record(z.string(), z.unknown()),
  from: z.number().int().positive().optional(),
  assets: z.record(z.string().min(1).max(300), z.string().regex(/^[0-9a-f]{64}$/)).optional(),
});
const previewSchema = draftSchema.extend({
  page: z.number().int().positive().max(50),
  scale: z.number().min(0.1).max(4),
  sample: z.number().int().min(0).max(49),
});
const DRAFT_BYTES = { json: { maxBytes: 1024 * 1024 } };
const ASSET_BYTES = 20 * 1024 * 1024;
const ZIP_MAX_BYTES = 50 * 1024 * 1024;
const actionParams = versionParams.extend({ action: z.enum(['publish', 'retire', 'approve']) });

/** A custom page's width or height in the form's unit: empty for a preset size. */
const customLength = z
  .union([
    z.literal('').transform(() => undefined),
    z.coerce.number().positive('give the custom size in numbers above 0').max(5000),
  ])
  .optional();
/** Points per unit the new-template form offers. */
const UNITS = { pt: 1, in: 72, mm: 72 / 25.4 } as const;
const newSchema = z.strictObject({
  _csrf: z.string().optional(),
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'use lowercase letters, digits and hyphens, e.g. spring-postcard'),
  name: z.string().trim().min(1, 'give the template a name').max(200),
  kind: z.enum(TEMPLATE_KINDS),
  size: z.enum([...(Object.keys(PAGE_PRESETS) as [keyof typeof PAGE_PRESETS]), 'custom']),
  unit: z.enum(['pt', 'in', 'mm']),
  width: customLength,
  height: customLength,
  bleed: z.coerce.number().min(0).max(72),
  pages: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(
          z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'page names are single words, e.g. front, back'),
        )
        .min(1, 'name at least one page')
        .max(50),
    ),
});

/**
 * The editor's policy: the pages' own (no inline script anywhere), except that the direct
 * manipulation libraries may add their style sheets, carrying this response's nonce.
 */
const editorCsp: RequestHandler[] = [
  (_req, res, next) => {
    res.locals.styleNonce = randomBytes(16).toString('base64');
    next();
  },
  helmet.contentSecurityPolicy({
    useDefaults: false,
    directives: {
      ...PAGE_POLICY,
      styleSrc: ["'self'", (_req, res) => `'nonce-${(res as Response).locals.styleNonce as string}'`],
    },
  }),
];

/** The fonts a new template starts with (the bundled brand fonts, in the package's fonts/). */
const FONTS_DIR = new URL('../../assets/fonts/', import.meta.url);
const STARTER_FONTS = {
  regular: 'SourceSans3-Regular.ttf',
  bold: 'SourceSans3-Bold.ttf',
  italic: 'SourceSans3-Italic.ttf',
};

/** The template designer: marketing builds and edits templates in the browser, on DesignerService. */
export function designerRoutes(web: Web, router: Router): void {
  const { s } = web;

  router.get('/designer', pageCsp, signedIn(web, MANAGE), async (_req, res) => {
    await sendStart(web, res, null);
  });

  router.post(
    '/designer/new',
    pageCsp,
    signedIn(web, MANAGE),
    body(web, FORM),
    csrf(web),
    async (req, res) => {
      const caller = viewerOf(res).key;
      try {
        const form = parseWith(newSchema, req.body);
        if ((await s.templates.list(caller)).some((t) => t.id === form.id)) {
          throw new PlatenError('invalid_form', [
            {
              path: 'id',
              rule: 'taken',
              message: `there is already a template ${form.id}: choose another id`,
            },
          ]);
        }
        const version = await s.designer.saveDraft(caller, form.id, await starter(form));
        res.redirect(303, `/designer/${version.templateId}/${version.version}`);
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        await sendStart(web, res, error.problems, 422, req.body as Record<string, string>);
      }
    },
  );

  router.post(
    '/designer/import',
    pageCsp,
    signedIn(web, MANAGE),
    body(web, { multipart: { files: ['file'], maxBytes: ZIP_MAX_BYTES } }),
    csrf(web),
    async (req, res) => {
      const zip = uploadsOf(req).file;
      try {
        if (!zip || zip.size === 0)
          throw new PlatenError('invalid_form', [
            { path: 'file', rule: 'required', message: 'choose a template package (.zip)' },
          ]);
        const version = await s.templates.upload(viewerOf(res).key, zip.path);
        res.redirect(303, `/designer/${version.templateId}/${version.version}`);
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        await sendStart(web, res, error.problems, 422);
      }
    },
  );

  router.get('/designer/:id/:n', ...editorCsp, signedIn(web, MANAGE), async (req, res) => {
    const { id, n } = parseWith(versionParams, req.params);
    const viewer = viewerOf(res);
    const v = await s.templates.version(viewer.key, id, n);
    const dir = await s.templates.packageDir(v);
    const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((f) => f.isFile() && f.name !== 'template.json')
      .map((f) => relative(dir, join(f.parentPath, f.name)).split('\\').join('/'))
      .sort();
    const data = {
      templateId: id,
      version: n,
      state: v.state,
      manifest: v.manifest,
      files,
      kinds: s.designer.kinds(),
      csrf: viewer.csrf,
      nonce: res.locals.styleNonce as string,
      approval: (await s.settings.current()).requireApproval,
    };
    sendPage(web, res, 'designer', {
      title: `Designer: ${v.name}, version ${n}`,
      name: v.name,
      version: n,
      state: v.state,
      script: 'designer.js',
      style: 'designer.css',
      // Inside <script type="application/json">: `<` escaped so no text can close the element.
      data: JSON.stringify(data).replace(/</g, '\\u003c'),
    });
  });

  /** What the editor's script posts a draft to: JSON, for the desk, with the page's CSRF token. */
  const draftRoute = [json, signedIn(web, MANAGE), body(web, DRAFT_BYTES), csrf(web)];

  router.post('/designer/:id/check', ...draftRoute, async (req, res) => {
    const { id } = parseWith(templateParams, req.params);
    const draft = parseWith(draftSchema, req.body);
    res.json({ problems: await s.designer.check(viewerOf(res).key, id, draft as DraftInput) });
  });

  router.post('/designer/:id/preview', ...draftRoute, async (req, res) => {
    const { id } = parseWith(templateParams, req.params);
    const { page, scale, sample, ...draft } = parseWith(previewSchema, req.body);
    const abort = new AbortController();
    res.on('close', () => abort.abort(new Error('the page stopped waiting')));
    const { png, cached } = await s.designer.preview(
      viewerOf(res).key,
      id,
      { ...(draft as DraftInput), page, scale, sample },
      abort.signal,
    );
    res
      .set({ 'Cache-Control': 'no-store', 'X-Platen-Cache': cached ? 'hit' : 'miss' })
      .type('png')
      .send(png);
  });

  router.post(
    '/designer/:id/assets',
    json,
    signedIn(web, MANAGE),
    body(web, { multipart: { files: ['file'], maxBytes: ASSET_BYTES } }),
    csrf(web),
    async (req, res) => {
      const { id } = parseWith(templateParams, req.params);
      const { path } = parseWith(z.object({ path: z.string().min(1).max(300) }), req.body);
      const file = uploadsOf(req).file;
      if (!file) throw new HttpError(400, 'bad_request', 'choose a file to upload');
      res
        .status(201)
        .json(await s.designer.storeAsset(viewerOf(res).key, id, path, await readFile(file.path)));
    },
  );

  router.post('/designer/:id/save', ...draftRoute, async (req, res) => {
    const { id } = parseWith(templateParams, req.params);
    const draft = parseWith(draftSchema, req.body);
    try {
      const version = await s.designer.saveDraft(viewerOf(res).key, id, draft as DraftInput);
      res.status(201).json({ version: version.version });
    } catch (error) {
      if (!(error instanceof PlatenError)) throw error;
      res.status(422).json({ message: 'The draft was not saved.', problems: error.problems });
    }
  });

  router.get('/designer/:id/:n/changes', json, signedIn(web, MANAGE), async (req, res) => {
    const { id, n } = parseWith(versionParams, req.params);
    res.json({ changes: await s.designer.changes(viewerOf(res).key, id, n) });
  });

  router.get('/designer/:id/:n/package.zip', pageCsp, signedIn(web, MANAGE), async (req, res) => {
    const { id, n } = parseWith(versionParams, req.params);
    const zip = await s.designer.packageZip(viewerOf(res).key, id, n);
    res.attachment(`${id}-${n}.zip`).type('application/zip').send(zip);
  });

  router.post(
    '/designer/:id/:n/:action',
    json,
    signedIn(web, MANAGE),
    body(web, FORM),
    csrf(web),
    async (req, res) => {
      const { id, n, action } = parseWith(actionParams, req.params);
      const caller = viewerOf(res).key;
      try {
        const v =
          action === 'publish'
            ? await s.templates.publish(caller, id, n)
            : action === 'retire'
              ? await s.templates.retire(caller, id, n)
              : await s.designer.approve(caller, id, n);
        res.json({ version: v.version, state: v.state });
      } catch (error) {
        if (error instanceof ConflictError) {
          res.status(409).json({ message: error.message, problems: [] });
          return;
        }
        throw error;
      }
    },
  );
}

/** The first draft of a new template: its pages, the starter fonts, one empty sample record. */
async function starter(form: z.output<typeof newSchema>): Promise<DraftInput> {
  const k = UNITS[form.unit];
  if (form.size === 'custom' && (form.width === undefined || form.height === undefined)) {
    throw new PlatenError('invalid_form', [
      { path: 'width', rule: 'required', message: 'give the width and height of a custom size' },
    ]);
  }
  const size = form.size === 'custom' ? { width: form.width! * k, height: form.height! * k } : form.size;
  const files: Record<string, Buffer> = {};
  for (const file of Object.values(STARTER_FONTS))
    files[`fonts/${file}`] = await readFile(new URL(file, FONTS_DIR));
  return {
    manifest: {
      id: form.id,
      name: form.name,
      kind: form.kind,
      page: { size, bleed: form.bleed * k },
      fonts: { body: Object.fromEntries(Object.entries(STARTER_FONTS).map(([s, f]) => [s, `fonts/${f}`])) },
      defaultFont: 'body',
      colors: { ink: '#1E2328', white: '#FFFFFF' },
      pages: form.pages.map((name) => ({ name, elements: [] })),
      samples: [{ name: 'Sample 1', record: { prospect: {}, rep: {}, fields: {} } }],
    },
    files,
  };
}

/** The start page; after a refused new-template form, with what was typed in it. */
async function sendStart(
  web: Web,
  res: Response,
  problems: Problem[] | null,
  status = 200,
  typed: Record<string, string> = {},
): Promise<void> {
  const caller = viewerOf(res).key;
  const templates = await Promise.all(
    (await web.s.templates.list(caller)).map(async (t) => ({
      id: t.id,
      name: t.latest.name,
      versions: (await web.s.templates.versions(caller, t.id))
        .map((v) => ({
          version: v.version,
          state: v.state,
          created: html`${v.createdBy}, ${when(v.createdAt)}`,
          url: `/designer/${t.id}/${v.version}`,
        }))
        .reverse(),
    })),
  );
  sendPage(
    web,
    res,
    'designer-start',
    {
      title: 'Designer',
      templates,
      problems,
      typed: { bleed: '0.125', pages: 'front, back', ...typed },
      presets: Object.entries(PAGE_PRESETS).map(([id, [w, h]]) => ({ id, label: `${id} (${w} × ${h} pt)` })),
      kinds: TEMPLATE_KINDS,
    },
    status,
  );
}
