import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { finishImage, type PreparedImage } from './images.js';

/**
 * Colour management for CMYK documents: one output condition (the profile shipped in assets/color,
 * see assets/README.md), used for flat colours, images and the PDF's output intent alike, so what
 * the press is told matches what was converted.
 */
export const OUTPUT_CONDITION = {
  /** The characterization the profile was built from (Fogra's data set, registered at color.org). */
  identifier: 'FOGRA39',
  registry: 'http://www.color.org',
  info: 'Coated offset, ISO 12647-2:2004/Amd 1, paper type 1/2 (Platen FOGRA39L profile, TAC 300%)',
  profileFile: fileURLToPath(new URL('../../assets/color/PlatenFOGRA39L.icc', import.meta.url)),
} as const;

let profileBytes: Buffer | null = null;

/** The ICC profile's bytes, read once per process. */
export function outputProfile(): Buffer {
  profileBytes ??= readFileSync(OUTPUT_CONDITION.profileFile);
  return profileBytes;
}

/** RGB → CMYK through sRGB and the output profile; channel data 0..255 in, 0..255 out. */
function toCmykPixels(rgb: Buffer, width: number, height: number) {
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .withIccProfile(OUTPUT_CONDITION.profileFile, { attach: false })
    .toColourspace('cmyk')
    .raw()
    .toBuffer();
}

/** Grid points per RGB axis of the conversion table: 17 is what colour engines use for 8-bit. */
const GRID = 17;
let lut: Uint8Array | null = null;

/**
 * Loads the RGB → CMYK table (one sharp call, a few ms); rgbToCmyk needs it. Compile calls this
 * for CMYK templates, so drawing never waits for it.
 */
export async function loadColorTable(): Promise<void> {
  if (lut) return;
  const rgb = Buffer.alloc(GRID ** 3 * 3);
  let i = 0;
  for (let r = 0; r < GRID; r++)
    for (let g = 0; g < GRID; g++)
      for (let b = 0; b < GRID; b++) {
        rgb[i++] = Math.round((r * 255) / (GRID - 1));
        rgb[i++] = Math.round((g * 255) / (GRID - 1));
        rgb[i++] = Math.round((b * 255) / (GRID - 1));
      }
  lut = new Uint8Array(await toCmykPixels(rgb, GRID ** 3, 1));
}

/**
 * A flat RGB colour (components 0..1) as CMYK (0..1), interpolated in the profile's table. Greys go
 * to black ink only: a four-colour grey on small text would show every plate's misregistration.
 */
export function rgbToCmyk([r, g, b]: readonly number[]): [number, number, number, number] {
  if (r === g && g === b) return [0, 0, 0, round4(1 - r!)];
  if (!lut) throw new Error('colour table not loaded: call loadColorTable() first');
  const table = lut;
  const pos = [r!, g!, b!].map((v) => Math.min(Math.max(v, 0), 1) * (GRID - 1));
  const lo = pos.map((p) => Math.min(Math.floor(p), GRID - 2));
  const frac = pos.map((p, k) => p - lo[k]!);
  const out = [0, 0, 0, 0];
  // Trilinear interpolation over the 8 corners of the cell.
  for (let corner = 0; corner < 8; corner++) {
    const d = [(corner >> 2) & 1, (corner >> 1) & 1, corner & 1];
    const weight = d.reduce((w, bit, k) => w * (bit ? frac[k]! : 1 - frac[k]!), 1);
    if (weight === 0) continue;
    const index = ((lo[0]! + d[0]!) * GRID * GRID + (lo[1]! + d[1]!) * GRID + (lo[2]! + d[2]!)) * 4;
    for (let c = 0; c < 4; c++) out[c]! += weight * table[index + c]!;
  }
  return out.map((v) => round4(v / 255)) as [number, number, number, number];
}

function round4(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}

/** CMYK copies of images, as they are converted and once they are ready. */
interface Copies {
  converted: WeakMap<PreparedImage, Promise<PreparedImage>>;
  ready: WeakMap<PreparedImage, PreparedImage>;
}
const copies = (): Copies => ({ converted: new WeakMap(), ready: new WeakMap() });
/** Copies that keep an image's alpha as its soft mask, and copies flattened onto the paper. */
const MASKED = copies();
const OPAQUE = copies();

