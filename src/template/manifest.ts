import { z } from 'zod';
import { prototypeKeys } from '../errors.js';
import { lengthSchema } from './units.js';

/**
 * The template manifest (`template.json`): the contract between marketing, who write it, and the
 * engine. Everything here is validated before anything is compiled; `npm run schema` writes the JSON
 * Schema of this file for editors.
 */

/** Names of fields, columns, fonts, colours and elements: plain identifiers, never prototype keys. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
export const keySchema = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9_]{0,63}$/,
    'expected an identifier (letters, digits, _; starting with a letter)',
  )
  .refine((key) => !FORBIDDEN_KEYS.has(key), 'reserved name');

/** A path inside the package: relative, forward slashes, no `..`, no absolute paths. */
export const assetPathSchema = z
  .string()
  .min(1)
  .max(300)
  .refine(
    (p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').includes('..') && !/^[A-Za-z]:/.test(p),
    'must be a relative path inside the template package',
  );

// ---------------------------------------------------------------------------------------------- page

/** Page presets, in their natural orientation (width × height, in points). */
export const PAGE_PRESETS = {
  letter: [612, 792],
  a4: [595.276, 841.89],
  'postcard-6x4': [432, 288],
  'postcard-6x9': [648, 432],
  'postcard-6x11': [792, 432],
  'envelope-10': [684, 297],
} as const satisfies Record<string, readonly [number, number]>;

const pageSizeSchema = z.union([
  z.enum(Object.keys(PAGE_PRESETS) as [keyof typeof PAGE_PRESETS, ...(keyof typeof PAGE_PRESETS)[]]),
  z.strictObject({ width: lengthSchema, height: lengthSchema }),
]);

const pageSetupSchema = z.strictObject({
  size: pageSizeSchema,
  orientation: z.enum(['portrait', 'landscape']).optional(),
  bleed: lengthSchema.default(0),
});

// -------------------------------------------------------------------------------------------- colour

const hexColor = z.string().regex(/^#[0-9A-Fa-f]{6}$/, 'expected #RRGGBB');
const percent = z.number().min(0).max(100);
const colorValueSchema = z.union([
  hexColor,
  z.strictObject({ cmyk: z.tuple([percent, percent, percent, percent]) }),
]);
/**
 * A spot colour (a named ink the press mixes): its ink name as the printer knows it, and the CMYK
 * mix that stands in for it on proofs and process-only presses. Declared in the palette only.
 */
const spotColorSchema = z.strictObject({
  spot: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[\x20-\x7E]+$/, 'expected printable ASCII, e.g. "PANTONE 2597 C"')
    .refine(
      (name) => !['All', 'None', 'Cyan', 'Magenta', 'Yellow', 'Black'].includes(name),
      'reserved ink name',
    ),
  cmyk: z.tuple([percent, percent, percent, percent]),
});
const paletteValueSchema = z.union([colorValueSchema, spotColorSchema]);
/** A colour where an element uses one: a palette name, a literal value, or a palette spot at a tint. */
const colorRefSchema = z.union([
  colorValueSchema,
  keySchema,
  z.strictObject({ name: keySchema, tint: z.number().gt(0).max(100) }),
]);

// --------------------------------------------------------------------------------------------- fonts

const fontFileSchema = assetPathSchema.refine(
  (p) => !/\.woff2$/i.test(p),
  'WOFF2 fonts are not supported (pdfkit draws them as invisible text): convert to TTF or OTF',
);
const fontFamilySchema = z.strictObject({
  regular: fontFileSchema,
  bold: fontFileSchema.optional(),
  italic: fontFileSchema.optional(),
  boldItalic: fontFileSchema.optional(),
});

// -------------------------------------------------------------------------------------------- inputs

export const INPUT_TYPES = [
  'text',
  'multiline',
  'email',
  'phone',
  'url',
  'choice',
  'boolean',
  'date',
  'image',
] as const;
export type InputType = (typeof INPUT_TYPES)[number];

/** Longest string any input accepts when the template sets no maxLength: no 1 MB strings. */
export const MAX_STRING_LENGTH = 2000;

const inputSchema = z
  .strictObject({
    type: z.enum(INPUT_TYPES).default('text'),
    label: z.string().max(200).optional(),
    help: z.string().max(1000).optional(),
    required: z.boolean().default(false),
    default: z.union([z.string().max(MAX_STRING_LENGTH), z.boolean()]).optional(),
    maxLength: z.number().int().positive().max(MAX_STRING_LENGTH).optional(),
    pattern: z.string().max(500).optional(),
    choices: z.array(z.string().min(1).max(500)).min(1).max(200).optional(),
    /** image inputs: smallest acceptable pixel size. */
    minWidth: z.number().int().positive().optional(),
    minHeight: z.number().int().positive().optional(),
  })
  .superRefine((input, ctx) => {
    if (input.type === 'choice' && !input.choices) {
      ctx.addIssue({ code: 'custom', path: ['choices'], message: 'a choice input needs choices' });
    }
    if (input.type !== 'choice' && input.choices) {
      ctx.addIssue({ code: 'custom', path: ['choices'], message: 'only choice inputs take choices' });
    }
    if (input.pattern !== undefined) {
      try {
        new RegExp(input.pattern, 'u');
      } catch {
        ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'not a valid regular expression' });
      }
    }
    if (input.type === 'boolean' && typeof input.default === 'string') {
      ctx.addIssue({ code: 'custom', path: ['default'], message: 'a boolean input needs a boolean default' });
    }
    if (input.type !== 'boolean' && typeof input.default === 'boolean') {
      ctx.addIssue({
        code: 'custom',
        path: ['default'],
        message: 'only boolean inputs take a boolean default',
      });
    }
  });
