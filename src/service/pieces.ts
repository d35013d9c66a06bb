import { NotFoundError } from '../errors.js';
import { newPieceCode, parsePieceCode, pieceIdentity } from '../model/piece-code.js';
import type { PieceIdentity } from '../model/record.js';
import type {
  ApiKey,
  DeviceClass,
  NewPiece,
  Outcome,
  ResponseKind,
  Store,
  StoredPiece,
} from '../store/store.js';
import { authorize, repScope, sees } from './policy.js';
import type { TemplateService } from './templates.js';

export type { Channel, NewPiece, Outcome, StoredPiece } from '../store/store.js';
export { OUTCOMES } from '../store/store.js';

/** What happens to pieces that others may hear of (the webhooks): made, responded to, an outcome set. */
export type PieceEventType = 'piece.created' | 'piece.response' | 'piece.outcome';
export type PieceEvents = (type: PieceEventType, data: Record<string, unknown>) => Promise<void>;

/**
 * The pieces Platen made, each traceable to its responses: identities for new pieces, the tracked
 * URL's answer, outcomes reps report, and who may see which piece.
 */
export class PieceService {
  /** The service's public address, which tracked URLs start with (PLATEN_PUBLIC_URL). */
  publicUrl: string;

  constructor(
    private readonly store: Store,
    private readonly templates: TemplateService,
    publicUrl: string | null,
    private readonly events: PieceEvents,
  ) {
    this.publicUrl = publicUrl ?? 'http://localhost';
  }

  /** The identity a piece with this code prints. */
  identity(code: string): PieceIdentity {
    return pieceIdentity(this.publicUrl, code);
  }

  /** A fresh identity, for a piece made on its own (the form, the API). */
  newIdentity(): PieceIdentity {
    return this.identity(newPieceCode());
  }

  /** Keeps pieces that were made (and delivered), and tells the webhooks. */
  async made(pieces: NewPiece[]): Promise<void> {
    await this.store.pieces.add(pieces);
    for (const piece of pieces) await this.events('piece.created', this.event(piece));
  }

  /** The pieces the caller may see, newest first: a rep their own; marketing and admins everyone's. */
  async list(
    caller: ApiKey,
    filter: { templateId?: string; repId?: string; jobId?: string; limit: number },
  ): Promise<StoredPiece[]> {
    authorize(caller, 'pieces.read');
    const scope = repScope(caller);
    if (scope !== null && filter.repId !== undefined && filter.repId !== scope) return [];
    return this.store.pieces.list({ ...filter, repId: scope ?? filter.repId });
  }

  /** A piece the caller may see, with its responses; NotFoundError for any other. */
  async get(
    caller: ApiKey,
    code: string,
  ): Promise<{ piece: StoredPiece; responses: { at: string; kind: ResponseKind; device: DeviceClass }[] }> {
    authorize(caller, 'pieces.read');
    const piece = await this.visible(caller, code);
    return { piece, responses: await this.store.pieces.responsesOf(piece.code) };
  }

  /** Marks what came of a piece: the rep's own, or (for marketing and admins) anyone's. */
  async setOutcome(
    caller: ApiKey,
    code: string,
    outcome: Outcome,
    note: string | null,
  ): Promise<StoredPiece> {
    authorize(caller, 'pieces.outcome');
    const piece = await this.visible(caller, code);
    const updated = await this.store.pieces.setOutcome(piece.code, {
      outcome,
      note,
      at: new Date().toISOString(),
    });
    if (!updated) throw new NotFoundError('not_found', `No piece ${code}.`);
    await this.events('piece.outcome', { ...this.event(updated), outcome, note });
    return updated;
  }

  /**
   * A visit to a piece's tracked URL: counted (unless `count` is false: a preview bot, a HEAD request)
   * and answered with where to send the visitor, with the campaign's UTM parameters; null when the
   * text is no code of any piece. Nothing about the visitor is kept but the minute, the kind and the
   * device class.
   */
  async respond(
    text: string,
    visit: { kind: ResponseKind; device: DeviceClass; count: boolean },
  ): Promise<string | null> {
    const code = parsePieceCode(text);
    if (!code) return null;
    const piece = visit.count
      ? await this.store.pieces.respond(code, {
          at: minute(new Date()),
          kind: visit.kind,
          device: visit.device,
        })
      : await this.store.pieces.get(code);
    if (!piece?.landingUrl) return null;
    if (visit.count)
      await this.events('piece.response', { ...this.event(piece), kind: visit.kind, device: visit.device });
    const { manifest } = await this.templates.stored(piece.templateId, piece.version);
    // Versions stored before templates named their kind have none.
    return withCampaign(piece, manifest.kind ?? 'other');
  }

  private async visible(caller: ApiKey, text: string): Promise<StoredPiece> {
    const code = parsePieceCode(text);
    const piece = code ? await this.store.pieces.get(code) : null;
    // Another rep's piece looks like one that does not exist.
    if (!piece || !sees(caller, piece)) throw new NotFoundError('not_found', `No piece ${text}.`);
    return piece;
  }

  /** What an event says of a piece: never its landing URL, which may carry the recipient's details. */
  private event(piece: NewPiece): Record<string, unknown> {
    return {
      code: piece.code,
      templateId: piece.templateId,
      version: piece.version,
      repId: piece.repId,
      channel: piece.channel,
      jobId: piece.jobId,
      row: piece.row,
      recipientRef: piece.recipientRef,
      choices: piece.choices,
      variant: piece.variant,
      holdout: piece.holdout,
    };
  }
}

/** An ISO time to the minute: responses are kept no finer. */
const minute = (date: Date): string => `${date.toISOString().slice(0, 16)}:00.000Z`;

/** The landing URL with the campaign's UTM parameters, which the landing page's analytics read. */
function withCampaign(piece: StoredPiece, kind: string): string {
  const url = new URL(piece.landingUrl!);
  url.searchParams.set('utm_source', 'platen');
  url.searchParams.set('utm_medium', kind);
  url.searchParams.set('utm_campaign', piece.templateId);
  url.searchParams.set(
    'utm_content',
    piece.variant ? `v${piece.version}-${piece.variant}` : `v${piece.version}`,
  );
  return url.toString();
}
