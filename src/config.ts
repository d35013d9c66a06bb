import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { problemsFromZod, PlatenError } from './errors.js';

/**
 * Service configuration, from environment variables, validated once at start-up: a bad value is a
 * clear message and an exit, not a crash an hour later.
 */
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  PLATEN_DATA_DIR: z.string().min(1).default('./data'),
  /** Bundled templates loaded as published version 1 on first start: the package's own by default. */
  PLATEN_TEMPLATES_DIR: z
    .string()
    .min(1)
    .default(fileURLToPath(new URL('../templates', import.meta.url))),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Renders drawn at once; more wait in a queue. */
  PLATEN_RENDER_CONCURRENCY: int(1, 256).default(availableParallelism()),
  /** Renders that may wait; beyond this a request gets 503 with Retry-After. */
  PLATEN_RENDER_QUEUE: int(0, 10_000).default(64),
  /** Requests per minute per API key (429 with Retry-After beyond it). */
  PLATEN_RATE_LIMIT: int(1, 1_000_000).default(600),
  /**
   * Visits to tracked links (`/r/<code>`) per minute per client address (429 beyond it): generous, as
   * a whole office behind one address may scan the same mailing; it only stops floods.
   */
  PLATEN_TRACKING_RATE_LIMIT: int(1, 1_000_000).default(300),
  /**
   * Proxies in front of the service whose `X-Forwarded-For` is believed: the client is the address
   * that many hops back (0: the connection's own address). Per-client limits need it behind a proxy.
   */
  PLATEN_TRUST_PROXY: int(0, 10).default(0),
  PLATEN_REQUEST_TIMEOUT_MS: int(1000, 600_000).default(30_000),
  /** Compiled template versions kept in memory. */
  PLATEN_TEMPLATE_CACHE: int(1, 1000).default(32),
  /** Worker threads rendering batch jobs' rows, shared by all jobs. */
  PLATEN_BATCH_WORKERS: int(1, 256).default(availableParallelism()),
  /** Uploads over 1 MiB received at once; beyond it a request gets 503 with Retry-After. */
  PLATEN_UPLOAD_CONCURRENCY: int(1, 1000).default(4),
  /**
   * The address recipients reach the service at: printed tracked URLs start with it. Without it, the
   * address the service listens on (right only for a service nobody outside reaches).
   */
  PLATEN_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'expected an http:// or https:// address' })
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
  /** Days a piece stays linked to its recipient; after them only counts are kept. */
  PLATEN_RETENTION_DAYS: int(1, 36_500).default(730),
  /** `true`: a version is published only once a second marketing user (not its creator) approved it. */
  PLATEN_REQUIRE_APPROVAL: z
    .enum(['true', 'false'], { error: 'expected true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  /** A webhook delivery's first retry waits about this long; each later one twice as long, up to an hour. */
  PLATEN_WEBHOOK_RETRY_MS: int(1, 3_600_000).default(1000),
});

export type Config = {
  port: number;
  host: string;
  dataDir: string;
  templatesDir: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  renderConcurrency: number;
  renderQueue: number;
  rateLimit: number;
  trackingRateLimit: number;
  trustProxy: number;
  requestTimeoutMs: number;
  templateCache: number;
  batchWorkers: number;
  uploadConcurrency: number;
  publicUrl: string | null;
  retentionDays: number;
  webhookRetryMs: number;
  requireApproval: boolean;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new PlatenError('invalid_config', problemsFromZod(parsed.error.issues));
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: resolve(e.PLATEN_DATA_DIR),
    templatesDir: resolve(e.PLATEN_TEMPLATES_DIR),
    logLevel: e.LOG_LEVEL,
    renderConcurrency: e.PLATEN_RENDER_CONCURRENCY,
    renderQueue: e.PLATEN_RENDER_QUEUE,
    rateLimit: e.PLATEN_RATE_LIMIT,
    trackingRateLimit: e.PLATEN_TRACKING_RATE_LIMIT,
    trustProxy: e.PLATEN_TRUST_PROXY,
    requestTimeoutMs: e.PLATEN_REQUEST_TIMEOUT_MS,
    templateCache: e.PLATEN_TEMPLATE_CACHE,
    batchWorkers: e.PLATEN_BATCH_WORKERS,
    uploadConcurrency: e.PLATEN_UPLOAD_CONCURRENCY,
    publicUrl: e.PLATEN_PUBLIC_URL ?? null,
    retentionDays: e.PLATEN_RETENTION_DAYS,
    requireApproval: e.PLATEN_REQUIRE_APPROVAL,
    webhookRetryMs: e.PLATEN_WEBHOOK_RETRY_MS,
  };
}
