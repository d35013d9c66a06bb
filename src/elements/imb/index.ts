import { z } from 'zod';
import type { Color } from '../../model/color.js';
import type { Box } from '../../model/geometry.js';
import { colorRefSchema, keySchema, templateText } from '../../model/manifest.js';
import { type Condition } from '../../model/condition.js';
import { colorOp, num } from '../../pdf/syntax.js';
import type { TextFn } from '../../model/record.js';
import type { TextBox, TextToFit } from '../../model/text.js';
import { spansOf } from '../../text/spans.js';
import { boxShape, BOX_PROPERTIES } from '../common.js';
import type { ElementKind } from '../kind.js';
import { IMB_SIZES, imbBars, imbHumanReadable } from './bars.js';

/** Handlebars that must give digits (dashes and spaces are dropped), e.g. a ZIP+4. */
const digitsText = templateText.min(1).max(200);

/**
 * A USPS Intelligent Mail barcode (USPS-B-3200), drawn as vector bars at the specification's sizes,
 * with the tracking and routing digits printed under it when `humanReadable`.
 */
const schema = z.strictObject({
  ...boxShape,
  type: z.literal('imb'),
  barcodeId: digitsText.describe('Handlebars giving the two-digit barcode id.'),
  serviceType: digitsText.describe('Handlebars giving the three-digit service type.'),
  mailerId: digitsText.describe('Handlebars giving the mailer id: 6 digits, or 9 when it starts with 9.'),
  serial: digitsText.describe('Handlebars giving the serial: 9 digits (6 with a 9-digit mailer id).'),
  zip: templateText
    .max(200)
    .default('')
    .describe('The delivery point: ZIP, ZIP+4 or ZIP+4+2; empty for none.'),
  humanReadable: z.boolean().default(true).describe('Print the digits under the bars.'),
  font: keySchema.optional().describe('The font of the digits.'),
  color: colorRefSchema.optional().describe('The bars’ (and digits’) colour.'),
});

/** 65 bars, each F(ull), A(scender), D(escender) or T(racker). */
export interface ImbItem {
  kind: 'imb';
  name: string;
  box: Box;
  bars: string;
  color: Color;
}

export interface CompiledImb {
  kind: 'imb';
  name: string;
  box: Box;
  when?: Condition;
  /** The 20-digit tracking code (barcode id, service type, mailer id, serial) and the routing ZIP. */
  tracking: TextFn;
  routing: TextFn;
  color: Color;
  /** The digits under the bars, set like any other text. */
  digits?: TextBox & { render: TextFn };
}

const DIGIT_KEYS = ['barcodeId', 'serviceType', 'mailerId', 'serial', 'zip'] as const;

