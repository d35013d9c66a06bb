import { NotFoundError } from '../errors.js';
import type { PieceRunner } from '../jobs/dispatch.js';
import { PieceCodes, pieceIdentity } from '../model/piece-code.js';
import type { PieceIdentity } from '../model/record.js';
import type {
  ApiKey,
  DeviceClass,
  EnteredValues,
  NewPiece,
  Outcome,
  PieceResponse,
  ResponseKind,
  Store,
  StoredPiece,
  WebhookEventType,
} from '../store/store.js';
import { authorize, repScope, sees } from './policy.js';
import type { TemplateService } from './templates.js';

export type {
  Channel,
  DeviceClass,
  EnteredValues,
  NewPiece,
  Outcome,
  ResponseKind,
  StoredPiece,
} from '../store/store.js';
export { OUTCOMES } from '../store/store.js';

/** Each outcome as people say it. */
export const OUTCOME_LABELS: Record<Outcome, string> = {
  contacted: 'Contacted',
  meeting_booked: 'Meeting booked',
  quote_sent: 'Quote sent',
  won: 'Won',
  lost: 'Lost',
  no_response: 'No response',
};

/**
 * Tells others (the webhooks) what happened to pieces: made, responded to, an outcome set; one event
 * per piece, saying `dataOf(piece)`, under the id `idOf(piece)` if given (see WebhookService.emit).
 */
