import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import type { z } from 'zod';
import { type Accepts, readBody } from '../api/bodies.js';
import { HttpError, requestIdOf } from '../api/problem.js';
import type { Services } from '../api/services.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PlatenError,
  problemsFromZod,
  type Problem,
  storageFault,
} from '../errors.js';
import { type Action, authorize, can } from '../service/policy.js';
import type { ApiKey } from '../service/policy.js';
import { SamplePages } from './samples.js';
import { type Session, Sessions } from './session.js';
import { loadViews } from './views.js';

/** What every page handler works with. */
export interface Web {
  s: Services;
  sessions: Sessions;
  samples: SamplePages;
  view: (name: string, context: object) => string;
  /** The API's per-key rate limit: one count per key for both faces. */
  rateLimit: RequestHandler;
}

/** The signed-in caller of a page. */
export interface Viewer {
  key: ApiKey;
  session: Session;
  csrf: string;
}

export function createWeb(s: Services, rateLimit: RequestHandler): Web {
  return {
    s,
    sessions: Sessions.open(s.config.dataDir, s.sessions),
    samples: new SamplePages(s),
    view: loadViews(),
    rateLimit,
  };
}

/**
 * Pages allow scripts, styles and images from this origin only (and previews as blob:/data: images):
 * no inline script or style anywhere.
 */
export const PAGE_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'blob:', 'data:'],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
};

export const pageCsp = helmet.contentSecurityPolicy({ useDefaults: false, directives: PAGE_POLICY });

export const viewerOf = (res: Response): Viewer => res.locals.viewer as Viewer;

/** Marks a route as answered in JSON (the preview script's): its errors are JSON too. */
export const json: RequestHandler = (_req, res, next) => {
  res.locals.json = true;
  next();
};

/**
 * Signed-in callers the role policy allows `action` (any signed-in caller without one): a live
 * session of a live key or an enabled person with a role. Others are sent to sign in (pages) or
 * answered 401 (scripts); a person still without a role is sent to wait for one (403 for scripts); a
 * signed-in caller whose role may not do it gets 403. Every signed-in request counts against its
 * caller's rate limit.
 */
export function signedIn(web: Web, action?: Action): RequestHandler {
  return async (req, res, next) => {
    const session = await web.sessions.read(req);
    if (!session) {
      if (res.locals.json) return next(new HttpError(401, 'unauthorized', 'sign in again'));
      const back = req.method === 'GET' ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
      return res.redirect(303, `/sign-in${back}`);
    }
    res.locals.session = session;
    const key = session.caller;
    if (!key) {
      if (res.locals.json)
        return next(new ForbiddenError('Not allowed yet: an admin has not given you a role.'));
      return res.redirect(303, '/waiting');
    }
    res.locals.viewer = { key, session, csrf: web.sessions.csrfToken(req, res, session) } satisfies Viewer;
    res.locals.caller = key;
    try {
      if (action) authorize(key, action);
    } catch (error) {
      return next(error);
    }
    web.rateLimit(req, res, next);
  };
}

/**
 * Any live session, a person's still waiting for a role included: for the waiting page and signing
 * out. Without one, the browser is sent to sign in.
 */
export function anySession(web: Web): RequestHandler {
  return async (req, res, next) => {
    const session = await web.sessions.read(req);
    if (!session) return res.redirect(303, '/sign-in');
    res.locals.session = session;
    next();
  };
}

/** Refuses a state-changing request without the CSRF token of its session (field `_csrf` or header). */
export function csrf(web: Web): RequestHandler {
  return (req, res, next) => {
    const session = (res.locals.session as Session | undefined) ?? null;
    const sent = req.get('x-csrf-token') ?? (req.body as Record<string, unknown> | undefined)?._csrf;
    if (web.sessions.checkCsrf(req, session, sent)) return next();
    next(
      new HttpError(
        403,
        'csrf',
        'The form has expired or did not come from this site: reload the page and try again.',
      ),
    );
  };
}

/**
 * A page route's body, read as the API reads bodies (src/api/bodies.ts): the media types it accepts,
 * anything else refused with 415; files staged on disk until the response closes.
 */
