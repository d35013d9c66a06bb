/** The chunk queue's configuration: a postgres:// database, a queue name, and no workers only with a queue. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { configProblems } from '../support/config.js';

const DB = 'postgres://platen:secret@db.internal:5432/platen';

describe('chunk queue configuration', () => {
  it('has no queue by default, and this node renders every chunk', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBeNull();
    expect(config.batchWorkers).toBeGreaterThan(0);
  });

  it('takes a postgres:// database, a queue name and PLATEN_BATCH_WORKERS=0 with it', () => {
    const config = loadConfig({
      PLATEN_DATABASE_URL: DB,
      PLATEN_QUEUE: 'acme-print',
      PLATEN_BATCH_WORKERS: '0',
    });
    expect(config).toMatchObject({ databaseUrl: DB, queue: 'acme-print', batchWorkers: 0 });
  });

  it('refuses no workers without a queue, saying what to set', () => {
    expect(configProblems({ PLATEN_BATCH_WORKERS: '0' })).toEqual([
      'PLATEN_BATCH_WORKERS: PLATEN_BATCH_WORKERS=0 leaves batch jobs to `platen worker` processes, which need the queue: set PLATEN_DATABASE_URL',
    ]);
  });

  it('refuses a database that is not PostgreSQL, and a queue name with odd characters', () => {
    expect(configProblems({ PLATEN_DATABASE_URL: 'mysql://db/platen' })).toEqual([
      'PLATEN_DATABASE_URL: expected a postgres:// address, such as postgres://user:password@host:5432/platen',
    ]);
    expect(configProblems({ PLATEN_QUEUE: 'print queue' })).toEqual([
      'PLATEN_QUEUE: expected letters, digits, - and _ (at most 60)',
    ]);
  });
});