export type InputDef = z.output<typeof inputSchema>;

const inputMapSchema = z.record(keySchema, inputSchema).default({});

// ------------------------------------------------------------------------------------------ elements

/** A path into the record, `rep.name`, `prospect.industry`, `fields.headline`. */
export const recordPathSchema = z
  .string()
  .regex(/^(rep|prospect|fields)\.[A-Za-z][A-Za-z0-9_]*$/, 'expected rep.X, prospect.X or fields.X');

const conditionSchema = z.union([
  z.strictObject({ path: recordPathSchema, equals: z.union([z.string(), z.boolean()]) }),
  z.strictObject({ path: recordPathSchema, in: z.array(z.string()).min(1) }),
  z.strictObject({ path: recordPathSchema, exists: z.boolean() }),
  z.strictObject({ path: recordPathSchema, truthy: z.boolean() }),
]);
export type Condition = z.output<typeof conditionSchema>;

/** Structure roles an element may take in a tagged PDF. */
export const ROLES = ['H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'P', 'Figure', 'Artifact'] as const;
export type Role = (typeof ROLES)[number];

const boxShape = {
  name: keySchema,
  x: lengthSchema,
  y: lengthSchema,
  w: lengthSchema.refine((v) => v > 0, 'must be positive'),
  h: lengthSchema.refine((v) => v > 0, 'must be positive'),
  when: conditionSchema.optional(),
  /** Intentionally reaches into the bleed (a background, a full-bleed photo). */
  bleeds: z.boolean().default(false),
  /** In a CMYK document, keep this element's colours and images RGB (preflight still reports it). */
  keepRgb: z.boolean().optional(),
  /**
   * Its part in a tagged (single-piece, on-screen) PDF: a heading, a paragraph, a figure (needs
   * `alt`), or an artifact (decoration a screen reader skips). Default: text is a paragraph, art with
   * `alt` a figure, other art an artifact.
   */
  role: z.enum(ROLES).optional(),
  /** What a figure shows, for screen readers. */
  alt: z.string().min(1).max(1000).optional(),
};

/** Handlebars source of a text, a QR payload or an image path. */
const templateText = z.string().max(20_000);

const textStyle = {
  font: keySchema.optional(),
  size: z.number().positive().max(500),
  /** Copyfit: shrink down to this size before reporting an overflow. Absent: never shrink. */
  minSize: z.number().positive().max(500).optional(),
  color: colorRefSchema.optional(),
  lineHeight: z.number().min(0.5).max(5).default(1.2),
};

const textElementSchema = z.strictObject({
  ...boxShape,
  type: z.literal('text'),
  /** The content: Handlebars, with **bold** and *italic* emphasis. Defaults to the bound field. */
  text: templateText.optional(),
  /** The field this element shows: the only way a rep edits it. */
  field: keySchema.optional(),
  ...textStyle,
  align: z.enum(['left', 'center', 'right', 'justify']).default('left'),
  valign: z.enum(['top', 'middle', 'bottom']).default('top'),
  uppercase: z.boolean().default(false),
});

const imageElementSchema = z.strictObject({
  ...boxShape,
  type: z.literal('image'),
  /** A package asset; may choose by data: `assets/industry/{{prospect.industry}}.jpg`. */
  src: templateText
    .refine(
      (p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').includes('..'),
      'must be a relative path inside the template package',
    )
    .optional(),
  /** An image input of the record: `rep.photo` or `fields.photo`. */
  input: recordPathSchema.optional(),
  /** Package asset used when the chosen image does not exist or the input is empty. */
  fallback: assetPathSchema.optional(),
  fit: z.enum(['cover', 'contain']).default('contain'),
});

const shapeStyle = {
  fill: colorRefSchema.optional(),
  stroke: colorRefSchema.optional(),
  strokeWidth: lengthSchema.default(1),
};

const rectElementSchema = z.strictObject({
  ...boxShape,
  ...shapeStyle,
  type: z.literal('rect'),
  radius: lengthSchema.default(0),
});
const ellipseElementSchema = z.strictObject({ ...boxShape, ...shapeStyle, type: z.literal('ellipse') });
/** A line from the box's top-left corner to its bottom-right one (h or w may be tiny for rules). */
const lineElementSchema = z.strictObject({
  ...boxShape,
  w: lengthSchema.refine((v) => v >= 0, 'must not be negative'),
  h: lengthSchema.refine((v) => v >= 0, 'must not be negative'),
  type: z.literal('line'),
  stroke: colorRefSchema.optional(),
  strokeWidth: lengthSchema.default(1),
});
const svgElementSchema = z.strictObject({
  ...boxShape,
  type: z.literal('svg'),
  src: assetPathSchema.refine((p) => p.toLowerCase().endsWith('.svg'), 'expected an .svg file'),
});
const qrElementSchema = z.strictObject({
  ...boxShape,
  type: z.literal('qr'),
  /** Handlebars: the encoded text, usually a personalized URL. */
  content: templateText.min(1),
  color: colorRefSchema.optional(),
  errorCorrection: z.enum(['L', 'M', 'Q', 'H']).default('M'),
});

/**
 * Where a mail piece's address may sit, in trim coordinates (points from the top left), by layout.
 * `window-10`: a US Letter tri-folded into a #10 window envelope (window 4.5 × 1.125in, 0.875in from the
 * left and 0.5in from the bottom), allowing the insert 0.875in of play sideways and 0.3125in up or
 * down and keeping 1/8in from every window edge (DMM 601.6.3): x 0.9375–4.3125in, y 2.5–3.0625in.
 * `postcard-6x4`: a 6 × 4in card's OCR read area, at least 0.5in from both side edges and between
 * 2.75in and 0.625in from the bottom edge (DMM 202.2.1): x 0.5–5.5in, y 1.25–3.375in.
 */
export const ADDRESS_ZONES = {
  'window-10': { x: 67.5, y: 180, w: 243, h: 40.5 },
  'postcard-6x4': { x: 36, y: 90, w: 360, h: 153 },
} as const satisfies Record<string, { x: number; y: number; w: number; h: number }>;

/**
 * A recipient block formatted from record values (Handlebars each): empty lines are left out, the
 * unit shares the street line (USPS Publication 28), city, state and ZIP+4 share the last line, and
 * a country other than the US gets a line of its own.
 */
const addressElementSchema = z.strictObject({
  ...boxShape,
  ...textStyle,
  type: z.literal('address'),
  lines: z.strictObject({
    name: templateText.min(1),
    company: templateText.optional(),
    line1: templateText.min(1),
    line2: templateText.optional(),
    city: templateText.min(1),
    state: templateText.min(1),
    zip: templateText.min(1),
    country: templateText.optional(),
  }),
  uppercase: z.boolean().default(false),
  /** The layout's address zone the block must lie in (checked by compile and `validate`). */
  zone: z.enum(Object.keys(ADDRESS_ZONES) as [keyof typeof ADDRESS_ZONES]).optional(),
});

/** Handlebars that must give digits (dashes and spaces are dropped), e.g. a ZIP+4. */
const digitsText = templateText.min(1).max(200);

/**
 * A USPS Intelligent Mail barcode (USPS-B-3200), drawn as vector bars at the specification's sizes,
 * with the tracking and routing digits printed under it when `humanReadable`.
 */
const imbElementSchema = z.strictObject({
  ...boxShape,
  type: z.literal('imb'),
  barcodeId: digitsText,
  serviceType: digitsText,
  mailerId: digitsText,
  serial: digitsText,
  /** The delivery point: ZIP, ZIP+4 or ZIP+4+2; empty for none. */
  zip: templateText.max(200).default(''),
  humanReadable: z.boolean().default(true),
  font: keySchema.optional(),
  color: colorRefSchema.optional(),
});

export const elementSchema = z.discriminatedUnion('type', [
  textElementSchema,
  imageElementSchema,
  rectElementSchema,
  ellipseElementSchema,
  lineElementSchema,
  svgElementSchema,
  qrElementSchema,
  addressElementSchema,
  imbElementSchema,
]);
export type ElementDef = z.output<typeof elementSchema>;
export type TextElementDef = z.output<typeof textElementSchema>;
export type ImageElementDef = z.output<typeof imageElementSchema>;
export type QrElementDef = z.output<typeof qrElementSchema>;
export type AddressElementDef = z.output<typeof addressElementSchema>;
export type ImbElementDef = z.output<typeof imbElementSchema>;

const pageSchema = z.strictObject({
  name: keySchema,
  elements: z.array(elementSchema).max(500),
});

// ----------------------------------------------------------------------------------------- manifest

/** A record as written in samples and record files; validated later against the template's inputs. */
const looseRecordSchema = z.strictObject({
  rep: z.record(z.string(), z.unknown()).default({}),
  prospect: z.record(z.string(), z.unknown()).default({}),
  fields: z.record(z.string(), z.unknown()).default({}),
});

/** The manifest's shape; also the source of the JSON Schema editors use. */
export const manifestObjectSchema = z
  .strictObject({
    $schema: z.string().optional(),
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'expected a lowercase slug such as insurance-brochure'),
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    /** The package's own version; the service assigns versions to uploads itself. */
    version: z.number().int().positive().default(1),
    page: pageSetupSchema,
    fonts: z.record(keySchema, fontFamilySchema).refine((f) => Object.keys(f).length > 0, 'declare a font'),
    /** Used for characters the element's font lacks, in this order. */
    fallbackFonts: z.array(keySchema).default([]),
    defaultFont: keySchema.optional(),
    /** The language of the template's text (BCP 47), for tagged PDFs. */
    lang: z
      .string()
      .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, 'expected a language tag such as en-US')
      .default('en-US'),
    colors: z.record(keySchema, paletteValueSchema).default({}),
    /** The prospect columns and rep-profile values the template reads. */
    prospect: inputMapSchema,
    rep: inputMapSchema,
    /** Rep-editable fields: the only door through which a rep changes a piece. */
    fields: inputMapSchema,
    pages: z.array(pageSchema).min(1).max(50),
    /** How batch output names each piece's PDF in a ZIP, e.g. `{{prospect.id}}-{{prospect.lastName}}.pdf`. */
    output: z
      .strictObject({
        fileName: templateText.min(1).max(500).optional(),
        /** Crop and bleed marks outside the bleed, the media grown to hold them (`--marks` turns them on too). */
        marks: z.boolean().default(false),
        /** `cmyk`: every colour and image converted for press, with an output intent. */
        colorSpace: z.enum(['rgb', 'cmyk']).default('rgb'),
      })
      .optional(),
    samples: z
      .array(z.strictObject({ name: z.string().min(1).max(200), record: looseRecordSchema }))
      .max(50)
      .default([]),
  })
  .superRefine((m, ctx) => {
    const fontNames = new Set(Object.keys(m.fonts));
    const checkFont = (name: string | undefined, path: PropertyKey[]) => {
      if (name !== undefined && !fontNames.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `unknown font "${name}" (declared: ${[...fontNames].join(', ')})`,
        });
      }
    };
    checkFont(m.defaultFont, ['defaultFont']);
    m.fallbackFonts.forEach((f, i) => checkFont(f, ['fallbackFonts', i]));
    const seen = new Set<string>();
    m.pages.forEach((page, p) =>
      page.elements.forEach((el, e) => {
        const path = ['pages', p, 'elements', e];
        if (seen.has(el.name))
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'name'],
            message: `duplicate element name "${el.name}"`,
          });
        seen.add(el.name);
        if (el.role === 'Figure' && el.alt === undefined) {
          ctx.addIssue({ code: 'custom', path: [...path, 'alt'], message: 'a Figure needs alt text' });
        }
        if (el.type === 'address' || el.type === 'imb') checkFont(el.font, [...path, 'font']);
        if (
          (el.type === 'text' || el.type === 'address') &&
          el.minSize !== undefined &&
          el.minSize > el.size
        ) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'minSize'],
            message: 'minSize is larger than size',
          });
        }
        if (el.type === 'text') {
          checkFont(el.font, [...path, 'font']);
          if (el.text === undefined && el.field === undefined) {
            ctx.addIssue({ code: 'custom', path, message: 'a text element needs text or a field' });
          }
          if (el.field !== undefined && !(el.field in m.fields)) {
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'field'],
              message: `unknown field "${el.field}"`,
            });
          }
        }
        if (el.type === 'image' && (el.src === undefined) === (el.input === undefined)) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: 'an image element needs exactly one of src or input',
          });
        }
      }),
    );
  });

/**
 * zod's records drop a `__proto__` key (JSON.parse makes own ones) before their key schema sees it, so
 * a template naming an input `__proto__` would lose it silently: it is refused here, with its path.
 */
export const manifestSchema = z.preprocess((input, ctx) => {
  for (const path of prototypeKeys(input))
    ctx.addIssue({ code: 'custom', path, message: 'reserved name', input });
  return input;
}, manifestObjectSchema);

export type Manifest = z.output<typeof manifestObjectSchema>;
export type ManifestInput = z.input<typeof manifestObjectSchema>;
export type ColorValue = z.output<typeof colorValueSchema>;
export type PaletteValue = z.output<typeof paletteValueSchema>;
export type ColorRef = z.output<typeof colorRefSchema>;
