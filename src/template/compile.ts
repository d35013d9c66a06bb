import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { type FontFace, loadFontFace } from '../assets/fonts.js';
import { cmykImage, loadColorTable, rgbToCmyk } from '../assets/cmyk.js';
import { type Placement, type PreparedImage, prepareImage } from '../assets/images.js';
import { checkSvg, SVG_LIMITS } from '../assets/svg.js';
import type { CompileContext, PlacementContext } from '../elements/kind.js';
import { kindOf } from '../elements/registry.js';
import { PlatenError, type Problem, problemsFromZod } from '../errors.js';
import { jsonDepthProblem } from '../json.js';
import { BLACK, type Color, type PrintSetup, type SpotInk } from '../model/color.js';
import type { PageGeometry } from '../model/geometry.js';
import type { CompiledElement, ElementDef, ElementItem, StaticLayer } from '../model/kinds.js';
import {
  type ColorRef,
  type ColorValue,
  isPdfA,
  isPdfX,
  type Manifest,
  PAGE_PRESETS,
} from '../model/manifest.js';
import type { CompiledPage, CompiledTemplate, ElementTag } from '../model/template.js';
import type { TextFn } from '../model/record.js';
import type { FontFamily, Hyphenator } from '../model/text.js';
import { compileText, TemplateSyntaxError } from '../text/handlebars.js';
import { hyphenatorFor } from '../text/hyphenate.js';
import { manifestSchema } from './manifest.js';
import { buildRecordSchema } from './record-schema.js';

/**
 * An error of the file system rather than of a file's content: not the package's fault, and its
 * message names server paths, so it is never turned into a problem with the package.
 */
const systemError = (error: unknown): boolean => typeof (error as NodeJS.ErrnoException).syscall === 'string';

/** A manifest larger than this is not a template but an accident (or an attack). */
const MAX_MANIFEST_BYTES = 1024 * 1024;
/** Files a package may hold: enough for data-chosen image sets, bounded for the package scan. */
const MAX_PACKAGE_FILES = 5000;

export interface CompileOptions {
  /** The version the service assigned the package; otherwise the manifest's own. */
  version?: number;
  /**
   * Decode every image and font in full (every pixel, every glyph), as a package being checked is
   * (`validateTemplate`): a truncated file is refused then, not printed as a blank. Stored packages
   * were checked on their way in, so compiling them again (each worker, each process) skips it.
   */
  check?: boolean;
}

/**
 * Compiles a template package (a folder with `template.json`) into a CompiledTemplate: everything
 * that does not depend on the record, done once. Collects every problem it can find and throws them
 * together as a PlatenError('invalid_template').
 */
export async function compileTemplate(dir: string, options: CompileOptions = {}): Promise<CompiledTemplate> {
  const root = await realpath(resolve(dir)).catch(() => {
    throw new PlatenError('invalid_template', [
      { path: dir, rule: 'not_found', message: 'template folder not found' },
    ]);
  });
  const manifest = await readManifest(root);
  const compiled = await new Compiler(root, manifest, options.check ?? false).compile();
  return options.version === undefined ? compiled : { ...compiled, version: options.version };
}

/**
 * A template with crop and bleed marks switched on or off whatever its `output.marks` says (`--marks`;
 * imposition, which marks sheets instead of pieces); undefined leaves the template's default.
 */
export function withMarks(compiled: CompiledTemplate, marks: boolean | undefined): CompiledTemplate {
  return marks === undefined || marks === compiled.print.marks
    ? compiled
    : { ...compiled, print: { ...compiled.print, marks } };
}

