import { randomBytes } from 'node:crypto';
import type {
  Delivery,
  DeliveryAttempt,
  NextStep,
  Webhook,
  WebhookEventType,
  WebhookStore,
} from '../store.js';
import {
  type AttemptRow,
  type OutboxRow,
  POSTGRES,
  toAttempt,
  toDelivery,
  webhookReader,
  type WebhookRow,
} from '../rows.js';
import { type Db, now } from './db.js';

const toWebhook = webhookReader(POSTGRES);

const COLUMNS = 'id, url, events, created_at, deleted_at';

export class PostgresWebhookStore implements WebhookStore {
  constructor(private readonly db: Db) {}

  async create(input: { url: string; events: WebhookEventType[]; secret: string }): Promise<Webhook> {
    const { rows } = await this.db.query<WebhookRow<'postgres'>>(
      `INSERT INTO webhooks (id, url, events, secret, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [randomBytes(6).toString('hex'), input.url, JSON.stringify(input.events), input.secret, now()],
    );
    return toWebhook(rows[0]!);
  }

  async get(id: string): Promise<Webhook | null> {
    const { rows } = await this.db.query<WebhookRow<'postgres'>>(
      `SELECT ${COLUMNS} FROM webhooks WHERE id = $1`,
      [id],
    );
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  async list(): Promise<Webhook[]> {
    const { rows } = await this.db.query<WebhookRow<'postgres'>>(
      `SELECT ${COLUMNS} FROM webhooks WHERE deleted_at IS NULL ORDER BY created_at, id COLLATE "C"`,
    );
    return rows.map(toWebhook);
  }

  async target(id: string): Promise<{ url: string; secret: string } | null> {
    const { rows } = await this.db.query<{ url: string; secret: string }>(
      'SELECT url, secret FROM webhooks WHERE id = $1 AND deleted_at IS NULL',
      [id],
    );
    return rows[0] ?? null;
  }

  /** One statement: the webhook is deleted and its pending deliveries dropped together. */
  async delete(id: string): Promise<boolean> {
    const { rows } = await this.db.query<{ deleted: boolean }>(
      `WITH deleted AS (
         UPDATE webhooks SET deleted_at = $2, secret = NULL WHERE id = $1 AND deleted_at IS NULL RETURNING id
       ), dropped AS (
         DELETE FROM webhook_outbox WHERE webhook_id IN (SELECT id FROM deleted) AND state = 'pending'
       )
       SELECT EXISTS (SELECT 1 FROM deleted) AS deleted`,
      [id, now()],
    );
    return rows[0]!.deleted;
  }

  /** One statement for every event and webhook, in order: each event's deliveries, webhook by webhook. */
  async enqueue(
    events: readonly { id: string; type: WebhookEventType; body: string }[],
    webhookIds: readonly string[],
  ): Promise<void> {
    const pairs = events.flatMap((event) => webhookIds.map((webhookId) => ({ event, webhookId })));
    if (pairs.length === 0) return;
    await this.db.query(
      `INSERT INTO webhook_outbox (webhook_id, event_id, type, body, next_attempt_at, state, created_at)
       SELECT webhook_id, event_id, type, body, $5, 'pending', $6
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY
         AS e(webhook_id, event_id, type, body, n)
       ORDER BY n
       ON CONFLICT (event_id, webhook_id) DO NOTHING`,
      [
        pairs.map((p) => p.webhookId),
        pairs.map((p) => p.event.id),
        pairs.map((p) => p.event.type),
        pairs.map((p) => p.event.body),
        Date.now(),
        now(),
      ],
    );
  }

  async dropPendingAbout(codes: readonly string[]): Promise<void> {
    // The CASE reads the body as JSON only for pending rows: a delivery that is over keeps no body.
    await this.db.query(
      `DELETE FROM webhook_outbox WHERE state = 'pending'
       AND CASE WHEN state = 'pending' THEN body::json #>> '{data,code}' END = ANY($1::text[])`,
      [codes],
    );
  }

  /**
   * One statement: the due rows are locked, leased and returned as they were before the lease. Rows
   * another node is claiming at the same moment are skipped, not waited for.
   */
  async claimDue(now: number, limit: number, leaseUntil: number): Promise<Delivery[]> {
    const { rows } = await this.db.query<OutboxRow>(
      `WITH due AS (
         SELECT * FROM webhook_outbox WHERE state = 'pending' AND next_attempt_at <= $1
         ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
       ), leased AS (
         UPDATE webhook_outbox SET next_attempt_at = $3 FROM due WHERE webhook_outbox.id = due.id
       )
       SELECT * FROM due ORDER BY next_attempt_at, id`,
      [now, limit, leaseUntil],
    );
    return rows.map(toDelivery);
  }

  async nextDue(): Promise<number | null> {
    const { rows } = await this.db.query<{ at: number | null }>(
      `SELECT min(next_attempt_at) AS at FROM webhook_outbox WHERE state = 'pending'`,
    );
    return rows[0]!.at;
  }

  /** One statement: the attempt is logged and what follows it stored together. */
  async attempted(
    delivery: Delivery,
    attempt: Omit<DeliveryAttempt, 'eventId' | 'type' | 'attempt'>,
    next: NextStep,
  ): Promise<void> {
    await this.db.query(
      `WITH outbox AS (
         UPDATE webhook_outbox SET attempts = $1, state = $2, next_attempt_at = coalesce($3, next_attempt_at),
           body = CASE $2 WHEN 'pending' THEN body ELSE '' END
         WHERE id = $4
       )
       INSERT INTO webhook_attempts (webhook_id, event_id, type, attempt, at, status, error, duration_ms)
       VALUES ($5, $6, $7, $1, $8, $9, $10, $11)`,
      [
        delivery.attempts + 1,
        next.state,
        next.state === 'pending' ? next.retryAt : null,
        delivery.id,
        delivery.webhookId,
        delivery.eventId,
        delivery.type,
        attempt.at,
        attempt.status,
        attempt.error,
        attempt.durationMs,
      ],
    );
  }

  async attempts(webhookId: string, limit: number): Promise<DeliveryAttempt[]> {
    const { rows } = await this.db.query<AttemptRow>(
      `SELECT event_id, type, attempt, at, status, error, duration_ms FROM webhook_attempts
       WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2`,
      [webhookId, limit],
    );
    return rows.map(toAttempt);
  }
}
