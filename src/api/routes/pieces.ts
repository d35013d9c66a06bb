import { z } from 'zod';
import { parsePieceCode } from '../../model/piece-code.js';
import { OUTCOMES, type StoredPiece } from '../../service/pieces.js';
import { type AnyRoute, route } from '../route.js';
import type { Services } from '../services.js';
import { jobParams } from './jobs.js';
import { repIdSchema } from './reps.js';
import { templateIdSchema } from './templates.js';

/** A piece's response code as printed (case, hyphens and look-alike letters are forgiven). */
export const pieceCodeSchema = z
  .string()
  .max(40)
  .refine((text) => parsePieceCode(text) !== null, 'not a piece code (13 letters and digits, as printed)');

const pieceParams = z.strictObject({ code: pieceCodeSchema });

/** What came of a piece, as a rep reports it. */
export const outcomeBody = z.strictObject({
  outcome: z.enum(OUTCOMES, { error: `one of ${OUTCOMES.join(', ')}` }),
  note: z
    .string()
    .trim()
    .max(1000, 'at most 1000 characters')
    .optional()
    .transform((note) => note || null),
});

const pieceSchema = z.object({
  code: z.string(),
  url: z.string().describe('the tracked URL the piece prints'),
  templateId: z.string(),
  version: z.number(),
  repId: z.string().nullable(),
  channel: z.enum(['form', 'api', 'batch']),
  jobId: z.string().nullable(),
  row: z.number().nullable(),
  recipientRef: z.string().nullable(),
  choices: z.record(z.string(), z.string()).describe('the value of each choice input'),
  variant: z.string().nullable(),
  holdout: z.boolean(),
  edited: z.array(z.string()).describe('the rep fields the rep changed from their default'),
  createdAt: z.string(),
  responses: z.number().describe('scans and visits counted'),
  firstResponseAt: z.string().nullable(),
  outcome: z.enum(OUTCOMES).nullable(),
  outcomeNote: z.string().nullable(),
  outcomeAt: z.string().nullable(),
});

const responseSchema = z.object({
  at: z.string().describe('to the minute'),
  kind: z.enum(['scan', 'visit']),
  device: z.enum(['phone', 'tablet', 'desktop', 'other']),
});

const notFound = { description: 'no such piece, or another rep’s', kind: 'json' } as const;

/** Pieces and what came of them: reps see and mark their own, marketing and admins everyone's. */
export function pieceRoutes(s: Services): AnyRoute[] {
  // The landing URL stays out: it may carry the recipient's details, and the tracked URL leads there.
  // So do the values entered, which the pages use to start another piece like it.
  const view = ({ keyId: _keyId, landingUrl: _landingUrl, entered: _entered, ...piece }: StoredPiece) => ({
    ...piece,
    url: s.pieces.identity(piece.code).url,
  });
  return [
    route({
      method: 'get',
      path: '/api/v1/pieces',
      summary: 'Pieces made, newest first, with their response counts and outcomes: reps see their own',
      tag: 'pieces',
      action: 'pieces.read',
      query: z.strictObject({
        template: templateIdSchema.optional(),
        job: jobParams.shape.id.optional(),
        rep: repIdSchema.optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
      }),
      responses: {
        200: { description: 'pieces', kind: 'json', schema: z.object({ pieces: z.array(pieceSchema) }) },
      },
      async handle({ res, auth, query }) {
        const pieces = await s.pieces.list(auth!, {
          templateId: query.template,
          jobId: query.job,
          repId: query.rep,
          limit: query.limit,
        });
        res.json({ pieces: pieces.map(view) });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/pieces/:code',
      summary: 'A piece with each response to it (the minute, scan or visit, the device class)',
      tag: 'pieces',
      action: 'pieces.read',
      params: pieceParams,
      responses: {
        200: {
          description: 'the piece',
          kind: 'json',
          schema: pieceSchema.extend({ responseLog: z.array(responseSchema).describe('oldest first') }),
        },
        404: notFound,
      },
      async handle({ res, auth, params }) {
        const { piece, responses } = await s.pieces.get(auth!, params.code);
        res.json({ ...view(piece), responseLog: responses });
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/pieces/:code/outcome',
      summary: `What came of a piece: ${OUTCOMES.join(', ')}, with an optional note`,
      tag: 'pieces',
      action: 'pieces.outcome',
      params: pieceParams,
      body: outcomeBody,
      responses: {
        200: { description: 'the piece, with its outcome', kind: 'json', schema: pieceSchema },
        404: notFound,
      },
      async handle({ res, auth, params, body }) {
        res.json(view(await s.pieces.setOutcome(auth!, params.code, body.outcome, body.note)));
      },
    }),
  ];
}
