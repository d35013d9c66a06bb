/**
 * An S3-protocol server on loopback for a test file: s3rver (from npm; it runs on Node 26) on a
 * random port, keeping its objects in a temporary folder, with one bucket. It runs in a process of
 * its own, on the real clock: a test that fakes Date signs requests at its fake time, which the SDK
 * corrects by the server's clock as it would a skewed machine's. The integration lane only.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { S3ObjectStore, s3Client } from '../../src/store/s3-objects.js';
import type { S3Config } from '../../src/config.js';

export interface S3Server {
  /** Where the objects are, as the service's configuration gives them. */
  config: S3Config;
  /** The environment that points the service at this server (PLATEN_BLOB_URL and the SDK's variables). */
  env: Record<string, string>;
  /** The object store under `prefix` (in the server's bucket), caching local copies in `cacheDir`. */
  objects(prefix: string, cacheDir: string): S3ObjectStore;
  /** The keys in the bucket, whatever their prefix. */
  keys(): Promise<string[]>;
  /** The names of the commands the objects' client has sent, oldest first (the test may empty it). */
  commands: string[];
  close(): Promise<void>;
}

export const BUCKET = 'platen-test';
/** s3rver takes any credentials, but the SDK signs with some. */
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

export async function startS3(prefix = 'platen/'): Promise<S3Server> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'platen-s3-'));
  const bin = createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');
  const server = spawn(
    process.execPath,
    [bin, '-d', directory, '-a', '127.0.0.1', '-p', '0', '--silent', '--configure-bucket', BUCKET],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const listening = /S3rver listening on [\d.]+:(\d+)/.exec(out);
      if (listening) resolve(Number(listening[1]));
    });
    server.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening: ${out}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  // The SDK reads credentials from the environment; the tests' processes share these.
  Object.assign(process.env, CREDENTIALS);
  const config: S3Config = { bucket: BUCKET, prefix, endpoint, region: 'us-east-1' };
  const client = s3Client(config);
  const commands: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      commands.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize' },
  );
  const all = new S3ObjectStore(client, BUCKET, '', directory);
  return {
    config,
    env: {
      PLATEN_BLOB_URL: `s3://${BUCKET}/${prefix}`,
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: 'us-east-1',
      ...CREDENTIALS,
    },
    objects: (under, cacheDir) => new S3ObjectStore(client, BUCKET, under, cacheDir),
    keys: () => all.list(''),
    commands,
    close: async () => {
      client.destroy();
      if (server.exitCode === null) {
        server.kill();
        await once(server, 'exit');
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
