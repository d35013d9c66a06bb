import { randomBytes } from 'node:crypto';
import type { RenderRecord, RenderStore } from '../store.js';
import { type RenderRow, toRecord } from '../rows.js';
import { type Db, now } from './db.js';

export class PostgresRenderStore implements RenderStore {
  constructor(private readonly db: Db) {}

  async add(input: Omit<RenderRecord, 'id' | 'createdAt'>): Promise<RenderRecord> {
    const record: RenderRecord = { ...input, id: randomBytes(8).toString('hex'), createdAt: now() };
    await this.db.query(
      `INSERT INTO renders (id, key_id, rep_id, template_id, version, record_sha256, output_sha256, bytes,
         piece_code, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        record.id,
        record.keyId,
        record.repId,
        record.templateId,
        record.version,
        record.recordSha256,
        record.outputSha256,
        record.bytes,
        record.pieceCode,
        record.createdAt,
      ],
    );
    return record;
  }

  async get(id: string): Promise<RenderRecord | null> {
    const { rows } = await this.db.query<RenderRow>('SELECT * FROM renders WHERE id = $1', [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async list(filter: { templateId?: string; repId?: string; limit: number }): Promise<RenderRecord[]> {
    const { rows } = await this.db.query<RenderRow>(
      `SELECT * FROM renders WHERE ($1::text IS NULL OR template_id = $1) AND ($2::text IS NULL OR rep_id = $2)
       ORDER BY created_at DESC, id COLLATE "C" LIMIT $3`,
      [filter.templateId ?? null, filter.repId ?? null, filter.limit],
    );
    return rows.map(toRecord);
  }

  async usage(templateId: string): Promise<Map<number, number>> {
    const { rows } = await this.db.query<{ version: number; n: number }>(
      'SELECT version, count(*) AS n FROM renders WHERE template_id = $1 GROUP BY version',
      [templateId],
    );
    return new Map(rows.map((r) => [r.version, r.n]));
  }

  async ofPieces(codes: string[]): Promise<RenderRecord[]> {
    const { rows } = await this.db.query<RenderRow>(
      `SELECT * FROM renders WHERE piece_code = ANY($1::text[])
       ORDER BY array_position($1::text[], piece_code), created_at, id COLLATE "C"`,
      [codes],
    );
    return rows.map(toRecord);
  }
}
