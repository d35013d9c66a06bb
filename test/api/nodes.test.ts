/**
 * Two API nodes, each its own `platen serve` process, on one PostgreSQL database and one data
 * directory (the file system the nodes share until the object store holds the jobs' files): they
 * start at once on a fresh database, and the first start happens once; a session begun on one is
 * good on the other; a third node with a data directory of its own takes the forms the others
 * served, and they its (the pages' signing secret is in the database); the per-key rate limit counts both nodes' requests; a job cancelled on one node
 * stops on the node running it; a job one node runs shows
 * its progress on the other, and when its node hangs (SIGSTOP: alive, so judged by its lease alone,
 * as a node on another host is) the other takes it over once its lease runs out and finishes it,
 * every good row once and in order, while the first is killed (SIGKILL).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, tempDir } from '../support/files.js';
import { type JobBody, jobForm, jobReport } from '../support/jobs.js';
import { csrfOf, pageRequest, setCookie, signInPages } from '../support/pages.js';
import { pageLabels } from '../support/pdf.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { postcardDrop } from '../support/records.js';
import { BUNDLED } from '../support/repo.js';
import { client, createKey, profileForm } from '../support/server.js';
import { adminKeyOf, type ServiceProcess, startService } from '../support/service-process.js';

/** Short, so that a job whose node died is taken over within seconds. */
const LEASE_MS = 3000;
const RATE_LIMIT = 120;

let database: TestDatabase;
let env: Record<string, string>;
let dataDir: string;
let a: ServiceProcess;
let b: ServiceProcess;
let admin: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await tempDir('platen-nodes-');
  env = {
    PLATEN_DATABASE_URL: database.url,
    PLATEN_JOB_LEASE_MS: String(LEASE_MS),
    PLATEN_RATE_LIMIT: String(RATE_LIMIT),
    PLATEN_BATCH_WORKERS: '1',
  };
  // Both at once, on a database no node has started on.
  [a, b] = await Promise.all([startService(dataDir, env), startService(dataDir, env)]);
  admin = await adminKeyOf(dataDir);
}, 120_000);

afterAll(async () => {
  await a?.kill();
  await b?.kill();
  await database?.drop();
  await cleanup();
});

/** Rep Chloé's key, with the profile every bundled template needs: made once. */
let chloeKey: string | undefined;
async function chloe(): Promise<string> {
  if (chloeKey) return chloeKey;
  const key = (await createKey({ url: a.url, adminKey: admin }, 'rep', 'Chloé', 'chloe')).key;
  expect((await client(a.url, key)('put', '/api/v1/reps/me', { body: profileForm() })).status).toBe(200);
  return (chloeKey = key);
}

/** Reads a job's server-sent events until `end`, calling `seen` with each. */
async function jobEvents(
  base: string,
  key: string,
  job: JobBody,
  seen: (event: string, job: JobBody) => void,
): Promise<{ event: string; job: JobBody }[]> {
  const res = await fetch(`${base}${job.links.events}`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const events: { event: string; job: JobBody }[] = [];
  let buffered = '';
  for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!event || !data) continue;
      const next = { event, job: JSON.parse(data) as JobBody };
      events.push(next);
      seen(next.event, next.job);
    }
  }
  return events;
}

