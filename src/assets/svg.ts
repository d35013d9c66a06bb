import type * as Saxes from 'saxes';
import sharp from 'sharp';
import { onFirstUse } from '../on-first-use.js';
import { damaged, decodeEveryPixel, MAX_IMAGE_PIXELS, PRINT_PPI } from './images.js';

/**
 * Limits on SVG art. svg-to-pdfkit draws every element of the art after `<use>`, patterns, clip
 * paths, masks and markers are expanded, on the event loop: a 1 KB file of nested `<use>` would
 * otherwise be 100,000 shapes and seconds of frozen server (docs/perf.md). Brand art sits
 * far below every one of these (the bundled logos have fewer than 20 elements).
 */
export const SVG_LIMITS = {
  /** Bytes of the file. */
  maxBytes: 2 * 1024 * 1024,
  /** Elements drawn, once every reference is expanded. */
  maxElements: 5_000,
  /** Nesting of elements and references. */
  maxDepth: 64,
  /** Pixels of embedded images, in all: pdfkit decodes them in JavaScript for every document. */
  maxImagePixels: 4_000_000,
} as const;

export interface SvgProblem {
  rule: string;
  message: string;
}

/**
 * The data URL of an image embedded in SVG art, ready for pdfkit, or null for anything else. pdfkit
 * reads any other string as a file name on the server (even `data:image/png,../x`), and reads base64
 * only when it is on one line, as SVG editors seldom write it.
 */
export function embeddedImage(href: string): string | null {
  const url = href.replace(/\s+/g, '');
  return /^data:image\/(png|jpeg);base64,[A-Za-z0-9+/]*={0,2}$/i.test(url) ? url : null;
}

/**
 * Checks SVG art before anything draws it: well-formed XML with no DOCTYPE (entities, external DTDs),
 * no reference to anything outside the file (`href` other than `#id` or an embedded PNG or JPEG,
 * `url(…)` other than `url(#id)`, `@import`, style sheets), no text, and within SVG_LIMITS once every
 * reference is expanded; embedded images must decode (`verify`: every pixel) and count against the
 * pixels the art's box can print (`box`, in points, at PRINT_PPI). The caller checks the file's size
 * (SVG_LIMITS.maxBytes) before reading it. Returns the problems, empty when the art may be drawn.
 */
export async function checkSvg(
  text: string,
  box: { w: number; h: number },
  options: { verify?: boolean } = {},
): Promise<SvgProblem[]> {
  let art: Art;
  try {
    art = parse(text);
  } catch (error) {
    if (error instanceof Refused) return [error.problem];
    return [refusal('svg_xml', `not well-formed XML: ${(error as Error).message}`)];
  }
  const problems: SvgProblem[] = [];
  if (art.text) {
    problems.push(refusal('svg_text', 'SVG text would not use the template fonts: convert it to outlines'));
  }
  const pixels = new Map<string, number>();
  for (const href of art.images) {
    const image = await embeddedPixels(href, options.verify ?? false);
    if (typeof image === 'string') problems.push(refusal('svg_image', image));
    else pixels.set(href, image);
  }
  if (problems.length > 0) return problems;
  const maxPixels = Math.min(
    SVG_LIMITS.maxImagePixels,
    Math.ceil((box.w / 72) * PRINT_PPI) * Math.ceil((box.h / 72) * PRINT_PPI),
  );
  try {
    new Expansion(art, pixels, maxPixels).visit(art.root, [], 1);
  } catch (error) {
    if (error instanceof Refused) return [error.problem];
    throw error;
  }
  return [];
}

const refusal = (rule: string, message: string): SvgProblem => ({ rule, message });

class Refused extends Error {
  constructor(readonly problem: SvgProblem) {
    super(problem.message);
  }
}

const refuse = (rule: string, message: string): never => {
  throw new Refused(refusal(rule, message));
};

// ------------------------------------------------------------------------------------------ parse

/** A reference from an element to another by id, as svg-to-pdfkit resolves it. */
interface Ref {
  property: string;
  id: string;
}

