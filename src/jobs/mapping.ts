import { joinPath, type Problem, PlatenError } from '../errors.js';
import { jsonDepthProblem } from '../json.js';
import type { InputDef } from '../model/manifest.js';
import { quoted, visible } from './visible.js';

/**
 * Which CSV column feeds which prospect input. Spreadsheets name columns for people (`First Name`),
 * templates for code (`firstName`): names are matched loosely, and whatever the loose match cannot
 * decide is said explicitly with overrides (`--map "Given Name=firstName"`).
 */

/** 'First Name', 'first_name', 'first-name', 'FIRSTNAME', 'firstName' → 'firstname' (lowercase, letters and digits only). */
export function normalizeName(name: string): string {
  // Accents are dropped too, so a "Prénom" column matches a `prenom` input (keys are ASCII identifiers).
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/** Parses '--map "Given Name=firstName"' values (repeatable) and JSON mapping objects { "Given Name": "firstName" } alike; throws PlatenError('invalid_mapping', [...]) naming a bad entry. */
export function parseMapEntries(entries: readonly string[]): Record<string, string> {
  const mapping = new Map<string, string>();
  const problems: Problem[] = [];
  const add = (path: string, header: string, input: string) => {
    const name = header.trim();
    const key = input.trim();
    const previous = mapping.get(name);
    if (name === '') problems.push(mapProblem(path, 'empty_column', 'names no column'));
    else if (key === '') problems.push(mapProblem(path, 'empty_input', `maps ${quoted(name)} to no input`));
    else if (previous !== undefined && previous !== key)
      problems.push(
        mapProblem(
          path,
          'conflict',
          `maps ${quoted(name)} to ${visible(key)}, but it is already mapped to ${visible(previous)}`,
        ),
      );
    else mapping.set(name, key);
  };
  entries.forEach((entry, i) => {
    const path = joinPath('map', [i]);
    if (entry.trimStart().startsWith('{')) {
      const tooDeep = jsonDepthProblem(entry, path);
      if (tooDeep) return void problems.push(tooDeep);
      // Starting with "{", valid JSON can only be an object.
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(entry) as Record<string, unknown>;
      } catch (err) {
        problems.push(mapProblem(path, 'invalid_json', `not valid JSON: ${(err as Error).message}`));
        return;
      }
      for (const [header, input] of Object.entries(parsed)) {
        if (typeof input === 'string') add(joinPath(path, [header]), header, input);
        else problems.push(mapProblem(joinPath(path, [header]), 'invalid_json', 'expected an input name'));
      }
      return;
    }
    // Input names are identifiers, never containing "=": the last one separates, so a column name may hold one.
    const at = entry.lastIndexOf('=');
    if (at < 0) problems.push(mapProblem(path, 'syntax', `expected "column=input", got ${quoted(entry)}`));
    else add(path, entry.slice(0, at), entry.slice(at + 1));
  });
  if (problems.length > 0) throw new PlatenError('invalid_mapping', problems);
  // fromEntries makes own properties: a column named __proto__ stays a column.
  return Object.fromEntries(mapping);
}

export interface ColumnMapping {
  /** prospect input key → CSV header that feeds it. */
  columns: Record<string, string>;
  /** Required prospect inputs with no column: the job must not start. */
  missingRequired: string[];
  /** CSV headers that feed nothing (reported to the user; not an error). */
  unused: string[];
}

type Matcher = (header: string) => boolean;

/**
 * What spreadsheets call the things mail is addressed with, normalized (see normalizeName): an input
 * whose name or label is one of a group's names takes a column named by any other of them.
 */
const SYNONYMS: readonly (readonly string[])[] = [
  ['firstname', 'givenname', 'forename', 'first', 'fname'],
  ['lastname', 'surname', 'familyname', 'last', 'lname'],
  ['fullname', 'name', 'contactname'],
  [
    'company',
    'companyname',
    'organisation',
    'organization',
    'organisationname',
    'organizationname',
    'business',
    'businessname',
    'employer',
    'org',
  ],
  [
    'address1',
    'address',
    'street',
    'streetaddress',
    'addressline1',
    'line1',
    'street1',
    'mailingaddress',
    'address1line',
  ],
  [
    'address2',
    'addressline2',
    'line2',
    'street2',
    'apt',
    'apartment',
    'suite',
    'unit',
    'aptsuite',
    'aptsuiteunit',
    'apartmentsuiteunit',
  ],
  ['city', 'town', 'towncity', 'citytown', 'locality', 'suburb'],
  ['state', 'st', 'stateprovince', 'province', 'region', 'statecode'],
  ['zip', 'zipcode', 'postalcode', 'postcode', 'postal', 'zip5', 'zippostalcode', 'postalzipcode'],
  ['country', 'countrycode', 'countryname'],
  ['email', 'emailaddress'],
  ['phone', 'phonenumber', 'telephone', 'tel', 'mobile', 'cell', 'cellphone', 'mobilephone'],
  ['id', 'prospectid', 'recordid'],
];

/** The synonyms of a normalized name, itself included; none for a name no group has. */
function synonymsOf(name: string): readonly string[] {
  return SYNONYMS.find((group) => group.includes(name)) ?? [];
}

/** A tier's matcher of headers to one input; `lenient` tiers leave an ambiguous input unmatched. */
interface Tier {
  matcher: (key: string, def: InputDef) => Matcher | undefined;
  lenient?: true;
}

/**
 * Automatic matching, strongest first: a column named exactly as the input, then by normalized name,
 * then by the input's normalized label, then by a synonym of either (Surname for lastName, Postal
 * Code for a "ZIP code"). A stronger match is never displaced by a weaker one. Synonyms are loose:
 * where one names several columns or inputs, it decides nothing and the person chooses.
 */
