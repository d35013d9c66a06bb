import type { Router } from 'express';
import { pageCsp, sendPage, signedIn, viewerOf, type Web, when } from './pages.js';
import { sampleUrl } from './rep-pages.js';

/** The gallery: the published templates a rep makes pieces from. */
export function galleryRoutes(web: Web, router: Router): void {
  const { s } = web;

  router.get('/gallery', pageCsp, signedIn(web, 'pieces.render'), async (_req, res) => {
    const viewer = viewerOf(res);
    const templates = (await s.templates.list(viewer.key)).map(({ latest: v }) => ({
      id: v.templateId,
      name: v.name,
      description: v.manifest.description,
      thumb: v.manifest.samples.length > 0 ? sampleUrl(v, 0, 1, 'thumb') : null,
    }));
    const renders = await s.renders.list(viewer.key, { limit: 20 });
    const pieces = await Promise.all(
      renders.map(async (r) => ({
        url: `/pieces/${r.id}.pdf`,
        name: await s.templates.nameOf(r.templateId, r.version),
        version: r.version,
        when: when(r.createdAt),
      })),
    );
    sendPage(web, res, 'gallery', { title: 'Templates', templates, pieces });
  });
}
