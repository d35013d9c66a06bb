import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
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
import { plainWords } from '../template/design-problems.js';
import type { ApiKey } from '../service/policy.js';
import { SamplePages } from './samples.js';
import { type Session, Sessions } from './session.js';
import { type Html, html, loadViews } from './views.js';
import { allowedMethods } from '../api/unmatched.js';

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

export async function createWeb(s: Services, rateLimit: RequestHandler): Promise<Web> {
  return {
    s,
    sessions: await Sessions.open(s.config.dataDir, s.sessions),
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
    const { session, viewer } = await readViewer(web, req, res);
    if (!session) {
      if (res.locals.json) return next(new HttpError(401, 'unauthorized', 'sign in again'));
      const back = req.method === 'GET' ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
      return res.redirect(303, `/sign-in${back}`);
    }
    if (!viewer) {
      if (res.locals.json)
        return next(new ForbiddenError('Not allowed yet: an admin has not given you a role.'));
      return res.redirect(303, '/waiting');
    }
    const key = viewer.key;
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

/**
 * The request's live session (kept for the CSRF check and the waiting page) and, once it has a caller
 * (a person with a role, or a key), its viewer for the page (`viewerOf`).
 */
async function readViewer(
  web: Web,
  req: Request,
  res: Response,
): Promise<{ session: Session | null; viewer: Viewer | null }> {
  const session = await web.sessions.read(req);
  if (!session) return { session: null, viewer: null };
  res.locals.session = session;
  if (!session.caller) return { session, viewer: null };
  const viewer: Viewer = { key: session.caller, session, csrf: web.sessions.csrfToken(req, res, session) };
  res.locals.viewer = viewer;
  return { session, viewer };
}

/**
 * What no page route answers: for a browser (asking for HTML, outside `/api/`), a 404 page, or a
 * 405 naming the methods the address takes; signed in, with the navigation. Others go on to the
 * API's problem answers.
 */
export function unmatchedPage(web: Web, routes: Router): RequestHandler {
  return async (req, res, next) => {
    if (req.path.startsWith('/api/') || req.accepts(['json', 'html']) !== 'html') return next();
    await readViewer(web, req, res);
    const allow = allowedMethods(routes, req.path);
    if (allow.length === 0) return next(new HttpError(404, 'not_found', 'There is no page at this address.'));
    next(
      new HttpError(405, 'method_not_allowed', 'This address does not take that kind of request.', {
        headers: { Allow: allow.join(', ') },
      }),
    );
  };
}

/**
 * After a change: back to a page (a 303) that confirms it in a toast, e.g.
 * `redirectWithToast(web, res, '/profile', 'Your profile is saved.')`.
 */
export function redirectWithToast(web: Web, res: Response, to: string, message: string): void {
  web.sessions.flash(res.req, res, message);
  res.redirect(303, to);
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
  const flash = web.sessions.takeFlash(res.req, res);
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
        // The navigation marks the section shown. The toast confirms a change: the page's own (one
        // shown after a POST without a redirect), else the one a redirect left (redirectWithToast).
        here: res.req.path,
        toast: (context as { toast?: string }).toast ?? flash,
      }),
    );
}

/** Errors as a page (or JSON for the scripts), never a stack trace; unexpected ones are logged. */
export function pageErrors(web: Web) {
  return (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(error);
    const { status, message, problems, retryAfter, headers } = describe(error, web, req, res);
    if (retryAfter !== undefined) res.set('Retry-After', String(retryAfter));
    if (headers) res.set(headers);
    if (res.locals.json) {
      res.status(status).json({ message, problems });
      return;
    }
    sendPage(
      web,
      res,
      'error',
      {
        title: TITLES[status] ?? (status >= 500 ? 'Something went wrong' : 'That did not work'),
        status,
        message,
        // In words, as sentences: a page never shows a problem's JSON path or a pattern (the JSON does).
        problems: problems.map((p) => ({ message: sentence(plainWords(null, p.message)) })),
        next: NEXT[status] ?? (status >= 500 ? NEXT[500] : NEXT[400]),
        signIn: status === 401,
        // A fault of ours carries the request's id: what an administrator looks up in the log.
        reference: status >= 500 ? requestIdOf(res) : undefined,
      },
      status,
    );
  };
}

/** A message as a page shows it: a sentence, with its capital. */
export const sentence = (message: string) => message.charAt(0).toUpperCase() + message.slice(1);

const TITLES: Record<number, string> = {
  400: 'That request did not work',
  401: 'Please sign in',
  403: 'Not allowed',
  404: 'Page not found',
  405: 'Not available this way',
  409: 'Conflict',
  413: 'Too large',
  422: 'Please check the form',
  429: 'Too many attempts',
  503: 'Busy',
  507: 'Out of space',
};

/** What to do next, after each kind of error. */
const NEXT: Record<number, string> = {
  400: 'Go back, check what you entered, and try again.',
  401: 'Your session has ended. Sign in again to carry on.',
  403: 'Your role does not include this page. If you need it, ask an administrator; otherwise start again from your home page.',
  404: 'Check the address for typing mistakes, or start again from your home page.',
  405: 'Open it from a link or a button on the pages instead.',
  409: 'Someone changed this at the same time. Reload the page to see it as it is now, then try again.',
  413: 'Choose a smaller file, or split it, and try again.',
  422: 'Go back, correct what is marked, and try again.',
  429: 'Wait a minute, then try again.',
  500: 'Try again in a moment. If it keeps happening, give your administrator the reference below.',
};

function describe(
  error: unknown,
  web: Web,
  req: Request,
  res: Response,
): {
  status: number;
  message: string;
  problems: Problem[];
  retryAfter?: number;
  headers?: Record<string, string>;
} {
  if (error instanceof HttpError) {
    // The API's details (a body refused, a limit) are shared: on a page they start a sentence.
    const message = sentence(error.detail);
    const { errors = [], retryAfter, headers } = error.extra;
    return {
      status: error.status,
      message,
      problems: errors,
      ...(retryAfter === undefined ? {} : { retryAfter }),
      ...(headers === undefined ? {} : { headers }),
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
    message: 'Something went wrong on our side. It has been logged.',
    problems: [],
  };
}

/**
 * A time on a page: `<time>` with its instant, reading "2025-03-04 14:05 UTC" until the pages' script
 * (web/public/site.js) writes it in the viewer's own time zone. Empty for no time; to show it beside
 * other words in one value, html`${who}, ${when(at)}`.
 */
export function when(iso: string | null): Html | '' {
  return iso ? html`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC</time>` : '';
}
