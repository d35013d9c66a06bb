/**
 * A full disk: the service's data directory on a small tmpfs, filled to the last page while a batch
 * job runs (a real ENOSPC from the kernel, and a real SQLITE_FULL when SQLite cannot grow its files).
 * A tmpfs, not a fault-injecting layer: what is tested is what the kernel and SQLite do, through
 * every writer the service has (the workers' parts, the joined output, blobs, unzipped uploads, the
 * database). Mounting needs root with CAP_SYS_ADMIN, as the tests have locally and in CI.
 *
 * While the disk is full, writes answer 507 (never a 422 blaming the input, never a 500), the job
 * waits naming the cause, and the process stays up and serves finished outputs; restarted with the
 * disk still full it comes up and the job waits again; once space returns the job ends with every
 * good row exactly once.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers } from '../support/data-dir.js';
import { cleanup, entries, tempDir } from '../support/files.js';
import { jobForm } from '../support/jobs.js';
import { makePackage } from '../support/packages.js';
import { postcardDrop, postcardRender } from '../support/records.js';
import {
  type Client,
  client,
  createKey,
  problem,
  profileForm,
  type Reply,
  uploadZip,
} from '../support/server.js';
import { adminKeyOf, type ServiceProcess, startService } from '../support/service-process.js';
import { zipFolder } from '../support/zips.js';
import { pageLabels, qpdfCheck } from '../support/pdf.js';

interface JobBody {
  id: string;
  state: string;
  waiting: string | null;
  error: string | null;
  done: number;
  rendered: number;
  rejected: number;
  links: { self: string; output: string; errors: string };
}

/**
 * One worker: a drop's chunks then run one after another, and the disk fills between two of them.
 * Jobs are polled often: the rate limit is not what is tested here.
 */
const ENV = { PLATEN_BATCH_WORKERS: '1', PLATEN_RATE_LIMIT: '100000' };
const ROWS = 400;

let disk: string;
let mounted = false;
let dataDir: string;
let service: ServiceProcess;
let keys: { marketing: string; rep: string };
let marketing: Client;
let rep: Client;
let finished: { job: JobBody; output: Buffer };
let drop: { csv: string; bad: number[] };
let job: JobBody;
/** Every state the running job was seen in. */
const seen = new Set<string>();
let filling: NodeJS.Timeout | undefined;

