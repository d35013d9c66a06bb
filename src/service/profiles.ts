import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { normalizePhoto } from '../assets/photos.js';
import { PlatenError } from '../errors.js';
import type { RepProfile } from '../store/reps.js';
import type { Store } from '../store/store.js';
import { PHONE } from '../template/record-schema.js';

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
function photoWarnings(store: Store, width: number, height: number): string[] {
  const warnings: string[] = [];
  for (const t of store.templates.list()) {
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
 * Updates a rep's profile, with a new photo if one is given (the path of the uploaded file): the photo
 * is normalized (raster only, oriented, metadata stripped) before it is stored. An update that
 * carries nothing is refused, so that a success always means something was applied. Every face
 * updates profiles through here.
 */
export async function updateProfile(
  store: Store,
  id: string,
  update: ProfileUpdate,
  photo?: string,
): Promise<{ profile: RepProfile; warnings: string[] }> {
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
    const bytes = await readFile(photo);
    let normalized;
    try {
      normalized = await normalizePhoto(bytes);
    } catch (error) {
      throw new PlatenError('invalid_photo', [
        { path: 'photo', rule: 'image', message: (error as Error).message },
      ]);
    }
    photoSha256 = await store.blobs.put(normalized.bytes);
    warnings = photoWarnings(store, normalized.width, normalized.height);
  }
  const profile = store.reps.update(id, { ...update, ...(photoSha256 ? { photoSha256 } : {}) });
  return { profile, warnings };
}
