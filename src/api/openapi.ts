import { z } from 'zod';
import { rolesFor } from '../service/policy.js';
import { acceptsOf, type AnyRoute, type ResponseKind } from './route.js';

/** The OpenAPI 3.1 document of every route, generated from the routes' own zod schemas. */

const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string', description: 'stable, machine-readable' },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'rule', 'message'],
        properties: { path: { type: 'string' }, rule: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

const MEDIA: Record<Exclude<ResponseKind, 'empty'>, string> = {
  json: 'application/json',
  pdf: 'application/pdf',
  png: 'image/png',
  zip: 'application/zip',
  csv: 'text/csv',
  events: 'text/event-stream',
};

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): unknown[] {
  if (!schema) return [];
  const object = jsonSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (object.required ?? []).includes(name),
    schema: s,
  }));
}

/** A route's request body: an entry per media type it accepts, from the declaration that reads it. */
function requestBodyOf(r: AnyRoute): unknown {
  const accepts = acceptsOf(r);
  if (!accepts) return undefined;
  const schema = r.body ? jsonSchema(r.body) : {};
  const content: Record<string, unknown> = {};
  if (accepts.json) content['application/json'] = { schema };
  if (accepts.form) content['application/x-www-form-urlencoded'] = { schema };
  if (accepts.multipart) {
    const fields = (schema as { properties?: object }).properties ?? {};
    const names = accepts.multipart.files === 'any' ? [] : accepts.multipart.files;
    const files = Object.fromEntries(names.map((f) => [f, { type: 'string', format: 'binary' }]));
    const anyFile =
      accepts.multipart.files === 'any'
        ? {
            additionalProperties: {
              type: 'string',
              format: 'binary',
              description: 'a file, its field named by its path',
            },
          }
        : {};
    content['multipart/form-data'] = {
      schema: { type: 'object', properties: { ...fields, ...files }, ...anyFile },
    };
  }
  if (accepts.zip) {
    content['application/zip'] = { schema: { type: 'string', contentMediaType: 'application/zip' } };
  }
  return { required: true, content };
}

export function openApiDocument(
  routes: readonly AnyRoute[],
  info: { title: string; version: string },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const responses: Record<string, unknown> = {};
    for (const [status, doc] of Object.entries(r.responses)) {
      responses[status] = {
        description: doc.description,
        ...(doc.headers
          ? {
              headers: Object.fromEntries(
                Object.entries(doc.headers).map(([h, d]) => [
                  h,
                  { description: d, schema: { type: 'string' } },
                ]),
              ),
            }
          : {}),
        ...(doc.kind === 'empty'
          ? {}
          : {
              content: {
                [MEDIA[doc.kind]]: { schema: doc.schema ? jsonSchema(doc.schema) : {} },
                ...Object.fromEntries((doc.alternatives ?? []).map((kind) => [MEDIA[kind], { schema: {} }])),
              },
            }),
      };
    }
    const errors = [...(r.action ? ['401', '403'] : []), ...(acceptsOf(r) ? ['413', '415'] : []), '422'];
    if (r.action) errors.push('429');
    for (const status of errors) {
      responses[status] ??= {
        description: 'problem',
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      };
    }
    const requestBody = requestBodyOf(r);
    paths[path] ??= {};
    paths[path][r.method] = {
      summary: r.summary,
      tags: [r.tag],
      security: r.action ? [{ bearer: [] }] : [],
      ...(r.action ? { 'x-roles': rolesFor(r.action) } : {}),
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(requestBody ? { requestBody } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API key from `platen keys create`' },
      },
      schemas: { Problem: PROBLEM_SCHEMA },
    },
  };
}
