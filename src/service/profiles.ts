import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { normalizePhoto } from '../assets/photos.js';
import { NotFoundError, PlatenError } from '../errors.js';
import type { ApiKey, RepProfile, Store } from '../store/store.js';
import { PHONE } from '../template/record-schema.js';
import { authorize } from './policy.js';
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

/**
 * What a photo of this size means for the published templates: below a template's minimum its
 * renders will be refused; below 300 dpi at a photo box it prints soft. Either is a warning naming
 * the template, not a refusal: the photo may suit other templates.
 */
function photoWarnings(
  templates: { published: TemplateVersion | null }[],
  width: number,
  height: number,
): string[] {
  const warnings: string[] = [];
  for (const t of templates) {
    const manifest = t.published?.manifest;
    if (!manifest) continue;
    const input = manifest.rep.photo;
    if (input && (width < (input.minWidth ?? 0) || height < (input.minHeight ?? 0))) {
      warnings.push(
        `"${manifest.name}" needs a photo of at least ${input.minWidth ?? 1}×${input.minHeight ?? 1} px: its renders will be refused until a larger photo is uploaded`,
      );
    }
    for (const page of manifest.pages) {
      for (const el of page.elements) {
        if (el.type !== 'image' || el.input !== 'rep.photo') continue;
        const needW = Math.ceil((el.w / 72) * 300);
        const needH = Math.ceil((el.h / 72) * 300);
        if (width < needW || height < needH) {
          warnings.push(
            `the photo is ${width}×${height} px; "${manifest.name}" prints it ${Math.round(el.w)}×${Math.round(el.h)} pt, which needs ${needW}×${needH} px for 300 dpi`,
          );
        }
      }
    }
  }
  return warnings;
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
   * Updates a profile (the caller's own, or a rep's by id), with a new photo if one is given (the path
   * of the uploaded file): the photo is normalized (raster only, oriented, metadata stripped) before
   * it is stored. An update that carries nothing is refused, so that a success always means something
   * was applied.
   */
  async update(
    caller: ApiKey,
    repId: string | undefined,
    update: ProfileUpdate,
    photo?: string,
  ): Promise<{ profile: RepProfile; warnings: string[] }> {
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
    let warnings: string[] = [];
    let photoSha256: string | undefined;
    if (photo !== undefined) {
      let normalized;
      try {
        normalized = await normalizePhoto(await readFile(photo));
      } catch (error) {
        throw new PlatenError('invalid_photo', [
          { path: 'photo', rule: 'image', message: (error as Error).message },
        ]);
      }
      photoSha256 = await this.store.blobs.put(normalized.bytes);
      warnings = photoWarnings(await this.templates.list(caller), normalized.width, normalized.height);
    }
    const profile = await this.store.reps.update(id, { ...update, ...(photoSha256 ? { photoSha256 } : {}) });
    return { profile, warnings };
  }
}
