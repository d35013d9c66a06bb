import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { deflate, deflateSync, inflateSync } from 'node:zlib';
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

/** How a package image is placed: a box in points, and how the image fits it. */
export interface Placement {
  w: number;
  h: number;
  fit: 'cover' | 'contain';
}

/**
 * Resolution a package image is kept at, at the largest size it is placed: twice what press needs
 * (300 ppi), so nothing a printer would see is lost; anything finer is scaled down when the template
 * compiles, once, instead of being decoded and embedded at full size in every document.
 */
export const PRINT_PPI = 600;

/**
 * Most pixels an image may have, checked on its header before anything is decoded: a full-bleed
 * Letter page at 600 ppi is 35 megapixels. Beyond this an image is refused, not scaled.
 */
export const MAX_IMAGE_PIXELS = 50_000_000;

/** Images decoded at once, whoever asks: each holds its decoded pixels until it is compressed. */
const MAX_PREPARING = 2;

const deflateAsync = promisify(deflate);

/**
 * Prepares image bytes (JPEG or PNG; anything else is rejected). Buffers only: sharp given an SVG
 * file path would load files beside it (PDF-NOTES.md), so SVG and other formats never reach it.
 * An image placed larger than it prints at PRINT_PPI is scaled down to that (`placements`: every box
 * it is drawn in). `verify` decodes every pixel even of a JPEG that is passed through as it is, so a
 * truncated or damaged file is refused when a package is checked rather than printed as a blank area.
 * The work runs in sharp's and zlib's threads, a few images at a time, never on the event loop.
 */
export function prepareImage(
  bytes: Buffer,
  options: { placements?: readonly Placement[]; verify?: boolean } = {},
): Promise<PreparedImage> {
  return inTurn(() => prepare(bytes, options.placements ?? [], options.verify ?? false));
}

async function prepare(
  bytes: Buffer,
  placements: readonly Placement[],
  verify: boolean,
): Promise<PreparedImage> {
  // failOn 'warning': a truncated or damaged file fails rather than decoding to grey.
  const input = () => sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'warning' });
  // The header alone, so that an image over the limit is refused with its size.
  const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  if (meta.format !== 'jpeg' && meta.format !== 'png') {
    throw new Error(`unsupported image format ${meta.format ?? 'unknown'}: use JPEG or PNG`);
  }
  if (meta.width * meta.height > MAX_IMAGE_PIXELS) {
    throw new Error(
      `${meta.width} × ${meta.height} pixels is more than the limit of ${MAX_IMAGE_PIXELS / 1_000_000} megapixels: scale it down to at most ${PRINT_PPI} ppi at the size it prints`,
    );
  }
  const needsRotation = (meta.orientation ?? 1) > 1;
  const [width, height] =
    (meta.orientation ?? 1) >= 5 ? [meta.height, meta.width] : [meta.width, meta.height];
  const resize = printWidth(width, height, placements);
  try {
    const shaped = () => {
      const image = input().autoOrient();
      return resize === undefined ? image : image.resize({ width: resize });
    };
    const isPlainJpeg =
      meta.format === 'jpeg' &&
      !needsRotation &&
      resize === undefined &&
      (meta.space === 'srgb' || meta.space === 'b-w') &&
      !meta.hasAlpha;
    if (isPlainJpeg) {
      if (verify) await decodeEveryPixel(bytes, meta.width);
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
      // Sideways, CMYK or oversized JPEG: orient, convert to sRGB and scale once, keep it a JPEG.
      const { data, info } = await shaped().toColourspace('srgb').jpeg({ quality: 92 }).toBuffer({
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
    const decoded = await shaped().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const { width: w, height: h, channels } = decoded.info;
    const hasAlpha = channels === 2 || channels === 4;
    const pixels = () => sharp(decoded.data, { raw: { width: w, height: h, channels } });
    const color = hasAlpha ? await pixels().removeAlpha().raw().toBuffer() : decoded.data;
    const opaque = !hasAlpha || (await pixels().stats()).isOpaque;
    const alpha = opaque
      ? undefined
      : await pixels()
          .extractChannel(channels === 2 ? 1 : 3)
          .raw()
          .toBuffer();
    return finishImage({
      width: w,
      height: h,
      colorSpace: channels - (hasAlpha ? 1 : 0) === 1 ? 'DeviceGray' : 'DeviceRGB',
      filter: 'FlateDecode',
      data: await deflateAsync(color),
      ...(alpha ? { alpha: await deflateAsync(alpha) } : {}),
    });
  } catch (error) {
    throw damaged(error as Error);
  }
}

/**
 * Decodes every pixel of an image, keeping an eighth of its width: a truncated or damaged file fails
 * (failOn), in bounded memory (a JPEG shrinks as it loads). Not sharp's stats(): measured with images
 * decoded concurrently, it missed about one truncated file in six.
 */
export async function decodeEveryPixel(bytes: Buffer, width: number): Promise<void> {
  await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'warning' })
    .resize({ width: Math.max(1, Math.ceil(width / 8)) })
    .raw()
    .toBuffer();
}

