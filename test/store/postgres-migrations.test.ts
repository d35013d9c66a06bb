/**
 * PostgreSQL's migrations: applied once, recorded by version, not run again on the next open, safe
 * when two nodes open a new database at once, and refused by a Platen older than the database.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../../src/store/local-blobs.js';
import { LocalObjectStore } from '../../src/store/local-objects.js';
import { PostgresStore } from '../../src/store/postgres/store.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const databases: TestDatabase[] = [];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'platen-migrations-'));
});
afterAll(async () => {
  for (const database of databases) await database.drop();
  await rm(dir, { recursive: true, force: true });
});

async function fresh(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  databases.push(database);
  return database;
}

const open = (database: TestDatabase) =>
  PostgresStore.open(database.url, new LocalBlobStore(path.join(dir, 'blobs')), new LocalObjectStore(dir));

/** The versions a database records, with when each was applied. */
const applied = (database: TestDatabase) =>
  database.query<{ version: number; applied_at: Date }>(
    'SELECT version, applied_at FROM schema_migrations ORDER BY version',
  );

/** 1, 2, … n: every version once, in order. */
const consecutive = (versions: number[]) => versions.every((v, i) => v === i + 1) && versions.length > 0;

describe('PostgreSQL migrations', () => {
  it('run once on a new database, and not again when it is opened again', async () => {
    const database = await fresh();
    const store = await open(database);
    await store.settings.set({ retentionDays: 90 }, 'Ada');
    await store.close();
    const first = await applied(database);
    expect(consecutive(first.map((m) => m.version))).toBe(true);

    const reopened = await open(database);
    expect(await reopened.settings.all()).toEqual({ retentionDays: 90 });
    await reopened.close();
    expect(await applied(database)).toEqual(first);
  });

  it('are applied once when two nodes open a new database at the same time', async () => {
    const database = await fresh();
    const stores = await Promise.all([open(database), open(database), open(database)]);
    expect(await Promise.all(stores.map((s) => s.pieces.reserve(1)))).toHaveLength(3);
    for (const store of stores) await store.close();
    const versions = (await applied(database)).map((m) => m.version);
    expect(consecutive(versions)).toBe(true);
  });

  it('refuse a database a newer Platen has migrated further', async () => {
    const database = await fresh();
    await (await open(database)).close();
    const latest = (await applied(database)).at(-1)!.version;
    await database.query('INSERT INTO schema_migrations (version) VALUES ($1)', [latest + 1]);
    await expect(open(database)).rejects.toThrow(
      `database is at schema version ${latest + 1}, newer than this Platen (${latest})`,
    );
  });
});
