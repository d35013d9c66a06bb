import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import express, { type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import { PlatenError } from '../errors.js';
import { checkJsonDepth } from '../json.js';
import { HttpError } from './problem.js';

/**
 * Request bodies, for the API and the pages alike. A route declares the media types it accepts; a
 * body of any other type (or of none) is refused with 415 naming them, before a byte of it is read.
 * JSON and form bodies are small and parsed in memory; files (multipart fields, a zip body) stream to
 * the staging folder and are removed when the response closes, whatever its outcome. A large upload
 * takes one of a few slots, and beyond them is refused with 503 and Retry-After before its body is read.
 */

export interface Accepts {
  /** application/json in UTF-8, at most `maxBytes` (64 KiB by default), nested at most MAX_JSON_DEPTH deep. */
  json?: { maxBytes?: number };
  /** application/x-www-form-urlencoded: what a browser form without a file sends. */
  form?: { maxBytes?: number };
  /**
   * multipart/form-data: text fields and these file fields, each file at most `maxBytes`. With
   * `headBytes` only the first bytes of each file are kept, the rest read and dropped: for a route that
   * needs only the start of a file.
   */
  multipart?: {
    /** The file fields; `any`: files in fields of any name (a draft's files, named by package path). */
    files: readonly string[] | 'any';
    maxBytes: number;
    headBytes?: number;
    /** With `files: 'any'`: how many files at most (default 100). */
    maxFiles?: number;
    /** The longest text field (64 KiB by default). */
    fieldBytes?: number;
  };
  /** A zip as the whole body, received as the file `file`. */
  zip?: { maxBytes: number };
}

type Kind = keyof Accepts;

/** The media types of each kind; the first is the one documented and named in a 415. */
const MEDIA: Record<Kind, readonly string[]> = {
  json: ['application/json'],
  form: ['application/x-www-form-urlencoded'],
  multipart: ['multipart/form-data'],
  zip: ['application/zip', 'application/x-zip-compressed', 'application/octet-stream'],
};

const JSON_MAX_BYTES = 64 * 1024;
/** Uploads larger than this (or of unknown length) take an upload slot. */
const LARGE_UPLOAD_BYTES = 1024 * 1024;

/** A file of the request, staged on disk until the response closes. */
export interface UploadedFile {
  path: string;
  /** Bytes received (with `headBytes`, more than were kept). */
  size: number;
}

/** The media types a route accepts, in the order of its declaration. */
export const mediaTypes = (accepts: Accepts): string[] =>
  (Object.keys(accepts) as Kind[]).map((kind) => MEDIA[kind][0]!);

/**
 * The large uploads received at once. A slot is held from before the body is read until the response
 * closes (the staged files are removed then), so the staging folder holds at most this many.
 */
export class UploadSlots {
  private busy = 0;

  constructor(readonly max: number) {}

  /** Takes a slot for this response, or answers false when none is free. */
  take(res: Response): boolean {
    if (this.busy >= this.max) return false;
    this.busy += 1;
    res.once('close', () => (this.busy -= 1));
    return true;
  }
}

export interface BodyPlace {
  stagingDir: string;
  uploads: UploadSlots;
}

const uploaded = new WeakMap<Request, Record<string, UploadedFile>>();

/** The files of a request whose body a `readBody` read, by field name (`file` for a zip body). */
export const uploadsOf = (req: Request): Record<string, UploadedFile> => uploaded.get(req) ?? {};

/**
 * Reads a request's body as `accepts` allows into `req.body` (an object: `{}` when the request has no
 * body) and its files into `uploadsOf(req)`; errors are HttpErrors (4xx) naming what to fix, or, for
 * a fault of our own storage, the error itself.
 */
export function readBody(place: BodyPlace, accepts: Accepts): RequestHandler {
  const kinds = Object.keys(accepts) as Kind[];
  const named = mediaTypes(accepts)
    .map((type) => (type === 'application/json' ? `${type} (in UTF-8)` : type))
    .join(' or ');
  const readers: Partial<Record<Kind, RequestHandler>> = {};
  if (accepts.json) readers.json = jsonReader(accepts.json.maxBytes ?? JSON_MAX_BYTES);
  if (accepts.form) readers.form = formReader(accepts.form.maxBytes ?? JSON_MAX_BYTES);
  if (accepts.multipart) readers.multipart = multipartReader(place.stagingDir, accepts.multipart);
  if (accepts.zip) readers.zip = zipReader(place.stagingDir, accepts.zip.maxBytes);

  return (req, res, next) => {
    const header = req.headers['content-type'];
    if (header === undefined && !hasContent(req)) {
      req.body = {};
      return next();
    }
    const type = (header ?? '').split(';')[0]!.trim().toLowerCase();
    const kind = kinds.find((k) => MEDIA[k].includes(type));
    if (!kind || (kind === 'json' && !utf8(header!))) {
      const sent =
        header === undefined ? 'a body without a Content-Type' : `a body of type ${printable(header)}`;
      return next(
        new HttpError(415, 'unsupported_media_type', `${sent} is not accepted here: send ${named}`),
      );
    }
    if ((kind === 'multipart' || kind === 'zip') && large(req) && !place.uploads.take(res)) {
      // The body is never read: closing the connection spares reading it only to drop it.
      res.set('Connection', 'close');
      return next(
        new HttpError(503, 'uploads_busy', 'too many large uploads in progress; retry shortly', {
          retryAfter: 10,
        }),
      );
    }
    readers[kind]!(req, res, (error?: unknown) => {
      if (error) return next(bodyError(error, kind, accepts));
      req.body ??= {};
      next();
    });
  };
}

/** Whether the request carries bytes (a `Content-Length: 0` or a bodiless request does not). */
function hasContent(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

const large = (req: Request): boolean =>
  req.headers['content-length'] === undefined || Number(req.headers['content-length']) > LARGE_UPLOAD_BYTES;

/** JSON is UTF-8 (RFC 8259): a charset parameter may only say so. */
function utf8(header: string): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(header)?.[1]?.toLowerCase();
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

/** A client's header, safe to repeat in a message. */
const printable = (text: string): string => text.replace(/[^\w.+/=;\s-]/g, '').slice(0, 100);

const megabytes = (bytes: number): string =>
  bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MB` : `${Math.round(bytes / 1024)} KB`;

function jsonReader(maxBytes: number): RequestHandler {
  return express.json({
    type: () => true,
    limit: maxBytes,
    strict: true,
    // Checked on the raw text before it is parsed: nothing recursive ever sees a deeper value.
    verify: (_req, _res, bytes) => checkJsonDepth(bytes, ''),
  });
}

function formReader(maxBytes: number): RequestHandler {
  return express.urlencoded({ type: () => true, extended: false, limit: maxBytes, parameterLimit: 200 });
}

/** The request's staged files: each is removed when the response closes, however it ends. */
class Staging {
  private readonly paths: string[] = [];
  private closed = false;

  constructor(
    private readonly dir: string,
    res: Response,
  ) {
    res.once('close', () => {
      this.closed = true;
      // One that cannot be removed now (a failing disk) is left to the start-up sweep of the folder.
      for (const path of this.paths.splice(0)) rm(path, { force: true }).catch(() => undefined);
    });
  }

  /** A new path in the staging folder, removed with the others. */
  path(): string {
    // A file started after the response closed would be left behind.
    if (this.closed) throw new HttpError(400, 'bad_upload', 'the request ended before its body was read');
    const path = join(this.dir, `upload-${randomBytes(8).toString('hex')}`);
    this.paths.push(path);
    return path;
  }
}

const staging = new WeakMap<Request, Staging>();

function stagingOf(req: Request, res: Response, dir: string): Staging {
  let found = staging.get(req);
  if (!found) staging.set(req, (found = new Staging(dir, res)));
  return found;
}

/** Multer's storage: each file streamed to the staging folder (only its head when so declared). */
class StagingStorage implements multer.StorageEngine {
  constructor(
    private readonly dir: string,
    private readonly headBytes: number | undefined,
  ) {}

  _handleFile(
    req: Request,
    file: Express.Multer.File,
    done: (error?: unknown, info?: Partial<Express.Multer.File>) => void,
  ): void {
    let path: string;
    try {
      path = stagingOf(req, req.res!, this.dir).path();
    } catch (error) {
      file.stream.resume();
      return done(error);
    }
    const keep = this.headBytes ?? Infinity;
    let size = 0;
    const head = new Transform({
      transform(chunk: Buffer, _encoding, next) {
        const kept = chunk.subarray(0, Math.max(0, keep - size));
        size += chunk.length;
        next(null, kept.length > 0 ? kept : undefined);
      },
    });
    pipeline(file.stream, head, createWriteStream(path, { flags: 'wx' })).then(
      () => done(null, { path, size }),
      done,
    );
  }

  _removeFile(_req: Request, file: Express.Multer.File, done: (error: Error | null) => void): void {
    rm(file.path, { force: true }).then(() => done(null), done);
  }
}

const FIELD_BYTES = 64 * 1024;

function multipartReader(dir: string, spec: NonNullable<Accepts['multipart']>): RequestHandler {
  const any = spec.files === 'any';
  const reader = multer({
    storage: new StagingStorage(dir, spec.headBytes),
    limits: {
      fileSize: spec.maxBytes,
      files: spec.files === 'any' ? (spec.maxFiles ?? 100) : spec.files.length,
      fields: 200,
      fieldSize: spec.fieldBytes ?? FIELD_BYTES,
      // Bracketed names (`a[3][b]`) become nested values: a name must not build a deep or vast one.
      fieldNestingDepth: 4,
      fieldArrayIndexLimit: 200,
    },
  });
  const parse =
    spec.files === 'any' ? reader.any() : reader.fields(spec.files.map((name) => ({ name, maxCount: 1 })));
  return (req, res, next) => {
    stagingOf(req, res, dir);
    parse(req, res, (error?: unknown) => {
      if (error) return next(error);
      const files: Record<string, UploadedFile> = {};
      const list = any
        ? ((req.files ?? []) as Express.Multer.File[])
        : Object.values((req.files ?? {}) as Record<string, Express.Multer.File[]>).flatMap((f) =>
            f.slice(0, 1),
          );
      for (const file of list) {
        if (file.fieldname === '__proto__') {
          return next(new HttpError(400, 'bad_upload', 'a file field may not be named __proto__'));
        }
        if (Object.hasOwn(files, file.fieldname)) {
          return next(
            new HttpError(
              400,
              'duplicate_file',
              `two files in the field ${printable(file.fieldname)}: send each once`,
            ),
          );
        }
        files[file.fieldname] = { path: file.path, size: file.size };
      }
      uploaded.set(req, files);
      next();
    });
  };
}

function zipReader(dir: string, maxBytes: number): RequestHandler {
  return (req, res, next) => {
    if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
      // Refused on its declared length: closing the connection spares reading the body only to drop it.
      res.set('Connection', 'close');
      return next(tooLarge(maxBytes));
    }
    const path = stagingOf(req, res, dir).path();
    saveBody(req, path, maxBytes).then((size) => {
      uploaded.set(req, { file: { path, size } });
      next();
    }, next);
  };
}

/**
 * Streams a request's body to a file. Past `maxBytes` it stops writing and reads the rest without
 * keeping it, so the client still gets its 413 (destroying the request would drop the connection).
 */
function saveBody(req: Request, path: string, maxBytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(path, { flags: 'wx' });
    let size = 0;
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      req.off('data', write);
      if (error === undefined) return resolve(size);
      out.destroy();
      req.resume();
      reject(error);
    };
    const write = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return settle(tooLarge(maxBytes));
      if (!out.write(chunk)) {
        req.pause();
        out.once('drain', () => req.resume());
      }
    };
    req.on('data', write);
    req.once('end', () => out.end((error?: Error | null) => settle(error ?? undefined)));
    req.once('close', () => {
      if (!req.complete)
        settle(new HttpError(400, 'bad_upload', 'the request ended before its body was read'));
    });
    out.once('error', settle);
  });
}

const tooLarge = (maxBytes: number) =>
  new HttpError(
    413,
    'too_large',
    `the request body is larger than ${megabytes(maxBytes)}, the most accepted here`,
  );

/** The parsers' errors as answers naming what to fix; a failure of our own storage passes as it is. */
function bodyError(error: unknown, kind: Kind, accepts: Accepts): unknown {
  if (error instanceof HttpError || error instanceof PlatenError) return error;
  const e = error as { code?: string; type?: string; field?: string; syscall?: string; message?: string };
  if (e.syscall) return error;
  const files = accepts.multipart?.files === 'any' ? [] : (accepts.multipart?.files ?? []);
  switch (e.code ?? e.type) {
    case 'LIMIT_FILE_SIZE':
      return new HttpError(
        413,
        'too_large',
        `the file is larger than ${megabytes(accepts.multipart!.maxBytes)}, the most accepted here`,
      );
    case 'entity.too.large':
      return new HttpError(
        413,
        'too_large',
        `the request body is larger than ${megabytes(accepts[kind as 'json' | 'form']?.maxBytes ?? JSON_MAX_BYTES)}, the most accepted here`,
      );
    case 'LIMIT_PART_COUNT':
    case 'LIMIT_FILE_COUNT':
    case 'LIMIT_FIELD_COUNT':
    case 'parameters.too.many':
      return new HttpError(413, 'too_large', 'the form has more fields or files than are accepted here');
    case 'LIMIT_FIELD_KEY':
      return new HttpError(413, 'too_large', 'a field name of the form is too long');
    case 'LIMIT_FIELD_VALUE':
      return new HttpError(
        413,
        'too_large',
        `the field ${printable(e.field ?? '')} is longer than ${megabytes(accepts.multipart?.fieldBytes ?? FIELD_BYTES)}`,
      );
    case 'LIMIT_UNEXPECTED_FILE':
      return new HttpError(
        400,
        'unexpected_file',
        files.length > 0
          ? `a file in the field ${printable(e.field ?? '')} is not expected: files go in ${files.join(', ')}`
          : 'no files are accepted here',
      );
    case 'entity.parse.failed':
      return kind === 'json'
        ? new HttpError(400, 'invalid_json', 'the request body is not valid JSON')
        : new HttpError(400, 'bad_request', 'the form could not be read');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new HttpError(
        415,
        'unsupported_media_type',
        `the body's charset or encoding is not supported: send it in UTF-8`,
      );
    default:
      // busboy's own messages ("Unexpected end of form", "Malformed part header") name what went wrong.
      return new HttpError(
        400,
        'bad_upload',
        `the request body could not be read: ${e.message ?? 'malformed'}`,
      );
  }
}