interface Node {
  name: string;
  id?: string;
  classes: string[];
  /** References in the element's own attributes and style. */
  refs: Ref[];
  children: Node[];
  /** `<use>`: the element it draws. */
  use?: string;
  /** `<image>`: its embedded data URL. */
  image?: string;
  /** Vertices of a path, line or polygon, for its mid markers. */
  vertices: number;
}

interface Art {
  root: Node;
  ids: Map<string, Node>;
  /** Embedded images, distinct. */
  images: Set<string>;
  text: boolean;
}

/** Properties whose value may name another element (`url(#id)`): drawn with, or instead of, a colour. */
const REFERENCE_PROPERTIES = new Set([
  'fill',
  'stroke',
  'marker',
  'marker-start',
  'marker-mid',
  'marker-end',
  'clip-path',
  'mask',
]);
/** Of those, the ones an element's children inherit. */
const INHERITED = new Set(['fill', 'stroke', 'marker-start', 'marker-mid', 'marker-end']);
/** Elements drawn only where something refers to them. */
const NOT_DRAWN = new Set([
  'defs',
  'symbol',
  'pattern',
  'clippath',
  'mask',
  'marker',
  'lineargradient',
  'radialgradient',
]);
/** Elements painted with fill, stroke and markers. */
const SHAPES = new Set(['path', 'rect', 'circle', 'ellipse', 'line', 'polyline', 'polygon']);

/** Only templates with SVG art need the parser. */
const saxes = onFirstUse<typeof Saxes>('saxes');

const localName = (name: string): string => name.slice(name.indexOf(':') + 1);

/** Parses the art with a strict XML parser, refusing what may not be in it as it goes. */
function parse(text: string): Art {
  const parser = new (saxes().SaxesParser)({ xmlns: false });
  const ids = new Map<string, Node>();
  const images = new Set<string>();
  const open: Node[] = [];
  const sheets: string[] = [];
  let root: Node | undefined;
  let count = 0;
  let hasText = false;
  parser.on('doctype', () =>
    refuse(
      'svg_doctype',
      'a DOCTYPE is not allowed (it can declare entities and name outside files): delete the <!DOCTYPE …> line',
    ),
  );
  parser.on('processinginstruction', ({ target }) => {
    if (target === 'xml-stylesheet')
      refuse('svg_external', 'an <?xml-stylesheet?> names a file outside the art');
  });
  parser.on('opentag', (tag: Saxes.SaxesTagPlain) => {
    if (++count > SVG_LIMITS.maxElements) tooComplex();
    if (open.length >= SVG_LIMITS.maxDepth) tooDeep();
    const node = element(tag, images);
    if (node.name.toLowerCase() === 'text') hasText = true;
    if (node.id !== undefined && !ids.has(node.id)) ids.set(node.id, node);
    const parent = open.at(-1);
    if (parent) parent.children.push(node);
    else root = node;
    open.push(node);
  });
  parser.on('closetag', () => void open.pop());
  const styleText = (chunk: string) => {
    if (open.at(-1)?.name === 'style') sheets.push(chunk);
  };
  parser.on('text', styleText);
  parser.on('cdata', styleText);
  parser.write(text).close();
  if (!root || root.name !== 'svg') {
    return refuse('svg_xml', `the root element is <${root?.name ?? 'nothing'}>, not <svg>`);
  }
  applyStyleSheet(sheets.join(''), root);
  return { root, ids, images, text: hasText };
}