describe('two API nodes on one database', () => {
  it('make the first start once when they start at once: one admin key, each bundled template once', async () => {
    expect(await database.query('SELECT name, role FROM api_keys')).toEqual([
      { name: 'first admin', role: 'admin' },
    ]);
    const versions = await database.query<{ template_id: string; n: number }>(
      'SELECT template_id, count(*)::int AS n FROM template_versions GROUP BY template_id ORDER BY template_id',
    );
    expect(versions).toEqual([...BUNDLED].sort().map((id) => ({ template_id: id, n: 1 })));
    const firstStarts = [a, b].filter((node) => node.output().includes('first start:'));
    expect(firstStarts).toHaveLength(1);
  });

  it('share sessions: signed in on one node, recognised on the other, and signed out there for both', async () => {
    const desk = (await createKey({ url: a.url, adminKey: admin }, 'marketing', 'Morgan Lee')).key;
    const session = await signInPages(a.url, desk);
    const start = await pageRequest(b.url, 'get', '/', { cookie: session.cookie });
    expect(start.status).toBe(303);
    expect(start.location).not.toBe('/sign-in');
    const onB = await pageRequest(b.url, 'get', start.location!, { cookie: session.cookie });
    expect(onB.status, onB.text).toBe(200);
    expect(onB.text).toContain('Morgan Lee');
    const signedOut = await pageRequest(b.url, 'post', '/sign-out', {
      cookie: session.cookie,
      form: { _csrf: session.csrf },
    });
    expect(signedOut.status, signedOut.text).toBe(303);
    const onA = await pageRequest(a.url, 'get', '/', { cookie: session.cookie });
    expect(onA.status).toBe(303);
    expect(onA.location).toBe('/sign-in');
  });

  it('sign the pages alike on a node whose data directory is its own: each takes the forms another served', async () => {
    // A third node, its data directory new and its own (so nothing there signs its pages), stopped
    // before the jobs below, whose files are in the directory A and B share.
    const ownDir = await tempDir('platen-node-c-');
    const c = await startService(ownDir, env);
    try {
      // The sign-in form served by A, posted to C.
      const form = await pageRequest(a.url, 'get', '/sign-in');
      const signedIn = await pageRequest(c.url, 'post', '/sign-in', {
        cookie: setCookie(form, 'platen_visitor'),
        form: { key: admin, _csrf: csrfOf(form.text) },
      });
      expect(signedIn.status, signedIn.text).toBe(303);
      const cookie = setCookie(signedIn, 'platen_session');
      // The settings form served by C, saved (as they are) on A; the toast A leaves, shown by C.
      const page = await pageRequest(c.url, 'get', '/admin/settings', { cookie });
      expect(page.status, page.text).toBe(200);
      const settings = (await client(a.url, admin)('get', '/api/v1/settings')).json as {
        requireApproval: boolean;
        retentionDays: number;
      };
      const saved = await pageRequest(a.url, 'post', '/admin/settings', {
        cookie,
        form: {
          _csrf: csrfOf(page.text),
          requireApproval: settings.requireApproval ? 'yes' : 'no',
          retentionDays: String(settings.retentionDays),
        },
      });
      expect(saved.status, saved.text).toBe(303);
      const shown = await pageRequest(c.url, 'get', saved.location!, {
        cookie: `${cookie}; ${setCookie(saved, 'platen_flash')}`,
      });
      expect(shown.status, shown.text).toBe(200);
      expect(shown.text).toContain('The settings are saved.');
      expect(existsSync(path.join(ownDir, 'session.key'))).toBe(false);
    } finally {
      await c.kill();
    }
  }, 120_000);

  it('count the per-key rate limit across both nodes', async () => {
    const key = (await createKey({ url: a.url, adminKey: admin }, 'marketing', 'Counter')).key;
    // All the requests in one minute's window: the count starts again with each minute.
    const second = new Date().getSeconds();
    if (second > 40) await new Promise((resolve) => setTimeout(resolve, (61 - second) * 1000));
    const statuses: number[] = [];
    for (let i = 0; i < RATE_LIMIT; i++)
      statuses.push((await client(i % 2 ? b.url : a.url, key)('get', '/api/v1/templates')).status);
    expect(statuses.every((status) => status === 200)).toBe(true);
    for (const node of [a, b]) {
      const refused = await client(node.url, key)('get', '/api/v1/templates');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    }
  });

  it('stop a job cancelled on the node not running it, on the node running it', async () => {
    const rep = await chloe();
    const started = await client(a.url, rep)('post', '/api/v1/jobs', {
      body: jobForm(postcardDrop(3000).csv, { templateId: 'postcard-6x4' }),
    });
    expect(started.status, started.bytes.toString()).toBe(202);
    const job = started.json as JobBody;
    await expect
      .poll(async () => ((await client(b.url, rep)('get', job.links.self)).json as JobBody).done, {
        timeout: 60_000,
        interval: 200,
      })
      .toBeGreaterThan(0);
    const cancelled = await client(b.url, rep)('delete', job.links.self);
    expect((cancelled.json as JobBody).state).toBe('cancelled');
    // A finds the job no longer held by it at its next renewal, stops it and removes its parts.
    await expect
      .poll(() => a.output().includes('batch job no longer held by this node'), { timeout: 30_000 })
      .toBe(true);
    await expect
      .poll(() => existsSync(path.join(dataDir, 'jobs', job.id, 'parts')), { timeout: 30_000 })
      .toBe(false);
    expect(((await client(a.url, rep)('get', job.links.self)).json as JobBody).state).toBe('cancelled');
  }, 120_000);

  it('show a job’s progress on the node not running it, which takes the job over when its node’s lease runs out', async () => {
    const rep = await chloe();
    const { csv, bad } = postcardDrop(3000, 97);
    const started = await client(a.url, rep)('post', '/api/v1/jobs', {
      body: jobForm(csv, { templateId: 'postcard-6x4' }),
    });
    expect(started.status, started.bytes.toString()).toBe(202);
    const job = started.json as JobBody;
    // Watched on B from the start; A hangs once B has seen A's progress part way, and is killed
    // once B has finished the job.
    let hung = false;
    const events = await jobEvents(b.url, rep, job, (_event, seen) => {
      if (hung || seen.done === 0 || seen.done >= seen.total) return;
      hung = a.child.kill('SIGSTOP');
    });
    expect(hung).toBe(true);
    await a.kill();
    const progressed = events.filter(({ event }) => event === 'progress').map((e) => e.job.done);
    expect(progressed.some((done) => done > 0 && done < 3000)).toBe(true);
    const last = events.at(-1)!;
    expect(last.event).toBe('end');
    expect(last.job).toMatchObject({ state: 'done', total: 3000, rejected: bad.length });
    expect(b.output()).toContain(`"job":"${job.id}"`);
    expect(b.output()).toMatch(/"msg":"resuming batch job"/);

    const goodRows = Array.from({ length: 3000 }, (_, i) => i + 1).filter((row) => !bad.includes(row));
    const output = await client(b.url, rep)('get', job.links.output);
    expect(output.status).toBe(200);
    expect([...new Set(await pageLabels(output.bytes))]).toEqual(goodRows.map(String));
    const { lines } = await jobReport(client(b.url, rep), last.job);
    expect(lines.map((line) => Number(line.row))).toEqual(bad);
    // Each row is one piece, however many times its chunk was drawn.
    const pieces = await database.query<{ row: number; n: number }>(
      'SELECT row, count(*)::int AS n FROM pieces WHERE job_id = $1 GROUP BY row ORDER BY row',
      [job.id],
    );
    expect(pieces.filter((p) => p.n !== 1)).toEqual([]);
    expect(pieces.map((p) => p.row)).toEqual(goodRows);
  }, 300_000);
});
