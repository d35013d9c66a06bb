import { type Db, now } from './db.js';

/** A rep's own details: the only source of the `rep` part of every record they render. */
export interface RepProfile {
  id: string;
  name: string;
  title: string;
  phone: string;
  email: string;
  licenseNumber: string;
  photoSha256: string | null;
  updatedAt: string;
}

export type RepProfileUpdate = Partial<Omit<RepProfile, 'id' | 'updatedAt'>>;

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

export class RepStore {
  constructor(private readonly db: Db) {}

  get(id: string): RepProfile | null {
    const row = this.db.prepare('SELECT * FROM reps WHERE id = ?').get(id) as RepRow | undefined;
    return row ? toProfile(row) : null;
  }

  /** Creates the profile if needed (empty), so a rep key always has one. */
  ensure(id: string): RepProfile {
    this.db.prepare('INSERT OR IGNORE INTO reps (id, updated_at) VALUES (?, ?)').run(id, now());
    return this.get(id)!;
  }

  update(id: string, update: RepProfileUpdate): RepProfile {
    const current = this.ensure(id);
    const next = { ...current, ...update, updatedAt: now() };
    this.db
      .prepare(
        `UPDATE reps SET name = @name, title = @title, phone = @phone, email = @email,
         license_number = @licenseNumber, photo_sha256 = @photoSha256, updated_at = @updatedAt WHERE id = @id`,
      )
      .run(next);
    return next;
  }

  list(): RepProfile[] {
    return (this.db.prepare('SELECT * FROM reps ORDER BY id').all() as RepRow[]).map(toProfile);
  }
}