const TIERS: Tier[] = [
  { matcher: (key) => (header) => header === key },
  {
    matcher: (key) => {
      const name = normalizeName(key);
      return (header) => normalizeName(header) === name;
    },
  },
  {
    matcher: (_key, def) => {
      const label = def.label === undefined ? '' : normalizeName(def.label);
      return label === '' ? undefined : (header) => normalizeName(header) === label;
    },
  },
  {
    matcher: (key, def) => {
      const names = new Set([
        ...synonymsOf(normalizeName(key)),
        ...(def.label === undefined ? [] : synonymsOf(normalizeName(def.label))),
      ]);
      return names.size === 0 ? undefined : (header) => names.has(normalizeName(header));
    },
    lenient: true,
  },
];

/** Maps CSV headers to the template's prospect inputs: explicit overrides first (header=input; an override naming an unknown header or an undeclared input is a PlatenError 'invalid_mapping'), then automatic by normalizeName equality (also matching an input's `label` normalized). A header may feed one input only. */
export function mapColumns(
  headers: readonly string[],
  inputs: Record<string, InputDef>,
  overrides: Record<string, string> = {},
): ColumnMapping {
  const fed = new Map<string, string>(); // input → header
  const used = new Set<string>();
  const problems: Problem[] = [];
  const headerSet = new Set(headers);
  const keys = Object.keys(inputs);

  for (const [rawHeader, rawInput] of Object.entries(overrides)) {
    // Headers are trimmed when read, and a JSON body may not be: compare like with like.
    const header = rawHeader.trim();
    const input = rawInput.trim();
    const path = joinPath('map', [rawHeader]);
    if (!headerSet.has(header)) {
      problems.push(
        mapProblem(path, 'unknown_column', `no column ${quoted(header)}${suggest(header, headers)}`),
      );
    } else if (!Object.hasOwn(inputs, input)) {
      problems.push(
        mapProblem(
          path,
          'unknown_input',
          `the template has no prospect input ${quoted(input)}${suggest(input, keys)}`,
        ),
      );
    } else if (fed.has(input)) {
      problems.push(
        mapProblem(
          path,
          'duplicate_input',
          `${input} is already fed by the column ${quoted(fed.get(input)!)}`,
        ),
      );
    } else {
      fed.set(input, header);
      used.add(header);
    }
  }
  if (problems.length > 0) throw new PlatenError('invalid_mapping', problems);

  for (const tier of TIERS) {
    const matches = new Map<string, string[]>(); // input → free headers it matches in this tier
    for (const [key, def] of Object.entries(inputs)) {
      const matcher = fed.has(key) ? undefined : tier.matcher(key, def);
      if (matcher === undefined) continue;
      const found = headers.filter((h) => !used.has(h) && matcher(h));
      if (found.length > 0) matches.set(key, found);
    }
    const claims = new Map<string, string[]>(); // header → inputs matching it in this tier
    for (const [key, found] of matches) for (const h of found) claims.set(h, [...(claims.get(h) ?? []), key]);
    if (tier.lenient) {
      for (const [key, found] of matches) {
        const [header] = found;
        if (found.length === 1 && header !== undefined && claims.get(header)?.length === 1) {
          fed.set(key, header);
          used.add(header);
        }
      }
      continue;
    }
    // An ambiguous match is refused rather than guessed: feeding the wrong column would print wrong
    // mail without an error.
    for (const [key, found] of matches) {
      if (found.length > 1) {
        problems.push(
          mapProblem(
            joinPath('prospect', [key]),
            'ambiguous_column',
            `columns ${found.map(quoted).join(', ')} all match ${key}: map one of them to it explicitly`,
          ),
        );
      }
    }
    for (const [header, claimants] of claims) {
      if (claimants.length > 1) {
        problems.push(
          mapProblem(
            joinPath('map', [header]),
            'ambiguous_column',
            `the column ${quoted(header)} matches ${claimants.join(', ')}: map it to one of them explicitly`,
          ),
        );
      }
    }
    if (problems.length > 0) throw new PlatenError('invalid_mapping', problems);
    for (const [key, [header]] of matches) {
      if (header === undefined) continue;
      fed.set(key, header);
      used.add(header);
    }
  }

  return {
    // In the template's order, whatever order overrides came in.
    columns: Object.fromEntries(
      keys.flatMap((key) => {
        const header = fed.get(key);
        return header === undefined ? [] : [[key, header] as const];
      }),
    ),
    // A default stands in for a missing column, as it does for a blank cell.
    missingRequired: keys.filter((key) => {
      const def = inputs[key];
      return def !== undefined && def.required && def.default === undefined && !fed.has(key);
    }),
    unused: headers.filter((h) => !used.has(h)),
  };
}

/** The prospect part of a record from a CSV row: { [input]: row.values[header] } for each mapped column. */
export function prospectOf(values: Record<string, string>, mapping: ColumnMapping): Record<string, string> {
  return Object.fromEntries(
    Object.entries(mapping.columns).map(([input, header]) => [
      input,
      // Own properties only: a header named like an Object.prototype member must not read it.
      Object.hasOwn(values, header) ? (values[header] ?? '') : '',
    ]),
  );
}

/** " (did you mean "X"?)" when a name differs from a known one only in case, spaces or punctuation. */
function suggest(name: string, known: readonly string[]): string {
  const close = known.find((k) => normalizeName(k) === normalizeName(name));
  return close === undefined ? '' : ` (did you mean ${quoted(close)}?)`;
}

function mapProblem(path: string, rule: string, message: string): Problem {
  return { path, rule, message };
}
