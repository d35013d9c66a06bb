import { z } from 'zod';
import { PlatenError } from '../errors.js';
import type { Store } from '../store/store.js';
import { type ApiKey, authorize } from './policy.js';

/** The organisation's settings an admin changes at run time; the environment gives their defaults. */
export const settingsSchema = z.strictObject({
  /** A version is published only once someone other than its creator approved it. */
  requireApproval: z.boolean(),
  /** Days a piece stays linked to its recipient; after them only counts are kept. */
  retentionDays: z.number().int().min(1, 'at least 1 day').max(36_500, 'at most 36500 days (100 years)'),
});
export type Settings = z.infer<typeof settingsSchema>;

/** A change: any of the settings, at least one. */
export const settingsUpdateSchema = settingsSchema.partial();
export type SettingsUpdate = z.infer<typeof settingsUpdateSchema>;

/**
 * The organisation's settings: what an admin stored, over the defaults the environment gives
 * (PLATEN_REQUIRE_APPROVAL, PLATEN_RETENTION_DAYS). Services read them with `current` as they act, so
 * a change applies to the next publish or retention run without a restart.
 */
export class SettingsService {
  constructor(
    private readonly store: Store,
    private readonly defaults: Settings,
  ) {}

  /** The settings in force, for the services that follow them. */
  async current(): Promise<Settings> {
    const stored = await this.store.settings.all();
    const settings = { ...this.defaults };
    for (const name of Object.keys(settingsSchema.shape) as (keyof Settings)[]) {
      // A stored value this Platen cannot read (written by another version) leaves the default.
      const parsed = settingsSchema.shape[name].safeParse(stored[name]);
      if (parsed.success) (settings as Record<string, unknown>)[name] = parsed.data;
    }
    return settings;
  }

  /** The settings, for those the policy lets manage them. */
  async get(caller: ApiKey): Promise<Settings> {
    authorize(caller, 'settings.manage');
    return this.current();
  }

  /** Changes the settings given; an update that names none is refused, so a success always means a change. */
  async update(caller: ApiKey, update: SettingsUpdate): Promise<Settings> {
    authorize(caller, 'settings.manage');
    const values = Object.fromEntries(Object.entries(update).filter(([, v]) => v !== undefined));
    if (Object.keys(values).length === 0) {
      throw new PlatenError('invalid_request', [
        {
          path: '',
          rule: 'nothing_to_update',
          message: `nothing to update: send at least one of ${Object.keys(settingsSchema.shape).join(', ')}`,
        },
      ]);
    }
    await this.store.settings.set(values, caller.name);
    return this.current();
  }
}
