/**
 * Webhooks on a real server, delivered to a receiver on loopback: signed, retried after a failure
 * with the same idempotency key and body, processed exactly once by a receiver that de-duplicates,
 * every attempt in the delivery log; not sent for event types the webhook did not subscribe to, nor
 * after it is deleted; and, cut short by a stop, delivered after the restart.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { cleanup } from '../support/files.js';
import { storedPiece } from '../support/pieces.js';
import { sampleRecord } from '../support/records.js';
import { brief, putProfile, request } from '../support/request.js';
import {
  type Client,
  client,
  createKey,
  fullProfile,
  problem,
  startTestServer,
  type TestServer,
} from '../support/server.js';

interface Received {
  eventId: string;
  type: string;
  body: string;
  /** Whether its Platen-Signature is the HMAC of its timestamp and body under the webhook's secret. */
  signed: boolean;
  status: number;
}

/**
 * A CRM's receiver: it checks each delivery's signature, de-duplicates by Idempotency-Key (what it
 * processed is `processed`), and answers as `answer` says: a status, or nothing at all (hangs).
 */
class Receiver {
  readonly received: Received[] = [];
  readonly processed: string[] = [];
  secret = '';
  answer: (eventId: string, seen: number) => number | 'hang' = () => 200;
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      this.receive(req, res).catch((error: unknown) => res.destroy(error as Error));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/platen`;
  }

  private async receive(req: IncomingMessage, res: ServerResponse) {
    const body = await text(req);
    const eventId = req.headers['idempotency-key'] as string;
    const seen = this.received.filter((r) => r.eventId === eventId).length;
    const answer = this.answer(eventId, seen);
    this.received.push({
      eventId,
      type: req.headers['platen-event'] as string,
      body,
      signed: verify(this.secret, req.headers['platen-signature'] as string, body),
      status: answer === 'hang' ? 0 : answer,
    });
    if (answer === 'hang') return;
    if (answer === 200 && !this.processed.includes(eventId)) this.processed.push(eventId);
    res.writeHead(answer).end();
  }

  forEvent(eventId: string) {
    return this.received.filter((r) => r.eventId === eventId);
  }

  async close() {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** How the README tells a receiver to check a delivery. */
function verify(secret: string, header: string | undefined, body: string): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(`${match[1]}.${body}`).digest();
  const fresh = Math.abs(Date.now() / 1000 - Number(match[1])) < 300;
  return fresh && timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
}

interface Attempt {
  eventId: string;
  type: string;
  attempt: number;
  status: number | null;
  error: string | null;
}

let server: TestServer;
let admin: Client;
const receiver = new Receiver();
let receiverUrl: string;
let webhook: { id: string; url: string; events: string[]; secret: string };

const ENV = { PLATEN_WEBHOOK_RETRY_MS: '5' };

async function deliveries(id: string): Promise<Attempt[]> {
  const res = await admin('get', `/api/v1/webhooks/${id}/deliveries`);
  expect(res.status, res.bytes.toString()).toBe(200);
  return (res.json as { deliveries: Attempt[] }).deliveries;
}

/** Waits (up to a deadline) until a webhook's log shows an attempt at `eventId` that `done` accepts. */
async function untilLogged(id: string, eventId: string, done: (a: Attempt) => boolean): Promise<Attempt[]> {
  return vi.waitFor(
    async () => {
      const log = (await deliveries(id)).filter((a) => a.eventId === eventId);
      if (!log.some(done)) throw new Error(`no such attempt yet: ${JSON.stringify(log)}`);
      return log;
    },
    { timeout: 20_000, interval: 20 },
  );
}

/** The id of the event the receiver got last of this type, once one came. */
async function nextEvent(type: string, after: number): Promise<string> {
  return vi.waitFor(
    () => {
      const got = receiver.received.slice(after).find((r) => r.type === type);
      if (!got) throw new Error(`no ${type} delivery yet`);
      return got.eventId;
    },
    { timeout: 20_000, interval: 20 },
  );
}

beforeAll(async () => {
  receiverUrl = await receiver.listen();
  server = await startTestServer({ env: ENV });
  admin = client(server.url, server.adminKey);
});

afterAll(async () => {
  await server?.close();
  await receiver.close();
  await cleanup();
});

describe('webhooks', () => {
  test('a URL that is not http: or https:, or no events, is a 422 naming the field', async () => {
    for (const url of [
      'ftp://crm.example/hooks',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'crm.example',
    ]) {
      const res = await admin('post', '/api/v1/webhooks', { json: { url, events: ['piece.created'] } });
      expect(res.status, url).toBe(422);
      expect(problem(res).errors?.map((e) => e.path)).toEqual(['url']);
    }
    const none = await admin('post', '/api/v1/webhooks', { json: { url: receiverUrl, events: [] } });
    expect(none.status).toBe(422);
    expect(problem(none).errors?.map((e) => e.path)).toEqual(['events']);
    const unknown = await admin('post', '/api/v1/webhooks', {
      json: { url: receiverUrl, events: ['piece.deleted'] },
    });
    expect(unknown.status).toBe(422);
    expect(problem(unknown).errors?.map((e) => e.path)).toEqual(['events[0]']);
    expect((await admin('get', '/api/v1/webhooks')).json).toEqual({ webhooks: [] });
  });

  test('the secret is in the create response only, never in the list', async () => {
    const res = await admin('post', '/api/v1/webhooks', {
      json: { url: receiverUrl, events: ['piece.created', 'piece.response'] },
    });
    expect(res.status, res.bytes.toString()).toBe(201);
    webhook = res.json as typeof webhook;
    expect(webhook).toMatchObject({ url: receiverUrl, events: ['piece.created', 'piece.response'] });
    expect(webhook.secret).toMatch(/^whsec_[\w-]{32}$/);
    receiver.secret = webhook.secret;
    const list = await admin('get', '/api/v1/webhooks');
    expect(list.status).toBe(200);
    expect((list.json as { webhooks: { id: string }[] }).webhooks.map((w) => w.id)).toEqual([webhook.id]);
    expect(list.bytes.toString()).not.toContain(webhook.secret);
    expect(list.bytes.toString()).not.toContain('secret');
  });

  test('an unsubscribed event type is not even put in the outbox', async () => {
    await server.running.platen.webhooks.emit(
      'piece.outcome',
      [{ pieceId: 'p-unsubscribed' }],
      (data) => data,
    );
    // Nothing pending: nothing will ever be sent for it.
    expect(await server.running.platen.store.webhooks.nextDue()).toBeNull();
  });

  test('an event arrives signed, is retried after a 500 with the same key and body, and is processed once', async () => {
    receiver.answer = (_eventId, seen) => (seen === 0 ? 500 : 200);
    const before = receiver.received.length;
    const data = { pieceId: 'p-1', templateId: 'insurance-brochure', channel: 'api' };
    await server.running.platen.webhooks.emit('piece.created', [data], (data) => data);
    const eventId = await nextEvent('piece.created', before);
    const log = await untilLogged(webhook.id, eventId, (a) => a.status === 200);

    const got = receiver.forEvent(eventId);
    expect(got.map((r) => r.status)).toEqual([500, 200]);
    expect(got.every((r) => r.signed)).toBe(true);
    expect(got.every((r) => r.type === 'piece.created')).toBe(true);
    // The retry is the same event: same idempotency key (the event id), byte for byte the same body.
    expect(got[1]!.body).toBe(got[0]!.body);
    const event = JSON.parse(got[0]!.body) as Record<string, unknown>;
    expect(event).toEqual({ id: eventId, type: 'piece.created', createdAt: expect.any(String), data });
    expect(new Date(event.createdAt as string).toISOString()).toBe(event.createdAt);
    expect(receiver.processed.filter((id) => id === eventId)).toEqual([eventId]);

    // The log, newest first: the success, then the failure it followed.
    expect(log).toEqual([
      expect.objectContaining({ type: 'piece.created', attempt: 2, status: 200, error: null }),
      expect.objectContaining({ type: 'piece.created', attempt: 1, status: 500, error: null }),
    ]);
    expect(receiver.received.some((r) => r.type === 'piece.outcome')).toBe(false);
    // Delivered, the event's body is no longer kept.
    const db = (server.running.platen.store as SqliteStore).db;
    expect(db.prepare('SELECT body FROM webhook_outbox WHERE event_id = ?').all(eventId)).toEqual([
      { body: '' },
    ]);
  });

  test('a refused connection is logged as an error and retried', async () => {
    // A port that was listening a moment ago and no longer is.
    const gone = new Receiver();
    const goneUrl = await gone.listen();
    await gone.close();
    const res = await admin('post', '/api/v1/webhooks', {
      json: { url: goneUrl, events: ['piece.outcome'] },
    });
    expect(res.status).toBe(201);
    const id = (res.json as { id: string }).id;
    await server.running.platen.webhooks.emit(
      'piece.outcome',
      [{ pieceId: 'p-1', outcome: 'won' }],
      (data) => data,
    );
    const [eventId] = (await vi.waitFor(
      async () => {
        const log = await deliveries(id);
        if (log.length < 2) throw new Error('not retried yet');
        return log.map((a) => a.eventId);
      },
      { timeout: 20_000, interval: 20 },
    )) as [string];
    const log = (await deliveries(id)).filter((a) => a.eventId === eventId);
    expect(log.at(-1)).toMatchObject({ attempt: 1, status: null, error: 'ECONNREFUSED' });
    expect(log.at(-2)).toMatchObject({ attempt: 2, status: null, error: 'ECONNREFUSED' });
    expect((await admin('delete', `/api/v1/webhooks/${id}`)).status).toBe(204);
  });

  test('a deleted webhook gets nothing more, and its delivery log stays', async () => {
    const made = await admin('post', '/api/v1/webhooks', {
      json: { url: receiverUrl, events: ['piece.response'] },
    });
    const id = (made.json as { id: string }).id;
    expect((await admin('delete', `/api/v1/webhooks/${id}`)).status).toBe(204);
    expect((await admin('delete', `/api/v1/webhooks/${id}`)).status).toBe(404);
    expect((await admin('get', '/api/v1/webhooks')).json).toEqual({
      webhooks: [expect.objectContaining({ id: webhook.id })],
    });
    expect(await deliveries(id)).toEqual([]);
    expect((await admin('get', '/api/v1/webhooks/000000000000/deliveries')).status).toBe(404);
    const malformed = await admin('get', '/api/v1/webhooks/nope/deliveries');
    expect(malformed.status).toBe(422);
    expect(problem(malformed).errors?.map((e) => e.path)).toEqual(['params.id']);
  });

  test("a rep's render raises piece.created with its code; erasing its recipient drops what is undelivered", async () => {
    const rep = await createKey(server, 'rep', 'rep', 'rep-hooks');
    expect((await putProfile(server, rep.key, fullProfile('Quentin Marlowe'))).status).toBe(200);
    const { prospect, fields } = await sampleRecord('insurance-brochure');
    const renderFor = async (id: string) => {
      const reply = await request(server, 'POST', '/api/v1/renders', {
        key: rep.key,
        json: { templateId: 'insurance-brochure', prospect: { ...prospect, id }, fields },
      });
      expect(reply.status, brief(reply)).toBe(201);
      return reply.headers.get('platen-piece-code')!;
    };
    receiver.answer = () => 200;
    let before = receiver.received.length;
    const code = await renderFor('HM-HOOKED');
    const eventId = await nextEvent('piece.created', before);
    const event = JSON.parse(receiver.forEvent(eventId)[0]!.body) as { data: Record<string, unknown> };
    expect(event.data).toMatchObject({
      code,
      templateId: 'insurance-brochure',
      version: 1,
      repId: 'rep-hooks',
      channel: 'api',
      recipientRef: 'HM-HOOKED',
    });
    expect(JSON.stringify(event)).not.toContain('harbormutual.example');
    // Stored again (as a batch chunk is after a crash), the piece raises no second event.
    expect(eventId).toBe(`piece.created:${code}`);
    await untilLogged(webhook.id, eventId, (a) => a.status === 200);
    await server.running.platen.pieces.made([(await storedPiece(server, code))!]);
    expect(await server.running.platen.store.webhooks.nextDue()).toBeNull();
    expect(receiver.forEvent(eventId)).toHaveLength(1);

    // The CRM is down: the event about the next piece waits for a retry, and the recipient is erased.
    receiver.answer = () => 503;
    before = receiver.received.length;
    await renderFor('HM-GONE');
    const waiting = await nextEvent('piece.created', before);
    await untilLogged(webhook.id, waiting, (a) => a.status === 503);
    const erased = await request(server, 'DELETE', '/api/v1/recipients/HM-GONE', { key: server.adminKey });
    expect(erased.status).toBe(200);
    expect(await server.running.platen.store.webhooks.nextDue()).toBeNull();
    receiver.answer = () => 200;
  });

  test('a delivery cut short by a stop is attempted again after the restart, and delivered once', async () => {
    receiver.answer = (_eventId, seen) => (seen === 0 ? 'hang' : 200);
    const before = receiver.received.length;
    await server.running.platen.webhooks.emit(
      'piece.response',
      [{ pieceId: 'p-2', kind: 'scan' }],
      (data) => data,
    );
    const eventId = await nextEvent('piece.response', before);
    // The receiver holds the first attempt open; the server stops under it.
    await server.close();
    server = await startTestServer({ dataDir: server.dataDir, env: ENV });
    admin = client(server.url, server.adminKey);
    const log = await untilLogged(webhook.id, eventId, (a) => a.status === 200);
    expect(log).toEqual([
      expect.objectContaining({ attempt: 2, status: 200 }),
      expect.objectContaining({ attempt: 1, status: null, error: 'Platen stopped before an answer came' }),
    ]);
    const got = receiver.forEvent(eventId);
    expect(got.map((r) => r.status)).toEqual([0, 200]);
    expect(got.every((r) => r.signed)).toBe(true);
    expect(got[1]!.body).toBe(got[0]!.body);
    expect(receiver.processed.filter((id) => id === eventId)).toEqual([eventId]);
  });
});
