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
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;
/** The roles (the store's ROLES, which this base module cannot import), as a claim may name them. */
const ROLE = z.enum(['admin', 'marketing', 'rep']);
type ConfigRole = z.infer<typeof ROLE>;

/** Single sign-on's settings: the provider, this service's client there, and how claims give roles. */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  name: string;
  roleClaim: string | null;
  repClaim: string | null;
  /** A role claim's value → the role it gives. */
  roleValues: Map<string, ConfigRole>;
}

const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  PLATEN_DATA_DIR: z.string().min(1).default('./data'),
  /**
   * A PostgreSQL database for the store's rows, shared by every node: `postgres://user:password@host:5432/platen`.
   * With it, batch jobs' chunks are also jobs of a durable queue there, rendered by any node's workers.
   * Without it, SQLite in the data directory, and chunks on this node's threads.
   */
  PLATEN_DATABASE_URL: z
    .url({
      protocol: /^postgres(ql)?$/,
      error: 'expected a postgres:// address, such as postgres://user:password@host:5432/platen',
    })
    .optional(),
  /**
   * Object storage every node shares (template packages, blobs, jobs' lists and outputs):
   * `s3://bucket/prefix`. Without it, local files under the data directory.
   */
  PLATEN_BLOB_URL: z
    .string()
    .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^/]+)*\/?$/, {
      error:
        'expected s3://bucket or s3://bucket/prefix (a bucket name: lowercase letters, digits, dots and hyphens)',
    })
    .optional(),
  /** The S3 API's address, for a server other than AWS (MinIO, Ceph): the SDK's standard variables. */
  AWS_ENDPOINT_URL_S3: z
    .url({ protocol: /^https?$/, error: 'expected an http:// or https:// address' })
    .optional(),
  AWS_ENDPOINT_URL: z
    .url({ protocol: /^https?$/, error: 'expected an http:// or https:// address' })
    .optional(),
  AWS_REGION: z.string().min(1).optional(),
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
  /**
   * Worker threads rendering batch jobs' rows and every render and preview, shared by all (renders
   * first). With a queue (PLATEN_DATABASE_URL), `0`: this node renders no chunks itself and leaves
   * them to `platen worker` processes, drawing its renders on PLATEN_RENDER_CONCURRENCY threads.
   */
  PLATEN_BATCH_WORKERS: int(0, 256).default(availableParallelism()),
  /** The chunk queue's name: one per installation sharing a database. */
  PLATEN_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,60}$/, { error: 'expected letters, digits, - and _ (at most 60)' })
    .default('platen-chunks'),
  /** Chunks the queue's workers render at once, all machines together: a job keeps twice as many queued. */
  PLATEN_QUEUE_CONCURRENCY: int(1, 4096).default(16),
  /**
   * How long an API node's hold on a batch job it runs lasts unrenewed (it renews it every third of
   * this): how long a job whose node died waits before another node takes it over.
   */
  PLATEN_JOB_LEASE_MS: int(300, 3_600_000).default(15_000),
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
  /**
   * Single sign-on for people: an OpenID Connect provider (discovered at
   * `<issuer>/.well-known/openid-configuration`) and this service's client there. https, or http on
   * this machine only (a provider on loopback, as the tests run one).
   */
  PLATEN_OIDC_ISSUER: z
    .url({ protocol: /^https?$/, error: 'expected an https:// address' })
    .refine((url) => url.startsWith('https:') || LOOPBACK.test(new URL(url).hostname), {
      error: 'expected an https:// address (http:// only on this machine)',
    })
    .optional(),
  PLATEN_OIDC_CLIENT_ID: z.string().min(1).optional(),
  PLATEN_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** `1`: people an admin adds sign in with their email and a password (for teams without a provider). */
  PLATEN_PASSWORD_SIGN_IN: z.enum(['0', '1'], { error: 'expected 0 or 1' }).default('0'),
  /** The provider's name on the sign-in button: "Sign in with Okta". */
  PLATEN_OIDC_NAME: z.string().min(1).max(40).default('single sign-on'),
  /** The claim (of the ID token) naming a person's role, or several (a groups claim); none: admins assign roles. */
  PLATEN_OIDC_ROLE_CLAIM: z.string().min(1).optional(),
  /** The claim naming a rep's rep id; none: admins assign rep ids. */
  PLATEN_OIDC_REP_CLAIM: z.string().min(1).optional(),
  /** The role claim's values for each role, `role=value` and commas: `admin=Platen Admins,rep=Sales`. */
  PLATEN_OIDC_ROLE_VALUES: z
    .string()
    .default('admin=admin,marketing=marketing,rep=rep')
    .transform((text, ctx) => {
      const values = new Map<string, ConfigRole>();
      for (const pair of text.split(',')) {
        const at = pair.indexOf('=');
        const role = ROLE.safeParse(pair.slice(0, at).trim());
        const value = pair.slice(at + 1).trim();
        if (at < 0 || !role.success || value === '') {
          ctx.addIssue({
            code: 'custom',
            message: `expected role=value, with admin, marketing or rep: ${pair}`,
          });
          return z.NEVER;
        }
        values.set(value, role.data);
      }
      return values;
    }),
});

