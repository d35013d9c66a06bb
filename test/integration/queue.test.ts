/**
 * The chunk queue on PostgreSQL: a coordinator (this process, over QueueDispatcher) and two
 * `platen worker` processes (the built CLI), each with its own temp dir, sharing a database and a
 * chunk store. One worker is killed with SIGKILL while it draws a chunk; the job still ends with every
 * good row once, in order, and the exact rejected-rows report, because the queue gives the dead
 * worker's chunk to the other one. And a chunk drawn twice is the same bytes, which is what makes
 * at-least-once delivery exactly-once output.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatch } from '../../src/jobs/batch.js';
import { type ChunkTask, renderChunk } from '../../src/jobs/chunk.js';
import { WorkerPool } from '../../src/jobs/dispatch.js';
import { mapColumns } from '../../src/jobs/mapping.js';
import { ChunkWorker, QueueDispatcher } from '../../src/jobs/queue.js';
import type { CompiledTemplate } from '../../src/model/template.js';
import { openChunkStore } from '../../src/service/platen.js';
import { compileTemplate } from '../../src/template/compile.js';
import { cleanup, tempDir } from '../support/files.js';
import { jobEnded, jobForm, type JobBody } from '../support/jobs.js';
import { postcardDrop } from '../support/records.js';
import { client, createKey, profileForm } from '../support/server.js';
import { adminKeyOf, type ServiceProcess, startService } from '../support/service-process.js';
import { pageLabels, qpdfCheck } from '../support/pdf.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { REPO_ROOT } from '../support/repo.js';
import { freezeMidChunk, startWorker, until, type Worker } from '../support/workers.js';

const MAILER = path.join(REPO_ROOT, 'bench/mailer');
const REP = {
  name: 'Dana Reyes',
  title: 'Account Manager',
  phone: '+1 207 555 0142',
  email: 'dana@example.com',
};
const ROWS = 5000;
/** Rows whose headshot is no choice of the template's: rejected, each with one problem. */
const BAD = [7, 1234, 2501, 4999];
const HEADER = 'id,firstName,lastName,company,industry,headshot';

function list(): string {
  const lines = [HEADER];
  for (let row = 1; row <= ROWS; row++)
    lines.push(
      `P${row},Alex${row},Morgan,Company ${row},Logistics,${BAD.includes(row) ? '9' : (row % 5) + 1}`,
    );
  return `${lines.join('\n')}\n`;
}

