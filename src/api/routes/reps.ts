import { z } from 'zod';
import type { RepProfile } from '../../store/reps.js';
import { type ProfileUpdate, profileUpdateSchema, updateProfile } from '../../service/profiles.js';
import type { UploadedFile } from '../bodies.js';
import { HttpError } from '../problem.js';
import { type AnyRoute, type Ctx, route } from '../route.js';
import type { Services } from '../services.js';

const profileSchema = z.object({
  id: z.string(),
  name: z.string(),
  title: z.string(),
  phone: z.string(),
  email: z.string(),
  licenseNumber: z.string(),
  photo: z.string().nullable().describe('URL of the normalized photo'),
  updatedAt: z.string(),
  warnings: z.array(z.string()).optional(),
});

/** A rep profile's id, as keys and routes name it. */
export const repIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'not a rep id');

const repParams = z.strictObject({
  id: repIdSchema,
});

const PHOTO_MAX_BYTES = 15 * 1024 * 1024;

function view(p: RepProfile, base: string, warnings?: string[]) {
  const { photoSha256, ...rest } = p;
  return { ...rest, photo: photoSha256 ? `${base}/photo` : null, ...(warnings?.length ? { warnings } : {}) };
}

async function update(
  s: Services,
  id: string,
  body: ProfileUpdate,
  files: Record<string, UploadedFile>,
  base: string,
) {
  const { profile, warnings } = await updateProfile(s.store, id, body, files.photo?.path);
  return view(profile, base, warnings);
}

async function sendPhoto(s: Services, res: Ctx<unknown, unknown, unknown>['res'], id: string) {
  const profile = s.store.reps.get(id);
  const bytes = profile?.photoSha256 ? await s.store.blobs.get(profile.photoSha256) : null;
  if (!bytes) throw new HttpError(404, 'not_found', 'no photo');
  res.type('image/jpeg').set('Cache-Control', 'private, max-age=300').send(bytes);
}

/** JSON (what API clients send by default), or multipart with a photo. */
const accepts = { json: {}, multipart: { files: ['photo'], maxBytes: PHOTO_MAX_BYTES } } as const;
const profileResponses = {
  200: { description: 'the profile', kind: 'json', schema: profileSchema },
} as const;
const photoResponses = {
  200: { description: 'the normalized photo', kind: 'empty' },
  404: { description: 'no photo', kind: 'json' },
} as const;

export function repRoutes(s: Services): AnyRoute[] {
  const mine = (auth: { repId: string | null } | null) => {
    if (!auth?.repId) throw new HttpError(403, 'forbidden', 'this key belongs to no rep');
    return auth.repId;
  };
  return [
    route({
      method: 'get',
      path: '/api/v1/reps/me',
      summary: "The caller's own profile",
      tag: 'reps',
      roles: ['rep'],
      responses: profileResponses,
      async handle({ res, auth }) {
        res.json(view(s.store.reps.ensure(mine(auth)), '/api/v1/reps/me'));
      },
    }),
    route({
      method: 'put',
      path: '/api/v1/reps/me',
      summary: "Update the caller's profile: JSON, or multipart with an optional photo",
      tag: 'reps',
      roles: ['rep'],
      body: profileUpdateSchema,
      accepts,
      responses: profileResponses,
      async handle({ res, auth, body, files }) {
        res.json(await update(s, mine(auth), body, files, '/api/v1/reps/me'));
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/reps/me/photo',
      summary: "The caller's photo",
      tag: 'reps',
      roles: ['rep'],
      responses: photoResponses,
      async handle({ res, auth }) {
        await sendPhoto(s, res, mine(auth));
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/reps',
      summary: 'Every rep profile',
      tag: 'reps',
      roles: ['admin'],
      responses: {
        200: { description: 'profiles', kind: 'json', schema: z.object({ reps: z.array(profileSchema) }) },
      },
      async handle({ res }) {
        res.json({ reps: s.store.reps.list().map((p) => view(p, `/api/v1/reps/${p.id}`)) });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/reps/:id',
      summary: "A rep's profile",
      tag: 'reps',
      roles: ['admin'],
      params: repParams,
      responses: { ...profileResponses, 404: { description: 'no such rep', kind: 'json' } },
      async handle({ res, params }) {
        const profile = s.store.reps.get(params.id);
        if (!profile) throw new HttpError(404, 'not_found', `no rep ${params.id}`);
        res.json(view(profile, `/api/v1/reps/${params.id}`));
      },
    }),
    route({
      method: 'put',
      path: '/api/v1/reps/:id',
      summary: "Create or update a rep's profile: JSON, or multipart with an optional photo",
      tag: 'reps',
      roles: ['admin'],
      params: repParams,
      body: profileUpdateSchema,
      accepts,
      responses: profileResponses,
      async handle({ res, params, body, files }) {
        res.json(await update(s, params.id, body, files, `/api/v1/reps/${params.id}`));
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/reps/:id/photo',
      summary: "A rep's photo",
      tag: 'reps',
      roles: ['admin'],
      params: repParams,
      responses: photoResponses,
      async handle({ res, params }) {
        await sendPhoto(s, res, params.id);
      },
    }),
  ];
}
