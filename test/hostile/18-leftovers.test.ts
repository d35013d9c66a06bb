/**
 * What a `kill -9` leaves half done, placed by hand exactly as a kill at that point leaves it (the
 * chaos test kills at random moments; this one reaches the narrow windows every time):
 * - during an upload: a half-unpacked package in staging/;
 * - between a package's rename into packages/ and the commit of its version row: a package folder
 *   without its row, which every later upload of that template collided with (a 500);
 * - during a blob write (a profile photo, a render): a temporary file in blobs/;
 * - during a job's creation: a list staged, or moved into a job folder whose row was never written;
 * - as a job ends: its parts, a temporary output and checkpoints, after its state said it had ended;
 * - during the first start: the admin key stored but its file not written. (A session.key an earlier
 *   Platen left cut off, before the pages' secret moved into the store: test/web/session.test.ts.)
 * A later request must work before any sweep; after a restart none of it is left.
 */
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers } from '../support/data-dir.js';
import { cleanup, entries, tempDir } from '../support/files.js';
import { jobForm } from '../support/jobs.js';
import { makePackage } from '../support/packages.js';
import { postcardDrop } from '../support/records.js';
import {
  client,
  type Client,
  createKey,
  profileForm,
  startTestServer,
  type TestServer,
  uploadZip,
} from '../support/server.js';
import { zipFolder } from '../support/zips.js';

const TEMPLATE = 'spring-postcard';

let server: TestServer;
let marketing: Client;
let zip: Buffer;
let dataDir: string;

beforeAll(async () => {
  server = await startTestServer();
  dataDir = server.dataDir;
  marketing = client(server.url, (await createKey(server, 'marketing', 'Marketing Mia')).key);
  zip = await zipFolder(await makePackage(TEMPLATE, 'Spring postcard'));
  const first = await uploadZip(marketing, zip);
  expect(first.status, first.bytes.toString()).toBe(201);
});

afterAll(async () => {
  await server?.close();
  await cleanup();
});

describe('leftovers of a kill -9', () => {
  it('a package folder without its version row is replaced by the next upload, not collided with', async () => {
    // What the rename of version 2 leaves when the process dies before the row is committed.
    const orphan = path.join(dataDir, 'packages', TEMPLATE, '2');
    await cp(path.join(dataDir, 'packages', TEMPLATE, '1'), orphan, { recursive: true });
    await writeFile(path.join(orphan, 'half-written.bin'), 'from the process that died');
    const again = await uploadZip(marketing, zip);
    expect(again.status, again.bytes.toString()).toBe(201);
    expect(again.json).toMatchObject({ templateId: TEMPLATE, version: 2 });
    expect(await entries(orphan)).not.toContain('half-written.bin');
    // A request's staged upload is removed once its response has closed, which the client may see first.
    await expect.poll(() => leftovers(dataDir)).toEqual([]);
  });

  it('are swept at start-up: nothing half-written survives a restart, and what was whole is kept', async () => {
    const rep = client(server.url, (await createKey(server, 'rep', 'Rep Dana', 'dana')).key);
    expect((await rep('put', '/api/v1/reps/me', { body: profileForm() })).status).toBe(200);
    const ended = (
      await marketing('post', '/api/v1/jobs', {
        body: jobForm(postcardDrop(4).csv, { templateId: 'postcard-6x4', repId: 'dana' }),
      })
    ).json as { id: string; links: { self: string; output: string } };
    for (let i = 0; i < 600; i++) {
      if (((await marketing('get', ended.links.self)).json as { state: string }).state === 'done') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const output = (await marketing('get', ended.links.output)).bytes;
    expect(output.subarray(0, 5).toString()).toBe('%PDF-');
    await server.close();

    const staging = path.join(dataDir, 'staging');
    await mkdir(path.join(staging, '0123456789abcdef', 'fonts'), { recursive: true });
    await writeFile(path.join(staging, '0123456789abcdef', 'template.json'), '{"id":"half');
    await writeFile(path.join(staging, '0123456789abcdef', 'fonts', 'Half.ttf'), Buffer.alloc(1000));
    await writeFile(path.join(staging, 'fedcba9876543210.csv'), 'First Name,Last');
    await mkdir(path.join(dataDir, 'blobs', 'ab'), { recursive: true });
    await writeFile(path.join(dataDir, 'blobs', 'ab', `${'ab'.repeat(32)}.1a2b3c4d.tmp`), 'half a photo');
    await mkdir(path.join(dataDir, 'packages', TEMPLATE, '3'), { recursive: true });
    await writeFile(path.join(dataDir, 'packages', TEMPLATE, '3', 'template.json'), '{}');
    await mkdir(path.join(dataDir, 'jobs', '00000000deadbeef'), { recursive: true });
    await writeFile(path.join(dataDir, 'jobs', '00000000deadbeef', 'input.csv'), postcardDrop(2).csv);
    const endedDir = path.join(dataDir, 'jobs', ended.id);
    await mkdir(path.join(endedDir, 'parts'), { recursive: true });
    await writeFile(path.join(endedDir, 'parts', '000000.part'), '%PDF-1.7 half');
    await writeFile(path.join(endedDir, 'output.pdf.4242-0badf00d.tmp'), '%PDF-1.7 half');
    const db = new Database(path.join(dataDir, 'platen.db'));
    db.prepare('INSERT INTO job_chunks (job_id, idx, result) VALUES (?, 0, ?)').run(ended.id, '{}');
    db.close();
    expect(await leftovers(dataDir)).toEqual(
      expect.arrayContaining([
        'staging/0123456789abcdef',
        'staging/fedcba9876543210.csv',
        `blobs/ab/${'ab'.repeat(32)}.1a2b3c4d.tmp`,
        `packages/${TEMPLATE}/3 without its version`,
        'jobs/00000000deadbeef without its job',
        `jobs/${ended.id}/output.pdf.4242-0badf00d.tmp of a done job`,
        `jobs/${ended.id}/parts of a done job`,
        `checkpoints of ended job ${ended.id}`,
      ]),
    );

    server = await startTestServer({ dataDir });
    marketing = client(server.url, (await createKey(server, 'marketing', 'Marketing Max')).key);
    expect(await leftovers(dataDir)).toEqual([]);
    expect(await entries(staging)).toEqual([]);
    expect(await readdir(endedDir)).toEqual(
      expect.arrayContaining(['input.csv', 'output.pdf', 'errors.csv']),
    );
    expect((await marketing('get', ended.links.output)).bytes.equals(output)).toBe(true);
    expect(await entries(path.join(dataDir, 'packages', TEMPLATE))).toEqual(['1', '2']);
    const upload = await uploadZip(marketing, zip);
    expect(upload.status, upload.bytes.toString()).toBe(201);
    expect(upload.json).toMatchObject({ version: 3 });
  });

  it('a first start cut short leaves no admin key that nobody was shown', async () => {
    const fresh = await tempDir('platen-data-');
    // admin.key cannot be written (a folder is in its way, as a full disk would refuse it).
    await mkdir(path.join(fresh, 'admin.key'));
    await expect(startTestServer({ dataDir: fresh })).rejects.toThrow();
    await rm(path.join(fresh, 'admin.key'), { recursive: true });
    const again = await startTestServer({ dataDir: fresh });
    try {
      expect(again.adminKey).toMatch(/^platen_/);
      expect((await client(again.url, again.adminKey)('get', '/api/v1/keys')).status).toBe(200);
    } finally {
      await again.close();
    }
  });
});
