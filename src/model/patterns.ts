/**
 * Named patterns an input may take (`format: "us-zip"`) instead of a regular expression. Each says in
 * words what it accepts: that description is what a rep reads when a value does not fit, never the
 * expression itself.
 */
export interface PatternPreset {
  id: string;
  label: string;
  /** The expression values must match, whole (anchored). */
  pattern: string;
  /** What a value must look like, for the person typing it. */
  description: string;
  /** A value that fits, for a form's placeholder before anything is typed. */
  example: string;
}

export const PATTERN_PRESETS = [
  {
    id: 'us-zip',
    label: 'US ZIP code',
    pattern: '^[0-9]{5}(-[0-9]{4})?$',
    description: '5 digits, or ZIP+4 such as 04101-1234',
    example: '04101',
  },
  {
    id: 'us-state',
    label: 'US state',
    pattern: '^[A-Z]{2}$',
    description: "the state's two-letter postal code in capitals, such as ME",
    example: 'ME',
  },
  {
    id: 'us-phone',
    label: 'US phone number',
    pattern: '^(\\+?1[ .-]?)?(\\([0-9]{3}\\)|[0-9]{3})[ .-]?[0-9]{3}[ .-]?[0-9]{4}$',
    description: 'a 10-digit US number such as (207) 555-0123 or 207-555-0123',
    example: '(207) 555-0123',
  },
  {
    id: 'licence-number',
    label: 'Licence number',
    pattern: '^[A-Z0-9][A-Z0-9-]{3,19}$',
    description: '4 to 20 capital letters, digits or hyphens, such as ME-1234567',
    example: 'ME-1234567',
  },
  {
    id: 'record-id',
    label: 'Record ID',
    pattern: '^[A-Za-z0-9_-]+$',
    description: 'letters, digits, hyphens and underscores only, with no spaces',
    example: 'ID-1',
  },
  {
    id: 'digits',
    label: 'Digits only',
    pattern: '^[0-9]+$',
    description: 'digits only, such as 12345',
    example: '12345',
  },
  {
    id: 'caps-digits',
    label: 'Capital letters and digits',
    pattern: '^[A-Z0-9]+$',
    description: 'capital letters and digits only, such as AB123',
    example: 'AB123',
  },
  {
    id: 'imb-serial',
    label: 'Mail piece serial number',
    pattern: '^[0-9]{9}$',
    description: 'exactly 9 digits, such as 000000123',
    example: '000000123',
  },
] as const satisfies readonly PatternPreset[];

export type PatternId = (typeof PATTERN_PRESETS)[number]['id'];

export const PATTERN_IDS = PATTERN_PRESETS.map((p) => p.id) as [PatternId, ...PatternId[]];

export function patternPreset(id: PatternId): PatternPreset {
  return PATTERN_PRESETS.find((p) => p.id === id)!;
}

/** What a value of an input with this pattern must look like, in words. */
export function patternWords(input: { format?: PatternId; patternHelp?: string }): string {
  if (input.format !== undefined) return patternPreset(input.format).description;
  return input.patternHelp ?? 'not in the form this field needs';
}

/** The expression an input's values must match: its preset's, its own, or none. */
export function inputPattern(input: { format?: PatternId; pattern?: string }): string | undefined {
  return input.format !== undefined ? patternPreset(input.format).pattern : input.pattern;
}
