import { randomBytes } from 'node:crypto';
import type { NewPiece, Outcome, PieceResponse, PieceStore, StoredPiece } from '../store.js';
import { originOf, pieceReader, type PieceRow, SQLITE } from '../rows.js';
import { type Db, now } from './db.js';

const toPiece = pieceReader(SQLITE);

/** Pieces `made` reads at a time. */
const MADE_PAGE = 500;

const isEmpty = (object: object): boolean => {
  for (const _ in object) return false;
  return true;
};

export class SqlitePieceStore implements PieceStore {
  private readonly insert;

  constructor(private readonly db: Db) {
    this.db.function('origin_of', { deterministic: true }, (url: unknown) =>
      typeof url === 'string' ? originOf(url) : null,
    );
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO pieces (number, code, template_id, version, rep_id, key_id, channel, job_id,
         row, recipient_ref, landing_url, choices, variant, holdout, edited, created_at, prospect_name, entered)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // Positional values, and no JSON for the empty choices and edits of most batch rows: a drop stores
    // its rows' pieces on the thread that joins its parts.
    this.insert = this.db.transaction((pieces: NewPiece[], createdAt: string) => {
      for (const p of pieces) {
        insert.run(
          p.number,
          p.code,
          p.templateId,
          p.version,
          p.repId,
          p.keyId,
          p.channel,
          p.jobId,
          p.row,
          p.recipientRef,
          p.landingUrl,
          isEmpty(p.choices) ? '{}' : JSON.stringify(p.choices),
          p.variant,
          p.holdout ? 1 : 0,
          p.edited.length === 0 ? '[]' : JSON.stringify(p.edited),
          createdAt,
          p.entered?.prospectName ?? null,
          p.entered ? JSON.stringify({ prospect: p.entered.prospect, fields: p.entered.fields }) : null,
        );
      }
    });
  }

  async codeKey(): Promise<Buffer> {
    return this.db.transaction(() => {
      this.db
        .prepare("INSERT OR IGNORE INTO secrets (name, value) VALUES ('piece-codes', ?)")
        .run(randomBytes(32));
      return (
        this.db.prepare("SELECT value FROM secrets WHERE name = 'piece-codes'").get() as { value: Buffer }
      ).value;
    })();
  }

  async reserve(count: number): Promise<number> {
    const { next } = this.db
      .prepare('UPDATE piece_numbers SET next = next + ? RETURNING next')
      .get(count) as { next: number };
    return next - count;
  }

  async add(pieces: NewPiece[]): Promise<void> {
    if (pieces.length > 0) this.insert(pieces, now());
  }

  async get(number: number): Promise<StoredPiece | null> {
    const row = this.db.prepare('SELECT * FROM pieces WHERE number = ?').get(number) as
      PieceRow<'sqlite'> | undefined;
    return row ? toPiece(row) : null;
  }

  async list(filter: {
    repId?: string;
    templateId?: string;
    jobId?: string;
    match?: { text: string; templateIds: string[]; number: number | null };
    limit: number;
  }): Promise<StoredPiece[]> {
    const { match } = filter;
    // Only the conditions asked for, so that a rep's list reads the rep's index rather than every piece.
    const where = [
      filter.repId === undefined ? null : 'rep_id = @repId',
      filter.templateId === undefined ? null : 'template_id = @templateId',
      filter.jobId === undefined ? null : 'job_id = @jobId',
      match === undefined
        ? null
        : `(prospect_name LIKE @like ESCAPE '\\' OR code LIKE @like ESCAPE '\\' OR number = @number
           OR template_id IN (SELECT value FROM json_each(@templateIds)))`,
    ].filter((condition) => condition !== null);
    const rows = this.db
      .prepare(
        `SELECT * FROM pieces ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at DESC, number DESC LIMIT @limit`,
      )
      .all({
        limit: filter.limit,
        ...(filter.repId === undefined ? {} : { repId: filter.repId }),
        ...(filter.templateId === undefined ? {} : { templateId: filter.templateId }),
        ...(filter.jobId === undefined ? {} : { jobId: filter.jobId }),
        ...(match && {
          // SQLite's LIKE ignores the case of ASCII letters; % and _ typed are matched as themselves.
          like: `%${match.text.replace(/[\\%_]/g, '\\$&')}%`,
          number: match.number,
          templateIds: JSON.stringify(match.templateIds),
        }),
      }) as PieceRow<'sqlite'>[];
    return rows.map(toPiece);
  }

