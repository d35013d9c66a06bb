/**
 * The API over HTTP for tests: a real server on an ephemeral port over a temporary data directory,
 * API keys per role, an authed fetch, uploads, and the rep profile form.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config.js';
import { startServer, type Running } from '../../src/server.js';
import { tempDir } from './files.js';
import { TEMPLATES_DIR } from './repo.js';

export type Role = 'admin' | 'marketing' | 'rep';

export interface TestServer {
  url: string;
  dataDir: string;
  adminKey: string;
  running: Running;
  close(): Promise<void>;
}

/**
 * Starts a real server: over a fresh temporary data directory unless one is given (a restart), with
 * `env` overriding configuration variables, logging to `log` if given (else as configured: silent).
 * close() stops it; cleanup() removes its data directory.
 */
export async function startTestServer({
  dataDir,
  env = {},
  log,
}: { dataDir?: string; env?: Record<string, string>; log?: Logger } = {}): Promise<TestServer> {
  const dir = dataDir ?? (await tempDir('platen-data-'));
  const config = loadConfig({
    PLATEN_DATA_DIR: dir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    PLATEN_TEMPLATES_DIR: TEMPLATES_DIR,
    ...env,
  });
  // The first start prints the admin key to stdout; keep the test output clean.
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  let running: Running;
  try {
    running = await startServer(config, log);
  } finally {
    process.stdout.write = write;
  }
  const adminKey = (await readFile(path.join(dir, 'admin.key'), 'utf8')).trim();
  return { url: running.url, dataDir: dir, adminKey, running, close: () => running.close() };
}

export interface CallOptions {
  key?: string | null;
  /** A JSON body (sets Content-Type unless `headers` name one), or a raw body with its own headers. */
  json?: unknown;
  body?: RequestInit['body'];
  headers?: Record<string, string>;
}

export interface Reply {
  status: number;
  headers: Headers;
  bytes: Buffer;
  /** The body parsed as JSON when the response says it is JSON (or problem+json), else undefined. */
  json: unknown;
}

/** One request, its whole body read so no connection is left half-consumed; never throws for a status. */
export async function send(
  base: string,
  method: string,
  url: string,
  options: CallOptions = {},
): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body = options.body;
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  }
  const res = await fetch(`${base}${url}`, { method: method.toUpperCase(), headers, body });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** One request, its body parsed when the response says it is JSON. */
export async function call(
  base: string,
  method: string,
  url: string,
  options: CallOptions = {},
): Promise<Reply> {
  const reply = await send(base, method, url, options);
  const type = reply.headers.get('content-type') ?? '';
  let json: unknown;
  if (/json/.test(type) && reply.bytes.length > 0) json = JSON.parse(reply.bytes.toString('utf8'));
  return { ...reply, json };
}

/** A fetch wrapper bound to a server and a key. */
export function client(base: string, key: string | null) {
  return (method: string, url: string, options: Omit<CallOptions, 'key'> = {}) =>
    call(base, method, url, { ...options, key });
}

export type Client = ReturnType<typeof client>;

export interface CreatedKey {
  id: string;
  key: string;
  role: Role;
  name: string;
  repId: string | null;
}

/** Creates a key through the API with the admin key; rep keys need a rep id. */
export async function createKey(
  server: { url: string; adminKey: string },
  role: Role,
  name: string,
  repId?: string,
): Promise<CreatedKey> {
  const res = await call(server.url, 'post', '/api/v1/keys', {
    key: server.adminKey,
    json: { role, name, ...(repId ? { repId } : {}) },
  });
  if (res.status !== 201) throw new Error(`creating a ${role} key: ${res.status} ${res.bytes.toString()}`);
  return res.json as CreatedKey;
}

/** A key for each role: the server's admin key, marketing Morgan's, and rep Dana's (rep id `dana`). */
export async function roleKeys(server: TestServer): Promise<Record<Role, string>> {
  return {
    admin: server.adminKey,
    marketing: (await createKey(server, 'marketing', 'Morgan')).key,
    rep: (await createKey(server, 'rep', 'Dana', 'dana')).key,
  };
}

/**
 * The people the page tests sign in as: marketing's Morgan Lee, and rep Dana Whitcomb (rep id `dana`)
 * with the profile every bundled template needs (profileForm).
 */
export async function deskAndRep(server: TestServer): Promise<{ marketingKey: string; repKey: string }> {
  const marketingKey = (await createKey(server, 'marketing', 'Morgan Lee')).key;
  const repKey = (await createKey(server, 'rep', 'Dana Whitcomb', 'dana')).key;
  const profile = await call(server.url, 'put', '/api/v1/reps/me', { key: repKey, body: profileForm() });
  if (profile.status !== 200)
    throw new Error(`storing Dana's profile: ${profile.status} ${profile.bytes.toString()}`);
  return { marketingKey, repKey };
}

/** A problem+json body as the API sends it. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  errors?: { path: string; rule: string; message: string }[];
}

export function problem(reply: Reply): ProblemBody {
  const type = reply.headers.get('content-type') ?? '';
  if (!type.startsWith('application/problem+json'))
    throw new Error(`expected problem+json, got ${reply.status} ${type}: ${reply.bytes.toString()}`);
  return reply.json as ProblemBody;
}

/** Uploads a zip as an application/zip body. */
export function uploadZip(api: Client, zip: Buffer): Promise<Reply> {
  return api('post', '/api/v1/templates', {
    body: new Uint8Array(zip),
    headers: { 'content-type': 'application/zip' },
  });
}

/** Uploads a zip as the multipart field `file`. */
export function uploadMultipart(api: Client, zip: Buffer): Promise<Reply> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), 'package.zip');
  return api('post', '/api/v1/templates', { body: form });
}

export interface ProfileForm {
  name?: string;
  title?: string;
  phone?: string;
  email?: string;
  licenseNumber?: string;
  [other: string]: string | undefined;
}

/** A photo for the profile form: JPEG bytes, or any bytes with their type and file name. */
export type Photo = Buffer | { bytes: Buffer; type: string; filename?: string };

/** The rep details every bundled template needs, as multipart form fields for PUT /reps/me. */
export function profileForm(
  fields: ProfileForm = {
    name: 'Dana Whitcomb',
    title: 'Senior Agent',
    phone: '(207) 555-0199',
    email: 'dana.whitcomb@harbormutual.example',
    licenseNumber: 'ME-448812',
  },
  photo?: Photo,
): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) form.append(name, value);
  if (Buffer.isBuffer(photo)) {
    form.append('photo', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
  } else if (photo) {
    form.append(
      'photo',
      new Blob([new Uint8Array(photo.bytes)], { type: photo.type }),
      photo.filename ?? 'photo',
    );
  }
  return form;
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
