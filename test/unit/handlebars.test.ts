import { describe, expect, it } from 'vitest';
import type { MergeContext } from '../../src/model/record.js';
import { BOLD_TOGGLE, compileText, ITALIC_TOGGLE, TemplateSyntaxError } from '../../src/text/handlebars.js';
import { spansOf } from '../../src/text/spans.js';

const DECLARED = new Set([
  'rep.name',
  'prospect.firstName',
  'prospect.company',
  'prospect.line',
  'prospect.id',
  'fields.date',
  'fields.note',
  'fields.flag',
]);
const declared = (path: string) => DECLARED.has(path);

/** A context with every declared input present (as merge builds it), overridden by `values`. */
function context(values: Record<string, unknown> = {}): MergeContext {
  const ctx: MergeContext = { rep: {}, prospect: {}, fields: {}, piece: {} };
  for (const path of DECLARED) {
    const [scope, key] = path.split('.') as [keyof MergeContext, string];
    ctx[scope][key] = values[path] ?? '';
  }
  return ctx;
}

function render(source: string, values: Record<string, unknown> = {}, emphasis = false): string {
  return compileText(source, declared, { emphasis }).render(context(values));
}

function syntaxError(source: string): TemplateSyntaxError {
  try {
    compileText(source, declared);
  } catch (error) {
    expect(error).toBeInstanceOf(TemplateSyntaxError);
    return error as TemplateSyntaxError;
  }
  throw new Error(`expected ${JSON.stringify(source)} to be rejected`);
}

describe('compileText: paths', () => {
  it('renders declared paths and reports which it reads', () => {
    const compiled = compileText('Dear {{prospect.firstName}}, from {{rep.name}}.', declared);
    expect([...compiled.paths].sort()).toEqual(['prospect.firstName', 'rep.name']);
    expect(compiled.render(context({ 'prospect.firstName': 'Bo', 'rep.name': 'Ann Lee' }))).toBe(
      'Dear Bo, from Ann Lee.',
    );
  });

  it('collects paths read inside blocks and helper arguments', () => {
    const compiled = compileText(
      '{{#if prospect.company}}{{upper prospect.company}}{{else}}{{default fields.note "x"}}{{/if}}',
      declared,
    );
    expect([...compiled.paths].sort()).toEqual(['fields.note', 'prospect.company']);
  });

  it('prints data as written: no HTML escaping', () => {
    const company = 'Smith & Sons <Ltd> "quoted" \'single\' `tick` =';
    expect(render('{{prospect.company}}', { 'prospect.company': company })).toBe(company);
    expect(render('{{{prospect.company}}}', { 'prospect.company': company })).toBe(company);
    expect(render('{{upper prospect.company}}', { 'prospect.company': 'a&b' })).toBe('A&B');
  });

  it('prints booleans and empty values as text', () => {
    expect(render('[{{fields.flag}}]', { 'fields.flag': true })).toBe('[true]');
    expect(render('[{{fields.flag}}]', { 'fields.flag': false })).toBe('[false]');
    expect(render('[{{prospect.company}}]')).toBe('[]');
  });

  it('rejects an undeclared path', () => {
    const error = syntaxError('Hi {{prospect.ssn}}');
    expect(error.message).toBe(`"prospect.ssn" is not declared in the template's prospect, rep or fields`);
  });

  it('rejects an undeclared path inside a block and inside a subexpression', () => {
    expect(syntaxError('{{#if prospect.vip}}VIP{{/if}}').message).toContain('"prospect.vip"');
    expect(syntaxError('{{#if (eq prospect.tier "gold")}}G{{/if}}').message).toContain('"prospect.tier"');
  });

  it.each([
    ['{{this}}', 'this'],
    ['{{this.prospect.firstName}}', 'this.prospect.firstName'],
    ['{{../prospect.firstName}}', '../prospect.firstName'],
    ['{{@index}}', '@index'],
    ['{{@root.prospect.firstName}}', '@root.prospect.firstName'],
    ['{{prospect}}', 'prospect'],
    ['{{prospect.firstName.length}}', 'prospect.firstName.length'],
    ['{{prospect/firstName}}', 'prospect/firstName'],
  ])('rejects %s as not a record path', (source, shown) => {
    expect(syntaxError(source).message).toBe(
      `"${shown}" is not a record path (use rep.X, prospect.X, fields.X, piece.url or piece.code)`,
    );
  });

  it('rejects prototype paths even when they look like record paths', () => {
    expect(syntaxError('{{prospect.constructor}}').message).toContain('not declared');
    expect(syntaxError('{{prospect.__proto__}}').message).toContain('not declared');
  });
});

