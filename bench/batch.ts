// The batch benchmark (`npm run bench:batch`): `platen batch` as operations run it, a real process per
// case, on the shared mailer workload and the bundled postcard, at 10,000 and 100,000 rows (the given
// rows repeated with new ids), into one merged PDF and into a ZIP, with 1 and 2 workers; beside the
// naive pdfkit baseline of the engine benchmark (one core, 1,000 records, merged).
// Narrow it with BENCH_TEMPLATES=mailer,postcard BENCH_ROWS=10000,100000 BENCH_OUTPUTS=pdf,zip
// BENCH_WORKERS=1,2. Rows/s count the whole command (start-up, counting rows, joining parts), run
// with the Node options of the installed `platen`. Each case's CPU per row is split by kind of thread
// (see ThreadCpu): what bounds the rate on a machine of more cores than this one.
// BENCH_VIA=cli,service also runs each case as a job of `platen serve` (a real server process, the
// list posted to POST /api/v1/jobs, timed from the post until the job is done): the path on which
// every row gets a response code and is stored as a piece.
import { spawn } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { naiveMerged } from './naive.js';
import { benchDir, loadProspects } from './workload.js';

const repoRoot = new URL('..', import.meta.url).pathname;
const cli = join(repoRoot, 'dist/cli.js');
/** The Node options `platen` runs with, as installed: those its shebang line gives (see src/cli.ts). */
const cliNodeOptions = (await readFile(cli, 'utf8'))
  .split('\n', 1)[0]!
  .replace(/^#!.*?\bnode\b/, '')
  .split(/\s+/)
  .filter(Boolean);
const list = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',').filter(Boolean);
const templates = list('BENCH_TEMPLATES', 'mailer,postcard');
const rowCounts = list('BENCH_ROWS', '10000,100000').map(Number);
const outputs = list('BENCH_OUTPUTS', 'pdf,zip');
const workers = list('BENCH_WORKERS', '1,2').map(Number);
const via = list('BENCH_VIA', 'cli');

const TEMPLATE_DIRS: Record<string, string> = {
  mailer: join(repoRoot, 'bench/mailer'),
  postcard: join(repoRoot, 'templates/postcard-6x4'),
};
/** The rep on every piece, as each template's `rep` inputs take it. */
const REPS: Record<string, Record<string, string>> = {
  mailer: {
    name: 'Alex Morgan',
    title: 'Senior Account Executive',
    phone: '(415) 555-0141',
    email: 'a.morgan@brightlane.example',
  },
  postcard: { name: 'Alex Morgan', phone: '(415) 555-0141', email: 'a.morgan@brightlane.example' },
};

/** The workload's rows (or the postcard's synthetic ones) repeated to `count`, each with a new id. */
async function writeList(template: string, count: number, path: string): Promise<void> {
  const out = createWriteStream(path);
  const write = (line: string) =>
    out.write(`${line}\r\n`) ? undefined : new Promise<void>((r) => out.once('drain', () => r()));
  if (template === 'mailer') {
    const text = await readFile(join(benchDir(), 'prospects.csv'), 'utf8');
    const [header, ...rows] = text.split(/\r?\n/).filter((line) => line !== '');
    await write(header!);
    for (let i = 0; i < count; i++)
      await write(rows[i % rows.length]!.replace(/^[^,]*/, `P${String(i + 1).padStart(7, '0')}`));
  } else {
    await write('First Name,Last Name,Street Address,City,State,ZIP');
    for (let i = 1; i <= count; i++) await write(`Pat${i},Lee${i},${i} Harbor Rd,Portland,ME,04101`);
  }
  out.end();
  await new Promise<void>((resolve) => out.once('finish', () => resolve()));
}

/**
 * CPU seconds of a process's threads by kind, as the kernel counts them: the main thread (reading the
 * list, joining parts), the worker threads (rendering), V8's helper threads (garbage collection and
 * compiling, shared by every isolate), and the rest (libuv's pool, libvips). On a machine of many
 * cores the main thread's share per row bounds the rate, and the helpers compete with the workers.
 */
