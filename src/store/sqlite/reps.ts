import type { RepProfile, RepProfileUpdate, RepStore } from '../store.js';
import { type RepRow, toProfile } from '../rows.js';
import { type Db, now } from './db.js';

export class SqliteRepStore implements RepStore {
  constructor(private readonly db: Db) {}

  async get(id: string): Promise<RepProfile | null> {
    const row = this.db.prepare('SELECT * FROM reps WHERE id = ?').get(id) as RepRow | undefined;
    return row ? toProfile(row) : null;
  }

  async ensure(id: string): Promise<RepProfile> {
    this.db.prepare('INSERT OR IGNORE INTO reps (id, updated_at) VALUES (?, ?)').run(id, now());
    return (await this.get(id))!;
  }

  async update(id: string, update: RepProfileUpdate): Promise<RepProfile> {
    const current = await this.ensure(id);
    const next = { ...current, ...update, updatedAt: now() };
    this.db
      .prepare(
        `UPDATE reps SET name = @name, title = @title, phone = @phone, email = @email,
         license_number = @licenseNumber, photo_sha256 = @photoSha256, updated_at = @updatedAt WHERE id = @id`,
      )
      .run(next);
    return next;
  }

  async list(): Promise<RepProfile[]> {
    return (this.db.prepare('SELECT * FROM reps ORDER BY id').all() as RepRow[]).map(toProfile);
  }
}
