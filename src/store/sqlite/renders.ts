import { randomBytes } from 'node:crypto';
import type { RenderRecord, RenderStore } from '../store.js';
import { type RenderRow, toRecord } from '../rows.js';
import { type Db, now } from './db.js';

export class SqliteRenderStore implements RenderStore {
  constructor(private readonly db: Db) {}

  async add(input: Omit<RenderRecord, 'id' | 'createdAt'>): Promise<RenderRecord> {
    const record: RenderRecord = { ...input, id: randomBytes(8).toString('hex'), createdAt: now() };
    this.db
      .prepare(
        `INSERT INTO renders (id, key_id, rep_id, template_id, version, record_sha256, output_sha256, bytes, piece_code, created_at)
         VALUES (@id, @keyId, @repId, @templateId, @version, @recordSha256, @outputSha256, @bytes, @pieceCode, @createdAt)`,
      )
      .run(record);
    return record;
  }

  async get(id: string): Promise<RenderRecord | null> {
    const row = this.db.prepare('SELECT * FROM renders WHERE id = ?').get(id) as RenderRow | undefined;
    return row ? toRecord(row) : null;
  }

  async list(filter: { templateId?: string; repId?: string; limit: number }): Promise<RenderRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM renders WHERE (@templateId IS NULL OR template_id = @templateId)
         AND (@repId IS NULL OR rep_id = @repId) ORDER BY created_at DESC, id LIMIT @limit`,
      )
      .all({
        templateId: filter.templateId ?? null,
        repId: filter.repId ?? null,
        limit: filter.limit,
      }) as RenderRow[];
    return rows.map(toRecord);
  }

  async usage(templateId: string): Promise<Map<number, number>> {
    const rows = this.db
      .prepare('SELECT version, count(*) AS n FROM renders WHERE template_id = ? GROUP BY version')
      .all(templateId) as { version: number; n: number }[];
    return new Map(rows.map((r) => [r.version, r.n]));
  }

  async ofPieces(codes: string[]): Promise<RenderRecord[]> {
    const found: RenderRecord[] = [];
    const select = this.db.prepare('SELECT * FROM renders WHERE piece_code = ?');
    for (const code of codes) found.push(...(select.all(code) as RenderRow[]).map(toRecord));
    return found;
  }
}
