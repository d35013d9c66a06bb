/** Where the store's rows live: PostgreSQL at a postgres:// address when one is given, else SQLite. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { configProblems } from '../support/config.js';

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
      expect(configProblems({ PLATEN_DATABASE_URL: url })).toEqual([
        'PLATEN_DATABASE_URL: expected a postgres:// address, such as postgres://user:password@host:5432/platen',
      ]);
    }
  });
});
