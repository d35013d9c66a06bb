import type { Color } from '../model/color.js';
import type { Box } from '../model/geometry.js';
import { type ColorRef, colorRefSchema } from '../model/manifest.js';
import { type Condition } from '../model/condition.js';
import type { Painter } from '../model/painter.js';
import { colorOp, num } from '../pdf/syntax.js';
import { lengthSchema } from '../model/units.js';
import type { CompileContext, EditorProperty, PreflightContext } from './kind.js';

/** What rect, ellipse and line share: fixed vector art with a fill and a stroke. */

export type ShapeType = 'rect' | 'ellipse' | 'line';

export interface ShapeItem<K extends ShapeType = ShapeType> {
  kind: K;
  name: string;
  box: Box;
  fill?: Color;
  stroke?: Color;
  strokeWidth: number;
  radius: number;
}

/** Shapes are fixed: with a `when` they are drawn per record, else in their page's static layer. */
export interface CompiledShape<K extends ShapeType> {
  kind: K;
  name: string;
  box: Box;
  when?: Condition;
  item: ShapeItem<K>;
}

export const shapeStyle = {
  fill: colorRefSchema.optional().describe('Fill colour; none when absent.'),
  stroke: colorRefSchema.optional().describe('Stroke colour; none when absent.'),
  strokeWidth: lengthSchema.default(1).describe('Stroke width.'),
};

export const SHAPE_PROPERTIES: EditorProperty[] = [
  { key: 'fill', label: 'Fill', group: 'Colour', control: 'color' },
  { key: 'stroke', label: 'Stroke', group: 'Stroke', control: 'color' },
  { key: 'strokeWidth', label: 'Stroke width', group: 'Stroke', control: 'length', unit: 'pt' },
];

/** Compiles a shape's colours into its (fixed) item. */
export function compileShape<K extends ShapeType>(
  def: { type: K; name: string; fill?: ColorRef; stroke?: ColorRef; strokeWidth: number; keepRgb?: boolean },
  radius: number,
  compile: CompileContext,
): CompiledShape<K> {
  const { path, base } = compile;
  const stroke =
    def.stroke !== undefined ? compile.color(def.stroke, `${path}.stroke`, def.keepRgb) : undefined;
  const fill = def.fill !== undefined ? compile.color(def.fill, `${path}.fill`, def.keepRgb) : undefined;
  return {
    kind: def.type,
    ...base,
    item: {
      kind: def.type,
      name: def.name,
      box: base.box,
      fill,
      stroke,
      strokeWidth: def.strokeWidth,
      radius,
    },
  };
}

/**
 * Draws a shape: its colours and stroke width, the path (`outline`, by the painter's path
 * operators), then the paint operator its colours call for; a line is always stroked.
 */
export function drawShape(item: ShapeItem, painter: Painter, outline: () => void): void {
  const ops: string[] = ['q'];
  if (item.fill) ops.push(colorOp(item.fill, 'fill'));
  if (item.stroke) ops.push(colorOp(item.stroke, 'stroke'), `${num(item.strokeWidth)} w`);
  painter.write(ops.join('\n'));
  outline();
  const paint =
    item.kind === 'line' ? 'S' : item.fill && item.stroke ? 'B' : item.fill ? 'f' : item.stroke ? 'S' : 'n';
  painter.write(`${paint}\nQ`);
}

export function shapeIsRgb(item: ShapeItem, _preflight: PreflightContext): boolean {
  return item.fill?.space === 'rgb' || item.stroke?.space === 'rgb';
}
