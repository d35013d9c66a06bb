/**
 * What admins run the organisation with, over HTTP: when each key was last used (recorded at most once
 * a minute, so a busy key does not write on every request), and the organisation's settings, stored
 * over the environment's defaults: the approval rule they set is the one publishing follows, at
 * once, and what they stored outlives a restart whatever the environment says.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanup } from '../support/files.js';
import { makePackage } from '../support/packages.js';
import {
  type Client,
  client,
  createKey,
  problem,
  startTestServer,
  type TestServer,
  uploadZip,
} from '../support/server.js';
import { zipFolder } from '../support/zips.js';

const ID = 'settings-postcard';

let server: TestServer;
let admin: Client;
let morgan: Client;
let zip: Buffer;

interface ListedKey {
  id: string;
  lastUsedAt: string | null;
}
const lastUsedOf = async (id: string) =>
  ((await admin('get', '/api/v1/keys')).json as { keys: ListedKey[] }).keys.find((k) => k.id === id)!
    .lastUsedAt;

beforeAll(async () => {
  server = await startTestServer();
  admin = client(server.url, server.adminKey);
  morgan = client(server.url, (await createKey(server, 'marketing', 'Morgan')).key);
  zip = await zipFolder(await makePackage(ID, 'Settings postcard'));
});

afterAll(async () => {
  await server.close();
  await cleanup();
});

describe('keys: last used', () => {
  test('a new key was never used; its first call records the minute, and later calls within it write nothing', async () => {
    const made = await createKey(server, 'marketing', 'CRM sync');
    expect(await lastUsedOf(made.id)).toBeNull();
    const before = Date.now();
    expect((await client(server.url, made.key)('get', '/api/v1/templates')).status).toBe(200);
    const first = await lastUsedOf(made.id);
    expect(first).not.toBeNull();
    expect(Date.parse(first!)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(first!)).toBeLessThanOrEqual(Date.now());
    // Within the minute, the recorded use stands: no write per request.
    expect((await client(server.url, made.key)('get', '/api/v1/templates')).status).toBe(200);
    expect(await lastUsedOf(made.id)).toBe(first);
  });

  test('once the recorded use is a minute old, the next call records it again', async () => {
    const made = await createKey(server, 'rep', 'Dana', 'dana');
    const old = new Date(Date.now() - 61_000).toISOString();
    await server.running.platen.store.keys.used(made.id, old);
    expect(await lastUsedOf(made.id)).toBe(old);
    expect((await client(server.url, made.key)('get', '/api/v1/reps/me')).status).toBe(200);
    expect(Date.parse((await lastUsedOf(made.id))!)).toBeGreaterThan(Date.parse(old) + 60_000);
  });

  test('a refused call (a revoked key) records nothing', async () => {
    const made = await createKey(server, 'marketing', 'Old laptop');
    expect((await admin('delete', `/api/v1/keys/${made.id}`)).status).toBe(204);
    expect((await client(server.url, made.key)('get', '/api/v1/templates')).status).toBe(401);
    expect(await lastUsedOf(made.id)).toBeNull();
  });
});

describe('settings', () => {
  test('an admin reads them: the environment’s defaults until changed, and the address links print', async () => {
    const res = await admin('get', '/api/v1/settings');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ requireApproval: false, retentionDays: 730, publicUrl: server.url });
  });

  test('a change names at least one setting, each valid, and nothing else', async () => {
    const empty = await admin('put', '/api/v1/settings', { json: {} });
    expect(empty.status).toBe(422);
    expect(problem(empty).errors?.[0]?.rule).toBe('nothing_to_update');
    const wrong = await admin('put', '/api/v1/settings', {
      json: { requireApproval: 'yes', retentionDays: 0 },
    });
    expect(wrong.status).toBe(422);
    expect(
      problem(wrong)
        .errors?.map((e) => e.path)
        .sort(),
    ).toEqual(['requireApproval', 'retentionDays']);
    const readOnly = await admin('put', '/api/v1/settings', {
      json: { publicUrl: 'https://elsewhere.example' },
    });
    expect(readOnly.status).toBe(422);
    expect(JSON.stringify(problem(readOnly).errors)).toContain('publicUrl');
    expect((await admin('get', '/api/v1/settings')).json).toMatchObject({
      requireApproval: false,
      retentionDays: 730,
    });
  });

  test('marketing may neither read nor change them', async () => {
    expect((await morgan('get', '/api/v1/settings')).status).toBe(403);
    const put = await morgan('put', '/api/v1/settings', { json: { requireApproval: false } });
    expect(put.status).toBe(403);
    expect(problem(put).detail).toContain('Only admin keys');
  });

  test('the approval rule an admin sets is the one publishing follows, from the next publish on', async () => {
    const draft = async () => {
      const upload = await uploadZip(morgan, zip);
      expect(upload.status, upload.bytes.toString()).toBe(201);
      return (upload.json as { version: number }).version;
    };
    const publish = (version: number) =>
      morgan('post', `/api/v1/templates/${ID}/versions/${version}/publish`);

    const on = await admin('put', '/api/v1/settings', { json: { requireApproval: true } });
    expect(on.status).toBe(200);
    expect(on.json).toMatchObject({ requireApproval: true, retentionDays: 730 });
    const first = await draft();
    const refused = await publish(first);
    expect(refused.status).toBe(409);
    expect(problem(refused).code).toBe('not_approved');
    expect((await admin('post', `/api/v1/templates/${ID}/versions/${first}/approve`)).status).toBe(200);
    expect((await publish(first)).status).toBe(200);

    expect((await admin('put', '/api/v1/settings', { json: { requireApproval: false } })).status).toBe(200);
    const second = await draft();
    const approve = await admin('post', `/api/v1/templates/${ID}/versions/${second}/approve`);
    expect(approve.status).toBe(409);
    expect(problem(approve).code).toBe('approval_off');
    expect((await publish(second)).status).toBe(200);
  });

  test('what an admin stored outlives a restart, over the environment’s default', async () => {
    const saved = await admin('put', '/api/v1/settings', { json: { retentionDays: 365 } });
    expect(saved.json).toMatchObject({ requireApproval: false, retentionDays: 365 });
    await server.close();
    server = await startTestServer({
      dataDir: server.dataDir,
      env: {
        PLATEN_REQUIRE_APPROVAL: 'true',
        PLATEN_RETENTION_DAYS: '90',
        PLATEN_PUBLIC_URL: 'https://go.example/',
      },
    });
    admin = client(server.url, server.adminKey);
    expect((await admin('get', '/api/v1/settings')).json).toEqual({
      requireApproval: false,
      retentionDays: 365,
      publicUrl: 'https://go.example',
    });
  });
});
