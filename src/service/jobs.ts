import type { SheetSize } from '../model/geometry.js';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse';
import type { Logger } from 'pino';
import { NotFoundError, PlatenError, type Problem, type StorageFault, storageFault } from '../errors.js';
import {
  type BatchProgress,
  chunkSize,
  countRows,
  distinctValues,
  mappedCsv,
  onlyRowsOf,
  repProblems,
  rerunRows,
  runBatch,
} from '../jobs/batch.js';
import { type ChunkKind, type ChunkResult, type RepPart, rowProspect } from '../jobs/chunk.js';
import { type CsvDelimiter, type CsvEncoding, type CsvInput, type CsvRow, openCsv } from '../jobs/csv.js';
import { csvLine, type ReportedRows, reportedRows } from '../jobs/report.js';
import type { ChunkDispatcher } from '../jobs/dispatch.js';
import { type ColumnMapping, mapColumns, normalizeName } from '../jobs/mapping.js';
import { checkpointsOf } from '../jobs/checkpoints.js';
import { quoted, visible } from '../jobs/visible.js';
import { checkedSplit, type JobPieces, newJobSeed, type Split } from '../jobs/experiment.js';
import { type ChoiceInput, choiceInputs, isoDay } from '../model/manifest.js';
import type { ApiKey, Job, JobSpec, JobState, Store } from '../store/store.js';
import { SheetTooSmallError, sheetLayout } from '../pdf/impose.js';
import type { CompiledTemplate } from '../model/template.js';
import { folderEntries, writeAtomically } from '../files.js';
import { authorize, can, ownerOf, repScope, sees } from './policy.js';
import type { PieceService } from './pieces.js';
import type { RenderService, RepDetails } from './render.js';
import type { TemplateService } from './templates.js';

/** A new job's id: given before its row is stored, so that its files can be in place first. */
const newJobId = (): string => randomBytes(8).toString('hex');

/** What a caller asks of a batch job: a prospect list, a template and what to make of them. */
export interface JobRequest {
  templateId: string;
  version?: number;
  kind: ChunkKind;
  /** The path of the prospect list: the job takes the file (it is moved, not copied). */
  csv: string;
  /** CSV header → prospect input overrides of the automatic mapping. */
  map: Record<string, string>;
  /**
   * Marketing and admins: the rep profile on every piece, or with a rep column on the pieces whose
   * row names none. Reps are always on their own.
   */
  repId?: string;
  /** Only these rows of the list (a job's rejected rows, run again as corrected), with their lines. */
  onlyRows?: ReportedRows;
  /** Crop and bleed marks on every piece, whatever the template's default. */
  marks?: boolean;
  /** A merged print file: the pieces stepped and repeated on press sheets of this size. */
  impose?: SheetSize;
  /** The CSV column naming each row's recipient (by default the record's `prospect.id`). */
  recipientColumn?: string;
  /** A choice input split across the rows at random: the arms are its choices, or these of them. */
  split?: { input: string; arms?: string[] };
  /** The percentage of rows (0 to 50) held out: recorded as pieces, never printed. */
  holdout?: number;
}

/** Headers of a rep column, normalized (see normalizeName): each row names its rep profile. */
const REP_COLUMNS = new Set(['rep', 'repid']);
/** Different reps one list may name: their profiles (and photos) are held while the job runs. */
const MOST_ROW_REPS = 1000;

/**
 * A job as callers see it: its state and progress, with rate and ETA while it runs. `waiting` is an
 * unfinished job held up by the server's storage (a full disk): it goes on by itself once it can.
 */
export interface JobView extends Omit<Job, 'spec' | 'keyId' | 'state' | 'owner'> {
  state: JobState | 'waiting';
  /** The job's experiment, as asked: the split and the percentage held out (0 for none). */
  split: Split | null;
  holdout: number;
  /** The rep whose profile prints on the pieces (on rows naming none, with a rep column), and their name. */
  rep: { id: string; name: string } | null;
  /** Why a waiting job waits, for people. */
  waiting: string | null;
  rate: number | null;
  etaSeconds: number | null;
}

/** Why a job waits, by the storage fault that stopped it. */
const WAITING: Record<StorageFault['code'], string> = {
  storage_full: 'the server has run out of storage space; the job goes on by itself once space is freed',
  storage_unavailable:
    'the server cannot write its storage; the job goes on by itself once the storage is back',
};

/** A job stopped by a storage failure tries again after this long, doubling up to the last. */
const RETRY_MS = { first: 1000, last: 30_000 };

/** A job this process is running (or holding while it waits for storage). */
interface Run {
  abort: AbortController;
  rate: RateMeter;
  waiting: StorageFault | null;
  /**
   * Since when this node holds the job (epoch ms), null until its run has claimed it: a renewal of
   * the leases since then that leaves the job out means it is lost.
   */
  heldSince: number | null;
}

/**
 * How often a client watching a job that another node runs sees its row read again: its progress,
 * at most this late.
 */
const WATCH_POLL_MS = 1000;

/** The largest prospect list a job takes (streamed to disk as it is uploaded). */
export const CSV_MAX_BYTES = 512 * 1024 * 1024;
/**
 * How much of a list its columns need: the header, and the 64 KiB its encoding and delimiter are
 * detected from. More than any header a list may have (a record is at most a million characters).
 */
export const CSV_HEAD_BYTES = 4 * 1024 * 1024;

