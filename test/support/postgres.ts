/**
 * Throwaway PostgreSQL databases for tests, on the server `PLATEN_TEST_POSTGRES_URL` names (a
 * superuser's URL: `eval "$(scripts/start-postgres)"` starts Debian's cluster and prints it; .ci/run
 * does the same). Each test file makes its own under a random name, since test files and helpers run
 * in parallel on one server, and drops it afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  /** The database's URL, for PLATEN_DATABASE_URL or PostgresStore.open. */
  url: string;
  name: string;
  /** The rows one query returns, on a connection of its own (beside the service using the database). */
  query<T extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<T[]>;
  /** Empties the database: every table, and the schema version with them. */
  reset(): Promise<void>;
  /** Drops the database, ending any connection still open to it first. */
  drop(): Promise<void>;
}

/** The server's URL; a missing one fails the test, with what to do about it. */
export function serverUrl(): string {
  const url = process.env.PLATEN_TEST_POSTGRES_URL;
  if (!url) {
    throw new Error(
      'PLATEN_TEST_POSTGRES_URL is not set: these tests need a PostgreSQL server. Start one with ' +
        '`eval "$(scripts/start-postgres)"` (Debian\'s postgresql package), or set it to a superuser\'s ' +
        'postgres:// URL.',
    );
  }
  return url;
}

/** Runs SQL on a connection of its own to `url`; without values, it may hold several statements. */
async function query<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  values?: unknown[],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** Makes a new, empty database under a random name. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const server = serverUrl();
  const name = `platen_test_${randomBytes(6).toString('hex')}`;
  await query(server, `CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    name,
    query: (sql, values) => query(url.href, sql, values),
    reset: async () => {
      await query(url.href, 'DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    },
    // FORCE terminates the connections still open to it (a store a failed test never closed).
    drop: async () => {
      await query(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
