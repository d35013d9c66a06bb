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
  SQLITE,
  toAttempt,
  toDelivery,
  webhookReader,
  type WebhookRow,
} from '../rows.js';
import { type Db, now } from './db.js';

const toWebhook = webhookReader(SQLITE);

const COLUMNS = 'id, url, events, created_at, deleted_at';

export class SqliteWebhookStore implements WebhookStore {
  constructor(private readonly db: Db) {}

  async create(input: { url: string; events: WebhookEventType[]; secret: string }): Promise<Webhook> {
    const row: WebhookRow<'sqlite'> = {
      id: randomBytes(6).toString('hex'),
      url: input.url,
      events: JSON.stringify(input.events),
      created_at: now(),
      deleted_at: null,
    };
    this.db
      .prepare(
        'INSERT INTO webhooks (id, url, events, secret, created_at) VALUES (@id, @url, @events, @secret, @created_at)',
      )
      .run({ ...row, secret: input.secret });
    return toWebhook(row);
  }

  async get(id: string): Promise<Webhook | null> {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM webhooks WHERE id = ?`).get(id) as
      WebhookRow<'sqlite'> | undefined;
    return row ? toWebhook(row) : null;
  }

  async list(): Promise<Webhook[]> {
    const rows = this.db
      .prepare(`SELECT ${COLUMNS} FROM webhooks WHERE deleted_at IS NULL ORDER BY created_at, id`)
      .all() as WebhookRow<'sqlite'>[];
    return rows.map(toWebhook);
  }

  async target(id: string): Promise<{ url: string; secret: string } | null> {
    const row = this.db
      .prepare('SELECT url, secret FROM webhooks WHERE id = ? AND deleted_at IS NULL')
      .get(id) as { url: string; secret: string } | undefined;
    return row ?? null;
  }

  async delete(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      const deleted =
        this.db
          .prepare('UPDATE webhooks SET deleted_at = ?, secret = NULL WHERE id = ? AND deleted_at IS NULL')
          .run(now(), id).changes > 0;
      if (deleted)
        this.db.prepare(`DELETE FROM webhook_outbox WHERE webhook_id = ? AND state = 'pending'`).run(id);
      return deleted;
    })();
  }

  async enqueue(
    events: readonly { id: string; type: WebhookEventType; body: string }[],
    webhookIds: readonly string[],
  ): Promise<void> {
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO webhook_outbox (webhook_id, event_id, type, body, next_attempt_at, state, created_at)
       VALUES (?, ?, ?, ?, ?, 'pending', ?)`,
    );
    const at = Date.now();
    const createdAt = now();
    this.db.transaction(() => {
      for (const event of events)
        for (const webhookId of webhookIds)
          insert.run(webhookId, event.id, event.type, event.body, at, createdAt);
    })();
  }

  async dropPendingAbout(codes: readonly string[]): Promise<void> {
    const drop = this.db.prepare(
      `DELETE FROM webhook_outbox WHERE state = 'pending' AND json_extract(body, '$.data.code') = ?`,
    );
    this.db.transaction(() => {
      for (const code of codes) drop.run(code);
    })();
  }

  async claimDue(now: number, limit: number, leaseUntil: number): Promise<Delivery[]> {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare(
          `SELECT * FROM webhook_outbox WHERE state = 'pending' AND next_attempt_at <= ?
           ORDER BY next_attempt_at, id LIMIT ?`,
        )
        .all(now, limit) as OutboxRow[];
      const lease = this.db.prepare('UPDATE webhook_outbox SET next_attempt_at = ? WHERE id = ?');
      for (const row of rows) lease.run(leaseUntil, row.id);
      return rows.map(toDelivery);
    })();
  }

  async nextDue(): Promise<number | null> {
    const row = this.db
      .prepare(`SELECT min(next_attempt_at) AS at FROM webhook_outbox WHERE state = 'pending'`)
      .get() as { at: number | null };
    return row.at;
  }

  async attempted(
    delivery: Delivery,
    attempt: Omit<DeliveryAttempt, 'eventId' | 'type' | 'attempt'>,
    next: NextStep,
  ): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE webhook_outbox SET attempts = @attempts, state = @state,
             next_attempt_at = coalesce(@retryAt, next_attempt_at),
             body = CASE @state WHEN 'pending' THEN body ELSE '' END
           WHERE id = @id`,
        )
        .run({
          attempts: delivery.attempts + 1,
          state: next.state,
          retryAt: next.state === 'pending' ? next.retryAt : null,
          id: delivery.id,
        });
      this.db
        .prepare(
          `INSERT INTO webhook_attempts (webhook_id, event_id, type, attempt, at, status, error, duration_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          delivery.webhookId,
          delivery.eventId,
          delivery.type,
          delivery.attempts + 1,
          attempt.at,
          attempt.status,
          attempt.error,
          attempt.durationMs,
        );
    })();
  }

  async attempts(webhookId: string, limit: number): Promise<DeliveryAttempt[]> {
    const rows = this.db
      .prepare(
        `SELECT event_id, type, attempt, at, status, error, duration_ms FROM webhook_attempts
         WHERE webhook_id = ? ORDER BY id DESC LIMIT ?`,
      )
      .all(webhookId, limit) as AttemptRow[];
    return rows.map(toAttempt);
  }
}
