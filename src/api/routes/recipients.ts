import { z } from 'zod';
import { type AnyRoute, route } from '../route.js';
import type { Services } from '../services.js';

export function recipientRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'delete',
      path: '/api/v1/recipients/:ref',
      summary: 'Erase everything kept about one recipient: their pieces, responses and single PDFs',
      tag: 'pieces',
      action: 'recipients.erase',
      params: z.strictObject({
        ref: z
          .string()
          .min(1)
          .max(200)
          .describe("the recipient's reference: prospect.id or the mapped column"),
      }),
      responses: {
        200: {
          description: 'erased (zero counts when nothing was kept about them)',
          kind: 'json',
          schema: z.object({ pieces: z.number().int(), pdfs: z.number().int() }),
        },
      },
      async handle({ res, auth, params }) {
        res.json(await s.pieces.eraseRecipient(auth!, params.ref));
      },
    }),
  ];
}
