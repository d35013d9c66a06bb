import { type PdfObject, PdfFile, UnreadablePdfError } from '../pdf/reader.js';
import { type Dict, parseValue, Raw, rawOf, Ref, refOf, type Value } from '../pdf/syntax.js';
import { type Finding, MIN_TEXT_SIZE, resolutionFinding } from './findings.js';

/**
 * Preflight of a Platen PDF on its own, without the template: it reads the file's objects and walks
 * each page's content (forms included) with the graphics state's transformation, so it sees images'
 * effective resolution, text sizes, fonts without an embedded program, and RGB (colours, colour
 * spaces, images, gradients and patterns, in forms as on pages) in a document with a
 * CMYK output intent. What it cannot know without the template, it does not guess: element names
 * (images and text are located by position on the trim instead) and whether content in the bleed was
 * meant to bleed (`platen validate` checks both). It reads files with classic cross-reference tables,
 * as pdfkit writes them (see PdfFile); anything else is refused rather than half-read.
 */

type Matrix = [number, number, number, number, number, number];

export { UnreadablePdfError };

export function preflightPdf(bytes: Buffer): Finding[] {
  const file = new PdfFile(bytes);
  const objects = file.objects;
  const dict = dictReader(file);
  const catalog = dict(file.trailer.get('Root'));
  if (!catalog) throw new UnreadablePdfError('no document catalog: not a PDF Platen wrote');
  const cmyk = catalog.has('OutputIntents');
  const findings: Finding[] = [];
  const decode = (object: PdfObject) => file.decoded(object).toString('latin1');

  // Fonts: a descriptor without a font program means the font is not embedded.
  for (const object of objects.values()) {
    if (/\/Type\s*\/FontDescriptor\b/.test(object.head) && !/\/FontFile[23]?\b/.test(object.head)) {
      const name = /\/FontName\s*\/([^\s/<>[\]]+)/.exec(object.head)?.[1] ?? 'a font';
      findings.push(documentFinding('error', 'font_not_embedded', `${name} is not embedded`));
    }
    if (/\/Type\s*\/Font\b/.test(object.head) && /\/Subtype\s*\/Type1\b/.test(object.head)) {
      if (!/\/FontDescriptor/.test(object.head)) {
        const name = /\/BaseFont\s*\/([^\s/<>[\]]+)/.exec(object.head)?.[1] ?? 'a font';
        findings.push(
          documentFinding('error', 'font_not_embedded', `${name} is a standard font, not embedded`),
        );
      }
    }
  }

  const rgbSpace = rgbSpaceReader(file);
  const pages = pageDicts(dict, catalog);
  let pieceIndex = 0;
  let lastPart: number | null = null;
  let pageInPiece = 0;
  for (const page of pages) {
    // A piece is a run of pages sharing one DPart leaf (or every page its own piece without them).
    const part = page.get('DPart') instanceof Ref ? refOf(page.get('DPart')) : null;
    if (part === null || part !== lastPart) {
      pieceIndex += 1;
      pageInPiece = 0;
    }
    lastPart = part;
    pageInPiece += 1;
    const trim = box(page.get('TrimBox')) ?? box(inherited(dict, page, 'MediaBox')) ?? [0, 0, 0, 0];
    const where = { piece: `piece ${pieceIndex}`, page: pageInPiece };
    /** Where a placed unit square lands, from the trim's top left (y down), in points. */
    const at = (m: Matrix) => {
      const xs = [0, m[0], m[2], m[0] + m[2]].map((d) => m[4] + d);
      const ys = [0, m[1], m[3], m[1] + m[3]].map((d) => m[5] + d);
      return `at ${Math.round(Math.min(...xs) - trim[0])}, ${Math.round(trim[3] - Math.max(...ys))} pt`;
    };
    const seen = new Set<string>();
    const once = (finding: Finding) => {
      const key = `${finding.rule}|${finding.message}`;
      if (!seen.has(key)) findings.push(finding);
      seen.add(key);
    };
    const rgb = (message: string) => {
      if (cmyk) once({ ...where, severity: 'error', rule: 'rgb_in_cmyk', message });
    };
    /** Walks content with the resources it names things in (a form's or pattern's own, else its page's). */
    const walk = (content: string, ctm: Matrix, depth: number, resources: Dict | undefined) => {
      if (RGB_OPERATORS.test(content)) rgb('RGB colour in a CMYK document');
      const named = (category: string, name: string) => dict(resources?.get(category))?.get(name);
      const nested = (value: Value | undefined, m: Matrix) => {
        const object = value instanceof Ref ? objects.get(value.n) : undefined;
        if (!object?.stream || depth >= 8) return;
        walk(decode(object), m, depth + 1, dict(dict(value)?.get('Resources')) ?? resources);
      };
      interpret(content, ctm, {
        xobject: (name, m) => {
          const ref = named('XObject', name);
          const xobject = dict(ref);
          if (nameOf(xobject?.get('Subtype')) === 'Form') return nested(ref, m);
          if (nameOf(xobject?.get('Subtype')) !== 'Image') return;
          if (rgbSpace(xobject?.get('ColorSpace'))) rgb(`RGB image ${at(m)}`);
          const width = Number(rawOrUndefined(xobject?.get('Width')));
          const placed = Math.hypot(m[0], m[1]);
          const finding =
            width && placed ? resolutionFinding(where, width / (placed / 72), `the image ${at(m)}`) : null;
          if (finding) once(finding);
        },
        colorSpace: (name) => {
          if (rgbSpace(named('ColorSpace', name))) rgb('RGB colour in a CMYK document');
        },
        shading: (name) => {
          if (rgbSpace(dict(named('Shading', name))?.get('ColorSpace'))) rgb('RGB gradient');
        },
        pattern: (name, m) => {
          const ref = named('Pattern', name);
          const pattern = dict(ref);
          // A shading pattern is a gradient; a tiling pattern's cell is content of its own.
          if (rgbSpace(dict(pattern?.get('Shading'))?.get('ColorSpace'))) rgb('RGB gradient');
          else if (rawOrUndefined(pattern?.get('PatternType')) === '1') nested(ref, m);
        },
        text: (size, m) => {
          const effective = size * Math.hypot(m[2], m[3]);
          if (effective < MIN_TEXT_SIZE - 0.005)
            once({
              ...where,
              severity: 'warning',
              rule: 'small_text',
              message: `text set at ${Math.round(effective * 100) / 100} pt, under ${MIN_TEXT_SIZE} pt`,
            });
        },
      });
    };
    const contents = page.get('Contents');
    const stream = contents instanceof Ref ? objects.get(contents.n) : undefined;
    if (stream?.stream) walk(decode(stream), [1, 0, 0, 1, 0, 0], 0, dict(inherited(dict, page, 'Resources')));
  }
  return findings;
}