describe('compileText: forbidden constructs', () => {
  it('rejects partials', () => {
    expect(syntaxError('{{> p}}').message).toBe('partials are not allowed in templates');
  });

  it('rejects partial blocks and decorators', () => {
    expect(syntaxError('{{#> layout}}x{{/layout}}').message).toMatch(/not allowed/);
    expect(syntaxError('{{* inline}}').message).toMatch(/not allowed/);
  });

  it.each(['each', 'with', 'lookup', 'log', 'helperMissing', 'blockHelperMissing'])(
    'rejects {{#%s}} as a block',
    (name) => {
      expect(syntaxError(`{{#${name} prospect.firstName}}x{{/${name}}}`).message).toBe(
        `unknown block helper "${name}" (allowed: if, unless)`,
      );
    },
  );

  it('rejects lookup and log as helpers', () => {
    expect(syntaxError('{{lookup prospect "firstName"}}').message).toContain('unknown helper "lookup"');
    expect(syntaxError('{{log prospect.firstName}}').message).toContain('unknown helper "log"');
  });

  it('rejects an unknown helper', () => {
    const error = syntaxError('{{shout prospect.firstName}}');
    expect(error.message).toBe('unknown helper "shout" (allowed: upper, lower, default, url, eq, date)');
  });

  it('rejects an unknown helper in a subexpression', () => {
    expect(syntaxError('{{upper (shout prospect.firstName)}}').message).toContain('unknown helper "shout"');
  });

  it('rejects hash arguments', () => {
    expect(syntaxError('{{upper prospect.firstName locale="tr"}}').message).toBe(
      'hash arguments (key=value) are not allowed',
    );
    expect(syntaxError('{{#if prospect.company x=1}}y{{/if}}').message).toBe(
      'hash arguments (key=value) are not allowed',
    );
  });

  it('rejects helpers with the wrong number of arguments', () => {
    expect(syntaxError('{{upper prospect.firstName rep.name}}').message).toBe(
      'helper "upper" takes 1 argument(s), got 2',
    );
    expect(syntaxError('{{default prospect.company}}').message).toBe(
      'helper "default" takes 2 argument(s), got 1',
    );
    expect(syntaxError('{{#if prospect.company rep.name}}x{{/if}}').message).toBe(
      '{{#if}} takes one argument',
    );
  });

  it('rejects a helper name used as a path', () => {
    expect(syntaxError('{{upper}}').message).toContain('not a record path');
  });

  it('rejects malformed templates with a syntax message', () => {
    expect(syntaxError('{{#if prospect.company}}open').message).toMatch(/^template syntax: /);
    expect(syntaxError('{{prospect.firstName').message).toMatch(/^template syntax: /);
  });
});

describe('compileText: helpers', () => {
  it('upper and lower', () => {
    expect(render('{{upper prospect.firstName}}', { 'prospect.firstName': 'Zoë' })).toBe('ZOË');
    expect(render('{{lower prospect.firstName}}', { 'prospect.firstName': 'ÉMILE' })).toBe('émile');
  });

  it('default uses the fallback only for empty values', () => {
    const source = '{{default prospect.company "your business"}}';
    expect(render(source)).toBe('your business');
    expect(render(source, { 'prospect.company': 'Acme' })).toBe('Acme');
  });

  it('url percent-encodes a path segment', () => {
    expect(render('https://x.example/q/{{url prospect.id}}', { 'prospect.id': 'a b&c/d?e=é' })).toBe(
      'https://x.example/q/a%20b%26c%2Fd%3Fe%3D%C3%A9',
    );
  });

  it('eq compares strictly', () => {
    expect(render('{{eq prospect.line "auto"}}', { 'prospect.line': 'auto' })).toBe('true');
    expect(render('{{eq prospect.line "auto"}}', { 'prospect.line': 'Auto' })).toBe('false');
  });

  it('eq drives conditional blocks through a subexpression', () => {
    const source = '{{#if (eq prospect.line "auto")}}Drive safe{{else}}Stay safe{{/if}}';
    expect(render(source, { 'prospect.line': 'auto' })).toBe('Drive safe');
    expect(render(source, { 'prospect.line': 'home' })).toBe('Stay safe');
  });

  it('unless is the inverse of if', () => {
    const source = '{{#unless prospect.company}}no company{{/unless}}';
    expect(render(source)).toBe('no company');
    expect(render(source, { 'prospect.company': 'Acme' })).toBe('');
  });

  it('date formats ISO dates as long, short and iso', () => {
    const values = { 'fields.date': '2024-03-05' };
    expect(render('{{date fields.date "long"}}', values)).toBe('March 5, 2024');
    expect(render('{{date fields.date "short"}}', values)).toBe('Mar 5, 2024');
    expect(render('{{date fields.date "iso"}}', values)).toBe('2024-03-05');
  });

  it('date is stable at the year boundary (formatted in UTC)', () => {
    expect(render('{{date fields.date "long"}}', { 'fields.date': '2025-01-01' })).toBe('January 1, 2025');
    expect(render('{{date fields.date "short"}}', { 'fields.date': '2024-12-31' })).toBe('Dec 31, 2024');
  });

  it('date leaves empty and unparseable values as they are', () => {
    expect(render('[{{date fields.date "long"}}]')).toBe('[]');
    expect(render('{{date fields.date "long"}}', { 'fields.date': 'next week' })).toBe('next week');
  });

  it('helpers nest', () => {
    expect(render('{{upper (default prospect.company "friend")}}')).toBe('FRIEND');
  });
});

