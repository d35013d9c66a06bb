import { z } from 'zod';
import { openApiDocument } from '../openapi.js';
import { type AnyRoute, route } from '../route.js';

/** Health and the API's own description. */
export function metaRoutes(all: () => readonly AnyRoute[]): AnyRoute[] {
  // Built on first request (the routes are all declared by then) and kept: it never changes.
  let document: Record<string, unknown> | undefined;
  return [
    route({
      method: 'get',
      path: '/healthz',
      summary: 'Liveness: the service is up and its store answers',
      tag: 'meta',
      action: null,
      responses: {
        200: { description: 'healthy', kind: 'json', schema: z.object({ status: z.literal('ok') }) },
      },
      async handle({ res }) {
        res.json({ status: 'ok' });
      },
    }),
    route({
      method: 'get',
      path: '/openapi.json',
      summary: 'The OpenAPI 3.1 document of every route, generated from the schemas that validate them',
      tag: 'meta',
      action: null,
      responses: { 200: { description: 'OpenAPI document', kind: 'json' } },
      async handle({ res }) {
        res.json((document ??= openApiDocument(all(), { title: 'Platen API', version: '1' })));
      },
    }),
  ];
}