interface ThreadCpu {
  main: number;
  workers: number;
  v8: number;
  other: number;
}

/** Linux's clock ticks per second (`getconf CLK_TCK`), the unit of a thread's times in /proc. */
const CLOCK_TICKS = 100;

/**
 * Watches a process while it runs: its peak RSS in MB (the kernel's high-water mark) and its threads'
 * CPU so far, each thread as last seen, at most a tenth of a second before it ended (a worker's time
 * stays counted after it exits).
 */
function watch(pid: number): { cpu(): ThreadCpu; stop(): { peakRssMb: number; cpu: ThreadCpu } } {
  let peakKb = 0;
  const threads = new Map<string, { kind: keyof ThreadCpu; ticks: number }>();
  const kindOf = (tid: string, name: string): keyof ThreadCpu =>
    tid === String(pid)
      ? 'main'
      : name === 'WorkerThread'
        ? 'workers'
        : name === 'node-V8Worker'
          ? 'v8'
          : 'other';
  const poll = () => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        // After the name: state is field 3, utime and stime fields 14 and 15.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        threads.set(tid, { kind: kindOf(tid, name), ticks: Number(fields[11]) + Number(fields[12]) });
      }
    } catch {
      // The process (or a thread) ended between two reads.
    }
  };
  const cpu = (): ThreadCpu => {
    poll();
    const sums: ThreadCpu = { main: 0, workers: 0, v8: 0, other: 0 };
    for (const { kind, ticks } of threads.values()) sums[kind] += ticks / CLOCK_TICKS;
    return sums;
  };
  const timer = setInterval(poll, 100);
  return {
    cpu,
    stop: () => {
      clearInterval(timer);
      return { peakRssMb: peakKb / 1024, cpu: cpu() };
    },
  };
}

/** CPU per row in microseconds, by kind of thread. */
function perRow(cpu: ThreadCpu, rows: number): string {
  const us = (seconds: number) => ((seconds * 1e6) / rows).toFixed(0);
  return [us(cpu.main), us(cpu.workers), us(cpu.v8), us(cpu.other)].join(' ');
}

interface Measured {
  seconds: number;
  peakRssMb: number;
  cpu: ThreadCpu;
}