/** Whether an image needs no CMYK copy: CMYK already, and opaque when an opaque one is asked for. */
function asItIs(image: PreparedImage, opaque: boolean): boolean {
  return image.colorSpace === 'DeviceCMYK' && !(opaque && image.alpha);
}

/**
 * The CMYK copy of an image (a CMYK JPEG, alpha kept as its soft mask), converted once per image and
 * kept as long as the image is: template art is converted when the template compiles, a record's
 * photo the first time a CMYK document draws it. `opaque` (PDF/X-1a, which allows no transparency)
 * flattens the image onto the paper, white, first.
 */
export function cmykImage(image: PreparedImage, opaque = false): Promise<PreparedImage> {
  const { converted, ready } = opaque ? OPAQUE : MASKED;
  let variant = converted.get(image);
  if (!variant) {
    variant = asItIs(image, opaque) ? Promise.resolve(image) : convertImage(image, opaque);
    void variant.then((v) => ready.set(image, v)).catch(() => undefined);
    converted.set(image, variant);
  }
  return variant;
}

/** The CMYK copy made by cmykImage, for the (synchronous) draw step; throws if it was not awaited. */
export function cmykImageReady(image: PreparedImage, opaque = false): PreparedImage {
  const variant = asItIs(image, opaque) ? image : (opaque ? OPAQUE : MASKED).ready.get(image);
  if (!variant) throw new Error(`image ${image.sha256.slice(0, 12)} has no CMYK copy yet`);
  return variant;
}

/**
 * An image with alpha composited onto white paper, as an opaque raw RGB or grey sharp input (PDF/X-1a
 * allows no soft mask). Only RGB and grey images carry alpha (PNG art and photos).
 */
async function flattened(image: PreparedImage): Promise<ReturnType<typeof sharp>> {
  if (image.colorSpace === 'DeviceCMYK')
    throw new Error('a CMYK image with transparency cannot be flattened');
  const channels = image.colorSpace === 'DeviceGray' ? 1 : 3;
  const data =
    image.filter === 'FlateDecode'
      ? inflateSync(image.data)
      : await sharp(image.data)
          .toColourspace(channels === 1 ? 'b-w' : 'srgb')
          .raw()
          .toBuffer();
  const alpha = inflateSync(image.alpha!);
  const out = Buffer.alloc(data.length);
  for (let p = 0; p < alpha.length; p++) {
    const a = alpha[p]! / 255;
    for (let c = 0; c < channels; c++) {
      const i = p * channels + c;
      out[i] = Math.round(data[i]! * a + 255 * (1 - a));
    }
  }
  return sharp(out, { raw: { width: image.width, height: image.height, channels } });
}

async function convertImage(image: PreparedImage, opaque: boolean): Promise<PreparedImage> {
  const flatten = opaque && image.alpha !== undefined;
  const input = flatten
    ? await flattened(image)
    : image.filter === 'DCTDecode'
      ? sharp(image.data)
      : sharp(inflateSync(image.data), {
          raw: {
            width: image.width,
            height: image.height,
            channels: image.colorSpace === 'DeviceGray' ? 1 : 3,
          },
        });
  const cmyk = input
    .toColourspace('srgb')
    .withIccProfile(OUTPUT_CONDITION.profileFile, { attach: false })
    .toColourspace('cmyk');
  const data = await cmyk.jpeg({ quality: 92, chromaSubsampling: '4:4:4' }).toBuffer();
  return finishImage({
    width: image.width,
    height: image.height,
    colorSpace: 'DeviceCMYK',
    filter: 'DCTDecode',
    data,
    // libjpeg writes CMYK JPEGs inverted, as Photoshop does (Adobe APP14 marker): say so to the reader.
    decode: [1, 0, 1, 0, 1, 0, 1, 0],
    ...(image.alpha && !flatten ? { alpha: image.alpha } : {}),
  });
}
