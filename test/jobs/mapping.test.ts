import { describe, expect, it } from 'vitest';
import { type Problem, PlatenError } from '../../src/errors.js';
import { mapColumns, normalizeName, parseMapEntries, prospectOf } from '../../src/jobs/mapping.js';
import type { InputDef } from '../../src/model/manifest.js';

const text = (extra: Partial<InputDef> = {}): InputDef => ({ type: 'text', required: false, ...extra });

/** The prospect inputs of a typical mailer. */
const INPUTS: Record<string, InputDef> = {
  id: text({ required: true }),
  firstName: text({ required: true, label: 'Given name' }),
  lastName: text({ required: true }),
  company: text(),
  email: text({ type: 'email' }),
  tier: text({ type: 'choice', choices: ['gold', 'silver'], required: true, default: 'silver' }),
};

function mappingProblems(fn: () => unknown): Problem[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PlatenError);
    expect((err as PlatenError).code).toBe('invalid_mapping');
    return (err as PlatenError).problems;
  }
  throw new Error('expected an invalid_mapping error');
}

describe('normalizeName', () => {
  it('reduces spreadsheet and code spellings to one name', () => {
    for (const name of ['First Name', 'first_name', 'first-name', 'FIRSTNAME', 'firstName', ' First  Name: '])
      expect(normalizeName(name)).toBe('firstname');
  });

  it('keeps digits and drops accents', () => {
    expect(normalizeName('Address Line 2')).toBe('addressline2');
    expect(normalizeName('Prénom')).toBe('prenom');
    expect(normalizeName('E-Mail')).toBe('email');
    expect(normalizeName('— #')).toBe('');
  });
});

describe('parseMapEntries', () => {
  it('reads --map values and JSON objects alike', () => {
    expect(
      parseMapEntries([
        'Given Name=firstName',
        ' Surname = lastName ',
        '{"Company Name": "company", "E-mail": "email"}',
        'Given Name=firstName', // repeated, same target: harmless
      ]),
    ).toEqual({
      'Given Name': 'firstName',
      Surname: 'lastName',
      'Company Name': 'company',
      'E-mail': 'email',
    });
  });

  it('lets a column name contain "="', () => {
    expect(parseMapEntries(['a=b=id'])).toEqual({ 'a=b': 'id' });
  });

  it('keeps a column named __proto__ as a column', () => {
    const mapping = parseMapEntries(['{"__proto__": "id"}']);
    expect(Object.keys(mapping)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(mapping)).toBe(Object.prototype);
  });

  it('names every bad entry', () => {
    const problems = mappingProblems(() =>
      parseMapEntries([
        'Given Name',
        '=firstName',
        'Surname=',
        '{"a": 1}',
        '{not json',
        '["a"]',
        'Email=email',
        'Email=company',
      ]),
    );
    expect(problems.map((p) => [p.path, p.rule])).toEqual([
      ['map[0]', 'syntax'],
      ['map[1]', 'empty_column'],
      ['map[2]', 'empty_input'],
      ['map[3].a', 'invalid_json'],
      ['map[4]', 'invalid_json'],
      ['map[5]', 'syntax'],
      ['map[7]', 'conflict'],
    ]);
    expect(problems[0]?.message).toContain('"column=input"');
    expect(problems[6]?.message).toBe('maps "Email" to company, but it is already mapped to email');
  });
});

