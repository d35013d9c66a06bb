import { createHash } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import sharp from 'sharp';

/**
 * An image made ready for PDF embedding once, when it is loaded: pixels oriented, colour space
 * settled, bytes already compressed. Embedding it in a document is then a byte copy, so a document
 * per record pays nothing for its logo (pdfkit would re-split a PNG's alpha channel every time).
 */
export interface PreparedImage {
  /** SHA-256 of the prepared bytes: identity for caching and for tracing a PDF to its inputs. */
  sha256: string;
  width: number;
  height: number;
  colorSpace: 'DeviceRGB' | 'DeviceGray' | 'DeviceCMYK';
  filter: 'DCTDecode' | 'FlateDecode';
  /** The image's Decode array, when its samples are not stored the PDF's default way round. */
  decode?: number[];
  data: Buffer;
  /** Deflated 8-bit alpha channel, when the image has transparency. */
  alpha?: Buffer;
}

/** Largest image we will decode: a 12,000 × 12,000 photo is already far beyond any print need. */
const MAX_INPUT_PIXELS = 12_000 * 12_000;

/**
 * Prepares image bytes (JPEG or PNG; anything else is rejected). Buffers only: sharp given an SVG
 * file path would load files beside it (PDF-NOTES.md), so SVG and other formats never reach it.
 */
export async function prepareImage(bytes: Buffer): Promise<PreparedImage> {
  const input = () => sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'truncated' });
  const meta = await input().metadata();
  if (meta.format !== 'jpeg' && meta.format !== 'png') {
    throw new Error(`unsupported image format ${meta.format ?? 'unknown'}: use JPEG or PNG`);
  }
  const needsRotation = (meta.orientation ?? 1) > 1;
  const isPlainJpeg =
    meta.format === 'jpeg' &&
    !needsRotation &&
    (meta.space === 'srgb' || meta.space === 'b-w') &&
    !meta.hasAlpha;
  if (isPlainJpeg) {
    // JPEG passes through untouched: no generation loss, smallest file.
    return finishImage({
      width: meta.width,
      height: meta.height,
      colorSpace: meta.channels === 1 ? 'DeviceGray' : 'DeviceRGB',
      filter: 'DCTDecode',
      data: bytes,
    });
  }
  if (meta.format === 'jpeg') {
    // Sideways or CMYK JPEG: orient and convert to sRGB once, keep it a JPEG.
    const { data, info } = await input().autoOrient().toColourspace('srgb').jpeg({ quality: 92 }).toBuffer({
      resolveWithObject: true,
    });
    return finishImage({
      width: info.width,
      height: info.height,
      colorSpace: 'DeviceRGB',
      filter: 'DCTDecode',
      data,
    });
  }
  const { data, info } = await input()
    .autoOrient()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const hasAlpha = channels === 2 || channels === 4;
  const colorChannels = hasAlpha ? channels - 1 : channels;
  const pixels = width * height;
  const color = Buffer.allocUnsafe(pixels * colorChannels);
  const alpha = hasAlpha ? Buffer.allocUnsafe(pixels) : undefined;
  let opaque = true;
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < colorChannels; c++) color[i * colorChannels + c] = data[i * channels + c]!;
    if (alpha) {
      const a = data[i * channels + colorChannels]!;
      alpha[i] = a;
      if (a !== 255) opaque = false;
    }
  }
  return finishImage({
    width,
    height,
    colorSpace: colorChannels === 1 ? 'DeviceGray' : 'DeviceRGB',
    filter: 'FlateDecode',
    data: deflateSync(color),
    alpha: alpha && !opaque ? deflateSync(alpha) : undefined,
  });
}

export function finishImage(image: Omit<PreparedImage, 'sha256'>): PreparedImage {
  const hash = createHash('sha256').update(image.data);
  if (image.alpha) hash.update(image.alpha);
  return { ...image, sha256: hash.digest('hex') };
}

/** Longest side of an image in a screen preview: sharper than any preview needs, far cheaper to decode. */
const SCREEN_MAX_SIDE = 1000;
const screenVariants = new WeakMap<PreparedImage, Promise<PreparedImage>>();

/**
 * A smaller copy of an image for on-screen previews (decoding full print resolution is most of a
 * preview's cost); computed once per image and kept as long as the image is.
 */
export function screenImage(image: PreparedImage): Promise<PreparedImage> {
  let variant = screenVariants.get(image);
  if (!variant) {
    variant =
      image.width <= SCREEN_MAX_SIDE && image.height <= SCREEN_MAX_SIDE
        ? Promise.resolve(image)
        : downscale(image);
    screenVariants.set(image, variant);
  }
  return variant;
}

async function downscale(image: PreparedImage): Promise<PreparedImage> {
  const fit = { width: SCREEN_MAX_SIDE, height: SCREEN_MAX_SIDE, fit: 'inside' } as const;
  if (image.filter === 'DCTDecode') {
    const { data, info } = await sharp(image.data)
      .resize(fit)
      .jpeg({ quality: 85 })
      .toBuffer({ resolveWithObject: true });
    return finishImage({ ...image, width: info.width, height: info.height, data });
  }
  const colorChannels = image.colorSpace === 'DeviceGray' ? 1 : 3;
  const resize = async (pixels: Buffer, channels: 1 | 3) => {
    const raw = { width: image.width, height: image.height, channels };
    return sharp(pixels, { raw }).resize(fit).raw().toBuffer({ resolveWithObject: true });
  };
  const color = await resize(inflateSync(image.data), colorChannels as 1 | 3);
  const alpha = image.alpha ? await resize(inflateSync(image.alpha), 1) : undefined;
  return finishImage({
    ...image,
    width: color.info.width,
    height: color.info.height,
    data: deflateSync(color.data),
    alpha: alpha ? deflateSync(alpha.data) : undefined,
  });
}
