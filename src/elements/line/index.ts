import { z } from 'zod';
import { colorRefSchema } from '../../model/manifest.js';
import { lengthSchema } from '../../model/units.js';
import { boxShape, BOX_PROPERTIES } from '../common.js';
import type { ElementKind } from '../kind.js';
import {
  type CompiledShape,
  compileShape,
  drawShape,
  SHAPE_PROPERTIES,
  type ShapeItem,
  shapeIsRgb,
} from '../shape.js';

/** A line from the box's top-left corner to its bottom-right one (h or w may be tiny for rules). */
const schema = z.strictObject({
  ...boxShape,
  w: lengthSchema.refine((v) => v >= 0, 'must not be negative').describe('Width (0 for a vertical line).'),
  h: lengthSchema.refine((v) => v >= 0, 'must not be negative').describe('Height (0 for a horizontal line).'),
  type: z.literal('line'),
  stroke: colorRefSchema.optional().describe('Stroke colour (required).'),
  strokeWidth: lengthSchema.default(1).describe('Stroke width.'),
});

/** A straight line across its box, from the top-left corner to the bottom-right one. */
export const line: ElementKind<typeof schema, CompiledShape<'line'>, ShapeItem<'line'>> = {
  type: 'line',
  schema,
  editor: {
    label: 'Line',
    summary:
      "`stroke`, `strokeWidth`: from the box's top-left corner to its bottom-right one (`w` or `h` may be 0)",
    properties: [...BOX_PROPERTIES, ...SHAPE_PROPERTIES.filter((p) => p.key !== 'fill')],
  },
  tagRole: 'Figure',
  compile: (def, compile) => {
    const compiled = compileShape(def, 0, compile);
    if (compiled.item.stroke === undefined)
      compile.problem(compile.path, 'no_stroke', 'a line needs a stroke colour');
    return compiled;
  },
  staticItem: (el) => el.item,
  merge: (el) => el.item,
  draw: (item, painter) =>
    drawShape(item, painter, () => {
      const { x, y, w, h } = item.box;
      painter.line(x, y, x + w, y + h);
    }),
  rgb: shapeIsRgb,
};
