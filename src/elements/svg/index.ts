import { z } from 'zod';
import type { Box } from '../../model/geometry.js';
import { assetPathSchema } from '../../model/manifest.js';
import { type Condition } from '../../model/condition.js';
import { boxShape, BOX_PROPERTIES } from '../common.js';
import type { ElementKind } from '../kind.js';

const schema = z.strictObject({
  ...boxShape,
  type: z.literal('svg'),
  src: assetPathSchema
    .refine((p) => p.toLowerCase().endsWith('.svg'), 'expected an .svg file')
    .describe('A package .svg file: self-contained, its text converted to outlines.'),
});

export interface SvgItem {
  kind: 'svg';
  name: string;
  box: Box;
  svg: string;
  /** Its colours are converted to CMYK as it is drawn (a CMYK document, no `keepRgb`). */
  cmyk?: boolean;
}

/** SVG art is fixed: with a `when` it is drawn per record, else in its page's static layer. */
export interface CompiledSvg {
  kind: 'svg';
  name: string;
  box: Box;
  when?: Condition;
  item: SvgItem;
}

/** Brand art from the package, drawn as vectors, written once per document. */
export const svg: ElementKind<typeof schema, CompiledSvg, SvgItem> = {
  type: 'svg',
  schema,
  editor: {
    label: 'SVG art',
    summary:
      '`src`: brand art, drawn once per document; text must be converted to outlines; self-contained and within the limits below',
    properties: [
      ...BOX_PROPERTIES,
      { key: 'src', label: 'SVG file', group: 'Content', control: 'asset', required: true },
    ],
  },
  tagRole: 'Figure',
  compile: async (def, compile) => {
    const art = await compile.svg(def.src, def, `${compile.path}.src`);
    if (art === null) return null;
    const cmyk = compile.colorSpace === 'cmyk' && !def.keepRgb;
    const { base } = compile;
    return {
      kind: 'svg',
      ...base,
      item: { kind: 'svg', name: def.name, box: base.box, svg: art, ...(cmyk ? { cmyk } : {}) },
    };
  },
  staticItem: (el) => el.item,
  merge: (el) => el.item,
  draw: (item, painter) => painter.svg(item),
  rgb: (item, preflight) => !item.cmyk || preflight.drawnLive(item),
};
