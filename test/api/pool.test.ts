/**
 * Renders on the worker pool, beside a drop: one thread, kept busy by a long batch job whose chunks
 * queue for it. An interactive render goes ahead of the chunks queued before it, and a render whose
 * client leaves while it waits for the thread leaves the pool's queue unrun. Nothing here is timed:
 * the order is read from a log of what was queued for the pool and what it handed its thread.
 */
import http from 'node:http';
import { Piscina } from 'piscina';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChunkTask } from '../../src/jobs/chunk.js';
import type { WorkerPool } from '../../src/jobs/dispatch.js';
import { cleanup } from '../support/files.js';
import { type JobBody, jobForm } from '../support/jobs.js';
import { postcardDrop, postcardRender } from '../support/records.js';
import {
  type Client,
  client,
  createKey,
  profileForm,
  startTestServer,
  type TestServer,
} from '../support/server.js';

/** What happened on the pool, in order: `queued chunk 3`, `started piece`, … */
type Entry = `${'queued' | 'started'} ${string}`;

const what = (task: unknown): string =>
  task === null
    ? 'loaded'
    : 'rows' in (task as object)
      ? `chunk ${(task as ChunkTask).index}`
      : 'pdf' in (task as object)
        ? 'raster'
        : 'piece';

describe('renders on the pool beside a drop (one thread)', () => {
  let server: TestServer;
  let pool: WorkerPool;
  let rep: Client;
  let repKey: string;
  let job: JobBody;
  const log: Entry[] = [];

  beforeAll(async () => {
    server = await startTestServer({ env: { PLATEN_BATCH_WORKERS: '1' } });
    pool = server.running.platen.pool;
    repKey = (await createKey(server, 'rep', 'Chloé', 'chloe')).key;
    rep = client(server.url, repKey);
    expect((await rep('put', '/api/v1/reps/me', { body: profileForm() })).status).toBe(200);

    // Queued: what the services hand the pool. Started: what the pool hands a free thread.
    const queueChunk = pool.run.bind(pool);
    vi.spyOn(pool, 'run').mockImplementation((task, signal) => {
      log.push(`queued ${what(task)}`);
      return queueChunk(task, signal);
    });
    const queuePiece = pool.piece.bind(pool);
    vi.spyOn(pool, 'piece').mockImplementation((task, signal) => {
      log.push(`queued ${what(task)}`);
      return queuePiece(task, signal);
    });
    const hand = Piscina.prototype.run;
    vi.spyOn(Piscina.prototype, 'run').mockImplementation(function (this: Piscina, task, options) {
      log.push(`started ${what(task)}`);
      return hand.call(this, task, options);
    });

    // A drop long enough to keep the thread busy through both tests (it is cancelled after them), as
    // a ZIP: its chunks are small (200 rows), so a render waits for one a short while.
    const { csv } = postcardDrop(20_000);
    const started = await rep('post', '/api/v1/jobs', {
      body: jobForm(csv, { templateId: 'postcard-6x4', output: 'zip' }),
    });
    expect(started.status).toBe(202);
    job = started.json as JobBody;
    await vi.waitFor(() => expect(pool.queued.batch).toBeGreaterThan(0), { timeout: 30_000, interval: 50 });
  });
  afterAll(async () => {
    await rep('delete', `/api/v1/jobs/${job.id}`);
    vi.restoreAllMocks();
    await server.close();
    await cleanup();
  });

  /** The running job, as the API shows it now. */
  const current = async () => (await rep('get', `/api/v1/jobs/${job.id}`)).json as JobBody;

  it('draws a render before the chunks queued ahead of it, while the drop goes on', async () => {
    expect(pool.queued.batch).toBeGreaterThan(0);
    const from = log.length;
    const render = await rep('post', '/api/v1/renders', { json: postcardRender() });
    expect(render.status).toBe(201);
    expect(render.headers.get('content-type')).toBe('application/pdf');
    expect((await current()).state).toBe('running');

    const since = log.slice(from);
    const queued = since.indexOf('queued piece');
    const started = since.indexOf('started piece');
    expect(queued).toBeGreaterThanOrEqual(0);
    expect(started).toBeGreaterThan(queued);
    // The chunks that were waiting for the thread when the render came: none started before it.
    const waiting = log
      .slice(0, from + queued)
      .filter((e) => e.startsWith('queued chunk'))
      .map((e) => e.replace('queued ', ''))
      .filter((chunk) => !log.slice(0, from + queued).includes(`started ${chunk}`));
    expect(waiting.length).toBeGreaterThan(0);
    for (const chunk of waiting) {
      const start = since.indexOf(`started ${chunk}`);
      expect(start === -1 || start > started, `${chunk} started before the render`).toBe(true);
    }
  });

  it("fits a piece for the form on the pool too, in the renders' lane", async () => {
    const from = log.length;
    const calls = vi.mocked(pool.piece).mock.calls.length;
    const fit = await rep('post', '/api/v1/previews/fit', { json: postcardRender() });
    expect(fit.status).toBe(200);
    const { report, problems } = fit.json as { report: { element: string }[]; problems: unknown[] };
    expect(report.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    expect(
      vi
        .mocked(pool.piece)
        .mock.calls.slice(calls)
        .map(([task]) => task.kind),
    ).toEqual(['fit']);
    const since = log.slice(from);
    expect(since.indexOf('started piece')).toBeGreaterThan(since.indexOf('queued piece'));
    expect(since.indexOf('queued piece')).toBeGreaterThanOrEqual(0);
    expect((await current()).state).toBe('running');
  });

  it("draws a kept piece's thumbnail on the pool too, once", async () => {
    const render = await rep('post', '/api/v1/renders', { json: postcardRender() });
    expect(render.status).toBe(201);
    const code = render.headers.get('platen-piece-code')!;
    const caller = (await server.running.services.keys.authenticate(repKey))!;
    const rasterize = vi.spyOn(pool, 'rasterize');
    const from = log.length;
    const png = await server.running.platen.pieces.thumbnail(caller, code);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(rasterize).toHaveBeenCalledTimes(1);
    const since = log.slice(from);
    expect(since).toContain('started raster');
    expect((await current()).state).toBe('running');
    // Kept: the same piece's thumbnail again is not drawn again.
    await server.running.platen.pieces.thumbnail(caller, code);
    expect(rasterize).toHaveBeenCalledTimes(1);
    rasterize.mockRestore();
  });

  it('drops a render whose client leaves while it waits for the thread: it never runs, its slot is free', async () => {
    const { gate } = server.running.services;
    const audits = (await server.running.platen.store.renders.list({ limit: 500 })).length;
    const from = log.length;
    const req = http.request(`${server.url}/api/v1/renders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${repKey}`, 'content-type': 'application/json' },
      agent: false,
    });
    req.on('error', () => undefined); // the reset this test causes
    req.end(JSON.stringify(postcardRender()));
    // The thread is the drop's: a chunk ending hands it the next queued chunk at once, so the render
    // waits in the pool's queue (ahead of the chunks) until one ends.
    await expect.poll(() => pool.queued.interactive).toBe(1);
    expect(gate.running).toBe(1);
    req.destroy();
    await expect.poll(() => pool.queued.interactive).toBe(0);
    await expect.poll(() => gate.running).toBe(0);
    expect(log.slice(from)).toContain('queued piece');
    expect(log.slice(from)).not.toContain('started piece');
    expect(await server.running.platen.store.renders.list({ limit: 500 })).toHaveLength(audits);
    expect((await current()).state).toBe('running');
  });
});
