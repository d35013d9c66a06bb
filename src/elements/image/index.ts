import { z } from 'zod';
import type { PreparedImage } from '../../assets/images.js';
import type { Box } from '../../model/geometry.js';
import { assetPathSchema, imageMinimum, templateText } from '../../model/manifest.js';
import { type Condition, recordPathSchema } from '../../model/condition.js';
import { num } from '../../pdf/syntax.js';
import type { TextFn } from '../../model/record.js';
import { boxShape, BOX_PROPERTIES, hasMustache } from '../common.js';
import type { ElementKind, RecordContext } from '../kind.js';

const FIT = ['cover', 'contain'] as const;

const schema = z.strictObject({
  ...boxShape,
  type: z.literal('image'),
  src: templateText
    .refine(
      (p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').includes('..'),
      'must be a relative path inside the template package',
    )
    .optional()
    .describe('A package asset; may choose by data: `assets/industry/{{prospect.industry}}.jpg`.'),
  input: recordPathSchema.optional().describe('An image input of the record: `rep.photo` or `fields.photo`.'),
  fallback: assetPathSchema
    .optional()
    .describe('Package asset used when the chosen image does not exist or the input is empty.'),
  fit: z.enum(FIT).default('contain').describe('`cover` fills the box (cropped); `contain` shows all of it.'),
});

export interface ImageItem {
  kind: 'image';
  name: string;
  box: Box;
  fit: (typeof FIT)[number];
  image: PreparedImage;
  /** Left RGB in a CMYK document (manifest `keepRgb`). */
  keepRgb?: boolean;
}

export interface CompiledImage {
  kind: 'image';
  name: string;
  box: Box;
  when?: Condition;
  fit: ImageItem['fit'];
  /** Package asset chosen by a (possibly data-dependent) path, or a record input. */
  source: { kind: 'asset'; render: TextFn } | { kind: 'input'; path: string };
  fallback?: PreparedImage;
  keepRgb?: boolean;
}

/** A photo or raster art: a package file (chosen by data, perhaps) or an image the record brings. */
export const image: ElementKind<typeof schema, CompiledImage, ImageItem> = {
  type: 'image',
  schema,
  editor: {
    label: 'Image',
    summary:
      '`src` (a package file, may be chosen by data: `images/products/{{prospect.productLine}}.jpg`) or `input` (an image input such as `rep.photo`), `fallback`, `fit` (`cover`, `contain`); JPEG and PNG, kept at 600 ppi at most (see limits below)',
    properties: [
      ...BOX_PROPERTIES,
      { key: 'src', label: 'Image file', group: 'Image', control: 'template', bindable: true },
      { key: 'input', label: 'Image input', group: 'Image', control: 'input', bindable: true },
      { key: 'fallback', label: 'Fallback image', group: 'Image', control: 'asset' },
      { key: 'fit', label: 'Fit', group: 'Image', control: 'choice', choices: FIT },
    ],
  },
  tagRole: 'Figure',
  check: (def, manifest) => {
    if ((def.src === undefined) === (def.input === undefined))
      manifest.issue('', 'an image element needs exactly one of src or input');
  },
  place: async (def, compile) => {
    const placement = { w: def.w, h: def.h, fit: def.fit };
    if (def.fallback !== undefined) compile.place(def.fallback, placement);
    if (def.src !== undefined) {
      for (const rel of hasMustache(def.src) ? await compile.candidates(def.src) : [def.src])
        compile.place(rel, placement);
    }
    if (def.input !== undefined)
      for (const rel of compile.sampleValues(def.input)) compile.place(rel, placement);
  },
  compile: async (def, compile) => {
    const { path, base } = compile;
    const fallback = def.fallback ? await compile.image(def.fallback, `${path}.fallback`) : undefined;
    const common = { kind: 'image' as const, ...base, fit: def.fit };
    const keepRgb = def.keepRgb ? { keepRgb: true } : {};
    if (def.input !== undefined) {
      if (compile.input(def.input)?.type !== 'image')
        compile.problem(`${path}.input`, 'undeclared', `"${def.input}" is not a declared image input`);
      return { ...common, source: { kind: 'input', path: def.input }, fallback, ...keepRgb };
    }
    const src = def.src!;
    const compiled = compile.text(src, `${path}.src`);
    if (!compiled) return null;
    if (hasMustache(src)) await compile.candidates(src, `${path}.src`, def.fallback !== undefined);
    else await compile.image(src, `${path}.src`);
    return { ...common, source: { kind: 'asset', render: compiled.render }, fallback, ...keepRgb };
  },
  staticItem: (el, def, compile) => {
    if (def.src === undefined || hasMustache(def.src)) return null;
    const prepared = compile.asset(def.src);
    return prepared ? itemOf(el, prepared) : null;
  },
  merge: (el, record) => {
    const prepared = resolve(el, record);
    return prepared ? itemOf(el, prepared) : null;
  },
  draw: (item, painter) => {
    const { name, width, height } = painter.image(item.image, item.keepRgb === true);
    const { box } = item;
    const scale =
      item.fit === 'cover'
        ? Math.max(box.w / width, box.h / height)
        : Math.min(box.w / width, box.h / height);
    const w = width * scale;
    const h = height * scale;
    const x = box.x + (box.w - w) / 2;
    const y = box.y + (box.h - h) / 2;
    const clip =
      item.fit === 'cover' ? `${num(box.x)} ${num(box.y)} ${num(box.w)} ${num(box.h)} re W n\n` : '';
    painter.write(`q\n${clip}${num(w)} 0 0 ${num(-h)} ${num(x)} ${num(y + h)} cm\n/${name} Do\nQ`);
  },
  images: (item) => [item],
  preflight: (item, preflight) => {
    const { image: prepared, box } = item;
    const scale = (item.fit === 'cover' ? Math.max : Math.min)(
      box.w / prepared.width,
      box.h / prepared.height,
    );
    return preflight.resolution(72 / scale, `the image (${prepared.width}×${prepared.height} px)`);
  },
  rgb: (item) => item.keepRgb === true,
};

function itemOf(el: CompiledImage, prepared: PreparedImage): ImageItem {
  return {
    kind: 'image',
    name: el.name,
    box: el.box,
    fit: el.fit,
    image: prepared,
    ...(el.keepRgb ? { keepRgb: true } : {}),
  };
}

/** The image a record shows: its input's, the template's (chosen by data), or the fallback. */
function resolve(el: CompiledImage, record: RecordContext): PreparedImage | undefined {
  if (el.source.kind === 'input') {
    const path = el.source.path;
    const [scope, key] = path.split('.') as ['rep' | 'prospect' | 'fields', string];
    const ref = record.record[scope][key];
    if (typeof ref !== 'string' || ref === '') return el.fallback;
    const found = record.recordImage(ref);
    if (!found) {
      record.problem({ path, rule: 'missing_image', message: `image not found: ${ref}` });
      return undefined;
    }
    const min = imageMinimum(path, record.input(path)!);
    if (found.width < min.width || found.height < min.height) {
      record.problem({
        path,
        rule: 'image_too_small',
        message: `the image is ${found.width}×${found.height} px; at least ${min.width}×${min.height} px is required`,
      });
    }
    record.usedImage(path, found);
    return found;
  }
  const path = el.source.render(record.values);
  const found = record.asset(path) ?? el.fallback;
  if (!found)
    record.problem({
      path: `elements.${el.name}`,
      rule: 'missing_image',
      message: `no image ${path} in the template`,
    });
  return found;
}
