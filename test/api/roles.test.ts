/**
 * The role matrix: every route the OpenAPI document lists, against every role, no key, and a revoked
 * key. The roles come from the document's `x-roles`, so a new route is covered the day it is added;
 * the matrix for the routes that matter is also written out here, so the test cannot pass by the
 * document and the app agreeing on something wrong.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  call,
  cleanup,
  client,
  createKey,
  type CreatedKey,
  makePackage,
  postcardRender,
  problem,
  profileForm,
  type Role,
  startTestServer,
  type TestServer,
  uploadZip,
  zipFolder,
} from './helpers.js';

interface Operation {
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
  requestBody?: { content?: Record<string, { schema?: Record<string, unknown> }> };
  parameters?: { name: string; in: string; required?: boolean }[];
  security?: unknown[];
  'x-roles'?: string[];
}

interface OpenApi {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
}

const ROLES: Role[] = ['admin', 'marketing', 'rep'];
const PUBLIC = ['get /healthz', 'get /openapi.json'];

/** Written out by hand from the issue: who may call what. */
const EXPECTED: Record<string, Role[]> = {
  'get /api/v1/templates': ['rep', 'marketing', 'admin'],
  'get /api/v1/templates/{id}': ['rep', 'marketing', 'admin'],
  'post /api/v1/templates': ['marketing'],
  'post /api/v1/templates/{id}/versions/{n}/publish': ['marketing'],
  'post /api/v1/templates/{id}/versions/{n}/retire': ['marketing'],
  'get /api/v1/reps/me': ['rep'],
  'put /api/v1/reps/me': ['rep'],
  'get /api/v1/reps': ['admin'],
  'get /api/v1/reps/{id}': ['admin'],
  'put /api/v1/reps/{id}': ['admin'],
  'get /api/v1/reps/{id}/photo': ['admin'],
  'post /api/v1/renders': ['rep'],
  'get /api/v1/renders': ['rep', 'marketing', 'admin'],
  'get /api/v1/renders/{id}': ['rep', 'marketing', 'admin'],
  'get /api/v1/renders/{id}/pdf': ['rep', 'marketing', 'admin'],
  'get /api/v1/keys': ['admin'],
  'post /api/v1/keys': ['admin'],
  'post /api/v1/jobs': ['rep', 'marketing', 'admin'],
  'get /api/v1/jobs': ['rep', 'marketing', 'admin'],
  'get /api/v1/jobs/{id}': ['rep', 'marketing', 'admin'],
  'get /api/v1/jobs/{id}/events': ['rep', 'marketing', 'admin'],
  'get /api/v1/jobs/{id}/output': ['rep', 'marketing', 'admin'],
  'get /api/v1/jobs/{id}/errors.csv': ['rep', 'marketing', 'admin'],
  'delete /api/v1/jobs/{id}': ['rep', 'marketing', 'admin'],
  'delete /api/v1/keys/{id}': ['admin'],
};

let server: TestServer;
let doc: OpenApi;
const keys = {} as Record<Role, CreatedKey>;
const revoked = {} as Record<Role, CreatedKey>;
let victim: CreatedKey;
let renderId: string;
let jobId: string;
const MATRIX_TEMPLATE = 'matrix-postcard';
const REP_ID = 'rep-matrix';

/** Every operation of the document as `method path`. */
function operations(): { op: string; method: string; path: string; roles: Role[] | null }[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      op: `${method} ${path}`,
      method,
      path,
      roles: (operation['x-roles'] as Role[] | undefined) ?? null,
    })),
  );
}

/** A concrete URL for a templated path: each parameter names something that exists. */
function concrete(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    if (name === 'n') return '1';
    if (name !== 'id') throw new Error(`no value for path parameter {${name}} in ${path}`);
    if (path.startsWith('/api/v1/templates/')) return MATRIX_TEMPLATE;
    if (path.startsWith('/api/v1/reps/')) return REP_ID;
    if (path.startsWith('/api/v1/renders/')) return renderId;
    if (path.startsWith('/api/v1/keys/')) return victim.id;
    if (path.startsWith('/api/v1/jobs/')) return jobId;
    throw new Error(`no value for {id} in ${path}`);
  });
}

