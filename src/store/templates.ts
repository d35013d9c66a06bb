import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Problem } from '../errors.js';
import { folderEntries } from '../files.js';
import type { Manifest } from '../model/manifest.js';
import { type Db, now } from './db.js';

export type VersionState = 'draft' | 'published' | 'retired';

/** One immutable version of a template: its package folder never changes after it is stored. */
export interface TemplateVersion {
  templateId: string;
  version: number;
  name: string;
  state: VersionState;
  manifest: Manifest;
  /** Validation problems found when the version was stored (a draft may have some; published ones none). */
  report: Problem[];
  createdBy: string;
  createdAt: string;
  publishedBy: string | null;
  publishedAt: string | null;
  retiredBy: string | null;
  retiredAt: string | null;
}

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
}

const toVersion = (r: VersionRow): TemplateVersion => ({
  templateId: r.template_id,
  version: r.version,
  name: r.name,
  state: r.state,
  manifest: JSON.parse(r.manifest) as Manifest,
  report: JSON.parse(r.report) as Problem[],
  createdBy: r.created_by,
  createdAt: r.created_at,
  publishedBy: r.published_by,
  publishedAt: r.published_at,
  retiredBy: r.retired_by,
  retiredAt: r.retired_at,
});

export class TemplateStore {
  constructor(
    private readonly db: Db,
    private readonly packagesDir: string,
  ) {}

  packageDir(templateId: string, version: number): string {
    return join(this.packagesDir, templateId, String(version));
  }

  /**
   * Stores a validated package (already unpacked in `stagedDir`, on the same file system) as the next
   * version of its template: the folder is moved into place and the row written in one transaction.
   */
  addVersion(input: {
    stagedDir: string;
    manifest: Manifest;
    report: Problem[];
    createdBy: string;
    state: VersionState;
  }): TemplateVersion {
    const id = input.manifest.id;
    return this.db.transaction(() => {
      this.db.prepare('INSERT OR IGNORE INTO templates (id, created_at) VALUES (?, ?)').run(id, now());
      const { v } = this.db
        .prepare('SELECT coalesce(max(version), 0) + 1 AS v FROM template_versions WHERE template_id = ?')
        .get(id) as {
        v: number;
      };
      const target = this.packageDir(id, v);
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
            input.manifest.name,
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
      return this.get(id, v)!;
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

  get(templateId: string, version: number): TemplateVersion | null {
    const row = this.db
      .prepare('SELECT * FROM template_versions WHERE template_id = ? AND version = ?')
      .get(templateId, version) as VersionRow | undefined;
    return row ? toVersion(row) : null;
  }

  latestPublished(templateId: string): TemplateVersion | null {
    const row = this.db
      .prepare(
        "SELECT * FROM template_versions WHERE template_id = ? AND state = 'published' ORDER BY version DESC LIMIT 1",
      )
      .get(templateId) as VersionRow | undefined;
    return row ? toVersion(row) : null;
  }

  versions(templateId: string): TemplateVersion[] {
    return (
      this.db
        .prepare('SELECT * FROM template_versions WHERE template_id = ? ORDER BY version')
        .all(templateId) as VersionRow[]
    ).map(toVersion);
  }

  /** Every template with its latest version (any state) and latest published version, if any. */
  list(): { id: string; latest: TemplateVersion; published: TemplateVersion | null }[] {
    const ids = this.db.prepare('SELECT id FROM templates ORDER BY id').all() as { id: string }[];
    return ids.map(({ id }) => {
      const all = this.versions(id);
      const published = [...all].reverse().find((v) => v.state === 'published') ?? null;
      return { id, latest: all.at(-1)!, published };
    });
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM templates').get() as { n: number }).n;
  }

  /**
   * Moves a version into a state it is not already in, atomically: of two concurrent publishes, one
   * wins. Publishing a retired version again clears its retirement. Returns null when the version
   * does not exist or is already in that state.
   */
  setState(
    templateId: string,
    version: number,
    state: 'published' | 'retired',
    by: string,
  ): TemplateVersion | null {
    const at = now();
    const sql =
      state === 'published'
        ? `UPDATE template_versions SET state = 'published', published_by = ?, published_at = ?, retired_by = NULL,
           retired_at = NULL WHERE template_id = ? AND version = ? AND state != 'published'`
        : `UPDATE template_versions SET state = 'retired', retired_by = ?, retired_at = ?
           WHERE template_id = ? AND version = ? AND state != 'retired'`;
    const changes = this.db.prepare(sql).run(by, at, templateId, version).changes;
    return changes > 0 ? this.get(templateId, version) : null;
  }
}
