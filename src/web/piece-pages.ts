import type { Response, Router } from 'express';
import { z } from 'zod';
import { outcomeBody, pieceCodeSchema } from '../api/routes/pieces.js';
import { parsePieceCode } from '../model/piece-code.js';
import { can } from '../service/policy.js';
import { OUTCOME_LABELS, OUTCOMES, type StoredPiece } from '../service/pieces.js';
import {
  body,
  csrf,
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

const codeParams = z.strictObject({ code: pieceCodeSchema });

const CHANNEL_WORDS = { form: 'on the form', api: 'through the API', batch: 'in a batch' } as const;

/** What the outcome form's fields got wrong, in words. */
const OUTCOME_PROBLEMS: Record<string, string> = {
  outcome: 'Choose what came of the piece.',
  note: 'Keep the note to 1000 characters or fewer.',
};

/** How many pieces the page lists, newest first. */
const LISTED = 100;

/**
 * "My pieces": a rep's pieces (marketing and admins see everyone's), with the responses to each and
 * a form to say what came of it.
 */
export function pieceRoutes(web: Web, router: Router): void {
  router.get('/pieces', pageCsp, signedIn(web, 'pieces.read'), async (_req, res) => {
    await sendPieces(web, res, null);
  });

  router.post(
    '/pieces/:code/outcome',
    pageCsp,
    signedIn(web, 'pieces.outcome'),
    body(web, FORM),
    csrf(web),
    async (req, res) => {
      const code = parsePieceCode(parseWith(codeParams, req.params).code)!;
      const { outcome, note } = req.body as Record<string, unknown>;
      const form = outcomeBody.safeParse({ outcome: outcome || undefined, note });
      if (!form.success) {
        const field = String(form.error.issues[0]!.path[0]);
        const message = OUTCOME_PROBLEMS[field] ?? OUTCOME_PROBLEMS.outcome!;
        return sendPieces(web, res, { code, message }, 422);
      }
      const piece = await web.s.pieces.setOutcome(viewerOf(res).key, code, form.data.outcome, form.data.note);
      redirectWithToast(web, res, `/pieces#piece-${piece.code}`, `Saved what came of piece ${piece.code}.`);
    },
  );
}

async function sendPieces(
  web: Web,
  res: Response,
  problem: { code: string; message: string } | null,
  status = 200,
): Promise<void> {
  const caller = viewerOf(res).key;
  const everyone = can(caller.role, 'reps.any');
  const pieces = await web.s.pieces.list(caller, { limit: LISTED });
  const listed = pieces.some((p) => p.code === problem?.code);
  sendPage(
    web,
    res,
    'pieces',
    {
      title: everyone ? 'Pieces' : 'My pieces',
      everyone,
      pieces: await Promise.all(pieces.map((p) => pieceView(web, p, problem))),
      // A piece too old to be listed has its problem said above the list.
      problem: listed ? null : problem,
    },
    status,
  );
}

async function pieceView(web: Web, p: StoredPiece, problem: { code: string; message: string } | null) {
  return {
    code: p.code,
    name: await web.s.templates.nameOf(p.templateId, p.version),
    version: p.version,
    made: html`${when(p.createdAt)}, ${CHANNEL_WORDS[p.channel]}${p.row === null ? '' : ` (row ${p.row})`}`,
    rep: p.repId ?? '',
    recipient: p.recipientRef ?? '',
    responses: p.responses,
    firstResponse: when(p.firstResponseAt),
    outcomes: OUTCOMES.map((o) => ({ value: o, label: OUTCOME_LABELS[o], selected: o === p.outcome })),
    note: p.outcomeNote ?? '',
    error: problem?.code === p.code ? problem.message : null,
  };
}
