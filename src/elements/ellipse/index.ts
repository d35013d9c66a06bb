import { z } from 'zod';
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

const schema = z.strictObject({ ...boxShape, ...shapeStyle, type: z.literal('ellipse') });

/** The ellipse inscribed in the box. */
export const ellipse: ElementKind<typeof schema, CompiledShape<'ellipse'>, ShapeItem<'ellipse'>> = {
  type: 'ellipse',
  schema,
  editor: {
    label: 'Ellipse',
    summary: '`fill`, `stroke`, `strokeWidth`: the ellipse inscribed in the box',
    properties: [...BOX_PROPERTIES, ...SHAPE_PROPERTIES],
  },
  tagRole: 'Figure',
  compile: (def, compile) => compileShape(def, 0, compile),
  staticItem: (el) => el.item,
  merge: (el) => el.item,
  draw: (item, painter) =>
    drawShape(item, painter, () => {
      const { x, y, w, h } = item.box;
      painter.ellipse(x + w / 2, y + h / 2, w / 2, h / 2);
    }),
  rgb: shapeIsRgb,
};