beforeAll(async () => {
  server = await startTestServer();
  for (const role of ROLES) {
    keys[role] = await createKey(server, role, `${role} key`, role === 'rep' ? REP_ID : undefined);
    revoked[role] = await createKey(
      server,
      role,
      `revoked ${role} key`,
      role === 'rep' ? 'rep-revoked' : undefined,
    );
    const del = await call(server.url, 'delete', `/api/v1/keys/${revoked[role].id}`, {
      key: server.adminKey,
    });
    expect(del.status).toBe(204);
  }
  victim = await createKey(server, 'marketing', 'key to revoke');

  // A draft of its own for publish/retire, a profile and a render for the {id} of the render routes.
  const marketing = client(server.url, keys.marketing.key);
  const upload = await uploadZip(
    marketing,
    await zipFolder(await makePackage(MATRIX_TEMPLATE, 'Matrix postcard')),
  );
  expect(upload.status).toBe(201);
  const rep = client(server.url, keys.rep.key);
  expect((await rep('put', '/api/v1/reps/me', { body: profileForm() })).status).toBe(200);
  const render = await rep('post', '/api/v1/renders', { json: postcardRender() });
  expect(render.status).toBe(201);
  renderId = (render.headers.get('location') ?? '').split('/').pop()!;
  expect(renderId).toMatch(/^[0-9a-f]{16}$/);
  // A finished batch job for the {id} of the job routes (its event stream ends at once).
  const list = new FormData();
  list.set('templateId', 'postcard-6x4');
  const csv = 'First Name,Last Name,Street Address,City,State,ZIP\r\nPat,Lee,1 Main St,Portland,ME,04101\r\n';
  list.set('csv', new Blob([csv], { type: 'text/csv' }), 'list.csv');
  const job = await rep('post', '/api/v1/jobs', { body: list });
  expect(job.status).toBe(202);
  jobId = (job.json as { id: string }).id;
  for (let i = 0; i < 200; i++) {
    const state = ((await rep('get', `/api/v1/jobs/${jobId}`)).json as { state: string }).state;
    if (state === 'done') break;
    await new Promise((r) => setTimeout(r, 100));
  }

  const res = await call(server.url, 'get', '/openapi.json');
  expect(res.status).toBe(200);
  doc = res.json as OpenApi;
});

afterAll(async () => {
  await server?.close();
  await cleanup();
});

