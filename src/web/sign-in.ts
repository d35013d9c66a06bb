import type { Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { z } from 'zod';
import { HttpError } from '../api/problem.js';
import { can } from '../service/policy.js';
import type { Role } from '../service/policy.js';
import { anySession, body, csrf, FORM, pageCsp, sendPage, type Web } from './pages.js';
import type { Session } from './session.js';

/** Where each role starts: the publishing desk for those who manage templates, else the gallery. */
export const home = (role: Role): string => (can(role, 'templates.manage') ? '/marketing' : '/gallery');

/** A local path to return to after signing in: never another site (`//evil.example`). */
export const nextPath = z
  .string()
  .regex(/^\/(?![/\\])[^\s]*$/, 'not a local path')
  .max(500)
  .optional()
  .catch(undefined);

const signInForm = z.object({
  key: z.string().trim().min(1, 'enter your API key').max(200, 'that is not an API key'),
  next: nextPath,
});

/**
 * Sign in with an API key (then a session cookie), or where they are set up with the identity
 * provider (single-sign-on.ts) or an email and password (password-sign-in.ts); a person without a
 * role waits; sign out; `/` sends each role home.
 */
export function signInRoutes(web: Web, router: Router): void {
  // Keys are 192 random bits; the limit is against noise, not guessing.
  const attempts = rateLimit({
    windowMs: 60_000,
    limit: 30,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) =>
      next(new HttpError(429, 'rate_limited', 'Too many sign-in attempts: wait a minute and try again.')),
  });

  router.get('/', pageCsp, async (req, res) => {
    const session = await web.sessions.read(req);
    res.redirect(303, !session ? '/sign-in' : session.caller ? home(session.caller.role) : '/waiting');
  });

  router.get('/sign-in', pageCsp, (req, res) => {
    sendPage(web, res, 'sign-in', {
      title: 'Sign in',
      ...signInChoices(web, nextPath.parse(req.query.next)),
      next: nextPath.parse(req.query.next),
      csrf: web.sessions.csrfToken(req, res, null),
    });
  });

  // A person the identity provider let in, who has no role yet: an admin gives them one.
  router.get('/waiting', pageCsp, anySession(web), (req, res) => {
    const session = res.locals.session as Session;
    if (session.caller) return res.redirect(303, home(session.caller.role));
    sendPage(web, res, 'waiting', {
      title: 'Waiting for an admin',
      person: session.person,
      csrf: web.sessions.csrfToken(req, res, session),
    });
  });

  router.post('/sign-in', pageCsp, attempts, body(web, FORM), csrf(web), async (req, res) => {
    const form = signInForm.safeParse(req.body);
    const key = form.success ? await web.s.keys.authenticate(form.data.key) : null;
    if (!form.success || !key) {
      const error = form.success ? 'That key is unknown or has been revoked.' : form.error.issues[0]!.message;
      sendPage(
        web,
        res,
        'sign-in',
        {
          title: 'Sign in',
          ...signInChoices(web, form.data?.next),
          error,
          next: form.data?.next,
          csrf: web.sessions.csrfToken(req, res, null),
        },
        form.success ? 401 : 422,
      );
      return;
    }
    await web.sessions.start(req, res, { keyId: key.id });
    res.redirect(303, form.data.next ?? home(key.role));
  });

  router.post('/sign-out', pageCsp, anySession(web), body(web, FORM), csrf(web), async (req, res) => {
    await web.sessions.end(req, res);
    res.redirect(303, '/sign-in');
  });
}

/**
 * The ways the sign-in page offers besides an API key: "Sign in with <provider>" where single
 * sign-on is set up, an email and password where password sign-in is.
 */
export function signInChoices(web: Web, next: string | undefined) {
  const name = web.s.config.oidc?.name;
  const passwords = web.s.config.passwordSignIn;
  return {
    ...(name
      ? { sso: name, ssoHref: `/auth/sign-in${next ? `?${new URLSearchParams({ next })}` : ''}` }
      : {}),
    passwords,
    choices: Boolean(name) || passwords,
  };
}
