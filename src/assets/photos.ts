import sharp from 'sharp';
import { MAX_IMAGE_PIXELS } from './images.js';

/** Longest side kept: a 6 in wide photo at 300 dpi. */
const MAX_SIDE = 1800;
const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp']);

/**
 * Normalizes an uploaded photo for print: raster formats only (an SVG could make librsvg read local
 * files), at most MAX_IMAGE_PIXELS (refused before decoding: decompression bombs), every pixel decoded
 * (a truncated file is refused), oriented by its EXIF tag, converted to sRGB, scaled down to at most
 * 1800 px, re-encoded as JPEG with all metadata (GPS, camera, thumbnails) stripped.
 */
export async function normalizePhoto(
  bytes: Buffer,
): Promise<{ bytes: Buffer; width: number; height: number }> {
  const input = () => sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'truncated' });
  let format: string | undefined;
  try {
    format = (await input().metadata()).format;
  } catch (error) {
    if (/pixel limit/i.test((error as Error).message)) {
      throw new Error(`larger than ${MAX_IMAGE_PIXELS / 1_000_000} megapixels: scale the photo down first`, {
        cause: error,
      });
    }
    throw new Error('not a readable image', { cause: error });
  }
  if (!format || !RASTER_FORMATS.has(format)) {
    throw new Error(`${format ?? 'this'} images are not accepted: upload a JPEG, PNG or WebP photo`);
  }
  const { data, info } = await input()
    .autoOrient()
    .toColourspace('srgb')
    .flatten({ background: '#ffffff' })
    .resize(MAX_SIDE, MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 90 })
    .toBuffer({ resolveWithObject: true })
    .catch((error: Error) => {
      // Reps see this: the decoder's own words would not help them.
      throw new Error('the photo is truncated or damaged: save it again, then upload it', { cause: error });
    });
  return { bytes: data, width: info.width, height: info.height };
}
