/**
 * Huge images (#15 item 12): a package image is kept at what print needs, 600 ppi at the largest
 * size it is placed (static art, each file a data-chosen path can name, fallbacks, sample images of
 * an image input), scaled down once when the template compiles; an image of more than 50 megapixels
 * is refused, naming the file and the limit, before it is decoded.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_IMAGE_PIXELS, PRINT_PPI } from '../../src/assets/images.js';
import type { ManifestInput } from '../../src/model/manifest.js';
import { validateTemplate } from '../../src/validate.js';
import { EL, el, elements, makePackage } from '../support/base-package.js';
import { TempDirs } from '../support/files.js';
import { expectProblems } from '../support/problems.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

/** The logo's box in the base package: 60 × 40 pt. */
const LOGO_BOX = { w: 60, h: 40 };

/** The resolution an image prints at, placed in a box as the draw step places it. */
function ppi(
  image: { width: number; height: number },
  box: { w: number; h: number },
  fit = 'contain',
): number {
  const scale =
    fit === 'cover'
      ? Math.max(box.w / image.width, box.h / image.height)
      : Math.min(box.w / image.width, box.h / image.height);
  return 72 / scale;
}

/** At PRINT_PPI: never less, and no more than the rounding to whole pixels adds. */
function expectPrintResolution(resolution: number): void {
  expect(resolution).toBeGreaterThanOrEqual(PRINT_PPI);
  expect(resolution).toBeLessThan(PRINT_PPI + 5);
}

/** Validates the base package, changed by `edit`, with `files` written into it. */
async function validate(edit: (m: ManifestInput) => void, files: Record<string, Buffer>) {
  const dir = await makePackage(temp, edit);
  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), bytes);
  }
  return validateTemplate(dir);
}

const png = (width: number, height: number): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 4, background: { r: 42, g: 127, b: 142, alpha: 0.8 } } })
    .png()
    .toBuffer();

const jpeg = (width: number, height: number): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: '#884422' } })
    .jpeg()
    .toBuffer();

let huge: Buffer;
beforeAll(async () => {
  // 7,100 × 7,100: just over the limit, and a 160 KB file (one colour).
  huge = await sharp({ create: { width: 7100, height: 7100, channels: 3, background: '#336699' } })
    .png({ compressionLevel: 9 })
    .toBuffer();
});

describe('an image over the pixel limit', () => {
  it('is refused, naming the file and the limit', async () => {
    const { problems } = await validate(() => {}, { 'images/logo.png': huge });
    expectProblems(problems, [
      {
        path: `${el(EL.logo)}.src`,
        rule: 'bad_image',
        message: `images/logo.png: 7100 × 7100 pixels is more than the limit of ${MAX_IMAGE_PIXELS / 1_000_000} megapixels`,
      },
    ]);
  });
});

describe.concurrent('an image finer than print needs is scaled to 600 ppi at its placed size', () => {
  it('a PNG in a contain box', async () => {
    const { compiled, problems } = await validate(() => {}, { 'images/logo.png': await png(3000, 2000) });
    expect(problems).toEqual([]);
    const image = compiled!.assets.get('images/logo.png')!;
    expect(image.width).toBeLessThan(3000);
    expectPrintResolution(ppi(image, LOGO_BOX));
    expect(image.alpha).toBeDefined();
  });

  it('a JPEG in a cover box, the larger of its two placements', async () => {
    const { compiled, problems } = await validate(
      (m) => {
        Object.assign(elements(m)[EL.logo]!, { src: 'images/photo.jpg', fit: 'cover' });
        elements(m).push({
          type: 'image',
          name: 'thumb',
          x: 100,
          y: 20,
          w: 20,
          h: 20,
          src: 'images/photo.jpg',
        });
      },
      { 'images/photo.jpg': await jpeg(4000, 2000) },
    );
    expect(problems).toEqual([]);
    const image = compiled!.assets.get('images/photo.jpg')!;
    expect(image.width).toBeLessThan(4000);
    expectPrintResolution(ppi(image, LOGO_BOX, 'cover'));
    expect(ppi(image, { w: 20, h: 20 })).toBeGreaterThan(PRINT_PPI);
    expect(image.filter).toBe('DCTDecode');
  });

  it('each file a data-chosen path can name, in the element’s box', async () => {
    const { compiled, problems } = await validate(
      (m) => {
        elements(m)[EL.logo]!.src = 'images/plans/{{fields.plan}}.jpg';
      },
      {
        'images/plans/basic.jpg': await jpeg(3000, 2000),
        'images/plans/plus.jpg': await jpeg(2000, 3000),
      },
    );
    expect(problems).toEqual([]);
    for (const name of ['images/plans/basic.jpg', 'images/plans/plus.jpg']) {
      const image = compiled!.assets.get(name)!;
      expect(image.width * image.height).toBeLessThan(3000 * 2000);
      expectPrintResolution(ppi(image, LOGO_BOX));
    }
  });

  it('a sample image of an image input, in the input’s element', async () => {
    const { compiled, problems } = await validate(
      (m) => {
        m.rep = { ...m.rep, photo: { type: 'image' } };
        elements(m).push({
          type: 'image',
          name: 'photo',
          x: 300,
          y: 20,
          w: 72,
          h: 72,
          input: 'rep.photo',
          fit: 'cover',
        });
        m.samples![0]!.record.rep!.photo = 'samples/agent.jpg';
      },
      { 'samples/agent.jpg': await jpeg(2400, 2400) },
    );
    expect(problems).toEqual([]);
    const image = compiled!.assets.get('samples/agent.jpg')!;
    expect(image.width).toBeLessThan(2400);
    expectPrintResolution(ppi(image, { w: 72, h: 72 }, 'cover'));
  });

  it('an image at or under 600 ppi is kept as it is (a JPEG byte for byte)', async () => {
    const photo = await jpeg(400, 300);
    const { compiled, problems } = await validate(
      (m) => {
        elements(m)[EL.logo]!.src = 'images/photo.jpg';
      },
      { 'images/photo.jpg': photo },
    );
    expect(problems).toEqual([]);
    expect(compiled!.assets.get('images/photo.jpg')!.data).toEqual(photo);
  });
});
