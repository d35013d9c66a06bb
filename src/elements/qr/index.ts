import type QRCode from 'qrcode';
import { z } from 'zod';
import type { Color } from '../../model/color.js';
import type { Box } from '../../model/geometry.js';
import { colorRefSchema, templateText } from '../../model/manifest.js';
import { type Condition } from '../../model/condition.js';
import { colorOp, num } from '../../pdf/syntax.js';
import type { TextFn } from '../../model/record.js';
import { onFirstUse } from '../../on-first-use.js';
import { boxShape, BOX_PROPERTIES, hasMustache } from '../common.js';
import type { ElementKind } from '../kind.js';

/** Only templates with a QR code need it. */
const qrcode = onFirstUse<typeof QRCode>('qrcode');

/** Quiet zone the QR specification asks for, in modules, kept inside the element's box. */
const QUIET_ZONE = 4;

const ERROR_CORRECTION = ['L', 'M', 'Q', 'H'] as const;

const schema = z.strictObject({
  ...boxShape,
  type: z.literal('qr'),
  content: templateText.min(1).describe('Handlebars: the encoded text, usually a personalized URL.'),
  color: colorRefSchema.optional().describe('The dark modules’ colour.'),
  errorCorrection: z
    .enum(ERROR_CORRECTION)
    .default('M')
    .describe('Error correction level: L 7%, M 15%, Q 25%, H 30% of the code may be lost.'),
});

export interface QrItem {
  kind: 'qr';
  name: string;
  box: Box;
  content: string;
  color: Color;
  errorCorrection: (typeof ERROR_CORRECTION)[number];
}

export interface CompiledQr {
  kind: 'qr';
  name: string;
  box: Box;
  when?: Condition;
  render: TextFn;
  color: Color;
  errorCorrection: QrItem['errorCorrection'];
}

/** A QR code of merged text (usually a personalized URL), drawn as vectors. */
export const qr: ElementKind<typeof schema, CompiledQr, QrItem> = {
  type: 'qr',
  schema,
  editor: {
    label: 'QR code',
    summary: '`content` (Handlebars, e.g. a personalized URL), `color`, `errorCorrection`; drawn as vectors',
    properties: [
      ...BOX_PROPERTIES,
      {
        key: 'content',
        label: 'Content',
        group: 'Content',
        control: 'template',
        bindable: true,
        required: true,
      },
      { key: 'color', label: 'Colour', group: 'Colour', control: 'color' },
      {
        key: 'errorCorrection',
        label: 'Error correction',
        group: 'Barcode',
        control: 'choice',
        choices: ERROR_CORRECTION,
      },
    ],
  },
  tagRole: 'Figure',
  compile: (def, compile) => {
    const compiled = compile.text(def.content, `${compile.path}.content`);
    if (!compiled) return null;
    const color = compile.barcodeColor(def.color, `${compile.path}.color`, def.keepRgb);
    return {
      kind: 'qr',
      ...compile.base,
      render: compiled.render,
      color,
      errorCorrection: def.errorCorrection,
    };
  },
  staticItem: (el, def) =>
    hasMustache(def.content) ? null : itemOf(el, el.render({ rep: {}, prospect: {}, fields: {}, piece: {} })),
  merge: (el, record) => itemOf(el, el.render(record.scanValues)),
  draw: (item, painter) => painter.write(qrOps(item)),
  rgb: (item) => item.color.space === 'rgb',
};

function itemOf(el: CompiledQr, content: string): QrItem {
  return {
    kind: 'qr',
    name: el.name,
    box: el.box,
    content,
    color: el.color,
    errorCorrection: el.errorCorrection,
  };
}

/**
 * Content stream for a QR code: dark modules merged into horizontal runs and filled as rectangles,
 * so the code is crisp vectors at any size and a fraction of the operators of one square per module.
 */
export function qrOps(item: QrItem): string {
  const { modules } = qrcode().create(item.content, { errorCorrectionLevel: item.errorCorrection });
  const n = modules.size;
  const side = Math.min(item.box.w, item.box.h);
  const unit = side / (n + 2 * QUIET_ZONE);
  const x0 = item.box.x + (item.box.w - side) / 2 + QUIET_ZONE * unit;
  const y0 = item.box.y + (item.box.h - side) / 2 + QUIET_ZONE * unit;
  const rects: string[] = [];
  for (let row = 0; row < n; row++) {
    let col = 0;
    while (col < n) {
      if (!modules.data[row * n + col]) {
        col++;
        continue;
      }
      const start = col;
      while (col < n && modules.data[row * n + col]) col++;
      rects.push(
        `${num(x0 + start * unit)} ${num(y0 + row * unit)} ${num((col - start) * unit)} ${num(unit)} re`,
      );
    }
  }
  return `q\n${colorOp(item.color, 'fill')}\n${rects.join('\n')}\nf\nQ`;
}
