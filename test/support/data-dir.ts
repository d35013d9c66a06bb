/**
 * What a data directory holds: how many blobs, and what a crash must not leave in it once the service
 * has started again (half-unpacked uploads, temporary files, package folders and version rows without
 * each other, folders of jobs that do not exist, and parts or checkpoints of jobs that have ended).
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';

async function names(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

/** Everything half-written in `dataDir`, one line each; empty when there is none. */
export async function leftovers(dataDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await names(path.join(dataDir, 'staging'))) found.push(`staging/${name}`);
  for (const folder of await names(path.join(dataDir, 'blobs'))) {
    for (const name of await names(path.join(dataDir, 'blobs', folder)))
      if (name.endsWith('.tmp')) found.push(`blobs/${folder}/${name}`);
  }
  const db = new Database(path.join(dataDir, 'platen.db'), { readonly: true, fileMustExist: true });
  try {
    const versions = db.prepare('SELECT template_id AS id, version FROM template_versions').all() as {
      id: string;
      version: number;
    }[];
    const stored = new Set(versions.map((v) => `${v.id}/${v.version}`));
    for (const v of versions) {
      if (!existsSync(path.join(dataDir, 'packages', v.id, String(v.version), 'template.json')))
        found.push(`version ${v.id}/${v.version} without its package`);
    }
    for (const id of await names(path.join(dataDir, 'packages'))) {
      for (const version of await names(path.join(dataDir, 'packages', id)))
        if (!stored.has(`${id}/${version}`)) found.push(`packages/${id}/${version} without its version`);
    }
    const state = db.prepare('SELECT state FROM jobs WHERE id = ?');
    for (const id of await names(path.join(dataDir, 'jobs'))) {
      const job = state.get(id) as { state: string } | undefined;
      if (!job) found.push(`jobs/${id} without its job`);
      else if (!['queued', 'running'].includes(job.state)) {
        for (const name of await names(path.join(dataDir, 'jobs', id)))
          if (name === 'parts' || name.endsWith('.tmp'))
            found.push(`jobs/${id}/${name} of a ${job.state} job`);
      }
    }
    const unfinished = db.prepare("SELECT id FROM jobs WHERE state IN ('queued', 'running')").all() as {
      id: string;
    }[];
    for (const { id } of unfinished)
      if (!existsSync(path.join(dataDir, 'jobs', id, 'input.csv'))) found.push(`job ${id} without its list`);
    const chunks = db
      .prepare(
        `SELECT DISTINCT job_id AS id FROM job_chunks WHERE job_id NOT IN
         (SELECT id FROM jobs WHERE state IN ('queued', 'running'))`,
      )
      .all() as { id: string }[];
    for (const { id } of chunks) found.push(`checkpoints of ended job ${id}`);
  } finally {
    db.close();
  }
  return found;
}

/** How many blobs (PDFs, photos) the store holds: `<data>/blobs/<2 hex>/<sha256>`. */
export async function countBlobs(dataDir: string): Promise<number> {
  const root = path.join(dataDir, 'blobs');
  const shards = await readdir(root).catch(() => [] as string[]);
  let count = 0;
  for (const shard of shards) count += (await readdir(path.join(root, shard))).length;
  return count;
}
