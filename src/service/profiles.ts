import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { normalizePhoto } from '../assets/photos.js';
import { NotFoundError, PlatenError, type Problem } from '../errors.js';
import { repProblems } from '../jobs/batch.js';
import type { ApiKey, RepDetails, RepProfile, Store } from '../store/store.js';
import { imageMinimum, PHOTO_MIN_PX } from '../model/manifest.js';
import { PHONE } from '../template/record-schema.js';
import { authorize } from './policy.js';
import { PROFILE_INPUTS } from './render.js';
import type { TemplateService, TemplateVersion } from './templates.js';

export type { RepProfile } from '../store/store.js';

/** A detail printed on every piece. */
const text = (max: number) => z.string().trim().max(max);

/** What a profile update may carry, from the API's multipart body or the profile page's form. */
export const profileUpdateSchema = z.strictObject({
  name: text(100).optional(),
  title: text(100).optional(),
  phone: z
    .string()
    .trim()
    // The record schema's phone rule, or empty to clear the number.
    .regex(new RegExp(`^$|${PHONE.source}`, PHONE.flags), 'not a phone number')
    .optional(),
  email: z.union([z.literal(''), z.email('not an email address')]).optional(),
  licenseNumber: text(60).optional(),
});
export type ProfileUpdate = z.infer<typeof profileUpdateSchema>;

/** The profile's details (never the photo) as a template's `rep` inputs take them. */
function repValues(profile: RepDetails): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, read] of Object.entries(PROFILE_INPUTS)) {
    const value = read(profile);
    if (value !== '') values[key] = value;
  }
  return values;
}

/**
 * Rep profiles, as the role policy allows: a rep reads and updates their own; an admin any rep's.
 * Every face reads and updates profiles through here.
 */
export class ProfileService {
  constructor(
    private readonly store: Store,
    private readonly templates: TemplateService,
  ) {}

  /** The profile a caller names: their own (no id), or any rep's for those who manage profiles. */
  private whose(caller: ApiKey, repId: string | undefined): string {
    if (repId !== undefined) {
      authorize(caller, 'reps.manage');
      return repId;
    }
    authorize(caller, 'profile.own');
    return caller.repId!;
  }

  /** A profile: the caller's own (made empty on first use), or a rep's by id (NotFoundError if none). */
  async get(caller: ApiKey, repId?: string): Promise<RepProfile> {
    const id = this.whose(caller, repId);
    if (repId === undefined) return this.store.reps.ensure(id);
    const profile = await this.store.reps.get(id);
    if (!profile) throw new NotFoundError('not_found', `no rep ${id}`);
    return profile;
  }

  async list(caller: ApiKey): Promise<RepProfile[]> {
    authorize(caller, 'reps.manage');
    return this.store.reps.list();
  }

  /** Who a job may be run for, by name: for those who work with any rep. */
  async names(caller: ApiKey): Promise<{ id: string; name: string }[]> {
    authorize(caller, 'reps.any');
    return (await this.store.reps.list()).map((r) => ({ id: r.id, name: r.name }));
  }

  /** A profile's normalized photo (JPEG); NotFoundError without one. */
  async photo(caller: ApiKey, repId?: string): Promise<Buffer> {
    const profile = await this.store.reps.get(this.whose(caller, repId));
    const bytes = profile?.photoSha256 ? await this.store.blobs.get(profile.photoSha256) : null;
    if (!bytes) throw new NotFoundError('not_found', 'No photo.');
    return bytes;
  }

  /**
   * The smallest photo a profile takes, each side in pixels: PHOTO_MIN_PX, or more where a published
   * template's photo input asks for more, so that every template prints the photo a profile keeps.
   */
  async photoMinimum(caller: ApiKey): Promise<{ width: number; height: number }> {
    let width = PHOTO_MIN_PX;
    let height = PHOTO_MIN_PX;
    for (const { published } of await this.templates.list(caller)) {
      for (const [key, input] of Object.entries(published?.manifest.rep ?? {})) {
        if (input.type !== 'image') continue;
        const min = imageMinimum(`rep.${key}`, input);
        width = Math.max(width, min.width);
        height = Math.max(height, min.height);
      }
    }
    return { width, height };
  }

