import type { RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { ApiKey } from '../service/policy.js';
import { HttpError } from './problem.js';

/** The key a request was authenticated with (an API key, or the key behind a page session). */
export const callerOf = (res: Response): ApiKey | undefined => res.locals.caller as ApiKey | undefined;

/**
 * The per-key rate limit: one instance, one count per API key, placed after authentication by the
 * API's routes and the signed-in pages alike, so no face is a way around it. Beyond the limit a
 * request gets 429 with Retry-After, as a problem (API) or a page (pages).
 */
export function perKeyRateLimit(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
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