/** Runs a command; its wall time, peak RSS and CPU. */
async function runMeasured(args: string[]): Promise<Measured> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const watched = watch(child.pid!);
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  const seen = watched.stop();
  if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}: ${stderr}`);
  return { seconds: (performance.now() - started) / 1000, ...seen };
}

/**
 * Runs one case as a job of a fresh `platen serve` process with `workers` batch workers: the rep's
 * profile stored, the list posted, the job polled until done. Its wall time and the server's CPU from
 * the post, and the server's peak RSS.
 */
async function runAsJob(
  dir: string,
  template: string,
  csv: string,
  output: string,
  workers: number,
): Promise<Measured & { out: string }> {
  const dataDir = await mkdtemp(join(dir, 'data-'));
  const templatesDir = await mkdtemp(join(dir, 'templates-'));
  await cp(TEMPLATE_DIRS[template]!, join(templatesDir, template), { recursive: true });
  const server = spawn(process.execPath, [...cliNodeOptions, cli, 'serve'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      PLATEN_DATA_DIR: dataDir,
      PLATEN_TEMPLATES_DIR: templatesDir,
      PLATEN_BATCH_WORKERS: String(workers),
      LOG_LEVEL: 'info',
    },
  });
  const watched = watch(server.pid!);
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let seen = '';
      server.stdout.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const found = /"url":"(http:[^"]+)"/.exec(seen);
        if (found) resolve(found[1]!);
      });
      server.once('exit', (code) => reject(new Error(`platen serve exited ${code}: ${seen}`)));
    });
    const key = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
    const call = async (method: string, path: string, body?: string | FormData, type?: string) => {
      const res = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(type ? { 'content-type': type } : {}) },
        ...(body ? { body } : {}),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res;
    };
    await call('PUT', '/api/v1/reps/bench', JSON.stringify(REPS[template]), 'application/json');
    const { id: templateId } = JSON.parse(
      await readFile(join(TEMPLATE_DIRS[template]!, 'template.json'), 'utf8'),
    ) as { id: string };
    const form = new FormData();
    form.set('templateId', templateId);
    form.set('output', output);
    form.set('repId', 'bench');
    form.set('csv', new Blob([await readFile(csv)], { type: 'text/csv' }), 'list.csv');
    const started = performance.now();
    const before = watched.cpu();
    const job = (await (await call('POST', '/api/v1/jobs', form)).json()) as { id: string };
    for (;;) {
      const state = ((await (await call('GET', `/api/v1/jobs/${job.id}`)).json()) as { state: string }).state;
      if (state === 'done') break;
      if (state !== 'queued' && state !== 'running') throw new Error(`job ${job.id} ended ${state}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    const after = watched.cpu();
    const cpu: ThreadCpu = {
      main: after.main - before.main,
      workers: after.workers - before.workers,
      v8: after.v8 - before.v8,
      other: after.other - before.other,
    };
    const out = join(dir, `drop.${output}`);
    await writeFile(
      out,
      Buffer.from(await (await call('GET', `/api/v1/jobs/${job.id}/output`)).arrayBuffer()),
    );
    return { seconds, peakRssMb: watched.stop().peakRssMb, cpu, out };
  } finally {
    watched.stop();
    // A server that failed to start has exited already, and exits no more.
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
    await rm(templatesDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'platen-bench-batch-'));
  try {
    const rows = loadProspects();
    const naiveStart = performance.now();
    await naiveMerged(rows, join(dir, 'naive.pdf'));
    const naiveRate = rows.length / ((performance.now() - naiveStart) / 1000);
    const naiveKib = (await stat(join(dir, 'naive.pdf'))).size / 1024 / rows.length;
    console.log(
      `naive pdfkit baseline (engine benchmark, one core, ${rows.length} mailers merged): ` +
        `${naiveRate.toFixed(0)} rows/s, ${naiveKib.toFixed(2)} KiB/row\n`,
    );
    console.log(
      'via      template  rows     output  workers  rows/s   vs naive  KiB/row  peak RSS MB  ' +
        'CPU µs/row: main workers V8 other',
    );
    for (const template of templates) {
      const repPath = join(dir, `${template}-rep.json`);
      await writeFile(repPath, JSON.stringify(REPS[template]));
      for (const count of rowCounts) {
        const csv = join(dir, `${template}-${count}.csv`);
        await writeList(template, count, csv);
        for (const output of outputs) {
          for (const [n, path] of workers.flatMap((n) => via.map((path) => [n, path] as const))) {
            let out = join(dir, `drop.${output}`);
            let result: Measured;
            if (path === 'service') ({ out, ...result } = await runAsJob(dir, template, csv, output, n));
            else
              result = await runMeasured([
                ...cliNodeOptions,
                cli,
                'batch',
                TEMPLATE_DIRS[template]!,
                '--csv',
                csv,
                '--rep',
                repPath,
                '--out',
                out,
                '--concurrency',
                String(n),
              ]);
            const rate = count / result.seconds;
            const kib = (await stat(out)).size / 1024 / count;
            console.log(
              [
                path.padEnd(8),
                template.padEnd(9),
                String(count).padEnd(8),
                output.padEnd(7),
                String(n).padEnd(8),
                rate.toFixed(0).padEnd(8),
                `${(rate / naiveRate).toFixed(2)}x`.padEnd(9),
                kib.toFixed(2).padEnd(8),
                result.peakRssMb.toFixed(0).padEnd(12),
                perRow(result.cpu, count),
              ].join(' '),
            );
            await rm(out, { force: true });
          }
        }
        await rm(csv, { force: true });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
