import { type Dict, Raw, Ref, type Value } from '../../pdf/syntax.js';
import { type Family, walkPage } from './content.js';
import {
  asRect,
  nameOf,
  numberOf,
  overlaps,
  type PageView,
  pdfDate,
  type Rect,
  type StandardsDocument,
  within,
} from './document.js';
import { type RuleId, type Violation, violation } from './rules.js';
import { xmpDate, xmpKey } from './xmp.js';

/**
 * The PDF/X rules both parts share (file structure, the output intent, page boxes, fonts, actions
 * and annotations), and what differs between PDF/X-4 (ISO 15930-7:2010) and PDF/X-1a
 * (ISO 15930-4:2003): the version, where the identification lives (XMP or Info), colour and
 * transparency.
 */

export function checkPdfX4(doc: StandardsDocument): Violation[] {
  const out = new Violations();
  const header = doc.headerVersion;
  const catalogVersion = nameOf(doc.catalog.get('Version'));
  for (const [what, version] of [
    ['the header', header],
    ['the catalog’s Version', catalogVersion],
  ] as const) {
    if (version !== undefined && (version === null || Number(version) > 1.6))
      out.add('pdfx4.version', `${what} says ${version ?? 'no version'}`);
  }
  checkX4Metadata(doc, out);
  checkShared(doc, out, 'x4');
  return out.list;
}

export function checkPdfX1a(doc: StandardsDocument): Violation[] {
  const out = new Violations();
  if (doc.headerVersion !== '1.3' && doc.headerVersion !== '1.4')
    out.add('pdfx1a.version', `the header says ${doc.headerVersion ?? 'no version'}`);
  const info = doc.info;
  const version = doc.text(info?.get('GTS_PDFXVersion'));
  const conformance = doc.text(info?.get('GTS_PDFXConformance'));
  if (!(version === 'PDF/X-1a:2003' || (version === 'PDF/X-1:2001' && conformance === 'PDF/X-1a:2001')))
    out.add(
      'pdfx1a.identification',
      version === undefined
        ? 'Info has no GTS_PDFXVersion'
        : `Info says "${version}"${conformance ? ` and "${conformance}"` : ''}`,
    );
  const missing = ['Title', 'CreationDate', 'ModDate'].filter(
    (key) => doc.text(info?.get(key)) === undefined,
  );
  if (missing.length > 0) out.add('pdfx1a.info', `${missing.join(', ')} missing`);
  const trapped = nameOf(info?.get('Trapped'));
  if (trapped !== 'True' && trapped !== 'False')
    out.add('pdfx1a.trapped', trapped === undefined ? 'no Trapped' : `Trapped is ${trapped}`);
  if (doc.catalog.has('OCProperties')) out.add('pdfx1a.optional-content', 'the catalog has OCProperties');
  checkShared(doc, out, 'x1a');
  return out.list;
}

type Part = 'x4' | 'x1a';

