import type { Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { z } from 'zod';
import { HttpError } from '../api/problem.js';
import { can } from '../service/policy.js';
import type { Role } from '../service/policy.js';
import { body, csrf, FORM, pageCsp, sendPage, signedIn, type Web } from './pages.js';

/** Where each role starts: the publishing desk for those who manage templates, else the gallery. */
const home = (role: Role): string => (can(role, 'templates.manage') ? '/marketing' : '/gallery');

/** A local path to return to after signing in: never another site (`//evil.example`). */
const nextPath = z
  .string()
  .regex(/^\/(?![/\\])[^\s]*$/, 'not a local path')
  .max(500)
  .optional()
  .catch(undefined);

const signInForm = z.object({
  key: z.string().trim().min(1, 'enter your API key').max(200, 'that is not an API key'),
  next: nextPath,
});

/** Sign in with an API key (then a session cookie), sign out, and `/` sending each role home. */
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
    res.redirect(303, session ? home(session.key.role) : '/sign-in');
  });

  router.get('/sign-in', pageCsp, (req, res) => {
    sendPage(web, res, 'sign-in', {
      title: 'Sign in',
      next: nextPath.parse(req.query.next),
      csrf: web.sessions.csrfToken(req, res, null),
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
          error,
          next: form.data?.next,
          csrf: web.sessions.csrfToken(req, res, null),
        },
        form.success ? 401 : 422,
      );
      return;
    }
    await web.sessions.start(req, res, key.id);
    res.redirect(303, form.data.next ?? home(key.role));
  });

  router.post('/sign-out', pageCsp, signedIn(web), body(web, FORM), csrf(web), async (req, res) => {
    await web.sessions.end(req, res);
    res.redirect(303, '/sign-in');
  });
}
