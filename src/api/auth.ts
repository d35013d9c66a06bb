import type { Request } from 'express';
import type { KeyService } from '../service/keys.js';
import { type Action, type ApiKey, authorize } from '../service/policy.js';
import { HttpError } from './problem.js';

/**
 * `Authorization: Bearer <key>` to the caller's key: 401 without a live key, 403 (the role policy's
 * ForbiddenError) when its role may not do what the route does.
 */
export async function authenticate(req: Request, keys: KeyService, action: Action): Promise<ApiKey> {
  const header = req.get('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const challenge = { headers: { 'WWW-Authenticate': 'Bearer' } };
  if (!match)
    throw new HttpError(401, 'unauthorized', 'send an API key: Authorization: Bearer <key>', challenge);
  const key = await keys.authenticate(match[1]!);
  if (!key) throw new HttpError(401, 'unauthorized', 'the API key is unknown or revoked', challenge);
  authorize(key, action);
  return key;
}
