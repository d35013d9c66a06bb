import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ChunkKind, ChunkResult } from '../jobs/chunk.js';
import type { SheetSize } from '../pdf/impose.js';
import type { RepDetails } from '../service/render.js';
import { type Db, now } from './db.js';

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** What a job needs to run again from its input after a restart: fixed when it is created. */
export interface JobSpec {
  /** CSV header → prospect input overrides. */
  map: Record<string, string>;
  /**
   * The rep on every piece (or on rows that name none, with a rep column): their profile as it was
   * when the job was created; null when every row must name its rep.
   */
  rep: RepDetails | null;
  /** Who `rep` is (kept to run a job's rejected rows again). */
  repId?: string | null;
  /** A rep column: its header, and the profiles its rows name, as they were when the job was created. */
  reps?: { column: string; profiles: Record<string, RepDetails> };
  /** Only these rows of the list: a job's rejected rows, run again as corrected. */
  onlyRows?: number[];
  /** Print set-up asked for: marks on every piece; imposition on sheets of this size (points). */
  marks?: boolean;
  impose?: SheetSize;
  chunkRows: number;
}

export interface Job {
  id: string;
  keyId: string;
  repId: string | null;
  templateId: string;
  version: number;
  kind: ChunkKind;
  state: JobState;
  spec: JobSpec;
  total: number | null;
  done: number;
  rendered: number;
  rejected: number;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

interface JobRow {
  id: string;
  key_id: string;
  rep_id: string | null;
  template_id: string;
  version: number;
  kind: ChunkKind;
  state: JobState;
  spec: string;
  total: number | null;
  done: number;
  rendered: number;
  rejected: number;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

const toJob = (r: JobRow): Job => ({
  id: r.id,
  keyId: r.key_id,
  repId: r.rep_id,
  templateId: r.template_id,
  version: r.version,
  kind: r.kind,
  state: r.state,
  spec: JSON.parse(r.spec) as JobSpec,
  total: r.total,
  done: r.done,
  rendered: r.rendered,
  rejected: r.rejected,
  error: r.error,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

/** A new job's id: given before its row is stored, so that its files can be in place first. */
export function newJobId(): string {
  return randomBytes(8).toString('hex');
}

/** Batch jobs and their finished chunks: job state lives here, not in process memory. */
export class JobStore {
  constructor(private readonly db: Db) {}

  /** Stores a new job, queued, under an id from newJobId(). */
  create(
    input: Pick<Job, 'id' | 'keyId' | 'repId' | 'templateId' | 'version' | 'kind' | 'spec' | 'total'>,
  ): Job {
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
    return this.get(id)!;
  }

  get(id: string): Job | null {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  list(filter: { repId?: string; limit: number }): Job[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM jobs WHERE (@repId IS NULL OR rep_id = @repId) ORDER BY created_at DESC, id LIMIT @limit`,
      )
      .all({ repId: filter.repId ?? null, limit: filter.limit }) as JobRow[];
    return rows.map(toJob);
  }

  /** Jobs a restart must pick up again. */
  unfinished(): Job[] {
    const rows = this.db
      .prepare(`SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY created_at, id`)
      .all() as JobRow[];
    return rows.map(toJob);
  }

  started(id: string): void {
    this.db
      .prepare(`UPDATE jobs SET state = 'running', started_at = coalesce(started_at, ?) WHERE id = ?`)
      .run(now(), id);
  }

  progress(id: string, p: { done: number; rendered: number; rejected: number }): void {
    this.db
      .prepare('UPDATE jobs SET done = ?, rendered = ?, rejected = ? WHERE id = ?')
      .run(p.done, p.rendered, p.rejected, id);
  }

  /** Ends a job that is still queued or running; false when it had ended already (say, cancelled). */
  finish(id: string, state: Exclude<JobState, 'queued' | 'running'>, error: string | null = null): boolean {
    return (
      this.db
        .prepare(
          `UPDATE jobs SET state = ?, error = ?, finished_at = ? WHERE id = ? AND state IN ('queued', 'running')`,
        )
        .run(state, error, now(), id).changes === 1
    );
  }

  saveChunk(id: string, result: ChunkResult): void {
    this.db
      .prepare('INSERT OR REPLACE INTO job_chunks (job_id, idx, result) VALUES (?, ?, ?)')
      .run(id, result.index, JSON.stringify(result));
  }

  /**
   * A job's checkpoints, as this build writes them. One that an earlier build saved without a field
   * this build needs (a rejected row's cells, a ZIP file's CRC) is left out: its chunk is drawn again.
   */
  chunks(id: string): Map<number, ChunkResult> {
    const rows = this.db.prepare('SELECT idx, result FROM job_chunks WHERE job_id = ?').all(id) as {
      idx: number;
      result: string;
    }[];
    return new Map(
      rows.flatMap((r) => {
        const saved = savedChunk.safeParse(JSON.parse(r.result));
        return saved.success ? [[r.idx, saved.data]] : [];
      }),
    );
  }

  /** Finished jobs need their chunks no more: the output holds them. */
  dropChunks(id: string): void {
    this.db.prepare('DELETE FROM job_chunks WHERE job_id = ?').run(id);
  }

  /** The chunks of every ended job: those a crash (or a full disk) kept from being dropped. */
  dropEndedChunks(): void {
    this.db
      .prepare(
        `DELETE FROM job_chunks WHERE job_id IN (SELECT id FROM jobs WHERE state NOT IN ('queued', 'running'))`,
      )
      .run();
  }
}

const count = z.number().int().nonnegative();
/** ChunkResult (jobs/chunk.ts), as a checkpoint holds it. */
const savedChunk: z.ZodType<ChunkResult> = z.object({
  index: count,
  rendered: count,
  pages: count,
  rejected: z.array(
    z.object({
      row: count,
      line: count,
      problems: z.array(z.looseObject({ path: z.string(), rule: z.string(), message: z.string() })),
      cells: z.array(z.object({ column: z.string(), value: z.string() })),
    }),
  ),
  files: z.array(z.object({ row: count, name: z.string().nullable(), bytes: count, crc32: count })),
  part: z.string().nullable(),
});
