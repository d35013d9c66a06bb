import type { Response, Router } from 'express';
import { z } from 'zod';
import { uploadsOf } from '../api/bodies.js';
import { HttpError } from '../api/problem.js';
import { templateParams, versionParams } from '../api/routes/templates.js';
import { ConflictError, PlatenError, type Problem } from '../errors.js';
import type { TemplateVersion } from '../service/templates.js';
import {
  csrf,
  body,
  FORM,
  pageCsp,
  parseWith,
  redirectWithToast,
  sendPage,
  signedIn,
  viewerOf,
  type Web,
  when,
} from './pages.js';
import { html } from './views.js';
import { sampleUrl } from './rep-pages.js';

const actionParams = versionParams.extend({ action: z.enum(['publish', 'retire']) });

const ZIP_MAX_BYTES = 50 * 1024 * 1024;

/** Marketing's publishing desk: upload, validation report, sample previews, publish and retire, history. */
export function marketingRoutes(web: Web, router: Router): void {
  const { s } = web;

  router.get('/marketing', pageCsp, signedIn(web, 'templates.manage'), async (_req, res) => {
    await sendDesk(web, res, null);
  });

  router.post(
    '/marketing/templates',
    pageCsp,
    signedIn(web, 'templates.manage'),
    body(web, { multipart: { files: ['file'], maxBytes: ZIP_MAX_BYTES } }),
    csrf(web),
    async (req, res) => {
      const zip = uploadsOf(req).file;
      if (!zip || zip.size === 0) {
        await sendDesk(
          web,
          res,
          [{ path: 'file', rule: 'required', message: 'choose a template package (.zip)' }],
          422,
        );
        return;
      }
      try {
        const version = await s.templates.upload(viewerOf(res).key, zip.path);
        res.redirect(
          303,
          `/marketing/templates/${version.templateId}/versions/${version.version}?uploaded=1`,
        );
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        await sendDesk(web, res, error.problems, 422);
      }
    },
  );

  router.get('/marketing/templates/:id', pageCsp, signedIn(web, 'templates.manage'), async (req, res) => {
    await sendHistory(web, res, parseWith(templateParams, req.params).id, null);
  });

  router.get(
    '/marketing/templates/:id/versions/:n',
    pageCsp,
    signedIn(web, 'templates.manage'),
    async (req, res) => {
      const { id, n } = parseWith(versionParams, req.params);
      const v = await s.templates.version(viewerOf(res).key, id, n);
      const m = v.manifest;
      sendPage(web, res, 'version', {
        title: `${m.name}, version ${n}`,
        version: versionView(v),
        uploaded: req.query.uploaded === '1',
        report: v.report,
        counts: { pages: m.pages.length, fields: Object.keys(m.fields).length, samples: m.samples.length },
        samples: m.samples.map((sample, i) => ({
          name: sample.name,
          pages: m.pages.map((p, j) => ({
            url: sampleUrl(v, i, j + 1, 'page'),
            alt: `Sample ${i + 1} (${sample.name}), page ${j + 1} (${p.name})`,
            label: `Page ${j + 1}: ${p.name}`,
          })),
        })),
      });
    },
  );

  router.post(
    '/marketing/templates/:id/versions/:n/:action',
    pageCsp,
    signedIn(web, 'templates.manage'),
    body(web, FORM),
    csrf(web),
    async (req, res) => {
      const { id, n, action } = parseWith(actionParams, req.params);
      const caller = viewerOf(res).key;
      try {
        if (action === 'publish') await s.templates.publish(caller, id, n);
        else await s.templates.retire(caller, id, n);
        const done = action === 'publish' ? 'published: reps can use it now' : 'retired';
        redirectWithToast(web, res, `/marketing/templates/${id}`, `Version ${n} is ${done}.`);
      } catch (error) {
        if (error instanceof PlatenError) return sendHistory(web, res, id, { problems: error.problems }, 422);
        if (error instanceof ConflictError) return sendHistory(web, res, id, { message: error.message }, 409);
        throw error;
      }
    },
  );
}

function versionView(v: TemplateVersion & { renders: number }) {
  return {
    templateId: v.templateId,
    version: v.version,
    name: v.name,
    state: v.state,
    created: html`${v.createdBy}, ${when(v.createdAt)}`,
    published: v.publishedBy ? html`${v.publishedBy}, ${when(v.publishedAt)}` : '',
    retired: v.retiredBy ? html`${v.retiredBy}, ${when(v.retiredAt)}` : '',
    canPublish: v.state !== 'published',
    canRetire: v.state !== 'retired',
    renders: v.renders,
    url: `/marketing/templates/${v.templateId}/versions/${v.version}`,
  };
}

async function sendDesk(web: Web, res: Response, problems: Problem[] | null, status = 200): Promise<void> {
  const templates = (await web.s.templates.list(viewerOf(res).key)).map((t) => ({
    id: t.id,
    name: t.latest.name,
    latest: t.latest.version,
    state: t.latest.state,
    published: t.published?.version ?? null,
  }));
  sendPage(web, res, 'marketing', { title: 'Publishing desk', templates, problems }, status);
}

async function sendHistory(
  web: Web,
  res: Response,
  id: string,
  outcome: { problems?: Problem[]; message?: string } | null,
  status = 200,
): Promise<void> {
  const versions = await web.s.templates.versions(viewerOf(res).key, id);
  if (versions.length === 0) throw new HttpError(404, 'not_found', `No template ${id}.`);
  sendPage(
    web,
    res,
    'history',
    {
      title: `${versions.at(-1)!.name}: versions`,
      id,
      name: versions.at(-1)!.name,
      versions: versions.map(versionView).reverse(),
      ...outcome,
    },
    status,
  );
}