  /**
   * What a template version would refuse of the caller's profile, by profile key (`licenseNumber`,
   * `photo`): details it requires that are missing, and values its rules refuse.
   */
  async refusals(caller: ApiKey, version: TemplateVersion): Promise<Problem[]> {
    const profile = await this.get(caller);
    const values = repValues(profile);
    if (profile.photoSha256) values.photo = `profile:${profile.photoSha256}`;
    return this.refused(version, values);
  }

  /** A template's refusals of profile values, by profile key, in the profile's own words. */
  private async refused(version: TemplateVersion, values: Record<string, string>): Promise<Problem[]> {
    // Only the details the template prints: it refuses the others as not its inputs.
    const printed = Object.fromEntries(Object.entries(values).filter(([key]) => key in version.manifest.rep));
    return repProblems(await this.templates.compiled(version), printed).map((problem) => {
      const key = problem.path.split('.')[1] ?? '';
      // The record schema leads a pattern's words with the template's label; the profile has its own.
      const label = version.manifest.rep[key]?.label;
      const message =
        label && problem.message.startsWith(`${label}: `)
          ? problem.message.slice(label.length + 2)
          : problem.message;
      return { path: key, rule: problem.rule, message };
    });
  }

  /**
   * Updates a profile (the caller's own, or a rep's by id), with a new photo if one is given (the path
   * of the uploaded file): the photo is normalized (raster only, oriented, metadata stripped) before
   * it is stored. An update that carries nothing is refused, so that a success always means something
   * was applied; so is a value or a photo a published template would refuse, so that saving a profile
   * never blocks the pieces it prints.
   */
  async update(
    caller: ApiKey,
    repId: string | undefined,
    update: ProfileUpdate,
    photo?: string,
  ): Promise<RepProfile> {
    const id = this.whose(caller, repId);
    if (photo === undefined && Object.values(update).every((value) => value === undefined)) {
      throw new PlatenError('invalid_request', [
        {
          path: '',
          rule: 'nothing_to_update',
          message: `nothing to update: send at least one of ${Object.keys(profileUpdateSchema.shape).join(', ')} or a photo`,
        },
      ]);
    }
    const problems = await this.templateProblems(caller, update);
    let normalized;
    if (photo !== undefined) {
      try {
        normalized = await normalizePhoto(await readFile(photo));
      } catch (error) {
        problems.push({ path: 'photo', rule: 'image', message: (error as Error).message });
      }
      const min = await this.photoMinimum(caller);
      if (normalized && (normalized.width < min.width || normalized.height < min.height)) {
        problems.push({
          path: 'photo',
          rule: 'image_too_small',
          message: `the photo is ${normalized.width} × ${normalized.height} pixels; it needs at least ${min.width} × ${min.height}`,
        });
      }
    }
    if (problems.length > 0) throw new PlatenError('invalid_profile', problems);
    const photoSha256 = normalized ? await this.store.blobs.put(normalized.bytes) : undefined;
    return this.store.reps.update(id, { ...update, ...(photoSha256 ? { photoSha256 } : {}) });
  }

  /**
   * What the published templates would refuse of the values an update sets, by profile key: their
   * rules for the details (a pattern, a length), each said once. Values cleared are not refused here:
   * a template missing a detail sends its rep to the profile before they fill its form.
   */
  private async templateProblems(caller: ApiKey, update: ProfileUpdate): Promise<Problem[]> {
    const values = Object.fromEntries(
      Object.entries(update).filter(
        (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
      ),
    );
    const found = new Map<string, Problem>();
    for (const { published } of await this.templates.list(caller)) {
      if (!published) continue;
      for (const problem of await this.refused(published, values)) {
        if (values[problem.path] !== undefined && !found.has(problem.path)) found.set(problem.path, problem);
      }
    }
    return [...found.values()];
  }
}
