/**
 * Uploads stream to disk and are never held whole in memory: four concurrent 64 MB lists to
 * /api/v1/jobs/columns barely move the process's peak memory, and the route keeps only the
 * head of the list it reads the header from. Staged files are gone when a request ends, however it
 * ends (answered, refused, or abandoned by its client). Large uploads at once are capped: beyond the
 * cap a request gets 503 with Retry-After before its body is read, while small ones still pass.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanup } from '../support/files.js';
import { request } from '../support/request.js';
import { createKey, fullProfile, startTestServer, type TestServer } from '../support/server.js';

const MB = 1024 * 1024;
const HEADER = 'First Name,Last Name,Street Address,City,State,Postcode\n';
/** About a megabyte of rows, sent again and again: the client holds no more than this. */
const ROWS = Buffer.from('Ann,Lee,1 Main St,Bangor,ME,04401\n'.repeat(Math.floor(MB / 34)));
const BOUNDARY = 'platen-test-boundary';

let server: TestServer;
let rep: string;
let staging: string;

beforeAll(async () => {
  server = await startTestServer({ env: { PLATEN_UPLOAD_CONCURRENCY: '4' } });
  rep = (await createKey(server, 'rep', 'Dana', 'dana')).key;
  await request(server, 'PUT', '/api/v1/reps/me', { key: rep, json: fullProfile('Dana Whitcomb') });
  staging = path.join(server.dataDir, 'staging');
});

afterAll(async () => {
  await server?.close();
  await cleanup();
});

