import type { Job, JobState, JobStore } from '../store.js';
import { jobReader, type JobRow, POSTGRES } from '../rows.js';
import { type Db, now } from './db.js';

const toJob = jobReader(POSTGRES);

export class PostgresJobStore implements JobStore {
  constructor(private readonly db: Db) {}

  async create(
    input: Pick<Job, 'id' | 'keyId' | 'repId' | 'templateId' | 'version' | 'kind' | 'spec' | 'total'>,
  ): Promise<Job> {
    const { rows } = await this.db.query<JobRow<'postgres'>>(
      `INSERT INTO jobs (id, key_id, rep_id, template_id, version, kind, state, spec, total, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9) RETURNING *`,
      [
        input.id,
        input.keyId,
        input.repId,
        input.templateId,
        input.version,
        input.kind,
        JSON.stringify(input.spec),
        input.total,
        now(),
      ],
    );
    return toJob(rows[0]!);
  }

  async get(id: string): Promise<Job | null> {
    const { rows } = await this.db.query<JobRow<'postgres'>>('SELECT * FROM jobs WHERE id = $1', [id]);
    return rows[0] ? toJob(rows[0]) : null;
  }

  async list(filter: { repId?: string; withoutChecks?: boolean; limit: number }): Promise<Job[]> {
    const { rows } = await this.db.query<JobRow<'postgres'>>(
      `SELECT * FROM jobs WHERE ($1::text IS NULL OR rep_id = $1) AND (NOT $2 OR kind != 'check')
       ORDER BY created_at DESC, id COLLATE "C" LIMIT $3`,
      [filter.repId ?? null, filter.withoutChecks ?? false, filter.limit],
    );
    return rows.map(toJob);
  }

  async unfinished(): Promise<Job[]> {
    const { rows } = await this.db.query<JobRow<'postgres'>>(
      `SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY created_at, id COLLATE "C"`,
    );
    return rows.map(toJob);
  }

  async claim(id: string, node: string, leaseMs: number, dead?: string): Promise<boolean> {
    const at = Date.now();
    const { rowCount } = await this.db.query(
      `UPDATE jobs SET owner = $2, lease_expires_at = $3
       WHERE id = $1 AND state IN ('queued', 'running')
         AND (owner IS NULL OR owner = $2 OR lease_expires_at < $4 OR owner = $5)`,
      [id, node, at + leaseMs, at, dead ?? null],
    );
    return rowCount === 1;
  }

  async renew(node: string, leaseMs: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `UPDATE jobs SET lease_expires_at = $2 WHERE owner = $1 AND state IN ('queued', 'running') RETURNING id`,
      [node, Date.now() + leaseMs],
    );
    return rows.map((r) => r.id);
  }

  async release(node: string): Promise<void> {
    await this.db.query('UPDATE jobs SET owner = NULL, lease_expires_at = NULL WHERE owner = $1', [node]);
  }

  async started(id: string): Promise<void> {
    await this.db.query(
      `UPDATE jobs SET state = 'running', started_at = coalesce(started_at, $1) WHERE id = $2`,
      [now(), id],
    );
  }

  async progress(
    id: string,
    p: { done: number; rendered: number; rejected: number; heldOut: number },
  ): Promise<void> {
    await this.db.query(
      'UPDATE jobs SET done = $1, rendered = $2, rejected = $3, held_out = $4 WHERE id = $5',
      [p.done, p.rendered, p.rejected, p.heldOut, id],
    );
  }

  async finish(
    id: string,
    state: Exclude<JobState, 'queued' | 'running'>,
    error: string | null = null,
  ): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE jobs SET state = $1, error = $2, finished_at = $3 WHERE id = $4 AND state IN ('queued', 'running')`,
      [state, error, now(), id],
    );
    return rowCount === 1;
  }

  async saveChunk(id: string, index: number, result: unknown): Promise<void> {
    await this.db.query(
      `INSERT INTO job_chunks (job_id, idx, result) VALUES ($1, $2, $3)
       ON CONFLICT (job_id, idx) DO UPDATE SET result = excluded.result`,
      [id, index, JSON.stringify(result)],
    );
  }

  async chunks(id: string): Promise<Map<number, unknown>> {
    const { rows } = await this.db.query<{ idx: number; result: unknown }>(
      'SELECT idx, result FROM job_chunks WHERE job_id = $1',
      [id],
    );
    return new Map(rows.map((r) => [r.idx, r.result]));
  }

  async dropChunks(id: string): Promise<void> {
    await this.db.query('DELETE FROM job_chunks WHERE job_id = $1', [id]);
  }

  async dropEndedChunks(): Promise<void> {
    await this.db.query(
      `DELETE FROM job_chunks WHERE job_id IN (SELECT id FROM jobs WHERE state NOT IN ('queued', 'running'))`,
    );
  }

  async saveMapping(templateId: string, owner: string, columns: Record<string, string>): Promise<void> {
    await this.db.query(
      `INSERT INTO column_mappings (template_id, owner, columns, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (template_id, owner) DO UPDATE SET columns = excluded.columns, updated_at = excluded.updated_at`,
      [templateId, owner, JSON.stringify(columns), now()],
    );
  }

  async mapping(templateId: string, owner: string): Promise<Record<string, string> | null> {
    const { rows } = await this.db.query<{ columns: Record<string, string> }>(
      'SELECT columns FROM column_mappings WHERE template_id = $1 AND owner = $2',
      [templateId, owner],
    );
    return rows[0]?.columns ?? null;
  }
}
