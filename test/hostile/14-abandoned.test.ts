/**
 * Abandoned requests are not rendered: a render or preview whose client has gone leaves the render
 * queue at once and its work never starts, and one in progress stops at its next step. The same holds
 * for the pages' previews, sample pages and downloads, which go through the same gate and signal.
 * Nothing here is timed: slow work is simulated by holding the first request at a latch, and what was
 * dropped is read from the gate's state and from counts of the work that ran.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RenderGate } from '../../src/api/limits.js';
import { HttpError } from '../../src/api/problem.js';
import { cleanup } from '../support/files.js';
import { sampleRecord } from '../support/records.js';
import { brief, putProfile, request } from '../support/request.js';
import { createKey, fullProfile, startTestServer, type TestServer } from '../support/server.js';
import { type PageSession, signInPages } from '../support/pages.js';

describe('the render gate', () => {
  it('drops a waiter whose request was abandoned at once: its work never runs, its place is free', async () => {
    const gate = new RenderGate(1, 3);
    let release!: () => void;
    const held = gate.run(new AbortController().signal, () => new Promise<void>((r) => (release = r)));
    const ran: number[] = [];
    const clients = [0, 1, 2].map(() => new AbortController());
    const waiters = clients.map((client, i) =>
      gate.run(client.signal, async () => {
        ran.push(i);
      }),
    );
    expect([gate.running, gate.queued, gate.full]).toEqual([1, 3, true]);

    const gone = new Error('the client left');
    clients[0]!.abort(gone);
    clients[2]!.abort(gone);
    // Out of the queue before the slot frees, so new requests find room.
    expect([gate.running, gate.queued, gate.full]).toEqual([1, 1, false]);
    await expect(waiters[0]).rejects.toBe(gone);
    await expect(waiters[2]).rejects.toBe(gone);

    release();
    await held;
    await waiters[1];
    expect(ran).toEqual([1]);
    expect([gate.running, gate.queued]).toEqual([0, 0]);
  });

  it('never queues a request abandoned before it asked', async () => {
    const gate = new RenderGate(1, 1);
    let release!: () => void;
    const held = gate.run(new AbortController().signal, () => new Promise<void>((r) => (release = r)));
    const client = new AbortController();
    client.abort(new Error('gone'));
    const work = vi.fn(async () => undefined);
    const refused = gate.run(client.signal, work);
    expect([gate.running, gate.queued]).toEqual([1, 0]);
    await expect(refused).rejects.toThrow('gone');
    release();
    await held;
    expect(work).not.toHaveBeenCalled();
  });
});

/** A request on a connection of its own, which the test can drop as a departing client would. */
function openRequest(
  server: TestServer,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): { leave(): void } {
  const req = http.request(`${server.url}${path}`, { method, headers, agent: false });
  req.on('error', () => undefined); // the reset this test causes
  req.end(body);
  return { leave: () => req.destroy() };
}

