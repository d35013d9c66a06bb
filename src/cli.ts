#!/usr/bin/env -S node --max-semi-space-size=4
// The flag: a batch's coordinator (this thread: CSV, joining) allocates fast, and V8 lets this thread's
// young generation grow to 16 MB semi-spaces for it, which raises a long drop's peak; at 4 MB the
// peak is lower at the same speed (docs/perf.md). It is for this thread only: workers size their own
// young generation, and the batch command clears the flag before starting them (setWorkerHeapFlags).
import type { SheetSize } from './model/geometry.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { loadRecordImages } from './assets/record-images.js';
import { formatProblem, NotFoundError, PlatenError } from './errors.js';
import { CannotWriteError, writeAtomically } from './files.js';
import type { RecordImages } from './model/piece.js';
import { preparePiece, samples, writePieces } from './pipeline.js';
import { compileTemplate, withMarks } from './template/compile.js';
import { SheetTooSmallError, sheetLayout } from './pdf/impose.js';
import { parseSheetSize } from './model/units.js';
import { SAMPLE_PIECE_CODE } from './model/piece-code.js';
import { recordJsonSchema } from './template/record-schema.js';
import { rerunRows, runBatch } from './jobs/batch.js';
import { setWorkerHeapFlags, WorkerPool } from './jobs/dispatch.js';
import { type CsvDelimiter, type CsvEncoding, type CsvOptions, openCsv } from './jobs/csv.js';
import { parseMapEntries } from './jobs/mapping.js';
import { ProgressDisplay } from './jobs/progress.js';
import { type ReportedRows, reportedRows } from './jobs/report.js';
import { validateTemplate } from './validate.js';
import { type Finding, formatFinding } from './preflight/findings.js';
import type { Violation } from './preflight/standards/index.js';
import { loadConfig } from './config.js';
import { ROLES } from './service/policy.js';
import { type KeyService, OPERATOR } from './service/keys.js';

/** Exit codes: 0 done, 1 the input was rejected, 2 the command was used wrongly. */
const EXIT = { ok: 0, rejected: 1, usage: 2 } as const;

class UsageError extends Error {}

const program = new Command()
  .name('platen')
  .description('Marketing-approved templates in, personalized print-ready PDFs out.')
  .exitOverride()
  .showHelpAfterError();

program
  .command('validate')
  .description('check a template package: manifest, assets, fonts, paths, geometry, samples')
  .argument('<template-dir>')
  .option('--json', 'print the report as JSON')
  .action(async (dir: string, opts: { json?: boolean }) => {
    const { problems, warnings } = await validateTemplate(dir);
    if (opts.json)
      process.stdout.write(
        `${JSON.stringify({ valid: problems.length === 0, problems, warnings }, null, 2)}\n`,
      );
    else {
      for (const p of problems) process.stdout.write(`${formatProblem(p)}\n`);
      for (const w of warnings) process.stdout.write(`${formatFinding(w)}\n`);
      if (problems.length === 0) process.stdout.write(`${dir}: valid\n`);
    }
    process.exitCode = problems.length === 0 ? EXIT.ok : EXIT.rejected;
  });

