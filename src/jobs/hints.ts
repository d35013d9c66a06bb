import type { Problem } from '../errors.js';
import type { InputDef } from '../model/manifest.js';

/**
 * What a spreadsheet does to a list before Platen reads it, and what the cell most likely said: a
 * ZIP code read as a number loses its leading zero (02134 → 2134), a date is written in the
 * computer's local form (31/12/2026), or kept as the spreadsheet's day number (46387), and a state is
 * spelled out. A rejected row's problem says so, with the value to type, in the report and on the
 * batch pages.
 */
export function spreadsheetHint(def: InputDef | undefined, value: string): string | null {
  if (def === undefined) return null;
  const cell = value.trim();
  if (def.format === 'us-zip') return zipHint(cell);
  if (def.format === 'us-state') return stateHint(cell);
  if (def.type === 'date') return dateHint(cell);
  return null;
}

/** The problem with its hint, if the cell has one, after its message. */
export function withHint(problem: Problem, def: InputDef | undefined, value: string): Problem {
  const hint = spreadsheetHint(def, value);
  return hint === null ? problem : { ...problem, message: `${problem.message}. ${hint}` };
}

function zipHint(cell: string): string | null {
  const zip = /^(\d{3,4})(-\d{4})?$/.exec(cell);
  if (!zip) return null;
  return `Did your spreadsheet drop a leading zero? ${zip[1]!.padStart(5, '0')}${zip[2] ?? ''}`;
}

function dateHint(cell: string): string | null {
  const local = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(cell);
  if (local) {
    const [a, b, year] = [Number(local[1]), Number(local[2]), local[3]!];
    const dayFirst = isoDate(year, b, a);
    const monthFirst = isoDate(year, a, b);
    if (dayFirst && monthFirst && dayFirst !== monthFirst)
      return `Dates are written year-month-day: ${dayFirst} if ${cell} is day/month, or ${monthFirst} if it is month/day`;
    const date = dayFirst ?? monthFirst;
    return date === null ? null : `Dates are written year-month-day: ${date}`;
  }
  // A date the spreadsheet kept as its day number (days since 30 December 1899), 1950 to 2100.
  if (/^\d{5}$/.test(cell) && Number(cell) >= 18_264 && Number(cell) <= 73_051) {
    const date = new Date(Date.UTC(1899, 11, 30) + Number(cell) * 86_400_000).toISOString().slice(0, 10);
    return `This looks like a spreadsheet's day number, not a date: format the column as text. ${date}?`;
  }
  return null;
}

function isoDate(year: string, month: number, day: number): string | null {
  const iso = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  const date = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== iso ? null : iso;
}

const STATES: Record<string, string> = {
  alabama: 'AL',
  alaska: 'AK',
  arizona: 'AZ',
  arkansas: 'AR',
  california: 'CA',
  colorado: 'CO',
  connecticut: 'CT',
  delaware: 'DE',
  'district of columbia': 'DC',
  florida: 'FL',
  georgia: 'GA',
  hawaii: 'HI',
  idaho: 'ID',
  illinois: 'IL',
  indiana: 'IN',
  iowa: 'IA',
  kansas: 'KS',
  kentucky: 'KY',
  louisiana: 'LA',
  maine: 'ME',
  maryland: 'MD',
  massachusetts: 'MA',
  michigan: 'MI',
  minnesota: 'MN',
  mississippi: 'MS',
  missouri: 'MO',
  montana: 'MT',
  nebraska: 'NE',
  nevada: 'NV',
  'new hampshire': 'NH',
  'new jersey': 'NJ',
  'new mexico': 'NM',
  'new york': 'NY',
  'north carolina': 'NC',
  'north dakota': 'ND',
  ohio: 'OH',
  oklahoma: 'OK',
  oregon: 'OR',
  pennsylvania: 'PA',
  'rhode island': 'RI',
  'south carolina': 'SC',
  'south dakota': 'SD',
  tennessee: 'TN',
  texas: 'TX',
  utah: 'UT',
  vermont: 'VT',
  virginia: 'VA',
  washington: 'WA',
  'west virginia': 'WV',
  wisconsin: 'WI',
  wyoming: 'WY',
  'puerto rico': 'PR',
};

function stateHint(cell: string): string | null {
  const named = STATES[cell.toLowerCase().replace(/\s+/g, ' ')];
  if (named) return `Use the two-letter code: ${named}`;
  return /^[a-z]{2}$/i.test(cell) && Object.values(STATES).includes(cell.toUpperCase())
    ? `Use capitals: ${cell.toUpperCase()}`
    : null;
}
