/**
 * Shared harness for the API tests: a real server on an ephemeral port over a temporary data
 * directory, API keys per role, an authed fetch, and template packages zipped with yazl (including
 * deliberately hostile ones).
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import yazl from 'yazl';
import { loadConfig } from '../../src/config.js';
import { startServer, type Running } from '../../src/server.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TEMPLATES = path.join(ROOT, 'templates');
export const BUNDLED = ['insurance-brochure', 'letter-window', 'postcard-6x4'] as const;

export type Role = 'admin' | 'marketing' | 'rep';

/** Temporary directories made by this process, removed by `cleanup()`. */
const temps: string[] = [];

export async function tempDir(prefix = 'platen-api-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

export async function cleanup(): Promise<void> {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

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
    PLATEN_TEMPLATES_DIR: TEMPLATES,
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
  /** A JSON body (sets Content-Type), or a raw body with its own headers. */
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

/** One request; the whole body is read so no connection is left half-consumed. */
export async function call(
  base: string,
  method: string,
  url: string,
  options: CallOptions = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body = options.body;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const res = await fetch(`${base}${url}`, { method: method.toUpperCase(), headers, body });
  const bytes = Buffer.from(await res.arrayBuffer());
  const type = res.headers.get('content-type') ?? '';
  let json: unknown;
  if (/json/.test(type) && bytes.length > 0) json = JSON.parse(bytes.toString('utf8'));
  return { status: res.status, headers: res.headers, bytes, json };
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

// ---------------------------------------------------------------------------------------------
// Zips

export interface ZipOptions {
  /** Put every entry under this top-level folder (`spring/template.json`). */
  folder?: string;
  /** Add an entry named `../evil.txt`. */
  traversal?: boolean;
  /** Add a symlink entry (`link` → `/etc/passwd`). */
  symlink?: boolean;
  /** Add this many tiny files. */
  manyFiles?: number;
  /** Leave these package files out. */
  omit?: string[];
  /** Add an entry for each directory too, as `zip -r` does (`folder/`, `folder/fonts/`). */
  directories?: boolean;
}

async function listFiles(dir: string, base = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

/**
 * yazl refuses `..` in names, so the traversal entry is written as `x./evil.txt` (same length) and
 * its name patched to `../evil.txt` in the finished archive; names are not covered by the CRCs.
 */
const TRAVERSAL_PLACEHOLDER = 'x./evil.txt';

/** Zips a folder (a template package) with yazl, plus any hostile extras asked for. */
export async function zipFolder(dir: string, options: ZipOptions = {}): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const prefix = options.folder ? `${options.folder}/` : '';
  const files = await listFiles(dir);
  if (options.directories) {
    const dirs = new Set(
      files.flatMap((f) =>
        f
          .split('/')
          .slice(0, -1)
          .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
      ),
    );
    if (options.folder) zip.addEmptyDirectory(options.folder);
    for (const d of [...dirs].sort()) zip.addEmptyDirectory(`${prefix}${d}`);
  }
  for (const rel of files) {
    if (options.omit?.includes(rel)) continue;
    zip.addBuffer(await readFile(path.join(dir, rel)), `${prefix}${rel}`);
  }
  if (options.traversal) zip.addBuffer(Buffer.from('outside the package\n'), TRAVERSAL_PLACEHOLDER);
  if (options.symlink) zip.addBuffer(Buffer.from('/etc/passwd'), `${prefix}link`, { mode: 0o120777 });
  for (let i = 0; i < (options.manyFiles ?? 0); i++) {
    zip.addBuffer(Buffer.from('x'), `${prefix}many/f${i}.txt`, { compress: false });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  const out = Buffer.concat(chunks);
  if (options.traversal) {
    const from = Buffer.from(TRAVERSAL_PLACEHOLDER);
    const to = Buffer.from('../evil.txt');
    let at = out.indexOf(from);
    let patched = 0;
    while (at !== -1) {
      to.copy(out, at);
      patched += 1;
      at = out.indexOf(from, at + 1);
    }
    // Once in the local header, once in the central directory.
    if (patched !== 2) throw new Error(`patched the traversal name ${patched} times`);
  }
  return out;
}

/**
 * A valid package: the bundled postcard copied to a temp folder with its id and name changed, and
 * then any further change to the manifest.
 */
export async function makePackage(
  id: string,
  name: string,
  change: (manifest: Record<string, unknown>) => void = () => {},
): Promise<string> {
  const dir = path.join(await tempDir('platen-pkg-'), id);
  await cp(path.join(TEMPLATES, 'postcard-6x4'), dir, { recursive: true });
  const file = path.join(dir, 'template.json');
  const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  manifest.id = id;
  manifest.name = name;
  change(manifest);
  await writeFile(file, JSON.stringify(manifest, null, 2));
  return dir;
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

/** The rep details every bundled template needs, as multipart form fields for PUT /reps/me. */
export function profileForm(
  fields: Record<string, string> = {
    name: 'Dana Whitcomb',
    title: 'Senior Agent',
    phone: '(207) 555-0199',
    email: 'dana.whitcomb@harbormutual.example',
    licenseNumber: 'ME-448812',
  },
  photo?: Buffer,
): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (photo) form.append('photo', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
  return form;
}

/** A valid postcard render request body. */
export function postcardRender(templateId = 'postcard-6x4', version?: number) {
  return {
    templateId,
    ...(version === undefined ? {} : { version }),
    prospect: {
      firstName: 'Chloé',
      lastName: 'Köhler',
      address1: '418 Birchwood Lane',
      city: 'Bangor',
      state: 'ME',
      zip: '04401',
    },
    fields: { message: 'Happy to review your coverage this week.' },
  };
}

/** The same record as the rep's form posts it: a field per input, named `prospect.firstName`. */
export function postcardFormValues(): Record<string, string> {
  const { prospect, fields } = postcardRender();
  return Object.fromEntries([
    ...Object.entries(prospect).map(([key, value]) => [`prospect.${key}`, value]),
    ...Object.entries(fields).map(([key, value]) => [`fields.${key}`, value]),
  ]);
}

/** The entries of a directory, or [] if it does not exist. */
export async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

/** The header of a postcard drop (see postcardDrop). */
const DROP_HEADER = ['First Name', 'Last Name', 'Street Address', 'City', 'State', 'ZIP'];

/**
 * A postcard drop of `rows` rows, as a CSV: row n (from 1) is prospect n; every `badEvery`th row has
 * a state the template refuses. Returns the list and its bad rows.
 */
export function postcardDrop(rows: number, badEvery = 0): { csv: string; bad: number[] } {
  const bad: number[] = [];
  const lines = [DROP_HEADER.join(',')];
  for (let n = 1; n <= rows; n++) {
    const isBad = badEvery > 0 && n % badEvery === 0;
    if (isBad) bad.push(n);
    lines.push(
      [`First${n}`, `Last${n}`, `${n} Harbor Rd`, 'Portland', isBad ? 'Maine' : 'ME', '04101'].join(','),
    );
  }
  return { csv: `${lines.join('\r\n')}\r\n`, bad };
}
