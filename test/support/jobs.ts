/** Batch jobs over the API, for tests: a job's form, waiting for a job, and its report read back. */
import { parse } from 'csv-parse/sync';
import type { Client } from './server.js';

export interface JobBody {
  id: string;
  state: string;
  total: number;
  done: number;
  rendered: number;
  rejected: number;
  heldOut: number;
  split: { input: string; label: string; arms: string[] } | null;
  holdout: number;
  repId: string | null;
  links: { self: string; events: string; output: string; errors: string };
}

/** A job's multipart body: the list as `csv`, beside the form fields. */
export function jobForm(csv: string | Buffer, fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [key, value] of Object.entries(fields)) data.set(key, value);
  data.set(
    'csv',
    new Blob([typeof csv === 'string' ? csv : new Uint8Array(csv)], { type: 'text/csv' }),
    'list.csv',
  );
  return data;
}

/** Polls a job until it has ended (done, failed or cancelled), for at most `seconds`. */
export async function jobEnded(api: Client, id: string, seconds = 60): Promise<JobBody> {
  // Well under the rate limit (600 requests a minute per key).
  for (let i = 0; i < seconds * 10; i++) {
    const job = (await api('get', `/api/v1/jobs/${id}`)).json as JobBody;
    if (['done', 'failed', 'cancelled'].includes(job.state)) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${id} never ended`);
}

/** A finished job's rejected-rows report: its text, and its lines by column. */
export async function jobReport(
  api: Client,
  job: JobBody,
): Promise<{ text: string; lines: Record<string, string>[] }> {
  const text = (await api('get', job.links.errors)).bytes.toString('utf8');
  return { text, lines: parse(text, { bom: true, columns: true }) as Record<string, string>[] };
}
