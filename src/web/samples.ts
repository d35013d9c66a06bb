import type { Services } from '../api/services.js';
import type { ApiKey } from '../store/keys.js';

/** Scales the pages show sample pages at: gallery thumbnails and marketing's full previews. */
export const SAMPLE_SCALES = { thumb: 0.5, page: 1 } as const;
export type SampleSize = keyof typeof SAMPLE_SCALES;

/** Rendered sample pages kept in memory; a version's pages never change, so they never go stale. */
const CACHED = 96;

/**
 * Pages of a template version rendered from its samples, through the same preview service as the
 * API, cached by version, sample, page and size.
 */
export class SamplePages {
  private readonly cache = new Map<string, Promise<Buffer>>();

  constructor(private readonly s: Services) {}

  /** The caller must be allowed to see the version: reps only published ones (resolve checks). */
  png(
    caller: ApiKey,
    templateId: string,
    version: number,
    sample: number,
    page: number,
    size: SampleSize,
    signal: AbortSignal,
  ): Promise<Buffer> {
    this.s.templates.resolve(templateId, version, caller.role);
    const key = `${templateId}@${version}/${sample}/${page}/${size}`;
    let png = this.cache.get(key);
    if (!png) {
      png = this.s.gate
        .run(signal, () =>
          this.s.renders.preview(
            caller,
            { templateId, version, prospect: {}, fields: {}, sample },
            page,
            SAMPLE_SCALES[size],
          ),
        )
        .then((preview) => preview.png);
      png.catch(() => this.cache.delete(key));
      this.cache.set(key, png);
      if (this.cache.size > CACHED) this.cache.delete(this.cache.keys().next().value!);
    }
    return png;
  }
}
