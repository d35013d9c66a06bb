import { stillWanted } from '../abort.js';
import { type PreparedImage, prepareImage } from '../assets/images.js';
import { normalizePhoto } from '../assets/photos.js';
import { NotFoundError, PlatenError, type Problem } from '../errors.js';
import type { TemplateSource } from '../jobs/chunk.js';
import type { PieceRunner } from '../jobs/dispatch.js';
import type { PieceRecordSource } from '../jobs/piece.js';
import type { FitReportEntry, RecordImages } from '../model/piece.js';
import { SAMPLE_PIECE_CODE } from '../model/piece-code.js';
import { samples } from '../pipeline.js';
import type { ApiKey, RenderRecord, RepDetails, Store } from '../store/store.js';
import type { CompiledTemplate } from '../model/template.js';
import { authorize, can, ownerOf, repScope, sees } from './policy.js';
import type { PieceService } from './pieces.js';
import type { TemplateService } from './templates.js';

/** What a caller asks to render: the prospect and the field values; never the rep. */
export interface RenderRequest {
  templateId: string;
  version?: number;
  prospect: Record<string, unknown>;
  fields: Record<string, unknown>;
}

/** A preview may also be of a sample, or (marketing only) with hand-entered rep details. */
export interface PreviewRequest extends RenderRequest {
  rep?: Record<string, unknown>;
  sample?: number;
}

export type { RenderRecord, RepDetails } from '../store/store.js';

/** How long an uploaded image may be used: longer than a session, so none expires mid-session. */
const UPLOAD_HOURS = 24;

/** Profile keys as a template's `rep` inputs name them. */
export const PROFILE_INPUTS: Record<string, (p: RepDetails) => string> = {
  name: (p) => p.name,
  title: (p) => p.title,
  phone: (p) => p.phone,
  email: (p) => p.email,
  licenseNumber: (p) => p.licenseNumber,
};

/** How an image input names an uploaded image: `upload:<sha256>`. */
const UPLOAD_REF = /^upload:([0-9a-f]{64})$/;

/** A record's parts as a request gives them. */
type RecordParts = Record<'rep' | 'prospect' | 'fields', Record<string, unknown>>;

/** Prepared profile photos and uploaded images kept in memory, by content hash. */
const PHOTO_CACHE = 64;

export class RenderService {
  private readonly photos = new Map<string, Promise<PreparedImage>>();

  constructor(
    private readonly store: Store,
    private readonly templates: TemplateService,
    private readonly pieces: PieceService,
    /** Where pieces are drawn: the process's worker pool, shared with the batch jobs' chunks. */
    private readonly runner: PieceRunner,
  ) {}

  /**
   * Renders one piece for a rep, with a fresh response code, and records it in the audit trail and
   * among the pieces. The piece is drawn on the worker pool, ahead of batch chunks. Once `signal`
   * aborts (the caller gave up or left) the work stops at its next step (a piece waiting for a thread
   * leaves the pool's queue), and nothing is stored for a piece nobody received.
   */
  async render(
    caller: ApiKey,
    request: RenderRequest,
    channel: 'form' | 'api',
    signal: AbortSignal,
  ): Promise<{ pdf: Buffer; audit: RenderRecord }> {
    authorize(caller, 'pieces.render');
    const version = await this.templates.resolve(request.templateId, request.version, caller);
    const compiled = await this.templates.compiled(version);
    const { record, images } = await this.recordFor(compiled, caller, request);
    await stillWanted(signal);
    const identity = await this.pieces.newIdentity();
    const drawn = await this.runner.piece(
      {
        kind: 'render',
        template: await this.source(compiled),
        source: { record, images: [...images] },
        identity,
      },
      signal,
    );
    if (drawn.kind !== 'render') throw new Error('a render answered as a preview');
    signal.throwIfAborted();
    const pdf = Buffer.from(drawn.pdf.buffer, drawn.pdf.byteOffset, drawn.pdf.byteLength);
    const outputSha256 = await this.store.blobs.put(pdf);
    const audit = await this.store.renders.add({
      keyId: caller.id,
      repId: caller.repId,
      templateId: compiled.id,
      version: compiled.version,
      recordSha256: drawn.recordHash,
      outputSha256,
      bytes: pdf.length,
      pieceCode: identity.code,
    });
    await this.pieces.made([
      {
        number: identity.number,
        code: identity.code,
        templateId: compiled.id,
        version: compiled.version,
        repId: caller.repId,
        keyId: caller.id,
        channel,
        jobId: null,
        row: null,
        landingUrl: drawn.landingUrl,
        variant: null,
        holdout: false,
        ...drawn.facts,
        entered: {
          prospectName: drawn.prospectName,
          prospect: request.prospect,
          fields: request.fields,
        },
      },
    ]);
    return { pdf, audit };
  }

