import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Request, Response } from 'express';

/**
 * Signed session cookies for the pages. The cookie holds `<key id>.<expiry ms>.<nonce>.<HMAC>`: the
 * API key itself never leaves the sign-in request, and the key is looked up again on every request,
 * so revoking it ends its sessions. The secret is made on first start and kept in the data directory
 * (mode 0600), so sessions survive a restart.
 */

const SESSION_COOKIE = 'platen_session';
/** Before sign-in: a random seed for the sign-in form's CSRF token. */
const VISITOR_COOKIE = 'platen_visitor';
const SESSION_HOURS = 8;

export interface Session {
  keyId: string;
  expires: number;
  nonce: string;
}

export class Sessions {
  private constructor(private readonly secret: Buffer) {}

  /**
   * Reads `<dataDir>/session.key`, creating it (0600) on first start. A key file shorter than a
   * secret was cut off as it was first written (a kill, a full disk) and is written again: it would
   * otherwise stop every later start.
   */
  static open(dataDir: string): Sessions {
    const file = join(dataDir, 'session.key');
    try {
      writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
    if (secret.length < 32) {
      secret = randomBytes(32);
      writeFileSync(file, `${secret.toString('hex')}\n`, { mode: 0o600 });
    }
    return new Sessions(secret);
  }

  private mac(purpose: string, value: string): string {
    return createHmac('sha256', this.secret).update(`${purpose}\0${value}`).digest('base64url');
  }

  /** Starts a session for a key: a fresh nonce, so a new sign-in never reuses an old CSRF token. */
  start(req: Request, res: Response, keyId: string): Session {
    const session = {
      keyId,
      expires: Date.now() + SESSION_HOURS * 3_600_000,
      nonce: randomBytes(16).toString('base64url'),
    };
    const value = `${session.keyId}.${session.expires}.${session.nonce}`;
    res.cookie(SESSION_COOKIE, `${value}.${this.mac('session', value)}`, {
      ...cookieOptions(req),
      expires: new Date(session.expires),
    });
    res.clearCookie(VISITOR_COOKIE, cookieOptions(req));
    return session;
  }

  /** The request's session when its signature holds and it has not expired, else null. */
  read(req: Request): Session | null {
    const raw = cookies(req)[SESSION_COOKIE];
    const match =
      raw && /^([0-9a-f]{1,64})\.(\d{1,15})\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{43})$/.exec(raw);
    if (!match) return null;
    const [, keyId, expires, nonce, mac] = match as unknown as [string, string, string, string, string];
    if (!safeEqual(mac, this.mac('session', `${keyId}.${expires}.${nonce}`))) return null;
    if (Number(expires) <= Date.now()) return null;
    return { keyId, expires: Number(expires), nonce };
  }

  end(req: Request, res: Response): void {
    res.clearCookie(SESSION_COOKIE, cookieOptions(req));
  }

  /**
   * The CSRF token of a session, or of a visitor before sign-in (from a random cookie set here):
   * forms carry it as a hidden `_csrf` field, scripts as an `X-CSRF-Token` header.
   */
  csrfToken(req: Request, res: Response, session: Session | null): string {
    if (session) return this.mac('csrf', session.nonce);
    let seed = cookies(req)[VISITOR_COOKIE];
    if (!seed || !/^[A-Za-z0-9_-]{22}$/.test(seed)) {
      seed = randomBytes(16).toString('base64url');
      res.cookie(VISITOR_COOKIE, seed, cookieOptions(req));
    }
    return this.mac('csrf-visitor', seed);
  }

  /** Whether the request carries the right CSRF token for its session (or visitor cookie). */
  checkCsrf(req: Request, session: Session | null, sent: unknown): boolean {
    if (typeof sent !== 'string' || sent === '') return false;
    if (session) return safeEqual(sent, this.mac('csrf', session.nonce));
    const seed = cookies(req)[VISITOR_COOKIE];
    return seed !== undefined && safeEqual(sent, this.mac('csrf-visitor', seed));
  }
}

function cookieOptions(req: Request) {
  return { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/' } as const;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The request's cookies (express has no parser built in; these are our own simple values). */
function cookies(req: Request): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const name = part.slice(0, at).trim();
    if (!(name in out)) out[name] = part.slice(at + 1).trim();
  }
  return out;
}
