/**
 * Platen deployed across processes, as README's Deployment section describes it: an API node that
 * renders no chunks (PLATEN_BATCH_WORKERS=0), two `platen worker` processes, each with its own temp
 * dir and data directory, all sharing one PostgreSQL database (store and queue) and one S3-protocol
 * server (s3rver) on loopback. A worker is killed with SIGKILL in the middle of a chunk; the job still
 * ends with every good row once, in order, and the exact report, and a second API node serves it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, tempDir } from '../support/files.js';
import { jobEnded, jobForm, jobReport, type JobBody } from '../support/jobs.js';
import { pageLabels, qpdfCheck } from '../support/pdf.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { postcardDrop } from '../support/records.js';
import { type S3Server, startS3 } from '../support/s3.js';
import { client, createKey, profileForm } from '../support/server.js';
import { adminKeyOf, type ServiceProcess, startService } from '../support/service-process.js';
import { freezeMidChunk, startWorker, type Worker } from '../support/workers.js';

const ROWS = 5000;

describe('an API node and two workers on PostgreSQL and S3', () => {
  let db: TestDatabase;
  let s3: S3Server;
  const services: ServiceProcess[] = [];
  const workers: Worker[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    s3 = await startS3('platen/');
  });
  afterAll(async () => {
    for (const worker of workers) worker.process.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    for (const service of services) await service.kill();
    await s3?.close();
    await db?.drop();
    await cleanup();
  });

  it('survives a worker killed mid-chunk: every good row once, in order, the exact report, served by another node', async () => {
    const shared = { PLATEN_DATABASE_URL: db.url, PLATEN_QUEUE: 'deployment', ...s3.env };
    const first = await tempDir('platen-node-a-');
    // The test polls the job ten times a second, for minutes: more than a key's default rate allows.
    const nodeA = await startService(first, {
      ...shared,
      PLATEN_BATCH_WORKERS: '0',
      PLATEN_RATE_LIMIT: '100000',
    });
    services.push(nodeA);
    const admin = { url: nodeA.url, adminKey: await adminKeyOf(first) };
    const { key } = await createKey(admin, 'rep', 'Rep Dana', 'dana');
    const rep = client(nodeA.url, key);
    expect((await rep('put', '/api/v1/reps/me', { body: profileForm() })).status).toBe(200);

    const [victim, survivor] = [
      await startWorker({ ...shared, PLATEN_DATA_DIR: await tempDir('platen-worker-a-') }),
      await startWorker({ ...shared, PLATEN_DATA_DIR: await tempDir('platen-worker-b-') }),
    ];
    workers.push(victim!, survivor!);
    const { csv, bad } = postcardDrop(ROWS, 997);
    const started = await rep('post', '/api/v1/jobs', { body: jobForm(csv, { templateId: 'postcard-6x4' }) });
    expect(started.status, started.bytes.toString()).toBe(202);
    const id = (started.json as JobBody).id;

    // Killed in the middle of a chunk, not between chunks.
    const taken = await freezeMidChunk(victim!);
    victim!.process.kill('SIGKILL');
    await victim!.exited;

    const job = await jobEnded(rep, id, 600);
    expect(job).toMatchObject({
      state: 'done',
      done: ROWS,
      rendered: ROWS - bad.length,
      rejected: bad.length,
    });
    // The chunk the killed worker was drawing was drawn again by the other.
    expect(survivor!.log).toContain(`chunk ${taken.index} (job ${taken.job}) done`);

    // A second API node, on the same database and bucket, serves what the first one made.
    const second = await tempDir('platen-node-b-');
    const nodeB = await startService(second, { ...shared, PLATEN_BATCH_WORKERS: '0' });
    services.push(nodeB);
    const repOnB = client(nodeB.url, key);
    const output = await repOnB('get', job.links.output);
    expect(output.status).toBe(200);
    expect((await qpdfCheck(output.bytes)).ok).toBe(true);
    const good = Array.from({ length: ROWS }, (_, i) => i + 1).filter((row) => !bad.includes(row));
    expect(await pageLabels(output.bytes)).toEqual(good.map(String));
    expect((await rep('get', job.links.output)).bytes.equals(output.bytes)).toBe(true);

    const report = await jobReport(repOnB, job);
    expect(report.lines.map((line) => Number(line.row))).toEqual(bad);
    expect(report.lines.map((line) => [line.column, line.value])).toEqual(bad.map(() => ['State', 'Maine']));
  }, 600_000);
});
