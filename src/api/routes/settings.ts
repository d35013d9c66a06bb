import { z } from 'zod';
import { settingsSchema, settingsUpdateSchema, type Settings } from '../../service/settings.js';
import { type AnyRoute, route } from '../route.js';
import type { Services } from '../services.js';

const settingsView = settingsSchema.extend({
  requireApproval: settingsSchema.shape.requireApproval.describe(
    'a version is published only once someone other than its creator approved it (default: PLATEN_REQUIRE_APPROVAL)',
  ),
  retentionDays: settingsSchema.shape.retentionDays.describe(
    'days a piece stays linked to its recipient; after them only counts are kept (default: PLATEN_RETENTION_DAYS)',
  ),
  publicUrl: z
    .string()
    .describe(
      'read-only: what printed tracked links start with (PLATEN_PUBLIC_URL, or the address the service listens on)',
    ),
});

export function settingRoutes(s: Services): AnyRoute[] {
  const view = (settings: Settings) => ({ ...settings, publicUrl: s.pieces.publicUrl });
  const responses = {
    200: { description: 'the settings in force', kind: 'json', schema: settingsView },
  } as const;
  return [
    route({
      method: 'get',
      path: '/api/v1/settings',
      summary: 'The organisation’s settings',
      tag: 'settings',
      action: 'settings.manage',
      responses,
      async handle({ res, auth }) {
        res.json(view(await s.settings.get(auth!)));
      },
    }),
    route({
      method: 'put',
      path: '/api/v1/settings',
      summary: 'Change the organisation’s settings: those named, at least one',
      tag: 'settings',
      action: 'settings.manage',
      body: settingsUpdateSchema,
      responses,
      async handle({ res, auth, body }) {
        res.json(view(await s.settings.update(auth!, body)));
      },
    }),
  ];
}
