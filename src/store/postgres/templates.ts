import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Problem } from '../../errors.js';
import { folderEntries } from '../../files.js';
import type { NewVersion, StoredVersion, TemplateStore, VersionState } from '../store.js';
import { type Db, now, transaction } from './db.js';

interface VersionRow {
  template_id: string;
  version: number;
  name: string;
  state: VersionState;
  manifest: unknown;
  report: Problem[];
  created_by: string;
  created_at: string;
  published_by: string | null;
  published_at: string | null;
  retired_by: string | null;
  retired_at: string | null;
  approved_by: string | null;
  approved_at: string | null;
}

const toVersion = (r: VersionRow): StoredVersion => ({
  templateId: r.template_id,
  version: r.version,
  name: r.name,
  state: r.state,
  manifest: r.manifest,
  report: r.report,
  createdBy: r.created_by,
  createdAt: r.created_at,
  publishedBy: r.published_by,
  publishedAt: r.published_at,
  retiredBy: r.retired_by,
  retiredAt: r.retired_at,
  approvedBy: r.approved_by,
  approvedAt: r.approved_at,
});

/**
 * Rows in PostgreSQL; each version's package a folder under `packagesDir`, on the staging folder's
 * file system, as the SQLite adapter keeps them.
 */
export class PostgresTemplateStore implements TemplateStore {
  constructor(
    private readonly db: Db,
    private readonly packagesDir: string,
  ) {}

  private dirOf(templateId: string, version: number): string {
    return join(this.packagesDir, templateId, String(version));
  }

  async packageDir(templateId: string, version: number): Promise<string> {
    return this.dirOf(templateId, version);
  }

  /**
   * The template's row is locked while its next version is numbered, the staged folder moved into
   * place and the version's row written: concurrent uploads of one template take turns. A commit
   * that fails leaves a folder without a row, which the sweep removes.
   */
  async addVersion(input: NewVersion): Promise<StoredVersion> {
    const id = input.templateId;
    return transaction(this.db, async (tx) => {
      const at = now();
      await tx.query('INSERT INTO templates (id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        id,
        at,
      ]);
      await tx.query('SELECT 1 FROM templates WHERE id = $1 FOR UPDATE', [id]);
      const { rows } = await tx.query<{ v: number }>(
        'SELECT coalesce(max(version), 0) + 1 AS v FROM template_versions WHERE template_id = $1',
        [id],
      );
      const v = rows[0]!.v;
      const target = this.dirOf(id, v);
      await mkdir(dirname(target), { recursive: true });
      // A folder already there has no row (v is past every stored version): a crash came between its
      // rename and the commit. It is replaced, not collided with.
      await rm(target, { recursive: true, force: true });
      await rename(input.stagedDir, target);
      try {
        const stored = await tx.query<VersionRow>(
          `INSERT INTO template_versions (template_id, version, name, state, manifest, report, created_by,
             created_at, published_by, published_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
          [
            id,
            v,
            input.name,
            input.state,
            JSON.stringify(input.manifest),
            JSON.stringify(input.report),
            input.createdBy,
            at,
            input.state === 'published' ? input.createdBy : null,
            input.state === 'published' ? at : null,
          ],
        );
        return toVersion(stored.rows[0]!);
      } catch (error) {
        await rm(target, { recursive: true, force: true });
        throw error;
      }
    });
  }

  /**
   * Removes package folders that have no version row (a crash between a package's rename and its
   * commit; see addVersion); returns their paths.
   */
  async sweep(): Promise<string[]> {
    const { rows } = await this.db.query<{ template_id: string; version: number }>(
      'SELECT template_id, version FROM template_versions',
    );
    const stored = new Set(rows.map((r) => join(r.template_id, String(r.version))));
    const removed: string[] = [];
    for (const id of await folderEntries(this.packagesDir)) {
      for (const version of await folderEntries(join(this.packagesDir, id))) {
        if (/^[1-9][0-9]*$/.test(version) && stored.has(join(id, version))) continue;
        await rm(join(this.packagesDir, id, version), { recursive: true, force: true });
        removed.push(join(this.packagesDir, id, version));
      }
    }
    return removed;
  }

  async get(templateId: string, version: number): Promise<StoredVersion | null> {
    const { rows } = await this.db.query<VersionRow>(
      'SELECT * FROM template_versions WHERE template_id = $1 AND version = $2',
      [templateId, version],
    );
    return rows[0] ? toVersion(rows[0]) : null;
  }

  async latestPublished(templateId: string): Promise<StoredVersion | null> {
    const { rows } = await this.db.query<VersionRow>(
      `SELECT * FROM template_versions WHERE template_id = $1 AND state = 'published'
       ORDER BY version DESC LIMIT 1`,
      [templateId],
    );
    return rows[0] ? toVersion(rows[0]) : null;
  }

  async versions(templateId: string): Promise<StoredVersion[]> {
    const { rows } = await this.db.query<VersionRow>(
      'SELECT * FROM template_versions WHERE template_id = $1 ORDER BY version',
      [templateId],
    );
    return rows.map(toVersion);
  }

  /** One query for every template's versions. */
  async list(): Promise<{ id: string; latest: StoredVersion; published: StoredVersion | null }[]> {
    const { rows } = await this.db.query<VersionRow>(
      'SELECT * FROM template_versions ORDER BY template_id COLLATE "C", version',
    );
    const templates = new Map<
      string,
      { id: string; latest: StoredVersion; published: StoredVersion | null }
    >();
    for (const version of rows.map(toVersion)) {
      const template = templates.get(version.templateId);
      const published = version.state === 'published' ? version : (template?.published ?? null);
      templates.set(version.templateId, { id: version.templateId, latest: version, published });
    }
    return [...templates.values()];
  }

  /** One UPDATE: of two at once, the second waits for the first's row and then finds nothing to change. */
  async setState(
    templateId: string,
    version: number,
    state: 'published' | 'retired',
    by: string,
  ): Promise<StoredVersion | null> {
    const sql =
      state === 'published'
        ? `UPDATE template_versions SET state = 'published', published_by = $1, published_at = $2,
             retired_by = NULL, retired_at = NULL
           WHERE template_id = $3 AND version = $4 AND state != 'published' RETURNING *`
        : `UPDATE template_versions SET state = 'retired', retired_by = $1, retired_at = $2
           WHERE template_id = $3 AND version = $4 AND state != 'retired' RETURNING *`;
    const { rows } = await this.db.query<VersionRow>(sql, [by, now(), templateId, version]);
    return rows[0] ? toVersion(rows[0]) : null;
  }

  async approve(templateId: string, version: number, by: string): Promise<StoredVersion | null> {
    const { rows } = await this.db.query<VersionRow>(
      `UPDATE template_versions SET approved_by = $1, approved_at = $2
       WHERE template_id = $3 AND version = $4 AND state = 'draft' AND approved_by IS NULL RETURNING *`,
      [by, now(), templateId, version],
    );
    return rows[0] ? toVersion(rows[0]) : null;
  }
}
