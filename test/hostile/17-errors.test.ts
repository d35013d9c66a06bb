/**
 * Errors: a client's mistake is a 4xx naming what to fix; a 5xx is ours, logged with the request's
 * id, and its body carries that id (the same as its X-Request-Id); a full disk or database is 507 with
 * Retry-After, never a fault of the input. Then the class test: every route of /openapi.json and of
 * the pages, for every kind of caller, with hostile but fair requests (wrong content types, no body,
 * bodies of the wrong shape, huge strings, bad path parameters, unknown query parameters, malformed
 * multipart, deep JSON): no answer is a 5xx, and none names a path of the server's.
 */
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanup } from '../support/files.js';
import { REPO_ROOT } from '../support/repo.js';
import { type JsonObject, request } from '../support/request.js';
import {
  createKey,
  fullProfile,
  profileForm,
  roleKeys,
  startTestServer,
  type TestServer,
} from '../support/server.js';
import { pageRoutes, type PageSession, signInPages } from '../support/pages.js';

let server: TestServer;
/** Every line the server logged, parsed. */
const logged: JsonObject[] = [];
const keys: Record<string, string> = {};
const pages: Record<string, PageSession> = {};
/** A finished job of the rep's. */
let jobId: string;

beforeAll(async () => {
  const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  server = await startTestServer({ env: { PLATEN_RATE_LIMIT: '1000000' }, log });
  Object.assign(keys, await roleKeys(server));
  const revoked = await createKey(server, 'rep', 'Gone', 'gone');
  await request(server, 'DELETE', `/api/v1/keys/${revoked.id}`, { key: keys.admin });
  keys.revoked = revoked.key;
  keys.malformed = 'platen_not-a-key';
  keys.huge = `platen_${'k'.repeat(8000)}`;
  const profile = await request(server, 'PUT', '/api/v1/reps/me', {
    key: keys.rep,
    body: profileForm(fullProfile('Dana Whitcomb')),
  });
  expect(profile.status).toBe(200);
  const form = new FormData();
  form.append(
    'csv',
    new Blob(['First Name,Last Name,Address 1,City,State,Zip\nAnn,Lee,1 Main St,Bangor,ME,04401\n']),
  );
  form.append('templateId', 'postcard-6x4');
  form.append('output', 'check');
  const job = await request(server, 'POST', '/api/v1/jobs', { key: keys.rep, body: form });
  expect(job.status, job.text).toBe(202);
  jobId = job.json().id as string;
  // Finished, so that its event stream ends and its report exists.
  while ((await request(server, 'GET', `/api/v1/jobs/${jobId}`, { key: keys.rep })).json().state !== 'done')
    await new Promise((resolve) => setTimeout(resolve, 50));
  for (const role of ['rep', 'marketing', 'admin']) pages[role] = await signInPages(server.url, keys[role]!);
});

afterAll(async () => {
  vi.restoreAllMocks();
  await server?.close();
  await cleanup();
});

const services = () => server.running.services;
const linesOf = (requestId: string) => logged.filter((line) => line.requestId === requestId);

describe('a server error', () => {
  it('carries its request id in its body and header, and is logged with it; the error itself is not sent', async () => {
    const secret = `${server.dataDir}/secret.db`;
    vi.spyOn(services().templates, 'list').mockImplementation(() => {
      throw new Error(`broke reading ${secret}`);
    });
    try {
      const reply = await request(server, 'GET', '/api/v1/templates', { key: keys.rep });
      expect(reply.status).toBe(500);
      const id = reply.headers.get('x-request-id')!;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(reply.json()).toMatchObject({ code: 'internal', requestId: id });
      expect(reply.json().detail).toContain(id);
      expect(reply.text).not.toContain('broke');
      expect(reply.text).not.toContain(server.dataDir);
      const lines = linesOf(id);
      expect(lines.find((l) => l.level === 50)?.err).toMatchObject({ message: `broke reading ${secret}` });
      expect(lines.find((l) => l.msg === 'request')).toMatchObject({ status: 500, url: '/api/v1/templates' });

      const page = await pages.rep!.request('GET', '/gallery');
      expect(page.status).toBe(500);
      const pageId = page.headers.get('x-request-id')!;
      expect(page.text).toContain(`reference ${pageId}`);
      expect(page.text).not.toContain('broke');
      expect(linesOf(pageId).find((l) => l.level === 50)?.err).toMatchObject({
        message: `broke reading ${secret}`,
      });
    } finally {
      vi.restoreAllMocks();
    }
  });
});