program
  .command('preflight')
  .description(
    'check a Platen PDF for press: image resolution, text size, embedded fonts, RGB in a CMYK document; with --standard, also the rules of PDF/X-4, PDF/X-1a or PDF/VT-1',
  )
  .argument('<file.pdf>')
  .option('--standard <name>', 'also check the rules of a standard: PDF/X-4, PDF/X-1a or PDF/VT-1')
  .option('--json', 'print the findings as JSON')
  .action(async (file: string, opts: { json?: boolean; standard?: string }) => {
    // Loaded by the commands that use them: the service and pdf.js take half a second to load,
    // which every batch and render would otherwise pay.
    const { preflightPdf, UnreadablePdfError } = await import('./preflight/pdf.js');
    const standards = await import('./preflight/standards/index.js');
    const standard = opts.standard;
    if (standard !== undefined && !standards.isStandard(standard))
      throw new UsageError(
        `--standard ${standard} is not one this checker knows: give ${Object.keys(standards.STANDARDS).join(', ')}`,
      );
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      throw new UsageError(`cannot read ${file}`);
    }
    let findings: Finding[];
    let broken: Violation[] = [];
    try {
      findings = preflightPdf(bytes);
      if (standard !== undefined) broken = standards.checkStandard(bytes, standard);
    } catch (error) {
      if (!(error instanceof UnreadablePdfError)) throw error;
      throw new PlatenError('unreadable_pdf', [{ path: file, rule: 'unreadable', message: error.message }]);
    }
    const errors = findings.filter((f) => f.severity === 'error').length;
    const ok = errors === 0 && broken.length === 0;
    if (opts.json)
      process.stdout.write(
        `${JSON.stringify({ ok, findings, ...(standard === undefined ? {} : { standard, broken }) }, null, 2)}\n`,
      );
    else {
      for (const f of findings) process.stdout.write(`${formatFinding(f)}\n`);
      for (const v of broken) process.stdout.write(`${standards.formatViolation(v)}\n`);
      const rules = standard === undefined ? '' : `; ${standard}: ${broken.length} rules broken`;
      process.stdout.write(`${file}: ${errors} errors, ${findings.length - errors} warnings${rules}\n`);
    }
    process.exitCode = ok ? EXIT.ok : EXIT.rejected;
  });

program
  .command('schema')
  .description('print the JSON Schema (draft 2020-12) of the record a template accepts')
  .argument('<template-dir>')
  .action(async (dir: string) => {
    const compiled = await compileTemplate(dir);
    process.stdout.write(`${JSON.stringify(recordJsonSchema(compiled.manifest), null, 2)}\n`);
  });

program
  .command('render')
  .description("render one record (or the template's samples) into a PDF")
  .argument('<template-dir>')
  .option(
    '--record <record.json>',
    'the record: { rep, prospect, fields }; image inputs are paths relative to it',
  )
  .option(
    '--sample <n>',
    'render sample n (from 0) of the template instead of a record file; all: every sample',
  )
  .requiredOption('--out <file.pdf>', 'where to write the PDF (written only when complete)')
  .option('--marks', "add crop and bleed marks (the template's output.marks sets the default)")
  .option(
    '--impose <sheet>',
    'step-and-repeat the pieces on press sheets, e.g. 12x18in, with marks per sheet',
  )
  .action(async (dir: string, opts: RenderCliOptions) => {
    if ((opts.record === undefined) === (opts.sample === undefined)) {
      throw new UsageError('give exactly one of --record and --sample');
    }
    const impose = opts.impose === undefined ? undefined : parseSheet(opts.impose);
    const compiled = withMarks(await compileTemplate(dir), opts.marks);
    let inputs: { record: unknown; images: RecordImages }[];
    if (opts.record !== undefined) {
      const record = await readJson(opts.record);
      inputs = [{ record, images: await loadRecordImages(compiled, record, dirname(resolve(opts.record))) }];
    } else if (opts.sample === 'all') {
      inputs = samples(compiled);
    } else {
      const sample = samples(compiled)[Number(opts.sample)];
      if (!/^\d+$/.test(opts.sample!) || !sample) {
        throw new UsageError(
          `no sample ${opts.sample}: the template has ${compiled.manifest.samples.length}`,
        );
      }
      inputs = [sample];
    }
    const pieces = inputs.map(({ record, images }) => preparePiece(compiled, record, images));
    if (impose) sheetLayout(compiled.page, impose); // a sheet too small is a usage error, before writing
    await writeAtomically(opts.out, (out) =>
      writePieces(compiled, pieces, out, impose ? { impose } : { single: pieces.length === 1 }),
    );
  });

interface RenderCliOptions {
  record?: string;
  sample?: string;
  out: string;
  marks?: boolean;
  impose?: string;
}

function parseSheet(text: string): SheetSize {
  const sheet = parseSheetSize(text);
  if (!sheet)
    throw new UsageError(`--impose: expected a sheet size such as 12x18in, not ${JSON.stringify(text)}`);
  return sheet;
}

