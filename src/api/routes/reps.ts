import { z } from 'zod';
import type { RepProfile } from '../../service/profiles.js';
import { profileUpdateSchema } from '../../service/profiles.js';
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
});

/** A rep profile's id, as keys and routes name it. */
export const repIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'not a rep id');

const repParams = z.strictObject({
  id: repIdSchema,
});

const PHOTO_MAX_BYTES = 15 * 1024 * 1024;

function view(p: RepProfile, base: string) {
  const { photoSha256, ...rest } = p;
  return { ...rest, photo: photoSha256 ? `${base}/photo` : null };
}

function sendPhoto(res: Ctx<unknown, unknown, unknown>['res'], bytes: Buffer) {
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

/** Routes naming no rep id act on the caller's own profile; the profile service checks which the caller may. */
export function repRoutes(s: Services): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/api/v1/reps/me',
      summary: "The caller's own profile",
      tag: 'reps',
      action: 'profile.own',
      responses: profileResponses,
      async handle({ res, auth }) {
        res.json(view(await s.profiles.get(auth!), '/api/v1/reps/me'));
      },
    }),
    route({
      method: 'put',
      path: '/api/v1/reps/me',
      summary: "Update the caller's profile: JSON, or multipart with an optional photo",
      tag: 'reps',
      action: 'profile.own',
      body: profileUpdateSchema,
      accepts,
      responses: profileResponses,
      async handle({ res, auth, body, files }) {
        const profile = await s.profiles.update(auth!, undefined, body, files.photo?.path);
        res.json(view(profile, '/api/v1/reps/me'));
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/reps/me/photo',
      summary: "The caller's photo",
      tag: 'reps',
      action: 'profile.own',
      responses: photoResponses,
      async handle({ res, auth }) {
        sendPhoto(res, await s.profiles.photo(auth!));
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/reps',
      summary: 'Every rep profile',
      tag: 'reps',
      action: 'reps.manage',
      responses: {
        200: { description: 'profiles', kind: 'json', schema: z.object({ reps: z.array(profileSchema) }) },
      },
      async handle({ res, auth }) {
        res.json({ reps: (await s.profiles.list(auth!)).map((p) => view(p, `/api/v1/reps/${p.id}`)) });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/reps/:id',
      summary: "A rep's profile",
      tag: 'reps',
      action: 'reps.manage',
      params: repParams,
      responses: { ...profileResponses, 404: { description: 'no such rep', kind: 'json' } },
      async handle({ res, auth, params }) {
        res.json(view(await s.profiles.get(auth!, params.id), `/api/v1/reps/${params.id}`));
      },
    }),
    route({
      method: 'put',
      path: '/api/v1/reps/:id',
      summary: "Create or update a rep's profile: JSON, or multipart with an optional photo",
      tag: 'reps',
      action: 'reps.manage',
      params: repParams,
      body: profileUpdateSchema,
      accepts,
      responses: profileResponses,
      async handle({ res, auth, params, body, files }) {
        const profile = await s.profiles.update(auth!, params.id, body, files.photo?.path);
        res.json(view(profile, `/api/v1/reps/${params.id}`));
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/reps/:id/photo',
      summary: "A rep's photo",
      tag: 'reps',
      action: 'reps.manage',
      params: repParams,
      responses: photoResponses,
      async handle({ res, auth, params }) {
        sendPhoto(res, await s.profiles.photo(auth!, params.id));
      },
    }),
  ];
}
