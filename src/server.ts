import { writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { createApp } from './api/app.js';
import { UploadSlots } from './api/bodies.js';
import { RenderGate } from './api/limits.js';
import type { Services } from './api/services.js';
import type { Config } from './config.js';
import { setWorkerHeapFlags } from './jobs/dispatch.js';
import { OPERATOR } from './service/keys.js';
import { openPlaten, type Platen } from './service/platen.js';

export interface Running {
  url: string;
  services: Services;
  platen: Platen;
  /** Stops taking requests, lets those in flight finish, then closes the services. */
  close(): Promise<void>;
}

/**
 * Opens the services, loads the bundled templates and creates an admin key on first start, and serves
 * the API. The admin key is printed once and written to `<data>/admin.key` (mode 0600).
 */
export async function startServer(
  config: Config,
  log: Logger = pino({ level: config.logLevel }),
): Promise<Running> {
  setWorkerHeapFlags();
  const platen = await openPlaten(config, log);
  await sweep(platen, log);
  const services: Services = {
    config,
    log,
    stagingDir: platen.stagingDir,
    templates: platen.templates,
    renders: platen.renders,
    pieces: platen.pieces,
    results: platen.results,
    jobs: platen.jobs,
    profiles: platen.profiles,
    keys: platen.keys,
    sessions: platen.sessions,
    people: platen.people,
    webhooks: platen.webhooks,
    settings: platen.settings,
    rateLimits: platen.rateLimits,
    designer: platen.designer,
    gate: new RenderGate(config.renderConcurrency, config.renderQueue),
    uploads: new UploadSlots(config.uploadConcurrency),
  };
  await sweep(services.jobs, log);
  const cutFailed = (error: unknown) =>
    log.warn({ err: error }, 'could not cut what is past the retention period from its recipients');
  await cutExpired(platen, log).catch(cutFailed);
  const retention = setInterval(() => {
    cutExpired(platen, log).catch(cutFailed);
  }, 86_400_000).unref();
  let server: Server;
  try {
    await platen.onFirstStart(() => firstStart(platen, config, log));
    server = (await createApp(services)).listen(config.port, config.host);
    await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  } catch (error) {
    // A start that fails leaves nothing running (the workers, the timer) or open (the store) behind it.
    clearInterval(retention);
    await platen.close();
    throw error;
  }
  server.requestTimeout = config.requestTimeoutMs;
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  platen.pieces.publicUrl = config.publicUrl ?? url;
  log.info({ url, dataDir: config.dataDir }, 'Platen is serving');
  await services.jobs.resumeUnfinished();
  // Deliveries the outbox holds (those a stop or a crash cut short among them) go out from now on.
  platen.webhooks.start();
  return {
    url,
    services,
    platen,
    close: async () => {
      // Running jobs stop where they are (and resume from their checkpoints on the next start); their
      // event streams end, so the server can close.
      clearInterval(retention);
      await services.jobs.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await platen.webhooks.stop();
      await platen.close();
    },
  };
}

/**
 * The bundled templates published, and an admin key made and written to `<data>/admin.key`. The key
 * is stored only once its file is written: a start cut short (a kill, a full disk) leaves no admin
 * key that nobody was shown, and the next start makes one again.
 */
async function firstStart(platen: Platen, config: Config, log: Logger): Promise<void> {
  const loaded = await platen.templates.loadBundled(config.templatesDir);
  if (loaded.length === 0) log.warn({ templatesDir: config.templatesDir }, 'no bundled templates found');
  const keyFile = join(config.dataDir, 'admin.key');
  const { key } = await platen.keys.create(OPERATOR, { role: 'admin', name: 'first admin' }, (created) =>
    writeFile(keyFile, `${created}\n`, { mode: 0o600 }),
  );
  log.info({ templates: loaded, keyFile }, 'first start: bundled templates published, admin key created');
  process.stdout.write(`\nAdmin key (shown once; also in ${keyFile}):\n  ${key}\n\n`);
}

/**
 * Cuts what is older than the retention period from its recipients: pieces (PieceService.cutExpired)
 * and the files of ended jobs (JobService.expireFiles). At start-up and once a day.
 */
async function cutExpired(platen: Platen, log: Logger): Promise<void> {
  const { retentionDays } = await platen.settings.current();
  const before = new Date(Date.now() - retentionDays * 86_400_000).toISOString();
  const pieces = await platen.pieces.cutExpired(before);
  const jobs = await platen.jobs.expireFiles(before);
  if (pieces + jobs.length > 0) {
    log.info({ pieces, jobs: jobs.length, retentionDays }, 'cut from their recipients');
  }
}

/**
 * Removes what a crash left half done (see Platen.sweep and JobService.sweep), before anything else
 * runs. A sweep that fails (a full disk can refuse even deletions from the database) is logged and
 * left for the next start: the service starts all the same.
 */
async function sweep(part: { sweep(): Promise<string[]> }, log: Logger): Promise<void> {
  try {
    const removed = await part.sweep();
    if (removed.length > 0) log.info({ removed }, 'removed what an interrupted run left behind');
  } catch (error) {
    log.warn({ err: error }, 'could not remove everything an interrupted run left behind');
  }
}