/** A list's columns against a template's prospect inputs, as a job of it would map them. */
export interface JobColumns {
  templateId: string;
  version: number;
  headers: string[];
  encoding: CsvEncoding;
  delimiter: CsvDelimiter;
  /** Every prospect input, in the template's order, with the column that feeds it (null: none). */
  inputs: { key: string; label: string; required: boolean; column: string | null }[];
  /** Required inputs no column feeds: a job of this list and mapping would be refused. */
  missingRequired: string[];
  unused: string[];
  /** Why no mapping could be made (an ambiguous column, an override naming no column): no input has a column then. */
  problems: Problem[];
  /** The template's inputs with choices: what a job of it can split. */
  choices: ChoiceInput[];
  /** The first few values of each column (non-empty, as a person would read them), by header. */
  samples: Record<string, string[]>;
  /**
   * The columns the caller fed this template with last time that this list has too, as overrides
   * (header → input): what to offer in place of the automatic matching; null if none apply.
   */
  saved: Record<string, string> | null;
}

/** A job's file to send (its output, its report): its size, and its bytes or a range of them. */
export interface JobFile {
  size: number;
  /** Bytes `start` to `end`, both included (as HTTP's Range counts them); all by default. */
  read(range?: { start: number; end: number }): Promise<Readable>;
}

/** A job's files in the object store: its list, its output and its report. */
type JobFileName = 'input.csv' | 'errors.csv' | 'output.pdf' | 'output.zip';

/** One line of a job's rejected-rows report: one problem of one row. */
export interface Rejection {
  row: number;
  line: number;
  column: string;
  rule: string;
  message: string;
  value: string;
}

/**
 * Batch jobs over the service. A job's state lives in the store, its list, output and report in the
 * object store (`jobs/<id>/…`, shared by every node), and the parts of the run in a local folder of
 * its own (`<dirs.jobs>/<id>/parts`), so a job survives a crash: on start the service
 * resumes every unfinished job from its last finished chunk, and the output has every good row
 * exactly once, in order. All jobs share one dispatcher (the worker pool), so concurrent jobs share
 * the cores.
 *
 * API nodes on one store share the jobs: each unfinished job is run by the one node holding its
 * lease, which renews it every third of `leaseMs`. A node that dies stops renewing, and once the
 * lease runs out another node takes the job over and resumes it from its checkpoints, as a restart
 * would. A node that finds a job it runs no longer leased to it (it stalled past its lease, or the
 * job was cancelled on another node) stops running it.
 */
