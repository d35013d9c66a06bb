import type { Request } from 'express';
import type { ApiKey, KeyStore, Role } from '../store/keys.js';
import { HttpError } from './problem.js';

/** `Authorization: Bearer <key>` to the caller's key: 401 without a live key, 403 for a role not allowed. */
export function authenticate(req: Request, keys: KeyStore, roles: readonly Role[]): ApiKey {
  const header = req.get('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const challenge = { headers: { 'WWW-Authenticate': 'Bearer' } };
  if (!match)
    throw new HttpError(401, 'unauthorized', 'send an API key: Authorization: Bearer <key>', challenge);
  const key = keys.authenticate(match[1]!);
  if (!key) throw new HttpError(401, 'unauthorized', 'the API key is unknown or revoked', challenge);
  if (!roles.includes(key.role)) {
    throw new HttpError(
      403,
      'forbidden',
      `this needs the ${roles.join(' or ')} role; the key is ${key.role}`,
    );
  }
  return key;
}
