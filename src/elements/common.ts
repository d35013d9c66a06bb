import { z } from 'zod';
import { colorRefSchema, keySchema, ROLES } from '../model/manifest.js';
import { conditionSchema } from '../model/condition.js';
import { lengthSchema } from '../model/units.js';
import type { EditorProperty } from './kind.js';

/** What the kinds share: the keys every element has, text styling, and their editor properties. */

/** Every element's keys: its name, its box, its condition, and how it prints and is tagged. */
export const boxShape = {
  name: keySchema.describe('Unique name of the element within the template.'),
  x: lengthSchema.describe('Left edge, from the trim box’s left (points, or "12mm", "0.5in").'),
  y: lengthSchema.describe('Top edge, from the trim box’s top.'),
  w: lengthSchema.refine((v) => v > 0, 'must be positive').describe('Width.'),
  h: lengthSchema.refine((v) => v > 0, 'must be positive').describe('Height.'),
  when: conditionSchema.optional().describe('Draw the element only when this holds for the record.'),
  bleeds: z
    .boolean()
    .default(false)
    .describe('Intentionally reaches into the bleed (a background, a full-bleed photo).'),
  keepRgb: z
    .boolean()
    .optional()
    .describe('In a CMYK document, keep this element’s colours and images RGB (preflight still reports it).'),
  role: z
    .enum(ROLES)
    .optional()
    .describe(
      'Its part in a tagged (single-piece, on-screen) PDF: a heading, a paragraph, a figure (needs `alt`), or an artifact (decoration a screen reader skips). Default: text is a paragraph, art with `alt` a figure, other art an artifact.',
    ),
  alt: z.string().min(1).max(1000).optional().describe('What a figure shows, for screen readers.'),
};

/** The type keys of the kinds that set text. */
export const textStyle = {
  font: keySchema.optional().describe('A declared font; default: the template’s default font.'),
  size: z.number().positive().max(500).describe('Type size in points.'),
  minSize: z
    .number()
    .positive()
    .max(500)
    .optional()
    .describe('Copyfit: shrink down to this size before reporting an overflow. Absent: never shrink.'),
  color: colorRefSchema
    .optional()
    .describe('A palette name, "#RRGGBB", {cmyk}, or {name, tint} of a spot ink.'),
  lineHeight: z.number().min(0.5).max(5).default(1.2).describe('Line spacing, as a multiple of the size.'),
};

/** Whether template text reads the record (has a Handlebars expression). */
export function hasMustache(source: string): boolean {
  return source.includes('{{');
}

/** The designer's properties every element has: its box, condition and tagging. */
export const BOX_PROPERTIES: EditorProperty[] = [
  { key: 'name', label: 'Name', group: 'Position', control: 'text', required: true },
  { key: 'x', label: 'X', group: 'Position', control: 'length', unit: 'pt', required: true },
  { key: 'y', label: 'Y', group: 'Position', control: 'length', unit: 'pt', required: true },
  { key: 'w', label: 'Width', group: 'Position', control: 'length', unit: 'pt', required: true },
  { key: 'h', label: 'Height', group: 'Position', control: 'length', unit: 'pt', required: true },
  { key: 'when', label: 'Show only when', group: 'Content', control: 'condition', bindable: true },
  { key: 'bleeds', label: 'Reaches into the bleed', group: 'Position', control: 'boolean' },
  { key: 'keepRgb', label: 'Keep RGB in a CMYK document', group: 'Colour', control: 'boolean' },
  { key: 'role', label: 'Role in a tagged PDF', group: 'Accessibility', control: 'choice', choices: ROLES },
  { key: 'alt', label: 'Alternative text', group: 'Accessibility', control: 'text' },
];

/** The designer's properties of the kinds that set text. */
export const TEXT_STYLE_PROPERTIES: EditorProperty[] = [
  { key: 'font', label: 'Font', group: 'Type', control: 'font' },
  { key: 'size', label: 'Size', group: 'Type', control: 'number', unit: 'pt', required: true },
  { key: 'minSize', label: 'Shrink to fit down to', group: 'Type', control: 'number', unit: 'pt' },
  { key: 'lineHeight', label: 'Line height', group: 'Type', control: 'number', unit: '×' },
  { key: 'color', label: 'Colour', group: 'Colour', control: 'color' },
];