export class JobService {
  private readonly running = new Map<string, Run>();
  private readonly events = new EventEmitter().setMaxListeners(0);
  /** This node, as the jobs it holds name it: its host and process (see processGone), then unique. */
  private readonly node = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    /** A local folder per job (its parts), and scratch space for uploads. */
    private readonly dirs: { jobs: string; staging: string },
    private readonly templates: TemplateService,
    private readonly renders: RenderService,
    private readonly pieces: PieceService,
    private readonly dispatcher: ChunkDispatcher,
    private readonly log: Logger,
    /** How long a node's hold on a job lasts unrenewed: how long a job whose node died waits. */
    private readonly leaseMs: number,
    /** How old the files of a job without a row must be for the sweep to remove them (see Platen). */
    private readonly sweepAfterMs: number,
  ) {}

  /**
   * Checks the request (template, rep, CSV and its mapping), stores the job and starts it. A list
   * may have a rep column (`rep` or `Rep ID`) naming each row's rep profile: marketing and admins
   * only, as reps always run as themselves.
   */
  async create(caller: ApiKey, request: JobRequest): Promise<JobView> {
    authorize(caller, 'jobs.run');
    const version = await this.templates.resolve(request.templateId, request.version, caller);
    const compiled = await this.templates.compiled(version);
    return this.staged(request.csv, async (staged) => {
      const { input: all, mapping } = await mappedCsv(compiled, staged, {}, request.map);
      const rerun = request.onlyRows ? await rerunRows(all, request.onlyRows) : null;
      const input = rerun ? onlyRowsOf(all, rerun.onlyRows) : all;
      const mapped = new Set(Object.values(mapping.columns));
      const column = all.headers.find((h) => REP_COLUMNS.has(normalizeName(h)) && !mapped.has(h));
      const repId =
        column === undefined
          ? this.repFor(caller, request.repId)
          : this.rowRepsFor(caller, column, request.repId);
      const reps =
        column === undefined ? undefined : { column, profiles: await this.profilesIn(input, column) };
      if (request.impose) this.checkSheet(compiled, request.kind, request.impose);
      const split = request.split && checkedSplit(compiled, request.split.input, request.split.arms);
      if (request.recipientColumn !== undefined) checkColumn(all.headers, request.recipientColumn);
      const rep = repId === null ? null : await this.profile(repId);
      const repWrong = rep ? repProblems(compiled, (await this.renders.repPart(compiled, rep)).values) : [];
      if (repWrong.length > 0) throw new PlatenError('invalid_request', repWrong);
      const total = rerun?.total ?? (await countRows(input));
      // The list is stored before the job's row exists: a crash between the two leaves a list that
      // start-up removes (see sweep), never a job without its list.
      const id = newJobId();
      let job: Job;
      try {
        await this.store.objects.putFile(this.key(id, 'input.csv'), staged);
        job = await this.store.jobs.create({
          id,
          keyId: caller.id,
          repId: repScope(caller),
          templateId: version.templateId,
          version: version.version,
          kind: request.kind,
          spec: {
            map: request.map,
            rep,
            repId,
            ...(reps ? { reps } : {}),
            ...(rerun ? { onlyRows: [...rerun.onlyRows] } : {}),
            ...(request.marks ? { marks: true } : {}),
            ...(request.impose ? { impose: request.impose } : {}),
            chunkRows: chunkSize(total, request.kind, this.dispatcher.concurrency),
            // Codes are fixed now, so that a resumed job prints the same codes and URLs.
            // A number for every row up to the last one printed (a rerun's rows keep their numbers).
            firstNumber: await this.pieces.reserve(rerun ? Math.max(...rerun.onlyRows) : total),
            pieceSeed: newJobSeed(),
            publicUrl: this.pieces.publicUrl,
            ...(request.recipientColumn === undefined ? {} : { recipientColumn: request.recipientColumn }),
            ...(split ? { split } : {}),
            ...(request.holdout ? { holdout: request.holdout } : {}),
          },
          total,
        });
      } catch (error) {
        await this.store.objects.deleteAll(this.prefix(id));
        throw error;
      }
      this.start(job);
      // Offered with the caller's next list for the template; a job runs whether or not it is kept.
      await this.store.jobs
        .saveMapping(version.templateId, ownerOf(caller), mapping.columns)
        .catch((error: unknown) => this.log.warn({ err: error, job: id }, 'cannot keep a column mapping'));
      return this.view(job);
    });
  }

  /**
   * Runs a finished job's rejected rows again, as corrected in `csv`: the list with its rows where
   * they were (row numbers are the report's), the same template, output kind, mapping and rep. A list
   * without every rejected row is refused, naming the rows it lacks (see rerunRows).
   */
  async rerun(caller: ApiKey, id: string, csv: string): Promise<JobView> {
    const { file, job } = await this.outputOf(caller, id, 'errors');
    const rows = reportedRows(await text(await file.read()));
    if (!rows || rows.size === 0)
      throw new PlatenError('invalid_request', [
        { path: 'id', rule: 'nothing_rejected', message: `job ${id} rejected no rows` },
      ]);
    const { spec } = (await this.store.jobs.get(job.id))!;
    const repId = spec.repId ?? job.repId;
    return this.create(caller, {
      templateId: job.templateId,
      version: job.version,
      kind: job.kind,
      csv,
      map: spec.map,
      ...(repId ? { repId } : {}),
      ...(spec.marks ? { marks: true } : {}),
      ...(spec.impose ? { impose: spec.impose } : {}),
      ...(spec.recipientColumn === undefined ? {} : { recipientColumn: spec.recipientColumn }),
      ...(spec.split ? { split: spec.split } : {}),
      ...(spec.holdout ? { holdout: spec.holdout } : {}),
      onlyRows: rows,
    });
  }

  /**
   * Removes what a crash leaves of jobs: the files of a job that was never stored (its list put in,
   * its row not written), and the local parts and temporary files of jobs that had ended. Returns
   * what was removed. At start-up, before any job runs.
   */
  async sweep(): Promise<string[]> {
    const removed: string[] = [];
    for (const id of await this.jobIds()) {
      const job = await this.store.jobs.get(id);
      if (job && !ENDED.has(job.state)) continue;
      if (!job) {
        // Alone on its store (no wait), no other node can be a moment from storing the row.
        if (this.sweepAfterMs > 0 && (await this.writtenSince(id, Date.now() - this.sweepAfterMs))) continue;
        await this.store.objects.deleteAll(this.prefix(id));
        await rm(this.dir(id), { recursive: true, force: true });
        removed.push(this.prefix(id));
        continue;
      }
      const leftovers = (await folderEntries(this.dir(id))).filter(
        (name) => name === 'parts' || name.endsWith('.tmp'),
      );
      for (const name of leftovers) {
        await rm(join(this.dir(id), name), { recursive: true, force: true });
        removed.push(join(this.dir(id), name));
      }
    }
    await this.store.jobs.dropEndedChunks();
    return removed;
  }

  /**
   * Removes the files of jobs that ended before `before` (an ISO time): their lists, outputs and
   * reports name recipients, and are kept no longer than the pieces' links to them. The job's row,
   * with its counts, stays. Returns the jobs' prefixes in the object store.
   */
  async expireFiles(before: string): Promise<string[]> {
    const removed: string[] = [];
    for (const id of await this.jobIds()) {
      const job = await this.store.jobs.get(id);
      if (!job || !ENDED.has(job.state) || (job.finishedAt ?? job.createdAt) >= before) continue;
      await this.store.objects.deleteAll(this.prefix(id));
      await rm(this.dir(id), { recursive: true, force: true });
      removed.push(this.prefix(id));
    }
    return removed;
  }

  /** Whether a job's files were written since `time`: a job another node is storing its row for. */
  private async writtenSince(id: string, time: number): Promise<boolean> {
    const all = await this.store.objects.list(this.prefix(id));
    const earlier = await this.store.objects.list(this.prefix(id), time);
    const folder = await stat(this.dir(id)).catch(() => null);
    return all.length > earlier.length || (folder !== null && folder.mtimeMs >= time);
  }

  /** The ids of the jobs with files, in the object store or in the local folder of jobs. */
  private async jobIds(): Promise<string[]> {
    const ids = new Set(await folderEntries(this.dirs.jobs));
    for (const key of await this.store.objects.list('jobs/')) ids.add(key.split('/')[1]!);
    return [...ids];
  }

  /**
   * Starts every unfinished job no node holds (a stop interrupted it, or its node died), from its
   * checkpoints; then, every third of a lease, renews this node's leases and takes over the jobs
   * whose leases ran out. At start-up, once.
   */
  async resumeUnfinished(): Promise<void> {
    await this.takeOver();
    this.heartbeat = setInterval(() => {
      this.keepLeases().catch((error: unknown) =>
        this.log.warn({ err: error }, 'cannot renew the leases of batch jobs'),
      );
    }, this.leaseMs / 3);
  }

  /** Renews this node's leases, stops the jobs it no longer holds, and takes over unheld ones. */
  private async keepLeases(): Promise<void> {
    const since = Date.now();
    const held = new Set(await this.store.jobs.renew(this.node, this.leaseMs));
    for (const [id, run] of this.running) {
      if (held.has(id) || run.heldSince === null || run.heldSince >= since || run.abort.signal.aborted)
        continue;
      this.log.warn({ job: id }, 'batch job no longer held by this node: stopping it here');
      run.abort.abort();
    }
    await this.takeOver();
  }

  private async takeOver(): Promise<void> {
    for (const job of await this.store.jobs.unfinished()) {
      if (this.running.has(job.id)) continue;
      const dead = job.owner !== null && processGone(job.owner, this.node) ? job.owner : undefined;
      try {
        if (!(await this.store.jobs.claim(job.id, this.node, this.leaseMs, dead))) continue;
      } catch (error) {
        // The storage refuses writes (a full disk): the run claims the job once it can (see attempt).
        if (!storageFault(error)) throw error;
      }
      this.log.info({ job: job.id, done: job.done, total: job.total }, 'resuming batch job');
      this.start(job);
    }
  }

  /** A job the caller may see: reps their own, marketing and admins all. Others' do not exist. */
  async get(caller: ApiKey, id: string): Promise<JobView> {
    return this.view(await this.visible(caller, id));
  }

  /** Jobs the caller may see, newest first; without preflight checks unless `checks`. */
  async list(caller: ApiKey, limit: number, checks = true): Promise<JobView[]> {
    authorize(caller, 'jobs.run');
    const scope = repScope(caller);
    const filter = {
      ...(scope === null ? {} : { repId: scope }),
      ...(checks ? {} : { withoutChecks: true }),
    };
    return (await this.store.jobs.list({ ...filter, limit })).map((job) => this.view(job));
  }

  /** Cancels a queued or running job: it stops, and its parts go. A finished job is left as it is. */
  async cancel(caller: ApiKey, id: string): Promise<JobView> {
    const job = await this.visible(caller, id);
    if (await this.store.jobs.finish(job.id, 'cancelled')) this.running.get(job.id)?.abort.abort();
    return this.get(caller, id);
  }

  /**
   * Calls `listener` with the job's view on every change, and `stopping` if the service stops first;
   * returns an unsubscribe.
   */
  async subscribe(
    caller: ApiKey,
    id: string,
    listener: (job: JobView) => void,
    stopping: () => void,
  ): Promise<() => void> {
    const job = await this.visible(caller, id);
    this.events.on(job.id, listener);
    this.events.on(STOPPING, stopping);
    // A job another node runs changes in the store only: its row is read again while it is watched.
    const poll = setInterval(() => {
      if (this.running.has(job.id)) return;
      this.store.jobs
        .get(job.id)
        .then((found) => found && listener(this.view(found)))
        .catch((error: unknown) => this.log.warn({ err: error, job: job.id }, 'cannot read a batch job'));
    }, WATCH_POLL_MS);
    return () => {
      clearInterval(poll);
      this.events.off(job.id, listener);
      this.events.off(STOPPING, stopping);
    };
  }

  /** A finished job's output or rejected-rows report; NotFoundError until there is one. */
  async outputOf(
    caller: ApiKey,
    id: string,
    what: 'output' | 'errors',
  ): Promise<{ file: JobFile; job: JobView }> {
    const job = await this.visible(caller, id);
    const key = this.key(
      id,
      what === 'errors' ? 'errors.csv' : job.kind === 'zip' ? 'output.zip' : 'output.pdf',
    );
    const thing = what === 'errors' ? 'report' : 'output';
    if (job.state !== 'done')
      throw new NotFoundError('not_ready', `job ${id} has no ${thing} yet (${job.state})`);
    const expired = () =>
      new NotFoundError('expired', `job ${id}'s ${thing} was removed at the end of the retention period`);
    const size = await this.store.objects.size(key);
    if (size === null) throw expired();
    const read = async (range?: { start: number; end: number }) => {
      const bytes = await this.store.objects.read(key, range);
      if (!bytes) throw expired();
      return bytes;
    };
    return { file: { size, read }, job: this.view(job) };
  }

  /**
   * A job's changes as server-sent events would carry them: `send` gets its state now, then each
   * change as `progress`, and the last as `end` once it has ended; `close` is called after `end`, or
   * when the service stops first. Returns an unsubscribe, for a client that goes away.
   */
  async watch(
    caller: ApiKey,
    id: string,
    send: (event: 'progress' | 'end', job: JobView) => void,
    close: () => void,
  ): Promise<() => void> {
    let last = '';
    const listener = (job: JobView) => {
      const data = JSON.stringify(job);
      if (data === last) return;
      last = data;
      const ended = ENDED.has(job.state);
      send(ended ? 'end' : 'progress', job);
      if (ended) stop();
    };
    const unsubscribe = await this.subscribe(caller, id, listener, () => stop());
    const stop = () => {
      unsubscribe();
      close();
    };
    listener(await this.get(caller, id));
    return unsubscribe;
  }

  /**
   * A list's columns and the mapping a job of it would use (automatic, then `map`'s overrides),
   * naming the required inputs no column feeds: what a person checks before starting a job. `csv` is
   * the path of the list, or of its start: only the header is read.
   */
  async columns(
    caller: ApiKey,
    templateId: string,
    version: number | undefined,
    csv: string,
    map: Record<string, string>,
  ): Promise<JobColumns> {
    authorize(caller, 'jobs.run');
    const found = await this.templates.resolve(templateId, version, caller);
    const compiled = await this.templates.compiled(found);
    const inputs = compiled.inputs.prospect;
    const { headers, encoding, delimiter } = await openCsv(csv);
    let mapping: ColumnMapping | null = null;
    let problems: Problem[] = [];
    try {
      mapping = mapColumns(headers, inputs, map);
    } catch (error) {
      if (!(error instanceof PlatenError)) throw error;
      problems = error.problems;
    }
    const columns = mapping?.columns ?? {};
    const kept = await this.store.jobs.mapping(found.templateId, ownerOf(caller));
    const saved = Object.entries(kept ?? {}).filter(
      ([input, header]) => Object.hasOwn(inputs, input) && headers.includes(header),
    );
    return {
      templateId: found.templateId,
      version: found.version,
      headers,
      encoding,
      delimiter,
      inputs: Object.entries(inputs).map(([key, def]) => ({
        key,
        label: def.label ?? key,
        required: def.required,
        column: Object.hasOwn(columns, key) ? columns[key]! : null,
      })),
      missingRequired: mapping?.missingRequired ?? [],
      unused: mapping?.unused ?? headers,
      problems,
      choices: choiceInputs(compiled.inputs),
      samples: await columnSamples(csv, headers),
      saved: saved.length > 0 ? Object.fromEntries(saved.map(([input, header]) => [header, input])) : null,
    };
  }

  /**
   * A PNG of one page of the piece a list's first row makes, as a job of it would print it (the
   * job's rep, the mapping asked for), before anything runs: the row's problems if it has any.
   */
  async previewFirstRow(
    caller: ApiKey,
    request: Pick<JobRequest, 'templateId' | 'version' | 'csv' | 'map' | 'repId'>,
    page: number,
    scale: number,
    signal: AbortSignal,
  ): Promise<{ png: Buffer; pages: number; problems: Problem[] }> {
    authorize(caller, 'jobs.run');
    const version = await this.templates.resolve(request.templateId, request.version, caller);
    const compiled = await this.templates.compiled(version);
    const { input, mapping } = await mappedCsv(compiled, request.csv, {}, request.map);
    let first: CsvRow | undefined;
    for await (const row of input.rows) {
      first = row;
      break;
    }
    if (!first)
      throw new PlatenError('invalid_csv', [{ path: 'csv', rule: 'empty', message: 'the list has no rows' }]);
    const rep = await this.renders.repPart(compiled, await this.profile(this.repFor(caller, request.repId)));
    const record = { rep: rep.values, prospect: rowProspect(compiled, first, mapping), fields: {} };
    const { png, pages, problems } = await this.renders.previewRecord(
      caller,
      compiled,
      record,
      rep.images,
      page,
      scale,
      signal,
    );
    return { png, pages, problems };
  }

  /**
   * A list to start from for a template: a column for each prospect input (named by its label, as
   * the automatic matching reads it; image inputs have none, a list carries no images), and a row
   * for each of its samples. A CSV, UTF-8 with a BOM for Excel.
   */
  async sampleCsv(caller: ApiKey, templateId: string): Promise<{ csv: string; templateId: string }> {
    authorize(caller, 'jobs.run');
    const version = await this.templates.resolve(templateId, undefined, caller);
    const compiled = await this.templates.compiled(version);
    const inputs = Object.entries(compiled.inputs.prospect).filter(([, def]) => def.type !== 'image');
    const labels = inputs.map(([key, def]) => def.label ?? key);
    // Two inputs labelled alike would make one column feed both: such keep their names.
    const header = inputs.map(([key], i) =>
      labels.indexOf(labels[i]!) === i && labels.lastIndexOf(labels[i]!) === i ? labels[i]! : key,
    );
    const rows = compiled.manifest.samples.map((sample) => {
      const prospect = (sample.record as { prospect?: Record<string, unknown> }).prospect ?? {};
      return inputs.map(([key]) => {
        const value = prospect[key];
        return value === undefined || value === null ? '' : String(value);
      });
    });
    return { csv: '\uFEFF' + [header, ...rows].map(csvLine).join(''), templateId: version.templateId };
  }

  /**
   * Runs a finished job's rejected rows again with cells corrected on the page: its list, with each
   * fix written into its row and column, becomes the corrected list of a rerun (see rerun). A fix
   * must name a rejected row and a column of the list.
   */
  async rerunFixed(caller: ApiKey, id: string, fixes: CellFix[]): Promise<JobView> {
    const { file, job } = await this.outputOf(caller, id, 'errors');
    const rejected = reportedRows(await text(await file.read())) ?? new Map<number, number>();
    const input = await openCsv(await this.inputOf(job.id));
    const byRow = new Map<number, Map<string, string>>();
    const problems: Problem[] = [];
    fixes.forEach((fix, i) => {
      if (!rejected.has(fix.row))
        problems.push({
          path: `fixes.${i}.row`,
          rule: 'not_rejected',
          message: `row ${fix.row} was not rejected`,
        });
      else if (!input.headers.includes(fix.column))
        problems.push({
          path: `fixes.${i}.column`,
          rule: 'unknown_column',
          message: `the list has no column ${quoted(fix.column)}`,
        });
      else byRow.set(fix.row, (byRow.get(fix.row) ?? new Map<string, string>()).set(fix.column, fix.value));
    });
    if (problems.length > 0) throw new PlatenError('invalid_request', problems);
    const corrected = join(this.dirs.staging, `${randomBytes(8).toString('hex')}.csv`);
    try {
      await writeAtomically(corrected, async (out) => {
        out.write('\uFEFF' + listLine(input.headers));
        for await (const row of input.rows) {
          const fixed = byRow.get(row.row);
          // A cell that is not text in the list cannot be written back as it was: it must be typed.
          const unreadable = (row.problems ?? []).find((p) => !fixed?.has(p.path));
          if (unreadable && rejected.has(row.row))
            throw new PlatenError('invalid_request', [
              {
                path: 'fixes',
                rule: 'unreadable_cell',
                message: `row ${row.row}: the cell in the column ${quoted(unreadable.path)} is not text in the list's encoding: type it again here, or upload the corrected list`,
              },
            ]);
          const cells = input.headers.map((h) => fixed?.get(h) ?? row.values[h] ?? '');
          out.write(listLine([...cells, ...row.extra]));
        }
      });
      return await this.rerun(caller, id, corrected);
    } finally {
      await rm(corrected, { force: true });
      await this.store.objects.release(this.key(job.id, 'input.csv'));
    }
  }

  /**
   * Runs `use` on an uploaded list, taken over from its request (moved to a name of the job's own, so
   * the request's clean-up cannot remove it while the job uses it); removes it after, unless `use` has
   * moved it on.
   */
  private async staged<T>(csv: string, use: (path: string) => Promise<T>): Promise<T> {
    const path = join(this.dirs.staging, `${randomBytes(8).toString('hex')}.csv`);
    await rename(csv, path);
    try {
      return await use(path);
    } finally {
      await rm(path, { force: true });
    }
  }

  /** The first `limit` lines of a finished job's rejected-rows report, and how many it has. */
  async rejections(
    caller: ApiKey,
    id: string,
    limit: number,
  ): Promise<{ lines: Rejection[]; total: number }> {
    const { file } = await this.outputOf(caller, id, 'errors');
    const lines: Rejection[] = [];
    let total = 0;
    // Read whole to count it, one line at a time: a drop's report can be long.
    for await (const cells of (await file.read()).pipe(parse({ bom: true, columns: true }))) {
      total += 1;
      if (lines.length >= limit) continue;
      const r = cells as Record<keyof Rejection, string>;
      lines.push({ ...r, row: Number(r.row), line: Number(r.line) });
    }
    return { lines, total };
  }

  /**
   * Waits for running jobs to stop after aborting them, and lets go of their leases: for shutdown
   * (another node takes them over at once, or this one on its next start).
   */
  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    this.events.emit(STOPPING);
    for (const { abort } of this.running.values()) abort.abort();
    while (this.running.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await this.store.jobs
      .release(this.node)
      .catch((error: unknown) => this.log.warn({ err: error }, 'cannot let go of batch jobs’ leases'));
  }

  private repFor(caller: ApiKey, repId: string | undefined): string {
    if (!can(caller.role, 'reps.any')) {
      if (repId !== undefined && repId !== caller.repId) {
        throw new PlatenError('invalid_request', [
          { path: 'repId', rule: 'not_allowed', message: 'a rep runs jobs as themselves only' },
        ]);
      }
      return caller.repId!;
    }
    if (repId === undefined) {
      throw new PlatenError('invalid_request', [
        { path: 'repId', rule: 'required', message: 'name the rep profile whose details go on every piece' },
      ]);
    }
    return repId;
  }

  /** Imposition: a merged print file only, on a sheet that holds a piece and its marks. */
  private checkSheet(compiled: CompiledTemplate, kind: ChunkKind, sheet: SheetSize): void {
    let problem: string | null = kind === 'zip' ? 'only a merged print file (output pdf) is imposed' : null;
    try {
      sheetLayout(compiled.page, sheet);
    } catch (error) {
      if (!(error instanceof SheetTooSmallError)) throw error;
      problem = error.message;
    }
    if (problem)
      throw new PlatenError('invalid_request', [{ path: 'impose', rule: 'sheet', message: problem }]);
  }

  /** With a rep column: the rep for rows naming none, if the caller (marketing or admin) gave one. */
  private rowRepsFor(caller: ApiKey, column: string, repId: string | undefined): string | null {
    if (!can(caller.role, 'reps.any'))
      throw new PlatenError('invalid_request', [
        {
          path: `csv.${column}`,
          rule: 'not_allowed',
          message:
            'a rep runs jobs as themselves only: remove the rep column (marketing can name a rep per row)',
        },
      ]);
    return repId ?? null;
  }

  private async profile(repId: string): Promise<RepDetails> {
    const profile = await this.store.reps.get(repId);
    if (!profile) {
      throw new PlatenError('invalid_request', [
        { path: 'repId', rule: 'unknown_rep', message: `no rep profile ${repId}` },
      ]);
    }
    const { id: _id, updatedAt: _at, ...details } = profile;
    return details;
  }

  /** The profiles a rep column names, as they are now; rows naming no profile are rejected later. */
  private async profilesIn(input: CsvInput, column: string): Promise<Record<string, RepDetails>> {
    const profiles: Record<string, RepDetails> = {};
    for (const id of await distinctValues(input, column, MOST_ROW_REPS)) {
      if (await this.store.reps.get(id)) profiles[id] = await this.profile(id);
    }
    return profiles;
  }

  private async visible(caller: ApiKey, id: string): Promise<Job> {
    authorize(caller, 'jobs.run');
    const job = await this.store.jobs.get(id);
    if (!job || !sees(caller, job)) throw new NotFoundError('not_found', `no job ${id}`);
    return job;
  }

  /** A job's local folder: its parts while it runs. */
  private dir(id: string): string {
    return join(this.dirs.jobs, id);
  }

  private prefix(id: string): string {
    return `jobs/${id}/`;
  }

  private key(id: string, name: JobFileName): string {
    return this.prefix(id) + name;
  }

  /** A local copy of a job's list (the list itself where objects are local files). */
  private async inputOf(id: string): Promise<string> {
    const path = await this.store.objects.localFile(this.key(id, 'input.csv'));
    if (path === null) throw new NotFoundError('expired', `job ${id}'s list was removed`);
    return path;
  }

  /** Runs a job in the background until it ends or the service stops. */
  private start(job: Job): void {
    const run: Run = {
      abort: new AbortController(),
      rate: new RateMeter(),
      waiting: null,
      heldSince: null,
    };
    this.running.set(job.id, run);
    this.runToEnd(job, run).catch((error: unknown) =>
      this.log.error({ err: error, job: job.id }, 'batch job stopped by an unexpected error'),
    );
  }

  /**
   * Runs a job; while the storage fails (a full disk), waits and tries again from its checkpoints,
   * so that no row is lost to it. Ends with the job done, failed or cancelled, or the service
   * stopping (it resumes on the next start).
   */
  private async runToEnd(job: Job, run: Run): Promise<void> {
    const { signal } = run.abort;
    try {
      for (let wait = RETRY_MS.first; ; wait = Math.min(2 * wait, RETRY_MS.last)) {
        run.waiting = await this.attempt(job, run);
        if (!run.waiting || signal.aborted) break;
        this.log.warn(
          { job: job.id, code: run.waiting.code, retryMs: wait },
          'batch job waiting for storage',
        );
        await this.emit(job.id);
        await sleep(wait, undefined, { signal }).catch(() => undefined);
        if (signal.aborted) break;
        run.waiting = null;
      }
      await this.cleanUp(job.id);
    } finally {
      this.running.delete(job.id);
      try {
        await this.emit(job.id);
      } catch (error) {
        this.log.error({ err: error, job: job.id }, 'cannot read a batch job');
      }
    }
  }

  /**
   * One run of a job from its checkpoints. Returns the storage fault that stopped it (its parts and
   * checkpoints kept, to go on from), or null once it has ended or been aborted.
   */
  private async attempt(job: Job, run: Run): Promise<StorageFault | null> {
    const { signal } = run.abort;
    const { rate } = run;
    const dir = this.dir(job.id);
    const partsDir = join(dir, 'parts');
    try {
      // Each run, and each try after the storage failed, runs only while this node holds the job.
      if (!(await this.store.jobs.claim(job.id, this.node, this.leaseMs))) {
        this.log.info({ job: job.id }, 'batch job held by another node, or ended: not run here');
        return null;
      }
      run.heldSince ??= Date.now();
      await this.store.jobs.started(job.id);
      await mkdir(partsDir, { recursive: true });
      // Leftovers of a run a crash interrupted: outputs are rebuilt from the parts.
      for (const name of await readdir(dir))
        if (name.endsWith('.tmp')) await rm(join(dir, name), { force: true });
      const version = await this.templates.stored(job.templateId, job.version);
      const compiled = await this.templates.compiled(version);
      const { rep, reps } = job.spec;
      const partOf = async (profile: RepDetails) => {
        const part = await this.renders.repPart(compiled, profile);
        return { values: part.values, images: [...part.images] };
      };
      const byId: Record<string, RepPart> = {};
      for (const [id, profile] of Object.entries(reps?.profiles ?? {})) byId[id] = await partOf(profile);
      const saved = checkpointsOf(await this.store.jobs.chunks(job.id));
      await runBatch({
        template: {
          dir: await this.templates.packageDir(job),
          version: job.version,
          ...(job.spec.marks ? { marks: true } : {}),
        },
        ...(job.spec.impose ? { impose: job.spec.impose } : {}),
        compiled,
        csvPath: await this.inputOf(job.id),
        map: job.spec.map,
        rep: rep && (await partOf(rep)),
        ...(reps ? { reps: { column: reps.column, byId } } : {}),
        ...(job.spec.onlyRows ? { onlyRows: new Set(job.spec.onlyRows) } : {}),
        // Counted when the job was created: the list is not read once more for it.
        ...(job.total === null ? {} : { total: job.total }),
        ...(await this.piecesOf(job.spec)),
        out: job.kind === 'check' ? null : this.key(job.id, job.kind === 'zip' ? 'output.zip' : 'output.pdf'),
        errorsPath: this.key(job.id, 'errors.csv'),
        writeFile: (key, write) => this.store.objects.write(key, write),
        dispatcher: this.dispatcher,
        partsDir,
        chunkRows: job.spec.chunkRows,
        // The day the job was made: a job resumed after midnight still dates every row alike.
        today: isoDay(new Date(job.createdAt)),
        created: new Date(job.createdAt),
        checkpoints: {
          // A chunk counts as finished only if its part is still there (a check has none).
          get: (index) => {
            const chunk = saved.get(index);
            return chunk && (chunk.part === null || existsSync(chunk.part)) ? chunk : undefined;
          },
          // Its pieces are recorded first: a crash between the two records them again when the chunk
          // is drawn again, and the store keeps the first (by code, and by job and row).
          save: async ({ pieces, ...chunk }) => {
            await this.record(job, pieces);
            await this.store.jobs.saveChunk(job.id, chunk.index, chunk);
          },
        },
        signal,
        onProgress: async (progress) => {
          rate.update(progress);
          await this.store.jobs.progress(job.id, progress);
          await this.emit(job.id);
        },
      });
      await this.store.jobs.finish(job.id, 'done');
      return null;
    } catch (error) {
      // Aborted: cancelled (its state is set already), or the service is stopping (resumes on start).
      if (signal.aborted) return null;
      const fault = storageFault(error);
      if (fault) return fault;
      this.log.error({ err: error, job: job.id }, 'batch job failed');
      const message = error instanceof PlatenError ? error.message : 'internal error';
      try {
        await this.store.jobs.finish(job.id, 'failed', message);
        return null;
      } catch (recording) {
        // The failure cannot be recorded while the storage fails: the job waits, and meets it again.
        const fault = storageFault(recording);
        if (fault) return fault;
        throw recording;
      }
    }
  }

  /**
   * An ended job needs its checkpoints, parts and local copy of its list no more (the output holds
   * them; the list stays in the object store). A job interrupted by a stop keeps them, to resume from. What cannot be removed now is left to the start-up sweep.
   */
  private async cleanUp(id: string): Promise<void> {
    const state = (await this.store.jobs.get(id))?.state;
    if (state === undefined || !ENDED.has(state)) return;
    try {
      await this.store.jobs.dropChunks(id);
      await rm(join(this.dir(id), 'parts'), { recursive: true, force: true });
      await this.store.objects.release(this.key(id, 'input.csv'));
    } catch (error) {
      this.log.warn({ err: error, job: id }, 'cannot remove the parts of an ended batch job');
    }
  }

  /** What a job's rows are traced by (see JobPieces); a job stored before pieces had codes has none. */
  private async piecesOf(spec: JobSpec): Promise<{ pieces: JobPieces } | Record<string, never>> {
    const { firstNumber, pieceSeed, publicUrl, recipientColumn, split, holdout } = spec;
    if (firstNumber === undefined || pieceSeed === undefined || publicUrl === undefined) return {};
    return {
      pieces: {
        firstNumber,
        codeKey: (await this.pieces.codeKey()).toString('hex'),
        seed: pieceSeed,
        publicUrl,
        ...(recipientColumn === undefined ? {} : { recipientColumn }),
        ...(split ? { split } : {}),
        ...(holdout ? { holdout } : {}),
      },
    };
  }

  /** A chunk's pieces, as a job's own (a check's chunks have none). */
  private async record(job: Job, pieces: ChunkResult['pieces']): Promise<void> {
    if (pieces.length === 0) return;
    await this.pieces.made(
      pieces.map(({ repId, ...piece }) => ({
        ...piece,
        templateId: job.templateId,
        version: job.version,
        // The row's rep, else the job's: whose profile is on the piece.
        repId: repId ?? job.spec.repId ?? job.repId,
        keyId: job.keyId,
        channel: 'batch',
        jobId: job.id,
      })),
    );
  }

  private async emit(id: string): Promise<void> {
    const job = await this.store.jobs.get(id);
    if (job) this.events.emit(id, this.view(job));
  }

  private view(job: Job): JobView {
    const { spec, keyId: _keyId, owner: _owner, ...rest } = job;
    const run = this.running.get(job.id);
    const waiting = run?.waiting && !ENDED.has(job.state) ? WAITING[run.waiting.code] : null;
    const rate = waiting ? null : (run?.rate.rowsPerSecond ?? null);
    const left = job.total === null ? null : job.total - job.done;
    const repId = spec.repId ?? job.repId;
    return {
      ...rest,
      rep: repId ? { id: repId, name: spec.rep?.name || repId } : null,
      split: spec.split ?? null,
      holdout: spec.holdout ?? 0,
      state: waiting ? 'waiting' : job.state,
      waiting,
      rate: rate === null ? null : Math.round(rate),
      etaSeconds: rate && left !== null && job.state === 'running' ? Math.ceil(left / rate) : null,
    };
  }
}

