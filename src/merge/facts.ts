import type { PieceRecord } from '../model/record.js';
import type { CompiledTemplate } from '../model/template.js';

/** What a piece is traced by when a response comes, read from its record. */
export interface PieceFacts {
  /** Who received it: the record's `prospect.id`, when the template takes one. */
  recipientRef: string | null;
  /** The value of each choice input: which approved headline, which offer. */
  choices: Record<string, string>;
  /** The rep fields set to something other than their default. */
  edited: string[];
}

export function pieceFacts(compiled: CompiledTemplate, record: PieceRecord): PieceFacts {
  const id = record.prospect.id;
  const choices: Record<string, string> = {};
  for (const scope of ['prospect', 'rep', 'fields'] as const) {
    for (const [key, def] of Object.entries(compiled.inputs[scope])) {
      const value = record[scope][key] ?? def.default;
      if (def.type === 'choice' && typeof value === 'string') choices[`${scope}.${key}`] = value;
    }
  }
  const edited = Object.entries(compiled.inputs.fields)
    .filter(([key, def]) => {
      const value = record.fields[key];
      return value !== undefined && value !== '' && value !== def.default;
    })
    .map(([key]) => key);
  return { recipientRef: typeof id === 'string' && id !== '' ? id : null, choices, edited };
}

/**
 * The prospect's name as people read it: first and last name, else a full name, else the company;
 * '' when the record names no one. Templates name these inputs as the bundled ones do.
 */
export function prospectName(prospect: Record<string, unknown>): string {
  const text = (key: string) => {
    const value = prospect[key];
    return typeof value === 'string' ? value.trim() : '';
  };
  const person = [text('firstName'), text('lastName')].filter((part) => part !== '').join(' ');
  return person || text('name') || text('fullName') || text('company');
}