function documentFinding(severity: Finding['severity'], rule: string, message: string): Finding {
  return { severity, piece: 'document', page: 1, rule, message };
}

/** Reads the dictionary a value is (or refers to); undefined for anything else. */
type DictReader = (value: Value | undefined) => Dict | undefined;

function dictReader(file: PdfFile): DictReader {
  return (value) => {
    if (value instanceof Map) return value;
    if (!(value instanceof Ref) || !file.objects.has(value.n)) return undefined;
    try {
      return file.dict(value.n);
    } catch {
      return undefined; // not a dictionary
    }
  };
}

/** Page dictionaries in order, walking the page tree from the catalog. */
function pageDicts(dict: DictReader, catalog: Dict): Dict[] {
  const pages: Dict[] = [];
  const visit = (node: Dict | undefined, depth: number) => {
    if (!node) return;
    if (nameOf(node.get('Type')) === 'Page') pages.push(node);
    const kids = node.get('Kids');
    if (Array.isArray(kids) && depth < 32) for (const kid of kids) visit(dict(kid), depth + 1);
  };
  visit(dict(catalog.get('Pages')), 0);
  return pages;
}

/** A page attribute, looked up through /Parent (MediaBox and Resources are inherited). */
function inherited(dict: DictReader, page: Dict, key: string): Value | undefined {
  let node: Dict | undefined = page;
  for (let depth = 0; node && depth < 32; depth++) {
    const value = node.get(key);
    if (value !== undefined) return value;
    node = dict(node.get('Parent'));
  }
  return undefined;
}

function box(value: Value | undefined): [number, number, number, number] | undefined {
  return Array.isArray(value)
    ? (value.map((v) => Number(rawOf(v))) as [number, number, number, number])
    : undefined;
}

function nameOf(value: Value | undefined): string | undefined {
  return value !== undefined && !(value instanceof Ref) && !Array.isArray(value) && !(value instanceof Map)
    ? value.text.slice(1)
    : undefined;
}

/**
 * Whether a colour space (a name, an array, or a reference to either) is RGB: device, calibrated or
 * an ICC profile of three components, also as the base of an indexed or pattern space.
 */
