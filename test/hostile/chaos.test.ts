/**
 * Chaos: the service, as its own process, killed with SIGKILL at random moments, 20 times, each time
 * during a template upload, a profile update (with a photo) and batch jobs (a new one being created,
 * the earlier ones resuming). After each kill it starts again, serves, and holds nothing half-written
 * (see leftovers); at the end every job has every good row exactly once, and the template that was
 * being uploaded uploads again.
 *
 * The moments come from a seeded generator: the seed is printed, and CHAOS_SEED=<seed> replays it.
 */
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers } from '../support/data-dir.js';
import { cleanup, tempDir } from '../support/files.js';
import { jobForm } from '../support/jobs.js';
import { makePackage } from '../support/packages.js';
import { postcardDrop } from '../support/records.js';
import { type Client, client, createKey, profileForm, uploadZip } from '../support/server.js';
import { adminKeyOf, type ServiceProcess, startService } from '../support/service-process.js';
import { zipFolder } from '../support/zips.js';
import { pageLabels } from '../support/pdf.js';

const KILLS = 20;
/** One worker keeps the machine's other core for the test and the restarts; no rate limit in the way. */
const ENV = { PLATEN_BATCH_WORKERS: '1', PLATEN_RATE_LIMIT: '100000' };
const TEMPLATE = 'chaos-postcard';
const DROP = postcardDrop(40, 13);

