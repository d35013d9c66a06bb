/**
 * The service with its objects in S3 (PLATEN_BLOB_URL and the SDK's endpoint variables, against
 * s3rver on loopback): a piece's PDF, an uploaded template's package and a batch job's list, output
 * and report all go to the bucket, the output comes back byte for byte (and by range), and the data
 * directory keeps no blob, package or job file of its own.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup } from '../support/files.js';
import { jobEnded, jobForm } from '../support/jobs.js';
import { makePackage } from '../support/packages.js';
import { pageLabels, qpdfCheck } from '../support/pdf.js';
import { postcardDrop, postcardRender } from '../support/records.js';
import { type S3Server, startS3 } from '../support/s3.js';
import { client, deskAndRep, startTestServer, type TestServer, uploadZip } from '../support/server.js';
import { zipFolder } from '../support/zips.js';
import { writeFile } from 'node:fs/promises';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

let s3: S3Server;
let server: TestServer;
beforeAll(async () => {
  s3 = await startS3('platen/');
  server = await startTestServer({ env: s3.env });
});
afterAll(async () => {
  await server?.close();
  await s3?.close();
  await cleanup();
});

describe('the service with its objects in S3', () => {
  it('keeps pieces, packages and jobs in the bucket, and serves a job output byte for byte', async () => {
    const { marketingKey, repKey } = await deskAndRep(server);
    const rep = client(server.url, repKey);
    const marketing = client(server.url, marketingKey);

    const piece = await rep('post', '/api/v1/renders', { json: postcardRender() });
    expect(piece.status).toBe(201);
    expect(await s3.keys()).toContain(`platen/blobs/${sha256(piece.bytes)}`);

    const upload = await uploadZip(
      marketing,
      await zipFolder(await makePackage('s3-postcard', 'S3 postcard')),
    );
    expect(upload.status).toBe(201);
    expect(await s3.keys()).toContain('platen/packages/s3-postcard/1/template.json');
    const published = await marketing('post', '/api/v1/templates/s3-postcard/versions/1/publish');
    expect(published.status).toBe(200);

    const { csv, bad } = postcardDrop(40, 7);
    const created = await marketing('post', '/api/v1/jobs', {
      body: jobForm(csv, { templateId: 's3-postcard', repId: 'dana' }),
    });
    expect(created.status).toBe(202);
    const job = await jobEnded(marketing, (created.json as { id: string }).id);
    expect(job).toMatchObject({ state: 'done', rendered: 40 - bad.length, rejected: bad.length });

    const keys = await s3.keys();
    for (const name of ['input.csv', 'output.pdf', 'errors.csv'])
      expect(keys).toContain(`platen/jobs/${job.id}/${name}`);
    const output = await marketing('get', job.links.output);
    expect(output.status).toBe(200);
    expect(output.headers.get('accept-ranges')).toBe('bytes');
    const stored = await s3
      .objects('platen/', path.join(server.dataDir, 'check'))
      .read(`jobs/${job.id}/output.pdf`);
    const inBucket = Buffer.concat(await stored!.toArray());
    expect(sha256(output.bytes)).toBe(sha256(inBucket));
    const file = path.join(server.dataDir, 'check.pdf');
    await writeFile(file, output.bytes);
    expect((await qpdfCheck(file)).ok).toBe(true);
    expect(await pageLabels(file)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1)
        .filter((n) => !bad.includes(n))
        .map(String),
    );

    // A download resumed part way, and one past the end.
    const tail = await marketing('get', job.links.output, { headers: { range: 'bytes=1000-' } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe(`bytes 1000-${inBucket.length - 1}/${inBucket.length}`);
    expect(tail.bytes).toEqual(inBucket.subarray(1000));
    const past = await marketing('get', job.links.output, {
      headers: { range: `bytes=${inBucket.length}-` },
    });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${inBucket.length}`);

    const report = await marketing('get', job.links.errors);
    expect(report.status).toBe(200);
    expect(report.bytes.toString('utf8').trim().split('\r\n')).toHaveLength(1 + bad.length);

    // The data directory holds no blob, package or job file: only the database, local copies of
    // packages to compile from, and the job's emptied working folder.
    expect(existsSync(path.join(server.dataDir, 'blobs'))).toBe(false);
    expect(existsSync(path.join(server.dataDir, 'packages'))).toBe(false);
    expect(await readdir(path.join(server.dataDir, 'jobs', job.id)).catch(() => [])).toEqual([]);
    // The local copy of the list it ran from goes once it has ended.
    await expect
      .poll(() => existsSync(path.join(server.dataDir, 'cache', 'jobs', job.id, 'input.csv')))
      .toBe(false);
  });
});
