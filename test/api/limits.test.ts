/**
 * Limits and hardening, each on its own server with low limits: per-key rate limits (429 with
 * Retry-After), the bounded render gate (503 with Retry-After, never anything else), request
 * timeouts, body size limits, malformed bodies, helmet headers, and error bodies that never leak a
 * stack trace or a file path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR } from '../../src/service/keys.js';
import { cleanup } from '../support/files.js';
import { sampleRecord } from '../support/records.js';
import { brief, type JsonObject, putProfile, type Reply, request } from '../support/request.js';
import { createKey, fullProfile, startTestServer, type TestServer } from '../support/server.js';

const servers: TestServer[] = [];
async function serverWith(env: Record<string, string>): Promise<TestServer> {
  const server = await startTestServer({ env });
  servers.push(server);
  return server;
}

afterAll(async () => {
  for (const server of servers) await server.close();
  await cleanup();
});

/** A rep key with a complete profile, ready to render. */
async function readyRep(server: TestServer, repId: string): Promise<string> {
  const { key } = await createKey(server, 'rep', repId, repId);
  const reply = await putProfile(server, key, fullProfile(`Rep ${repId.replace(/[^a-z]/g, '')}`));
  if (reply.status !== 200) throw new Error(brief(reply));
  return key;
}

async function brochureBody(firstName?: string) {
  const { prospect, fields } = await sampleRecord('insurance-brochure');
  return {
    templateId: 'insurance-brochure',
    prospect: { ...prospect, ...(firstName ? { firstName } : {}) },
    fields,
  };
}

/** Retry-After as whole seconds (delta-seconds, RFC 9110); NaN when absent or not an integer. */
function retryAfter(reply: Reply): number {
  const value = reply.headers.get('retry-after');
  return value !== null && /^\d+$/.test(value) ? Number(value) : Number.NaN;
}

function expectProblem(reply: Reply, status: number, code: string): JsonObject {
  expect(reply.status, brief(reply)).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = reply.json();
  expect(problem).toMatchObject({ status, code });
  expect(typeof problem.detail).toBe('string');
  return problem;
}

async function auditCount(server: TestServer): Promise<number> {
  const reply = await request(server, 'GET', '/api/v1/renders?limit=500', { key: server.adminKey });
  expect(reply.status).toBe(200);
  return (reply.json().renders as unknown[]).length;
}

