import type { Response, Router } from 'express';
import { z } from 'zod';
import { uploadsOf } from '../api/bodies.js';
import { repIdSchema } from '../api/routes/reps.js';
import { PlatenError, type Problem } from '../errors.js';
import { type ApiKey, ROLES } from '../service/policy.js';
import { type ProfileUpdate, profileUpdateSchema } from '../service/profiles.js';
import { settingsSchema } from '../service/settings.js';
import { WEBHOOK_EVENTS, type WebhookEventType, webhookUrlSchema } from '../service/webhooks.js';
import { PROFILE_FIELDS, profileForm, profileProblem } from './rep-pages.js';
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

const keyParams = z.strictObject({ id: z.string().regex(/^[0-9a-f]{12}$/, 'not a key id') });
const webhookParams = z.strictObject({ id: z.string().regex(/^[0-9a-f]{12}$/, 'not a webhook id') });
const repParams = z.strictObject({ id: repIdSchema });

/** The sections of the admin area, in its navigation. People is the sign-in pages' own. */
const SECTIONS = [
  { href: '/admin/people', label: 'People' },
  { href: '/admin/keys', label: 'API keys' },
  { href: '/admin/reps', label: 'Rep profiles' },
  { href: '/admin/webhooks', label: 'Webhooks' },
  { href: '/admin/settings', label: 'Settings' },
] as const;

const KEY_ROLE_HELP: Record<ApiKey['role'], string> = {
  admin: 'Admin: everything, including keys, profiles, webhooks and settings',
  marketing: 'Marketing: templates, results, and every rep’s work',
  rep: 'Rep: makes pieces with one rep profile',
};

const EVENT_WORDS: Record<WebhookEventType, string> = {
  'piece.created': 'A piece is made (on the form, through the API, or in a batch)',
  'piece.response': 'Someone responds to a piece (scans its QR code or visits its link)',
  'piece.outcome': 'A rep says what came of a piece',
};

/** A key made on the page; its rep id is checked only for a rep key, the only kind that takes one. */
const keyForm = z.object({
  name: z.string().trim().min(1).max(100),
  role: z.enum(ROLES),
  repId: z.string().trim(),
});

const KEY_WORDS = {
  name: 'Give the key a name of at most 100 characters, such as the person or system that will use it.',
  role: 'Choose what the key may do.',
  repId:
    'A rep key needs the rep it prints as: letters, digits, dots, dashes or underscores, starting with a letter or digit, such as chloe.',
};

const webhookForm = z.object({
  url: z.string().trim().pipe(webhookUrlSchema),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1),
});

const WEBHOOK_WORDS = {
  url: 'Give the full address the events go to, starting with https:// (or http://), such as https://crm.example/hooks/platen.',
  events: 'Choose at least one event to send.',
};

const settingsForm = z.object({
  requireApproval: z.enum(['yes', 'no']).transform((v) => v === 'yes'),
  retentionDays: z.coerce.number().pipe(settingsSchema.shape.retentionDays),
});

const SETTINGS_WORDS = {
  requireApproval: 'Choose how versions are published.',
  retentionDays: 'Give a whole number of days from 1 to 36500, such as 730 for two years.',
};

/**
 * Parses a form; a field it refuses is a problem in the words given for that field (a page never
 * shows a schema's own message), one per field. `more` names fields refused by rules across fields,
 * so that every problem shows at once.
 */
function parseForm<T>(
  schema: z.ZodType<T>,
  values: unknown,
  words: Record<string, string>,
  more: string[] = [],
): T {
  const parsed = schema.safeParse(values);
  if (parsed.success && more.length === 0) return parsed.data;
  const fields = new Set([...(parsed.error?.issues.map((i) => String(i.path[0] ?? '')) ?? []), ...more]);
  throw new PlatenError(
    'invalid_form',
    [...fields].map((field) => ({ path: field, rule: 'form', message: words[field] ?? 'Check this field.' })),
  );
}

/** A form's problems by field: the first word of each problem's path. */
const errorsOf = (problems: Problem[]) =>
  new Map(problems.map((p) => [p.path.split('.')[0]!, p.message] as const));

/** A checkbox list posts one value, several, or none. */
const list = (value: unknown): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)];

/**
 * The admin area: API keys, rep profiles, webhooks and the organisation's settings, each calling its
 * service (which authorizes), server-rendered like every page. A change confirms itself with a
 * status message; what cannot be undone (revoking a key, deleting a webhook) asks first, on a page of
 * its own.
 */
