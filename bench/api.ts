// The API benchmark (`npm run bench:api`): renders/s and p50/p99 latency of the postcard and brochure
// renders and the brochure preview at 1, 8 and 32 clients, against the built service (`dist/`) in a
// child process, so autocannon and the server never share an event loop. Then how throughput grows
// with cores: the same cases with the worker pool (which draws every render and preview) at 1, 2, 4, …
// threads up to the machine's cores, one server per pool size, with twice as many clients as cores.
// BENCH_SECONDS sets the seconds per run (default 8), BENCH_CLIENTS the client counts (default 1,8,32),
// BENCH_THREADS the pool sizes (default 1, 2, 4, … and the core count; `none` skips them), BENCH_CASES
// the cases by name (default all; `renders` leaves out the preview, which needs pdfjs). Exits 1 if
// any response was neither 2xx nor 503, any socket error or timeout occurred, or a server died: under
// overload the service may refuse work (503 + Retry-After) but never fail it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';

const repoRoot = new URL('..', import.meta.url).pathname;
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const clientCounts = (process.env.BENCH_CLIENTS ?? '1,8,32').split(',').map(Number);
const cores = availableParallelism();
/** 1, 2, 4, … below the core count, and the core count. */
const doublings = (n: number): number[] => [
  ...Array.from({ length: Math.ceil(Math.log2(n)) }, (_, i) => 2 ** i),
  n,
];
const threadCounts =
  process.env.BENCH_THREADS === 'none'
    ? []
    : process.env.BENCH_THREADS
      ? process.env.BENCH_THREADS.split(',').map(Number)
      : doublings(cores);
const WARMUP_SECONDS = 2;
const STARTUP_TIMEOUT_MS = 30_000;
const REP_ID = 'bench-rep';

interface Server {
  child: ChildProcess;
  url: string;
  dataDir: string;
  /** Set when we stop it, so an exit before that is reported as a crash. */
  stopping: boolean;
}

interface BenchCase {
  name: string;
  path: string;
  templateId: string;
  /** The content type a successful response must have (checked once, before the timed runs). */
  type: string;
}

const ALL_CASES: readonly BenchCase[] = [
  { name: 'postcard render', path: '/api/v1/renders', templateId: 'postcard-6x4', type: 'application/pdf' },
  {
    name: 'brochure render',
    path: '/api/v1/renders',
    templateId: 'insurance-brochure',
    type: 'application/pdf',
  },
  {
    name: 'brochure preview p1',
    path: '/api/v1/previews?page=1',
    templateId: 'insurance-brochure',
    type: 'image/png',
  },
];
const CASES =
  process.env.BENCH_CASES === 'renders'
    ? ALL_CASES.filter((c) => c.path === '/api/v1/renders')
    : process.env.BENCH_CASES
      ? ALL_CASES.filter((c) => process.env.BENCH_CASES!.split(',').includes(c.name))
      : ALL_CASES;

interface Row {
  name: string;
  clients: number;
  perSecond: number;
  p50: number;
  p99: number;
  ok: number;
  unavailable: number;
  /** Responses other than 2xx and 503, by status code: each one fails the benchmark. */
  other: Map<string, number>;
  errors: number;
  timeouts: number;
}

/** A port nobody listens on now: the OS picks one for a throwaway listener, which we then close. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port for the server');
  return address.port;
}

/** The servers started and not yet stopped. */
const started = new Set<Server>();

/**
 * Starts `platen serve` on a fresh data directory, with `env` over the environment. The per-key rate
 * limit is lifted (unless set in the environment): one key sends thousands of requests a minute here,
 * and the limiter's 429s would measure the limiter, not the renderer.
 */
async function startServer(env: Record<string, string> = {}): Promise<Server> {
  const dataDir = await mkdtemp(join(tmpdir(), 'platen-bench-api-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/cli.js', 'serve'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PLATEN_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      PLATEN_RATE_LIMIT: process.env.PLATEN_RATE_LIMIT ?? '1000000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  forwardLogs(child);
  const server: Server = { child, url: `http://127.0.0.1:${port}`, dataDir, stopping: false };
  started.add(server);
  // A server that dies mid-run shows up only as connection errors; say how it ended.
  child.once('exit', (code, signal) => {
    if (!server.stopping) console.error(`\nthe server exited during the run: code ${code}, signal ${signal}`);
  });
  try {
    await waitForHealth(server);
  } catch (error) {
    await stopServer(server);
    throw error;
  }
  return server;
}

/**
 * Passes the server's JSON log lines (warnings and errors at LOG_LEVEL=warn) to stderr, where they
 * explain a failed run; the banner with the admin key is not JSON and is dropped.
 */
function forwardLogs(child: ChildProcess): void {
  let pending = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('{')) process.stderr.write(`[server] ${line}\n`);
  });
}