/** Where the objects are, when in S3 (see PLATEN_BLOB_URL). */
export interface S3Config {
  bucket: string;
  /** '' or a path ending in `/`. */
  prefix: string;
  /** The S3 API's address when not AWS's (addressed path-style), else null. */
  endpoint: string | null;
  region: string;
}

export type Config = {
  port: number;
  host: string;
  dataDir: string;
  /** PostgreSQL's URL when the store's rows and the chunk queue live there; null: SQLite in the data directory, chunks on this node's threads. */
  databaseUrl: string | null;
  /** Object storage in S3, or null for local files under the data directory. */
  s3: S3Config | null;
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
  queue: string;
  queueConcurrency: number;
  jobLeaseMs: number;
  uploadConcurrency: number;
  publicUrl: string | null;
  retentionDays: number;
  webhookRetryMs: number;
  requireApproval: boolean;
  /** Single sign-on for people, when configured. */
  oidc: OidcConfig | null;
  /** Whether people an admin adds sign in with their email and a password. */
  passwordSignIn: boolean;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new PlatenError('invalid_config', problemsFromZod(parsed.error.issues));
  const e = parsed.data;
  const sso = [e.PLATEN_OIDC_ISSUER, e.PLATEN_OIDC_CLIENT_ID, e.PLATEN_OIDC_CLIENT_SECRET];
  if (sso.some((v) => v !== undefined) && sso.some((v) => v === undefined)) {
    throw new PlatenError('invalid_config', [
      {
        path: 'PLATEN_OIDC_ISSUER',
        rule: 'together',
        message:
          'single sign-on needs all three of PLATEN_OIDC_ISSUER, PLATEN_OIDC_CLIENT_ID and PLATEN_OIDC_CLIENT_SECRET',
      },
    ]);
  }
  if (e.PLATEN_BATCH_WORKERS === 0 && e.PLATEN_DATABASE_URL === undefined) {
    throw new PlatenError('invalid_config', [
      {
        path: 'PLATEN_BATCH_WORKERS',
        rule: 'needs_queue',
        message:
          'PLATEN_BATCH_WORKERS=0 leaves batch jobs to `platen worker` processes, which need the queue: set PLATEN_DATABASE_URL',
      },
    ]);
  }
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: resolve(e.PLATEN_DATA_DIR),
    databaseUrl: e.PLATEN_DATABASE_URL ?? null,
    s3: s3Config(e),
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
    queue: e.PLATEN_QUEUE,
    queueConcurrency: e.PLATEN_QUEUE_CONCURRENCY,
    jobLeaseMs: e.PLATEN_JOB_LEASE_MS,
    uploadConcurrency: e.PLATEN_UPLOAD_CONCURRENCY,
    publicUrl: e.PLATEN_PUBLIC_URL ?? null,
    retentionDays: e.PLATEN_RETENTION_DAYS,
    requireApproval: e.PLATEN_REQUIRE_APPROVAL,
    webhookRetryMs: e.PLATEN_WEBHOOK_RETRY_MS,
    oidc:
      e.PLATEN_OIDC_ISSUER && e.PLATEN_OIDC_CLIENT_ID && e.PLATEN_OIDC_CLIENT_SECRET
        ? {
            issuer: e.PLATEN_OIDC_ISSUER,
            clientId: e.PLATEN_OIDC_CLIENT_ID,
            clientSecret: e.PLATEN_OIDC_CLIENT_SECRET,
            name: e.PLATEN_OIDC_NAME,
            roleClaim: e.PLATEN_OIDC_ROLE_CLAIM ?? null,
            repClaim: e.PLATEN_OIDC_REP_CLAIM ?? null,
            roleValues: e.PLATEN_OIDC_ROLE_VALUES,
          }
        : null,
    passwordSignIn: e.PLATEN_PASSWORD_SIGN_IN === '1',
  };
}

/** PLATEN_BLOB_URL with the S3 API's address and region; a region is needed unless an address is given. */
function s3Config(e: z.infer<typeof envSchema>): S3Config | null {
  if (e.PLATEN_BLOB_URL === undefined) return null;
  const [bucket, ...path] = e.PLATEN_BLOB_URL.slice('s3://'.length).split('/').filter(Boolean);
  const endpoint = e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL ?? null;
  // A server of one's own ignores the region, but the SDK signs with one.
  const region = e.AWS_REGION ?? (endpoint ? 'us-east-1' : null);
  if (region === null)
    throw new PlatenError('invalid_config', [
      {
        path: 'AWS_REGION',
        rule: 'required',
        message:
          "PLATEN_BLOB_URL needs AWS_REGION, the bucket's region (or AWS_ENDPOINT_URL_S3 for a server of your own)",
      },
    ]);
  return { bucket: bucket!, prefix: path.map((name) => `${name}/`).join(''), endpoint, region };
}