describe('mapColumns', () => {
  it('maps by normalized name, in the template order, and lists the rest', () => {
    const mapping = mapColumns(['E-Mail', 'ID', 'first_name', 'Last Name', 'Notes', 'tier'], INPUTS);
    expect(mapping).toEqual({
      columns: { id: 'ID', firstName: 'first_name', lastName: 'Last Name', email: 'E-Mail', tier: 'tier' },
      missingRequired: [],
      unused: ['Notes'],
    });
    expect(Object.keys(mapping.columns)).toEqual(['id', 'firstName', 'lastName', 'email', 'tier']);
  });

  it('matches an input by its label', () => {
    expect(mapColumns(['id', 'Given Name', 'lastName'], INPUTS).columns.firstName).toBe('Given Name');
  });

  it('prefers a name match to a label match, and an exact name to a loose one', () => {
    const byName = mapColumns(['id', 'Given Name', 'First Name', 'lastName'], INPUTS);
    expect(byName.columns.firstName).toBe('First Name');
    expect(byName.unused).toEqual(['Given Name']);
    const exact = mapColumns(['id', 'first_name', 'firstName', 'lastName'], INPUTS);
    expect(exact.columns.firstName).toBe('firstName');
    expect(exact.unused).toEqual(['first_name']);
  });

  it('lists required inputs without a column; a default stands in for one', () => {
    const mapping = mapColumns(['Email', 'Company'], INPUTS);
    expect(mapping.missingRequired).toEqual(['id', 'firstName', 'lastName']);
    expect(mapping.columns).toEqual({ company: 'Company', email: 'Email' });
    expect(mapping.unused).toEqual([]);
  });

  it('applies overrides first', () => {
    const mapping = mapColumns(['Customer', 'Vorname', 'Nachname', 'Firma', 'Company'], INPUTS, {
      Customer: 'id',
      ' Vorname ': 'firstName',
      Nachname: 'lastName',
      Firma: 'company',
    });
    expect(mapping.columns).toEqual({
      id: 'Customer',
      firstName: 'Vorname',
      lastName: 'Nachname',
      company: 'Firma',
    });
    // The automatic match for company would have been "Company": the override wins, the column is unused.
    expect(mapping.unused).toEqual(['Company']);
    expect(mapping.missingRequired).toEqual([]);
  });

  it('takes overrides as parseMapEntries gives them', () => {
    const overrides = parseMapEntries(['Given Name=firstName', '{"Surname": "lastName"}']);
    const mapping = mapColumns(['Customer ID', 'Given Name', 'Surname'], INPUTS, overrides);
    expect(mapping.columns).toEqual({ firstName: 'Given Name', lastName: 'Surname' });
    expect(mapping.missingRequired).toEqual(['id']);
    expect(mapping.unused).toEqual(['Customer ID']);
  });

  it('refuses overrides naming an unknown column or input, or feeding one input twice', () => {
    const problems = mappingProblems(() =>
      mapColumns(['Given Name', 'Surname', 'Mail', 'constructor'], INPUTS, {
        'given name': 'firstName',
        Surname: 'LastName',
        Mail: 'phone',
        constructor: 'toString',
        'Given Name': 'email',
        __proto__: 'id',
      }),
    );
    expect(problems).toEqual([
      {
        path: 'map.given name',
        rule: 'unknown_column',
        message: 'no column "given name" (did you mean "Given Name"?)',
      },
      {
        path: 'map.Surname',
        rule: 'unknown_input',
        message: 'the template has no prospect input "LastName" (did you mean "lastName"?)',
      },
      { path: 'map.Mail', rule: 'unknown_input', message: 'the template has no prospect input "phone"' },
      {
        path: 'map.constructor',
        rule: 'unknown_input',
        message: 'the template has no prospect input "toString"',
      },
      // __proto__ in an object literal sets the prototype: it is no entry, and nothing reads it as one.
    ]);
    const twice = mappingProblems(() => mapColumns(['A', 'B'], INPUTS, { A: 'email', B: 'email' }));
    expect(twice).toEqual([
      { path: 'map.B', rule: 'duplicate_input', message: 'email is already fed by the column "A"' },
    ]);
  });

  it('refuses to guess between columns that match an input equally', () => {
    const problems = mappingProblems(() =>
      mapColumns(['id', 'First Name', 'first_name', 'lastName'], INPUTS),
    );
    expect(problems).toEqual([
      {
        path: 'prospect.firstName',
        rule: 'ambiguous_column',
        message: 'columns "First Name", "first_name" all match firstName: map one of them to it explicitly',
      },
    ]);
    // An override settles it.
    expect(
      mapColumns(['id', 'First Name', 'first_name', 'lastName'], INPUTS, { 'First Name': 'firstName' }),
    ).toEqual({
      columns: { id: 'id', firstName: 'First Name', lastName: 'lastName' },
      missingRequired: [],
      unused: ['first_name'],
    });
  });

  it('refuses to guess between inputs that match one column equally', () => {
    const inputs = { postCode: text(), post_code: text() };
    expect(mappingProblems(() => mapColumns(['Post Code'], inputs))).toEqual([
      {
        path: 'map.Post Code',
        rule: 'ambiguous_column',
        message: 'the column "Post Code" matches postCode, post_code: map it to one of them explicitly',
      },
    ]);
  });

  it('feeds each column to one input only', () => {
    // "Email" matches email by name and contact by label; the name match comes first.
    const inputs = { email: text(), contact: text({ label: 'E-mail' }) };
    expect(mapColumns(['Email'], inputs)).toEqual({
      columns: { email: 'Email' },
      missingRequired: [],
      unused: [],
    });
  });

  it('matches the names spreadsheets use for an address, whatever their case, spaces or punctuation', () => {
    const mailer: Record<string, InputDef> = {
      firstName: text({ label: 'First name' }),
      lastName: text({ label: 'Last name' }),
      company: text(),
      address1: text({ label: 'Street address' }),
      address2: text({ label: 'Apartment, suite, unit' }),
      city: text(),
      state: text(),
      zip: text({ label: 'ZIP code' }),
      email: text({ type: 'email' }),
    };
    const lists: string[][] = [
      ['Given Name', 'Surname', 'Organisation', 'Street', 'Suite', 'Town', 'ST', 'Postal Code', 'E-mail'],
      [
        'first',
        'LAST',
        'Company Name',
        'Address 1',
        'Address Line 2',
        'town/city',
        'State',
        'Zip Code',
        'Email Address',
      ],
      ['FORENAME', 'family_name', 'organization', 'address', 'apt', 'City', 'st.', 'Postcode', 'e_mail'],
      ['First Name', 'Last Name', 'Company', 'Street Address', 'Unit', 'City', 'Province', 'zip', 'EMAIL'],
    ];
    for (const headers of lists) {
      const { columns, unused } = mapColumns(headers, mailer);
      expect(Object.values(columns), headers.join(', ')).toEqual(headers);
      expect(unused).toEqual([]);
    }
  });

  it('leaves an input to the person when a synonym names two columns, and guesses nothing', () => {
    const inputs = { address1: text({ label: 'Street address' }), zip: text({ required: true }) };
    expect(mapColumns(['Street', 'Address', 'Postcode'], inputs)).toEqual({
      columns: { zip: 'Postcode' },
      missingRequired: [],
      unused: ['Street', 'Address'],
    });
    // A close name still wins over a synonym, without ambiguity.
    expect(mapColumns(['Street', 'Street Address'], inputs).columns).toEqual({ address1: 'Street Address' });
  });

  it('matches no synonym for an input outside the groups', () => {
    expect(mapColumns(['Surname'], { tier: text() }).unused).toEqual(['Surname']);
  });

  it('never matches a label with nothing in it', () => {
    const inputs = { note: text({ label: '—' }) };
    expect(mapColumns(['#'], inputs).unused).toEqual(['#']);
  });
});

describe('prospectOf', () => {
  it('takes the mapped cells under their input names', () => {
    const mapping = mapColumns(['ID', 'First Name', 'Last Name', 'Notes'], INPUTS);
    expect(
      prospectOf({ ID: '7', 'First Name': ' Ann ', 'Last Name': 'Lee', Notes: 'call back' }, mapping),
    ).toEqual({ id: '7', firstName: ' Ann ', lastName: 'Lee' });
  });

  it('reads own cells only', () => {
    const mapping = { columns: { id: 'constructor' }, missingRequired: [], unused: [] };
    expect(prospectOf({}, mapping)).toEqual({ id: '' });
  });
});