/** Violations, each (rule, finding, page) once. */
class Violations {
  readonly list: Violation[] = [];
  private readonly seen = new Set<string>();
  add(rule: RuleId, found: string, page?: number): void {
    const key = `${rule}|${found}|${page}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(violation(rule, found, page));
  }
}

function checkX4Metadata(doc: StandardsDocument, out: Violations): void {
  if ('problem' in doc.xmp) {
    out.add('pdfx4.xmp', doc.xmp.problem);
    return;
  }
  const xmp = doc.xmp.properties;
  const get = (prefix: Parameters<typeof xmpKey>[0], name: string) => xmp.get(xmpKey(prefix, name));
  const version = get('pdfxid', 'GTS_PDFXVersion');
  if (version !== 'PDF/X-4')
    out.add('pdfx4.xmp-version', version === undefined ? 'missing' : `it says "${version}"`);
  const badDates = ['CreateDate', 'ModifyDate', 'MetadataDate'].filter(
    (name) => xmpDate(get('xmp', name)) === null,
  );
  if (badDates.length > 0) out.add('pdfx4.xmp-dates', `xmp:${badDates.join(', xmp:')} missing or not a date`);
  const ids = ['DocumentID', 'VersionID', 'RenditionClass'].filter((name) => !get('xmpMM', name));
  if (ids.length > 0) out.add('pdfx4.xmp-ids', `xmpMM:${ids.join(', xmpMM:')} missing`);
  const title = get('dc', 'title');
  if (!title) out.add('pdfx4.xmp-title', 'dc:title missing');
  const trapped = get('pdf', 'Trapped');
  const infoTrapped = nameOf(doc.info?.get('Trapped'));
  if (trapped !== 'True' && trapped !== 'False')
    out.add('pdfx4.trapped', trapped === undefined ? 'pdf:Trapped missing' : `pdf:Trapped is ${trapped}`);
  else if (infoTrapped !== undefined && infoTrapped !== trapped)
    out.add('pdfx4.trapped', `Info says Trapped ${infoTrapped}, the XMP ${trapped}`);

  // Info entries, where present, say what the XMP says.
  const info = doc.info;
  if (!info) return;
  const differs: string[] = [];
  const infoTitle = doc.text(info.get('Title'));
  if (infoTitle !== undefined && infoTitle !== title) differs.push('Title');
  for (const [key, name] of [
    ['CreationDate', 'CreateDate'],
    ['ModDate', 'ModifyDate'],
  ] as const) {
    const infoDate = doc.text(info.get(key));
    if (infoDate === undefined) continue;
    const a = pdfDate(infoDate);
    const b = xmpDate(get('xmp', name));
    // PDF dates have whole seconds: XMP's fraction is not a disagreement.
    if (a === null || b === null || Math.floor(a / 1000) !== Math.floor(b / 1000)) differs.push(key);
  }
  const infoVersion = doc.text(info.get('GTS_PDFXVersion'));
  if (infoVersion !== undefined && infoVersion !== version) differs.push('GTS_PDFXVersion');
  if (differs.length > 0) out.add('pdfx4.info-xmp', `${differs.join(', ')} differ`);
}

function checkShared(doc: StandardsDocument, out: Violations, part: Part): void {
  const trailer = doc.file.trailer;
  const id = doc.array(trailer.get('ID'));
  if (!id || id.length !== 2 || !id.every((v) => v instanceof Raw && /^[(<]/.test(v.text)))
    out.add('pdfx.trailer-id', id ? 'the ID is not two strings' : 'no ID');
  if (trailer.has('Encrypt')) out.add('pdfx.encrypt', 'the trailer has Encrypt');

  const intentSpace = checkOutputIntent(doc, out, part);
  checkPages(doc, out, part, intentSpace);
  checkFonts(doc, out);
  checkActions(doc, out);
  checkObjects(doc, out, part);
}

/** Filters each part forbids (ISO 32000-1, 7.4): Crypt in both, LZW in X-4, JBIG2 and JPEG 2000 in X-1a. */
const FORBIDDEN_FILTERS: Record<Part, ReadonlySet<string>> = {
  x4: new Set(['Crypt', 'LZWDecode']),
  x1a: new Set(['Crypt', 'JBIG2Decode', 'JPXDecode']),
};

/** What PDF/X leaves out of any object: filters, external streams, PostScript, alternates, OPI. */
function checkObjects(doc: StandardsDocument, out: Violations, part: Part): void {
  for (const [n, object] of doc.file.objects) {
    const dict = doc.dict(new Ref(n));
    if (!dict) continue;
    if (object.stream) {
      const filters = doc.array(dict.get('Filter')) ?? [dict.get('Filter')];
      for (const filter of filters.map((f) => nameOf(doc.resolve(f)))) {
        if (filter !== undefined && FORBIDDEN_FILTERS[part].has(filter))
          out.add('pdfx.filters', `object ${n} uses ${filter}`);
      }
      if (dict.has('F')) out.add('pdfx.external-streams', `object ${n} names an external file`);
    }
    if (nameOf(dict.get('Type')) === 'XObject' || object.stream) {
      const subtype = nameOf(dict.get('Subtype'));
      if (subtype === 'PS' || (subtype === 'Form' && nameOf(dict.get('Subtype2')) === 'PS'))
        out.add('pdfx.postscript', `object ${n} is a PostScript XObject`);
      if (dict.has('OPI')) out.add('pdfx.opi', `object ${n} has an OPI dictionary`);
      for (const alternate of doc.array(dict.get('Alternates')) ?? []) {
        const printing = doc.dict(alternate)?.get('DefaultForPrinting');
        if (printing instanceof Raw && printing.text === 'true')
          out.add('pdfx.alternate-images', `an alternate of image ${n} is the default for printing`);
      }
    }
  }
}

/** Checks the output intent; the colour space of its profile ('CMYK', 'GRAY', 'RGB'), if it has one. */
function checkOutputIntent(doc: StandardsDocument, out: Violations, part: Part): string | undefined {
  const intents = (doc.array(doc.catalog.get('OutputIntents')) ?? []).map((v) => doc.dict(v));
  const pdfx = intents.filter((intent) => nameOf(intent?.get('S')) === 'GTS_PDFX');
  if (pdfx.length !== 1) {
    out.add(
      'pdfx.output-intent',
      pdfx.length === 0 ? 'none has S GTS_PDFX' : `${pdfx.length} have S GTS_PDFX`,
    );
    if (pdfx.length === 0) return undefined;
  }
  const intent = pdfx[0]!;
  const identifier = doc.text(intent.get('OutputConditionIdentifier'));
  if (!identifier) out.add('pdfx.output-condition', 'OutputConditionIdentifier missing');
  const profileRef = intent.get('DestOutputProfile');
  if (profileRef === undefined) {
    if (part === 'x4') out.add('pdfx4.output-profile-embedded', 'no DestOutputProfile');
    else if (!doc.text(intent.get('RegistryName')) || identifier === 'Custom')
      out.add(
        'pdfx1a.output-profile-needed',
        'no DestOutputProfile, and the condition is not a registered one',
      );
    return undefined;
  }
  const profile = doc.stream(profileRef);
  if (!profile || profile.length < 128 || profile.toString('latin1', 36, 40) !== 'acsp') {
    out.add('pdfx.output-profile', 'DestOutputProfile is not an ICC profile');
    return undefined;
  }
  const deviceClass = profile.toString('latin1', 12, 16);
  const space = profile.toString('latin1', 16, 20).trim();
  const allowed = part === 'x4' ? ['CMYK', 'GRAY', 'RGB'] : ['CMYK', 'GRAY'];
  if (deviceClass !== 'prtr') out.add('pdfx.output-profile', `its class is '${deviceClass}', not 'prtr'`);
  if (!allowed.includes(space)) out.add('pdfx.output-profile', `its colour space is '${space}'`);
  const n = numberOf(doc.dict(profileRef)?.get('N'));
  const components = { CMYK: 4, GRAY: 1, RGB: 3 }[space];
  if (n !== undefined && components !== undefined && n !== components)
    out.add('pdfx.output-profile', `N is ${n} for a ${space} profile`);
  return space;
}

function checkPages(
  doc: StandardsDocument,
  out: Violations,
  part: Part,
  intentSpace: string | undefined,
): void {
  let trapNet = false;
  const walked = new Set<number>();
  for (const page of doc.pages) {
    const p = page.number;
    const media = page.mediaBox;
    if (!media) out.add('pdfx.media-box', 'no MediaBox', p);
    const trim = page.trimBox ?? page.artBox;
    if (!trim) out.add('pdfx.trim-or-art', 'neither', p);
    else if (page.trimBox && page.artBox) out.add('pdfx.trim-or-art', 'both', p);
    const nest = (inner: Rect | undefined, outer: Rect | undefined, words: string) => {
      if (inner && outer && !within(inner, outer)) out.add('pdfx.box-nesting', words, p);
    };
    const trimName = page.trimBox ? 'TrimBox' : 'ArtBox';
    nest(page.bleedBox, media, 'the BleedBox extends past the MediaBox');
    nest(trim, page.bleedBox, `the ${trimName} extends past the BleedBox`);
    nest(trim, page.cropBox, `the ${trimName} extends past the CropBox`);
    nest(trim, media, `the ${trimName} extends past the MediaBox`);

    for (const annotation of (doc.array(page.dict.get('Annots')) ?? []).map((a) => doc.dict(a))) {
      if (!annotation) continue;
      const subtype = nameOf(annotation.get('Subtype'));
      if (subtype === 'TrapNet') trapNet = true;
      if (annotation.has('A') || annotation.has('AA'))
        out.add('pdfx.actions', `a ${subtype ?? 'untyped'} annotation has an action`, p);
      // As Global Graphics' checker reads the rule: a printer's mark stays off the trim, any other
      // annotation but a trap network off the bleed (the trim, without a BleedBox); one that does
      // not print (the Print flag clear, or Hidden set) is not on the page at all.
      const flags = numberOf(annotation.get('F')) ?? 0;
      const prints = (flags & 4) !== 0 && (flags & 2) === 0;
      const at = asRect(doc.array(annotation.get('Rect')));
      const printerMark = subtype === 'PrinterMark';
      const limit = printerMark ? trim : (page.bleedBox ?? trim);
      const limitName = printerMark || !page.bleedBox ? trimName : 'BleedBox';
      if (prints && subtype !== 'TrapNet' && limit && at && overlaps(at, limit))
        out.add('pdfx.annotations', `a ${subtype ?? 'untyped'} annotation prints inside the ${limitName}`, p);
    }
    if (page.dict.has('AA')) out.add('pdfx.actions', 'the page has AA', p);
    checkPaint(doc, out, part, intentSpace, page, walked);
  }
  if (trapNet) {
    const trapped =
      nameOf(doc.info?.get('Trapped')) ??
      ('properties' in doc.xmp ? doc.xmp.properties.get(xmpKey('pdf', 'Trapped')) : undefined);
    if (trapped !== 'True') out.add('pdfx.trapnet', `Trapped is ${trapped ?? 'missing'}`);
  }
}

const STANDARD_BLEND_MODES = new Set([
  'Normal',
  'Compatible',
  'Multiply',
  'Screen',
  'Overlay',
  'Darken',
  'Lighten',
  'ColorDodge',
  'ColorBurn',
  'HardLight',
  'SoftLight',
  'Difference',
  'Exclusion',
  'Hue',
  'Saturation',
  'Color',
  'Luminosity',
]);

/** PDF/X-1a's colour: process and spot colour only. */
const X1A_FAMILIES = new Set<Family>([
  'DeviceGray',
  'DeviceCMYK',
  'Separation',
  'DeviceN',
  'Indexed',
  'Pattern',
]);

function checkPaint(
  doc: StandardsDocument,
  out: Violations,
  part: Part,
  intentSpace: string | undefined,
  page: PageView,
  walked: Set<number>,
): void {
  const p = page.number;
  const hasDefault = (resources: Dict | undefined, name: string) =>
    doc.dict(resources?.get('ColorSpace'))?.has(name) ?? false;
  walkPage(
    doc,
    page,
    {
      color(families, where, resources) {
        if (part === 'x1a') {
          const wrong = families.filter((f) => !X1A_FAMILIES.has(f));
          if (wrong.length > 0) out.add('pdfx1a.color', `${wrong.join(', ')} in ${where}`, p);
          return;
        }
        // Device colour is judged against a readable output profile; without one, the output intent's
        // rules have said what is wrong, and every device colour would otherwise be named again.
        if (intentSpace === undefined) return;
        if (families.includes('DeviceRGB') && intentSpace !== 'RGB' && !hasDefault(resources, 'DefaultRGB'))
          out.add('pdfx4.device-color', `DeviceRGB in ${where}`, p);
        if (
          families.includes('DeviceCMYK') &&
          intentSpace !== 'CMYK' &&
          !hasDefault(resources, 'DefaultCMYK')
        )
          out.add('pdfx4.device-color', `DeviceCMYK in ${where}, with a ${intentSpace} output intent`, p);
      },
      graphicsState(state, where) {
        const blend = blendModes(doc, state.get('BM'));
        const unknown = blend.filter((mode) => !STANDARD_BLEND_MODES.has(mode));
        if (unknown.length > 0) out.add('pdfx4.blend-mode', `${unknown.join(', ')} in ${where}`, p);
        const rendering: string[] = [];
        if (state.has('TR')) rendering.push('TR');
        const tr2 = state.get('TR2');
        if (tr2 !== undefined && (part === 'x1a' || nameOf(tr2) !== 'Default')) rendering.push('TR2');
        if (state.has('HTP')) rendering.push('HTP');
        if (doc.dict(state.get('HT'))?.has('HalftoneName')) rendering.push('a HalftoneName');
        if (rendering.length > 0) out.add('pdfx.transfer-halftone', `${rendering.join(', ')} in ${where}`, p);
        if (part !== 'x1a') return;
        const found: string[] = [];
        const mask = state.get('SMask');
        if (mask !== undefined && nameOf(mask) !== 'None') found.push('a soft mask');
        for (const key of ['CA', 'ca']) {
          const alpha = numberOf(state.get(key));
          if (alpha !== undefined && alpha < 1) found.push(`${key} ${alpha}`);
        }
        const blending = blend.filter((mode) => mode !== 'Normal' && mode !== 'Compatible');
        if (blending.length > 0) found.push(`blend mode ${blending.join(', ')}`);
        if (found.length > 0) out.add('pdfx1a.transparency', `${found.join(', ')} in ${where}`, p);
      },
      transparency(what, where) {
        if (part === 'x1a') out.add('pdfx1a.transparency', `${what} in ${where}`, p);
      },
    },
    walked,
  );
}

function blendModes(doc: StandardsDocument, value: Value | undefined): string[] {
  const list = doc.array(value) ?? (value === undefined ? [] : [value]);
  return list.map((v) => nameOf(doc.resolve(v)) ?? '?');
}

function checkFonts(doc: StandardsDocument, out: Violations): void {
  for (const [n] of doc.file.objects) {
    const font = doc.dict(new Ref(n));
    if (!font || nameOf(font.get('Type')) !== 'Font') continue;
    const subtype = nameOf(font.get('Subtype'));
    if (subtype === 'Type3' || subtype === 'Type0') continue; // Type 0: its descendant is checked
    const name = nameOf(font.get('BaseFont')) ?? `object ${n}`;
    const descriptor = doc.dict(font.get('FontDescriptor'));
    if (!descriptor) out.add('pdfx.fonts', `${name} has no font descriptor, so no program`);
    else if (!['FontFile', 'FontFile2', 'FontFile3'].some((key) => descriptor.get(key) instanceof Ref))
      out.add('pdfx.fonts', `${name} is not embedded`);
  }
}

function checkActions(doc: StandardsDocument, out: Violations): void {
  const names = doc.dict(doc.catalog.get('Names'));
  if (names?.has('JavaScript')) out.add('pdfx.javascript', 'the document has JavaScript in its name tree');
  if (doc.catalog.has('AA')) out.add('pdfx.actions', 'the catalog has AA');
  const open = doc.resolve(doc.catalog.get('OpenAction'));
  if (open instanceof Map) out.add('pdfx.actions', 'the catalog’s OpenAction is an action');
  // Actions may be direct dictionaries inside any object: the objects' text is searched.
  for (const [n, object] of doc.file.objects)
    if (JAVASCRIPT_ACTION.test(object.head))
      out.add('pdfx.javascript', `object ${n} has a JavaScript action`);
}

const JAVASCRIPT_ACTION = /\/S\s*\/JavaScript(?![^\s/<>[\]()])/;