async function waitForHealth({ child, url }: Server): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}`);
    const ok = await fetch(`${url}/healthz`).then(
      (res) => res.ok,
      () => false, // not listening yet
    );
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`the server did not answer /healthz within ${STARTUP_TIMEOUT_MS} ms`);
}

/** SIGTERM (graceful: in-flight requests finish), then SIGKILL if it takes too long; then the data. */
async function stopServer(server: Server): Promise<void> {
  const { child, dataDir } = server;
  server.stopping = true;
  started.delete(server);
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await rm(dataDir, { recursive: true, force: true });
}

/** The server's peak resident set (VmHWM) in MiB, or null where /proc is not available. */
async function peakRssMb(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => null);
  const kb = status === null ? null : /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : null;
}

/** Sends a request and returns the response, throwing with the problem document unless it is 2xx. */
async function call(url: string, key: string, init: RequestInit & { path: string }): Promise<Response> {
  const res = await fetch(`${url}${init.path}`, {
    ...init,
    headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) },
  });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${init.path}: ${res.status} ${await res.text()}`);
  return res;
}

/**
 * A rep key with a complete profile (the brochure's sample rep, photo included): renders take the
 * rep from the caller's profile, so without it every brochure would be refused.
 */
async function createRep(url: string, adminKey: string): Promise<string> {
  const created = await call(url, adminKey, {
    path: '/api/v1/keys',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'rep', name: 'bench:api', repId: REP_ID }),
  });
  const { key } = (await created.json()) as { key: string };
  const rep = (await sampleRecord('insurance-brochure')).rep;
  const form = new FormData();
  for (const name of ['name', 'title', 'phone', 'email', 'licenseNumber']) {
    const value = rep[name];
    if (typeof value === 'string') form.set(name, value);
  }
  const photo = await readFile(join(repoRoot, 'templates/insurance-brochure/samples/agent-1.jpg'));
  form.set('photo', new Blob([photo], { type: 'image/jpeg' }), 'agent-1.jpg');
  await call(url, key, { path: '/api/v1/reps/me', method: 'PUT', body: form });
  return key;
}

type Values = Record<string, unknown>;

/** A template's first sample record, from its manifest. */
async function sampleRecord(templateId: string): Promise<{ rep: Values; prospect: Values; fields: Values }> {
  const path = join(repoRoot, 'templates', templateId, 'template.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as {
    samples?: { record?: { rep?: Values; prospect?: Values; fields?: Values } }[];
  };
  const record = manifest.samples?.[0]?.record;
  if (!record) throw new Error(`${path} has no samples[0].record`);
  return { rep: record.rep ?? {}, prospect: record.prospect ?? {}, fields: record.fields ?? {} };
}

/** The request body a rep sends: the sample's prospect and fields (the rep comes from the profile). */
async function requestBody(templateId: string): Promise<string> {
  const { prospect, fields } = await sampleRecord(templateId);
  return JSON.stringify({ templateId, prospect, fields });
}

/** One request, checked: a wrong body or route fails here with the server's reason, not as 9 runs of 4xx. */
async function checkCase(url: string, key: string, c: BenchCase, body: string): Promise<void> {
  const res = await call(url, key, {
    path: c.path,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const type = res.headers.get('content-type') ?? '';
  const bytes = (await res.arrayBuffer()).byteLength;
  if (!type.startsWith(c.type)) throw new Error(`${c.name}: expected ${c.type}, got ${type}`);
  console.log(`${c.name}: ${res.status} ${type}, ${(bytes / 1024).toFixed(1)} KiB`);
}

function load(url: string, key: string, c: BenchCase, body: string, connections: number, duration: number) {
  return autocannon({
    url: `${url}${c.path}`,
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
    connections,
    duration,
    // Latency of finished work only: a refused request (503) answers in a millisecond and would pull
    // the percentiles down exactly when the service is slowest. Refusals have their own column.
    excludeErrorStats: true,
  });
}

function toRow(c: BenchCase, connections: number, result: autocannon.Result): Row {
  const other = new Map<string, number>();
  let unavailable = 0;
  if (result.statusCodeStats) {
    for (const [code, { count = 0 }] of Object.entries(result.statusCodeStats)) {
      if (code === '503') unavailable += count;
      else if (!code.startsWith('2')) other.set(code, count);
    }
  } else if (result.non2xx > 0) {
    other.set('non-2xx', result.non2xx); // no breakdown: count them all as failures, to be safe
  }
  return {
    name: c.name,
    clients: connections,
    perSecond: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    unavailable,
    other,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** Pads every column to its widest cell: the first (names) left-aligned, the numbers right-aligned. */
function formatTable(table: readonly (readonly string[])[]): string {
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  return table
    .map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))))
    .map((cells) => cells.join('  ').trimEnd())
    .join('\n');
}

