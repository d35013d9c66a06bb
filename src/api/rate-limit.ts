import type { RequestHandler, Response } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import type { ApiKey } from '../service/policy.js';
import type { RateLimitService } from '../service/rate-limits.js';
import { HttpError } from './problem.js';

/** The key a request was authenticated with (an API key, or the key behind a page session). */
export const callerOf = (res: Response): ApiKey | undefined => res.locals.caller as ApiKey | undefined;

const WINDOW_MS = 60_000;

/**
 * The per-key rate limit: one instance, one count per API key, placed after authentication by the
 * API's routes and the signed-in pages alike, so no face is a way around it. The counts are in the
 * store, so that all API nodes count against one limit. Beyond the limit a request gets 429 with
 * Retry-After, as a problem (API) or a page (pages).
 */
export function perKeyRateLimit(perMinute: number, counts: RateLimitService): RequestHandler {
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: perMinute,
    store: sharedCounts(counts, 'key', WINDOW_MS),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (_req, res) => callerOf(res)!.id,
    handler: (_req, res, next) =>
      next(
        new HttpError(
          429,
          'rate_limited',
          `Too many requests: more than ${perMinute} a minute for this key. Wait a minute and try again.`,
          { retryAfter: Number(res.getHeader('Retry-After') ?? 60) },
        ),
      ),
  });
}

/**
 * express-rate-limit's counter over the store's, shared by every node: one limiter's counts, its
 * keys under `prefix`, in windows of `windowMs` (the limiter's own).
 */
export function sharedCounts(counts: RateLimitService, prefix: string, windowMs: number): Store {
  return {
    localKeys: false,
    prefix: `${prefix}:`,
    increment: async (key) => {
      const { hits, resetAt } = await counts.hit(`${prefix}:${key}`, windowMs);
      return { totalHits: hits, resetTime: new Date(resetAt) };
    },
    // A request that turned out not to count (skipSuccessfulRequests).
    decrement: async (key) => {
      await counts.hit(`${prefix}:${key}`, windowMs, -1);
    },
    // For resetting a key by hand, which Platen never does.
    resetKey: () => {},
  };
}