/** A promise and the function that settles it. */
function latch(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('abandoned renders and previews over HTTP (one render slot)', () => {
  let server: TestServer;
  let rep: string;
  let pages: PageSession;
  let renderBody: Record<string, unknown>;
  let formValues: Record<string, string>;

  beforeAll(async () => {
    server = await startTestServer({ env: { PLATEN_RENDER_CONCURRENCY: '1', PLATEN_RENDER_QUEUE: '8' } });
    rep = (await createKey(server, 'rep', 'Dana', 'dana')).key;
    const profile = await putProfile(server, rep, fullProfile('Dana Whitcomb'));
    expect(profile.status, brief(profile)).toBe(200);
    pages = await signInPages(server.url, rep);
    const { prospect, fields } = await sampleRecord('insurance-brochure');
    renderBody = { templateId: 'insurance-brochure', prospect, fields };
    formValues = {};
    for (const [key, value] of Object.entries(prospect)) formValues[`prospect.${key}`] = value;
    for (const [key, value] of Object.entries(fields)) formValues[`fields.${key}`] = value;
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await server.close();
    await cleanup();
  });

  const api = (path: string, body: unknown) => (s: TestServer) =>
    openRequest(
      s,
      'POST',
      path,
      { authorization: `Bearer ${rep}`, 'content-type': 'application/json' },
      JSON.stringify(body),
    );
  const page = (method: string, path: string, type?: string, body?: string) => (s: TestServer) =>
    openRequest(
      s,
      method,
      path,
      { cookie: pages.cookie, 'x-csrf-token': pages.csrf, ...(type ? { 'content-type': type } : {}) },
      body,
    );
  const pagePreview = (n: number) =>
    page(
      'POST',
      '/make/insurance-brochure/preview',
      'application/json',
      JSON.stringify({ version: 1, page: 1, values: { ...formValues, 'prospect.firstName': `Ana${n}` } }),
    );
  const pageDownload = (n: number) =>
    page(
      'POST',
      '/make/insurance-brochure/pdf',
      'application/x-www-form-urlencoded',
      new URLSearchParams({
        _csrf: pages.csrf,
        version: '1',
        ...formValues,
        'prospect.firstName': `Ana${n}`,
      }).toString(),
    );
  /** Distinct sample pages: each is its own render (cached pages would not queue). */
  const samplePage = (sample: number, pageNumber: number, size: string) =>
    page('GET', `/samples/insurance-brochure/1/${sample}/${pageNumber}?size=${size}`);

  interface Face {
    name: string;
    /** The service method the face's work runs in. */
    work: 'preview' | 'render';
    /** Four requests: the first is held in progress, the others queue behind it. */
    requests: () => ((s: TestServer) => { leave(): void })[];
    /** A request that is not abandoned, answered with this status. */
    served: { send: () => Promise<number>; status: number };
  }

  const faces: Face[] = [
    {
      name: 'API previews',
      work: 'preview',
      requests: () => [0, 1, 2, 3].map(() => api('/api/v1/previews', renderBody)),
      served: {
        send: async () =>
          (await request(server, 'POST', '/api/v1/previews', { key: rep, json: renderBody })).status,
        status: 200,
      },
    },
    {
      name: 'API renders',
      work: 'render',
      requests: () => [0, 1, 2, 3].map(() => api('/api/v1/renders', renderBody)),
      served: {
        send: async () =>
          (await request(server, 'POST', '/api/v1/renders', { key: rep, json: renderBody })).status,
        status: 201,
      },
    },
    {
      name: 'page previews',
      work: 'preview',
      requests: () => [0, 1, 2, 3].map(pagePreview),
      served: {
        send: async () =>
          (
            await pages.request('post', '/make/insurance-brochure/preview', {
              json: { version: 1, page: 1, values: formValues },
            })
          ).status,
        status: 200,
      },
    },
    {
      name: 'page downloads',
      work: 'render',
      requests: () => [0, 1, 2, 3].map(pageDownload),
      served: {
        send: async () =>
          (
            await pages.request('post', '/make/insurance-brochure/pdf', {
              form: { _csrf: pages.csrf, version: '1', ...formValues },
            })
          ).status,
        status: 200,
      },
    },
    {
      name: 'sample pages',
      work: 'preview',
      requests: () => [
        samplePage(0, 1, 'thumb'),
        samplePage(1, 1, 'thumb'),
        samplePage(2, 1, 'thumb'),
        samplePage(0, 2, 'thumb'),
      ],
      served: {
        send: async () => (await pages.request('get', '/samples/insurance-brochure/1/1/2?size=page')).status,
        status: 200,
      },
    },
  ];

  it.each(faces)('$name: queued ones are dropped unrun, the one in progress stops early', async (face) => {
    const { gate, renders, templates } = server.running.services;
    const compiled = templates.compiled.bind(templates);
    const hold = latch();
    const entered = latch();
    // The first request's work waits here, inside the pipeline, until the test lets it go on.
    const compiling = vi.spyOn(templates, 'compiled').mockImplementation(async (version) => {
      entered.open();
      await hold.promise;
      return compiled(version);
    });
    const work = vi.spyOn(renders, face.work);
    // Pieces handed to the worker pool, to tell work that stopped early from work that ran on.
    const drawn = vi.spyOn(server.running.platen.pool, 'piece');
    const audits = (await server.running.platen.store.renders.list({ limit: 500 })).length;

    try {
      const [first, ...rest] = face.requests();
      const inProgress = first!(server);
      await entered.promise;
      const queued = rest.map((send) => send(server));
      await expect.poll(() => gate.queued).toBe(queued.length);

      for (const client of [inProgress, ...queued]) client.leave();
      // The queued requests leave the queue while the slot is still taken.
      await expect.poll(() => gate.queued).toBe(0);
      expect(gate.running).toBe(1);
      // The work in progress is told (its signal, the last argument), and goes on only then.
      const signal = work.mock.calls[0]!.at(-1) as AbortSignal;
      await expect.poll(() => signal.aborted).toBe(true);
      hold.open();
      const reason = await (work.mock.results[0]!.value as Promise<unknown>).catch((e: unknown) => e);
      expect(reason).toBeInstanceOf(HttpError);
      expect(reason).toMatchObject({ status: 499, code: 'client_closed' });
      await expect.poll(() => gate.running).toBe(0);
      // Only the first started; it stopped before the pool drew anything; nothing was recorded.
      expect(work).toHaveBeenCalledTimes(1);
      expect(drawn).not.toHaveBeenCalled();
      expect(await server.running.platen.store.renders.list({ limit: 500 })).toHaveLength(audits);

      // A client that stays is served as before, through the same counters.
      compiling.mockRestore();
      expect(await face.served.send()).toBe(face.served.status);
      expect(work).toHaveBeenCalledTimes(2);
      expect(drawn).toHaveBeenCalledTimes(1);
    } finally {
      // Whatever failed, the next case finds the slot free.
      hold.open();
      compiling.mockRestore();
      work.mockRestore();
      drawn.mockRestore();
    }
  });
});
