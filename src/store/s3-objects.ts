import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Config } from '../config.js';
import { folderEntries, writeAtomically } from '../files.js';
import { checkedKey, checkedPrefix } from './local-objects.js';
import type { ByteRange, ObjectStore } from './store.js';

/**
 * Parts of a multipart upload: S3's smallest (but the last), so that an upload holds at most
 * QUEUE × 5 MiB in memory however large its object.
 */
export const PART_BYTES = 5 * 1024 * 1024;
const QUEUE = 2;
/**
 * A multipart upload begun this long ago is one a crash left: sweep aborts it. Long, as another node
 * may be writing a drop's output right now.
 */
const STALE_UPLOAD_MS = 24 * 60 * 60 * 1000;

/**
 * The S3 client for `PLATEN_BLOB_URL`, from the standard environment (the SDK reads the credentials
 * itself). Addressing is path-style (`<endpoint>/<bucket>/<key>`) when an endpoint is given: the
 * S3-compatible servers one runs oneself (MinIO, s3rver, Ceph) need it. A failure (after the SDK's
 * retries) other than a missing object is the storage's, as a full disk is (see storageFault): a
 * request gets 503 and a job waits for it.
 */
export function s3Client(config: S3Config): S3Client {
  const client = new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint, forcePathStyle: true } : {}),
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (isNotFound(error) || isNotImplemented(error)) throw error;
        throw new ObjectStorageError(error);
      }
    },
    { step: 'initialize', name: 'platenStorageFault' },
  );
  return client;
}

/** The object storage failed: unreachable, refusing (credentials, bucket), or failing itself. */
export class ObjectStorageError extends Error {
  readonly code = 'OBJECT_STORAGE_UNAVAILABLE';
  constructor(cause: unknown) {
    const { name, message } = cause instanceof Error ? cause : { name: 'Error', message: String(cause) };
    super(`object storage (S3): ${name}: ${message}`, { cause });
  }
}

/**
 * Objects in an S3 bucket under a prefix: what every node of the service shares. A single PUT is
 * atomic; larger objects are multipart uploads, completed only once every part is stored and aborted
 * when their writing fails, so a reader never sees a part of one. Local copies (`localFile`,
 * `localFolder`) are kept in `cacheDir` until the object is deleted.
 */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    /** '' or a path ending in `/`. */
    private readonly prefix: string,
    private readonly cacheDir: string,
  ) {}

  private key(key: string): string {
    return this.prefix + checkedKey(key);
  }

  private cached(key: string): string {
    return join(this.cacheDir, ...checkedKey(key).split('/'));
  }

  async write<T>(key: string, write: (out: Writable) => Promise<T>): Promise<T> {
    const body = new PassThrough();
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.key(key), Body: body },
      partSize: PART_BYTES,
      queueSize: QUEUE,
    });
    const done = upload.done();
    // A failed upload fails the writer too, who may be waiting for the body to drain.
    done.catch((error: unknown) => body.destroy(error as Error));
    let result: T;
    try {
      result = await write(body);
    } catch (error) {
      // The body fails, so the upload does: a multipart one is aborted (its parts removed) before
      // `done` settles, and never completed.
      body.destroy(error as Error);
      const stored = await done.then(
        () => true,
        () => false,
      );
      // Every byte was written before the failure and went up as one PUT: it goes.
      if (stored) await this.delete(key);
      throw error;
    }
    if (!body.writableEnded) body.end();
    await done;
    return result;
  }

  async putFile(key: string, path: string): Promise<void> {
    await this.write(key, (out) => pipeline(createReadStream(path), out));
    await rm(path, { force: true });
  }

  async putFolder(prefix: string, dir: string): Promise<void> {
    checkedPrefix(prefix);
    await this.deleteAll(prefix);
    for (const file of await filesIn(dir))
      await this.write(prefix + file, (out) =>
        pipeline(createReadStream(join(dir, ...file.split('/'))), out),
      );
    await rm(dir, { recursive: true, force: true });
  }

  async size(key: string): Promise<number | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable | null> {
    try {
      const got = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.key(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      // In Node the body is an IncomingMessage: a Readable.
      return got.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async localFile(key: string): Promise<string | null> {
    const path = this.cached(key);
    if (await isFile(path)) return path;
    const bytes = await this.read(key);
    if (!bytes) return null;
    await mkdir(dirname(path), { recursive: true });
    await writeAtomically(path, (out) => pipeline(bytes, out));
    return path;
  }

  async localFolder(prefix: string): Promise<string> {
    const path = this.cached(checkedPrefix(prefix));
    if (await isFolder(path)) return path;
    // Fetched whole into a folder of its own, then renamed into place: a folder there is complete.
    const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      for (const key of await this.list(prefix)) {
        const bytes = await this.read(key);
        if (!bytes) continue; // deleted meanwhile
        const file = join(temp, ...key.slice(prefix.length).split('/'));
        await mkdir(dirname(file), { recursive: true });
        await pipeline(bytes, createWriteStream(file));
      }
      await mkdir(temp, { recursive: true });
      await rename(temp, path).catch(async (error: NodeJS.ErrnoException) => {
        // Another reader fetched it first.
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      });
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
    return path;
  }

  async release(key: string): Promise<void> {
    await rm(this.cached(key), { force: true });
  }

  async list(prefix: string, writtenBefore?: number): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const { Key, LastModified } of page.Contents ?? []) {
        if (!Key) continue;
        if (writtenBefore !== undefined && (LastModified?.getTime() ?? Infinity) >= writtenBefore) continue;
        keys.push(Key.slice(this.prefix.length));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
    await rm(this.cached(key), { force: true });
  }

  async deleteAll(prefix: string): Promise<void> {
    const keys = await this.list(prefix);
    // A DeleteObjects request takes at most 1,000 keys.
    for (let i = 0; i < keys.length; i += 1000) {
      await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((key) => ({ Key: this.key(key) })), Quiet: true },
        }),
      );
    }
    await rm(this.cached(checkedPrefix(prefix)), { recursive: true, force: true });
  }

  /**
   * Aborts the multipart uploads under the prefix that a crash left (begun a day ago or more), and
   * removes the local cache's unfinished copies. Returns what was removed.
   */
  async sweep(): Promise<string[]> {
    const removed = await removeTemporary(this.cacheDir);
    let uploads;
    try {
      uploads = await this.client.send(
        new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.prefix }),
      );
    } catch (error) {
      // s3rver (the tests' server) keeps no list of uploads: there are none to abort.
      if (isNotImplemented(error)) return removed;
      throw error;
    }
    const before = Date.now() - STALE_UPLOAD_MS;
    for (const { Key, UploadId, Initiated } of uploads.Uploads ?? []) {
      if (!Key || !UploadId || (Initiated && Initiated.getTime() > before)) continue;
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }));
      removed.push(`s3://${this.bucket}/${Key} (upload ${UploadId})`);
    }
    return removed;
  }
}

function isNotImplemented(error: unknown): boolean {
  return error instanceof S3ServiceException && error.name === 'NotImplemented';
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.name === 'NotFound' || error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404)
  );
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function isFolder(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** A folder's files, as `/`-separated paths relative to it. */
async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

/** Removes the `.tmp` files and folders under a folder, at any depth; returns their paths. */
async function removeTemporary(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await folderEntries(dir)) {
    const path = join(dir, name);
    if (name.endsWith('.tmp')) {
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    } else if (await isFolder(path)) removed.push(...(await removeTemporary(path)));
  }
  return removed;
}
