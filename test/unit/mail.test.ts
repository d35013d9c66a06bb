/**
 * Mail-piece content: the recipient block's lines, and Intelligent Mail barcode bars checked against
 * the worked examples of USPS-B-3200 (Appendix C) and the specification's size limits.
 */
import { describe, expect, it } from 'vitest';
import { formatAddress } from '../../src/elements/address/format.js';
import { IMB_SIZES, imbBars, imbHumanReadable } from '../../src/elements/imb/bars.js';

describe('formatAddress', () => {
  it('puts the unit on the street line and city, state and ZIP+4 on the last', () => {
    expect(
      formatAddress({
        name: 'Chloé Köhler',
        company: 'Smith & Sons',
        line1: '418 Birchwood Lane',
        line2: 'Apt 3B',
        city: 'Bangor',
        state: 'ME',
        zip: '04401-1234',
      }),
    ).toBe('Chloé Köhler\nSmith & Sons\n418 Birchwood Lane Apt 3B\nBangor ME 04401-1234');
  });

  it('leaves out empty lines and collapses spaces', () => {
    expect(
      formatAddress({
        name: ' Ana  Ruiz ',
        company: '',
        line1: '12 Elm St',
        line2: ' ',
        city: 'Eugene',
        state: 'OR',
        zip: '97405',
      }),
    ).toBe('Ana Ruiz\n12 Elm St\nEugene OR 97405');
  });

  it('adds a country line for international mail only', () => {
    const base = { name: 'A B', line1: '1 Main St', city: 'Town', state: 'ST', zip: '12345' };
    expect(formatAddress({ ...base, country: 'United States' })).toBe('A B\n1 Main St\nTown ST 12345');
    expect(formatAddress({ ...base, country: 'USA' })).toBe('A B\n1 Main St\nTown ST 12345');
    expect(formatAddress({ ...base, country: 'CANADA' })).toBe('A B\n1 Main St\nTown ST 12345\nCANADA');
  });
});

describe('imbBars', () => {
  it('matches USPS-B-3200 example 1 (tracking code, no routing)', () => {
    expect(imbBars('01 234 567094 987654321', '')).toEqual({
      bars: 'ATTFATTDTTADTAATTDTDTATTDAFDDFADFDFTFFFFFTATFAAAATDFFTDAADFTFDTDT',
    });
  });

  it('matches USPS-B-3200 example 4 (ZIP+4+2 routing, dashes ignored)', () => {
    expect(imbBars('01 234 567094 987654321', '01234-5678-91')).toEqual({
      bars: 'AADTFFDFTDADTAADAATFDTDDAAADDTDTTDAFADADDDTFFFDDTTTADFAAADFTDAADA',
    });
  });

  it('accepts a 9-digit mailer id with a 6-digit serial', () => {
    const result = imbBars('00 300 912345678 123456', '97405');
    expect('bars' in result && result.bars).toMatch(/^[FADT]{65}$/);
  });

  it.each([
    ['0A 300 123456 123456789', '', 'digits only'],
    ['05 300 123456 123456789', '', 'barcode id "05"'],
    ['00 30 123456 123456789', '', 'service type "30"'],
    ['00 300 12345 123456789', '', 'mailer id "12345"'],
    ['00 300 123456 12345678', '', 'serial "12345678"'],
    ['00 300 923456789 123456789', '', 'serial "123456789"'],
    ['00 300 123456 123456789', '1234', 'routing ZIP "1234"'],
  ])('refuses %s / %s', (tracking, routing, message) => {
    const result = imbBars(tracking, routing);
    expect('problem' in result && result.problem).toContain(message);
  });

  it('prints the digits spaced by field', () => {
    expect(imbHumanReadable('00 300 123456 123456789', '97405-1234')).toBe(
      '00 300 123456 123456789 974051234',
    );
  });
});

describe('IMB_SIZES', () => {
  it('are inside the USPS-B-3200 tolerances', () => {
    const inch = (pt: number) => pt / 72;
    expect(inch(IMB_SIZES.barWidth)).toBeGreaterThanOrEqual(0.015);
    expect(inch(IMB_SIZES.barWidth)).toBeLessThanOrEqual(0.025);
    expect(72 / IMB_SIZES.pitch).toBeGreaterThanOrEqual(20);
    expect(72 / IMB_SIZES.pitch).toBeLessThanOrEqual(24);
    expect(inch(IMB_SIZES.length)).toBeGreaterThanOrEqual(2.683);
    expect(inch(IMB_SIZES.length)).toBeLessThanOrEqual(3.225);
    expect(inch(IMB_SIZES.fullBar)).toBeGreaterThanOrEqual(0.125);
    expect(inch(IMB_SIZES.fullBar)).toBeLessThanOrEqual(0.165);
    expect(inch(IMB_SIZES.tracker)).toBeGreaterThanOrEqual(0.039);
    expect(inch(IMB_SIZES.tracker)).toBeLessThanOrEqual(0.057);
  });
});