/** A package's template.json, parsed and checked against the manifest's schema (PlatenError if not). */
export async function readManifest(root: string): Promise<Manifest> {
  const file = join(root, 'template.json');
  const fail = (rule: string, message: string): never => {
    throw new PlatenError('invalid_template', [{ path: 'template.json', rule, message }]);
  };
  const info = await stat(file).catch(() => fail('not_found', 'missing template.json'));
  if (!info.isFile()) fail('not_found', 'template.json is a folder, not a file');
  if (info.size > MAX_MANIFEST_BYTES) fail('too_big', `larger than ${MAX_MANIFEST_BYTES} bytes`);
  const text = await readFile(file, 'utf8');
  const tooDeep = jsonDepthProblem(text, 'template.json');
  if (tooDeep) throw new PlatenError('invalid_template', [tooDeep]);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    fail('json', `not valid JSON: ${(error as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) throw new PlatenError('invalid_template', problemsFromZod(parsed.error.issues));
  return parsed.data;
}

/** A compiled element with the manifest element it came from and the context it was compiled in. */
interface Compiled {
  el: CompiledElement;
  def: ElementDef;
  context: CompileContext;
}

class Compiler {
  private readonly problems: Problem[] = [];
  private readonly assets = new Map<string, PreparedImage>();
  private families = new Map<string, FontFamily>();
  private packageFiles: string[] | null = null;
  /** Every box each package image is drawn in, by path: images are scaled to what these print. */
  private readonly placements = new Map<string, Placement[]>();
  private staticCount = 0;

  constructor(
    private readonly root: string,
    private readonly manifest: Manifest,
    private readonly check: boolean,
  ) {
    const spots = Object.entries(manifest.colors).flatMap(([key, value]): SpotInk[] =>
      typeof value === 'object' && 'spot' in value
        ? [{ key, ink: value.spot, alternate: cmykValues(value.cmyk) }]
        : [],
    );
    this.print = {
      marks: manifest.output?.marks ?? false,
      colorSpace: manifest.output?.colorSpace ?? 'rgb',
      spots,
      ...(isPdfX(manifest.output?.standard) ? { standard: manifest.output.standard } : {}),
    };
  }

  private readonly print: PrintSetup;

  async compile(): Promise<CompiledTemplate> {
    const m = this.manifest;
    const page = pageGeometry(m);
    if (this.print.colorSpace === 'cmyk') await loadColorTable();
    await this.loadFonts();
    await this.placeImages();
    await this.loadSampleImages();
    const pages: CompiledPage[] = [];
    for (const [p, def] of m.pages.entries()) {
      const elements: Compiled[] = [];
      for (const [e, el] of def.elements.entries()) {
        const context = this.context(el, `pages[${p}].elements[${e}]`);
        this.checkGeometry(el, page, context.path);
        this.checkStandard(el, context.path);
        if (el.when && !this.declared(el.when.path)) {
          this.problem(
            `${context.path}.when.path`,
            'undeclared',
            `"${el.when.path}" is not declared in the template's inputs`,
          );
        }
        const compiled = await kindOf(el.type).compile(el, context);
        if (compiled) elements.push({ el: compiled as CompiledElement, def: el, context });
      }
      pages.push({ name: def.name, layers: this.layer(elements) });
    }
    const fileName =
      m.output?.fileName !== undefined
        ? this.compileTextFn(m.output.fileName, 'output.fileName')?.render
        : undefined;
    const landingUrl = this.landingUrl();
    if (m.output?.marks) this.rgbOnly('output.marks', 'printer’s marks print on every ink');
    if (this.print.colorSpace === 'cmyk') await this.convertAssets();
    if (this.problems.length > 0) throw new PlatenError('invalid_template', this.problems);
    return {
      id: m.id,
      version: m.version,
      name: m.name,
      dir: this.root,
      manifest: m,
      page,
      print: this.print,
      tags: elementTags(m),
      inputs: { rep: m.rep, prospect: m.prospect, fields: m.fields },
      recordSchema: buildRecordSchema(m),
      pages,
      assets: this.assets,
      fonts: [...this.families.values()],
      ...(fileName ? { fileName } : {}),
      ...(landingUrl ? { landingUrl } : {}),
    };
  }

  /** Where the piece's tracked URL leads (`output.landingUrl`), which a template printing one must name. */
  private landingUrl(): TextFn | undefined {
    const source = this.manifest.output?.landingUrl;
    if (source === undefined) {
      if (this.printsPieceUrl) {
        this.problem(
          'output.landingUrl',
          'required',
          'the template prints a tracked link ({{piece.url}}): name the page it leads to in output.landingUrl',
        );
      }
      return undefined;
    }
    const compiled = this.compileTextFn(source, 'output.landingUrl');
    if (compiled?.paths.has('piece.url')) {
      this.problem(
        'output.landingUrl',
        'undeclared',
        'the landing page cannot lead to the tracked link itself',
      );
      return undefined;
    }
    return compiled?.render;
  }

  private problem(path: string, rule: string, message: string): void {
    this.problems.push({ path, rule, message });
  }

  // ------------------------------------------------------------------------------------ files

  /** Resolves a package-relative path, refusing anything (a `..`, a link) that leads outside the package. */
  private async packageFile(rel: string): Promise<string | null> {
    const full = resolve(this.root, rel);
    if (!full.startsWith(this.root + sep)) return null;
    const real = await realpath(full).catch(() => null);
    if (!real || !real.startsWith(this.root + sep)) return null;
    const info = await stat(real).catch(() => null);
    return info?.isFile() ? real : null;
  }

  private async listPackage(): Promise<string[]> {
    if (!this.packageFiles) {
      const entries = await readdir(this.root, { recursive: true, withFileTypes: true });
      this.packageFiles = entries
        .filter((d) => d.isFile())
        .slice(0, MAX_PACKAGE_FILES)
        .map((d) => relative(this.root, join(d.parentPath, d.name)).split(sep).join('/'));
    }
    return this.packageFiles;
  }

  private async loadImageAsset(rel: string, path: string): Promise<PreparedImage | undefined> {
    const cached = this.assets.get(rel);
    if (cached) return cached;
    const file = await this.packageFile(rel);
    if (!file) {
      this.problem(path, 'missing_asset', `file not found in the package: ${rel}`);
      return undefined;
    }
    const bytes = await readFile(file);
    try {
      const image = await prepareImage(bytes, {
        placements: this.placements.get(rel) ?? [],
        verify: this.check,
      });
      this.assets.set(rel, image);
      return image;
    } catch (error) {
      this.problem(path, 'bad_image', `${rel}: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** SVG art's text, or null (and its problems) when it may not be drawn: see checkSvg. */
  private async readSvg(
    file: string,
    rel: string,
    box: { w: number; h: number },
    path: string,
  ): Promise<string | null> {
    if ((await stat(file)).size > SVG_LIMITS.maxBytes) {
      this.problem(
        path,
        'svg_too_big',
        `${rel}: larger than ${SVG_LIMITS.maxBytes / (1024 * 1024)} MB: simplify the art`,
      );
      return null;
    }
    const svg = await readFile(file, 'utf8');
    const problems = await checkSvg(svg, box, { verify: this.check });
    for (const p of problems) this.problem(path, p.rule, `${rel}: ${p.message}`);
    return problems.length === 0 ? svg : null;
  }

  // ------------------------------------------------------------------------------------ fonts

  private async loadFonts(): Promise<void> {
    for (const [name, def] of Object.entries(this.manifest.fonts)) {
      const faces: Partial<Record<'regular' | 'bold' | 'italic' | 'boldItalic', FontFace>> = {};
      for (const style of ['regular', 'bold', 'italic', 'boldItalic'] as const) {
        const rel = def[style];
        if (rel === undefined) continue;
        const path = `fonts.${name}.${style}`;
        const file = await this.packageFile(rel);
        if (!file) {
          this.problem(path, 'missing_asset', `font file not found in the package: ${rel}`);
          continue;
        }
        try {
          faces[style] = await loadFontFace(file, { verify: this.check });
        } catch (error) {
          if (systemError(error)) throw error;
          this.problem(path, 'bad_font', `${rel}: ${(error as Error).message}`);
        }
      }
      if (faces.regular) this.families.set(name, { name, ...faces, regular: faces.regular });
    }
  }

  private hyphenator(
    on: boolean | undefined,
    lang: string | undefined,
    path: string,
  ): Hyphenator | undefined {
    if (!(on ?? this.manifest.hyphenate)) return undefined;
    const language = lang ?? this.manifest.lang;
    const hyphenator = hyphenatorFor(language);
    if (!hyphenator) {
      this.problem(path, 'no_hyphenation', `there are no hyphenation rules for the language "${language}"`);
      return undefined;
    }
    return hyphenator;
  }

  /** The element's family first, then the fallback chain (without repeating the element's own). */
  private fontChain(name: string | undefined): FontFamily[] {
    const first = name ?? this.manifest.defaultFont ?? Object.keys(this.manifest.fonts)[0]!;
    const chain = [first, ...this.manifest.fallbackFonts.filter((f) => f !== first)];
    return chain.map((f) => this.families.get(f)).filter((f): f is FontFamily => f !== undefined);
  }

  /** Where each package image is drawn (see each kind's `place`): images are scaled to what these print. */
  private async placeImages(): Promise<void> {
    const context: PlacementContext = {
      place: (rel, { w, h, fit }) => {
        const list = this.placements.get(rel) ?? [];
        list.push({ w, h, fit });
        this.placements.set(rel, list);
      },
      candidates: (src) => this.candidates(src),
      sampleValues: (path) => {
        const [scope, key] = path.split('.') as ['rep' | 'prospect' | 'fields', string];
        return this.manifest.samples.flatMap(({ record }) => {
          const value = Object.hasOwn(record[scope], key) ? record[scope][key] : undefined;
          return typeof value === 'string' && value !== '' ? [value] : [];
        });
      },
    };
    for (const page of this.manifest.pages)
      for (const el of page.elements) await kindOf(el.type).place?.(el, context);
  }

  /** Images named by sample records (package-relative paths), so samples render like real records. */
  private async loadSampleImages(): Promise<void> {
    const m = this.manifest;
    for (const [s, sample] of m.samples.entries()) {
      for (const scope of ['rep', 'prospect', 'fields'] as const) {
        for (const [key, def] of Object.entries(m[scope])) {
          const value = sample.record[scope][key];
          if (def.type === 'image' && typeof value === 'string' && value !== '') {
            await this.loadImageAsset(value, `samples[${s}].record.${scope}.${key}`);
          }
        }
      }
    }
  }

  // --------------------------------------------------------------------------------- elements

  private declared = (path: string): boolean => {
    const [scope, key] = path.split('.');
    if (scope === 'piece') return key === 'url' || key === 'code';
    return (
      (scope === 'rep' || scope === 'prospect' || scope === 'fields') &&
      Object.hasOwn(this.manifest[scope], key ?? '')
    );
  };

  /** Whether any text prints the piece's tracked URL: then the template must say where it leads. */
  private printsPieceUrl = false;

  private compileTextFn(
    source: string,
    path: string,
    emphasis = false,
  ): ReturnType<typeof compileText> | null {
    try {
      const compiled = compileText(source, this.declared, { emphasis });
      if (compiled.paths.has('piece.url')) this.printsPieceUrl = true;
      return compiled;
    } catch (error) {
      if (!(error instanceof TemplateSyntaxError)) throw error;
      this.problem(path, 'template', error.message);
      return null;
    }
  }

  /**
   * An element's colour: a palette name (a spot ink at a tint, if the palette says so) or a literal.
   * In a CMYK document RGB values become CMYK here, once, unless the element keeps RGB; then a
   * barcode's process colour is black ink alone, and a near-black mix is marked for small text (see
   * textInk), unless the palette entry keeps its inks.
   */
  private color(ref: ColorRef | undefined, path: string, keepRgb = false, use?: 'barcode'): Color {
    const named =
      typeof ref === 'object' && 'name' in ref
        ? ref.name
        : typeof ref === 'string' && !ref.startsWith('#')
          ? ref
          : undefined;
    let value =
      named === undefined ? ((ref as ColorValue | undefined) ?? '#000000') : this.manifest.colors[named];
    if (value === undefined) {
      this.problem(path, 'unknown_color', `unknown colour "${named}" (declare it in colors)`);
      value = '#000000';
    }
    const tint = typeof ref === 'object' && 'tint' in ref ? ref.tint : undefined;
    const keepInks = typeof value === 'object' && 'keepInks' in value;
    if (typeof value === 'object' && 'keepInks' in value) value = value.color;
    if (typeof value === 'object' && 'spot' in value) {
      this.rgbOnly(path, `"${named}" is a spot ink`);
      const spot = this.print.spots.find((s) => s.key === named)!;
      return { space: 'spot', values: [(tint ?? 100) / 100], spot };
    }
    if (tint !== undefined) {
      this.problem(
        `${path}.tint`,
        'not_spot',
        `"${named}" is not a spot colour: only spot colours take a tint`,
      );
    }
    let color = toColor(value);
    if (color.space === 'cmyk') this.rgbOnly(path, 'a CMYK colour');
    if (this.print.colorSpace !== 'cmyk' || (color.space === 'rgb' && keepRgb)) return color;
    if (color.space === 'rgb') color = { space: 'cmyk', values: rgbToCmyk(color.values) };
    if (keepInks || color.space !== 'cmyk') return color;
    if (use === 'barcode') return BLACK;
    return isNearBlack(color.values) ? { ...color, nearBlack: true } : color;
  }

  /**
   * An RGB template that is PDF/A prints in RGB alone: its output intent is sRGB, and PDF/A allows
   * no colour that intent does not describe (ISO 19005-1, 6.2.3.3; ISO 19005-2, 6.2.4.3).
   */
  private rgbOnly(path: string, what: string): void {
    const standard = this.manifest.output?.standard;
    if (this.print.colorSpace === 'cmyk' || !isPdfA(standard)) return;
    this.problem(
      path,
      'not_rgb',
      `${what}, but an RGB ${standard} template prints in RGB alone: give an #RRGGBB colour, or make the template CMYK (output.colorSpace)`,
    );
  }

  /** A CMYK document's package images, converted once now (the draw step uses the copies). */
  private async convertAssets(): Promise<void> {
    for (const [rel, image] of this.assets) {
      await cmykImage(image, this.print.standard === 'PDF/X-1a').catch((error: Error) =>
        this.problem(rel, 'bad_image', `${rel}: cannot convert to CMYK: ${error.message}`),
      );
    }
  }

  /** A PDF/X file holds no device RGB (ISO 15930-7, ISO 15930-4): no element may keep it. */
  private checkStandard(el: ElementDef, path: string): void {
    const standard = this.print.standard;
    if (standard && 'keepRgb' in el && el.keepRgb === true) {
      this.problem(
        `${path}.keepRgb`,
        'standard',
        `"${el.name}" keeps its RGB colours, which ${standard} does not allow: switch off "Keep RGB in a CMYK document"`,
      );
    }
  }

  private checkGeometry(el: ElementDef, page: PageGeometry, path: string): void {
    const b = page.bleed;
    const outside =
      el.x < -b - 0.01 ||
      el.y < -b - 0.01 ||
      el.x + el.w > page.trimWidth + b + 0.01 ||
      el.y + el.h > page.trimHeight + b + 0.01;
    if (outside) {
      this.problem(path, 'outside_page', `"${el.name}" extends outside the page and its bleed`);
    }
  }

  /** What a kind's compile may ask of this template, for one element. */
  private context(el: ElementDef, path: string): CompileContext {
    return {
      path,
      base: {
        name: el.name,
        box: { x: el.x, y: el.y, w: el.w, h: el.h },
        ...(el.when ? { when: el.when } : {}),
      },
      colorSpace: this.print.colorSpace,
      problem: (at, rule, message) => this.problem(at, rule, message),
      text: (source, at, emphasis) => this.compileTextFn(source, at, emphasis),
      color: (ref, at, keepRgb) => this.color(ref, at, keepRgb),
      barcodeColor: (ref, at, keepRgb) => this.color(ref, at, keepRgb, 'barcode'),
      fonts: (name) => this.fontChain(name),
      hyphenator: (on, lang, at) => this.hyphenator(on, lang, at),
      input: (at) => {
        const [scope, key] = at.split('.') as ['rep' | 'prospect' | 'fields', string];
        return this.manifest[scope][key];
      },
      image: (rel, at) => this.loadImageAsset(rel, at),
      asset: (rel) => this.assets.get(rel),
      candidates: (src, at, hasFallback) => this.loadCandidates(src, at, hasFallback),
      svg: async (rel, box, at) => {
        const file = await this.packageFile(rel);
        if (!file) {
          this.problem(at, 'missing_asset', `file not found in the package: ${rel}`);
          return null;
        }
        return this.readSvg(file, rel, box, at);
      },
    };
  }

  /** Every package file a data-chosen image path can name (its mustaches match one path segment). */
  private async candidates(src: string): Promise<string[]> {
    const pattern = new RegExp(
      `^${src
        .split(/\{\{[^}]*\}\}/)
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]+')}$`,
    );
    return (await this.listPackage()).filter((f) => pattern.test(f));
  }

  /** Loads every package file a data-chosen image path can name. */
  private async loadCandidates(src: string, path: string, hasFallback: boolean): Promise<void> {
    const matches = await this.candidates(src);
    if (matches.length === 0 && !hasFallback) {
      this.problem(path, 'missing_asset', `no file in the package matches ${src}, and there is no fallback`);
    }
    for (const file of matches) await this.loadImageAsset(file, path);
  }

  // ----------------------------------------------------------------------------------- layers

  /**
   * Groups each run of consecutive locked, data-independent elements into one static layer, fitted
   * now, so z-order is kept and each run becomes one Form XObject per document.
   */
  private layer(elements: Compiled[]): CompiledPage['layers'] {
    const layers: CompiledPage['layers'] = [];
    let current: StaticLayer | null = null;
    elements.forEach(({ el, def, context }) => {
      const item = el.when ? null : (kindOf(def.type).staticItem?.(el, def, context) as ElementItem | null);
      if (item) {
        if (!current) {
          current = { kind: 'static', id: `S${++this.staticCount}`, items: [] };
          layers.push(current);
        }
        current.items.push(item);
      } else {
        current = null;
        layers.push(el);
      }
    });
    return layers;
  }
}