describe('compileText: emphasis', () => {
  it('turns **bold** and *italic* in the template into toggle markers', () => {
    expect(render('**Hi** *there*', {}, true)).toBe(
      `${BOLD_TOGGLE}Hi${BOLD_TOGGLE} ${ITALIC_TOGGLE}there${ITALIC_TOGGLE}`,
    );
  });

  it('marks emphasis around a value, never inside it', () => {
    const out = render('**{{prospect.company}}**', { 'prospect.company': 'a**b*c' }, true);
    expect(out).toBe(`${BOLD_TOGGLE}a**b*c${BOLD_TOGGLE}`);
  });

  it('keeps stars that come from data literal', () => {
    const out = render('{{fields.note}}', { 'fields.note': '**not bold** *nor italic*' }, true);
    expect(out).toBe('**not bold** *nor italic*');
    expect(out).not.toContain(BOLD_TOGGLE);
    expect(out).not.toContain(ITALIC_TOGGLE);
  });

  it('prints \\* as a literal star', () => {
    expect(render('5\\* service, \\*\\*really\\*\\*', {}, true)).toBe('5* service, **really**');
  });

  it('leaves stars alone without the emphasis option', () => {
    expect(render('**Hi** *there*')).toBe('**Hi** *there*');
  });

  it('does not touch stars inside mustaches', () => {
    expect(render('{{default prospect.company "*"}}', {}, true)).toBe('*');
  });
});

describe('spansOf', () => {
  const B = BOLD_TOGGLE;
  const I = ITALIC_TOGGLE;

  it('gives a text without markers as one plain span, the very string', () => {
    const text = 'Dear Ana, 🎉 naïve café';
    const spans = spansOf(text, false);
    expect(spans).toEqual([{ text, bold: false, italic: false }]);
    expect(spans[0]!.text).toBe(text);
  });

  it('splits at each marker, toggling bold and italic, nesting and adjacent', () => {
    expect(spansOf(`a ${B}b ${I}c${B} d${I}${B}${B} e`, false)).toEqual([
      { text: 'a ', bold: false, italic: false },
      { text: 'b ', bold: true, italic: false },
      { text: 'c', bold: true, italic: true },
      { text: ' d', bold: false, italic: true },
      { text: ' e', bold: false, italic: false },
    ]);
    expect(spansOf(`${B}${I}`, false)).toEqual([]);
    expect(spansOf(`${I}🎉${I}x`, false)).toEqual([
      { text: '🎉', bold: false, italic: true },
      { text: 'x', bold: false, italic: false },
    ]);
  });

  it('upper-cases each span when the element asks', () => {
    expect(spansOf(`straße ${B}ok`, true)).toEqual([
      { text: 'STRASSE ', bold: false, italic: false },
      { text: 'OK', bold: true, italic: false },
    ]);
  });
});

describe('compileText: prototypes are out of reach', () => {
  it('prints a value that is the string "constructor" as just that string', () => {
    for (const value of ['constructor', '__proto__', 'toString', 'prototype']) {
      expect(render('{{prospect.company}}', { 'prospect.company': value })).toBe(value);
      expect(render('{{upper prospect.company}}', { 'prospect.company': value })).toBe(value.toUpperCase());
      expect(render('{{default prospect.company "x"}}', { 'prospect.company': value })).toBe(value);
    }
  });

  it('never reads inherited properties, even for a path a careless predicate declares', () => {
    const compiled = compileText('[{{prospect.constructor}}][{{prospect.toString}}]', () => true);
    expect(compiled.render({ rep: {}, prospect: {}, fields: {}, piece: {} })).toBe('[][]');
    // Own properties of the same names are ordinary data.
    const own = { constructor: 'c', toString: 't' } as unknown as Record<string, unknown>;
    expect(compiled.render({ rep: {}, prospect: own, fields: {}, piece: {} })).toBe('[c][t]');
  });

  it('leaves Object.prototype untouched after rendering hostile values', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": "yes"}}') as unknown;
    render('{{prospect.company}}{{fields.note}}', {
      'prospect.company': hostile,
      'fields.note': 'constructor',
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
