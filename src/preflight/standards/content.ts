import { type Dict, Raw, Ref, type Value } from '../../pdf/syntax.js';
import { nameOf, numberOf, type PageView, type StandardsDocument } from './document.js';

/**
 * What a page paints with, as the colour and transparency rules need it: every colour space it
 * selects (by operator, by name from its resources, in images, inline images, shadings, patterns,
 * forms and transparency groups, nested to any depth), and every transparency feature it uses
 * (graphics states with soft masks, opacity or blend modes; soft-masked images; transparency groups).
 * Each is reported with the resources in scope, so a check can see a DefaultRGB there.
 */
export interface ContentVisitor {
  /** A colour space used; `families` is it expanded (Indexed and spot spaces to their bases). */
  color(families: Family[], where: string, resources: Dict | undefined): void;
  /** A graphics state set with `gs`. */
  graphicsState(state: Dict, where: string): void;
  /** A transparency feature outside graphics states: a soft-masked image, a transparency group. */
  transparency(what: string, where: string): void;
}

/**
 * A colour space family as found: a device space, a CIE-based one (ICCBased with its number of
 * components), or a special one whose base is listed after it.
 */
export type Family =
  | 'DeviceGray'
  | 'DeviceRGB'
  | 'DeviceCMYK'
  | 'CalGray'
  | 'CalRGB'
  | 'Lab'
  | `ICCBased/${number}`
  | 'Indexed'
  | 'Pattern'
  | 'Separation'
  | 'DeviceN'
  | 'unknown';

const PAGE = 'the page';

/**
 * Walks a page. `walked` is shared by the pages of a document: a form with resources of its own paints
 * the same wherever it is drawn, so it is walked once, on the first page that draws it (a drop's
 * static layers and recurring text are drawn on every page).
 */
export function walkPage(
  doc: StandardsDocument,
  page: PageView,
  visit: ContentVisitor,
  walked: Set<number>,
): void {
  const where = PAGE;
  const seen = new Set<number>();
  const group = doc.dict(page.dict.get('Group'));
  if (group) checkGroup(doc, group, where, page.resources, visit);
  const contents = page.dict.get('Contents');
  const streams = doc.array(contents) ?? (contents === undefined ? [] : [contents]);
  const data = streams.map((s) => doc.stream(s)?.toString('latin1') ?? '').join('\n');
  walkContent(doc, data, page.resources, where, visit, seen, walked, 0);
  // What annotations print is content too: the normal appearance (of each state) of those that print.
  for (const annotation of (doc.array(page.dict.get('Annots')) ?? []).map((a) => doc.dict(a))) {
    const flags = numberOf(annotation?.get('F')) ?? 0;
    if (!annotation || (flags & 4) === 0 || (flags & 2) !== 0) continue;
    const normal = doc.dict(annotation.get('AP'))?.get('N');
    const states = normal instanceof Ref ? [normal] : [...(doc.dict(normal)?.values() ?? [])];
    const at = `the appearance of a ${nameOf(annotation.get('Subtype')) ?? 'untyped'} annotation`;
    for (const state of states) walkForm(doc, state, undefined, at, visit, seen, walked, 0);
  }
}

function checkGroup(
  doc: StandardsDocument,
  group: Dict,
  where: string,
  resources: Dict | undefined,
  visit: ContentVisitor,
): void {
  if (nameOf(group.get('S')) !== 'Transparency') return;
  visit.transparency('a transparency group', where);
  const space = group.get('CS');
  if (space !== undefined)
    visit.color(families(doc, space, resources), `${where}’s transparency group`, resources);
}

const DEVICE: Record<string, Family> = {
  DeviceGray: 'DeviceGray',
  DeviceRGB: 'DeviceRGB',
  DeviceCMYK: 'DeviceCMYK',
  Pattern: 'Pattern',
  // Inline images' abbreviations (ISO 32000-1, 8.9.7).
  G: 'DeviceGray',
  RGB: 'DeviceRGB',
  CMYK: 'DeviceCMYK',
};

