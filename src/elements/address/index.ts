import { z } from 'zod';
import { templateText } from '../../model/manifest.js';
import type { TextFn } from '../../model/record.js';
import { boxShape, BOX_PROPERTIES, TEXT_STYLE_PROPERTIES, textStyle } from '../common.js';
import type { ElementKind } from '../kind.js';
import { type CompiledText, fitSpec, mergeText } from '../text/index.js';
import { formatAddress } from './format.js';

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

const LINE_KEYS = ['name', 'company', 'line1', 'line2', 'city', 'state', 'zip', 'country'] as const;
const LINE_LABELS = {
  name: 'Name',
  company: 'Company',
  line1: 'Street',
  line2: 'Unit',
  city: 'City',
  state: 'State',
  zip: 'ZIP',
  country: 'Country',
} as const;

/**
 * A recipient block formatted from record values (Handlebars each): empty lines are left out, the
 * unit shares the street line (USPS Publication 28), city, state and ZIP+4 share the last line, and
 * a country other than the US gets a line of its own.
 */
const schema = z.strictObject({
  ...boxShape,
  ...textStyle,
  type: z.literal('address'),
  lines: z
    .strictObject({
      name: templateText.min(1),
      company: templateText.optional(),
      line1: templateText.min(1),
      line2: templateText.optional(),
      city: templateText.min(1),
      state: templateText.min(1),
      zip: templateText.min(1),
      country: templateText.optional(),
    })
    .describe('The block’s parts, Handlebars each; name, line1, city, state and zip are required.'),
  uppercase: z.boolean().default(false).describe('Set in capitals.'),
  zone: z
    .enum(Object.keys(ADDRESS_ZONES) as [keyof typeof ADDRESS_ZONES])
    .optional()
    .describe('The layout’s address zone the block must lie in (checked by compile and `validate`).'),
});

/** A recipient block: a text box whose text is the formatted address (see formatAddress). */
export const address: ElementKind<typeof schema, CompiledText<'address'>, never> = {
  type: 'address',
  schema,
  editor: {
    label: 'Address block',
    summary:
      "`lines`: `name`, `company`, `line1`, `line2`, `city`, `state`, `zip`, `country` (Handlebars each; name, line1, city, state and zip required). Empty lines are dropped, the unit shares the street line, `CITY ST 12345-6789` is one line, a country other than the US gets the last. `font`, `size`, `minSize`, `color`, `lineHeight`, `uppercase`; `zone`: `window-10` (a Letter in a #10 window envelope) or `postcard-6x4` (the card's OCR read area), checked when the template compiles",
    properties: [
      ...BOX_PROPERTIES,
      ...LINE_KEYS.map((key) => ({
        key: `lines.${key}`,
        label: LINE_LABELS[key],
        group: 'Content' as const,
        control: 'template' as const,
        bindable: true,
        required: !['company', 'line2', 'country'].includes(key),
      })),
      ...TEXT_STYLE_PROPERTIES,
      { key: 'uppercase', label: 'Capitals', group: 'Type', control: 'boolean' },
      {
        key: 'zone',
        label: 'Address zone',
        group: 'Position',
        control: 'choice',
        choices: Object.keys(ADDRESS_ZONES),
      },
    ],
  },
  tagRole: 'P',
  check: (def, manifest) => {
    manifest.font(def.font, 'font');
    if (def.minSize !== undefined && def.minSize > def.size)
      manifest.issue('minSize', 'minSize is larger than size');
  },
  compile: (def, compile) => {
    const { path } = compile;
    if (def.zone !== undefined) {
      const z = ADDRESS_ZONES[def.zone];
      const inside =
        def.x >= z.x - 0.01 &&
        def.y >= z.y - 0.01 &&
        def.x + def.w <= z.x + z.w + 0.01 &&
        def.y + def.h <= z.y + z.h + 0.01;
      if (!inside) {
        compile.problem(
          path,
          'outside_zone',
          `address "${def.name}" is not inside the ${def.zone} address zone (x ${z.x}–${z.x + z.w} pt, y ${z.y}–${z.y + z.h} pt from the trim's top left)`,
        );
      }
    }
    const parts = Object.entries(def.lines).map(([key, source]) => [
      key,
      compile.text(source, `${path}.lines.${key}`)?.render,
    ]);
    if (parts.some(([, render]) => render === undefined)) return null;
    const fonts = compile.fonts(def.font);
    if (fonts.length === 0) return null;
    const renders = parts as [string, TextFn][];
    return {
      kind: 'address',
      ...compile.base,
      render: (context) =>
        formatAddress(Object.fromEntries(renders.map(([key, render]) => [key, render(context)]))),
      color: compile.color(def.color, `${path}.color`, def.keepRgb),
      uppercase: def.uppercase,
      spec: fitSpec(def, 'left', 'top', fonts),
    };
  },
  merge: mergeText,
};