const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: a small seeded generator, uniform in [0, 1). */
function generator(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

let dataDir: string;
let service: ServiceProcess;
let keys: { marketing: string; rep: string };
let marketing: Client;
let rep: Client;
let zip: Buffer;
/** How long an upload and a profile update take here, unhurried: the kills fall inside them. */
const took = { upload: 0, profile: 0 };

async function start(): Promise<void> {
  service = await startService(dataDir, ENV);
  marketing = client(service.url, keys.marketing);
  rep = client(service.url, keys.rep);
}

async function timed<T>(what: keyof typeof took, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await run();
  took[what] = performance.now() - started;
  return result;
}

/** A photo no earlier update stored (its blob is written anew). */
function photo(n: number): Promise<Buffer> {
  return sharp({ create: { width: 600, height: 800, channels: 3, background: { r: n * 12, g: 90, b: 140 } } })
    .jpeg()
    .toBuffer();
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A request the kill may cut: whether it was still in flight when the kill came. */
function inFlight(request: Promise<unknown>): () => boolean {
  let settled = false;
  request.then(
    () => (settled = true),
    () => (settled = true),
  );
  return () => !settled;
}

beforeAll(async () => {
  console.log(`chaos seed ${seed} (replay: CHAOS_SEED=${seed})`);
  dataDir = await tempDir('platen-chaos-');
  service = await startService(dataDir, ENV);
  const admin = { url: service.url, adminKey: await adminKeyOf(dataDir) };
  keys = {
    marketing: (await createKey(admin, 'marketing', 'Marketing Mia')).key,
    rep: (await createKey(admin, 'rep', 'Rep Dana', 'dana')).key,
  };
  await service.kill();
  await start();
  zip = await zipFolder(await makePackage(TEMPLATE, 'Chaos postcard'));
  const upload = await timed('upload', () => uploadZip(marketing, zip));
  expect(upload.status, upload.bytes.toString()).toBe(201);
  const profile = await timed('profile', async () =>
    rep('put', '/api/v1/reps/me', { body: profileForm(undefined, await photo(0)) }),
  );
  expect(profile.status, profile.bytes.toString()).toBe(200);
});

afterAll(async () => {
  await service?.kill();
  await cleanup();
});

describe('kill -9 at random moments', () => {
  it(`${KILLS} times during an upload, a profile update and batch jobs: each start serves and holds nothing half-written`, async () => {
    const random = generator(seed);
    const cut = { upload: 0, profile: 0, jobs: 0 };
    for (let round = 1; round <= KILLS; round++) {
      const picture = await photo(round);
      // The kill falls somewhere in the upload; the profile update is sent so that the kill falls
      // inside it too; the new job is created, then runs beside those of earlier rounds.
      const killAt = random() * took.upload;
      const profileAt = Math.max(0, killAt - random() * took.profile);
      const upload = uploadZip(marketing, zip).catch(() => null);
      const job = rep('post', '/api/v1/jobs', {
        body: jobForm(DROP.csv, { templateId: 'postcard-6x4' }),
      }).catch(() => null);
      await pause(profileAt);
      const profile = rep('put', '/api/v1/reps/me', { body: profileForm(undefined, picture) }).catch(
        () => null,
      );
      const pending = { upload: inFlight(upload), profile: inFlight(profile) };
      await pause(killAt - profileAt);
      const running = (
        (await marketing('get', '/api/v1/jobs').catch(() => null))?.json as
          { jobs: { state: string }[] } | undefined
      )?.jobs.some((j) => j.state === 'running' || j.state === 'queued');
      if (pending.upload()) cut.upload += 1;
      if (pending.profile()) cut.profile += 1;
      if (running) cut.jobs += 1;
      await service.kill();
      await Promise.all([upload, job, profile]);

      await start();
      const where = `round ${round} (seed ${seed})`;
      expect(await leftovers(dataDir), where).toEqual([]);
      expect((await marketing('get', '/healthz')).status, where).toBe(200);
      expect((await rep('get', '/api/v1/templates')).status, where).toBe(200);
      const profileNow = await rep('get', '/api/v1/reps/me');
      expect(profileNow.status, where).toBe(200);
      expect((profileNow.json as { photo: string | null }).photo, where).not.toBeNull();
      const photoNow = await rep('get', '/api/v1/reps/me/photo');
      expect(photoNow.status, where).toBe(200);
      expect(photoNow.bytes.subarray(0, 2).toString('hex'), where).toBe('ffd8');
      const versions = await marketing('get', `/api/v1/templates/${TEMPLATE}/versions`);
      expect(versions.status, where).toBe(200);
    }
    console.log(
      `chaos seed ${seed}: of ${KILLS} kills, ${cut.upload} cut an upload, ${cut.profile} a profile update, ${cut.jobs} came while jobs ran`,
    );
    // Each round starts a process (a few seconds on a busy machine) and the jobs run beside it.
  }, 240_000);

  it('then every job ends with every good row exactly once, and the template uploads again', async () => {
    const upload = await uploadZip(marketing, zip);
    expect(upload.status, upload.bytes.toString()).toBe(201);
    type Job = {
      id: string;
      state: string;
      rendered: number;
      rejected: number;
      links: { output: string; errors: string };
    };
    let jobs: Job[] = [];
    for (let i = 0; i < 1200; i++) {
      jobs = ((await marketing('get', '/api/v1/jobs?limit=500')).json as { jobs: Job[] }).jobs;
      if (jobs.every((j) => j.state !== 'running' && j.state !== 'queued')) break;
      await pause(100);
    }
    expect(jobs.length).toBeGreaterThan(0);
    const good = Array.from({ length: 40 }, (_, i) => i + 1)
      .filter((n) => !DROP.bad.includes(n))
      .map(String);
    for (const job of jobs) {
      expect(job, `job ${job.id} (seed ${seed})`).toMatchObject({
        state: 'done',
        rendered: good.length,
        rejected: DROP.bad.length,
      });
      expect(await pageLabels((await marketing('get', job.links.output)).bytes), `job ${job.id}`).toEqual(
        good,
      );
      const report = parse((await marketing('get', job.links.errors)).bytes, {
        bom: true,
        columns: true,
      }) as {
        row: string;
      }[];
      expect(report.map((r) => Number(r.row))).toEqual(DROP.bad);
    }
    expect(await leftovers(dataDir)).toEqual([]);
  });
});
