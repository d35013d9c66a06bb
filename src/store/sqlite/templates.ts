import type { NewVersion, ObjectStore, StoredVersion, TemplateStore } from '../store.js';
import { NEW_VERSION_COLUMNS, newVersionValues, SQLITE, versionReader, type VersionRow } from '../rows.js';
import { packagePrefix, sweepPackages } from '../packages.js';
import { type Db, now } from './db.js';

const toVersion = versionReader(SQLITE);

/**
 * Rows in SQLite; each version's package the objects under `packages/<template>/<version>/` (local
 * folders by default, see LocalObjectStore).
 */
export class SqliteTemplateStore implements TemplateStore {
  /** Versions are added one at a time: a version's number is taken before its package is stored. */
  private adding: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly objects: ObjectStore,
  ) {}

  async packageDir(templateId: string, version: number): Promise<string> {
    return this.objects.localFolder(packagePrefix(templateId, version));
  }

  addVersion(input: NewVersion): Promise<StoredVersion> {
    const added = this.adding.then(() => this.add(input));
    this.adding = added.catch(() => undefined);
    return added;
  }

  /** The package is stored first, then the row: a crash between the two leaves objects sweep removes. */
  private async add(input: NewVersion): Promise<StoredVersion> {
    const id = input.templateId;
    const { v } = this.db
      .prepare('SELECT coalesce(max(version), 0) + 1 AS v FROM template_versions WHERE template_id = ?')
      .get(id) as { v: number };
    const prefix = packagePrefix(id, v);
    // Objects already there have no row (v is past every stored version): a crash came between
    // storing them and the row. They are replaced.
    await this.objects.putFolder(prefix, input.stagedDir);
    const at = now();
    try {
      this.db.transaction(() => {
        this.db.prepare('INSERT OR IGNORE INTO templates (id, created_at) VALUES (?, ?)').run(id, at);
        this.db
          .prepare(
            `INSERT INTO template_versions (${NEW_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(...newVersionValues(input, v, at));
      })();
    } catch (error) {
      await this.objects.deleteAll(prefix);
      throw error;
    }
    return this.row(id, v)!;
  }

  /** Removes packages without a row (see add). */
  async sweep(writtenBefore: number): Promise<string[]> {
    const has = this.db.prepare('SELECT 1 FROM template_versions WHERE template_id = ? AND version = ?');
    return sweepPackages(this.objects, writtenBefore, (id, version) => has.get(id, version) !== undefined);
  }

  async get(templateId: string, version: number): Promise<StoredVersion | null> {
    return this.row(templateId, version);
  }

  private row(templateId: string, version: number): StoredVersion | null {
    const row = this.db
      .prepare('SELECT * FROM template_versions WHERE template_id = ? AND version = ?')
      .get(templateId, version) as VersionRow<'sqlite'> | undefined;
    return row ? toVersion(row) : null;
  }

  async latestPublished(templateId: string): Promise<StoredVersion | null> {
    const row = this.db
      .prepare(
        "SELECT * FROM template_versions WHERE template_id = ? AND state = 'published' ORDER BY version DESC LIMIT 1",
      )
      .get(templateId) as VersionRow<'sqlite'> | undefined;
    return row ? toVersion(row) : null;
  }

  async versions(templateId: string): Promise<StoredVersion[]> {
    return this.all(templateId);
  }

  private all(templateId: string): StoredVersion[] {
    return (
      this.db
        .prepare('SELECT * FROM template_versions WHERE template_id = ? ORDER BY version')
        .all(templateId) as VersionRow<'sqlite'>[]
    ).map(toVersion);
  }

  async list(): Promise<{ id: string; latest: StoredVersion; published: StoredVersion | null }[]> {
    const ids = this.db.prepare('SELECT id FROM templates ORDER BY id').all() as { id: string }[];
    return ids.map(({ id }) => {
      const all = this.all(id);
      const published = [...all].reverse().find((v) => v.state === 'published') ?? null;
      return { id, latest: all.at(-1)!, published };
    });
  }

  async setState(
    templateId: string,
    version: number,
    state: 'published' | 'retired',
    by: string,
  ): Promise<StoredVersion | null> {
    const at = now();
    const sql =
      state === 'published'
        ? `UPDATE template_versions SET state = 'published', published_by = ?, published_at = ?, retired_by = NULL,
           retired_at = NULL WHERE template_id = ? AND version = ? AND state != 'published'`
        : `UPDATE template_versions SET state = 'retired', retired_by = ?, retired_at = ?
           WHERE template_id = ? AND version = ? AND state != 'retired'`;
    const changes = this.db.prepare(sql).run(by, at, templateId, version).changes;
    return changes > 0 ? this.row(templateId, version) : null;
  }

  async approve(templateId: string, version: number, by: string): Promise<StoredVersion | null> {
    const changes = this.db
      .prepare(
        `UPDATE template_versions SET approved_by = ?, approved_at = ?
         WHERE template_id = ? AND version = ? AND state = 'draft' AND approved_by IS NULL`,
      )
      .run(by, now(), templateId, version).changes;
    return changes > 0 ? this.row(templateId, version) : null;
  }
}
