import type { RepProfile, RepProfileUpdate, RepStore } from '../store.js';
import { type Db, now } from './db.js';

interface RepRow {
  id: string;
  name: string;
  title: string;
  phone: string;
  email: string;
  license_number: string;
  photo_sha256: string | null;
  updated_at: string;
}

const toProfile = (r: RepRow): RepProfile => ({
  id: r.id,
  name: r.name,
  title: r.title,
  phone: r.phone,
  email: r.email,
  licenseNumber: r.license_number,
  photoSha256: r.photo_sha256,
  updatedAt: r.updated_at,
});

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
