import { z } from 'zod';
import { ROLES } from '../../service/policy.js';
import { type AnyRoute, route } from '../route.js';
import type { Services } from '../services.js';
import { repIdSchema } from './reps.js';

const keySchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  repId: z.string().nullable(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z
    .string()
    .nullable()
    .describe('when the key last signed in or called the API, to the minute; null if never'),
});

export function keyRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/api/v1/keys',
      summary: 'Every API key (never the secrets)',
      tag: 'keys',
      action: 'keys.manage',
      responses: {
        200: { description: 'keys', kind: 'json', schema: z.object({ keys: z.array(keySchema) }) },
      },
      async handle({ res, auth }) {
        res.json({ keys: await s.keys.list(auth!) });
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/keys',
      summary: 'Create a key; the secret is in this response only',
      tag: 'keys',
      action: 'keys.manage',
      body: z
        .strictObject({
          role: z.enum(ROLES),
          name: z.string().trim().min(1).max(100),
          repId: repIdSchema.optional(),
        })
        .refine((b) => (b.role === 'rep') === (b.repId !== undefined), {
          message: 'a rep key needs repId; other keys take none',
          path: ['repId'],
        }),
      responses: {
        201: {
          description: 'the key and its secret',
          kind: 'json',
          schema: keySchema.extend({ key: z.string() }),
        },
      },
      async handle({ res, auth, body }) {
        const { key, apiKey } = await s.keys.create(auth!, body);
        res.status(201).json({ ...apiKey, key });
      },
    }),
    route({
      method: 'delete',
      path: '/api/v1/keys/:id',
      summary: 'Revoke a key',
      tag: 'keys',
      action: 'keys.manage',
      params: z.strictObject({ id: z.string().regex(/^[0-9a-f]{12}$/, 'not a key id') }),
      responses: {
        204: { description: 'revoked', kind: 'empty' },
        404: { description: 'no such live key', kind: 'json' },
      },
      async handle({ res, params, auth }) {
        await s.keys.revoke(auth!, params.id);
        res.status(204).end();
      },
    }),
  ];
}
