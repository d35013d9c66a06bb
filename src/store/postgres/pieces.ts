import { randomBytes } from 'node:crypto';
import type { NewPiece, Outcome, PieceResponse, PieceStore, StoredPiece } from '../store.js';
import { originOf, pieceReader, type PieceRow, POSTGRES } from '../rows.js';
import { type Db, now, transaction } from './db.js';

const toPiece = pieceReader(POSTGRES);

/** Pieces `made` reads at a time. */
const MADE_PAGE = 500;

/** A landing URL that is an origin and a slash already, which a cut leaves as it is. */
const ORIGIN_ONLY = String.raw`^[^/]*//[^/]*/$`;

export class PostgresPieceStore implements PieceStore {
  constructor(private readonly db: Db) {}

  async codeKey(): Promise<Buffer> {
    await this.db.query(
      "INSERT INTO secrets (name, value) VALUES ('piece-codes', $1) ON CONFLICT DO NOTHING",
      [randomBytes(32)],
    );
    const { rows } = await this.db.query<{ value: Buffer }>(
      "SELECT value FROM secrets WHERE name = 'piece-codes'",
    );
    return rows[0]!.value;
  }

  async reserve(count: number): Promise<number> {
    const { rows } = await this.db.query<{ next: number }>(
      'UPDATE piece_numbers SET next = next + $1 RETURNING next',
      [count],
    );
    return rows[0]!.next - count;
  }

  /** One statement for the lot, a column at a time: a drop stores its chunks' pieces as they finish. */
  async add(pieces: NewPiece[]): Promise<void> {
    if (pieces.length === 0) return;
    const column = <T>(of: (p: NewPiece) => T) => pieces.map(of);
    await this.db.query(
      `INSERT INTO pieces (number, code, template_id, version, rep_id, key_id, channel, job_id, row,
         recipient_ref, landing_url, choices, variant, holdout, edited, created_at, prospect_name, entered)
       SELECT number, code, template_id, version, rep_id, key_id, channel, job_id, row, recipient_ref,
         landing_url, choices::json, variant, holdout, edited::json, $16, prospect_name, entered::json
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[],
         $8::text[], $9::int[], $10::text[], $11::text[], $12::text[], $13::text[], $14::boolean[],
         $15::text[], $17::text[], $18::text[])
         AS p(number, code, template_id, version, rep_id, key_id, channel, job_id, row, recipient_ref,
           landing_url, choices, variant, holdout, edited, prospect_name, entered)
       ON CONFLICT (number) DO NOTHING`,
      [
        column((p) => p.number),
        column((p) => p.code),
        column((p) => p.templateId),
        column((p) => p.version),
        column((p) => p.repId),
        column((p) => p.keyId),
        column((p) => p.channel),
        column((p) => p.jobId),
        column((p) => p.row),
        column((p) => p.recipientRef),
        column((p) => p.landingUrl),
        column((p) => JSON.stringify(p.choices)),
        column((p) => p.variant),
        column((p) => p.holdout),
        column((p) => JSON.stringify(p.edited)),
        now(),
        column((p) => p.entered?.prospectName ?? null),
        column((p) =>
          p.entered ? JSON.stringify({ prospect: p.entered.prospect, fields: p.entered.fields }) : null,
        ),
      ],
    );
  }

  async get(number: number): Promise<StoredPiece | null> {
    const { rows } = await this.db.query<PieceRow<'postgres'>>('SELECT * FROM pieces WHERE number = $1', [
      number,
    ]);
    return rows[0] ? toPiece(rows[0]) : null;
  }

  async list(filter: {
    repId?: string;
    templateId?: string;
    jobId?: string;
    match?: { text: string; templateIds: string[]; number: number | null };
    limit: number;
  }): Promise<StoredPiece[]> {
    const { match } = filter;
    const values: unknown[] = [];
    const value = (v: unknown) => `$${values.push(v)}`;
    // Only the conditions asked for, so that a rep's list reads the rep's index rather than every piece.
    const where = [
      filter.repId === undefined ? null : `rep_id = ${value(filter.repId)}`,
      filter.templateId === undefined ? null : `template_id = ${value(filter.templateId)}`,
      filter.jobId === undefined ? null : `job_id = ${value(filter.jobId)}`,
      match === undefined
        ? null
        : (() => {
            // % and _ typed are matched as themselves.
            const like = value(`%${match.text.replace(/[\\%_]/g, '\\$&')}%`);
            return `(prospect_name ILIKE ${like} ESCAPE '\\' OR code ILIKE ${like} ESCAPE '\\'
              OR number = ${value(match.number)}::bigint OR template_id = ANY(${value(match.templateIds)}::text[]))`;
          })(),
    ].filter((condition) => condition !== null);
    const { rows } = await this.db.query<PieceRow<'postgres'>>(
      `SELECT * FROM pieces ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, number DESC LIMIT ${value(filter.limit)}`,
      values,
    );
    return rows.map(toPiece);
  }