  /** A render of the audit trail the caller may see: a rep their own; NotFoundError otherwise. */
  async get(caller: ApiKey, id: string): Promise<RenderRecord> {
    authorize(caller, 'renders.read');
    const record = await this.store.renders.get(id);
    // Another rep's render looks like one that does not exist.
    if (!record || !sees(caller, record)) throw new NotFoundError('not_found', `No render ${id}.`);
    return record;
  }

  /** The audit trail, newest first: a rep's own, or (for those who work with any rep) any rep's. */
  async list(
    caller: ApiKey,
    filter: { templateId?: string; repId?: string; limit: number },
  ): Promise<RenderRecord[]> {
    authorize(caller, 'renders.read');
    const scope = repScope(caller);
    if (scope !== null && filter.repId !== undefined && filter.repId !== scope) return [];
    return this.store.renders.list({ ...filter, repId: scope ?? filter.repId });
  }

  /** A render and its PDF, byte for byte as it was delivered. */
  async pdf(caller: ApiKey, id: string): Promise<{ record: RenderRecord; pdf: Buffer }> {
    const record = await this.get(caller, id);
    const pdf = await this.store.blobs.get(record.outputSha256);
    if (!pdf) throw new NotFoundError('not_found', 'That PDF is no longer stored.');
    return { record, pdf };
  }

  /**
   * The renders that made these pieces, of those the caller may see whose PDF is still stored: each
   * piece's render id by its code.
   */
  async ofPieces(caller: ApiKey, codes: string[]): Promise<Map<string, string>> {
    authorize(caller, 'renders.read');
    const found = new Map<string, string>();
    for (const r of await this.store.renders.ofPieces(codes)) {
      if (r.pieceCode && sees(caller, r) && (await this.store.blobs.exists(r.outputSha256)))
        found.set(r.pieceCode, r.id);
    }
    return found;
  }

  /**
   * How each text of the piece fits, and every problem, without drawing: what the form shows
   * beside a field while the rep types. Fitted on the worker pool, ahead of batch chunks, as a
   * preview is; once `signal` aborts, a fit still waiting for a thread leaves the pool's queue.
   */
  async fit(
    caller: ApiKey,
    request: PreviewRequest,
    signal: AbortSignal,
  ): Promise<{ report: FitReportEntry[]; problems: Problem[] }> {
    authorize(caller, 'pieces.preview');
    const { compiled, record, images, sample } = await this.previewInput(caller, request);
    await stillWanted(signal);
    try {
      const fitted = await this.runner.piece(
        {
          kind: 'fit',
          template: await this.source(compiled),
          // A sample's images are the package's own, which the worker has: it is named, not sent.
          source: sample === undefined ? { record, images: [...images] } : { sample },
          identity: this.pieces.identity(SAMPLE_PIECE_CODE),
        },
        signal,
      );
      if (fitted.kind !== 'fit') throw new Error('a fit answered as a drawing');
      return { report: fitted.report, problems: fitted.problems };
    } catch (error) {
      if (error instanceof PlatenError) return { report: [], problems: error.problems };
      throw error;
    }
  }

  /**
   * A PNG of one page at screen resolution. Text that overflows is still drawn (past its box) so the
   * rep sees the problem; an invalid record is refused with its problems. Drawn and rasterized on the
   * worker pool, ahead of batch chunks; once `signal` aborts the work stops at its next step (a piece
   * waiting for a thread leaves the pool's queue).
   */
  async preview(
    caller: ApiKey,
    request: PreviewRequest,
    page: number,
    scale: number,
    signal: AbortSignal,
  ): Promise<{ png: Buffer; report: FitReportEntry[]; problems: Problem[]; pages: number }> {
    const { compiled, record, images, sample } = await this.previewInput(caller, request);
    // A sample's images are the package's own, which the worker has: it is named, not sent.
    const source = sample === undefined ? { record, images: [...images] } : { sample };
    return this.drawPreview(caller, compiled, source, page, scale, signal);
  }