describe('the chunk queue, with platen worker processes', () => {
  let db: TestDatabase;
  let compiled: CompiledTemplate;
  const workers: Worker[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    compiled = await compileTemplate(MAILER);
  });
  afterAll(async () => {
    for (const worker of workers) worker.process.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await db?.drop();
    await cleanup();
  });

  it('renders a 5,000-row job whose worker is killed mid-chunk: every good row once, in order, and the exact report', async () => {
    const dir = await tempDir('platen-queue-');
    const dataDir = path.join(dir, 'data');
    const queue = 'chunks-test';
    const csvPath = path.join(dir, 'list.csv');
    await writeFile(csvPath, list());
    const dispatcher = new QueueDispatcher(db.url, queue, openChunkStore({ dataDir, s3: null }), 2);
    try {
      const [victim, survivor] = [
        await startWorker({ PLATEN_DATABASE_URL: db.url, PLATEN_QUEUE: queue, PLATEN_DATA_DIR: dataDir }),
        await startWorker({ PLATEN_DATABASE_URL: db.url, PLATEN_QUEUE: queue, PLATEN_DATA_DIR: dataDir }),
      ];
      workers.push(victim!, survivor!);
      const batch = runBatch({
        template: { dir: MAILER },
        compiled,
        csvPath,
        rep: { values: REP, images: [] },
        out: path.join(dir, 'drop.pdf'),
        errorsPath: path.join(dir, 'errors.csv'),
        dispatcher,
      });
      batch.catch(() => undefined);
      // Killed in the middle of a chunk, not between chunks.
      const { index, job } = await freezeMidChunk(victim!);
      victim!.process.kill('SIGKILL');
      await victim!.exited;
      const result = await batch;

      // The chunk it was drawing when it died was drawn by the other.
      expect(victim!.log).not.toContain(`(job ${job}) done`);
      expect(survivor!.log).toContain(`chunk ${index} (job ${job}) done`);

      expect(result).toMatchObject({ done: ROWS, rendered: ROWS - BAD.length, rejected: BAD.length });
      const output = await readFile(path.join(dir, 'drop.pdf'));
      expect((await qpdfCheck(output)).ok).toBe(true);
      const good = Array.from({ length: ROWS }, (_, i) => i + 1).filter((row) => !BAD.includes(row));
      expect(await pageLabels(output)).toEqual(good.map(String));

      // The report, exactly: one line per bad row, as this machine's own threads report it.
      const report = await readFile(path.join(dir, 'errors.csv'), 'utf8');
      const local = new WorkerPool(1);
      try {
        await runBatch({
          template: { dir: MAILER },
          compiled,
          csvPath,
          rep: { values: REP, images: [] },
          out: null,
          errorsPath: path.join(dir, 'local-errors.csv'),
          dispatcher: local,
        });
      } finally {
        await local.close();
      }
      expect(report).toBe(await readFile(path.join(dir, 'local-errors.csv'), 'utf8'));
      const lines = report
        .replace(/^\uFEFF/, '')
        .trim()
        .split('\r\n')
        .slice(1);
      expect(lines.map((line) => Number(line.split(',')[0]))).toEqual(BAD);
      expect(lines.every((line) => line.includes(',headshot,') && line.endsWith(',9'))).toBe(true);
    } finally {
      await dispatcher.close();
    }
  }, 300_000);

  it('runs a service job with PLATEN_BATCH_WORKERS=0 on a platen worker alone', async () => {
    const dataDir = await tempDir('platen-queue-service-');
    const queue = 'chunks-service';
    let service: ServiceProcess | undefined;
    try {
      service = await startService(dataDir, {
        PLATEN_DATABASE_URL: db.url,
        PLATEN_QUEUE: queue,
        PLATEN_BATCH_WORKERS: '0',
      });
      const admin = { url: service.url, adminKey: await adminKeyOf(dataDir) };
      const rep = client(service.url, (await createKey(admin, 'rep', 'Rep Dana', 'dana')).key);
      expect((await rep('put', '/api/v1/reps/me', { body: profileForm() })).status).toBe(200);
      const { csv, bad } = postcardDrop(60, 7);
      const started = await rep('post', '/api/v1/jobs', {
        body: jobForm(csv, { templateId: 'postcard-6x4' }),
      });
      expect(started.status, started.bytes.toString()).toBe(202);
      // Nothing renders it until a worker comes.
      await sleep(1500);
      expect((started.json as JobBody).id).toBeTruthy();
      expect(((await rep('get', `/api/v1/jobs/${(started.json as JobBody).id}`)).json as JobBody).done).toBe(
        0,
      );
      workers.push(
        await startWorker({ PLATEN_DATABASE_URL: db.url, PLATEN_QUEUE: queue, PLATEN_DATA_DIR: dataDir }),
      );
      const job = await jobEnded(rep, (started.json as JobBody).id);
      expect(job).toMatchObject({ state: 'done', done: 60, rendered: 60 - bad.length, rejected: bad.length });
      const output = await rep('get', job.links.output);
      const good = Array.from({ length: 60 }, (_, i) => i + 1).filter((row) => !bad.includes(row));
      expect(await pageLabels(output.bytes)).toEqual(good.map(String));
    } finally {
      await service?.kill();
    }
  }, 120_000);

  it('fails the job, saying why, once a chunk has failed on every try', async () => {
    const dir = await tempDir('platen-queue-fails-');
    const store = openChunkStore({ dataDir: dir, s3: null });
    const queue = 'chunks-failing';
    const dispatcher = new QueueDispatcher(db.url, queue, store, 1);
    let tries = 0;
    const worker = await ChunkWorker.start({
      url: db.url,
      queue,
      store,
      pool: {
        concurrency: 1,
        run: () => {
          tries += 1;
          return Promise.reject(new Error('the font cache is unreadable'));
        },
        close: () => Promise.resolve(),
      },
      dir: path.join(dir, 'worker'),
    });
    try {
      const csvPath = path.join(dir, 'list.csv');
      await writeFile(csvPath, `${HEADER}\nP1,Alex,Morgan,Company,Logistics,1\n`);
      const batch = runBatch({
        template: { dir: MAILER },
        compiled,
        csvPath,
        rep: { values: REP, images: [] },
        out: path.join(dir, 'drop.pdf'),
        errorsPath: path.join(dir, 'errors.csv'),
        dispatcher,
      });
      await expect(batch).rejects.toThrow(
        'chunk 1 of the job failed on 4 tries by the workers: the font cache is unreadable',
      );
      expect(tries).toBe(4); // the first, and three retries: bounded
    } finally {
      await worker.close();
      await dispatcher.close();
    }
  });

  it('takes a chunk back from its worker when the job is cancelled', async () => {
    const dir = await tempDir('platen-queue-cancel-');
    const store = openChunkStore({ dataDir: dir, s3: null });
    const queue = 'chunks-cancelled';
    const dispatcher = new QueueDispatcher(db.url, queue, store, 1);
    let drawing: AbortSignal | undefined;
    const worker = await ChunkWorker.start({
      url: db.url,
      queue,
      store,
      pool: {
        concurrency: 1,
        // Draws until told to stop.
        run: (_task, signal) => {
          drawing = signal;
          return new Promise((_resolve, reject) =>
            signal!.addEventListener('abort', () => reject(new Error('stopped'))),
          );
        },
        close: () => Promise.resolve(),
      },
      dir: path.join(dir, 'worker'),
    });
    try {
      const csvPath = path.join(dir, 'list.csv');
      await writeFile(csvPath, `${HEADER}\nP1,Alex,Morgan,Company,Logistics,1\n`);
      const cancel = new AbortController();
      const batch = runBatch({
        template: { dir: MAILER },
        compiled,
        csvPath,
        rep: { values: REP, images: [] },
        out: path.join(dir, 'drop.pdf'),
        errorsPath: path.join(dir, 'errors.csv'),
        dispatcher,
        signal: cancel.signal,
      });
      batch.catch(() => undefined);
      await until(() => drawing !== undefined, 'the worker to take the chunk');
      cancel.abort(new Error('cancelled by its owner'));
      await expect(batch).rejects.toThrow('cancelled by its owner');
      // Its next heartbeat finds the chunk gone from the queue, and it stops drawing.
      await until(() => drawing!.aborted, 'the worker to stop drawing');
    } finally {
      await worker.close();
      await dispatcher.close();
    }
  });

  it('draws a chunk as the same bytes every time', async () => {
    const dir = await tempDir('platen-queue-again-');
    const rows = Array.from({ length: 20 }, (_, i) => ({
      row: i + 1,
      line: i + 2,
      values: {
        id: `P${i}`,
        firstName: `Alex${i}`,
        lastName: 'Morgan',
        company: `Company ${i}`,
        industry: 'Logistics',
        headshot: String((i % 5) + 1),
      },
      extra: [],
    }));
    const task = (part: string): ChunkTask => ({
      template: { dir: MAILER },
      kind: 'pdf',
      index: 0,
      rows,
      mapping: mapColumns(HEADER.split(','), compiled.inputs.prospect),
      rep: { values: REP, images: [] },
      part,
      today: '2026-03-02',
      created: '2026-03-02T09:30:00.000Z',
    });
    await renderChunk(compiled, task(path.join(dir, 'first.part')));
    // Later, as a worker elsewhere would draw it again: nothing in it may depend on when.
    await sleep(1100);
    await renderChunk(compiled, task(path.join(dir, 'second.part')));
    const [first, second] = await Promise.all(
      ['first.part', 'second.part'].map((name) => readFile(path.join(dir, name))),
    );
    expect(first!.length).toBeGreaterThan(0);
    expect(first!.equals(second!)).toBe(true);
  });
});