/** A multipart body: the list as `csv` (its header, then `rowChunks` × ROWS), then text fields after it. */
function listBody(rowChunks: number, fields: Record<string, string>) {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="csv"; filename="list.csv"\r\n` +
      `Content-Type: text/csv\r\n\r\n${HEADER}`,
  );
  const tail = Buffer.from(
    Object.entries(fields)
      .map(([k, v]) => `\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}`)
      .join('') + `\r\n--${BOUNDARY}--\r\n`,
  );
  return { head, tail, length: head.length + rowChunks * ROWS.length + tail.length };
}

interface Sent {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * Opens a streamed upload of a list. `send(n)` writes n more row chunks (waiting for the socket to
 * take them), `end()` finishes the body; `reply` settles with the answer, whenever it comes.
 */
function openUpload(urlPath: string, rowChunks: number, fields: Record<string, string>) {
  const body = listBody(rowChunks, fields);
  const req = http.request(`${server.url}${urlPath}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${rep}`,
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'content-length': String(body.length),
    },
  });
  const reply = new Promise<Sent>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
  });
  const write = (chunk: Buffer) =>
    new Promise<void>((resolve) => (req.write(chunk) ? resolve() : req.once('drain', () => resolve())));
  let started = false;
  return {
    reply,
    req,
    async send(chunks: number) {
      if (!started) await write(body.head);
      started = true;
      for (let i = 0; i < chunks; i++) await write(ROWS);
    },
    async end() {
      await write(body.tail);
      req.end();
    },
  };
}

async function upload(urlPath: string, rowChunks: number, fields: Record<string, string>): Promise<Sent> {
  const open = openUpload(urlPath, rowChunks, fields);
  await open.send(rowChunks);
  await open.end();
  return open.reply;
}

/** The process's peak resident memory since the last reset, in bytes (Linux). */
function peakRss(): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
  return Number(kb) * 1024;
}

const resetPeakRss = () => writeFileSync('/proc/self/clear_refs', '5');

const stagedFiles = () => readdir(staging);

describe('large lists', () => {
  it('four concurrent 64 MB lists to /api/v1/jobs/columns add less than half their size to peak memory', async () => {
    resetPeakRss();
    const before = peakRss();
    const replies = await Promise.all(
      [1, 2, 3, 4].map(() => upload('/api/v1/jobs/columns', 64, { templateId: 'postcard-6x4' })),
    );
    const grown = peakRss() - before;
    for (const reply of replies) {
      expect(reply.status, reply.text).toBe(200);
      expect(JSON.parse(reply.text).headers).toEqual(HEADER.trim().split(','));
    }
    // Held whole, they took some 480 MB; streamed, some 30 MB of passing buffers.
    expect(grown, `peak memory grew by ${Math.round(grown / MB)} MB`).toBeLessThan(128 * MB);
    await expect.poll(stagedFiles).toEqual([]);
  });

  it('keeps only the head of a list for its columns', async () => {
    const jobs = server.running.services.jobs;
    const original = jobs.columns.bind(jobs);
    const sizes: number[] = [];
    const columns = vi.spyOn(jobs, 'columns').mockImplementation(async (...args) => {
      sizes.push((await stat(args[3])).size);
      return original(...args);
    });
    try {
      const reply = await upload('/api/v1/jobs/columns', 16, { templateId: 'postcard-6x4' });
      expect(reply.status, reply.text).toBe(200);
    } finally {
      columns.mockRestore();
    }
    expect(sizes).toHaveLength(1);
    expect(sizes[0]).toBeLessThanOrEqual(4 * MB);
    expect(sizes[0]).toBeGreaterThan(64 * 1024);
  });
});

describe('staged uploads', () => {
  it('are removed when the request ends: answered, refused, or abandoned', async () => {
    // Taken by a job (moved into its folder).
    const job = await upload('/api/v1/jobs', 1, {
      templateId: 'postcard-6x4',
      output: 'check',
      map: 'Postcode=zip',
    });
    expect(job.status, job.text).toBe(202);
    // Refused: the list lacks the postcard's required address columns.
    const refused = await upload('/api/v1/jobs', 1, { templateId: 'letter-window' });
    expect(refused.status, refused.text).toBe(422);
    // Refused after the body: an unknown field.
    const unknown = await upload('/api/v1/jobs', 1, { templateId: 'postcard-6x4', colour: 'red' });
    expect(unknown.status, unknown.text).toBe(422);
    // Too large: a photo over 15 MB.
    const photo = new FormData();
    photo.append('photo', new Blob([new Uint8Array(16 * MB)], { type: 'image/jpeg' }), 'big.jpg');
    const tooLarge = await request(server, 'PUT', '/api/v1/reps/me', { key: rep, body: photo });
    expect(tooLarge.status, tooLarge.text).toBe(413);
    await expect.poll(stagedFiles).toEqual([]);

    // Abandoned by its client halfway through its body.
    const abandoned = openUpload('/api/v1/jobs', 8, { templateId: 'postcard-6x4' });
    abandoned.reply.catch(() => undefined);
    await abandoned.send(4);
    await expect.poll(stagedFiles).toHaveLength(1);
    abandoned.req.destroy();
    await expect.poll(stagedFiles).toEqual([]);
  });
});

describe('the upload cap', () => {
  it('answers a large upload beyond the cap with 503 and Retry-After before reading its body; small ones pass', async () => {
    const held = [1, 2, 3, 4].map(() =>
      openUpload('/api/v1/jobs/columns', 4, { templateId: 'postcard-6x4' }),
    );
    for (const upload of held) await upload.send(1);
    await expect.poll(stagedFiles).toHaveLength(4);

    // Headers only: the answer comes without a byte of the body sent.
    const refused = openUpload('/api/v1/jobs/columns', 4, { templateId: 'postcard-6x4' });
    refused.req.flushHeaders();
    const reply = await refused.reply;
    expect(reply.status, reply.text).toBe(503);
    expect(reply.headers['retry-after']).toMatch(/^\d+$/);
    expect(JSON.parse(reply.text).code).toBe('uploads_busy');
    refused.req.destroy();

    // A list under a megabyte takes no slot.
    const small = await request(server, 'POST', '/api/v1/jobs/columns', {
      key: rep,
      body: (() => {
        const form = new FormData();
        form.append('csv', new Blob([HEADER]), 'list.csv');
        form.append('templateId', 'postcard-6x4');
        return form;
      })(),
    });
    expect(small.status, small.text).toBe(200);

    for (const upload of held) {
      await upload.send(3);
      await upload.end();
      expect((await upload.reply).status).toBe(200);
    }
    const after = await upload('/api/v1/jobs/columns', 4, { templateId: 'postcard-6x4' });
    expect(after.status, after.text).toBe(200);
  });
});
