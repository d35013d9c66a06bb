import type { NewVersion, ObjectStore, StoredVersion, TemplateStore } from '../store.js';
import { NEW_VERSION_COLUMNS, newVersionValues, POSTGRES, versionReader, type VersionRow } from '../rows.js';
import { packagePrefix, sweepPackages } from '../packages.js';
import { type Db, now, transaction } from './db.js';

const toVersion = versionReader(POSTGRES);

/**
 * Rows in PostgreSQL; each version's package the objects under `packages/<template>/<version>/`, as
 * the SQLite adapter keeps them.
 */
export class PostgresTemplateStore implements TemplateStore {
  constructor(
    private readonly db: Db,
    private readonly objects: ObjectStore,
  ) {}

  async packageDir(templateId: string, version: number): Promise<string> {
    return this.objects.localFolder(packagePrefix(templateId, version));
  }

  /**
   * The template's row is locked while its next version is numbered, the package stored and the
   * version's row written: concurrent uploads of one template, on any node, take turns. A commit
   * that fails leaves a package without a row, which the sweep removes.
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
      const prefix = packagePrefix(id, v);
      // Objects already there have no row (v is past every stored version): a crash came between
      // storing them and the commit. They are replaced.
      await this.objects.putFolder(prefix, input.stagedDir);
      try {
        const stored = await tx.query<VersionRow<'postgres'>>(
          `INSERT INTO template_versions (${NEW_VERSION_COLUMNS})
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
          newVersionValues(input, v, at),
        );
        return toVersion(stored.rows[0]!);
      } catch (error) {
        await this.objects.deleteAll(prefix);
        throw error;
      }
    });
  }

  /** Removes packages without a row (see addVersion). */
  async sweep(writtenBefore: number): Promise<string[]> {
    const { rows } = await this.db.query<{ template_id: string; version: number }>(
      'SELECT template_id, version FROM template_versions',
    );
    const stored = new Set(rows.map((r) => packagePrefix(r.template_id, r.version)));
    return sweepPackages(this.objects, writtenBefore, (id, version) =>
      stored.has(packagePrefix(id, version)),
    );
  }

  async get(templateId: string, version: number): Promise<StoredVersion | null> {
    const { rows } = await this.db.query<VersionRow<'postgres'>>(
      'SELECT * FROM template_versions WHERE template_id = $1 AND version = $2',
      [templateId, version],
    );
    return rows[0] ? toVersion(rows[0]) : null;
  }

  async latestPublished(templateId: string): Promise<StoredVersion | null> {
    const { rows } = await this.db.query<VersionRow<'postgres'>>(
      `SELECT * FROM template_versions WHERE template_id = $1 AND state = 'published'
       ORDER BY version DESC LIMIT 1`,
      [templateId],
    );
    return rows[0] ? toVersion(rows[0]) : null;
  }

  async versions(templateId: string): Promise<StoredVersion[]> {
    const { rows } = await this.db.query<VersionRow<'postgres'>>(
      'SELECT * FROM template_versions WHERE template_id = $1 ORDER BY version',
      [templateId],
    );
    return rows.map(toVersion);
  }

  /** One query for every template's versions. */
  async list(): Promise<{ id: string; latest: StoredVersion; published: StoredVersion | null }[]> {
    const { rows } = await this.db.query<VersionRow<'postgres'>>(
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
    const { rows } = await this.db.query<VersionRow<'postgres'>>(sql, [by, now(), templateId, version]);
    return rows[0] ? toVersion(rows[0]) : null;
  }

  async approve(templateId: string, version: number, by: string): Promise<StoredVersion | null> {
    const { rows } = await this.db.query<VersionRow<'postgres'>>(
      `UPDATE template_versions SET approved_by = $1, approved_at = $2
       WHERE template_id = $3 AND version = $4 AND state = 'draft' AND approved_by IS NULL RETURNING *`,
      [by, now(), templateId, version],
    );
    return rows[0] ? toVersion(rows[0]) : null;
  }
}