/** A USPS Intelligent Mail barcode: its bars at the box's top left, its digits (when asked for) below. */
export const imb: ElementKind<typeof schema, CompiledImb, ImbItem> = {
  type: 'imb',
  schema,
  editor: {
    label: 'Intelligent Mail barcode',
    summary:
      'USPS Intelligent Mail barcode: `barcodeId`, `serviceType`, `mailerId`, `serial`, `zip` (Handlebars giving digits; a bad value rejects the record naming the element), `humanReadable` (digits under the bars), `font`, `color`. 65 vector bars at USPS-B-3200 sizes (0.02 in bars, 22 a inch, 0.145 in full bars); the box must be at least 211 × 10.44 pt, and `validate` refuses any other element in its clear zone (0.125 in beside the bars, 0.028 in above and below)',
    properties: [
      ...BOX_PROPERTIES,
      ...DIGIT_KEYS.map((key) => ({
        key,
        label: {
          barcodeId: 'Barcode id',
          serviceType: 'Service type',
          mailerId: 'Mailer id',
          serial: 'Serial',
          zip: 'Routing ZIP',
        }[key],
        group: 'Barcode' as const,
        control: 'template' as const,
        bindable: true,
        required: key !== 'zip',
      })),
      { key: 'humanReadable', label: 'Print the digits', group: 'Barcode', control: 'boolean' },
      { key: 'font', label: 'Font of the digits', group: 'Type', control: 'font' },
      { key: 'color', label: 'Colour', group: 'Colour', control: 'color' },
    ],
  },
  tagRole: 'Figure',
  check: (def, manifest) => manifest.font(def.font, 'font'),
  compile: (def, compile) => {
    const { path, base } = compile;
    const [barcodeId, serviceType, mailerId, serial, zip] = DIGIT_KEYS.map(
      (key) => compile.text(def[key], `${path}.${key}`)?.render,
    );
    if (!barcodeId || !serviceType || !mailerId || !serial || !zip) return null;
    const textHeight = def.humanReadable ? IMB_SIZES.textGap + IMB_SIZES.textSize : 0;
    if (def.w < IMB_SIZES.length - 0.01 || def.h < IMB_SIZES.fullBar + textHeight - 0.01) {
      compile.problem(
        path,
        'too_small',
        `an Intelligent Mail barcode needs a box of at least ${IMB_SIZES.length} × ${IMB_SIZES.fullBar + textHeight} pt`,
      );
      return null;
    }
    const tracking: TextFn = (c) => [barcodeId, serviceType, mailerId, serial].map((f) => f(c)).join(' ');
    const color = compile.barcodeColor(def.color, `${path}.color`, def.keepRgb);
    const compiled: CompiledImb = { kind: 'imb', ...base, tracking, routing: zip, color };
    if (!def.humanReadable) return compiled;
    const top = def.y + IMB_SIZES.fullBar + IMB_SIZES.textGap;
    const height = def.y + def.h - top;
    compiled.digits = {
      name: `${def.name}Digits`,
      box: { x: def.x, y: top, w: def.w, h: height },
      color,
      render: (c) => imbHumanReadable(tracking(c), zip(c)),
      spec: {
        width: def.w,
        height,
        size: IMB_SIZES.textSize,
        lineHeight: 1,
        align: 'left',
        valign: 'top',
        fonts: compile.fonts(def.font),
      },
    };
    return compiled;
  },
  merge: (el, record) => {
    const result = imbBars(el.tracking(record.values), el.routing(record.values));
    const digits: TextToFit | null = el.digits
      ? { kind: 'fit', element: el.digits, spans: spansOf(el.digits.render(record.values), false) }
      : null;
    if ('problem' in result) {
      record.problem({ path: `elements.${el.name}`, rule: 'imb', message: result.problem });
      return digits;
    }
    const bars: ImbItem = { kind: 'imb', name: el.name, box: el.box, bars: result.bars, color: el.color };
    return digits ? [bars, digits] : bars;
  },
  draw: (item, painter) => painter.write(imbOps(item)),
  rgb: (item) => item.color.space === 'rgb',
  clearZone: (item) => ({
    box: {
      x: item.box.x - IMB_SIZES.clearX,
      y: item.box.y - IMB_SIZES.clearY,
      w: IMB_SIZES.length + 2 * IMB_SIZES.clearX,
      h: IMB_SIZES.fullBar + 2 * IMB_SIZES.clearY,
    },
    what: `the clear zone of the Intelligent Mail barcode ${item.name} (0.125 in beside its bars, 0.028 in above and below)`,
    // Its digits are part of it (USPS-B-3200 sets them under the bars).
    own: [item.name, `${item.name}Digits`],
  }),
};

/**
 * Content stream for an Intelligent Mail barcode: 65 filled bars from the box's top left, each at its
 * USPS-B-3200 height and position (y down: ascenders hang from the top, descenders stand on the bottom).
 */
export function imbOps(item: ImbItem): string {
  const { barWidth, pitch, fullBar, tracker } = IMB_SIZES;
  const half = (fullBar + tracker) / 2;
  const { x, y } = item.box;
  const rects = [...item.bars].map((bar, i) => {
    const [top, height] =
      bar === 'F'
        ? [0, fullBar]
        : bar === 'A'
          ? [0, half]
          : bar === 'D'
            ? [fullBar - half, half]
            : [(fullBar - tracker) / 2, tracker];
    return `${num(x + i * pitch)} ${num(y + top)} ${num(barWidth)} ${num(height)} re`;
  });
  return `q\n${colorOp(item.color, 'fill')}\n${rects.join('\n')}\nf\nQ`;
}
