import { z } from 'zod';
import type { ElementDef, ElementInput } from './kinds.js';
import { PATTERN_IDS } from './patterns.js';
import { lengthSchema } from './units.js';

/**
 * The template manifest (`template.json`): the contract between marketing, who write it, and the
 * engine. Here are its shape and the vocabulary the element kinds' own schemas share (names, paths,
 * colours, conditions, roles); the elements come from the kinds (src/elements/), the checks across
 * keys from the compile step (src/template/manifest.ts), and `npm run schema` writes its JSON Schema
 * for editors.
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

/** A language tag (BCP 47): the template's language, or an element's own. */
export const langSchema = z
  .string()
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, 'expected a language tag such as en-US');

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
/**
 * A colour that keeps the inks it is mixed of in a CMYK document even where Platen would print black
 * ink alone (a barcode, small near-black text): a rich black the designer wants as mixed.
 */
const keptInksSchema = z.strictObject({ color: colorValueSchema, keepInks: z.literal(true) });
const paletteValueSchema = z.union([colorValueSchema, spotColorSchema, keptInksSchema]);
/** A colour where an element uses one: a palette name, a literal value, or a palette spot at a tint. */
export const colorRefSchema = z.union([
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

/**
 * A date input's default that is the day it is printed: resolved once per render or batch job (see
 * validateRecord), so every row of a job carries the same date.
 */
export const TODAY = 'today';

/** A day as date inputs take it (YYYY-MM-DD), in the machine's own time zone. */
export function isoDay(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
}

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
    /** A named pattern (src/model/patterns.ts), described to reps in words. */
    format: z.enum(PATTERN_IDS).optional(),
    /** A custom regular expression; `patternHelp` says in words what it accepts. */
    pattern: z.string().max(500).optional(),
    patternHelp: z.string().min(1).max(300).optional(),
    choices: z.array(z.string().min(1).max(500)).min(1).max(200).optional(),
    /** image inputs: smallest acceptable pixel size (for `rep.*` ones, PHOTO_MIN_PX when not given). */
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
    if (input.format !== undefined && input.pattern !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['pattern'],
        message: 'give a named format or a custom pattern, not both',
      });
    }
    if (input.patternHelp !== undefined && input.pattern === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['patternHelp'],
        message: 'patternHelp describes a custom pattern: add one',
      });
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
    if (input.default === TODAY && input.type !== 'date') {
      ctx.addIssue({
        code: 'custom',
        path: ['default'],
        message: `only date inputs take "${TODAY}" as a default`,
      });
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

/**
 * The smallest rep photo, each side in pixels, where a template's photo input names no minimum of its
 * own: what profiles accept (the profile page states it) and what templates print. The one place
 * this size is written.
 */
export const PHOTO_MIN_PX = 300;

/** The smallest image an image input takes, in pixels: its own minimum, else PHOTO_MIN_PX for the rep's. */
export function imageMinimum(path: string, def: InputDef): { width: number; height: number } {
  const floor = path.startsWith('rep.') ? PHOTO_MIN_PX : 0;
  return { width: def.minWidth ?? floor, height: def.minHeight ?? floor };
}

/** An input with choices (a headline, an offer): what a batch can split and results can compare. */
export interface ChoiceInput {
  /** Its record path, e.g. `fields.headline`. */
  path: string;
  label: string;
  choices: string[];
}

/** The inputs with choices among a template's inputs (`{ rep, prospect, fields }`), in their order. */
export function choiceInputs(inputs: Record<string, Record<string, InputDef>>): ChoiceInput[] {
  return Object.entries(inputs).flatMap(([scope, defs]) =>
    Object.entries(defs).flatMap(([key, def]) =>
      def.type === 'choice' && def.choices
        ? [{ path: `${scope}.${key}`, label: def.label ?? key, choices: def.choices }]
        : [],
    ),
  );
}

const inputMapSchema = z.record(keySchema, inputSchema).default({});

// -------------------------------------------------------------------- what the element kinds share

/**
 * The standards a template's output can be written to (`output.standard`). For press: PDF/X-4
 * (ISO 15930-7) or PDF/X-1a (ISO 15930-4), each a CMYK file with an output intent; a merged drop of a
 * PDF/X-4 template is PDF/VT-1 as well (ISO 16612-2). For single pieces emailed or archived: PDF/A-2b
 * (ISO 19005-2) or PDF/A-1b (ISO 19005-1).
 */
export const PDFX_STANDARDS = ['PDF/X-4', 'PDF/X-1a'] as const;
export type PdfXStandard = (typeof PDFX_STANDARDS)[number];
export const PDFA_STANDARDS = ['PDF/A-2b', 'PDF/A-1b'] as const;
export type PdfAStandard = (typeof PDFA_STANDARDS)[number];
export const OUTPUT_STANDARDS = [...PDFX_STANDARDS, ...PDFA_STANDARDS] as const;
export type OutputStandard = (typeof OUTPUT_STANDARDS)[number];

export function isPdfA(standard: string | undefined): standard is PdfAStandard {
  return (PDFA_STANDARDS as readonly (string | undefined)[]).includes(standard);
}

export function isPdfX(standard: string | undefined): standard is PdfXStandard {
  return (PDFX_STANDARDS as readonly (string | undefined)[]).includes(standard);
}

/** Structure roles an element may take in a tagged PDF. */
export const ROLES = ['H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'P', 'Figure', 'Artifact'] as const;
export type Role = (typeof ROLES)[number];

/** Handlebars source of a text, a QR payload or an image path. */
export const templateText = z.string().max(20_000);

// ----------------------------------------------------------------------------------------- manifest

/** The kinds of piece a template makes. */
export const TEMPLATE_KINDS = ['brochure', 'postcard', 'letter', 'flyer', 'card', 'other'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

/** A record as written in samples and record files; validated later against the template's inputs. */
const looseRecordSchema = z.strictObject({
  rep: z.record(z.string(), z.unknown()).default({}),
  prospect: z.record(z.string(), z.unknown()).default({}),
  fields: z.record(z.string(), z.unknown()).default({}),
});

/** The manifest's shape; also the source of the JSON Schema editors use. */
export function manifestShape<E extends z.ZodType<ElementDef, ElementInput>>(element: E) {
  return z.strictObject({
    $schema: z.string().optional(),
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'expected a lowercase slug such as insurance-brochure'),
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    /**
     * What the piece is for, in words for the reps who make it (the gallery shows it): who to send it
     * to and what they fill in, never print set-up such as bleed.
     */
    summary: z
      .string()
      .max(400)
      .optional()
      .describe('what the piece is for, in words for the reps who make it; shown in the gallery'),
    /** What the piece is: the medium its tracked responses are counted under (`utm_medium`). */
    kind: z.enum(TEMPLATE_KINDS).default('other'),
    /** The product line the piece sells, as reps name it ("Home insurance"): a filter of the gallery. */
    productLine: z
      .string()
      .min(1)
      .max(60)
      .optional()
      .describe('the product line the piece sells, as reps name it; the gallery filters by it'),
    /** The package's own version; the service assigns versions to uploads itself. */
    version: z.number().int().positive().default(1),
    page: pageSetupSchema,
    fonts: z.record(keySchema, fontFamilySchema).refine((f) => Object.keys(f).length > 0, 'declare a font'),
    /** Used for characters the element's font lacks, in this order. */
    fallbackFonts: z.array(keySchema).default([]),
    defaultFont: keySchema.optional(),
    /** The language of the template's text (BCP 47), for tagged PDFs. */
    lang: langSchema.default('en-US'),
    /** Hyphenate text elements in the template's language, unless an element says otherwise. */
    hyphenate: z.boolean().default(false),
    colors: z.record(keySchema, paletteValueSchema).default({}),
    /** The prospect columns and rep-profile values the template reads. */
    prospect: inputMapSchema,
    rep: inputMapSchema,
    /** Rep-editable fields: the only door through which a rep changes a piece. */
    fields: inputMapSchema,
    pages: z
      .array(z.strictObject({ name: keySchema, elements: z.array(element).max(500) }))
      .min(1)
      .max(50),
    /** How batch output names each piece's PDF in a ZIP, e.g. `{{prospect.id}}-{{prospect.lastName}}.pdf`. */
    output: z
      .strictObject({
        fileName: templateText.min(1).max(500).optional(),
        /**
         * Where a piece's tracked URL (`{{piece.url}}`) leads, as Handlebars over the record. Its
         * scheme and host are written out, so no record can send a recipient elsewhere.
         */
        landingUrl: templateText
          .max(2000)
          .regex(/^https?:\/\/[^/{}\s]+(\/|$)/, 'expected an https:// address whose host is written out')
          .optional(),
        /** Crop and bleed marks outside the bleed, the media grown to hold them (`--marks` turns them on too). */
        marks: z.boolean().default(false),
        /** `cmyk`: every colour and image converted for press, with an output intent. */
        colorSpace: z.enum(['rgb', 'cmyk']).default('rgb'),
        standard: z
          .enum(OUTPUT_STANDARDS)
          .optional()
          .describe(
            'the standard the PDF is written to: PDF/X-4 (a merged drop is PDF/VT-1 too) or PDF/X-1a, for press, both needing colorSpace cmyk; or PDF/A-2b or PDF/A-1b, for pieces to be emailed or archived',
          ),
      })
      .superRefine((output, ctx) => {
        if (isPdfX(output.standard) && output.colorSpace !== 'cmyk')
          ctx.addIssue({
            code: 'custom',
            path: ['standard'],
            message: `${output.standard} prints in CMYK: set the output's colour space to CMYK, or choose no standard`,
          });
      })
      .optional(),
    samples: z
      .array(z.strictObject({ name: z.string().min(1).max(200), record: looseRecordSchema }))
      .max(50)
      .default([]),
  });
}

export type Manifest = z.output<ReturnType<typeof manifestShape>>;
export type ManifestInput = z.input<ReturnType<typeof manifestShape>>;
export type ColorValue = z.output<typeof colorValueSchema>;
export type ColorRef = z.output<typeof colorRefSchema>;
