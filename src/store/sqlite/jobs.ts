import type { Job, JobState, JobStore } from '../store.js';
import { jobReader, type JobRow, SQLITE } from '../rows.js';
import { type Db, now } from './db.js';

const toJob = jobReader(SQLITE);

export class SqliteJobStore implements JobStore {
  constructor(private readonly db: Db) {}

  async create(
    input: Pick<Job, 'id' | 'keyId' | 'repId' | 'templateId' | 'version' | 'kind' | 'spec' | 'total'>,
  ): Promise<Job> {
    const { id } = input;
    this.db
      .prepare(
        `INSERT INTO jobs (id, key_id, rep_id, template_id, version, kind, state, spec, total, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`,
      )
      .run(
        id,
        input.keyId,
        input.repId,
        input.templateId,
        input.version,
        input.kind,
        JSON.stringify(input.spec),
        input.total,
        now(),
      );
    return this.row(id)!;
  }

  async get(id: string): Promise<Job | null> {
    return this.row(id);
  }

  private row(id: string): Job | null {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow<'sqlite'> | undefined;
    return row ? toJob(row) : null;
  }

  async list(filter: { repId?: string; withoutChecks?: boolean; limit: number }): Promise<Job[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM jobs WHERE (@repId IS NULL OR rep_id = @repId) AND (@withoutChecks = 0 OR kind != 'check')
         ORDER BY created_at DESC, id LIMIT @limit`,
      )
      .all({
        repId: filter.repId ?? null,
        withoutChecks: filter.withoutChecks ? 1 : 0,
        limit: filter.limit,
      }) as JobRow<'sqlite'>[];
    return rows.map(toJob);
  }

  async unfinished(): Promise<Job[]> {
    const rows = this.db
      .prepare(`SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY created_at, id`)
      .all() as JobRow<'sqlite'>[];
    return rows.map(toJob);
  }

  async claim(id: string, node: string, leaseMs: number, dead?: string): Promise<boolean> {
    const at = Date.now();
    const { changes } = this.db
      .prepare(
        `UPDATE jobs SET owner = ?, lease_expires_at = ?
         WHERE id = ? AND state IN ('queued', 'running')
           AND (owner IS NULL OR owner = ? OR lease_expires_at < ? OR owner = ?)`,
      )
      .run(node, at + leaseMs, id, node, at, dead ?? null);
    return changes === 1;
  }

  async renew(node: string, leaseMs: number): Promise<string[]> {
    const rows = this.db
      .prepare(
        `UPDATE jobs SET lease_expires_at = ? WHERE owner = ? AND state IN ('queued', 'running') RETURNING id`,
      )
      .all(Date.now() + leaseMs, node) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async release(node: string): Promise<void> {
    this.db.prepare('UPDATE jobs SET owner = NULL, lease_expires_at = NULL WHERE owner = ?').run(node);
  }

  async started(id: string): Promise<void> {
    this.db
      .prepare(`UPDATE jobs SET state = 'running', started_at = coalesce(started_at, ?) WHERE id = ?`)
      .run(now(), id);
  }

  async progress(
    id: string,
    p: { done: number; rendered: number; rejected: number; heldOut: number },
  ): Promise<void> {
    this.db
      .prepare('UPDATE jobs SET done = ?, rendered = ?, rejected = ?, held_out = ? WHERE id = ?')
      .run(p.done, p.rendered, p.rejected, p.heldOut, id);
  }

  async finish(
    id: string,
    state: Exclude<JobState, 'queued' | 'running'>,
    error: string | null = null,
  ): Promise<boolean> {
    return (
      this.db
        .prepare(
          `UPDATE jobs SET state = ?, error = ?, finished_at = ? WHERE id = ? AND state IN ('queued', 'running')`,
        )
        .run(state, error, now(), id).changes === 1
    );
  }

  async saveChunk(id: string, index: number, result: unknown): Promise<void> {
    this.db
      .prepare('INSERT OR REPLACE INTO job_chunks (job_id, idx, result) VALUES (?, ?, ?)')
      .run(id, index, JSON.stringify(result));
  }

  async chunks(id: string): Promise<Map<number, unknown>> {
    const rows = this.db.prepare('SELECT idx, result FROM job_chunks WHERE job_id = ?').all(id) as {
      idx: number;
      result: string;
    }[];
    return new Map(rows.map((r) => [r.idx, JSON.parse(r.result) as unknown]));
  }

  async dropChunks(id: string): Promise<void> {
    this.db.prepare('DELETE FROM job_chunks WHERE job_id = ?').run(id);
  }

  async dropEndedChunks(): Promise<void> {
    this.db
      .prepare(
        `DELETE FROM job_chunks WHERE job_id IN (SELECT id FROM jobs WHERE state NOT IN ('queued', 'running'))`,
      )
      .run();
  }

  async saveMapping(templateId: string, owner: string, columns: Record<string, string>): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO column_mappings (template_id, owner, columns, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (template_id, owner) DO UPDATE SET columns = excluded.columns, updated_at = excluded.updated_at`,
      )
      .run(templateId, owner, JSON.stringify(columns), now());
  }

  async mapping(templateId: string, owner: string): Promise<Record<string, string> | null> {
    const row = this.db
      .prepare(`SELECT columns FROM column_mappings WHERE template_id = ? AND owner = ?`)
      .get(templateId, owner) as { columns: string } | undefined;
    return row ? (JSON.parse(row.columns) as Record<string, string>) : null;
  }
}