describe('a storage fault', () => {
  const faults = [
    { code: 'ENOSPC', status: 507, problem: 'storage_full', words: 'run out of storage space' },
    { code: 'SQLITE_FULL', status: 507, problem: 'storage_full', words: 'run out of storage space' },
    { code: 'EIO', status: 503, problem: 'storage_unavailable', words: 'could not save or read' },
  ];

  it.each(faults)(
    '$code is $status with Retry-After on the API and the pages, logged with the request id',
    async (fault) => {
      vi.spyOn(server.running.platen.store.reps, 'update').mockImplementation(() => {
        throw Object.assign(new Error(`${fault.code}: failed, write '${server.dataDir}/platen.db'`), {
          code: fault.code,
        });
      });
      try {
        const reply = await request(server, 'PUT', '/api/v1/reps/me', {
          key: keys.rep,
          json: { title: 'Agent' },
        });
        expect(reply.status, reply.text).toBe(fault.status);
        expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
        const id = reply.headers.get('x-request-id')!;
        expect(reply.json()).toMatchObject({ code: fault.problem, requestId: id });
        expect(reply.text).not.toContain(server.dataDir);
        expect(linesOf(id).find((l) => l.level === 50)?.err).toMatchObject({ code: fault.code });

        const page = await pages.rep!.request('POST', '/profile', {
          csrf: '',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ _csrf: pages.rep!.csrf, title: 'Agent' }).toString(),
        });
        expect(page.status, page.text).toBe(fault.status);
        expect(Number(page.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(page.text).toContain(fault.words);
        expect(page.text).not.toContain(server.dataDir);
        expect(linesOf(page.headers.get('x-request-id')!).find((l) => l.level === 50)?.err).toMatchObject({
          code: fault.code,
        });
      } finally {
        vi.restoreAllMocks();
      }
    },
  );
});

// ---------------------------------------------------------------------------------------------
// The walk

const DEEP = '['.repeat(15_000) + ']'.repeat(15_000);
const GARBAGE = Buffer.from([0x00, 0xff, 0xfe, 0x22, 0x2c, 0x0a, 0x50, 0x4b, 0x03, 0x04, 0x00, 0x0d, 0x22]);
const json = (body: string | Buffer) => ({ body, headers: { 'content-type': 'application/json' } });

interface Body {
  body?: string | Buffer;
  headers: Record<string, string>;
}

