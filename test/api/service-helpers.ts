/**
 * A small harness for the HTTP service tests: a real server on an ephemeral port over a real SQLite
 * store in a temporary directory, plus request helpers (fetch) and test images (sharp).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { TestServer } from './helpers.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const TEMPLATES_DIR = path.join(REPO, 'templates');
export const TEMPLATE_IDS = ['insurance-brochure', 'letter-window', 'postcard-6x4'] as const;
export type TemplateId = (typeof TEMPLATE_IDS)[number];

export type Role = 'admin' | 'marketing' | 'rep';

export { cleanup, startTestServer, type TestServer } from './helpers.js';

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The body as text. */
  text: string;
  /** The body parsed as JSON (throws if it is not JSON). */
  json: <T = JsonObject>() => T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are inspected loosely
export type JsonObject = Record<string, any>;

export interface RequestOptions {
  key?: string;
  /** A JSON body (serialized here) */
  json?: unknown;
  /** A raw body, sent as is (with `headers` naming its type). */
  body?: string | Buffer | FormData;
  headers?: Record<string, string>;
}

/** One request to the server; never throws for an HTTP error status. */
export async function request(
  server: { url: string },
  method: string,
  urlPath: string,
  options: RequestOptions = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | Uint8Array | FormData | undefined;
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  } else if (Buffer.isBuffer(options.body)) {
    body = new Uint8Array(options.body);
  } else {
    body = options.body;
  }
  const res = await fetch(`${server.url}${urlPath}`, { method, headers, body });
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  return {
    status: res.status,
    headers: res.headers,
    body: bytes,
    text,
    json: <T = JsonObject>() => JSON.parse(text) as T,
  };
}

export interface CreatedKey {
  /** The secret, for `Authorization: Bearer`. */
  key: string;
  /** The key's id, as audit records name it. */
  id: string;
}

/** Creates an API key with the admin key. */
export async function createKey(
  server: TestServer,
  role: Role,
  name: string,
  repId?: string,
): Promise<CreatedKey> {
  const reply = await request(server, 'POST', '/api/v1/keys', {
    key: server.adminKey,
    json: { role, name, ...(repId ? { repId } : {}) },
  });
  if (reply.status !== 201) throw new Error(`creating a ${role} key: ${reply.status} ${reply.text}`);
  const { key, id } = reply.json<{ key: string; id: string }>();
  return { key, id };
}

export interface ProfileForm {
  name?: string;
  title?: string;
  phone?: string;
  email?: string;
  licenseNumber?: string;
  [other: string]: string | undefined;
}

/** A multipart body with text fields and an optional photo. */
export function profileForm(
  fields: ProfileForm,
  photo?: { bytes: Buffer; type: string; filename?: string },
): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) form.append(name, value);
  if (photo) {
    form.append(
      'photo',
      new Blob([new Uint8Array(photo.bytes)], { type: photo.type }),
      photo.filename ?? 'photo',
    );
  }
  return form;
}

/** PUT /api/v1/reps/me (or `/api/v1/reps/:id` with an admin key when `repPath` is given). */
export function putProfile(
  server: TestServer,
  key: string,
  fields: ProfileForm,
  photo?: { bytes: Buffer; type: string; filename?: string },
  repPath = '/api/v1/reps/me',
): Promise<Reply> {
  return request(server, 'PUT', repPath, { key, body: profileForm(fields, photo) });
}

/** A complete profile the bundled templates accept. */
export function fullProfile(name: string, licenseNumber = 'ME-PC-123456'): ProfileForm {
  const slug = name.toLowerCase().replace(/[^a-z]+/g, '.');
  return {
    name,
    title: 'Field Agent',
    phone: '(207) 555-0199',
    email: `${slug}@agency.example`,
    licenseNumber,
  };
}

export interface SampleRecord {
  rep: Record<string, string>;
  prospect: Record<string, string>;
  fields: Record<string, string>;
}

/** The bundled template's manifest, as JSON. */
export async function manifest(templateId: string): Promise<JsonObject> {
  return JSON.parse(
    await readFile(path.join(TEMPLATES_DIR, templateId, 'template.json'), 'utf8'),
  ) as JsonObject;
}

/** Sample `n` of a bundled template. */
export async function sampleRecord(templateId: string, n = 0): Promise<SampleRecord> {
  const m = await manifest(templateId);
  const sample = (m.samples as { record: SampleRecord }[])[n];
  if (!sample) throw new Error(`${templateId} has no sample ${n}`);
  return {
    rep: { ...sample.record.rep },
    prospect: { ...sample.record.prospect },
    fields: { ...sample.record.fields },
  };
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** A photo-like JPEG (a gradient, so it is not trivially compressible) of `width` × `height` pixels. */
export async function gradientJpeg(
  width: number,
  height: number,
  options: { orientation?: number; gps?: boolean } = {},
): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = Math.round((x / width) * 255);
      raw[i + 1] = Math.round((y / height) * 255);
      raw[i + 2] = 128;
    }
  }
  let image = sharp(raw, { raw: { width, height, channels: 3 } });
  if (options.orientation !== undefined || options.gps) {
    image = image.withMetadata({
      ...(options.orientation !== undefined ? { orientation: options.orientation } : {}),
    });
  }
  if (options.gps) {
    image = image.withExif({
      IFD0: { Make: 'PlatenTestCam', Model: 'T-1' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '43/1 39/1 0/1',
        GPSLongitudeRef: 'W',
        GPSLongitude: '70/1 15/1 0/1',
      },
    });
  }
  return image.jpeg({ quality: 90 }).toBuffer();
}

/** A single-colour PNG (tiny file, any pixel count: the decompression-bomb shape). */
export function solidPng(
  width: number,
  height: number,
  background: { r: number; g: number; b: number; alpha: number } = { r: 200, g: 30, b: 30, alpha: 1 },
): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background } })
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/**
 * A PNG whose left half is fully transparent and right half opaque blue: after flattening onto
 * white, the left half must be white and the right half blue.
 */
export function halfTransparentPng(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const opaque = x >= width / 2;
      raw[i] = opaque ? 20 : 0;
      raw[i + 1] = opaque ? 40 : 0;
      raw[i + 2] = opaque ? 220 : 0;
      raw[i + 3] = opaque ? 255 : 0;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

/** The RGB value of one pixel of an image. */
export async function pixelAt(image: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i] ?? -1, data[i + 1] ?? -1, data[i + 2] ?? -1];
}

/** How many blobs (PDFs, photos) the store holds: `<data>/blobs/<2 hex>/<sha256>`. */
export async function countBlobs(dataDir: string): Promise<number> {
  const root = path.join(dataDir, 'blobs');
  const shards = await readdir(root).catch(() => [] as string[]);
  let count = 0;
  for (const shard of shards) count += (await readdir(path.join(root, shard))).length;
  return count;
}

/** A reply in a few words, for assertion messages: JSON bodies as text, binary ones by type and size. */
export function brief(reply: Reply): string {
  const type = reply.headers.get('content-type') ?? '';
  if (/json|text/.test(type)) return `${reply.status} ${reply.text.slice(0, 2000)}`;
  return `${reply.status} ${type}, ${reply.body.length} bytes, location ${reply.headers.get('location')}`;
}