export type PieceEvents = <T extends NewPiece>(
  type: WebhookEventType,
  pieces: readonly T[],
  dataOf: (piece: T) => Record<string, unknown>,
  idOf?: (piece: T) => string,
) => Promise<void>;

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
    /** Where thumbnails are drawn: the worker pool, ahead of batch chunks. */
    private readonly runner: PieceRunner,
  ) {
    this.publicUrl = publicUrl ?? 'http://localhost';
  }

  /** The installation's key for codes, read (or made) once, and its codes. */
  private key: Promise<Buffer> | null = null;
  private codes: Promise<PieceCodes> | null = null;
  /** Each template version's kind, by `id@version`. */
  private readonly kinds = new Map<string, string>();
  /** First-page thumbnails, by their PDF's hash; an erasure or the retention cut drops them too. */
  private readonly thumbs = new Map<string, Promise<Buffer>>();

  /** The identity a piece with this code prints. */
  identity(code: string): PieceIdentity {
    return pieceIdentity(this.publicUrl, code);
  }

  /** A fresh identity, with its number, for a piece made on its own (the form, the API). */
  async newIdentity(): Promise<PieceIdentity & { number: number }> {
    const number = await this.store.pieces.reserve(1);
    return { number, ...this.identity((await this.pieceCodes()).code(number)) };
  }

  /** Numbers for a batch job's rows, allocated when the job is created; returns the first. */
  reserve(count: number): Promise<number> {
    return this.store.pieces.reserve(count);
  }

  /**
   * The key codes are written with, for the workers that write a batch job's codes themselves (see
   * jobs/experiment.ts).
   */
  codeKey(): Promise<Buffer> {
    if (!this.key) {
      this.key = this.store.pieces.codeKey();
      // A failure to read it (a full disk) is not kept: the next call asks the store again.
      this.key.catch(() => {
        this.key = null;
        this.codes = null;
      });
    }
    return this.key;
  }

  /** The installation's codes, under the key the store keeps. */
  private pieceCodes(): Promise<PieceCodes> {
    this.codes ??= this.codeKey().then((key) => new PieceCodes(key));
    return this.codes;
  }

  /** The stored piece a code names, or null when it is no code of a piece. */
  private async find(text: string): Promise<StoredPiece | null> {
    const number = (await this.pieceCodes()).number(text);
    return number === null ? null : this.store.pieces.get(number);
  }

  /** Keeps pieces that were made (and delivered), and tells the webhooks once per piece. */
  async made(pieces: NewPiece[]): Promise<void> {
    await this.store.pieces.add(pieces);
    // One event per piece, however often it is stored: a batch chunk is stored again after a crash.
    await this.events(
      'piece.created',
      pieces,
      (piece) => this.event(piece),
      (piece) => `piece.created:${piece.code}`,
    );
  }

  /**
   * The pieces the caller may see, newest first: a rep their own; marketing and admins everyone's.
   * A search finds pieces by their prospect's name, their template's name or their code.
   */
  async list(
    caller: ApiKey,
    filter: { templateId?: string; repId?: string; jobId?: string; search?: string; limit: number },
  ): Promise<StoredPiece[]> {
    authorize(caller, 'pieces.read');
    const scope = repScope(caller);
    if (scope !== null && filter.repId !== undefined && filter.repId !== scope) return [];
    const { search, ...rest } = filter;
    const match = search ? { match: await this.matching(search) } : {};
    return this.store.pieces.list({ ...rest, ...match, repId: scope ?? filter.repId });
  }

  /** What a search matches: the text in a prospect's name or a code, the templates it names, the piece it is the code of. */
  private async matching(
    text: string,
  ): Promise<{ text: string; templateIds: string[]; number: number | null }> {
    const needle = text.toLocaleLowerCase();
    const named = (v: { name: string } | null) => v?.name.toLocaleLowerCase().includes(needle) ?? false;
    const templateIds = (await this.store.templates.list())
      .filter((t) => named(t.latest) || named(t.published))
      .map((t) => t.id);
    return { text, templateIds, number: (await this.pieceCodes()).number(text) };
  }

  /**
   * What the maker of a piece the caller may see entered, to make another like it; NotFoundError for
   * any other piece, and for one that keeps no values (a batch row, one cut from its recipient).
   */
  async entered(caller: ApiKey, code: string): Promise<{ templateId: string; entered: EnteredValues }> {
    authorize(caller, 'pieces.read');
    const piece = await this.visible(caller, code);
    if (!piece.entered) throw new NotFoundError('not_found', `Piece ${code} keeps no values to start from.`);
    return { templateId: piece.templateId, entered: piece.entered };
  }

  /**
   * A small PNG of the first page of a piece the caller may see, from the PDF kept of it (a piece
   * made on its own); NotFoundError for any other piece, and once the PDF is erased or cut. Drawn on
   * the worker pool, ahead of batch chunks, once per PDF and kept in memory.
   */
  async thumbnail(caller: ApiKey, code: string): Promise<Buffer> {
    authorize(caller, 'pieces.read');
    const piece = await this.visible(caller, code);
    const [render] = await this.store.renders.ofPieces([piece.code]);
    const sha256 = render?.outputSha256;
    if (!sha256 || !(await this.store.blobs.exists(sha256)))
      throw new NotFoundError('not_found', `No PDF is kept of piece ${code}.`);
    let thumb = this.thumbs.get(sha256);
    if (!thumb) {
      thumb = this.store.blobs.get(sha256).then(async (pdf) => {
        if (!pdf) throw new NotFoundError('not_found', `No PDF is kept of piece ${code}.`);
        // Kept for whoever asks next: drawn to its end even if the first to ask has gone.
        const png = await this.runner.rasterize(
          { pdf, page: 1, scale: THUMB_SCALE },
          new AbortController().signal,
        );
        return Buffer.from(png.buffer, png.byteOffset, png.byteLength);
      });
      thumb.catch(() => this.thumbs.delete(sha256));
      this.thumbs.set(sha256, thumb);
      if (this.thumbs.size > THUMB_CACHE) this.thumbs.delete(this.thumbs.keys().next().value!);
    }
    return thumb;
  }

  /** A piece the caller may see, with its responses; NotFoundError for any other. */
  async get(caller: ApiKey, code: string): Promise<{ piece: StoredPiece; responses: PieceResponse[] }> {
    authorize(caller, 'pieces.read');
    const piece = await this.visible(caller, code);
    return { piece, responses: await this.store.pieces.responsesOf(piece.number) };
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
    const updated = await this.store.pieces.setOutcome(piece.number, {
      outcome,
      note,
      at: new Date().toISOString(),
    });
    if (!updated) throw new NotFoundError('not_found', `No piece ${code}.`);
    await this.events('piece.outcome', [updated], (piece) => ({ ...this.event(piece), outcome, note }));
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
    const number = (await this.pieceCodes()).number(text);
    if (number === null) return null;
    const response = { at: minute(new Date()), kind: visit.kind, device: visit.device };
    const piece = visit.count
      ? await this.store.pieces.respond(number, response)
      : await this.store.pieces.get(number);
    if (!piece?.landingUrl) return null;
    if (visit.count)
      await this.events('piece.response', [piece], (p) => ({
        ...this.event(p),
        kind: visit.kind,
        device: visit.device,
      }));
    return withCampaign(piece, await this.kindOf(piece));
  }

  /**
   * The kind of piece a version makes (its `utm_medium`), read once per version: versions never change,
   * and every visit to a tracked link asks.
   */
  private async kindOf(piece: StoredPiece): Promise<string> {
    const key = `${piece.templateId}@${piece.version}`;
    let kind = this.kinds.get(key);
    if (kind === undefined) {
      const { manifest } = await this.templates.stored(piece.templateId, piece.version);
      // Versions stored before templates named their kind have none.
      kind = manifest.kind ?? 'other';
      this.kinds.set(key, kind);
    }
    return kind;
  }

  /**
   * Erases everything kept about one recipient: their pieces, the responses traced to them, the PDFs
   * rendered for them one at a time (the audit records stay, naming no one), and the webhook
   * deliveries about them not yet made. Returns how many pieces and PDFs were erased. Batch outputs
   * are files of many recipients: they go with their job's files at the end of the retention period.
   */
  async eraseRecipient(caller: ApiKey, ref: string): Promise<{ pieces: number; pdfs: number }> {
    authorize(caller, 'recipients.erase');
    const codes = await this.store.pieces.eraseRecipient(ref);
    await this.store.webhooks.dropPendingAbout(codes);
    return { pieces: codes.length, pdfs: await this.dropPdfs(codes) };
  }

  /**
   * Cuts pieces made before `before` (an ISO time: the retention period's start) from their
   * recipients (see PieceStore.cutRecipients) and drops the PDFs rendered for them; the counts stay
   * for the results. Returns how many were cut.
   */
  async cutExpired(before: string): Promise<number> {
    const codes = await this.store.pieces.cutRecipients(before);
    await this.dropPdfs(codes);
    return codes.length;
  }

  /** Drops the stored PDFs of single renders of these pieces, and their thumbnails; returns how many. */
  private async dropPdfs(codes: string[]): Promise<number> {
    const renders = await this.store.renders.ofPieces(codes);
    for (const render of renders) {
      await this.store.blobs.delete(render.outputSha256);
      this.thumbs.delete(render.outputSha256);
    }
    return renders.length;
  }

  private async visible(caller: ApiKey, text: string): Promise<StoredPiece> {
    const piece = await this.find(text);
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

/** First-page thumbnails kept in memory: a page of My pieces shows up to 100. */
const THUMB_CACHE = 200;
/** Thumbnails at 0.4 × 72 dpi: a letter page 245 px wide, twice the size My pieces shows it at. */
const THUMB_SCALE = 0.4;

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