/** Each element's tag: its declared role, else a paragraph for text and a figure for art with alt text. */
function elementTags(m: Manifest): Map<string, ElementTag> {
  const tags = new Map<string, ElementTag>();
  for (const page of m.pages) {
    for (const el of page.elements) {
      const text = kindOf(el.type).tagRole === 'P';
      const role = el.role ?? (text ? 'P' : el.alt !== undefined ? 'Figure' : 'Artifact');
      const lang = 'lang' in el && el.lang !== undefined && el.lang !== m.lang ? { lang: el.lang } : {};
      tags.set(el.name, { role, ...(el.alt !== undefined ? { alt: el.alt } : {}), ...lang });
    }
  }
  return tags;
}

export function pageGeometry(m: Manifest): PageGeometry {
  const [w, h] =
    typeof m.page.size === 'string' ? PAGE_PRESETS[m.page.size] : [m.page.size.width, m.page.size.height];
  const landscape =
    m.page.orientation === 'landscape' ? w < h : m.page.orientation === 'portrait' ? w > h : false;
  return { trimWidth: landscape ? h : w, trimHeight: landscape ? w : h, bleed: m.page.bleed };
}

export function toColor(value: ColorValue): Color {
  if (typeof value === 'string') {
    const n = Number.parseInt(value.slice(1), 16);
    return { space: 'rgb', values: [((n >> 16) & 255) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255] };
  }
  return { space: 'cmyk', values: cmykValues(value.cmyk) };
}

/** A four-ink mix of 80 % black or more: near-black, which small text prints on black alone. */
function isNearBlack([c, m, y, k]: readonly number[]): boolean {
  return k! >= 0.8 && Math.max(c!, m!, y!) > 0;
}

/** Manifest percentages as colour components 0..1. */
function cmykValues(percent: readonly number[]): [number, number, number, number] {
  const [c, m, y, k] = percent.map((v) => v / 100) as [number, number, number, number];
  return [c, m, y, k];
}
