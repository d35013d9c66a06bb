import { z } from 'zod';
import { WEBHOOK_EVENTS, type Webhook, webhookUrlSchema } from '../../service/webhooks.js';
import { type AnyRoute, route } from '../route.js';
import type { Services } from '../services.js';

const webhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENTS)),
  createdAt: z.string(),
});

const attemptSchema = z.object({
  eventId: z.string().describe('the event’s id, sent as Idempotency-Key'),
  type: z.enum(WEBHOOK_EVENTS),
  attempt: z.number().int().describe('1 for the first attempt at the event, 2 for its first retry, …'),
  at: z.string(),
  status: z.number().int().nullable().describe('the receiver’s HTTP status; null when none came'),
  error: z.string().nullable().describe('why no answer came (a timeout, a refused connection)'),
  durationMs: z.number().int(),
});

const webhookParams = z.strictObject({ id: z.string().regex(/^[0-9a-f]{12}$/, 'not a webhook id') });

const view = ({ id, url, events, createdAt }: Webhook) => ({ id, url, events, createdAt });

export function webhookRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/api/v1/webhooks',
      summary: 'The organisation’s webhooks (never their secrets)',
      tag: 'webhooks',
      action: 'webhooks.manage',
      responses: {
        200: {
          description: 'webhooks',
          kind: 'json',
          schema: z.object({ webhooks: z.array(webhookSchema) }),
        },
      },
      async handle({ res, auth }) {
        res.json({ webhooks: (await s.webhooks.list(auth!)).map(view) });
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/webhooks',
      summary: 'Create a webhook; its signing secret is in this response only',
      tag: 'webhooks',
      action: 'webhooks.manage',
      body: z.strictObject({
        url: webhookUrlSchema.describe('where events are POSTed: an http: or https: URL'),
        events: z
          .array(z.enum(WEBHOOK_EVENTS))
          .min(1, 'subscribe to at least one event')
          .describe('the event types delivered to it'),
      }),
      responses: {
        201: {
          description: 'the webhook and the secret its deliveries are signed with',
          kind: 'json',
          schema: webhookSchema.extend({ secret: z.string() }),
        },
      },
      async handle({ res, auth, body }) {
        const { webhook, secret } = await s.webhooks.create(auth!, body);
        res.status(201).json({ ...view(webhook), secret });
      },
    }),
    route({
      method: 'delete',
      path: '/api/v1/webhooks/:id',
      summary: 'Delete a webhook: nothing more is sent to it; its delivery log stays',
      tag: 'webhooks',
      action: 'webhooks.manage',
      params: webhookParams,
      responses: {
        204: { description: 'deleted', kind: 'empty' },
        404: { description: 'no such live webhook', kind: 'json' },
      },
      async handle({ res, params, auth }) {
        await s.webhooks.delete(auth!, params.id);
        res.status(204).end();
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/webhooks/:id/deliveries',
      summary: 'A webhook’s delivery log: every attempt, newest first',
      tag: 'webhooks',
      action: 'webhooks.manage',
      params: webhookParams,
      query: z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
      responses: {
        200: {
          description: 'attempts, newest first',
          kind: 'json',
          schema: z.object({ deliveries: z.array(attemptSchema) }),
        },
        404: { description: 'no such webhook', kind: 'json' },
      },
      async handle({ res, params, query, auth }) {
        res.json({ deliveries: await s.webhooks.deliveries(auth!, params.id, query.limit) });
      },
    }),
  ];
}
