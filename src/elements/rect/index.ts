import { z } from 'zod';
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
  shapeStyle,
} from '../shape.js';

const schema = z.strictObject({
  ...boxShape,
  ...shapeStyle,
  type: z.literal('rect'),
  radius: lengthSchema.default(0).describe('Corner radius; 0 for square corners.'),
});

/** A rectangle, its corners square or rounded. */
export const rect: ElementKind<typeof schema, CompiledShape<'rect'>, ShapeItem<'rect'>> = {
  type: 'rect',
  schema,
  editor: {
    label: 'Rectangle',
    summary: '`fill`, `stroke`, `strokeWidth`, `radius` (rounded corners)',
    properties: [
      ...BOX_PROPERTIES,
      ...SHAPE_PROPERTIES,
      { key: 'radius', label: 'Corner radius', group: 'Stroke', control: 'length', unit: 'pt' },
    ],
  },
  tagRole: 'Figure',
  compile: (def, compile) => compileShape(def, def.radius, compile),
  staticItem: (el) => el.item,
  merge: (el) => el.item,
  draw: (item, painter) =>
    drawShape(item, painter, () => {
      const { x, y, w, h } = item.box;
      if (item.radius > 0) painter.roundedRect(x, y, w, h, item.radius);
      else painter.rect(x, y, w, h);
    }),
  rgb: shapeIsRgb,
};
