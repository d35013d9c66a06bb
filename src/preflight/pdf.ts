import { type PdfObject, PdfFile, UnreadablePdfError } from '../pdf/reader.js';
import { type Dict, rawOf, Ref, refOf, type Value } from '../pdf/syntax.js';
import { type Finding, MIN_TEXT_SIZE, resolutionFinding } from './findings.js';

/**
 * Preflight of a Platen PDF on its own, without the template: it reads the file's objects and walks
 * each page's content (forms included) with the graphics state's transformation, so it sees images'
 * effective resolution, text sizes, fonts without an embedded program, and RGB in a document with a
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
    const resources = xobjectNames(dict, inherited(dict, page, 'Resources'));
    const seen = new Set<string>();
    const once = (finding: Finding) => {
      const key = `${finding.rule}|${finding.message}`;
      if (!seen.has(key)) findings.push(finding);
      seen.add(key);
    };
    const walk = (content: string, ctm: Matrix, depth: number) => {
      if (cmyk && /(?:^|\s)-?[\d.]+\s+-?[\d.]+\s+-?[\d.]+\s+(?:rg|RG)(?=\s|$)|\/DeviceRGB/.test(content))
        once({ ...where, severity: 'error', rule: 'rgb_in_cmyk', message: 'RGB colour in a CMYK document' });
      interpret(content, ctm, {
        image: (name, m) => {
          const ref = resources.get(name);
          const xobject = (ref === undefined ? undefined : objects.get(ref))?.head ?? '';
          const width = Number(/\/Width\s+(\d+)/.exec(xobject)?.[1]);
          const placed = Math.hypot(m[0], m[1]);
          if (cmyk && /\/DeviceRGB/.test(xobject))
            once({ ...where, severity: 'error', rule: 'rgb_in_cmyk', message: `RGB image ${at(m)}` });
          const finding =
            width && placed ? resolutionFinding(where, width / (placed / 72), `the image ${at(m)}`) : null;
          if (finding) once(finding);
        },
        form: (name) => {
          const ref = resources.get(name);
          const form = ref === undefined ? undefined : objects.get(ref);
          return form?.stream && /\/Subtype\s*\/Form\b/.test(form.head) && depth < 8 ? decode(form) : null;
        },
        recurse: (content, m) => walk(content, m, depth + 1),
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
    if (stream?.stream) walk(decode(stream), [1, 0, 0, 1, 0, 0], 0);
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

/** The XObjects of a resource dictionary: name → object number. */
function xobjectNames(dict: DictReader, resources: Value | undefined): Map<string, number> {
  const names = new Map<string, number>();
  for (const [key, value] of dict(dict(resources)?.get('XObject')) ?? []) {
    if (value instanceof Ref) names.set(key, value.n);
  }
  return names;
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
  image(name: string, ctm: Matrix): void;
  /** A form's content, or null if the name is an image (or unknown). */
  form(name: string): string | null;
  recurse(content: string, ctm: Matrix): void;
  text(size: number, ctm: Matrix): void;
}

/**
 * A minimal content-stream interpreter: q/Q/cm for the transformation, Tf and Tm for text size, Do
 * for images and forms. Strings are skipped (Platen writes text as hex strings).
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
      case 'Do': {
        const name = operands.at(-1)!.slice(1);
        const form = visit.form(name);
        if (form === null) visit.image(name, ctm);
        else visit.recurse(form, ctm);
        break;
      }
    }
    if (token !== '[' && token !== ']') operands = [];
  }
}
