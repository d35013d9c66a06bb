import type { RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import { repIdSchema } from '../api/routes/reps.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { type Person, ROLES, type Role } from '../service/policy.js';
import {
  body,
  csrf,
  FORM,
  pageCsp,
  parseWith,
  redirectWithToast,
  sendPage,
  signedIn,
  viewerOf,
  type Web,
  when,
} from './pages.js';

const personParams = z.strictObject({ id: z.string().regex(/^[0-9a-f]{12}$/, 'not a person') });

/** The role form: a role, and a rep id for a rep (ignored for the others). */
const roleForm = z
  .object({
    role: z.enum(ROLES, { error: 'Choose a role.' }),
    repId: z.string().trim().max(64).default(''),
  })
  .transform(({ role, repId }) => ({ role, repId: role === 'rep' ? repId : '' }))
  .superRefine(({ role, repId }, ctx) => {
    if (role !== 'rep') return;
    if (repId === '') ctx.addIssue({ code: 'custom', path: ['repId'], message: 'A rep needs a rep id.' });
    else if (!repIdSchema.safeParse(repId).success)
      ctx.addIssue({
        code: 'custom',
        path: ['repId'],
        message: 'Rep id: letters, digits, dots, dashes and underscores, e.g. chloe-k.',
      });
  });

const ROLE_NAMES: Record<Role, string> = {
  admin: 'Admin',
  marketing: 'Marketing',
  rep: 'Rep',
};

/** An admin adding someone who signs in with a password. */
const newPersonForm = z
  .object({
    name: z.string().trim().min(1, 'Enter their name.').max(200, 'Keep the name to 200 characters or fewer.'),
    email: z.email({ error: 'Enter their email, e.g. chloe@harbor.example.' }).max(320),
  })
  .and(roleForm);

/** A person's problem on the page, shown beside their form, which keeps what was sent. */
interface Trouble {
  id: string;
  message: string;
  sent?: { role: string; repId: string };
}

/** What the role form sent, as text, to show again beside its problem. */
const sentOf = (body: unknown) => {
  const { role, repId } = (body ?? {}) as Record<string, unknown>;
  return { role: typeof role === 'string' ? role : '', repId: typeof repId === 'string' ? repId : '' };
};

/**
 * The admin's page of people: everyone who has signed in through the identity provider, those
 * waiting for a role first; give each a role (and a rep their rep id), or disable them.
 */
export function peopleRoutes(web: Web, router: Router): void {
  const passwordsOnly: RequestHandler = (_req, _res, next) =>
    next(
      web.s.config.passwordSignIn
        ? undefined
        : new NotFoundError('not_found', 'Signing in with a password is not set up here.'),
    );

  router.post(
    '/admin/people',
    pageCsp,
    signedIn(web, 'people.manage'),
    passwordsOnly,
    body(web, FORM),
    csrf(web),
    async (req, res) => {
      const sent = newPersonSent(req.body);
      const form = newPersonForm.safeParse(req.body);
      if (!form.success) {
        return sendPeople(web, res, { adding: { ...sent, error: form.error.issues[0]!.message } }, 422);
      }
      const { name, email, role, repId } = form.data;
      let made;
      try {
        made = await web.s.people.create(viewerOf(res).key, {
          name,
          email,
          role,
          ...(repId ? { repId } : {}),
        });
      } catch (error) {
        if (!(error instanceof ConflictError) || error.code !== 'email_taken') throw error;
        const message = `Someone already signs in with ${email}.`;
        return sendPeople(web, res, { adding: { ...sent, error: message } }, 409);
      }
      await sendPeople(web, res, { link: { person: made.person, token: made.token } }, 201);
    },
  );

  router.post(
    '/admin/people/:id/password-link',
    pageCsp,
    signedIn(web, 'people.manage'),
    passwordsOnly,
    body(web, FORM),
    csrf(web),
    async (req, res) => {
      const { id } = parseWith(personParams, req.params);
      let token;
      try {
        token = await web.s.people.passwordLink(viewerOf(res).key, id);
      } catch (error) {
        return refused(web, res, id, error);
      }
      const person = (await web.s.people.list(viewerOf(res).key)).find((p) => p.id === id)!;
      await sendPeople(web, res, { link: { person, token } });
    },
  );

  router.get('/admin/people', pageCsp, signedIn(web, 'people.manage'), async (_req, res) => {
    await sendPeople(web, res, {});
  });

  router.post(
    '/admin/people/:id',
    pageCsp,
    signedIn(web, 'people.manage'),
    body(web, FORM),
    csrf(web),
    async (req, res) => {
      const { id } = parseWith(personParams, req.params);
      const form = roleForm.safeParse(req.body);
      if (!form.success) {
        const message = form.error.issues[0]!.message;
        return sendPeople(web, res, { trouble: { id, message, sent: sentOf(req.body) } }, 422);
      }
      const { role, repId } = form.data;
      let person;
      try {
        person = await web.s.people.assign(viewerOf(res).key, id, { role, ...(repId ? { repId } : {}) });
      } catch (error) {
        return refused(web, res, id, error, sentOf(req.body));
      }
      redirectWithToast(web, res, `/admin/people#person-${id}`, savedWords(person));
    },
  );

  router.post(
    '/admin/people/:id/disable',
    pageCsp,
    signedIn(web, 'people.manage'),
    body(web, FORM),
    csrf(web),
    async (req, res) => {
      const { id } = parseWith(personParams, req.params);
      const caller = viewerOf(res).key;
      try {
        await web.s.people.disable(caller, id);
      } catch (error) {
        return refused(web, res, id, error);
      }
      const person = (await web.s.people.list(caller)).find((p) => p.id === id)!;
      redirectWithToast(web, res, `/admin/people#person-${id}`, savedWords(person));
    },
  );
}

/** The toast after a change to a person: who, and what they are now. */
const savedWords = (p: Person): string =>
  `Saved: ${p.name} ${p.disabledAt ? 'is turned off' : `is ${p.role === 'admin' ? 'an' : 'a'} ${ROLE_NAMES[p.role!].toLowerCase()}`}.`;

/** A change the service refused for a person the page shows: said beside them. */
async function refused(
  web: Web,
  res: Response,
  id: string,
  error: unknown,
  sent?: Trouble['sent'],
): Promise<void> {
  if (error instanceof ConflictError) {
    const message =
      error.code === 'own_person' ? 'You cannot change your own role or turn yourself off.' : error.message;
    return sendPeople(web, res, { trouble: { id, message, ...(sent ? { sent } : {}) } }, 409);
  }
  if (error instanceof NotFoundError) {
    return sendPeople(web, res, { trouble: { id, message: 'This person is already turned off.' } }, 404);
  }
  throw error;
}

/** What the add-a-person form sent, to show again beside its problem. */
const newPersonSent = (body: unknown) => {
  const { name, email } = (body ?? {}) as Record<string, unknown>;
  return {
    ...sentOf(body),
    name: typeof name === 'string' ? name : '',
    email: typeof email === 'string' ? email : '',
  };
};

async function sendPeople(
  web: Web,
  res: Response,
  {
    trouble,
    adding,
    link,
  }: {
    trouble?: Trouble;
    /** The add-a-person form as sent, with its problem. */
    adding?: ReturnType<typeof newPersonSent> & { error: string };
    /** A one-time link to set a password, shown this once. */
    link?: { person: Person; token: string };
  },
  status = 200,
): Promise<void> {
  const caller = viewerOf(res).key;
  const people = await web.s.people.list(caller);
  sendPage(
    web,
    res,
    'people',
    {
      title: 'People',
      waiting: people.filter((p) => !p.disabledAt && !p.role).length,
      passwords: web.s.config.passwordSignIn,
      provider: web.s.config.oidc?.name,
      adding: adding && {
        ...adding,
        roles: ROLES.map((r) => ({ value: r, label: ROLE_NAMES[r], selected: r === adding.role })),
      },
      addRoles: ROLES.map((r) => ({ value: r, label: ROLE_NAMES[r] })),
      link: link && {
        name: link.person.name,
        email: link.person.email,
        url: `${web.s.pieces.publicUrl}/set-password/${link.token}`,
      },
      people: people.map((p) => {
        const sent = trouble?.id === p.id ? trouble.sent : undefined;
        return {
          id: p.id,
          name: p.name,
          email: p.email,
          self: caller.id === `person:${p.id}`,
          waiting: !p.role && !p.disabledAt,
          withPassword: p.issuer === null,
          hasPassword: p.hasPassword,
          disabled: Boolean(p.disabledAt),
          roleWords: p.role ? ROLE_NAMES[p.role] : 'No role yet',
          repId: p.repId ?? '',
          formRepId: sent?.repId ?? p.repId ?? '',
          roles: ROLES.map((r) => ({
            value: r,
            label: ROLE_NAMES[r],
            selected: r === (sent?.role ?? p.role),
          })),
          lastSignIn: p.lastSignInAt ?? '',
          lastSignInWords: p.lastSignInAt ? when(p.lastSignInAt) : 'never',
          disabledWords: p.disabledAt ? when(p.disabledAt) : '',
          error: trouble?.id === p.id ? trouble.message : undefined,
        };
      }),
    },
    status,
  );
}