function rgbSpaceReader(file: PdfFile): (value: Value | undefined) => boolean {
  const resolve = (value: Value | undefined): Value | undefined => {
    if (!(value instanceof Ref)) return value;
    const object = file.objects.get(value.n);
    return object ? parseValue(object.head) : undefined;
  };
  const isRgb = (value: Value | undefined, depth: number): boolean => {
    const space = resolve(value);
    if (space instanceof Raw) return RGB_SPACES.has(space.text);
    if (!Array.isArray(space) || depth > 4) return false;
    const family = rawOrUndefined(space[0]);
    if (family === '/CalRGB') return true;
    if (family === '/Indexed' || family === '/Pattern') return isRgb(space[1], depth + 1);
    if (family !== '/ICCBased') return false;
    const profile = resolve(space[1]);
    return profile instanceof Map && rawOrUndefined(profile.get('N')) === '3';
  };
  return (value) => isRgb(value, 0);
}

const RGB_SPACES = new Set(['/DeviceRGB', '/CalRGB']);
/** The RGB colour operators (`r g b rg`, `RG`), or the device space named inline. */
const RGB_OPERATORS = /(?:^|\s)-?[\d.]+\s+-?[\d.]+\s+-?[\d.]+\s+(?:rg|RG)(?=\s|$)|\/DeviceRGB/;

function rawOrUndefined(value: Value | undefined): string | undefined {
  return value instanceof Raw ? value.text : undefined;
}

function multiply(a: Matrix, b: Matrix): Matrix {
  return [
    a[0] * b[0] + a[1] * b[2],
    a[0] * b[1] + a[1] * b[3],
    a[2] * b[0] + a[3] * b[2],
    a[2] * b[1] + a[3] * b[3],
    a[4] * b[0] + a[5] * b[2] + b[4],
    a[4] * b[1] + a[5] * b[3] + b[5],
  ];
}

interface Visitor {
  /** `Do`: an image or a form. */
  xobject(name: string, ctm: Matrix): void;
  /** `cs`, `CS` with a colour space from the resources. */
  colorSpace(name: string): void;
  /** `sh`: a shading painted over the clip. */
  shading(name: string, ctm: Matrix): void;
  /** `scn`, `SCN` with a pattern: a shading or tiling pattern. */
  pattern(name: string, ctm: Matrix): void;
  text(size: number, ctm: Matrix): void;
}

/** Colour spaces `cs` names without the resources (the RGB one is found in the content's text). */
const DEVICE_SPACES = new Set(['/DeviceGray', '/DeviceRGB', '/DeviceCMYK', '/Pattern']);

/**
 * A minimal content-stream interpreter: q/Q/cm for the transformation, Tf and Tm for text size, Do
 * for images and forms, the colour spaces, shadings and patterns painted with. Strings are skipped
 * (Platen writes text as hex strings).
 */
function interpret(content: string, start: Matrix, visit: Visitor): void {
  const stack: Matrix[] = [];
  let ctm = start;
  let operands: string[] = [];
  let fontSize = 0;
  for (const token of content.match(/<[0-9A-Fa-f\s]*>|\([^)]*\)|\[|\]|\/[^\s/<>[\]()]+|[^\s/<>[\]()]+/g) ??
    []) {
    if (/^[-+.\d]/.test(token) || token.startsWith('/') || token.startsWith('<') || token.startsWith('(')) {
      operands.push(token);
      continue;
    }
    const nums = operands.map(Number);
    switch (token) {
      case 'q':
        stack.push(ctm);
        break;
      case 'Q':
        ctm = stack.pop() ?? start;
        break;
      case 'cm':
        ctm = multiply(nums.slice(-6) as Matrix, ctm);
        break;
      case 'Tf':
        fontSize = nums.at(-1)!;
        break;
      case 'Tm':
        visit.text(fontSize, multiply(nums.slice(-6) as Matrix, ctm));
        break;
      case 'Do':
        visit.xobject(operands.at(-1)!.slice(1), ctm);
        break;
      case 'cs':
      case 'CS':
        if (!DEVICE_SPACES.has(operands.at(-1)!)) visit.colorSpace(operands.at(-1)!.slice(1));
        break;
      case 'sh':
        visit.shading(operands.at(-1)!.slice(1), ctm);
        break;
      case 'scn':
      case 'SCN':
        if (operands.at(-1)?.startsWith('/')) visit.pattern(operands.at(-1)!.slice(1), ctm);
        break;
    }
    if (token !== '[' && token !== ']') operands = [];
  }
}