const otherCell = (other: Map<string, number>) =>
  other.size === 0 ? '0' : [...other].map(([code, n]) => `${n}×${code}`).join(' ');

/** The client-count runs, a row each. */
function clientsTable(rows: readonly Row[]): string {
  return formatTable([
    ['case', 'clients', '2xx/s', 'p50 ms', 'p99 ms', '2xx', '503', 'other non-2xx', 'errors/timeouts'],
    ...rows.map((r) => [
      r.name,
      String(r.clients),
      r.perSecond.toFixed(1),
      r.p50.toFixed(1),
      r.p99.toFixed(1),
      String(r.ok),
      String(r.unavailable),
      otherCell(r.other),
      `${r.errors}/${r.timeouts}`,
    ]),
  ]);
}

/** The pool-size runs, a row each, with each case's rate against its rate on one thread. */
function threadsTable(rows: readonly (Row & { threads: number })[]): string {
  const one = (name: string) => rows.find((r) => r.name === name && r.threads === 1)?.perSecond;
  return formatTable([
    ['case', 'threads', 'clients', '2xx/s', '× 1 thread', 'p50 ms', 'p99 ms', '503', 'failures'],
    ...rows.map((r) => {
      const base = one(r.name);
      return [
        r.name,
        String(r.threads),
        String(r.clients),
        r.perSecond.toFixed(1),
        base ? (r.perSecond / base).toFixed(2) : '',
        r.p50.toFixed(1),
        r.p99.toFixed(1),
        String(r.unavailable),
        `${otherCell(r.other)} ${r.errors}/${r.timeouts}`,
      ];
    }),
  ]);
}

/**
 * The 1/5/15-minute load averages: the service and autocannon share this machine's cores, so anything
 * else running (a test suite, a build) shows up here and in the latencies.
 */
const loadAverage = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

const failed = (r: Row) => r.other.size > 0 || r.errors > 0;
const alive = ({ child }: Server) => child.exitCode === null && child.signalCode === null;

/**
 * Waits for the renders still queued from the last run (autocannon stops; the server finishes what it
 * accepted) by sending one more: the render gate is FIFO, so it is answered once they are done.
 */