const collect = (value: string, previous: string[]) => [...previous, value];

program
  .command('batch')
  .description(
    'mail-merge a prospect list (CSV) into one print file (.pdf) or one PDF per row (.zip). Offline, its pieces ' +
      `print the sample response code (${SAMPLE_PIECE_CODE}) and nothing records them: a drop whose responses ` +
      'are traced is a job on the server (POST /api/v1/jobs or the batch page)',
  )
  .argument('<template-dir>')
  .requiredOption(
    '--csv <file>',
    'the prospect list: UTF-8 (with or without BOM) or Windows-1252; comma, semicolon or tab',
  )
  .requiredOption(
    '--rep <rep.json>',
    "the rep's details for the whole drop: { name, title, phone, ... }; image paths relative to it",
  )
  .option('--out <drop.pdf|drop.zip>', 'the output (written only when complete)')
  .option('--errors <errors.csv>', 'the rejected-rows report (default: next to the output, or the CSV)')
  .option('--map <header=input>', 'map a CSV column to a prospect input (repeatable)', collect, [])
  .option('--encoding <encoding>', 'utf-8 or windows-1252 (default: detected)')
  .option('--delimiter <delimiter>', 'comma, semicolon or tab (default: detected)')
  .option('--dry-run', 'preflight: validate and fit every row, write the report, draw nothing')
  .option('--concurrency <n>', 'worker threads rendering rows (default: one per core)')
  .option(
    '--rerun-errors <errors.csv>',
    'render only the rows a previous run rejected (listed in its report), as corrected in --csv',
  )
  .option('--marks', "add crop and bleed marks (the template's output.marks sets the default)")
  .option(
    '--impose <sheet>',
    'a .pdf drop: step-and-repeat the pieces on press sheets, e.g. 12x18in, with marks per sheet',
  )
  .action(async (dir: string, opts: BatchCliOptions) => {
    process.exitCode = await batch(dir, opts);
  });

