import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { folderEntries } from '../files.js';
import { BlobStore } from './blobs.js';
import { type Db, openDb } from './db.js';
import { JobStore } from './jobs.js';
import { KeyStore } from './keys.js';
import { RenderStore } from './renders.js';
import { RepStore } from './reps.js';
import { SessionStore } from './sessions.js';
import { TemplateStore } from './templates.js';
import { UploadStore } from './uploads.js';

/**
 * Everything the service keeps: SQLite for rows (`platen.db`), local files for blobs and template
 * packages, all under one data directory.
 */
export class Store {
  readonly db: Db;
  readonly keys: KeyStore;
  readonly sessions: SessionStore;
  readonly reps: RepStore;
  readonly templates: TemplateStore;
  readonly renders: RenderStore;
  readonly blobs: BlobStore;
  readonly uploads: UploadStore;
  readonly jobs: JobStore;
  /** A folder per batch job: its CSV, parts, output and report. */
  readonly jobsDir: string;
  /** Scratch space on the same file system as the packages, so a staged upload can be renamed into place. */
  readonly stagingDir: string;

  constructor(readonly dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.stagingDir = join(dataDir, 'staging');
    mkdirSync(this.stagingDir, { recursive: true });
    this.db = openDb(join(dataDir, 'platen.db'));
    this.keys = new KeyStore(this.db);
    this.sessions = new SessionStore(this.db);
    this.reps = new RepStore(this.db);
    this.templates = new TemplateStore(this.db, join(dataDir, 'packages'));
    this.renders = new RenderStore(this.db);
    this.blobs = new BlobStore(join(dataDir, 'blobs'));
    this.uploads = new UploadStore(this.db);
    this.jobs = new JobStore(this.db);
    this.jobsDir = join(dataDir, 'jobs');
  }

  /**
   * Removes what a crash (a kill, a power cut) leaves half done: unpacked uploads and lists in
   * staging, temporary files of blobs, package folders without their version row. Returns what was
   * removed. For the service at start-up only: other commands may use the data directory while it
   * runs, and staging is the service's alone.
   */
  async sweep(): Promise<string[]> {
    const staged = (await folderEntries(this.stagingDir)).map((name) => join(this.stagingDir, name));
    for (const path of staged) await rm(path, { recursive: true, force: true });
    return [...staged, ...(await this.blobs.sweep()), ...(await this.templates.sweep())];
  }

  close(): void {
    this.db.close();
  }
}
