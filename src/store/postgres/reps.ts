import type { RepProfile, RepProfileUpdate, RepStore } from '../store.js';
import { type RepRow, toProfile } from '../rows.js';
import { type Db, now } from './db.js';

/** The column each field of an update is kept in. */
const COLUMNS: Record<keyof RepProfileUpdate, string> = {
  name: 'name',
  title: 'title',
  phone: 'phone',
  email: 'email',
  licenseNumber: 'license_number',
  photoSha256: 'photo_sha256',
};

export class PostgresRepStore implements RepStore {
  constructor(private readonly db: Db) {}

  async get(id: string): Promise<RepProfile | null> {
    const { rows } = await this.db.query<RepRow>('SELECT * FROM reps WHERE id = $1', [id]);
    return rows[0] ? toProfile(rows[0]) : null;
  }

  async ensure(id: string): Promise<RepProfile> {
    await this.db.query('INSERT INTO reps (id, updated_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      id,
      now(),
    ]);
    return (await this.get(id))!;
  }

  /** Sets only the fields given, so that two updates of different fields both stay. */
  async update(id: string, update: RepProfileUpdate): Promise<RepProfile> {
    const fields = (Object.keys(COLUMNS) as (keyof RepProfileUpdate)[]).filter(
      (f) => update[f] !== undefined,
    );
    const at = now();
    const { rows } = await this.db.query<RepRow>(
      `INSERT INTO reps (id, updated_at${fields.map((f) => `, ${COLUMNS[f]}`).join('')})
       VALUES ($1, $2${fields.map((_, i) => `, $${i + 3}`).join('')})
       ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at${fields
         .map((f) => `, ${COLUMNS[f]} = excluded.${COLUMNS[f]}`)
         .join('')}
       RETURNING *`,
      [id, at, ...fields.map((f) => update[f])],
    );
    return toProfile(rows[0]!);
  }

  async list(): Promise<RepProfile[]> {
    const { rows } = await this.db.query<RepRow>('SELECT * FROM reps ORDER BY id COLLATE "C"');
    return rows.map(toProfile);
  }
}
