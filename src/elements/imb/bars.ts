import type BwipJs from 'bwip-js';
import { onFirstUse } from '../../on-first-use.js';

/** Only templates with an Intelligent Mail barcode need it. */
const bwipjs = onFirstUse<typeof BwipJs>('bwip-js');

/** The Intelligent Mail barcode's bars and digits, from merged record values: plain data. */

/**
 * USPS-B-3200 sizes, in points: bar width 0.020in (0.015–0.025), 22 bars an inch (pitch 0.0455in;
 * 65 bars over 2.93in, within 2.683–3.225), full bar 0.145in (0.125–0.165), tracker 0.048in
 * (0.039–0.057), ascender and descender each the tracker plus half the rest.
 */
export const IMB_SIZES = {
  barWidth: 0.02 * 72,
  pitch: 72 / 22,
  fullBar: 0.145 * 72,
  tracker: 0.048 * 72,
  /** 64 pitches and one bar. */
  length: Math.ceil((64 * (72 / 22) + 0.02 * 72) * 1000) / 1000,
  textSize: 7,
  textGap: 2,
  /** The clear zone nothing else may print in: 0.125 in beside the bars, 0.028 in above and below. */
  clearX: 0.125 * 72,
  clearY: 0.028 * 72,
} as const;

/**
 * The 65 bars of an Intelligent Mail barcode (F full, A ascender, D descender, T tracker) for the
 * tracking code (barcode id, service type, mailer id, serial, as the template's parts) and routing ZIP.
 * Returns the problem instead when the digits are not a valid IMb.
 */
export function imbBars(tracking: string, routing: string): { bars: string } | { problem: string } {
  const [barcodeId = '', serviceType = '', mailerId = '', serial = ''] = tracking
    .split(' ')
    .map((part) => part.replace(/[\s-]/g, ''));
  const zip = routing.replace(/[\s-]/g, '');
  const all = `${barcodeId}${serviceType}${mailerId}${serial}${zip}`;
  if (!/^\d*$/.test(all)) return { problem: 'an Intelligent Mail barcode takes digits only' };
  if (!/^\d[0-4]$/.test(barcodeId))
    return { problem: `barcode id "${barcodeId}": two digits, the second 0–4` };
  if (!/^\d{3}$/.test(serviceType)) return { problem: `service type "${serviceType}": three digits` };
  const mailerLength = mailerId.startsWith('9') ? 9 : 6;
  if (mailerId.length !== mailerLength)
    return { problem: `mailer id "${mailerId}": ${mailerLength} digits (9 when it starts with 9)` };
  if (serial.length !== 15 - mailerLength)
    return {
      problem: `serial "${serial}": ${15 - mailerLength} digits with a ${mailerLength}-digit mailer id`,
    };
  if (![0, 5, 9, 11].includes(zip.length))
    return { problem: `routing ZIP "${routing}": 5, 9 or 11 digits, or none` };
  const [symbol] = bwipjs().raw({ bcid: 'onecode', text: all }) as { bbs: number[]; bhs: number[] }[];
  // bwip-js gives each bar's bottom and height: on the baseline = full or descender, above = the others.
  const bars = symbol!.bbs
    .map((bottom, i) => {
      const tall = symbol!.bhs[i]! > 0.12;
      const half = symbol!.bhs[i]! > 0.06;
      return bottom === 0 ? (tall ? 'F' : 'D') : half ? 'A' : 'T';
    })
    .join('');
  return { bars };
}

/** The digits printed under the bars: the tracking code's parts and the routing ZIP, spaced. */
export function imbHumanReadable(tracking: string, routing: string): string {
  return `${tracking} ${routing.replace(/[\s-]/g, '')}`.replace(/\s+/g, ' ').trim();
}
