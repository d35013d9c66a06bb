import type { SettingsStore } from '../store.js';
import { type Db, now } from './db.js';

export class SqliteSettingsStore implements SettingsStore {
  constructor(private readonly db: Db) {}

  async all(): Promise<Record<string, unknown>> {
    const rows = this.db.prepare('SELECT name, value FROM settings').all() as {
      name: string;
      value: string;
    }[];
    return Object.fromEntries(rows.map((r) => [r.name, JSON.parse(r.value) as unknown]));
  }

  async set(values: Record<string, unknown>, by: string): Promise<void> {
    const upsert = this.db.prepare(
      `INSERT INTO settings (name, value, updated_by, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by,
       updated_at = excluded.updated_at`,
    );
    const at = now();
    this.db.transaction(() => {
      for (const [name, value] of Object.entries(values)) upsert.run(name, JSON.stringify(value), by, at);
    })();
  }
}