export function adminRoutes(web: Web, router: Router): void {
  const { s } = web;
  const admin = (res: Response, name: string, section: string, context: object, status = 200) =>
    sendPage(
      web,
      res,
      name,
      {
        ...context,
        script: 'admin.js',
        sections: SECTIONS.map((x) => ({ ...x, current: x.href === section })),
      },
      status,
    );

  router.get('/admin', pageCsp, signedIn(web, 'keys.manage'), async (_req, res) => {
    const caller = viewerOf(res).key;
    const [keys, reps, webhooks, settings] = await Promise.all([
      s.keys.list(caller),
      s.profiles.list(caller),
      s.webhooks.list(caller),
      s.settings.get(caller),
    ]);
    admin(res, 'admin', '', {
      title: 'Admin',
      liveKeys: keys.filter((k) => !k.revokedAt).length,
      reps: reps.length,
      webhooks: webhooks.length,
      approval: settings.requireApproval,
    });
  });

  // API keys

  const sendKeys = async (
    res: Response,
    outcome: { made?: { key: string; name: string }; values?: Record<string, string>; problems?: Problem[] },
    status = 200,
  ) => {
    const caller = viewerOf(res).key;
    const [keys, reps] = await Promise.all([s.keys.list(caller), s.profiles.list(caller)]);
    const errors = errorsOf(outcome.problems ?? []);
    const values = outcome.values ?? {};
    admin(
      res,
      'admin-keys',
      '/admin/keys',
      {
        title: 'API keys',
        toast: outcome.made && `The key “${outcome.made.name}” is made.`,
        made: outcome.made,
        hasProblems: errors.size > 0,
        form: {
          name: values.name ?? '',
          repId: values.repId ?? '',
          roles: ROLES.map((role) => ({
            value: role,
            label: KEY_ROLE_HELP[role],
            checked: values.role === role,
          })),
          nameError: errors.get('name'),
          roleError: errors.get('role'),
          repIdError: errors.get('repId'),
        },
        reps: reps.map((r) => ({ id: r.id, name: r.name })),
        // Live keys first, each group newest first: what an admin looks for.
        keys: [...keys]
          .sort(
            (a, b) => Number(!!a.revokedAt) - Number(!!b.revokedAt) || b.createdAt.localeCompare(a.createdAt),
          )
          .map((k) => ({
            id: k.id,
            name: k.name,
            role: k.role,
            repId: k.repId,
            created: when(k.createdAt),
            lastUsed: when(k.lastUsedAt),
            lastUsedAt: k.lastUsedAt,
            revoked: when(k.revokedAt),
            revokedAt: k.revokedAt,
            own: k.id === caller.id,
          })),
      },
      status,
    );
  };

  router.get('/admin/keys', pageCsp, signedIn(web, 'keys.manage'), async (_req, res) => {
    await sendKeys(res, {});
  });

  router.post(
    '/admin/keys',
    pageCsp,
    signedIn(web, 'keys.manage'),
    body(web, FORM),
    csrf(web),
    async (req, res) => {
      const { _csrf, ...values } = req.body as Record<string, string>;
      try {
        // A rep key names a rep id; other keys take none, whatever the field holds.
        const isRep = values.role === 'rep';
        const badRep = isRep && !repIdSchema.safeParse((values.repId ?? '').trim()).success;
        const { repId, ...input } = parseForm(
          keyForm,
          { name: '', repId: '', ...values },
          KEY_WORDS,
          badRep ? ['repId'] : [],
        );
        const { key, apiKey } = await s.keys.create(viewerOf(res).key, {
          ...input,
          ...(isRep ? { repId } : {}),
        });
        await sendKeys(res, { made: { key, name: apiKey.name } }, 201);
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        await sendKeys(res, { values, problems: error.problems }, 422);
      }
    },
  );

  router.get('/admin/keys/:id/revoke', pageCsp, signedIn(web, 'keys.manage'), async (req, res) => {
    const { id } = parseWith(keyParams, req.params);
    const caller = viewerOf(res).key;
    const key = (await s.keys.list(caller)).find((k) => k.id === id && !k.revokedAt);
    if (!key) return res.redirect(303, '/admin/keys');
    admin(res, 'admin-confirm', '/admin/keys', {
      title: `Revoke the key “${key.name}”?`,
      action: `/admin/keys/${id}/revoke`,
      back: '/admin/keys',
      explain:
        key.id === caller.id
          ? 'This is the key you signed in with: a key cannot revoke itself. Sign in with another admin key to revoke it.'
          : `Whoever uses it (${key.role}${key.repId ? `, rep ${key.repId}` : ''}) can no longer sign in or call the API, and every page they have open signs out. This cannot be undone: make a new key if they still need one.`,
      button: 'Revoke the key',
      own: key.id === caller.id,
    });
  });

  router.post(
    '/admin/keys/:id/revoke',
    pageCsp,
    signedIn(web, 'keys.manage'),
    body(web, FORM),
    csrf(web),
    async (req, res) => {
      const { id } = parseWith(keyParams, req.params);
      await s.keys.revoke(viewerOf(res).key, id);
      redirectWithToast(
        web,
        res,
        '/admin/keys',
        'The key is revoked: it no longer works, and its sign-ins have ended.',
      );
    },
  );

  // Rep profiles

  router.get('/admin/reps', pageCsp, signedIn(web, 'reps.manage'), async (_req, res) => {
    const reps = await s.profiles.list(viewerOf(res).key);
    admin(res, 'admin-reps', '/admin/reps', {
      title: 'Rep profiles',
      reps: reps.map((r) => {
        const missing = PROFILE_FIELDS.filter((f) => !r[f.key]).map((f) => f.label.toLowerCase());
        if (!r.photoSha256) missing.push('photo');
        return {
          id: r.id,
          name: r.name || 'No name yet',
          unnamed: !r.name,
          title: r.title,
          email: r.email,
          missing: missing.join(', '),
          updated: when(r.updatedAt),
        };
      }),
    });
  });

  const sendRep = async (
    res: Response,
    id: string,
    values: Record<string, string>,
    problems: Problem[],
    status = 200,
  ) => {
    const caller = viewerOf(res).key;
    const profile = await s.profiles.get(caller, id);
    const form = await profileForm(
      web,
      caller,
      profile,
      values,
      problems.map((p) => profileProblem(p)),
    );
    admin(
      res,
      'admin-rep',
      '/admin/reps',
      {
        title: `Rep profile: ${profile.name || id}`,
        repId: id,
        ...form,
        // Another person's details: the browser must not fill in the admin's own.
        fields: form.fields.map((f) => ({ ...f, autocomplete: 'off' })),
        photo: profile.photoSha256 ? `/admin/reps/${id}/photo?v=${profile.photoSha256.slice(0, 12)}` : null,
      },
      status,
    );
  };

  router.get('/admin/reps/:id', pageCsp, signedIn(web, 'reps.manage'), async (req, res) => {
    await sendRep(res, parseWith(repParams, req.params).id, {}, []);
  });

  router.post(
    '/admin/reps/:id',
    pageCsp,
    signedIn(web, 'reps.manage'),
    // What a browser form sends: urlencoded without a file, multipart with one.
    body(web, { ...FORM, multipart: { files: ['photo'], maxBytes: 15 * 1024 * 1024 } }),
    csrf(web),
    async (req, res) => {
      const { id } = parseWith(repParams, req.params);
      const { _csrf, ...values } = req.body as Record<string, string>;
      try {
        const update: ProfileUpdate = parseWith(profileUpdateSchema, values);
        // The page asks for the rep first: an unknown id is a 404, never a new profile.
        await s.profiles.get(viewerOf(res).key, id);
        await s.profiles.update(viewerOf(res).key, id, update, uploadsOf(req).photo?.path);
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        return sendRep(res, id, values, error.problems, 422);
      }
      redirectWithToast(
        web,
        res,
        `/admin/reps/${id}`,
        'The profile is saved: the rep’s next pieces print it.',
      );
    },
  );

  router.get('/admin/reps/:id/photo', pageCsp, signedIn(web, 'reps.manage'), async (req, res) => {
    const bytes = await s.profiles.photo(viewerOf(res).key, parseWith(repParams, req.params).id);
    res.type('image/jpeg').set('Cache-Control', 'private, no-cache').send(bytes);
  });

  // Webhooks

  const sendWebhooks = async (
    res: Response,
    outcome: {
      made?: { secret: string; url: string };
      values?: { url?: string; events?: string[] };
      problems?: Problem[];
    },
    status = 200,
  ) => {
    const hooks = await s.webhooks.list(viewerOf(res).key);
    const errors = errorsOf(outcome.problems ?? []);
    const chosen = outcome.values?.events ?? [];
    admin(
      res,
      'admin-webhooks',
      '/admin/webhooks',
      {
        title: 'Webhooks',
        toast: outcome.made && 'The webhook is added.',
        made: outcome.made,
        hasProblems: errors.size > 0,
        form: {
          url: outcome.values?.url ?? '',
          urlError: errors.get('url'),
          eventsError: errors.get('events'),
          events: WEBHOOK_EVENTS.map((e, i) => ({
            value: e,
            label: EVENT_WORDS[e],
            id: `event-${i}`,
            checked: chosen.includes(e),
          })),
        },
        webhooks: hooks.map((h) => ({
          id: h.id,
          url: h.url,
          events: h.events.map((e) => EVENT_WORDS[e]),
          created: when(h.createdAt),
        })),
      },
      status,
    );
  };

  router.get('/admin/webhooks', pageCsp, signedIn(web, 'webhooks.manage'), async (_req, res) => {
    await sendWebhooks(res, {});
  });

  router.post(
    '/admin/webhooks',
    pageCsp,
    signedIn(web, 'webhooks.manage'),
    body(web, FORM),
    csrf(web),
    async (req, res) => {
      const sent = req.body as Record<string, unknown>;
      const values = { url: typeof sent.url === 'string' ? sent.url : '', events: list(sent.events) };
      try {
        const input = parseForm(webhookForm, values, WEBHOOK_WORDS);
        const { webhook, secret } = await s.webhooks.create(viewerOf(res).key, input);
        await sendWebhooks(res, { made: { secret, url: webhook.url } }, 201);
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        await sendWebhooks(res, { values, problems: error.problems }, 422);
      }
    },
  );

  router.get('/admin/webhooks/:id', pageCsp, signedIn(web, 'webhooks.manage'), async (req, res) => {
    const { id } = parseWith(webhookParams, req.params);
    const caller = viewerOf(res).key;
    const deliveries = await s.webhooks.deliveries(caller, id, 50);
    const hook = (await s.webhooks.list(caller)).find((h) => h.id === id);
    admin(res, 'admin-webhook', '/admin/webhooks', {
      title: 'Webhook deliveries',
      id,
      url: hook?.url,
      deleted: !hook,
      events: hook?.events.map((e) => EVENT_WORDS[e]),
      deliveries: deliveries.map((d) => ({
        at: when(d.at),
        event: EVENT_WORDS[d.type],
        attempt: d.attempt,
        delivered: d.status !== null && d.status >= 200 && d.status < 300,
        outcome:
          d.status === null
            ? `No answer: ${d.error ?? 'the receiver did not respond'}`
            : `The receiver answered ${d.status}`,
        duration: `${d.durationMs} ms`,
      })),
    });
  });

  router.get('/admin/webhooks/:id/delete', pageCsp, signedIn(web, 'webhooks.manage'), async (req, res) => {
    const { id } = parseWith(webhookParams, req.params);
    const hook = (await s.webhooks.list(viewerOf(res).key)).find((h) => h.id === id);
    if (!hook) return res.redirect(303, '/admin/webhooks');
    admin(res, 'admin-confirm', '/admin/webhooks', {
      title: 'Delete this webhook?',
      subject: hook.url,
      action: `/admin/webhooks/${id}/delete`,
      back: '/admin/webhooks',
      explain:
        'Nothing more is sent to this address, including events waiting to be retried. Its delivery log stays readable. This cannot be undone: add the address again if it still needs events (it gets a new secret).',
      button: 'Delete the webhook',
    });
  });

  router.post(
    '/admin/webhooks/:id/delete',
    pageCsp,
    signedIn(web, 'webhooks.manage'),
    body(web, FORM),
    csrf(web),
    async (req, res) => {
      const { id } = parseWith(webhookParams, req.params);
      await s.webhooks.delete(viewerOf(res).key, id);
      redirectWithToast(
        web,
        res,
        `/admin/webhooks/${id}`,
        'The webhook is deleted: nothing more is sent to it. Its delivery log stays below.',
      );
    },
  );

  // Settings

  const sendSettings = async (
    res: Response,
    values: Record<string, string> | null,
    problems: Problem[],
    status = 200,
  ) => {
    const settings = await s.settings.get(viewerOf(res).key);
    const errors = errorsOf(problems);
    const approval = values?.requireApproval ?? (settings.requireApproval ? 'yes' : 'no');
    admin(
      res,
      'admin-settings',
      '/admin/settings',
      {
        title: 'Organisation settings',
        hasProblems: problems.length > 0,
        approvalYes: approval === 'yes',
        approvalNo: approval === 'no',
        approvalError: errors.get('requireApproval'),
        retentionDays: values?.retentionDays ?? String(settings.retentionDays),
        retentionError: errors.get('retentionDays'),
        publicUrl: s.pieces.publicUrl,
        publicUrlFromEnv: s.config.publicUrl !== null,
      },
      status,
    );
  };

  router.get('/admin/settings', pageCsp, signedIn(web, 'settings.manage'), async (_req, res) => {
    await sendSettings(res, null, []);
  });

  router.post(
    '/admin/settings',
    pageCsp,
    signedIn(web, 'settings.manage'),
    body(web, FORM),
    csrf(web),
    async (req, res) => {
      const { _csrf, ...values } = req.body as Record<string, string>;
      try {
        await s.settings.update(viewerOf(res).key, parseForm(settingsForm, values, SETTINGS_WORDS));
        redirectWithToast(web, res, '/admin/settings', 'The settings are saved. They apply from now on.');
      } catch (error) {
        if (!(error instanceof PlatenError)) throw error;
        await sendSettings(res, values, error.problems, 422);
      }
    },
  );
}