/**
 * Whether the node `owner` names (see JobService's node) was a process on this host that has gone:
 * a service restarted after a crash takes its jobs back at once rather than wait out the dead one's
 * lease. Nodes on other hosts (and hosts of the same name: give each container its own) are judged
 * by their leases alone.
 */
function processGone(owner: string, self: string): boolean {
  const [host, pid] = owner.split(':');
  if (owner === self || host !== hostname() || !pid) return false;
  // Our own process id, another node's: it was a process before this one (a container's first
  // process has the same id each time it starts).
  if (Number(pid) === process.pid) return true;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    // EPERM: a process of another user has that id now, alive.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** A column a job names must be one of its list's. */
function checkColumn(headers: string[], column: string): void {
  if (!headers.includes(column))
    throw new PlatenError('invalid_request', [
      {
        path: 'recipientColumn',
        rule: 'unknown_column',
        message: `the list has no column ${quoted(column)} (its columns: ${headers.map(visible).join(', ')})`,
      },
    ]);
}

const STOPPING = Symbol('stopping');
const ENDED: ReadonlySet<JobState | 'waiting'> = new Set(['done', 'failed', 'cancelled']);

/** Rows per second since this run's first progress (a resumed job's finished chunks excluded). */
class RateMeter {
  private start: { at: number; done: number } | null = null;
  rowsPerSecond: number | null = null;

  update(progress: BatchProgress): void {
    const now = performance.now();
    this.start ??= { at: now, done: progress.done };
    const seconds = (now - this.start.at) / 1000;
    if (seconds > 0.2) this.rowsPerSecond = (progress.done - this.start.done) / seconds;
  }
}

/** A cell corrected on a job's page: the rejected row (by the report's number), its column and value. */
export interface CellFix {
  row: number;
  column: string;
  value: string;
}

/** Values a column shows, and at most how long each is shown. */
const SAMPLE_VALUES = { count: 3, chars: 40, rows: 50 };

/** The first few non-empty values of each column, from the first rows of a list (or of its start). */
async function columnSamples(csv: string, headers: string[]): Promise<Record<string, string[]>> {
  const samples: Record<string, string[]> = Object.fromEntries(headers.map((h) => [h, []]));
  let read = 0;
  try {
    for await (const row of (await openCsv(csv)).rows) {
      for (const header of headers) {
        const value = visible((row.values[header] ?? '').trim());
        const shown = samples[header]!;
        if (value !== '' && shown.length < SAMPLE_VALUES.count)
          shown.push(
            value.length > SAMPLE_VALUES.chars ? `${value.slice(0, SAMPLE_VALUES.chars - 1)}…` : value,
          );
      }
      if (++read === SAMPLE_VALUES.rows) break;
    }
  } catch (error) {
    // The start of a list may end inside a row: the rows before it are enough to show.
    if (!(error instanceof PlatenError)) throw error;
  }
  return samples;
}

/** One line of a list Platen writes back (a corrected list): cells quoted where a CSV needs it. */
function listLine(cells: readonly string[]): string {
  return (
    cells
      .map((cell) => (/[",\r\n]|^\s|\s$/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell))
      .join(',') + '\r\n'
  );
}
