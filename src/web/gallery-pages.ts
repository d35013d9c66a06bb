import type { Router } from 'express';
import { z } from 'zod';
import { templateParams } from '../api/routes/templates.js';
import { TEMPLATE_KINDS, type TemplateKind } from '../model/manifest.js';
import type { TemplateVersion } from '../service/templates.js';
import { pageCsp, parseWith, sendPage, signedIn, viewerOf, type Web } from './pages.js';
import { sampleUrl } from './rep-pages.js';

/** Each kind of piece as a rep names it. */
const KIND_WORDS: Record<TemplateKind, string> = {
  brochure: 'Brochure',
  postcard: 'Postcard',
  letter: 'Letter',
  flyer: 'Flyer',
  card: 'Card',
  other: 'Other',
};

/**
 * The gallery's filters, as its GET form sends them; an empty choice is no filter, and a kind or
 * line no template has (an old link) matches nothing, which the page says.
 */
const filterQuery = z.object({
  q: z.string().trim().max(200).default(''),
  kind: z.string().trim().max(60).default(''),
  line: z.string().trim().max(60).default(''),
});

/**
 * The gallery: the published templates a rep makes pieces from, searched and filtered by kind and
 * product line (a GET form, so filters work without scripts and can be linked to), each with a quick
 * look at all of its pages.
 */
export function galleryRoutes(web: Web, router: Router): void {
  const { s } = web;

  router.get('/gallery', pageCsp, signedIn(web, 'pieces.render'), async (req, res) => {
    const filter = parseWith(filterQuery, req.query);
    const all = (await s.templates.list(viewerOf(res).key)).map(({ latest }) => latest);
    const words = filter.q.toLocaleLowerCase();
    const shown = all.filter(
      (v) =>
        (filter.kind === '' || v.manifest.kind === filter.kind) &&
        (filter.line === '' || v.manifest.productLine === filter.line) &&
        (words === '' || searchText(v).includes(words)),
    );
    const kinds = TEMPLATE_KINDS.filter((k) => all.some((v) => v.manifest.kind === k));
    const lines = [...new Set(all.flatMap((v) => v.manifest.productLine ?? []))].sort();
    sendPage(web, res, 'gallery', {
      title: 'Templates',
      script: 'live.js',
      filter,
      filtered: filter.q !== '' || filter.kind !== '' || filter.line !== '',
      kinds: kinds.map((k) => ({ value: k, label: KIND_WORDS[k], selected: k === filter.kind })),
      lines: lines.map((l) => ({ value: l, label: l, selected: l === filter.line })),
      count: `${shown.length} of ${all.length} template${all.length === 1 ? '' : 's'}`,
      published: all.length,
      templates: shown.map((v) => ({
        ...templateView(v),
        thumb: v.manifest.samples.length > 0 ? sampleUrl(v, 0, 1, 'thumb') : null,
      })),
    });
  });

  router.get('/gallery/:id', pageCsp, signedIn(web, 'pieces.render'), async (req, res) => {
    const { id } = parseWith(templateParams, req.params);
    const v = await s.templates.resolve(id, undefined, viewerOf(res).key);
    const m = v.manifest;
    sendPage(web, res, 'quick-look', {
      title: m.name,
      script: 'live.js',
      ...templateView(v),
      pages:
        m.samples.length > 0
          ? m.pages.map((p, i) => ({
              number: i + 1,
              name: p.name,
              url: sampleUrl(v, 0, i + 1, 'page'),
            }))
          : [],
      pageCount: `${m.pages.length} page${m.pages.length === 1 ? '' : 's'}`,
    });
  });
}

/** What a rep reads about a template: its name, kind, product line and summary (never print set-up). */
function templateView(v: TemplateVersion) {
  const m = v.manifest;
  return {
    id: v.templateId,
    name: m.name,
    kind: KIND_WORDS[m.kind],
    productLine: m.productLine ?? null,
    summary: m.summary ?? null,
    make: `/make/${v.templateId}`,
    look: `/gallery/${v.templateId}`,
  };
}

/** The words a search looks in, in lower case. */
function searchText(v: TemplateVersion): string {
  const m = v.manifest;
  return [m.name, m.summary, KIND_WORDS[m.kind], m.productLine].join(' ').toLocaleLowerCase();
}