describe('the OpenAPI document', () => {
  test('is OpenAPI 3.1 with responses for every operation', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Platen API');
    const ops = operations();
    expect(ops.length).toBeGreaterThanOrEqual(Object.keys(EXPECTED).length + PUBLIC.length);
    for (const { op, method, path } of ops) {
      expect(['get', 'post', 'put', 'delete', 'patch'], op).toContain(method);
      const operation = doc.paths[path]![method]!;
      const responses = Object.entries(operation.responses ?? {});
      expect(responses.length, `${op} has responses`).toBeGreaterThan(0);
      expect(
        responses.some(([status]) => /^2\d\d$/.test(status)),
        `${op} documents a success response`,
      ).toBe(true);
      for (const [status, response] of responses) {
        expect(typeof response.description, `${op} ${status} description`).toBe('string');
      }
      // Every {param} of the path is a required path parameter.
      for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
        const param = operation.parameters?.find((p) => p.name === name && p.in === 'path');
        expect(param?.required, `${op} declares {${name}}`).toBe(true);
      }
    }
  });

  test('lists every route the issue names', () => {
    const ops = operations().map((o) => o.op);
    for (const op of [...PUBLIC, ...Object.keys(EXPECTED), 'post /api/v1/previews'])
      expect(ops).toContain(op);
  });

  test('JSON routes document their request body schema', () => {
    const jsonRoutes = operations().filter(
      ({ method, path }) => doc.paths[path]![method]!.requestBody?.content?.['application/json'],
    );
    expect(jsonRoutes.map((o) => o.op)).toEqual(
      expect.arrayContaining([
        'post /api/v1/renders',
        'post /api/v1/previews',
        'post /api/v1/previews/fit',
        'post /api/v1/keys',
      ]),
    );
    for (const { op, method, path } of jsonRoutes) {
      const schema = doc.paths[path]![method]!.requestBody!.content!['application/json']!.schema;
      expect(schema?.type, `${op} body schema`).toBe('object');
      expect(Object.keys((schema?.properties as object | undefined) ?? {}).length, op).toBeGreaterThan(0);
    }
    for (const { op, method, path } of operations()) {
      for (const [media, content] of Object.entries(doc.paths[path]![method]!.requestBody?.content ?? {}))
        expect(content.schema, `${op} ${media} schema`).toBeTypeOf('object');
    }
    const upload = doc.paths['/api/v1/templates']!.post!.requestBody!.content!;
    expect(Object.keys(upload)).toEqual(expect.arrayContaining(['application/zip', 'multipart/form-data']));
  });

  test('the renders body schema is the one that validates: no additional properties', async () => {
    const schema = doc.paths['/api/v1/renders']!.post!.requestBody!.content!['application/json']!.schema!;
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties as object).sort()).toEqual(
      ['fields', 'prospect', 'templateId', 'version'].sort(),
    );
    expect(schema.required).toEqual(['templateId']);
    // What the document forbids, the route refuses, naming the key.
    const rep = client(server.url, keys.rep.key);
    const extra = await rep('post', '/api/v1/renders', {
      json: { ...postcardRender(), rep: { name: 'Someone Else' } },
    });
    expect(extra.status).toBe(422);
    expect(problem(extra).errors).toContainEqual(
      expect.objectContaining({ path: 'rep', rule: 'unknown_key' }),
    );
    const noId = await rep('post', '/api/v1/renders', { json: { prospect: {} } });
    expect(noId.status).toBe(422);
    expect(problem(noId).errors?.map((e) => e.path)).toContain('templateId');
  });

  test('x-roles match the expected matrix for the routes that matter', () => {
    for (const [op, roles] of Object.entries(EXPECTED)) {
      const found = operations().find((o) => o.op === op);
      expect(found, op).toBeDefined();
      expect([...(found!.roles ?? [])].sort(), op).toEqual([...roles].sort());
    }
    for (const { op, roles, method, path } of operations()) {
      if (PUBLIC.includes(op)) {
        expect(roles, op).toBeNull();
      } else {
        expect(roles?.length, `${op} names its roles`).toBeGreaterThan(0);
        for (const role of roles!) expect(ROLES, op).toContain(role);
        expect(doc.paths[path]![method]!.security, op).toEqual([{ bearer: [] }]);
      }
    }
  });
});

