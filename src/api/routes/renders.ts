import { z } from 'zod';
import type { RenderRecord } from '../../service/render.js';
import { type AnyRoute, route } from '../route.js';
import type { Services } from '../services.js';

/** Values a prospect or field may take in JSON; the template's own schema checks them precisely. */
const values = z.record(z.string(), z.union([z.string(), z.boolean(), z.null()]));
const renderBody = z.strictObject({
  templateId: z.string().min(1).max(64),
  version: z.number().int().positive().optional(),
  prospect: values.default({}),
  fields: values.default({}),
});
const previewBody = renderBody.extend({
  /** Marketing and admins only: hand-entered rep details. */
  rep: values.optional(),
  /** Preview the template's sample n instead. */
  sample: z.number().int().min(0).optional(),
});
const previewQuery = z.strictObject({
  page: z.coerce.number().int().min(1).max(50).default(1),
  /** 1 = 72 dpi; the default is 96 dpi, a CSS pixel per 1/96 in. */
  scale: z.coerce
    .number()
    .min(0.25)
    .max(4)
    .default(4 / 3),
});

const renderSchema = z.object({
  id: z.string(),
  keyId: z.string(),
  repId: z.string().nullable(),
  templateId: z.string(),
  version: z.number(),
  recordSha256: z.string(),
  outputSha256: z.string(),
  bytes: z.number(),
  pieceCode: z.string().nullable(),
  createdAt: z.string(),
  pdf: z.string().describe('URL of the rendered PDF'),
});

const fitSchema = z.object({
  report: z.array(
    z.object({
      element: z.string(),
      field: z.string().optional(),
      status: z.enum(['fits', 'shrunk', 'overflow']),
      size: z.number(),
      preferredSize: z.number(),
      overflow: z.object({ points: z.number(), chars: z.number() }).optional(),
    }),
  ),
  problems: z.array(z.object({ path: z.string(), rule: z.string(), message: z.string() })),
});

const view = (r: RenderRecord) => ({ ...r, pdf: `/api/v1/renders/${r.id}/pdf` });

const accepts = { json: { maxBytes: 256 * 1024 } };

export function renderRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'post',
      path: '/api/v1/renders',
      summary: "Render a piece: prospect and fields from the request, the rep from the caller's profile",
      tag: 'renders',
      action: 'pieces.render',
      body: renderBody,
      accepts,
      gated: true,
      responses: {
        201: {
          description: 'the PDF',
          kind: 'pdf',
          headers: {
            Location: 'the audit record',
            'Platen-Piece-Code': "the piece's response code (see /api/v1/pieces)",
          },
        },
        404: { description: 'no such template, or not published', kind: 'json' },
        409: { description: 'the version is retired', kind: 'json' },
        503: { description: 'overloaded: retry after the Retry-After seconds', kind: 'json' },
      },
      async handle({ res, auth, body, signal }) {
        const { pdf, audit } = await s.gate.run(signal, () => s.renders.render(auth!, body, 'api', signal));
        res
          .status(201)
          .location(`/api/v1/renders/${audit.id}`)
          .set('Platen-Piece-Code', audit.pieceCode ?? '')
          .type('application/pdf')
          .set('Content-Disposition', `inline; filename="${audit.templateId}-${audit.id}.pdf"`)
          .send(pdf);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/renders',
      summary: 'The audit trail, newest first: reps see their own, marketing and admins all',
      tag: 'renders',
      action: 'renders.read',
      query: z.strictObject({
        template: z.string().max(64).optional(),
        rep: z.string().max(64).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
      }),
      responses: {
        200: { description: 'renders', kind: 'json', schema: z.object({ renders: z.array(renderSchema) }) },
      },
      async handle({ res, auth, query }) {
        const list = await s.renders.list(auth!, {
          templateId: query.template,
          repId: query.rep,
          limit: query.limit,
        });
        res.json({ renders: list.map(view) });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/renders/:id',
      summary: 'Who rendered what, when, from which template version, with the record and output SHA-256',
      tag: 'renders',
      action: 'renders.read',
      params: z.strictObject({ id: z.string().regex(/^[0-9a-f]{16}$/, 'not a render id') }),
      responses: {
        200: { description: 'the audit record', kind: 'json', schema: renderSchema },
        404: { description: 'no such render', kind: 'json' },
      },
      async handle({ res, auth, params }) {
        res.json(view(await s.renders.get(auth!, params.id)));
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/renders/:id/pdf',
      summary: 'The PDF of a render, byte for byte as it was delivered',
      tag: 'renders',
      action: 'renders.read',
      params: z.strictObject({ id: z.string().regex(/^[0-9a-f]{16}$/, 'not a render id') }),
      responses: {
        200: { description: 'the PDF', kind: 'pdf' },
        404: { description: 'no such render', kind: 'json' },
      },
      async handle({ res, auth, params }) {
        const { record, pdf } = await s.renders.pdf(auth!, params.id);
        res
          .type('application/pdf')
          .set('Content-Disposition', `attachment; filename="${record.templateId}-${record.id}.pdf"`)
          .send(pdf);
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/previews',
      summary:
        'A PNG of one page (?page=N) at screen resolution, with the fit report in X-Platen-Fit; nothing is stored',
      tag: 'previews',
      action: 'pieces.preview',
      body: previewBody,
      query: previewQuery,
      accepts,
      gated: true,
      responses: {
        200: {
          description: 'the page',
          kind: 'png',
          headers: {
            'X-Platen-Fit':
              'the fit report and problems, JSON with non-ASCII escaped (as POST /api/v1/previews/fit returns)',
            'X-Platen-Pages': 'how many pages the template has',
          },
        },
        503: { description: 'overloaded', kind: 'json' },
      },
      async handle({ res, auth, body, query, signal }) {
        const preview = await s.gate.run(signal, () =>
          s.renders.preview(auth!, body, query.page, query.scale, signal),
        );
        const fit = JSON.stringify({ report: preview.report, problems: preview.problems }).replace(
          /[\u007f-\uffff]/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
        );
        res
          .type('image/png')
          .set({ 'X-Platen-Fit': fit, 'X-Platen-Pages': String(preview.pages), 'Cache-Control': 'no-store' })
          .send(preview.png);
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/previews/fit',
      summary:
        'How each text fits (fits / shrunk to size X / overflows by Y) and every problem, without drawing',
      tag: 'previews',
      action: 'pieces.preview',
      body: previewBody,
      accepts,
      responses: { 200: { description: 'the fit report', kind: 'json', schema: fitSchema } },
      async handle({ res, auth, body, signal }) {
        res.json(await s.renders.fit(auth!, body, signal));
      },
    }),
  ];
}
