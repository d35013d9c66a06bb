import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import type { Request, Response } from 'express';
import type { SessionOwner, SessionService, SignedIn } from '../service/sessions.js';

/**
 * Session cookies for the pages. The cookie holds a random session id; the server keeps its hash and
 * the key it signed in with, so signing out or revoking the key ends the session on the server, and
 * the key itself never leaves the sign-in request. The secret (made on first start, kept in the
 * store) signs the CSRF tokens, so they survive a restart with their sessions and hold on every node.
 */

const SESSION_COOKIE = 'platen_session';
/** Before sign-in: a random seed for the sign-in form's CSRF token. */
const VISITOR_COOKIE = 'platen_visitor';
/** While a person signs in at the identity provider: what the callback must find (state, nonce, PKCE). */
const SIGN_IN_COOKIE = 'platen_sign_in';
/** How long a person may take at the identity provider. */
const SIGN_IN_MS = 10 * 60_000;
/** A confirmation for the next page (the toast), signed and short-lived: set on a redirect, read once. */
const FLASH_COOKIE = 'platen_flash';
const FLASH_SECONDS = 60;
const FLASH_MAX_CHARS = 300;

export interface Session extends SignedIn {
  /** The session's id, as its cookie carries it. */
  token: string;
}

export class Sessions {
  private constructor(
    private readonly secret: Buffer,
    private readonly sessions: SessionService,
  ) {}

  /**
   * The pages' sessions, signing with the store's secret (SessionService.pagesSecret): every node on
   * the store accepts what any of them signed. `<dataDir>/session.key`, where an earlier Platen left
   * one, gives the secret its value once.
   */
  static async open(dataDir: string, sessions: SessionService): Promise<Sessions> {
    return new Sessions(await sessions.pagesSecret(join(dataDir, 'session.key')), sessions);
  }

  private mac(purpose: string, value: string): string {
    return createHmac('sha256', this.secret).update(`${purpose}\0${value}`).digest('base64url');
  }

  /** A cookie value this server signed for one purpose: `value.mac`. */
  private seal(purpose: string, value: string): string {
    return `${value}.${this.mac(purpose, value)}`;
  }

  /** What `seal` signed for this purpose, or null when the cookie is missing, changed or signed elsewhere. */
  private unseal(purpose: string, raw: string | undefined): string | null {
    const at = raw?.lastIndexOf('.') ?? -1;
    if (at <= 0) return null;
    const value = raw!.slice(0, at);
    return safeEqual(raw!.slice(at + 1), this.mac(purpose, value)) ? value : null;
  }

  /**
   * Starts a session for a key or a person, ending the one this browser had: a new id, so a new
   * sign-in never reuses an old CSRF token.
   */
  async start(req: Request, res: Response, owner: SessionOwner): Promise<void> {
    const old = tokenOf(req);
    if (old) await this.sessions.end(old);
    const { token, expires } = await this.sessions.start(owner);
    res.cookie(SESSION_COOKIE, token, { ...cookieOptions(req), expires: new Date(expires) });
    res.clearCookie(VISITOR_COOKIE, cookieOptions(req));
  }

  /** The request's session while it lasts and its key is live (its person enabled), else null. */
  async read(req: Request): Promise<Session | null> {
    const token = tokenOf(req);
    const found = token ? await this.sessions.find(token) : null;
    return found && { ...found, token: token! };
  }

  /** Signing out: the session ends on the server, and the browser forgets its cookie. */
  async end(req: Request, res: Response): Promise<void> {
    const token = tokenOf(req);
    if (token) await this.sessions.end(token);
    res.clearCookie(SESSION_COOKIE, cookieOptions(req));
  }

  /**
   * Keeps what a sign-in at the identity provider must come back with, in a signed cookie that lasts
   * ten minutes: this browser's alone, so a callback started in another browser finds nothing.
   */
  beginSignIn(req: Request, res: Response, flow: object): void {
    const value = Buffer.from(JSON.stringify({ ...flow, until: Date.now() + SIGN_IN_MS })).toString(
      'base64url',
    );
    res.cookie(SIGN_IN_COOKIE, this.seal('sign-in', value), {
      ...cookieOptions(req),
      maxAge: SIGN_IN_MS,
    });
  }

  /** What `beginSignIn` kept, once (the cookie is cleared), or null if none, forged or too old. */
  takeSignIn(req: Request, res: Response): Record<string, unknown> | null {
    const value = this.unseal('sign-in', cookies(req)[SIGN_IN_COOKIE]);
    res.clearCookie(SIGN_IN_COOKIE, cookieOptions(req));
    if (!value) return null;
    const flow = JSON.parse(Buffer.from(value, 'base64url').toString()) as Record<string, unknown>;
    return typeof flow.until === 'number' && flow.until > Date.now() ? flow : null;
  }

  /**
   * The CSRF token of a session, or of a visitor before sign-in (from a random cookie set here):
   * forms carry it as a hidden `_csrf` field, scripts as an `X-CSRF-Token` header.
   */
  csrfToken(req: Request, res: Response, session: Session | null): string {
    if (session) return this.mac('csrf', session.token);
    let seed = cookies(req)[VISITOR_COOKIE];
    if (!seed || !/^[A-Za-z0-9_-]{22}$/.test(seed)) {
      seed = randomBytes(16).toString('base64url');
      res.cookie(VISITOR_COOKIE, seed, cookieOptions(req));
    }
    return this.mac('csrf-visitor', seed);
  }

  /**
   * Leaves a message for the page a redirect leads to: signed, so only this server's words are ever
   * shown, and gone after a minute, or once shown.
   */
  flash(req: Request, res: Response, message: string): void {
    const expires = Math.floor(Date.now() / 1000) + FLASH_SECONDS;
    const value = `${expires}.${Buffer.from(message.slice(0, FLASH_MAX_CHARS)).toString('base64url')}`;
    res.cookie(FLASH_COOKIE, this.seal('flash', value), {
      ...cookieOptions(req),
      maxAge: FLASH_SECONDS * 1000,
    });
  }

  /** The message a redirect left for this page, if any (and still fresh); it is shown once. */
  takeFlash(req: Request, res: Response): string | null {
    const raw = cookies(req)[FLASH_COOKIE];
    if (raw === undefined) return null;
    res.clearCookie(FLASH_COOKIE, cookieOptions(req));
    const [expires = '', message = ''] = this.unseal('flash', raw)?.split('.') ?? [];
    if (Number(expires) < Date.now() / 1000 || !message) return null;
    return Buffer.from(message, 'base64url').toString('utf8');
  }

  /** Whether the request carries the right CSRF token for its session (or visitor cookie). */
  checkCsrf(req: Request, session: Session | null, sent: unknown): boolean {
    if (typeof sent !== 'string' || sent === '') return false;
    if (session) return safeEqual(sent, this.mac('csrf', session.token));
    const seed = cookies(req)[VISITOR_COOKIE];
    return seed !== undefined && safeEqual(sent, this.mac('csrf-visitor', seed));
  }
}

/** The session id a request's cookie carries, if it has the shape of one. */
function tokenOf(req: Request): string | null {
  const raw = cookies(req)[SESSION_COOKIE];
  return raw && /^[A-Za-z0-9_-]{43}$/.test(raw) ? raw : null;
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
