import { describe, expect, it } from 'vitest';
import { spreadsheetHint, withHint } from '../../src/jobs/hints.js';
import type { InputDef } from '../../src/model/manifest.js';

const zip: InputDef = { type: 'text', required: true, label: 'ZIP code', format: 'us-zip' };
const state: InputDef = { type: 'text', required: true, label: 'State', format: 'us-state' };
const date: InputDef = { type: 'date', required: false, label: 'Renewal date' };
const text: InputDef = { type: 'text', required: false };

describe('spreadsheetHint', () => {
  it('gives a ZIP code back the leading zeros a spreadsheet dropped', () => {
    expect(spreadsheetHint(zip, '2134')).toBe('Did your spreadsheet drop a leading zero? 02134');
    expect(spreadsheetHint(zip, ' 501 ')).toBe('Did your spreadsheet drop a leading zero? 00501');
    expect(spreadsheetHint(zip, '4101-1234')).toBe('Did your spreadsheet drop a leading zero? 04101-1234');
    for (const cell of ['ME 04101', '123456', '12', '', 'abcd'])
      expect(spreadsheetHint(zip, cell), cell).toBeNull();
  });

  it('writes a date in a local form as year-month-day, both ways when it could be either', () => {
    expect(spreadsheetHint(date, '31/12/2026')).toBe('Dates are written year-month-day: 2026-12-31');
    expect(spreadsheetHint(date, '12/31/2026')).toBe('Dates are written year-month-day: 2026-12-31');
    expect(spreadsheetHint(date, '31.12.2026')).toBe('Dates are written year-month-day: 2026-12-31');
    expect(spreadsheetHint(date, '3/4/2026')).toBe(
      'Dates are written year-month-day: 2026-04-03 if 3/4/2026 is day/month, or 2026-03-04 if it is month/day',
    );
    expect(spreadsheetHint(date, '5/5/2026')).toBe('Dates are written year-month-day: 2026-05-05');
    expect(spreadsheetHint(date, '46387')).toBe(
      "This looks like a spreadsheet's day number, not a date: format the column as text. 2026-12-31?",
    );
    for (const cell of ['31/31/2026', '2026-12-31', 'next week', '99999'])
      expect(spreadsheetHint(date, cell), cell).toBeNull();
  });

  it('names the two-letter code of a state spelled out or written in small letters', () => {
    expect(spreadsheetHint(state, 'Maine')).toBe('Use the two-letter code: ME');
    expect(spreadsheetHint(state, 'new  york')).toBe('Use the two-letter code: NY');
    expect(spreadsheetHint(state, 'me')).toBe('Use capitals: ME');
    expect(spreadsheetHint(state, 'Mainland')).toBeNull();
    expect(spreadsheetHint(state, 'zz')).toBeNull();
  });

  it('says nothing of inputs it knows no damage for', () => {
    expect(spreadsheetHint(text, '2134')).toBeNull();
    expect(spreadsheetHint(undefined, '2134')).toBeNull();
  });
});

describe('withHint', () => {
  it('adds the hint after the message, in words, and leaves the rest of the problem as it was', () => {
    const problem = {
      path: 'prospect.zip',
      rule: 'invalid_format',
      message: 'ZIP code: 5 digits, or ZIP+4 such as 04101-1234',
    };
    expect(withHint(problem, zip, '2134')).toEqual({
      ...problem,
      message:
        'ZIP code: 5 digits, or ZIP+4 such as 04101-1234. Did your spreadsheet drop a leading zero? 02134',
    });
    expect(withHint(problem, zip, '02134x')).toBe(problem);
  });
});