/** A colour space value expanded to its families; a name not a device space is looked up in resources. */
export function families(
  doc: StandardsDocument,
  value: Value | undefined,
  resources: Dict | undefined,
): Family[] {
  const out: Family[] = [];
  const expand = (v: Value | undefined, depth: number) => {
    if (depth > 6) return;
    const name = nameOf(v);
    if (name !== undefined) {
      const device = DEVICE[name];
      if (device) out.push(device);
      else {
        const named = doc.dict(resources?.get('ColorSpace'))?.get(name);
        if (named !== undefined) expand(named, depth + 1);
        else out.push('unknown');
      }
      return;
    }
    const array = doc.array(v);
    const family = nameOf(array?.[0]);
    if (!array || family === undefined) return void out.push('unknown');
    switch (family) {
      case 'CalGray':
      case 'CalRGB':
      case 'Lab':
        out.push(family);
        return;
      case 'ICCBased': {
        const n = numberOf(doc.dict(array[1])?.get('N'));
        out.push(`ICCBased/${n ?? 0}`);
        return;
      }
      case 'Indexed':
      case 'I':
        out.push('Indexed');
        return expand(array[1], depth + 1);
      case 'Pattern':
        out.push('Pattern');
        if (array[1] !== undefined) expand(array[1], depth + 1);
        return;
      case 'Separation':
        out.push('Separation');
        return expand(array[2], depth + 1);
      case 'DeviceN':
        out.push('DeviceN');
        return expand(array[2], depth + 1);
      default: {
        const device = DEVICE[family];
        out.push(device ?? 'unknown');
      }
    }
  };
  expand(value, 0);
  return out;
}

/** A form, a tiling pattern's cell or an appearance: content with resources of its own (or its caller's). */
function walkForm(
  doc: StandardsDocument,
  ref: Value | undefined,
  resources: Dict | undefined,
  where: string,
  visit: ContentVisitor,
  seen: Set<number>,
  walked: Set<number>,
  depth: number,
): void {
  if (!(ref instanceof Ref) || seen.has(ref.n) || walked.has(ref.n) || depth >= 12) return;
  seen.add(ref.n);
  const dict = doc.dict(ref);
  const ownResources = doc.dict(dict?.get('Resources'));
  if (ownResources) walked.add(ref.n);
  const own = ownResources ?? resources;
  const group = doc.dict(dict?.get('Group'));
  if (group) checkGroup(doc, group, where, own, visit);
  walkContent(doc, doc.stream(ref)?.toString('latin1') ?? '', own, where, visit, seen, walked, depth + 1);
}

function walkContent(
  doc: StandardsDocument,
  content: string,
  resources: Dict | undefined,
  where: string,
  visit: ContentVisitor,
  seen: Set<number>,
  walked: Set<number>,
  depth: number,
): void {
  /** What a resource is called, with the form or pattern it is in. */
  const inside = (what: string) => (where === PAGE ? what : `${what} in ${where}`);
  const resource = (category: string, name: string) => doc.dict(resources?.get(category))?.get(name);
  const color = (value: Value | undefined, at = where) =>
    visit.color(families(doc, value, resources), at, resources);
  const nested = (ref: Value | undefined, at: string) =>
    walkForm(doc, ref, resources, at, visit, seen, walked, depth);
  for (const { operator, operands, inline } of operations(content)) {
    const last = operands.at(-1);
    const lastName = last === undefined ? undefined : nameOf(new Raw(last));
    switch (operator) {
      case 'rg':
      case 'RG':
        visit.color(['DeviceRGB'], where, resources);
        break;
      case 'k':
      case 'K':
        visit.color(['DeviceCMYK'], where, resources);
        break;
      case 'g':
      case 'G':
        visit.color(['DeviceGray'], where, resources);
        break;
      case 'cs':
      case 'CS':
        if (lastName !== undefined) color(new Raw(`/${lastName}`));
        break;
      case 'sh':
        if (lastName !== undefined)
          color(doc.dict(resource('Shading', lastName))?.get('ColorSpace'), inside(`shading ${lastName}`));
        break;
      case 'scn':
      case 'SCN': {
        if (lastName === undefined) break;
        const ref = resource('Pattern', lastName);
        const pattern = doc.dict(ref);
        const at = inside(`pattern ${lastName}`);
        if (numberOf(pattern?.get('PatternType')) === 2)
          color(doc.dict(pattern?.get('Shading'))?.get('ColorSpace'), at);
        else nested(ref, at);
        break;
      }
      case 'gs': {
        const state = lastName === undefined ? undefined : doc.dict(resource('ExtGState', lastName));
        if (state) visit.graphicsState(state, inside(`graphics state ${lastName}`));
        break;
      }
      case 'Do': {
        if (lastName === undefined) break;
        const ref = resource('XObject', lastName);
        const xobject = doc.dict(ref);
        const subtype = nameOf(xobject?.get('Subtype'));
        if (subtype === 'Form') nested(ref, inside(`form ${lastName}`));
        else if (subtype === 'Image' && xobject) image(xobject, inside(`image ${lastName}`), color, visit);
        break;
      }
      case 'EI':
        if (inline) image(inline, inside('an inline image'), color, visit);
        break;
    }
  }
}