/** Writes into a filler file until the kernel says no space is left (a tmpfs allocates by page). */
function fill(): void {
  const fd = openSync(path.join(disk, 'filler'), 'a');
  try {
    for (const size of [1 << 20, 1 << 12]) {
      const block = Buffer.alloc(size);
      try {
        for (;;) writeSync(fd, block);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Keeps the disk full: whatever the service frees (a temporary file it removes) is taken again. */
function keepFull(): void {
  fill();
  filling ??= setInterval(fill, 20);
}

function freeSpace(): void {
  clearInterval(filling);
  filling = undefined;
  rmSync(path.join(disk, 'filler'), { force: true });
}

async function jobNow(api: Client, id: string): Promise<JobBody> {
  const reply = await api('get', `/api/v1/jobs/${id}`);
  expect(reply.status, reply.bytes.toString()).toBe(200);
  const body = reply.json as JobBody;
  if (id === job?.id) seen.add(body.state);
  return body;
}

async function waitFor(api: Client, id: string, until: (job: JobBody) => boolean): Promise<JobBody> {
  for (let i = 0; i < 600; i++) {
    const body = await jobNow(api, id);
    if (until(body)) return body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job ${id} never got there: ${JSON.stringify(await jobNow(api, id))}`);
}

function expectFull(reply: Reply): void {
  expect(reply.status, reply.bytes.toString()).toBe(507);
  expect(problem(reply)).toMatchObject({ status: 507, code: 'storage_full' });
  expect(reply.headers.get('retry-after')).toMatch(/^\d+$/);
}

/** Clients of the service as it runs now (its port changes with each start). */
function connect(): void {
  marketing = client(service.url, keys.marketing);
  rep = client(service.url, keys.rep);
}

beforeAll(async () => {
  disk = await tempDir('platen-full-disk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', disk], { stdio: 'pipe' });
  } catch (error) {
    throw new Error('this test mounts a tmpfs: it needs root with CAP_SYS_ADMIN (as the CI container has)', {
      cause: error,
    });
  }
  mounted = true;
  dataDir = path.join(disk, 'data');
  await mkdir(dataDir);
  service = await startService(dataDir, ENV);
  const admin = { url: service.url, adminKey: await adminKeyOf(dataDir) };
  keys = {
    marketing: (await createKey(admin, 'marketing', 'Marketing Mia')).key,
    rep: (await createKey(admin, 'rep', 'Rep Dana', 'dana')).key,
  };
  connect();
  const profile = await rep('put', '/api/v1/reps/me', { body: profileForm() });
  expect(profile.status, profile.bytes.toString()).toBe(200);

  // A job that finished before the disk filled: its output must stay downloadable.
  const small = (
    await marketing('post', '/api/v1/jobs', {
      body: jobForm(postcardDrop(5).csv, { templateId: 'postcard-6x4', repId: 'dana' }),
    })
  ).json as JobBody;
  const done = await waitFor(marketing, small.id, (j) => j.state === 'done');
  finished = { job: done, output: (await marketing('get', done.links.output)).bytes };
  expect(finished.output.subarray(0, 5).toString()).toBe('%PDF-');

  drop = postcardDrop(ROWS, 97);
  const started = await marketing('post', '/api/v1/jobs', {
    body: jobForm(drop.csv, { templateId: 'postcard-6x4', repId: 'dana' }),
  });
  expect(started.status, started.bytes.toString()).toBe(202);
  job = started.json as JobBody;
  // Full once the first chunk is done: the second is still to be drawn, joined and recorded.
  await waitFor(marketing, job.id, (j) => j.done > 0);
  keepFull();
});

afterAll(async () => {
  clearInterval(filling);
  await service?.kill();
  if (mounted) execFileSync('umount', ['-l', disk]);
  await cleanup();
});

describe('a full disk', () => {
  it('answers writes with 507, never a 422 blaming the input or a 500', async () => {
    const unique = postcardRender();
    unique.prospect.firstName = 'Unrendered';
    expectFull(await rep('post', '/api/v1/renders', { json: unique }));
    expectFull(await uploadZip(marketing, await zipFolder(await makePackage('full-disk', 'Full disk'))));
    const photo = await sharp({
      create: { width: 900, height: 1200, channels: 3, background: { r: 200, g: 30, b: 60 } },
    })
      .jpeg()
      .toBuffer();
    expectFull(await rep('put', '/api/v1/reps/me', { body: profileForm(undefined, photo) }));
    expectFull(
      await marketing('post', '/api/v1/jobs', {
        body: jobForm(postcardDrop(3).csv, { templateId: 'postcard-6x4', repId: 'dana' }),
      }),
    );
    // Nothing half-written was kept: the profile still has no photo, staging and blobs no leftovers.
    expect(((await rep('get', '/api/v1/reps/me')).json as { photo: string | null }).photo).toBeNull();
    // A request's staged upload is removed once its response has closed, which the client may see first.
    await expect.poll(() => leftovers(dataDir)).toEqual([]);
  });

  it('makes the running job wait, naming the cause, while the service stays up and serves downloads', async () => {
    const waiting = await waitFor(marketing, job.id, (j) => j.state !== 'running');
    expect(waiting).toMatchObject({ state: 'waiting', error: null });
    expect(waiting.waiting).toMatch(/run out of storage space/);
    const output = await marketing('get', finished.job.links.output);
    expect(output.status).toBe(200);
    expect(output.bytes.equals(finished.output)).toBe(true);
    expect((await marketing('get', '/healthz')).status).toBe(200);
    expect(service.alive()).toBe(true);
  });

  it('comes up again when restarted with the disk still full, and the job waits for space', async () => {
    await service.kill();
    service = await startService(dataDir, ENV);
    connect();
    const waiting = await waitFor(marketing, job.id, (j) => j.state === 'waiting');
    expect(waiting.waiting).toMatch(/run out of storage space/);
    expect(service.output()).toContain('resuming batch job');
    // It keeps trying (every second, then less often) and stays up while it does.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(service.alive()).toBe(true);
    expect((await marketing('get', finished.job.links.output)).bytes.equals(finished.output)).toBe(true);
    expect(service.output()).not.toMatch(/unhandled|Unhandled/);
  });

  it('goes on once space returns, and ends with every good row exactly once', async () => {
    freeSpace();
    const done = await waitFor(marketing, job.id, (j) => j.state !== 'waiting' && j.state !== 'running');
    expect(done).toMatchObject({
      state: 'done',
      done: ROWS,
      rendered: ROWS - drop.bad.length,
      rejected: drop.bad.length,
      waiting: null,
      error: null,
    });
    expect([...seen].sort()).toEqual(['done', 'running', 'waiting']);
    const output = await marketing('get', done.links.output);
    expect((await qpdfCheck(output.bytes)).ok).toBe(true);
    const good = Array.from({ length: ROWS }, (_, i) => i + 1).filter((n) => !drop.bad.includes(n));
    expect(await pageLabels(output.bytes)).toEqual(good.map(String));
    const report = parse((await marketing('get', done.links.errors)).bytes, { bom: true, columns: true }) as {
      row: string;
    }[];
    expect(report.map((r) => Number(r.row))).toEqual(drop.bad);
    // Its parts and temporary files went once it was done.
    expect(await entries(path.join(dataDir, 'jobs', job.id))).toEqual([
      'errors.csv',
      'input.csv',
      'output.pdf',
    ]);
    expect(await leftovers(dataDir)).toEqual([]);
  });
});
