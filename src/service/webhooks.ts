import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { NotFoundError } from '../errors.js';
import {
  type Delivery,
  type DeliveryAttempt,
  type NextStep,
  type Store,
  type Webhook,
  WEBHOOK_EVENTS,
  type WebhookEventType,
} from '../store/store.js';
import { type ApiKey, authorize } from './policy.js';

export { type DeliveryAttempt, type Webhook, WEBHOOK_EVENTS, type WebhookEventType } from '../store/store.js';

/** Where a webhook delivers: an http: or https: URL, nothing else a fetch could reach. */
export const webhookUrlSchema = z
  .url({ protocol: /^https?$/, error: 'not an http: or https: URL' })
  .max(2000, 'at most 2000 characters');

/**
 * A delivery is given up on after this many attempts: at the default base, its retries span 4 to 8
 * hours (twelve doubling waits up to about half an hour, then seven hourly ones): time to mend a
 * receiver.
 */
const MAX_ATTEMPTS = 20;
/** A receiver that has not answered in this long has failed the attempt. */
const TIMEOUT_MS = 10_000;
/** No retry waits longer than this. */
const MAX_RETRY_MS = 3_600_000;
/**
 * How long a claimed delivery is left to its attempt: far longer than an attempt can take (its
 * timeout and the recording of it), so that only a crash mid-attempt lets the lease run out, after
 * which the delivery is due again: the at-least-once of a restart.
 */
const LEASE_MS = 3 * TIMEOUT_MS;
/** Deliveries attempted at once: a slow receiver holds one of them, not the others. */
const IN_FLIGHT = 8;
/** After the store fails (a full disk), the dispatcher waits this long before trying again. */
const ERROR_PAUSE_MS = 5000;

/**
 * What follows an attempt that got `status` (null: no answer), the `attempts`-th made: a 2xx is
 * delivered; anything else is retried after `base` doubled for each attempt made, capped at an hour
 * and scaled by a random factor in [0.5, 1) (so that receivers coming back from an outage are not
 * retried all at the same instant), until MAX_ATTEMPTS have been made.
 */
export function afterAttempt(
  status: number | null,
  attempts: number,
  base: number,
  now = Date.now(),
  random = Math.random(),
): NextStep {
  if (status !== null && status >= 200 && status < 300) return { state: 'delivered' };
  if (attempts >= MAX_ATTEMPTS) return { state: 'failed' };
  const wait = Math.min(base * 2 ** (attempts - 1), MAX_RETRY_MS);
  return { state: 'pending', retryAt: now + Math.round(wait * (0.5 + random / 2)) };
}

/** The `Platen-Signature` header: HMAC-SHA256 with the webhook's secret over `<t>.<body>`. */
export function signature(secret: string, t: number, body: string): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/**
 * The organisation's webhooks: admins manage them; the rest of Platen raises events with `emit`, and
 * the dispatcher delivers them from the store's outbox, signed, at least once, retrying with backoff,
 * logging every attempt.
 */
export class WebhookService {
  /** Which webhooks each event type goes to; null until read, and again after any change. */
  private subscribers: Map<WebhookEventType, string[]> | null = null;
  /** Counts changes: a reading begun before a change is not kept as the cache after it. */
  private changes = 0;
  private stopping: AbortController | null = null;
  private loop: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  /** Set by `wake`: the dispatcher looks again before it sleeps. */
  private woken = false;
  private alarm: (() => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly options: { retryMs: number },
    private readonly log: Logger,
  ) {}

  /** A new webhook, and the secret its deliveries are signed with: returned this once. */
  async create(
    caller: ApiKey,
    input: { url: string; events: readonly WebhookEventType[] },
  ): Promise<{ webhook: Webhook; secret: string }> {
    authorize(caller, 'webhooks.manage');
    const secret = `whsec_${randomBytes(24).toString('base64url')}`;
    const events = WEBHOOK_EVENTS.filter((type) => input.events.includes(type));
    const webhook = await this.store.webhooks.create({ url: input.url, events, secret });
    this.changed();
    return { webhook, secret };
  }

  /** The live webhooks; never a secret. */
  async list(caller: ApiKey): Promise<Webhook[]> {
    authorize(caller, 'webhooks.manage');
    return this.store.webhooks.list();
  }

  /** Deletes a live webhook: nothing more is sent to it, and its delivery log stays readable. */
  async delete(caller: ApiKey, id: string): Promise<void> {
    authorize(caller, 'webhooks.manage');
    if (!(await this.store.webhooks.delete(id))) throw new NotFoundError('not_found', `no webhook ${id}`);
    this.changed();
  }

  /** A webhook's delivery log (a deleted one's too), newest attempt first. */
  async deliveries(caller: ApiKey, id: string, limit: number): Promise<DeliveryAttempt[]> {
    authorize(caller, 'webhooks.manage');
    if (!(await this.store.webhooks.get(id))) throw new NotFoundError('not_found', `no webhook ${id}`);
    return this.store.webhooks.attempts(id, limit);
  }