/** A decoding failure in words; sharp's own message says what the decoder met. */
export function damaged(error: Error): Error {
  const reason = error.message.replace(/^Warning treated as error due to failOn setting: /, '');
  return new Error(`the file is truncated or damaged (${reason})`, { cause: error });
}

/**
 * The width (in pixels) an image of `width` × `height` needs to print at PRINT_PPI in the largest
 * of its placements, or undefined when it has no more pixels than that (or no known placement).
 */
export function printWidth(
  width: number,
  height: number,
  placements: readonly Placement[],
): number | undefined {
  let needed = 0;
  for (const { w, h, fit } of placements) {
    // Points per pixel, as the draw step scales the image into its box.
    const scale = fit === 'cover' ? Math.max(w / width, h / height) : Math.min(w / width, h / height);
    needed = Math.max(needed, Math.ceil(((width * scale) / 72) * PRINT_PPI));
  }
  return needed > 0 && needed < width ? needed : undefined;
}

let preparing = 0;
const waiting: (() => void)[] = [];

/** Runs `work` when fewer than MAX_PREPARING images are being prepared. */
async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  if (preparing >= MAX_PREPARING) await new Promise<void>((resolve) => waiting.push(resolve));
  else preparing += 1;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    // A waiter inherits this slot; otherwise the slot is freed.
    if (next) next();
    else preparing -= 1;
  }
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

const opaqueVariants = new WeakMap<PreparedImage, Promise<PreparedImage>>();

/**
 * An image with its transparency flattened onto white paper, for PDF/A-1, which has no soft masks
 * (ISO 19005-1, 6.4); the image itself when it is opaque. Computed once per image and kept as long
 * as the image is.
 */
export function opaqueImage(image: PreparedImage): Promise<PreparedImage> {
  let variant = opaqueVariants.get(image);
  if (!variant) {
    variant = image.alpha ? flattenOntoWhite(image, image.alpha) : Promise.resolve(image);
    opaqueVariants.set(image, variant);
  }
  return variant;
}

async function flattenOntoWhite(image: PreparedImage, deflatedAlpha: Buffer): Promise<PreparedImage> {
  // Only a PNG's pixels have an alpha channel, and those are kept deflated (prepareImage).
  const color = inflateSync(image.data);
  const alpha = inflateSync(deflatedAlpha);
  const channels = image.colorSpace === 'DeviceGray' ? 1 : 3;
  for (let pixel = 0; pixel < alpha.length; pixel++) {
    const paper = 255 - alpha[pixel]!;
    for (let c = pixel * channels; c < (pixel + 1) * channels; c++)
      color[c] = Math.round((color[c]! * alpha[pixel]!) / 255 + paper);
  }
  const { alpha: _, ...opaque } = image;
  return finishImage({ ...opaque, data: await deflateAsync(color) });
}
