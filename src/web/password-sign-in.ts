import type { Request, RequestHandler, Response, Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { z } from 'zod';
import { HttpError } from '../api/problem.js';
import { sharedCounts } from '../api/rate-limit.js';
import { NotFoundError } from '../errors.js';
import type { Person } from '../service/policy.js';
import { body, csrf, FORM, pageCsp, sendPage, type Web } from './pages.js';
import { home, nextPath, signInChoices } from './sign-in.js';

const linkParams = z.strictObject({ token: z.string().regex(/^[A-Za-z0-9_-]{43}$/) });

const passwordForm = z.object({
  email: z.string().trim().min(1, 'Enter your email.').max(320),
  password: z.string().min(1, 'Enter your password.').max(200),
  next: nextPath,
});

const newPasswordForm = z
  .object({
    password: z
      .string()
      .min(12, 'Choose a password of at least 12 characters.')
      .max(200, 'Keep the password to 200 characters or fewer.'),
    confirm: z.string(),
  })
  .refine((f) => f.password === f.confirm, { message: 'The two passwords differ: type the same one twice.' });

/** Refused password sign-ins per email are counted over this long. */
const EMAIL_WINDOW_MS = 15 * 60_000;

const tooMany = (_req: Request, _res: Response, next: (error: unknown) => void) =>
  next(new HttpError(429, 'rate_limited', 'Too many sign-in attempts: wait a few minutes and try again.'));

/**
 * Email and password, for small teams without an identity provider (PLATEN_PASSWORD_SIGN_IN=1): an
 * admin adds a person on the People page and gives them a one-time link, where they set their
 * password; then they sign in with their email and it. Guessing is slowed twice: per client address,
 * and per email whatever the address (argon2id makes each guess cost, too).
 */
export function passwordRoutes(web: Web, router: Router): void {
  if (!web.s.config.passwordSignIn) {
    const none: RequestHandler = (_req, _res, next) =>
      next(new NotFoundError('not_found', 'Signing in with a password is not set up here.'));
    router.post('/sign-in/password', pageCsp, none);
    router.get('/set-password/:token', pageCsp, none);
    router.post('/set-password/:token', pageCsp, none);
    return;
  }
  const perAddress = rateLimit({
    windowMs: 60_000,
    limit: 30,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: tooMany,
  });
  // Counted in the store, so that guesses spread over API nodes count against one limit.
  const perEmail = rateLimit({
    windowMs: EMAIL_WINDOW_MS,
    limit: 10,
    store: sharedCounts(web.s.rateLimits, 'sign-in-email', EMAIL_WINDOW_MS),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // A right password is not a guess: only refusals count.
    skipSuccessfulRequests: true,
    keyGenerator: (req) => {
      const { email } = (req.body ?? {}) as { email?: unknown };
      return `email:${typeof email === 'string' ? email.trim().toLowerCase() : ''}`;
    },
    handler: tooMany,
  });

  router.post(
    '/sign-in/password',
    pageCsp,
    perAddress,
    body(web, FORM),
    csrf(web),
    perEmail,
    async (req, res) => {
      const form = passwordForm.safeParse(req.body);
      const person = form.success
        ? await web.s.people.signInWithPassword(form.data.email, form.data.password)
        : null;
      if (!person) {
        const { email } = (req.body ?? {}) as { email?: unknown };
        return sendPage(
          web,
          res,
          'sign-in',
          {
            title: 'Sign in',
            ...signInChoices(web, form.data?.next),
            next: form.data?.next,
            email: typeof email === 'string' ? email : '',
            passwordError: form.success
              ? 'That email and password do not match an account here.'
              : form.error.issues[0]!.message,
            csrf: web.sessions.csrfToken(req, res, null),
          },
          form.success ? 401 : 422,
        );
      }
      await signInPerson(web, req, res, person, form.data!.next);
    },
  );

  router.get('/set-password/:token', pageCsp, async (req, res) => {
    const { token, person } = await linked(web, req);
    sendPage(web, res, 'set-password', {
      title: 'Set your password',
      token,
      name: person.name,
      email: person.email,
      csrf: web.sessions.csrfToken(req, res, null),
    });
  });

  router.post('/set-password/:token', pageCsp, perAddress, body(web, FORM), csrf(web), async (req, res) => {
    const { token, person } = await linked(web, req);
    const form = newPasswordForm.safeParse(req.body);
    if (!form.success) {
      return sendPage(
        web,
        res,
        'set-password',
        {
          title: 'Set your password',
          token,
          name: person.name,
          email: person.email,
          error: form.error.issues[0]!.message,
          csrf: web.sessions.csrfToken(req, res, null),
        },
        422,
      );
    }
    const set = await web.s.people.setPassword(token, form.data.password);
    if (!set) throw usedLink();
    await signInPerson(web, req, res, set, undefined);
  });
}

const usedLink = () =>
  new NotFoundError('not_found', 'This link has been used or has expired: ask an admin for a new one.');

/** The person a request's link is for, or a 404 saying the link is spent. */
async function linked(web: Web, req: Request): Promise<{ token: string; person: Person }> {
  const params = linkParams.safeParse(req.params);
  const person = params.success ? await web.s.people.forPasswordLink(params.data.token) : null;
  if (!person) throw usedLink();
  return { token: params.data!.token, person };
}

/** Starts a person's session, and sends them home (or to wait for a role). */
async function signInPerson(
  web: Web,
  req: Request,
  res: Response,
  person: Person,
  next: string | undefined,
): Promise<void> {
  await web.sessions.start(req, res, { personId: person.id });
  res.redirect(303, person.role ? (next ?? home(person.role)) : '/waiting');
}
