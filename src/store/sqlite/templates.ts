import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Problem } from '../../errors.js';
import { folderEntries } from '../../files.js';
import type { NewVersion, StoredVersion, TemplateStore, VersionState } from '../store.js';
import { type Db, now } from './db.js';

interface VersionRow {
  template_id: string;
  version: number;
  name: string;
  state: VersionState;
  manifest: string;
  report: string;
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
  manifest: JSON.parse(r.manifest) as unknown,
  report: JSON.parse(r.report) as Problem[],
  createdBy: r.created_by,
  createdAt: r.created_at,
  publishedBy: r.published_by,
  publishedAt: r.published_at,
  retiredBy: r.retired_by,
  retiredAt: r.retired_at,
  approvedBy: r.approved_by,
  approvedAt: r.approved_at,
});

/** Rows in SQLite; each version's package a folder under `packagesDir`, on the staging folder's file system. */
export class SqliteTemplateStore implements TemplateStore {
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

  /** The staged folder is moved into place and the row written in one transaction. */
  async addVersion(input: NewVersion): Promise<StoredVersion> {
    const id = input.templateId;
    return this.db.transaction(() => {
      this.db.prepare('INSERT OR IGNORE INTO templates (id, created_at) VALUES (?, ?)').run(id, now());
      const { v } = this.db
        .prepare('SELECT coalesce(max(version), 0) + 1 AS v FROM template_versions WHERE template_id = ?')
        .get(id) as {
        v: number;
      };
      const target = this.dirOf(id, v);
      mkdirSync(dirname(target), { recursive: true });
      // A folder already there has no row (v is past every stored version): a crash came between its
      // rename and the commit. It is replaced, not collided with.
      rmSync(target, { recursive: true, force: true });
      renameSync(input.stagedDir, target);
      const at = now();
      try {
        this.db
          .prepare(
            `INSERT INTO template_versions (template_id, version, name, state, manifest, report, created_by, created_at,
             published_by, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
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
          );
      } catch (error) {
        rmSync(target, { recursive: true, force: true });
        throw error;
      }
      return this.row(id, v)!;
    })();
  }

  /**
   * Removes package folders that have no version row (a crash between a package's rename and its
   * commit; see addVersion); returns their paths.
   */
  async sweep(): Promise<string[]> {
    const removed: string[] = [];
    const has = this.db.prepare('SELECT 1 FROM template_versions WHERE template_id = ? AND version = ?');
    for (const id of await folderEntries(this.packagesDir)) {
      for (const version of await folderEntries(join(this.packagesDir, id))) {
        if (/^[1-9][0-9]*$/.test(version) && has.get(id, Number(version))) continue;
        await rm(join(this.packagesDir, id, version), { recursive: true, force: true });
        removed.push(join(this.packagesDir, id, version));
      }
    }
    return removed;
  }

  async get(templateId: string, version: number): Promise<StoredVersion | null> {
    return this.row(templateId, version);
  }

  private row(templateId: string, version: number): StoredVersion | null {
    const row = this.db
      .prepare('SELECT * FROM template_versions WHERE template_id = ? AND version = ?')
      .get(templateId, version) as VersionRow | undefined;
    return row ? toVersion(row) : null;
  }

  async latestPublished(templateId: string): Promise<StoredVersion | null> {
    const row = this.db
      .prepare(
        "SELECT * FROM template_versions WHERE template_id = ? AND state = 'published' ORDER BY version DESC LIMIT 1",
      )
      .get(templateId) as VersionRow | undefined;
    return row ? toVersion(row) : null;
  }

  async versions(templateId: string): Promise<StoredVersion[]> {
    return this.all(templateId);
  }

  private all(templateId: string): StoredVersion[] {
    return (
      this.db
        .prepare('SELECT * FROM template_versions WHERE template_id = ? ORDER BY version')
        .all(templateId) as VersionRow[]
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