  async respond(number: number, response: PieceResponse): Promise<StoredPiece | null> {
    return this.db.transaction(() => {
      const updated = this.db
        .prepare(
          `UPDATE pieces SET responses = responses + 1, first_response_at = coalesce(first_response_at, @at)
           WHERE number = @number RETURNING *`,
        )
        .get({ number, at: response.at }) as PieceRow<'sqlite'> | undefined;
      if (!updated) return null;
      this.db
        .prepare('INSERT INTO responses (number, at, kind, device) VALUES (@number, @at, @kind, @device)')
        .run({ number, ...response });
      return toPiece(updated);
    })();
  }

  async setOutcome(
    number: number,
    outcome: { outcome: Outcome; note: string | null; at: string },
  ): Promise<StoredPiece | null> {
    const row = this.db
      .prepare(
        `UPDATE pieces SET outcome = @outcome, outcome_note = @note, outcome_at = @at WHERE number = @number
         RETURNING *`,
      )
      .get({ number, ...outcome }) as PieceRow<'sqlite'> | undefined;
    return row ? toPiece(row) : null;
  }

  async *made(filter: { templateId?: string; from?: string; to?: string }): AsyncIterable<StoredPiece> {
    // Read a page at a time, so no cursor stays open while the reader works: an open SQLite cursor
    // makes the connection refuse every write (a response, an outcome) until it is finished.
    const page = this.db.prepare(
      `SELECT * FROM pieces WHERE (@templateId IS NULL OR template_id = @templateId)
       AND (@from IS NULL OR created_at >= @from) AND (@to IS NULL OR created_at < @to)
       AND (@afterAt IS NULL OR created_at > @afterAt OR (created_at = @afterAt AND number > @afterNumber))
       ORDER BY created_at, number LIMIT ${MADE_PAGE}`,
    );
    let last: PieceRow<'sqlite'> | undefined;
    for (;;) {
      const rows = page.all({
        templateId: filter.templateId ?? null,
        from: filter.from ?? null,
        to: filter.to ?? null,
        afterAt: last?.created_at ?? null,
        afterNumber: last?.number ?? null,
      }) as PieceRow<'sqlite'>[];
      for (const row of rows) yield toPiece(row);
      if (rows.length < MADE_PAGE) return;
      last = rows.at(-1);
    }
  }

  async responsesOf(number: number): Promise<PieceResponse[]> {
    return this.db
      .prepare('SELECT at, kind, device FROM responses WHERE number = ? ORDER BY at, rowid')
      .all(number) as PieceResponse[];
  }

  async cutRecipients(before: string): Promise<string[]> {
    const rows = this.db
      .prepare(
        `UPDATE pieces SET recipient_ref = NULL, outcome_note = NULL, landing_url = origin_of(landing_url),
           prospect_name = NULL, entered = NULL
         WHERE created_at < ? AND (recipient_ref IS NOT NULL OR outcome_note IS NOT NULL OR entered IS NOT NULL
           OR landing_url IS NOT origin_of(landing_url)) RETURNING code`,
      )
      .all(before) as { code: string }[];
    return rows.map((r) => r.code);
  }

  async eraseRecipient(ref: string): Promise<string[]> {
    const rows = this.db.prepare('DELETE FROM pieces WHERE recipient_ref = ? RETURNING code').all(ref) as {
      code: string;
    }[];
    return rows.map((r) => r.code);
  }
}