  /**
   * Raises events of one type, one per item: each `{ id, type, createdAt, data: dataOf(item) }` goes
   * in the outbox for every webhook subscribed to the type, in one step, and the dispatcher is woken.
   * An event's id is fresh unless `idOf` names it: an event raised again under the same id (a batch
   * chunk stored again after a crash) is not enqueued twice. Called for every chunk of pieces a batch
   * makes, so with no webhook subscribed it costs one look in memory, and nothing is built.
   */
  async emit<T>(
    type: WebhookEventType,
    items: readonly T[],
    dataOf: (item: T) => Record<string, unknown>,
    idOf: (item: T) => string = () => randomUUID(),
  ): Promise<void> {
    const webhookIds = (this.subscribers ?? (await this.loadSubscribers())).get(type);
    if (!webhookIds?.length || items.length === 0) return;
    const createdAt = new Date().toISOString();
    const events = items.map((item) => {
      const id = idOf(item);
      return { id, type, body: JSON.stringify({ id, type, createdAt, data: dataOf(item) }) };
    });
    await this.store.webhooks.enqueue(events, webhookIds);
    this.wake();
  }

  private async loadSubscribers(): Promise<Map<WebhookEventType, string[]>> {
    const changes = this.changes;
    const subscribers = new Map<WebhookEventType, string[]>();
    for (const webhook of await this.store.webhooks.list())
      for (const type of webhook.events)
        subscribers.set(type, [...(subscribers.get(type) ?? []), webhook.id]);
    if (changes === this.changes) this.subscribers = subscribers;
    return subscribers;
  }

  private changed(): void {
    this.changes++;
    this.subscribers = null;
  }

  /** Starts delivering what the outbox holds, and whatever is emitted from now on. */
  start(): void {
    if (this.loop) return;
    this.stopping = new AbortController();
    this.loop = this.dispatch(this.stopping.signal);
  }

  /**
   * Stops delivering: attempts in progress are cut short, logged, and retried after the next start.
   * Before the store closes.
   */
  async stop(): Promise<void> {
    this.stopping?.abort();
    this.wake();
    await this.loop;
    this.loop = null;
  }

  /** Wakes the dispatcher, asleep or about to be. */
  private wake(): void {
    this.woken = true;
    this.alarm?.();
  }

  /** Resolves after `ms` (never, when null), or as soon as `wake` is called. */
  private sleep(ms: number | null): Promise<void> {
    if (this.woken) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = ms === null ? undefined : setTimeout(() => this.alarm?.(), Math.max(0, ms)).unref();
      this.alarm = () => {
        clearTimeout(timer);
        this.alarm = null;
        resolve();
      };
    });
  }

  /**
   * The dispatcher: claims due deliveries while it has room for them, attempts each without waiting
   * for the others, and sleeps until the next is due, an event is emitted or an attempt ends.
   */
  private async dispatch(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.woken = false;
      try {
        const room = IN_FLIGHT - this.inFlight.size;
        if (room === 0) {
          await this.sleep(null);
          continue;
        }
        const now = Date.now();
        const due = await this.store.webhooks.claimDue(now, room, now + LEASE_MS);
        for (const delivery of due) {
          const attempt = this.attempt(delivery, signal).finally(() => {
            this.inFlight.delete(attempt);
            this.wake();
          });
          this.inFlight.add(attempt);
        }
        if (due.length === room) continue;
        const next = await this.store.webhooks.nextDue();
        await this.sleep(next === null ? null : next - Date.now());
      } catch (error) {
        this.log.error({ err: error }, 'webhook deliveries: the outbox could not be read');
        await this.sleep(ERROR_PAUSE_MS);
      }
    }
    await Promise.all(this.inFlight);
  }

  /** One attempt at one delivery, logged, and what follows it (delivered, a retry, or given up) stored. */
  private async attempt(delivery: Delivery, stopping: AbortSignal): Promise<void> {
    try {
      // Deleted since it was claimed: its pending deliveries went with it.
      const target = await this.store.webhooks.target(delivery.webhookId);
      if (!target) return;
      const at = new Date();
      const t = Math.floor(at.getTime() / 1000);
      let status: number | null = null;
      let error: string | null = null;
      try {
        const res = await fetch(target.url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'User-Agent': 'Platen-Webhooks',
            'Platen-Signature': signature(target.secret, t, delivery.body),
            'Platen-Event': delivery.type,
            'Idempotency-Key': delivery.eventId,
          },
          body: delivery.body,
          // A redirect is an answer that is not 2xx: the webhook's URL is the one place it goes.
          redirect: 'manual',
          signal: AbortSignal.any([AbortSignal.timeout(TIMEOUT_MS), stopping]),
        });
        status = res.status;
        // The answer's body is not read: a receiver's 2xx is all it has to say.
        await res.body?.cancel().catch(() => undefined);
      } catch (cause) {
        error = failure(cause, stopping);
      }
      const durationMs = Date.now() - at.getTime();
      const attempts = delivery.attempts + 1;
      const next = afterAttempt(status, attempts, this.options.retryMs);
      await this.store.webhooks.attempted(
        delivery,
        { at: at.toISOString(), status, error, durationMs },
        next,
      );
      if (next.state === 'failed')
        this.log.warn(
          { webhook: delivery.webhookId, event: delivery.eventId, attempts },
          'webhook delivery given up',
        );
    } catch (error) {
      // The store failed: the lease runs out and the delivery is attempted again.
      this.log.error({ err: error, webhook: delivery.webhookId }, 'webhook delivery could not be recorded');
    }
  }
}

/** Why an attempt got no answer, in words for the delivery log. */
function failure(cause: unknown, stopping: AbortSignal): string {
  if (stopping.aborted) return 'Platen stopped before an answer came';
  if (cause instanceof Error && cause.name === 'TimeoutError')
    return `no answer within ${TIMEOUT_MS / 1000} s`;
  const inner =
    cause instanceof Error ? (cause.cause as { code?: string; message?: string } | undefined) : undefined;
  return inner?.code ?? inner?.message ?? (cause instanceof Error ? cause.message : String(cause));
}