/** Bodies of every type and shape but the right one. */
const BODIES: Record<string, Body> = {
  none: { headers: {} },
  'text/plain': { body: '{"templateId":"postcard-6x4"}', headers: { 'content-type': 'text/plain' } },
  xml: { body: '<a/>', headers: { 'content-type': 'application/xml' } },
  untyped: { body: Buffer.from('{"templateId":"postcard-6x4"}'), headers: {} },
  'json array': json('[]'),
  'json null': json('null'),
  'json of the wrong shape': json(
    '{"templateId":{"$gt":""},"version":"one","prospect":[1,2],"fields":"x","rep":7,"sample":-1,"page":1e309,' +
      '"values":{"fields.x":{}},"role":42,"name":null,"repId":"../../etc","title":["a"],"photo":"x"}',
  ),
  'json naming no such sample': json('{"templateId":"postcard-6x4","sample":1000,"prospect":{},"fields":{}}'),
  'json naming the largest version': json('{"templateId":"postcard-6x4","version":9007199254740991}'),
  'json with a huge string': json(`{"templateId":"${'x'.repeat(60_000)}","name":"${'é'.repeat(1000)}"}`),
  'json over the limit': json(`{"name":"${'x'.repeat(300_000)}"}`),
  'json 15,000 deep': json(`{"templateId":${DEEP}}`),
  'malformed json': json('{"templateId": "postcard-6x4", "prospect": {'),
  'json prototype keys': json(
    '{"__proto__":{"role":"admin"},"constructor":{"prototype":{"x":1}},"templateId":"x"}',
  ),
  'json not utf-8': json(Buffer.concat([Buffer.from('{"name":"'), GARBAGE, Buffer.from('"}')])),
  'json gzip that is not': {
    body: '{"a":1}',
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
  },
  'json utf-16': { body: '{"a":1}', headers: { 'content-type': 'application/json; charset=utf-16' } },
  'form with hostile fields': {
    body: `__proto__=1&constructor=2&templateId=../../x&version=-1&values=1&key=${'k'.repeat(300)}&map=%7B&output=pdf%00`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  },
  'form with too many fields': {
    body: Array.from({ length: 1000 }, (_, i) => `f${i}=1`).join('&'),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  },
  'multipart without a boundary': { body: 'abc', headers: { 'content-type': 'multipart/form-data' } },
  'multipart unterminated': {
    body: '--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nUnfinished',
    headers: { 'content-type': 'multipart/form-data; boundary=b' },
  },
  'multipart with a malformed part header': {
    body: '--b\r\nContent-Disposition form-data name=x\r\n\r\nx\r\n--b--\r\n',
    headers: { 'content-type': 'multipart/form-data; boundary=b' },
  },
  'zip that is not one': {
    body: Buffer.from('PK\u0003\u0004 truncated'),
    headers: { 'content-type': 'application/zip' },
  },
  'empty zip': { body: Buffer.alloc(0), headers: { 'content-type': 'application/zip' } },
};

/** Multipart bodies around the file fields a route takes: garbage, hostile names, too many parts. */
function multipartBodies(fileFields: readonly string[]): Record<string, Body> {
  const out: Record<string, Body> = {};
  const part = (name: string, value: string | Buffer, filename?: string) =>
    Buffer.concat([
      Buffer.from(
        `--b\r\nContent-Disposition: form-data; name="${name}"` +
          (filename === undefined
            ? '\r\n\r\n'
            : `; filename="${filename}"\r\nContent-Type: text/csv\r\n\r\n`),
      ),
      Buffer.from(value),
      Buffer.from('\r\n'),
    ]);
  const form = (...parts: Buffer[]): Body => ({
    body: Buffer.concat([...parts, Buffer.from('--b--\r\n')]),
    headers: { 'content-type': 'multipart/form-data; boundary=b' },
  });
  const template = part('templateId', 'postcard-6x4');
  const hostileFields = [
    template,
    part('version', '1e309'),
    part('output', 'zip'),
    part('map', `{"a":${DEEP.slice(0, 7000)}${DEEP.slice(-7000)}}`),
    part('repId', '../../etc/passwd'),
    part('impose', 'x'.repeat(39)),
    part('marks', 'maybe'),
    part('name', 'x'.repeat(60_000)),
  ];
  for (const field of fileFields) {
    out[`multipart: garbage in ${field}`] = form(
      ...hostileFields,
      part(field, GARBAGE, '../../../etc/passwd'),
    );
    out[`multipart: empty ${field}`] = form(template, part(field, '', 'empty.csv'));
    out[`multipart: two files in ${field}`] = form(
      template,
      part(field, 'a', 'a.csv'),
      part(field, 'b', 'b.csv'),
    );
  }
  if (fileFields.includes('csv')) {
    out['multipart: a list with a quote never closed'] = form(
      template,
      part('csv', `First Name,"Last\n${'x,'.repeat(5000)}`, 'list.csv'),
    );
    out['multipart: a header of 2,000 columns'] = form(
      template,
      part('csv', Array.from({ length: 2000 }, (_, i) => `c${i}`).join(',') + '\n', 'list.csv'),
    );
  }
  out['multipart: a file in an unknown field'] = form(part('evil', GARBAGE, 'evil.sh'));
  out['multipart: prototype and bracketed names'] = form(
    part('__proto__', 'x'),
    part('constructor[prototype][x]', 'y'),
    part('a[999999999]', 'z'),
    part('b[c][d][e][f][g][h]', 'w'),
  );
  out['multipart: too many fields'] = form(...Array.from({ length: 300 }, (_, i) => part(`f${i}`, '1')));
  return out;
}

