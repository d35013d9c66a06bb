/** Images made with sharp for tests: small PNGs and JPEGs, photo-like ones, and pixels read back. */
import sharp from 'sharp';

/** A small single-colour PNG. */
export async function pngBytes(width = 16, height = 16): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#2A7F8E' } })
    .png()
    .toBuffer();
}

/** A noisy photo-like JPEG (noise does not compress: its data runs to the end of the file). */
export async function jpegBytes(width = 256, height = 256): Promise<Buffer> {
  const noise = { type: 'gaussian', mean: 128, sigma: 40 } as const;
  return sharp({ create: { width, height, channels: 3, background: '#808080', noise } })
    .jpeg()
    .toBuffer();
}

/** A photo-like JPEG (a gradient, so it is not trivially compressible) of `width` × `height` pixels. */
export async function gradientJpeg(
  width: number,
  height: number,
  options: { orientation?: number; gps?: boolean } = {},
): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = Math.round((x / width) * 255);
      raw[i + 1] = Math.round((y / height) * 255);
      raw[i + 2] = 128;
    }
  }
  let image = sharp(raw, { raw: { width, height, channels: 3 } });
  if (options.orientation !== undefined || options.gps) {
    image = image.withMetadata({
      ...(options.orientation !== undefined ? { orientation: options.orientation } : {}),
    });
  }
  if (options.gps) {
    image = image.withExif({
      IFD0: { Make: 'PlatenTestCam', Model: 'T-1' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '43/1 39/1 0/1',
        GPSLongitudeRef: 'W',
        GPSLongitude: '70/1 15/1 0/1',
      },
    });
  }
  return image.jpeg({ quality: 90 }).toBuffer();
}

/** A single-colour PNG (tiny file, any pixel count: the decompression-bomb shape). */
export function solidPng(
  width: number,
  height: number,
  background: { r: number; g: number; b: number; alpha: number } = { r: 200, g: 30, b: 30, alpha: 1 },
): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background } })
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/**
 * A PNG whose left half is fully transparent and right half opaque blue: after flattening onto
 * white, the left half must be white and the right half blue.
 */
export function halfTransparentPng(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const opaque = x >= width / 2;
      raw[i] = opaque ? 20 : 0;
      raw[i + 1] = opaque ? 40 : 0;
      raw[i + 2] = opaque ? 220 : 0;
      raw[i + 3] = opaque ? 255 : 0;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

/** The RGB value of one pixel of an image. */
export async function pixelAt(image: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i] ?? -1, data[i + 1] ?? -1, data[i + 2] ?? -1];
}
