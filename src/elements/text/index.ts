import { z } from 'zod';
import type { Condition } from '../../model/condition.js';
import { keySchema, langSchema, templateText } from '../../model/manifest.js';
import type { TextFn } from '../../model/record.js';
import type { TextBox, TextItem, TextSpec, TextToFit } from '../../model/text.js';
import { fitText } from '../../text/fit.js';
import { spansOf } from '../../text/spans.js';
import { boxShape, BOX_PROPERTIES, hasMustache, TEXT_STYLE_PROPERTIES, textStyle } from '../common.js';
import type { ElementKind, RecordContext } from '../kind.js';

const ALIGN = ['left', 'center', 'right', 'justify'] as const;
const VALIGN = ['top', 'middle', 'bottom'] as const;

const schema = z.strictObject({
  ...boxShape,
  type: z.literal('text'),
  text: templateText
    .optional()
    .describe('The content: Handlebars, with **bold** and *italic* emphasis. Defaults to the bound field.'),
  field: keySchema.optional().describe('The field this element shows: the only way a rep edits it.'),
  ...textStyle,
  align: z
    .enum(ALIGN)
    .optional()
    .describe(
      'Horizontal alignment; default: where the text starts (left, or right for right-to-left text).',
    ),
  direction: z
    .enum(['ltr', 'rtl'])
    .optional()
    .describe('Right to left or left to right; default: from the first letter of each paragraph.'),
  valign: z.enum(VALIGN).default('top').describe('Vertical alignment in the box.'),
  uppercase: z.boolean().default(false).describe('Set in capitals.'),
  paragraphSpacing: z
    .number()
    .min(0)
    .max(200)
    .optional()
    .describe('Space after each paragraph (a newline ends one), in points; none by default.'),
  hyphenate: z
    .boolean()
    .optional()
    .describe('Break words with a hyphen at the end of a line; default: the template’s `hyphenate`.'),
  lang: langSchema
    .optional()
    .describe(
      'The language of this text, if not the template’s: for hyphenation, and what a screen reader reads it as.',
    ),
});

/** A compiled text box: its text function and how it is set. Address blocks compile to one too. */
export interface CompiledText<K extends 'text' | 'address' = 'text' | 'address'> extends TextBox {
  kind: K;
  when?: Condition;
  render: TextFn;
  uppercase: boolean;
}

/** What fit needs of a box's text: its size, type size and range, alignment and fonts. */
export function fitSpec(
  def: {
    w: number;
    h: number;
    size: number;
    minSize?: number | undefined;
    lineHeight: number;
    paragraphSpacing?: number | undefined;
    direction?: 'ltr' | 'rtl' | undefined;
  },
  align: TextSpec['align'],
  valign: TextSpec['valign'],
  fonts: TextSpec['fonts'],
  hyphenate?: TextSpec['hyphenate'],
): TextSpec {
  return {
    width: def.w,
    height: def.h,
    size: def.size,
    ...(def.minSize !== undefined ? { minSize: def.minSize } : {}),
    lineHeight: def.lineHeight,
    ...(def.paragraphSpacing ? { paragraphSpacing: def.paragraphSpacing } : {}),
    ...(def.direction ? { direction: def.direction } : {}),
    align,
    valign,
    fonts,
    ...(hyphenate ? { hyphenate } : {}),
  };
}

/** A compiled text for one record: its words, styled, for fit to set. */
export function mergeText(el: CompiledText, record: RecordContext): TextToFit {
  return { kind: 'fit', element: el, spans: spansOf(el.render(record.values), el.uppercase) };
}