async function drain(url: string, key: string, c: BenchCase, body: string): Promise<void> {
  for (;;) {
    const res = await fetch(`${url}${c.path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
    }).catch(() => null); // a dead server: the caller notices
    await res?.arrayBuffer();
    if (res?.status !== 503) return;
    await sleep(1000); // the queue is still full: as Retry-After says
  }
}

/**
 * A rep key, each case's body checked with one request, and a warm-up run of each: compiles the
 * templates (in every worker the runs reach), caches the profile photo and lets V8 optimize the hot
 * paths before timing.
 */
async function prepare(server: Server): Promise<{ key: string; bodies: Map<BenchCase, string> }> {
  const adminKey = (await readFile(join(server.dataDir, 'admin.key'), 'utf8')).trim();
  const key = await createRep(server.url, adminKey);
  const bodies = new Map<BenchCase, string>();
  for (const c of CASES) {
    const body = await requestBody(c.templateId);
    bodies.set(c, body);
    await checkCase(server.url, key, c, body);
  }
  for (const c of CASES) {
    await load(server.url, key, c, bodies.get(c)!, 2 * cores, WARMUP_SECONDS);
    await drain(server.url, key, c, bodies.get(c)!);
  }
  return { key, bodies };
}

/** The timed runs, and the server's peak RSS (read after each run, so a crash still leaves a figure). */
async function bench(server: Server): Promise<{ rows: Row[]; rssMb: number | null }> {
  const { key, bodies } = await prepare(server);
  const rows: Row[] = [];
  let rssMb: number | null = null;
  for (const c of CASES) {
    for (const clients of clientCounts) {
      if (!alive(server)) return { rows, rssMb }; // a crashed server: what ran so far, and a failure
      const row = toRow(c, clients, await load(server.url, key, c, bodies.get(c)!, clients, seconds));
      rows.push(row);
      console.log(`${c.name}, ${clients} client(s): ${row.ok} ok${failed(row) ? ' — FAILURES' : ''}`);
      await drain(server.url, key, c, bodies.get(c)!);
      rssMb = (await peakRssMb(server.child.pid)) ?? rssMb;
    }
  }
  return { rows, rssMb };
}

/**
 * Each case on a server whose worker pool has `threads` threads, with enough clients (twice the
 * cores) that the pool, not the clients, is the limit. Whether a server died shows as `dead`.
 */
async function benchThreads(
  threads: number,
): Promise<{ rows: (Row & { threads: number })[]; dead: boolean }> {
  const server = await startServer({ PLATEN_BATCH_WORKERS: String(threads) });
  try {
    const { key, bodies } = await prepare(server);
    const rows: (Row & { threads: number })[] = [];
    for (const c of CASES) {
      if (!alive(server)) return { rows, dead: true };
      const clients = 2 * cores;
      const row = {
        ...toRow(c, clients, await load(server.url, key, c, bodies.get(c)!, clients, seconds)),
        threads,
      };
      rows.push(row);
      console.log(`${c.name}, ${threads} thread(s): ${row.ok} ok${failed(row) ? ' — FAILURES' : ''}`);
      await drain(server.url, key, c, bodies.get(c)!);
    }
    return { rows, dead: !alive(server) };
  } finally {
    await stopServer(server);
  }
}

async function main(): Promise<void> {
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`BENCH_SECONDS must be > 0: ${seconds}`);
  if (!clientCounts.every((n) => Number.isInteger(n) && n > 0))
    throw new Error(`BENCH_CLIENTS must be positive integers: ${process.env.BENCH_CLIENTS}`);
  if (!threadCounts.every((n) => Number.isInteger(n) && n > 0 && n <= 256))
    throw new Error(
      `BENCH_THREADS must be whole numbers from 1 to 256, or none: ${process.env.BENCH_THREADS}`,
    );
  if (CASES.length === 0)
    throw new Error(`BENCH_CASES names no case (renders, or of: ${ALL_CASES.map((c) => c.name).join(', ')})`);
  const server = await startServer();
  // Ctrl-C reaches the servers too (same process group); this still removes their data directories.
  const interrupted = () => process.exit(130);
  process.once('SIGINT', () => {
    Promise.all([...started].map(stopServer)).then(interrupted, interrupted);
  });
  console.log(`platen API at ${server.url}, server pid ${server.child.pid}, ${seconds} s per run`);
  console.log(`${cores} cores; load average before: ${loadAverage()}`);
  try {
    const { rows, rssMb } = await bench(server);
    console.log(`\n${clientsTable(rows)}`);
    console.log(`\nserver peak RSS (VmHWM): ${rssMb === null ? 'n/a' : `${rssMb.toFixed(0)} MiB`}`);
    console.log(`load average after: ${loadAverage()}`);
    if (!alive(server)) {
      console.error('FAILED: the server died during the run');
      process.exitCode = 1;
    } else if (rows.some(failed)) {
      console.error('FAILED: responses other than 2xx/503, or socket errors/timeouts (see the table)');
      process.exitCode = 1;
    }
  } finally {
    await stopServer(server);
  }

  if (threadCounts.length === 0) return;
  const scaled: (Row & { threads: number })[] = [];
  for (const threads of threadCounts) {
    const { rows, dead } = await benchThreads(threads);
    scaled.push(...rows);
    if (dead) {
      console.error(`FAILED: the server with ${threads} thread(s) died during the run`);
      process.exitCode = 1;
    }
  }
  console.log(`\nrenders and previews by worker-pool size (PLATEN_BATCH_WORKERS), ${2 * cores} clients:`);
  console.log(threadsTable(scaled));
  console.log(`load average after: ${loadAverage()}`);
  if (scaled.some(failed)) {
    console.error('FAILED: responses other than 2xx/503, or socket errors/timeouts (see the table)');
    process.exitCode = 1;
  }
}

await main();