describe('per-key rate limit (PLATEN_RATE_LIMIT=5)', () => {
  let server: TestServer;
  let first: string;
  let second: string;

  beforeAll(async () => {
    server = await serverWith({ PLATEN_RATE_LIMIT: '5' });
    first = (await createKey(server, 'rep', 'first', 'rate-first')).key;
    second = (await createKey(server, 'rep', 'second', 'rate-second')).key;
  });

  it('answers the 6th request in a minute with 429 rate_limited and Retry-After; other keys are unaffected', async () => {
    for (let i = 1; i <= 5; i++) {
      const reply = await request(server, 'GET', '/api/v1/reps/me', { key: first });
      expect(reply.status, `request ${i}: ${brief(reply)}`).toBe(200);
    }
    const sixth = await request(server, 'GET', '/api/v1/reps/me', { key: first });
    expectProblem(sixth, 429, 'rate_limited');
    const seconds = retryAfter(sixth);
    expect(Number.isInteger(seconds)).toBe(true);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(60);

    // The limit is the key's, across routes.
    expectProblem(await request(server, 'GET', '/api/v1/templates', { key: first }), 429, 'rate_limited');

    // Another key has its own allowance.
    for (let i = 1; i <= 5; i++) {
      const reply = await request(server, 'GET', i % 2 ? '/api/v1/reps/me' : '/api/v1/templates', {
        key: second,
      });
      expect(reply.status, `other key, request ${i}: ${brief(reply)}`).toBe(200);
    }
    // Public routes take no key and are not counted against one.
    expect((await request(server, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('bounded render concurrency (PLATEN_RENDER_CONCURRENCY=1, PLATEN_RENDER_QUEUE=0)', () => {
  let server: TestServer;
  let rep: string;

  beforeAll(async () => {
    server = await serverWith({ PLATEN_RENDER_CONCURRENCY: '1', PLATEN_RENDER_QUEUE: '0' });
    rep = await readyRep(server, 'gate-rep');
    // Compile the template once, so the burst below measures the gate, not the first compile.
    expect(
      (await request(server, 'POST', '/api/v1/renders', { key: rep, json: await brochureBody() })).status,
    ).toBe(201);
  });

  it('answers 20 simultaneous renders with 201s and 503 overloaded (Retry-After), nothing else', async () => {
    const audits = await auditCount(server);
    const bodies = await Promise.all(Array.from({ length: 20 }, (_, i) => brochureBody(`Burst${i}`)));
    const replies = await Promise.all(
      bodies.map((json) => request(server, 'POST', '/api/v1/renders', { key: rep, json })),
    );
    const statuses = replies.map((r) => r.status);
    expect(
      statuses.filter((s) => s !== 201 && s !== 503),
      statuses.join(' '),
    ).toEqual([]);
    const ok = replies.filter((r) => r.status === 201);
    const overloaded = replies.filter((r) => r.status === 503);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(overloaded.length).toBeGreaterThanOrEqual(1);
    for (const reply of ok) {
      expect(reply.headers.get('content-type')).toBe('application/pdf');
      expect(reply.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    }
    for (const reply of overloaded) {
      expectProblem(reply, 503, 'overloaded');
      expect(retryAfter(reply)).toBeGreaterThan(0);
    }
    // Only the renders delivered are in the audit trail.
    expect(await auditCount(server)).toBe(audits + ok.length);

    // The server still answers, and renders again once the burst is over.
    expect((await request(server, 'GET', '/healthz')).status).toBe(200);
    const after = await request(server, 'POST', '/api/v1/renders', {
      key: rep,
      json: await brochureBody('After'),
    });
    expect(after.status, brief(after)).toBe(201);
  });

  it('refuses renders and previews at once while the only slot is taken, and recovers when it frees', async () => {
    let release!: () => void;
    const held = server.running.services.gate.run(
      new AbortController().signal,
      () => new Promise<void>((resolve) => (release = resolve)),
    );
    try {
      const body = await brochureBody();
      const replies = await Promise.all([
        request(server, 'POST', '/api/v1/renders', { key: rep, json: body }),
        request(server, 'POST', '/api/v1/renders', { key: rep, json: body }),
        request(server, 'POST', '/api/v1/previews', { key: rep, json: body }),
      ]);
      for (const reply of replies) {
        expectProblem(reply, 503, 'overloaded');
        expect(retryAfter(reply)).toBeGreaterThan(0);
      }
      // Requests that need no render are still served.
      expect((await request(server, 'GET', '/api/v1/reps/me', { key: rep })).status).toBe(200);
    } finally {
      release();
      await held;
    }
    const after = await request(server, 'POST', '/api/v1/renders', { key: rep, json: await brochureBody() });
    expect(after.status, brief(after)).toBe(201);
  });
});

describe('request timeout (PLATEN_REQUEST_TIMEOUT_MS=1000, one render slot, one queue place)', () => {
  it('answers 503 timeout with Retry-After, and does not record a render the caller never received', async () => {
    const server = await serverWith({
      PLATEN_RENDER_CONCURRENCY: '1',
      PLATEN_RENDER_QUEUE: '1',
      PLATEN_REQUEST_TIMEOUT_MS: '1000',
      PLATEN_BATCH_WORKERS: '1',
    });
    const rep = await readyRep(server, 'slow-rep');
    const gate = server.running.services.gate;
    // The brochure compiled, here and on the one worker thread, before a request has a second to be
    // answered in: the first render of a version compiles it on each (unseen under the default 30 s).
    const { templates, pool } = server.running.platen;
    const version = await templates.resolve('insurance-brochure', undefined, OPERATOR);
    await templates.compiled(version);
    const template = { dir: await templates.packageDir(version), version: version.version };
    const view = { page: 1, scale: 0.25, crop: 'trim' } as const;
    await pool.piece(
      { kind: 'preview', template, source: { sample: 0 }, view },
      new AbortController().signal,
    );
    const audits = await auditCount(server);
    let release!: () => void;
    const held = gate.run(
      new AbortController().signal,
      () => new Promise<void>((resolve) => (release = resolve)),
    );
    let reply: Reply;
    try {
      // Waits in the queue behind the held slot until the timeout answers it.
      // (On a connection of its own: when the abandoned render finishes, the server currently
      // destroys that connection, and a pooled keep-alive socket would reset the next request.)
      reply = await request(server, 'POST', '/api/v1/renders', {
        key: rep,
        json: await brochureBody('Late'),
        headers: { connection: 'close' },
      });
    } finally {
      release();
      await held;
    }
    expectProblem(reply, 503, 'timeout');
    expect(retryAfter(reply)).toBeGreaterThan(0);
    // Wait for the gate to drain: this runs only after whatever the queued request left behind.
    await gate.run(new AbortController().signal, async () => undefined);
    expect(await auditCount(server)).toBe(audits);
    const after = await request(server, 'POST', '/api/v1/renders', { key: rep, json: await brochureBody() });
    expect(after.status, brief(after)).toBe(201);
  });
});

describe('bodies, headers and error responses', () => {
  let server: TestServer;
  let rep: string;
  let marketing: string;

  beforeAll(async () => {
    server = await serverWith({});
    rep = await readyRep(server, 'body-rep');
    marketing = (await createKey(server, 'marketing', 'marketing')).key;
  });

  it("refuses a body over the route's JSON limit with 413 too_large", async () => {
    const body = await brochureBody();
    // Renders accept 256 KB of JSON.
    const big = { ...body, fields: { ...body.fields, message: 'x'.repeat(300 * 1024) } };
    expectProblem(
      await request(server, 'POST', '/api/v1/renders', { key: rep, json: big }),
      413,
      'too_large',
    );
    expectProblem(
      await request(server, 'POST', '/api/v1/previews', { key: rep, json: big }),
      413,
      'too_large',
    );
    // Other JSON routes accept 64 KB.
    const key = { role: 'marketing', name: 'n'.repeat(70 * 1024) };
    expectProblem(
      await request(server, 'POST', '/api/v1/keys', { key: server.adminKey, json: key }),
      413,
      'too_large',
    );
    // A photo over 15 MB.
    const photo = new FormData();
    photo.append('photo', new Blob([new Uint8Array(16 * 1024 * 1024)], { type: 'image/jpeg' }), 'big.jpg');
    expectProblem(
      await request(server, 'PUT', '/api/v1/reps/me', { key: rep, body: photo }),
      413,
      'too_large',
    );
    // A body under the limit with the same shape is fine (it fails validation instead: 400 characters at most).
    const fine = { ...body, fields: { ...body.fields, message: 'x'.repeat(200 * 1024) } };
    expectProblem(
      await request(server, 'POST', '/api/v1/renders', { key: rep, json: fine }),
      422,
      'invalid_record',
    );
  });

  it('refuses malformed JSON with 400 invalid_json', async () => {
    for (const path of ['/api/v1/renders', '/api/v1/previews', '/api/v1/previews/fit']) {
      const reply = await request(server, 'POST', path, {
        key: rep,
        body: '{"templateId": "insurance-brochure", "prospect": {',
        headers: { 'content-type': 'application/json' },
      });
      expectProblem(reply, 400, 'invalid_json');
    }
    const keys = await request(server, 'POST', '/api/v1/keys', {
      key: server.adminKey,
      body: "{role: 'rep'}",
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(keys, 400, 'invalid_json');
  });

  it('refuses a malformed multipart body as a client error (400), not a server error', async () => {
    const reply = await request(server, 'PUT', '/api/v1/reps/me', {
      key: rep,
      body: '--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\nUnfinished',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
    });
    expect(reply.status, brief(reply)).toBe(400);
    expect(reply.json().code).not.toBe('internal');
  });

  it('sends the helmet headers on every kind of response', async () => {
    const body = await brochureBody();
    const replies = [
      await request(server, 'GET', '/healthz'),
      await request(server, 'GET', '/api/v1/reps/me', { key: rep }),
      await request(server, 'GET', '/api/v1/nowhere', { key: rep }),
      await request(server, 'GET', '/api/v1/reps/me'),
      await request(server, 'POST', '/api/v1/renders', { key: rep, json: body }),
      await request(server, 'POST', '/api/v1/previews', { key: rep, json: body }),
    ];
    expect(replies.map((r) => r.status)).toEqual([200, 200, 404, 401, 201, 200]);
    for (const reply of replies) {
      expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
      const csp = reply.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(reply.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(reply.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(reply.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('never puts a stack trace or a file path in an error body', async () => {
    const body = await brochureBody();
    const json = { 'content-type': 'application/json' };
    const errors: Reply[] = [
      await request(server, 'POST', '/api/v1/renders', { key: rep, body: '{"a":', headers: json }), // 400
      await request(server, 'POST', '/api/v1/renders', {
        key: rep,
        body: Buffer.from('not gzip at all'),
        headers: { ...json, 'content-encoding': 'gzip' },
      }), // 400
      await request(server, 'GET', '/api/v1/templates/%E0%A4%A', { key: rep }), // 400
      await request(server, 'GET', '/api/v1/reps/me'), // 401
      await request(server, 'GET', '/api/v1/reps/me', { key: 'platen_not-a-real-key' }), // 401
      await request(server, 'GET', '/api/v1/keys', { key: rep }), // 403
      await request(server, 'GET', '/api/v1/nowhere', { key: rep }), // 404
      await request(server, 'GET', '/api/v1/renders/0123456789abcdef', { key: rep }), // 404
      await request(server, 'POST', '/api/v1/renders', { key: rep, json: { ...body, templateId: 'nope' } }), // 404
      await request(server, 'DELETE', '/api/v1/keys/ffffffffffff', { key: server.adminKey }), // 404
      await request(server, 'POST', '/api/v1/templates', { key: marketing }), // 415
      await request(server, 'POST', '/api/v1/templates', {
        key: marketing,
        body: Buffer.from('PK\u0003\u0004 truncated'),
        headers: { 'content-type': 'application/zip' },
      }), // 422
      await request(server, 'POST', '/api/v1/renders', {
        key: rep,
        json: { ...body, fields: { ...body.fields, message: 'x'.repeat(300 * 1024) } },
      }), // 413
      await request(server, 'POST', '/api/v1/renders', { key: rep, json: { ...body, rep: { name: 'X' } } }), // 422
      await request(server, 'POST', '/api/v1/renders', {
        key: rep,
        json: { ...body, fields: { ...body.fields, message: 'Line\n'.repeat(30) } },
      }), // 422
      await putProfile(server, rep, {}, { bytes: Buffer.from('not an image'), type: 'image/jpeg' }), // 422
      await request(server, 'PUT', '/api/v1/reps/me', {
        key: rep,
        body: '--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\nUnfinished',
        headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
      }), // 400 (see above)
    ];
    for (const reply of errors) {
      expect(reply.status, brief(reply)).toBeGreaterThanOrEqual(400);
      expect(reply.headers.get('content-type'), brief(reply)).toMatch(/^application\/problem\+json/);
      const problem = reply.json();
      expect(problem.status).toBe(reply.status);
      expect(typeof problem.code).toBe('string');
      expect(problem.stack).toBeUndefined();
      const text = reply.text;
      expect(text, brief(reply)).not.toMatch(/\bat [\w$.<>]+ \(/); // "at fn (file:line:col)" frames
      expect(text, brief(reply)).not.toMatch(/\bat (file|node):/);
      expect(text, brief(reply)).not.toMatch(/[\w-]+\.(ts|js|mjs|cjs):\d+/);
      expect(text, brief(reply)).not.toMatch(/(\/[\w.-]+){2,}\.(ts|js|mjs|cjs)\b/);
      expect(text, brief(reply)).not.toContain('node_modules');
      expect(text, brief(reply)).not.toContain(server.dataDir);
      expect(text, brief(reply)).not.toContain(process.cwd());
    }
    expect([...new Set(errors.map((r) => r.status))]).toEqual(
      expect.arrayContaining([400, 401, 403, 404, 413, 415, 422]),
    );
  });
});
