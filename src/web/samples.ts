import type { Services } from '../api/services.js';
import type { ApiKey } from '../service/policy.js';

/** Scales the pages show sample pages at: gallery thumbnails and marketing's full previews. */
export const SAMPLE_SCALES = { thumb: 0.5, page: 1 } as const;
export type SampleSize = keyof typeof SAMPLE_SCALES;

/** Rendered sample pages kept in memory; a version's pages never change, so they never go stale. */
const CACHED = 96;

/** One sample page's render, shared by every request that asks for it while it is made and after. */
interface Entry {
  png: Promise<Buffer>;
  /** Requests still waiting for the render: when the last of them leaves, it is abandoned. */
  waiting: number;
  abandon: AbortController;
}

/**
 * Pages of a template version rendered from its samples, through the same preview service as the
 * API, cached by version, sample, page and size.
 */
export class SamplePages {
  private readonly cache = new Map<string, Entry>();

  constructor(private readonly s: Services) {}

  /**
   * The caller must be allowed to see the version: reps only published ones (resolve checks). A
   * request whose signal aborts stops waiting at once; the render stops when no request waits for it.
   */
  async png(
    caller: ApiKey,
    templateId: string,
    version: number,
    sample: number,
    page: number,
    size: SampleSize,
    signal: AbortSignal,
  ): Promise<Buffer> {
    await this.s.templates.resolve(templateId, version, caller);
    const key = `${templateId}@${version}/${sample}/${page}/${size}`;
    let entry = this.cache.get(key);
    if (!entry) {
      const abandon = new AbortController();
      const png = this.s.gate
        .run(abandon.signal, () =>
          this.s.renders.preview(
            caller,
            { templateId, version, prospect: {}, fields: {}, sample },
            page,
            SAMPLE_SCALES[size],
            abandon.signal,
          ),
        )
        .then((preview) => preview.png);
      const made: Entry = { png, waiting: 0, abandon };
      png.catch(() => {
        if (this.cache.get(key) === made) this.cache.delete(key);
      });
      this.cache.set(key, made);
      if (this.cache.size > CACHED) this.cache.delete(this.cache.keys().next().value!);
      entry = made;
    }
    return this.wait(key, entry, signal);
  }

  /** The entry's PNG for one request, which stops waiting when its signal aborts. */
  private wait(key: string, entry: Entry, signal: AbortSignal): Promise<Buffer> {
    signal.throwIfAborted();
    entry.waiting += 1;
    return new Promise<Buffer>((resolve, reject) => {
      const leave = () => {
        if (--entry.waiting === 0) {
          // An abandoned render is no longer the one a new request for this page waits for.
          if (this.cache.get(key) === entry) this.cache.delete(key);
          entry.abandon.abort(signal.reason);
        }
        reject(signal.reason);
      };
      signal.addEventListener('abort', leave, { once: true });
      entry.png
        .finally(() => {
          signal.removeEventListener('abort', leave);
          if (!signal.aborted) entry.waiting -= 1;
        })
        .then(resolve, reject);
    });
  }
}