/** Copy: Handlebars text with emphasis, copyfitted into its box; bound to a field, a rep edits it. */
export const text: ElementKind<typeof schema, CompiledText<'text'>, TextItem> = {
  type: 'text',
  schema,
  editor: {
    label: 'Text',
    summary:
      '`text` (Handlebars with `**bold**` and `*italic*`; `\\n` breaks a line) or `field` (binds the element to a field), `font`, `size`, `minSize` (copyfit: shrink down to it, else an overflow error), `color`, `align` (`left`, `center`, `right`, `justify`), `valign`, `direction` (`rtl` or `ltr`; default: from the text), `lineHeight`, `uppercase`, `paragraphSpacing` (points after each paragraph; a paragraph starting with `• ` or `- ` hangs its further lines under its text), `hyphenate` (break words with a hyphen, in the template’s or the element’s `lang`)',
    properties: [
      ...BOX_PROPERTIES,
      { key: 'text', label: 'Text', group: 'Content', control: 'template', bindable: true },
      { key: 'field', label: 'Field', group: 'Content', control: 'field', bindable: true },
      ...TEXT_STYLE_PROPERTIES,
      { key: 'align', label: 'Align', group: 'Type', control: 'choice', choices: ALIGN },
      { key: 'valign', label: 'Vertical align', group: 'Type', control: 'choice', choices: VALIGN },
      { key: 'direction', label: 'Direction', group: 'Type', control: 'choice', choices: ['ltr', 'rtl'] },
      { key: 'uppercase', label: 'Capitals', group: 'Type', control: 'boolean' },
      {
        key: 'paragraphSpacing',
        label: 'Space between paragraphs',
        group: 'Type',
        control: 'number',
        unit: 'pt',
      },
      { key: 'hyphenate', label: 'Hyphenate', group: 'Type', control: 'boolean' },
      { key: 'lang', label: 'Language', group: 'Type', control: 'text' },
    ],
  },
  tagRole: 'P',
  check: (def, manifest) => {
    if (def.minSize !== undefined && def.minSize > def.size)
      manifest.issue('minSize', 'minSize is larger than size');
    manifest.font(def.font, 'font');
    if (def.text === undefined && def.field === undefined)
      manifest.issue('', 'a text element needs text or a field');
    if (def.field !== undefined && !manifest.hasField(def.field))
      manifest.issue('field', `unknown field "${def.field}"`);
  },
  compile: (def, compile) => {
    const { path } = compile;
    const source = def.text ?? `{{fields.${def.field}}}`;
    const compiled = compile.text(source, def.text !== undefined ? `${path}.text` : `${path}.field`, true);
    if (!compiled) return null;
    const fonts = compile.fonts(def.font);
    if (fonts.length === 0) return null; // the missing font is already a problem
    const family = fonts[0]!;
    if (compiled.styles.bold && !family.bold)
      compile.problem(`${path}.font`, 'no_bold', `font "${family.name}" has no bold file for **emphasis**`);
    if (compiled.styles.italic && !family.italic)
      compile.problem(`${path}.font`, 'no_italic', `font "${family.name}" has no italic file for *emphasis*`);
    return {
      kind: 'text',
      ...compile.base,
      ...(def.field !== undefined ? { field: def.field } : {}),
      render: compiled.render,
      color: compile.color(def.color, `${path}.color`, def.keepRgb),
      uppercase: def.uppercase,
      spec: fitSpec(
        def,
        def.align ?? 'start',
        def.valign,
        fonts,
        compile.hyphenator(def.hyphenate, def.lang, `${path}.hyphenate`),
      ),
    };
  },
  staticItem: (el, def, compile) => {
    if (el.field !== undefined || hasMustache(def.text ?? '{{')) return null;
    const fit = fitText(
      spansOf(el.render({ rep: {}, prospect: {}, fields: {}, piece: {} }), el.uppercase),
      el.spec,
    );
    if (fit.missing.length > 0) {
      compile.problem(
        compile.path,
        'missing_glyph',
        `no font can show ${fit.missing.map((c) => `"${c.char}" (${c.codePoint})`).join(', ')}`,
      );
    }
    if (fit.status === 'overflow') {
      compile.problem(
        compile.path,
        'overflow',
        `locked text "${el.name}" does not fit its box: ${fit.overflow!.points} pt too tall`,
      );
    }
    return { kind: 'text', name: el.name, box: el.box, color: el.color, size: fit.size, lines: fit.lines };
  },
  merge: mergeText,
  draw: (item, painter) => painter.text(item),
  preflight: (item, { minTextSize }) =>
    item.size < minTextSize
      ? {
          severity: 'warning',
          rule: 'small_text',
          message: `text set at ${item.size} pt, under ${minTextSize} pt`,
        }
      : null,
  rgb: (item) => item.color.space === 'rgb',
};
