import type { SettingsStore } from '../store.js';
import { type Db, now } from './db.js';

export class PostgresSettingsStore implements SettingsStore {
  constructor(private readonly db: Db) {}

  async all(): Promise<Record<string, unknown>> {
    const { rows } = await this.db.query<{ name: string; value: unknown }>(
      'SELECT name, value FROM settings',
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  }

  /** One statement for every value given. */
  async set(values: Record<string, unknown>, by: string): Promise<void> {
    const entries = Object.entries(values);
    await this.db.query(
      `INSERT INTO settings (name, value, updated_by, updated_at)
       SELECT name, value::json, $3, $4 FROM unnest($1::text[], $2::text[]) AS given(name, value)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by,
         updated_at = excluded.updated_at`,
      [entries.map(([name]) => name), entries.map(([, value]) => JSON.stringify(value)), by, now()],
    );
  }
}
