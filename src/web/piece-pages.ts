import type { Response, Router } from 'express';
import { z } from 'zod';
import { outcomeBody, pieceCodeSchema } from '../api/routes/pieces.js';
import { NotFoundError } from '../errors.js';
import { parsePieceCode } from '../model/piece-code.js';
import { can } from '../service/policy.js';
import { OUTCOME_LABELS, OUTCOMES, type StoredPiece } from '../service/pieces.js';
import type { FormValues } from './form.js';
import {
  body,
  csrf,
  FORM,
  pageCsp,
  parseWith,
  redirectWithToast,
  sendPage,
  signedIn,
  type Viewer,
  viewerOf,
  type Web,
  when,
} from './pages.js';

const codeParams = z.strictObject({ code: pieceCodeSchema });
const searchQuery = z.object({ q: z.string().trim().max(200).default('') });

const CHANNEL_WORDS = { form: 'on the form', api: 'through the API', batch: 'in a batch' } as const;

/** What the outcome form's fields got wrong, in words. */
const OUTCOME_PROBLEMS: Record<string, string> = {
  outcome: 'Choose what came of the piece.',
  note: 'Keep the note to 1000 characters or fewer.',
};

/** How many pieces the page lists, newest first. */
const LISTED = 100;

/**
 * "My pieces": a rep's pieces (marketing and admins see everyone's), each with who it went to, a
 * thumbnail of its first page, the responses to it, a form to say what came of it, and a way to
 * start another like it; searched by prospect, template or code.
 */
export function pieceRoutes(web: Web, router: Router): void {
  router.get('/pieces', pageCsp, signedIn(web, 'pieces.read'), async (req, res) => {
    const { q } = parseWith(searchQuery, req.query);
    await sendPieces(web, res, q, null);
  });

  // The first page of a piece's PDF, shown small: whoever may see the piece may see it.
  router.get('/pieces/:code/thumbnail.png', pageCsp, signedIn(web, 'pieces.read'), async (req, res) => {
    const code = parsePieceCode(parseWith(codeParams, req.params).code)!;
    const signal = res.locals.signal as AbortSignal;
    const png = await web.s.gate.run(signal, () => web.s.pieces.thumbnail(viewerOf(res).key, code));
    // A piece's PDF never changes; the session decides who may see it, so private.
    res.type('image/png').set('Cache-Control', 'private, max-age=3600').send(png);
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
        return sendPieces(web, res, '', { code, message }, 422);
      }
      const piece = await web.s.pieces.setOutcome(viewerOf(res).key, code, form.data.outcome, form.data.note);
      redirectWithToast(web, res, `/pieces#piece-${piece.code}`, `Saved what came of piece ${piece.code}.`);
    },
  );
}

/**
 * The form values a piece was made with, to start another like it on the form of `templateId`
 * (NotFoundError for a piece of another template, or one the viewer may not see).
 */
export async function enteredValues(web: Web, viewer: Viewer, code: string, templateId: string) {
  const { templateId: of, entered } = await web.s.pieces.entered(viewer.key, code);
  if (of !== templateId) throw new NotFoundError('not_found', `Piece ${code} is not of this template.`);
  const values: FormValues = {};
  for (const scope of ['prospect', 'fields'] as const) {
    for (const [key, value] of Object.entries(entered[scope])) {
      // A checkbox posts "true" when ticked and nothing when not.
      if (value === false || value === null || value === undefined) continue;
      values[`${scope}.${key}`] = String(value);
    }
  }
  return values;
}

async function sendPieces(
  web: Web,
  res: Response,
  search: string,
  problem: { code: string; message: string } | null,
  status = 200,
): Promise<void> {
  const caller = viewerOf(res).key;
  const everyone = can(caller.role, 'reps.any');
  const pieces = await web.s.pieces.list(caller, { limit: LISTED, ...(search ? { search } : {}) });
  const renders = await web.s.renders.ofPieces(
    caller,
    pieces.map((p) => p.code),
  );
  const context = {
    makes: can(caller.role, 'pieces.render'),
    renders,
    names: new Map<string, Promise<string>>(),
  };
  const listed = pieces.some((p) => p.code === problem?.code);
  sendPage(
    web,
    res,
    'pieces',
    {
      title: everyone ? 'Pieces' : 'My pieces',
      script: 'live.js',
      everyone,
      search,
      count: `${pieces.length === LISTED ? `The ${LISTED} newest` : pieces.length} piece${pieces.length === 1 ? '' : 's'}${search ? ` matching “${search}”` : ''}`,
      pieces: await Promise.all(pieces.map((p) => pieceView(web, p, problem, context))),
      // A piece too old to be listed has its problem said above the list.
      problem: listed ? null : problem,
    },
    status,
  );
}

async function pieceView(
  web: Web,
  p: StoredPiece,
  problem: { code: string; message: string } | null,
  context: { makes: boolean; renders: Map<string, string>; names: Map<string, Promise<string>> },
) {
  const version = `${p.templateId}@${p.version}`;
  // One lookup per template version, however many of its pieces are listed.
  if (!context.names.has(version))
    context.names.set(version, web.s.templates.nameOf(p.templateId, p.version));
  const render = context.renders.get(p.code);
  return {
    code: p.code,
    prospect: p.entered?.prospectName || p.recipientRef || '',
    name: await context.names.get(version)!,
    version: p.version,
    made: when(p.createdAt),
    how: `${CHANNEL_WORDS[p.channel]}${p.row === null ? '' : ` (row ${p.row})`}`,
    rep: p.repId ?? '',
    recipient: p.recipientRef ?? '',
    thumb: render ? `/pieces/${p.code}/thumbnail.png` : null,
    pdf: render ? `/pieces/${render}.pdf` : null,
    again: context.makes && p.entered ? `/make/${p.templateId}?from=${p.code}` : null,
    responses: p.responses,
    firstResponse: when(p.firstResponseAt),
    outcomes: OUTCOMES.map((o) => ({ value: o, label: OUTCOME_LABELS[o], selected: o === p.outcome })),
    note: p.outcomeNote ?? '',
    error: problem?.code === p.code ? problem.message : null,
  };
}