program
  .command('serve')
  .description('run the HTTP service (configured by environment variables: PORT, PLATEN_DATA_DIR, ...)')
  .action(async () => {
    const { startServer } = await import('./server.js');
    const running = await startServer(loadConfig());
    const stop = () => {
      running.services.log.info('shutting down: finishing requests in flight');
      running.close().then(
        () => process.exit(0),
        (error: unknown) => {
          running.services.log.error({ err: error }, 'could not shut down cleanly');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });

program
  .command('worker')
  .description(
    "render batch jobs' chunks from the queue (PLATEN_DATABASE_URL, PLATEN_QUEUE) on this machine's cores, " +
      'until stopped (SIGTERM); parts go to the chunk store under PLATEN_DATA_DIR',
  )
  .option('--concurrency <n>', 'worker threads (default: PLATEN_BATCH_WORKERS, else one per core)')
  .action(async (opts: { concurrency?: string }) => {
    process.exitCode = await worker(opts.concurrency);
  });

const keys = program.command('keys').description('manage API keys in the data directory (PLATEN_DATA_DIR)');

keys
  .command('create')
  .description('create a key and print it (shown once; only its hash is kept)')
  .requiredOption('--role <role>', 'admin, marketing or rep')
  .option('--rep-id <id>', 'the rep profile a rep key acts as (required for rep keys)')
  .option('--name <name>', 'who or what the key is for')
  .action(async (opts: { role: string; repId?: string; name?: string }) => {
    const role = ROLES.find((r) => r === opts.role);
    if (!role) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
    if ((role === 'rep') !== (opts.repId !== undefined))
      throw new UsageError('--rep-id is required for rep keys and only for them');
    await withKeys(async (keys) => {
      const { key, apiKey } = await keys.create(OPERATOR, {
        role,
        ...(opts.repId === undefined ? {} : { repId: opts.repId }),
        name: opts.name ?? `${role} key`,
      });
      process.stdout.write(`${key}\n`);
      process.stderr.write(`created ${role} key ${apiKey.id}\n`);
    });
  });

keys
  .command('revoke')
  .description('revoke a key by its id')
  .argument('<id>')
  .action(async (id: string) => {
    await withKeys(async (keys) => {
      await keys.revoke(OPERATOR, id).catch((error: unknown) => {
        throw error instanceof NotFoundError ? new UsageError(`no live key ${id}`) : error;
      });
      process.stderr.write(`revoked key ${id}\n`);
    });
  });

keys
  .command('list')
  .description('list keys (never their secrets)')
  .action(async () => {
    await withKeys(async (keys) => {
      for (const k of await keys.list(OPERATOR)) {
        process.stdout.write(
          `${k.id}  ${k.role.padEnd(9)}  ${(k.repId ?? '-').padEnd(12)}  ${k.revokedAt ? 'revoked' : 'live   '}  ${k.name}\n`,
        );
      }
    });
  });

async function withKeys(use: (keys: KeyService) => Promise<void>): Promise<void> {
  // Loaded here, as the server is: the services would add to every other command's start-up.
  const { openKeys } = await import('./service/platen.js');
  const { keys, close } = await openKeys(loadConfig());
  try {
    await use(keys);
  } finally {
    await close();
  }
}

interface BatchCliOptions {
  csv: string;
  rep: string;
  out?: string;
  errors?: string;
  map: string[];
  encoding?: string;
  delimiter?: string;
  dryRun?: boolean;
  concurrency?: string;
  rerunErrors?: string;
  marks?: boolean;
  impose?: string;
}

const DELIMITERS = { comma: ',', ',': ',', semicolon: ';', ';': ';', tab: '\t', '\\t': '\t' } as const;

/** Exit codes of a batch: 0 every row rendered, 3 some rejected (the rest output), 1 nothing done. */
async function batch(dir: string, opts: BatchCliOptions): Promise<number> {
  if (!opts.dryRun && !/\.(pdf|zip)$/i.test(opts.out ?? ''))
    throw new UsageError('--out must name a .pdf or a .zip (or use --dry-run)');
  if (opts.encoding !== undefined && opts.encoding !== 'utf-8' && opts.encoding !== 'windows-1252') {
    throw new UsageError('--encoding must be utf-8 or windows-1252');
  }
  const delimiter =
    opts.delimiter === undefined ? undefined : DELIMITERS[opts.delimiter as keyof typeof DELIMITERS];
  if (opts.delimiter !== undefined && !delimiter)
    throw new UsageError('--delimiter must be comma, semicolon or tab');
  const concurrency = opts.concurrency === undefined ? availableParallelism() : Number(opts.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)
    throw new UsageError('--concurrency must be a whole number from 1 to 256');
  const impose = opts.impose === undefined ? undefined : parseSheet(opts.impose);
  if (impose && !/\.pdf$/i.test(opts.out ?? '')) throw new UsageError('--impose needs a .pdf --out');
  // Workers start (loading the engine takes them a while) as this thread reads the template and rep.
  setWorkerHeapFlags();
  const dispatcher = new WorkerPool(concurrency);
  try {
    return await drop(dir, opts, { delimiter, impose, dispatcher });
  } finally {
    await dispatcher.close();
  }
}

async function drop(
  dir: string,
  opts: BatchCliOptions,
  { delimiter, impose, dispatcher }: { delimiter?: CsvDelimiter; impose?: SheetSize; dispatcher: WorkerPool },
): Promise<number> {
  const compiled = withMarks(await compileTemplate(dir), opts.marks);
  const repValues = await readJson(opts.rep);
  if (typeof repValues !== 'object' || repValues === null || Array.isArray(repValues)) {
    throw new PlatenError('invalid_rep', [
      { path: opts.rep, rule: 'object', message: 'expected an object of rep values' },
    ]);
  }
  const images = await loadRecordImages(compiled, { rep: repValues }, dirname(resolve(opts.rep)));
  const out = opts.dryRun ? null : opts.out!;
  const errorsPath = opts.errors ?? `${(out ?? opts.csv).replace(/\.[^./]+$/, '')}-errors.csv`;
  const csv: CsvOptions = {
    ...(opts.encoding ? { encoding: opts.encoding as CsvEncoding } : {}),
    ...(delimiter ? { delimiter } : {}),
  };
  // Refused before any row renders when the list lacks a row the report names.
  const rerun = opts.rerunErrors
    ? await rerunRows(await openCsv(opts.csv, csv), await rejectedRows(opts.rerunErrors))
    : undefined;
  const progress = new ProgressDisplay(process.stderr);
  const result = await runBatch({
    template: { dir, ...(opts.marks ? { marks: true } : {}) },
    compiled,
    ...(impose ? { impose } : {}),
    dispatcher,
    csvPath: opts.csv,
    csv,
    map: parseMapEntries(opts.map),
    ...(rerun ? { onlyRows: rerun.onlyRows, total: rerun.total } : {}),
    rep: { values: repValues as Record<string, unknown>, images: [...images] },
    out,
    errorsPath,
    onProgress: (p) => progress.update(p),
  });
  progress.finish(result);
  const rate = result.elapsedMs > 0 ? Math.round((result.done / result.elapsedMs) * 1000) : result.done;
  process.stderr.write(
    `${result.done} rows: ${result.rendered} ${opts.dryRun ? 'would render' : 'rendered'}, ${result.rejected} rejected` +
      ` in ${(result.elapsedMs / 1000).toFixed(1)} s (${rate} rows/s)\n` +
      (result.output ? `output: ${result.output}\n` : '') +
      (result.rejected > 0 ? `rejected rows: ${errorsPath}\n` : '') +
      (result.mapping.unused.length > 0 ? `unused columns: ${result.mapping.unused.join(', ')}\n` : ''),
  );
  if (result.rendered === 0 && result.done > 0) return 1;
  return result.rejected > 0 ? 3 : 0;
}

/** `platen worker`: takes chunks from the queue until SIGTERM or SIGINT; logs each chunk on stdout. */
async function worker(threads: string | undefined): Promise<number> {
  const config = loadConfig();
  if (config.databaseUrl === null)
    throw new UsageError('platen worker takes chunks from a queue: set PLATEN_DATABASE_URL');
  const concurrency = threads === undefined ? config.batchWorkers || availableParallelism() : Number(threads);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)
    throw new UsageError('--concurrency must be a whole number from 1 to 256');
  const { openChunkStore } = await import('./service/platen.js');
  const { ChunkWorker } = await import('./jobs/queue.js');
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  setWorkerHeapFlags();
  const pool = new WorkerPool(concurrency);
  const dir = await mkdtemp(join(tmpdir(), 'platen-worker-'));
  try {
    const chunks = await ChunkWorker.start({
      url: config.databaseUrl,
      queue: config.queue,
      store: openChunkStore(config),
      pool,
      dir,
      onChunk: ({ index, job, state, error }) =>
        log(`chunk ${index + 1} (job ${job}) ${state}${error ? `: ${error.message}` : ''}`),
      onError: (error) => log(`queue error: ${error.message}`),
    });
    log(`worker ${process.pid} taking chunks from queue ${config.queue} on ${concurrency} threads`);
    await new Promise((stop) => {
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    log('stopping: chunks being rendered go back to the queue');
    await chunks.close();
  } finally {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  }
  return EXIT.ok;
}

/** The rows a rejected-rows report lists. */
async function rejectedRows(path: string): Promise<ReportedRows> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read ${path}`);
  }
  const rows = reportedRows(text);
  if (!rows) throw new UsageError(`${path} is not a rejected-rows report (no row and line columns)`);
  if (rows.size === 0) throw new UsageError(`${path} lists no rejected rows: there is nothing to run again`);
  return rows;
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read ${path}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PlatenError('invalid_json', [
      { path, rule: 'json', message: `not valid JSON: ${(error as Error).message}` },
    ]);
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? EXIT.ok);
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (
      error instanceof UsageError ||
      error instanceof CannotWriteError ||
      error instanceof SheetTooSmallError
    ) {
      process.stderr.write(`platen: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof PlatenError) {
      for (const p of error.problems) process.stderr.write(`${formatProblem(p)}\n`);
      return EXIT.rejected;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv);