/** An element as the checks need it: its references, checked for anything outside the art. */
function element(tag: Saxes.SaxesTagPlain, images: Set<string>): Node {
  const name = localName(tag.name);
  const node: Node = { name, classes: [], refs: [], children: [], vertices: 1 };
  for (const [attribute, value] of Object.entries(tag.attributes)) {
    const local = localName(attribute).toLowerCase();
    if (local === 'href') {
      const href = value.trim();
      const data = name === 'image' ? embeddedImage(href) : null;
      if (href === '') continue;
      if (data) {
        node.image = data;
        images.add(data);
      } else if (!href.startsWith('#')) {
        external(name, attribute, href);
      } else if (name === 'use') {
        node.use = href.slice(1);
      } else {
        node.refs.push({ property: 'href', id: href.slice(1) });
      }
      continue;
    }
    if (/url\(\s*['"]?\s*[^\s'"#]/i.test(value)) external(name, attribute, value);
    if (local === 'id') node.id = value;
    else if (local === 'class') node.classes = value.split(/\s+/).filter(Boolean);
    else if (local === 'style') node.refs.push(...declarations(value, name));
    else if (REFERENCE_PROPERTIES.has(local)) node.refs.push(...reference(local, value, name));
    else if (local === 'd' || local === 'points') {
      node.vertices = Math.max(1, Math.ceil((value.match(/\d+(?:\.\d*)?|\.\d+/g)?.length ?? 0) / 2));
    }
  }
  return node;
}

/** The references of a style attribute or a style sheet rule (`fill: url(#g); stroke: …`). */
function declarations(css: string, where: string): Ref[] {
  return css.split(';').flatMap((declaration) => {
    const colon = declaration.indexOf(':');
    const property = declaration.slice(0, colon).trim().toLowerCase();
    return colon > 0 && REFERENCE_PROPERTIES.has(property)
      ? reference(property, declaration.slice(colon + 1), where)
      : [];
  });
}

/**
 * The element a reference property names, if any. svg-to-pdfkit resolves `url(#id)`, a bare `#id`,
 * and also `file#id` (through a document callback): anything before the `#` is outside the art.
 */
function reference(property: string, value: string, where: string): Ref[] {
  const first = value.trim().split(/\s+/)[0] ?? '';
  const url = /^url\(\s*(['"]?)(.*?)\1\s*\)$/i.exec(first)?.[2] ?? first;
  const hash = url.lastIndexOf('#');
  if (hash > 0) external(where, property, value.trim());
  if (hash !== 0) return [];
  const id = url.slice(1);
  // A colour such as #1F3A5F is not a reference, unless it names no colour (svg-to-pdfkit's order).
  if (
    (property === 'fill' || property === 'stroke') &&
    /^([0-9a-f]{3}|[0-9a-f]{6})$/i.test(id) &&
    url === first
  )
    return [];
  return property === 'marker'
    ? ['marker-start', 'marker-mid', 'marker-end'].map((p) => ({ property: p, id }))
    : [{ property, id }];
}

function external(where: string, attribute: string, value: string): never {
  const shown = value.length > 60 ? `${value.slice(0, 57)}…` : value;
  return refuse(
    'svg_external',
    `<${where} ${attribute}="${shown}"> refers to something outside the art: only references inside the file (#id) and embedded PNG or JPEG images are allowed`,
  );
}

/**
 * Applies a style sheet's references to the elements its rules may select. svg-to-pdfkit matches
 * compound selectors (`rect.a#b`); each rule is applied here to every element matching any part of
 * its selectors, which counts at least what will be drawn.
 */
function applyStyleSheet(css: string, root: Node): void {
  if (css === '') return;
  if (/@import/i.test(css))
    refuse('svg_external', 'an @import in a <style> names a style sheet outside the art');
  if (/url\(\s*['"]?\s*[^\s'"#]/i.test(css)) {
    refuse('svg_external', 'a url(…) in a <style> refers to something outside the art: use url(#id)');
  }
  const rules: { parts: string[]; refs: Ref[] }[] = [];
  for (const [, selectors, body] of css.matchAll(/([^{}]*)\{([^{}]*)\}/g)) {
    const refs = declarations(body!, 'style');
    if (refs.length > 0) rules.push({ parts: selectors!.match(/[#.]?[\w-]+|\*/g) ?? [], refs });
  }
  if (rules.length === 0) return;
  const visit = (node: Node) => {
    for (const { parts, refs } of rules) {
      const selected = parts.some(
        (part) =>
          part === '*' ||
          part === node.name ||
          (part.startsWith('#') && part.slice(1) === node.id) ||
          (part.startsWith('.') && node.classes.includes(part.slice(1))),
      );
      if (selected) node.refs.push(...refs);
    }
    node.children.forEach(visit);
  };
  visit(root);
}

// -------------------------------------------------------------------------------------- images

/** An embedded image's pixels, or why it cannot be drawn. */
async function embeddedPixels(url: string, verify: boolean): Promise<number | string> {
  const bytes = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
  try {
    const image = sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'warning' });
    const { format, width, height } = await image.metadata();
    if (format !== 'png' && format !== 'jpeg') return `an embedded image is ${format}: embed PNG or JPEG`;
    if (verify) await decodeEveryPixel(bytes, width);
    return width * height;
  } catch (error) {
    return `an embedded image cannot be read: ${damaged(error as Error).message}`;
  }
}

// ----------------------------------------------------------------------------------- expansion

function tooComplex(): never {
  return refuse(
    'svg_too_complex',
    `more than ${SVG_LIMITS.maxElements.toLocaleString('en-US')} elements to draw once <use>, patterns, clip paths, masks and markers are expanded: simplify the art`,
  );
}

function tooDeep(): never {
  return refuse(
    'svg_too_deep',
    `elements and references nested more than ${SVG_LIMITS.maxDepth} deep: flatten the art`,
  );
}

/**
 * Walks the art as svg-to-pdfkit will draw it, each reference expanded where it is used, counting
 * elements and embedded pixels; it stops at the first limit passed, so the walk itself is bounded.
 */
class Expansion {
  private elements = 0;
  private pixels = 0;
  /** References being expanded: meeting one again is a loop. */
  private readonly expanding = new Set<Node>();

  constructor(
    private readonly art: Art,
    private readonly imagePixels: ReadonlyMap<string, number>,
    private readonly maxPixels: number,
  ) {}

  /** `referenced`: drawn because something refers to it, as a pattern, marker or `<symbol>` is. */
  visit(node: Node, inherited: readonly Ref[], depth: number, referenced = false): void {
    if (++this.elements > SVG_LIMITS.maxElements) tooComplex();
    if (depth > SVG_LIMITS.maxDepth) tooDeep();
    if (node.image !== undefined) this.addPixels(this.imagePixels.get(node.image) ?? 0);
    const own = node.refs.filter((r) => INHERITED.has(r.property));
    const passed = [...inherited.filter((r) => !own.some((o) => o.property === r.property)), ...own];
    const drawnWith = [
      ...node.refs.filter((r) => !INHERITED.has(r.property)),
      ...(SHAPES.has(node.name) ? passed : []),
    ];
    for (const ref of drawnWith) {
      const times = ref.property === 'marker-mid' ? node.vertices : 1;
      for (let i = 0; i < times; i++) this.expand(ref.id, [], depth);
    }
    if (referenced || !NOT_DRAWN.has(node.name.toLowerCase())) {
      for (const child of node.children) this.visit(child, passed, depth + 1);
    }
    if (node.use !== undefined) this.expand(node.use, passed, depth);
  }

  private expand(id: string, inherited: readonly Ref[], depth: number): void {
    const target = this.art.ids.get(id);
    if (!target) return;
    if (this.expanding.has(target)) {
      refuse('svg_reference_loop', `#${id} refers, through <use> or url(#…), to itself`);
    }
    this.expanding.add(target);
    this.visit(target, inherited, depth + 1, true);
    this.expanding.delete(target);
  }

  private addPixels(count: number): void {
    this.pixels += count;
    if (this.pixels > this.maxPixels) {
      refuse(
        'svg_image_pixels',
        `embedded images of more than ${this.maxPixels.toLocaleString('en-US')} pixels in all (what the art's box prints at ${PRINT_PPI} ppi, at most ${SVG_LIMITS.maxImagePixels.toLocaleString('en-US')}): scale them down`,
      );
    }
  }
}
