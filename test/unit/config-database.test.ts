/** Where the store's rows live: PostgreSQL at a postgres:// address when one is given, else SQLite. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { PlatenError } from '../../src/errors.js';

describe('the database configuration', () => {
  it('is SQLite in the data directory without PLATEN_DATABASE_URL', () => {
    expect(loadConfig({}).databaseUrl).toBeNull();
  });

  it('takes a postgres:// or postgresql:// address', () => {
    for (const url of ['postgres://platen:secret@db.internal:5432/platen', 'postgresql://localhost/platen']) {
      expect(loadConfig({ PLATEN_DATABASE_URL: url }).databaseUrl).toBe(url);
    }
  });

  it('refuses anything else, saying what it expects', () => {
    for (const url of ['mysql://db.internal/platen', 'db.internal:5432/platen', '']) {
      let problems: string[] = [];
      try {
        loadConfig({ PLATEN_DATABASE_URL: url });
      } catch (error) {
        expect(error).toBeInstanceOf(PlatenError);
        problems = (error as PlatenError).problems.map((p) => `${p.path}: ${p.message}`);
      }
      expect(problems).toEqual([
        'PLATEN_DATABASE_URL: expected a postgres:// address, such as postgres://user:password@host:5432/platen',
      ]);
    }
  });
});
