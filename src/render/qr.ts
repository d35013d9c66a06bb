import type QRCode from 'qrcode';
import { onFirstUse } from '../on-first-use.js';
import type { QrItem } from '../template/model.js';
import { colorOp, num } from './color.js';

/** Only templates with a QR code need it. */
const qrcode = onFirstUse<typeof QRCode>('qrcode');

/** Quiet zone the QR specification asks for, in modules, kept inside the element's box. */
const QUIET_ZONE = 4;

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