describe('the role matrix', () => {
  test('public routes answer 200 without a key', async () => {
    for (const op of PUBLIC) {
      const [method, path] = op.split(' ') as [string, string];
      const res = await call(server.url, method, path);
      expect(res.status, op).toBe(200);
    }
    const health = await call(server.url, 'get', '/healthz');
    expect(health.json).toEqual({ status: 'ok' });
  });

  for (const role of ROLES) {
    test(`${role}: allowed routes answer, the others are 403 forbidden`, async () => {
      const api = client(server.url, keys[role].key);
      const wrong: string[] = [];
      let allowed = 0;
      let forbidden = 0;
      for (const { op, method, path, roles } of operations()) {
        if (!roles) continue;
        const res = await api(method, concrete(path));
        if (roles.includes(role)) {
          allowed += 1;
          if (res.status === 401 || res.status === 403 || res.status >= 500)
            wrong.push(`${op}: ${res.status} ${res.bytes.toString().slice(0, 200)}`);
        } else {
          forbidden += 1;
          const body = res.json as { code?: string; status?: number } | undefined;
          const type = res.headers.get('content-type') ?? '';
          if (
            res.status !== 403 ||
            body?.code !== 'forbidden' ||
            body.status !== 403 ||
            !type.startsWith('application/problem+json')
          )
            wrong.push(
              `${op}: expected 403 forbidden, got ${res.status} ${res.bytes.toString().slice(0, 200)}`,
            );
        }
      }
      expect(wrong).toEqual([]);
      // Not vacuous: each role is allowed some routes and refused others.
      expect(allowed).toBeGreaterThanOrEqual(role === 'rep' ? 10 : 7);
      expect(forbidden).toBeGreaterThanOrEqual(5);
    });
  }

  test('the expected matrix holds over HTTP for the routes that matter', async () => {
    const wrong: string[] = [];
    for (const [op, allowedRoles] of Object.entries(EXPECTED)) {
      const [method, path] = op.split(' ') as [string, string];
      for (const role of ROLES) {
        // The key route's victim is revoked by the admin run above; a 404 still means "allowed".
        const res = await call(server.url, method, concrete(path), { key: keys[role].key });
        const isForbidden = res.status === 403;
        if (allowedRoles.includes(role) === isForbidden || res.status === 401)
          wrong.push(`${op} as ${role}: ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test('no key: every protected route is 401 unauthorized with a Bearer challenge', async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const { op, method, path, roles } of operations()) {
      if (!roles) continue;
      checked += 1;
      const challenges: Record<string, string>[] = [{}, { authorization: 'Basic YWRtaW46YWRtaW4=' }];
      for (const headers of challenges) {
        const res = await call(server.url, method, concrete(path), { headers });
        const body = res.json as { code?: string } | undefined;
        if (
          res.status !== 401 ||
          body?.code !== 'unauthorized' ||
          res.headers.get('www-authenticate') !== 'Bearer' ||
          !(res.headers.get('content-type') ?? '').startsWith('application/problem+json')
        )
          wrong.push(`${op} ${JSON.stringify(headers)}: ${res.status} ${res.bytes.toString().slice(0, 200)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(Object.keys(EXPECTED).length);
  });

  test('a revoked or unknown key is 401 on every protected route, whatever its role', async () => {
    const wrong: string[] = [];
    const secrets = [...ROLES.map((r) => revoked[r].key), 'platen_notarealkeyatall000000000000000000'];
    for (const { op, method, path, roles } of operations()) {
      if (!roles) continue;
      for (const key of secrets) {
        const res = await call(server.url, method, concrete(path), { key });
        const body = res.json as { code?: string } | undefined;
        if (
          res.status !== 401 ||
          body?.code !== 'unauthorized' ||
          res.headers.get('www-authenticate') !== 'Bearer'
        )
          wrong.push(`${op}: ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test("a rep sees only their own renders; marketing and admins see every rep's", async () => {
    const other = await createKey(server, 'rep', 'another rep', 'rep-other');
    const theirs = await call(server.url, 'get', `/api/v1/renders/${renderId}`, { key: other.key });
    expect(theirs.status).toBe(404);
    const pdf = await call(server.url, 'get', `/api/v1/renders/${renderId}/pdf`, { key: other.key });
    expect(pdf.status).toBe(404);
    const listed = await call(server.url, 'get', `/api/v1/renders?rep=${REP_ID}`, { key: other.key });
    expect((listed.json as { renders: unknown[] }).renders).toEqual([]);
    for (const key of [keys.rep.key, keys.marketing.key, keys.admin.key]) {
      const res = await call(server.url, 'get', `/api/v1/renders/${renderId}`, { key });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ id: renderId, repId: REP_ID, templateId: 'postcard-6x4' });
    }
  });

  test('a revoked key stays listed, marked revoked, and cannot be revoked twice', async () => {
    const admin = client(server.url, server.adminKey);
    const list = await admin('get', '/api/v1/keys');
    expect(list.status).toBe(200);
    const listed = (list.json as { keys: { id: string; revokedAt: string | null; role: string }[] }).keys;
    for (const role of ROLES) {
      const entry = listed.find((k) => k.id === revoked[role].id);
      expect(entry?.role).toBe(role);
      expect(entry?.revokedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    expect(listed.find((k) => k.id === keys.rep.id)?.revokedAt).toBeNull();
    // Secrets are never listed.
    expect(list.bytes.toString()).not.toContain(keys.rep.key);
    const again = await admin('delete', `/api/v1/keys/${revoked.rep.id}`);
    expect(again.status).toBe(404);
    expect(problem(again).code).toBe('not_found');
  });
});