const HOSTILE_PARAMS = [
  '..%2F..%2Fetc%2Fpasswd',
  '%00',
  'x'.repeat(3000),
  '%E0%A4%A',
  '__proto__',
  '-1',
  '1e309',
  '%20',
];
const HOSTILE_QUERIES = [
  '?zzz=1',
  '?limit=-1&limit=2&version=1&version=2',
  '?__proto__=1&constructor=2',
  '?version=1e400&page=NaN&scale=Infinity&size=huge&next=//evil.example',
  `?q=${'x'.repeat(5000)}`,
  '?%E0%A4%A=1',
];

/** A path with its parameters filled: a real value by default, or `value` for every parameter. */
function fill(path: string, value?: string): string {
  return path.replace(/\{(\w+)\}|:(\w+)/g, (_, a?: string, b?: string) => {
    if (value !== undefined) return value;
    const name = a ?? b!;
    if (name === 'n') return '999';
    if (name === 'sample') return '0';
    if (name === 'page') return '1';
    if (name === 'action') return 'publish';
    if (/\/(templates|make|samples)\//.test(path)) return 'postcard-6x4';
    if (/\/reps\//.test(path)) return 'dana';
    if (/\/jobs\//.test(path)) return jobId;
    if (/\/keys\//.test(path)) return 'ffffffffffff';
    return '0123456789abcdef';
  });
}

interface Variant {
  what: string;
  url: string;
  body: Body;
}

/** The requests of a route: as documented, then each parameter hostile, unknown query parameters, bodies. */
function variants(path: string, bodies: Record<string, Body>): Variant[] {
  const out = [{ what: 'as documented', url: fill(path), body: BODIES.none! }];
  if (/[{:]/.test(path)) {
    for (const value of HOSTILE_PARAMS)
      out.push({ what: `parameters ${value.slice(0, 20)}`, url: fill(path, value), body: BODIES.none! });
  }
  for (const query of HOSTILE_QUERIES)
    out.push({ what: `query ${query.slice(0, 40)}`, url: fill(path) + query, body: BODIES.none! });
  for (const [what, body] of Object.entries(bodies)) out.push({ what, url: fill(path), body });
  return out;
}

interface Caller {
  who: string;
  /** Only routes of these methods (all when absent). */
  methods?: string[];
  send(method: string, url: string, body: Body): Promise<{ status: number; headers: Headers; text: string }>;
}

interface Walked {
  /** Each answer that was a 5xx or named a server path. */
  faults: string[];
  statuses: Set<number>;
  sent: number;
}

/**
 * Sends every variant of every route as every caller. A caller a route refuses (401, 403, or sent to
 * sign in) stops after a few: its key or session is all the route reads of it.
 */
async function walk(
  routes: { method: string; path: string; bodies: Record<string, Body> }[],
  callers: Caller[],
) {
  const walked: Walked = { faults: [], statuses: new Set(), sent: 0 };
  for (const { method, path, bodies } of routes) {
    // A GET has no body.
    const all = variants(path, method === 'get' ? {} : bodies);
    for (const caller of callers.filter((c) => c.methods?.includes(method) ?? true)) {
      for (const [i, { what, url, body }] of all.entries()) {
        const reply = await caller.send(method.toUpperCase(), url, body);
        walked.sent += 1;
        walked.statuses.add(reply.status);
        const fault =
          reply.status >= 500
            ? String(reply.status)
            : [server.dataDir, REPO_ROOT, tmpdir()].find((dir) => reply.text.includes(dir));
        if (fault) {
          const text = reply.text.replace(/\s+/g, ' ');
          walked.faults.push(
            `${method} ${url.slice(0, 100)} as ${caller.who}, ${what}: ${fault} ${text.slice(-400)}`,
          );
        }
        const refused =
          [401, 403].includes(reply.status) || reply.headers.get('location')?.startsWith('/sign-in');
        if (i === 0 && refused) break;
      }
    }
  }
  return walked;
}

const reply = async (res: Response) => ({ status: res.status, headers: res.headers, text: await res.text() });

describe('every route, for every caller, with hostile but fair requests', () => {
  it('the API answers each with a 4xx (or a success), never a 5xx, and names no server path', async () => {
    const doc = (await request(server, 'GET', '/openapi.json')).json();
    const routes = Object.entries(doc.paths as Record<string, JsonObject>).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => {
        const content = (op.requestBody?.content ?? {}) as Record<string, JsonObject>;
        const properties = (content['multipart/form-data']?.schema?.properties ?? {}) as Record<
          string,
          JsonObject
        >;
        const files = Object.keys(properties).filter((name) => properties[name]!.format === 'binary');
        const bodies = op.requestBody
          ? { ...BODIES, ...multipartBodies(files) }
          : { text: BODIES['text/plain']!, untyped: BODIES.untyped! };
        return { method, path, bodies };
      }),
    );
    const callers = Object.entries(keys).map(([who, key]) => ({
      who,
      send: (method: string, url: string, { body, headers }: Body) =>
        fetch(`${server.url}${url}`, {
          method,
          headers: { ...headers, authorization: `Bearer ${key}` },
          ...(body === undefined ? {} : { body }),
        }).then(reply),
    }));
    const walked = await walk(routes, callers);
    expect(walked.faults).toEqual([]);
    expect([...walked.statuses]).toEqual(expect.arrayContaining([400, 401, 403, 404, 413, 415, 422]));
    expect(walked.sent).toBeGreaterThan(1000);
  });

  it('the pages answer each with a 4xx, a redirect or a page, never a 5xx, and name no server path', async () => {
    const bodies = { ...BODIES, ...multipartBodies(['csv', 'file', 'image', 'photo']) };
    const routes = (await pageRoutes(services()))
      .flatMap(({ path, methods }) =>
        methods.filter((m) => m === 'get' || m === 'post').map((method) => ({ method, path, bodies })),
      )
      // Signing out last: it ends the session the other requests ride on.
      .sort((a, b) => Number(a.path === '/sign-out') - Number(b.path === '/sign-out'));
    const stranger = (who: string, cookie?: string): Caller => ({
      who,
      send: (method, url, { body, headers }) =>
        fetch(`${server.url}${url}`, {
          method,
          headers: { ...headers, ...(cookie ? { cookie } : {}) },
          redirect: 'manual',
          ...(body === undefined ? {} : { body }),
        }).then(reply),
    });
    const callers: Caller[] = [
      stranger('nobody'),
      stranger(
        'a forged session',
        `platen_session=ffff.99999999999999.x.${'A'.repeat(43)}; platen_visitor=%%`,
      ),
      stranger('a garbled cookie', `platen_session=${'%'.repeat(3000)}; =; ;;`),
      ...Object.entries(pages).flatMap(([who, session]) =>
        [true, false].map((token) => ({
          who: `${who}${token ? '' : ' without a CSRF token'}`,
          ...(token ? {} : { methods: ['post'] }),
          send: (method: string, url: string, { body, headers }: Body) =>
            session.request(method, url, {
              csrf: '',
              headers: { ...headers, ...(token ? { 'x-csrf-token': session.csrf } : {}) },
              ...(body === undefined ? {} : { body }),
            }),
        })),
      ),
    ];
    const walked = await walk(routes, callers);
    expect(walked.faults).toEqual([]);
    expect([...walked.statuses]).toEqual(expect.arrayContaining([303, 400, 403, 404, 413, 415, 422]));
    expect(walked.sent).toBeGreaterThan(1000);
  });
});