  /** One statement: the count and the response are stored together. */
  async respond(number: number, response: PieceResponse): Promise<StoredPiece | null> {
    const { rows } = await this.db.query<PieceRow<'postgres'>>(
      `WITH piece AS (
         UPDATE pieces SET responses = responses + 1, first_response_at = coalesce(first_response_at, $2)
         WHERE number = $1 RETURNING *
       ), response AS (
         INSERT INTO responses (number, at, kind, device) SELECT number, $2, $3, $4 FROM piece
       )
       SELECT * FROM piece`,
      [number, response.at, response.kind, response.device],
    );
    return rows[0] ? toPiece(rows[0]) : null;
  }

  async setOutcome(
    number: number,
    outcome: { outcome: Outcome; note: string | null; at: string },
  ): Promise<StoredPiece | null> {
    const { rows } = await this.db.query<PieceRow<'postgres'>>(
      'UPDATE pieces SET outcome = $1, outcome_note = $2, outcome_at = $3 WHERE number = $4 RETURNING *',
      [outcome.outcome, outcome.note, outcome.at, number],
    );
    return rows[0] ? toPiece(rows[0]) : null;
  }

  /** A page at a time, so that no connection is held while the reader works. */
  async *made(filter: { templateId?: string; from?: string; to?: string }): AsyncIterable<StoredPiece> {
    let last: PieceRow<'postgres'> | undefined;
    for (;;) {
      const { rows } = await this.db.query<PieceRow<'postgres'>>(
        `SELECT * FROM pieces WHERE ($1::text IS NULL OR template_id = $1)
         AND ($2::timestamptz IS NULL OR created_at >= $2) AND ($3::timestamptz IS NULL OR created_at < $3)
         AND ($4::timestamptz IS NULL OR (created_at, number) > ($4, $5::bigint))
         ORDER BY created_at, number LIMIT ${MADE_PAGE}`,
        [
          filter.templateId ?? null,
          filter.from ?? null,
          filter.to ?? null,
          last?.created_at ?? null,
          last?.number ?? null,
        ],
      );
      for (const row of rows) yield toPiece(row);
      if (rows.length < MADE_PAGE) return;
      last = rows.at(-1);
    }
  }

  async responsesOf(number: number): Promise<PieceResponse[]> {
    const { rows } = await this.db.query<PieceResponse>(
      'SELECT at, kind, device FROM responses WHERE number = $1 ORDER BY at, id',
      [number],
    );
    return rows;
  }

  /**
   * The pieces that still hold something to cut are read, locked, and cut in one transaction; the
   * origin of each landing URL is the one the WHATWG URL parser gives, as the SQLite adapter's.
   */
  async cutRecipients(before: string): Promise<string[]> {
    return transaction(this.db, async (tx) => {
      const { rows } = await tx.query<{
        number: number;
        code: string;
        landing_url: string | null;
        personal: boolean;
      }>(
        `SELECT number, code, landing_url,
           (recipient_ref IS NOT NULL OR outcome_note IS NOT NULL OR entered IS NOT NULL) AS personal
         FROM pieces WHERE created_at < $1 AND (recipient_ref IS NOT NULL OR outcome_note IS NOT NULL
           OR entered IS NOT NULL OR landing_url !~ $2)
         ORDER BY number FOR UPDATE`,
        [before, ORIGIN_ONLY],
      );
      const cut = rows.filter(
        (r) => r.personal || (r.landing_url !== null && originOf(r.landing_url) !== r.landing_url),
      );
      if (cut.length === 0) return [];
      await tx.query(
        `UPDATE pieces SET recipient_ref = NULL, outcome_note = NULL, prospect_name = NULL, entered = NULL,
           landing_url = cut.origin
         FROM unnest($1::bigint[], $2::text[]) AS cut(number, origin) WHERE pieces.number = cut.number`,
        [cut.map((r) => r.number), cut.map((r) => (r.landing_url === null ? null : originOf(r.landing_url)))],
      );
      return cut.map((r) => r.code);
    });
  }

  async eraseRecipient(ref: string): Promise<string[]> {
    const { rows } = await this.db.query<{ code: string }>(
      `WITH erased AS (DELETE FROM pieces WHERE recipient_ref = $1 RETURNING number, code)
       SELECT code FROM erased ORDER BY number`,
      [ref],
    );
    return rows.map((r) => r.code);
  }
}