function image(
  dict: Dict,
  where: string,
  color: (value: Value | undefined, at: string) => void,
  visit: ContentVisitor,
): void {
  const mask = dict.get('ImageMask') ?? dict.get('IM');
  if (!(mask instanceof Raw && mask.text === 'true')) color(dict.get('ColorSpace') ?? dict.get('CS'), where);
  if (dict.has('SMask')) visit.transparency('a soft-masked image', where);
  if ((numberOf(dict.get('SMaskInData')) ?? 0) > 0)
    visit.transparency('an image with a soft mask in its data', where);
}

interface Operation {
  operator: string;
  /** The operands' tokens as written (names with their slash); arrays and dictionaries as one token each. */
  operands: string[];
  /** An inline image's dictionary, with the operator EI. */
  inline?: Dict;
}

/**
 * The operations of a content stream, with strings, comments, arrays and inline image data skipped
 * as whole tokens, so that nothing inside them reads as an operator.
 */
function* operations(content: string): Generator<Operation> {
  let operands: string[] = [];
  const token = new RegExp(TOKEN.source, 'y');
  let i = 0;
  while (i < content.length) {
    token.lastIndex = i;
    const match = token.exec(content);
    if (!match) {
      i++; // a stray ')' or '>'
      continue;
    }
    const text = match[0];
    i = token.lastIndex;
    const c = text.charCodeAt(0);
    if (c === PAREN) {
      i = skipString(content, match.index);
      operands.push('()');
    } else if (c === SLASH || (c >= DIGIT_0 && c <= DIGIT_9) || c === PLUS || c === MINUS || c === DOT) {
      operands.push(text);
    } else if (c === LESS) {
      if (text !== '<<') operands.push('<>'); // a hex string; dictionaries only in marked content
    } else if (text === '[' || text === '{') operands = [];
    else if (WORD.test(text)) {
      if (text === 'BI') {
        const { dict, next } = inlineImage(content, i);
        i = next;
        yield { operator: 'EI', operands: [], inline: dict };
      } else yield { operator: text, operands };
      operands = [];
    }
  }
}

/** Tokens: white space, a comment, `<<`, `>>`, a hex string, a bracket, a string's start, a name, or a word. */
const TOKEN =
  /[\0\t\n\f\r ]+|%[^\r\n]*|<<|>>|<[^>]*>|[[\]{}]|\(|\/[^\0\t\n\f\r ()<>[\]{}/%]*|[^\0\t\n\f\r ()<>[\]{}/%]+/;
/** An operator (anything else a word may be is a number, true, false or null: operands no check reads). */
const WORD = /^[A-Za-z'"*][\w'"*]*$/;
/** Character codes the tokens are told apart by: ( / 0 9 + - . < */
const [PAREN, SLASH, DIGIT_0, DIGIT_9, PLUS, MINUS, DOT, LESS] = [
  0x28, 0x2f, 0x30, 0x39, 0x2b, 0x2d, 0x2e, 0x3c,
] as const;

/** The inline image starting after BI: its dictionary, and where the content goes on after EI. */
function inlineImage(content: string, from: number): { dict: Dict; next: number } {
  const id = /\sID[\s]/g;
  id.lastIndex = from - 1;
  const match = id.exec(content);
  const dictEnd = match ? match.index : content.length;
  const dict: Dict = new Map();
  const tokens =
    content.slice(from, dictEnd).match(/\/[^\s/[\]()<>]+|\[[^\]]*\]|\([^)]*\)|[^\s/[\]()<>]+/g) ?? [];
  for (let t = 0; t + 1 < tokens.length; t += 2) {
    const key = tokens[t]!.slice(1);
    const value = tokens[t + 1]!;
    dict.set(
      key,
      value.startsWith('[')
        ? value
            .slice(1, -1)
            .trim()
            .split(/\s+/)
            .map((v) => new Raw(v))
        : new Raw(value),
    );
  }
  if (!match) return { dict, next: content.length };
  const ei = /\sEI(?=[\s]|$)/g;
  ei.lastIndex = match.index + match[0].length;
  const close = ei.exec(content);
  return { dict, next: close ? close.index + close[0].length : content.length };
}

/** The index after the literal string starting at `at` (balanced parentheses, escapes). */
function skipString(content: string, at: number): number {
  let depth = 0;
  for (let i = at; i < content.length; i++) {
    const c = content[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return content.length;
}