  /**
   * A PNG of one page of a record the caller's service has put together (a batch list's first row,
   * with the job's rep), as `preview` draws one.
   */
  async previewRecord(
    caller: ApiKey,
    compiled: CompiledTemplate,
    record: unknown,
    images: RecordImages,
    page: number,
    scale: number,
    signal: AbortSignal,
  ): Promise<{ png: Buffer; report: FitReportEntry[]; problems: Problem[]; pages: number }> {
    return this.drawPreview(caller, compiled, { record, images: [...images] }, page, scale, signal);
  }

  /** One page of a piece drawn on the pool, cropped to the trim box, with what fitting found. */
  private async drawPreview(
    caller: ApiKey,
    compiled: CompiledTemplate,
    source: PieceRecordSource,
    page: number,
    scale: number,
    signal: AbortSignal,
  ): Promise<{ png: Buffer; report: FitReportEntry[]; problems: Problem[]; pages: number }> {
    authorize(caller, 'pieces.preview');
    if (page > compiled.pages.length) {
      throw new PlatenError('invalid_request', [
        { path: 'page', rule: 'too_big', message: `the template has ${compiled.pages.length} page(s)` },
      ]);
    }
    await stillWanted(signal);
    const drawn = await this.runner.piece(
      {
        kind: 'preview',
        template: await this.source(compiled),
        source,
        identity: this.pieces.identity(SAMPLE_PIECE_CODE),
        // Cropped to the trim box: the rep sees the piece as it will be after cutting.
        view: { page, scale, crop: 'trim' },
      },
      signal,
    );
    if (drawn.kind !== 'preview') throw new Error('a preview answered as a render');
    const png = Buffer.from(drawn.png.buffer, drawn.png.byteOffset, drawn.png.byteLength);
    return { png, report: drawn.report, problems: drawn.problems, pages: compiled.pages.length };
  }

  /** A compiled template as a worker compiles it again: its stored package and version. */
  private async source(compiled: CompiledTemplate): Promise<TemplateSource> {
    const version = { templateId: compiled.id, version: compiled.version };
    return { dir: await this.templates.packageDir(version), version: compiled.version };
  }

  private async previewInput(
    caller: ApiKey,
    request: PreviewRequest,
  ): Promise<{ compiled: CompiledTemplate; record: unknown; images: RecordImages; sample?: number }> {
    const version = await this.templates.resolve(request.templateId, request.version, caller);
    const compiled = await this.templates.compiled(version);
    if (request.sample !== undefined) {
      const sample = samples(compiled)[request.sample];
      if (!sample) {
        throw new PlatenError('invalid_request', [
          { path: 'sample', rule: 'not_found', message: `no sample ${request.sample}` },
        ]);
      }
      return { compiled, record: sample.record, images: sample.images, sample: request.sample };
    }
    return { compiled, ...(await this.recordFor(compiled, caller, request)) };
  }

  /**
   * The record to render: prospect and fields from the request, rep from the caller's profile.
   * Only callers who may work with any rep preview with hand-entered rep details; a rep never
   * chooses whose name goes on a piece.
   */
  private async recordFor(
    compiled: CompiledTemplate,
    caller: ApiKey,
    request: PreviewRequest,
  ): Promise<{ record: RecordParts; images: Map<string, PreparedImage> }> {
    const handTyped = request.rep !== undefined;
    if (handTyped && !can(caller.role, 'reps.any')) {
      throw new PlatenError('invalid_record', [
        {
          path: 'rep',
          rule: 'unknown_key',
          message: 'the rep details come from your profile, not the request',
        },
      ]);
    }
    const profile = !handTyped && caller.repId ? await this.store.reps.get(caller.repId) : null;
    const rep = profile
      ? await this.repPart(compiled, profile)
      : { values: request.rep ?? {}, images: new Map<string, PreparedImage>() };
    const record = { rep: rep.values, prospect: request.prospect, fields: request.fields };
    // What the request itself says: its prospect and fields, and rep details typed by hand.
    const scopes = handTyped ? (['rep', 'prospect', 'fields'] as const) : (['prospect', 'fields'] as const);
    await this.uploadedImages(compiled, caller, record, scopes, rep.images);
    return { record, images: rep.images };
  }