export const body = (web: Web, accepts: Accepts): RequestHandler =>
  readBody({ stagingDir: web.s.stagingDir, uploads: web.s.uploads }, accepts);

/** What a browser form sends: urlencoded fields. */
export const FORM: Accepts = { form: { maxBytes: 256 * 1024 } };

/** Parses a value with zod; failures are PlatenErrors naming each field, shown beside it. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new PlatenError('invalid_form', problemsFromZod(parsed.error.issues));
  return parsed.data;
}

/** Renders a view inside the layout, with what the layout needs to know about the viewer. */
export function sendPage(web: Web, res: Response, name: string, context: object, status = 200): void {
  const viewer = res.locals.viewer as Viewer | undefined;
  const role = viewer?.key.role;
  res
    .status(status)
    .type('html')
    .set('Cache-Control', 'no-store')
    .send(
      web.view(name, {
        ...context,
        viewer: viewer && {
          name: viewer.key.name,
          role,
          isRep: can(role!, 'pieces.render'),
          isMarketing: can(role!, 'templates.manage'),
          readsResults: can(role!, 'results.read'),
          isAdmin: can(role!, 'keys.manage'),
        },
        csrf: viewer?.csrf ?? (context as { csrf?: string }).csrf,
      }),
    );
}

/** Errors as a page (or JSON for the scripts), never a stack trace; unexpected ones are logged. */
export function pageErrors(web: Web) {
  return (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(error);
    const { status, message, problems, retryAfter } = describe(error, web, req, res);
    if (retryAfter !== undefined) res.set('Retry-After', String(retryAfter));
    if (res.locals.json) {
      res.status(status).json({ message, problems });
      return;
    }
    sendPage(web, res, 'error', { title: TITLES[status] ?? 'Error', status, message, problems }, status);
  };
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Please sign in',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  413: 'Too large',
  422: 'Please check the form',
  429: 'Too many attempts',
  503: 'Busy',
  507: 'Out of space',
};

function describe(
  error: unknown,
  web: Web,
  req: Request,
  res: Response,
): { status: number; message: string; problems: Problem[]; retryAfter?: number } {
  if (error instanceof HttpError) {
    // The API's details (a body refused, a limit) are shared: on a page they start a sentence.
    const message = error.detail.charAt(0).toUpperCase() + error.detail.slice(1);
    const { errors = [], retryAfter } = error.extra;
    return {
      status: error.status,
      message,
      problems: errors,
      ...(retryAfter === undefined ? {} : { retryAfter }),
    };
  }
  if (error instanceof ForbiddenError) return { status: 403, message: error.message, problems: [] };
  if (error instanceof NotFoundError) return { status: 404, message: error.message, problems: [] };
  if (error instanceof ConflictError) return { status: 409, message: error.message, problems: [] };
  if (error instanceof PlatenError)
    return { status: 422, message: 'Some details need attention.', problems: error.problems };
  const e = error as { status?: number; type?: string; message?: string };
  if (e.type === 'entity.too.large') return { status: 413, message: 'The form is too large.', problems: [] };
  if (e.status && e.status >= 400 && e.status < 500)
    return { status: e.status, message: e.message ?? 'Bad request', problems: [] };
  const where = { err: error, method: req.method, url: req.originalUrl, requestId: requestIdOf(res) };
  const fault = storageFault(error);
  if (fault) {
    web.s.log.error(where, 'storage failure on a page');
    return {
      status: fault.status,
      message:
        fault.status === 507
          ? 'The server has run out of storage space, so nothing was saved. Please try again later.'
          : 'The server could not save or read its files, so nothing was saved. Please try again later.',
      problems: [],
      retryAfter: fault.retryAfter,
    };
  }
  web.s.log.error(where, 'unhandled error on a page');
  return {
    status: 500,
    message: `Something went wrong on our side; it has been logged (reference ${requestIdOf(res)}).`,
    problems: [],
  };
}

/** "2025-03-04 14:05 UTC": the audit trail's ISO times as people read them. */
export function when(iso: string | null): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : '';
}
