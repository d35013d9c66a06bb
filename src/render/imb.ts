import { IMB_SIZES } from '../merge/mail.js';
import type { ImbItem } from '../template/model.js';
import { colorOp, num } from './color.js';

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