  /** A rep profile as the `rep` part of a template's records, with the photo it names. */
  async repPart(
    compiled: CompiledTemplate,
    profile: RepDetails,
  ): Promise<{ values: Record<string, string>; images: Map<string, PreparedImage> }> {
    const values: Record<string, string> = {};
    const images = new Map<string, PreparedImage>();
    for (const [key, def] of Object.entries(compiled.inputs.rep)) {
      const value = PROFILE_INPUTS[key]?.(profile);
      if (value) values[key] = value;
      if (def.type === 'image' && profile.photoSha256) {
        const ref = `profile:${profile.photoSha256}`;
        images.set(ref, await this.photo(profile.photoSha256));
        values[key] = ref;
      }
    }
    return { values, images };
  }

  /**
   * Stores an image for an image field (normalized like a profile photo: raster only, oriented,
   * metadata stripped) as the caller's upload for UPLOAD_HOURS, and returns the value the field
   * takes to show it: `upload:<sha256>`.
   */
  async storeImage(caller: ApiKey, bytes: Buffer): Promise<{ ref: string; width: number; height: number }> {
    authorize(caller, 'pieces.preview');
    let normalized;
    try {
      normalized = await normalizePhoto(bytes);
    } catch (error) {
      throw new PlatenError('invalid_image', [
        { path: 'image', rule: 'image', message: (error as Error).message },
      ]);
    }
    const sha256 = await this.store.blobs.put(normalized.bytes);
    await this.store.uploads.add(sha256, ownerOf(caller), Date.now() + UPLOAD_HOURS * 3_600_000);
    return { ref: `upload:${sha256}`, width: normalized.width, height: normalized.height };
  }

  /**
   * The caller's own uploads that the request's image inputs name (`upload:<sha256>`), read from the
   * blob store. Anything else an image input names — another's upload, a profile photo, any other
   * blob, an expired upload, a malformed ref — is refused, naming the input by its name and label.
   */
  private async uploadedImages(
    compiled: CompiledTemplate,
    caller: ApiKey,
    record: RecordParts,
    scopes: readonly (keyof RecordParts)[],
    images: Map<string, PreparedImage>,
  ): Promise<void> {
    const owner = ownerOf(caller);
    const problems: Problem[] = [];
    for (const scope of scopes) {
      for (const [key, def] of Object.entries(compiled.inputs[scope])) {
        const ref = record[scope][key];
        if (def.type !== 'image' || ref === undefined || ref === null || ref === '') continue;
        const sha256 = typeof ref === 'string' ? UPLOAD_REF.exec(ref)?.[1] : undefined;
        if (sha256 && (await this.store.uploads.owns(sha256, owner))) {
          images.set(ref as string, await this.photo(sha256));
          continue;
        }
        problems.push({
          path: `${scope}.${key}`,
          rule: 'not_an_upload',
          message: `"${def.label ?? key}" must be an image you uploaded here within the last ${UPLOAD_HOURS} hours: upload the image again`,
        });
      }
    }
    if (problems.length > 0) throw new PlatenError('invalid_record', problems);
  }

  private photo(sha256: string): Promise<PreparedImage> {
    let photo = this.photos.get(sha256);
    if (!photo) {
      photo = this.store.blobs.get(sha256).then((bytes) => {
        if (!bytes) {
          throw new PlatenError('invalid_record', [
            { path: 'image', rule: 'missing_image', message: `no stored image ${sha256}` },
          ]);
        }
        return prepareImage(bytes);
      });
      photo.catch(() => this.photos.delete(sha256));
      this.photos.set(sha256, photo);
      if (this.photos.size > PHOTO_CACHE) this.photos.delete(this.photos.keys().next().value!);
    }
    return photo;
  }
}
