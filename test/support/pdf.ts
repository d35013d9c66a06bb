/**
 * Test helpers for opening and checking the PDFs Platen produces.
 *
 * Text, metadata and rendering go through pdfjs-dist (what a viewer would see); structure goes through
 * qpdf and poppler's pdffonts (independent parsers, so a bug in one reader cannot hide a broken file).
 * Every helper accepts a file path or the PDF bytes.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { withPdfDocument as withPdfBytes } from '../../src/render/raster.js';
import type { PDFDocumentProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';

/** A PDF as a path on disk or as its bytes (a Buffer is a Uint8Array). */
export type PdfSource = string | Uint8Array;

// ---------------------------------------------------------------------------------------------------------
// pdfjs-dist: the same set-up the service's previews use (src/render/raster.ts)
// ---------------------------------------------------------------------------------------------------------

async function readPdfBytes(pdf: PdfSource): Promise<Uint8Array> {
  return typeof pdf === 'string' ? new Uint8Array(await readFile(pdf)) : pdf;
}

/** Opens `pdf` with pdfjs, runs `use`, and always releases the document (pdfjs holds memory otherwise). */
export async function withPdfDocument<T>(
  pdf: PdfSource,
  use: (doc: PDFDocumentProxy) => Promise<T>,
): Promise<T> {
  return withPdfBytes(await readPdfBytes(pdf), use);
}

// ---------------------------------------------------------------------------------------------------------
// Text and metadata (pdfjs)
// ---------------------------------------------------------------------------------------------------------

/**
 * Collapses every whitespace run (including line breaks) to one space and NFC-normalizes, so
 * `toContain('Smith & Sons <Ltd>')` holds no matter where layout wrapped the line or how the text
 * was split into runs.
 */
function normalizeText(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

/** Extracted text of each page, in page order, with whitespace normalized (see normalizeText). */
export async function pdfText(pdf: PdfSource): Promise<string[]> {
  return withPdfDocument(pdf, async (doc) => {
    const pages: string[] = [];
    for (let pageNumber = 1; pageNumber <= doc.numPages; pageNumber++) {
      const page = await doc.getPage(pageNumber);
      const { items } = await page.getTextContent();
      // pdfjs already emits " " items for gaps between runs; hasEOL marks line ends.
      const raw = items.map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : '')).join('');
      pages.push(normalizeText(raw));
      page.cleanup();
    }
    return pages;
  });
}

const STANDARD_INFO_KEYS = [
  'Title',
  'Author',
  'Subject',
  'Keywords',
  'Creator',
  'Producer',
  'CreationDate',
  'ModDate',
  'Trapped',
] as const;
export type StandardInfoKey = (typeof STANDARD_INFO_KEYS)[number];
export type CustomInfoValue = string | number | boolean;

export interface PdfInfo {
  pageCount: number;
  /** Header version as pdfjs reports it, e.g. "1.7". */
  pdfVersion: string | undefined;
  /** Standard Info dictionary entries present in the file; dates stay raw ("D:2024…"). */
  info: Partial<Record<StandardInfoKey, string>>;
  /** Every non-standard Info dictionary key (pdfjs reports them in a Map under `Custom`). */
  custom: Record<string, CustomInfoValue>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** pdfjs gives strings, numbers and booleans as-is and PDF names (e.g. /Trapped /True) as `{ name }`. */
function infoValue(value: unknown): CustomInfoValue | undefined {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (isRecord(value) && typeof value.name === 'string') return value.name;
  return undefined;
}

function standardInfo(raw: Record<string, unknown>): PdfInfo['info'] {
  const info: PdfInfo['info'] = {};
  for (const key of STANDARD_INFO_KEYS) {
    const value = infoValue(raw[key]);
    if (value !== undefined) info[key] = String(value);
  }
  return info;
}

function customInfo(raw: Record<string, unknown>): PdfInfo['custom'] {
  const custom: PdfInfo['custom'] = {};
  if (!(raw.Custom instanceof Map)) return custom;
  for (const [key, rawValue] of raw.Custom) {
    const value = infoValue(rawValue);
    if (value !== undefined) custom[key] = value;
  }
  return custom;
}

/** Page count and the document Info dictionary, as pdfjs reads them. */
export async function pdfInfo(pdf: PdfSource): Promise<PdfInfo> {
  return withPdfDocument(pdf, async (doc) => {
    // Typed as plain `Object` by pdfjs; it also mixes in derived flags (IsLinearized, …) we leave out.
    const { info } = await doc.getMetadata();
    const raw: Record<string, unknown> = isRecord(info) ? info : {};
    return {
      pageCount: doc.numPages,
      pdfVersion: typeof raw.PDFFormatVersion === 'string' ? raw.PDFFormatVersion : undefined,
      info: standardInfo(raw),
      custom: customInfo(raw),
    };
  });
}

// ---------------------------------------------------------------------------------------------------------
// External tools (qpdf, poppler)
// ---------------------------------------------------------------------------------------------------------

const execFileAsync = promisify(execFile);

interface ToolResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Shape of the error promisified execFile rejects with; `code` is the exit status or an errno string. */
function isExecError(
  error: unknown,
): error is Error & { code?: unknown; stdout?: unknown; stderr?: unknown } {
  return error instanceof Error;
}

/**
 * Runs a tool and resolves with its exit status instead of rejecting on a non-zero one, because for
 * qpdf the status is the answer (0 clean, 2 errors, 3 warnings). Rejects only if it could not run.
 */
async function runTool(command: string, args: readonly string[]): Promise<ToolResult> {
  try {
    // qpdf's JSON for a large document easily exceeds execFile's default 1 MiB buffer.
    const { stdout, stderr } = await execFileAsync(command, args, {
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
    });
    return { exitCode: 0, stdout, stderr };
  } catch (error) {
    if (!isExecError(error)) throw error;
    if (error.code === 'ENOENT') {
      throw new Error(
        `${command} is not installed (CI installs it: apt-get install qpdf poppler-utils zbar-tools)`,
        {
          cause: error,
        },
      );
    }
    if (typeof error.code !== 'number') throw error; // killed by a signal, buffer overflow, …
    return {
      exitCode: error.code,
      stdout: typeof error.stdout === 'string' ? error.stdout : '',
      stderr: typeof error.stderr === 'string' ? error.stderr : '',
    };
  }
}

/** Gives the command-line tools a path: bytes go to a private temp file that is always removed. */
async function withPdfPath<T>(pdf: PdfSource, use: (file: string) => Promise<T>): Promise<T> {
  if (typeof pdf === 'string') return use(pdf);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'platen-pdf-'));
  try {
    const file = path.join(dir, 'input.pdf');
    await writeFile(file, pdf);
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function toolFailure(command: string, result: ToolResult): Error {
  return new Error(
    `${command} exited with ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim()}`,
  );
}

/** Each page's text as poppler's pdftotext reads it, whitespace runs collapsed to one space. */
export async function popplerText(pdf: PdfSource, options: string[] = []): Promise<string[]> {
  const result = await withPdfPath(pdf, (file) =>
    runTool('pdftotext', ['-enc', 'UTF-8', ...options, file, '-']),
  );
  if (result.exitCode !== 0) throw toolFailure('pdftotext', result);
  return result.stdout
    .split('\f')
    .slice(0, -1)
    .map((page) => page.replace(/\s+/g, ' ').trim());
}

/** The QR codes zbar's zbarimg reads on one page, rasterized by poppler's pdftoppm at 300 dpi. */
export async function qrCodesOn(pdf: PdfSource, page: number): Promise<string[]> {
  return withPdfPath(pdf, async (file) => {
    const prefix = `${file}-page`;
    const raster = await runTool('pdftoppm', [
      '-r',
      '300',
      '-f',
      `${page}`,
      '-l',
      `${page}`,
      '-singlefile',
      '-png',
      file,
      prefix,
    ]);
    if (raster.exitCode !== 0) throw toolFailure('pdftoppm', raster);
    const read = await runTool('zbarimg', [
      '--quiet',
      '--raw',
      '-Sdisable',
      '-Sqrcode.enable',
      `${prefix}.png`,
    ]);
    if (read.exitCode !== 0) throw toolFailure('zbarimg', read);
    return read.stdout.trim().split('\n');
  });
}

/**
 * Every page's label (`12` for row 12, `12` for each page of a two-page piece), in page order: the
 * rows a batch's print file holds. Read by qpdf, which must see each prefix as a text string.
 */
export async function pageLabels(pdf: PdfSource): Promise<string[]> {
  const result = await withPdfPath(pdf, (file) =>
    runTool('qpdf', ['--json=2', '--json-key=pagelabels', file]),
  );
  if (result.exitCode !== 0) throw toolFailure('qpdf', result);
  const labels = (JSON.parse(result.stdout) as { pagelabels: { index: number; label: { '/P': string } }[] })
    .pagelabels;
  return labels.map(({ label }) => {
    // qpdf's JSON version 2 writes a text string as `u:…` and a name as `/…`.
    if (!label['/P'].startsWith('u:'))
      throw new Error(`page label prefix ${label['/P']} is not a text string`);
    return label['/P'].slice(2).replace(/-$/, '');
  });
}

/** Every page's label as a viewer shows it (pdf.js), in page order; null when the file has none. */
export async function viewerPageLabels(pdf: PdfSource): Promise<string[] | null> {
  return withPdfDocument(pdf, (doc) => doc.getPageLabels());
}

export interface QpdfCheckResult {
  /** True only for exit status 0; warnings (status 3) count as a failed check. */
  ok: boolean;
  exitCode: number;
  /** stdout followed by stderr, for assertion messages. */
  output: string;
}

/** `qpdf --check`: structural validation by a parser independent of pdfkit and pdfjs. */
export async function qpdfCheck(pdf: PdfSource): Promise<QpdfCheckResult> {
  const result = await withPdfPath(pdf, (file) => runTool('qpdf', ['--check', file]));
  return {
    ok: result.exitCode === 0,
    exitCode: result.exitCode,
    output: [result.stdout, result.stderr].filter((s) => s.length > 0).join('\n'),
  };
}

export interface PdfFont {
  /** BaseFont, including the subset tag ("ABCDEF+DejaVuSans"); "[none]" for Type 3 fonts. */
  name: string;
  /** pdffonts' type column, e.g. "CID TrueType", "Type 1C". */
  type: string;
  encoding: string;
  embedded: boolean;
  subset: boolean;
  /** Has a ToUnicode map (text can be extracted/searched). */
  unicode: boolean;
  /** The font dictionary, e.g. "8 0 R". */
  ref: string;
}

/** Every font type pdffonts prints (poppler's fontTypeNames), longest first for suffix matching. */
const PDFFONTS_TYPES = [
  'CID TrueType (OT)',
  'CID Type 0C (OT)',
  'TrueType (OT)',
  'Type 1C (OT)',
  'CID TrueType',
  'CID Type 0C',
  'CID Type 0',
  'TrueType',
  'unknown',
  'Type 1C',
  'Type 1',
  'Type 3',
] as const;

const PDFFONTS_ROW = /^(.*\S)\s+(yes|no)\s+(yes|no)\s+(yes|no)\s+(\d+)\s+(\d+)\s*$/;

/**
 * Parses one pdffonts row. The columns are nominally fixed-width, but a long font name pushes the rest
 * of the row right, so parse from the right instead: the flags and object id, then the encoding (a
 * single token), then a known type name; whatever precedes that is the font name.
 */
function parsePdffontsRow(line: string): PdfFont {
  const match = PDFFONTS_ROW.exec(line);
  const [, left, emb, sub, uni, objNum, gen] = match ?? [];
  if (left === undefined || objNum === undefined || gen === undefined) {
    throw new Error(`Unrecognized pdffonts row: ${JSON.stringify(line)}`);
  }
  const encodingStart = left.search(/\S+$/);
  const beforeEncoding = left.slice(0, encodingStart).trimEnd();
  const type = PDFFONTS_TYPES.find((t) => beforeEncoding.endsWith(` ${t}`));
  if (type === undefined) throw new Error(`Unknown font type in pdffonts row: ${JSON.stringify(line)}`);
  return {
    name: beforeEncoding.slice(0, -type.length).trim(),
    type,
    encoding: left.slice(encodingStart),
    embedded: emb === 'yes',
    subset: sub === 'yes',
    unicode: uni === 'yes',
    ref: `${objNum} ${gen} R`,
  };
}

/** Parses the table `pdffonts` prints (exported so the parser can be tested on awkward rows). */
export function parsePdffonts(output: string): PdfFont[] {
  const lines = output.split('\n');
  const ruler = lines.findIndex((line) => /^-+( -+)+\s*$/.test(line));
  if (ruler === -1) throw new Error(`No pdffonts table in output: ${JSON.stringify(output)}`);
  return lines
    .slice(ruler + 1)
    .filter((line) => line.trim().length > 0)
    .map(parsePdffontsRow);
}

/** The fonts poppler finds on the pages, one row per font dictionary. */
export async function pdfFonts(pdf: PdfSource): Promise<PdfFont[]> {
  const result = await withPdfPath(pdf, (file) => runTool('pdffonts', [file]));
  if (result.exitCode !== 0) throw toolFailure('pdffonts', result);
  return parsePdffonts(result.stdout);
}

// ---------------------------------------------------------------------------------------------------------
// Object graph (qpdf --json, version 2)
// ---------------------------------------------------------------------------------------------------------

/**
 * A PDF value as qpdf's JSON v2 writes it: names as "/Name", indirect references as "12 0 R",
 * strings as "u:text" or "b:hex", dictionaries as objects keyed by name ("/Type").
 */
export type PdfJson = null | boolean | number | string | PdfJson[] | { [key: string]: PdfJson };
export type PdfDict = { [key: string]: PdfJson };

export interface PdfObject {
  /** "12 0 R" */
  ref: string;
  isStream: boolean;
  /** The object's value; for a stream, its dictionary (stream data is not loaded). */
  value: PdfJson;
}

export interface PdfObjects {
  /** Page objects in page order ("7 0 R", …). */
  pageRefs: string[];
  objects: ReadonlyMap<string, PdfObject>;
  trailer: PdfJson;
  /** qpdf's warnings while reading (it still produced the graph; see qpdfCheck for validity). */
  warnings: string[];
}

const REF = /^\d+ \d+ R$/;

export function isRef(value: PdfJson | undefined): value is string {
  return typeof value === 'string' && REF.test(value);
}

function asDict(value: PdfJson | undefined): PdfDict | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
}

/** Follows indirect references (with a bound, so a reference cycle in a broken file cannot hang a test). */
export function deref(objs: PdfObjects, value: PdfJson | undefined): PdfJson | undefined {
  let current = value;
  for (let hops = 0; isRef(current) && hops < 32; hops++) current = objs.objects.get(current)?.value;
  return isRef(current) ? undefined : current;
}

/** Looks `key` up on a page, walking /Parent for the attributes pages inherit from the page tree. */
function inheritedAttribute(objs: PdfObjects, pageRef: string, key: string): PdfJson | undefined {
  let node = asDict(deref(objs, pageRef));
  for (let depth = 0; node !== undefined && depth < 64; depth++) {
    if (key in node) return deref(objs, node[key]);
    node = asDict(deref(objs, node['/Parent']));
  }
  return undefined;
}

function parseObjectEntry(key: string, entry: PdfJson): PdfObject | undefined {
  const ref = key.startsWith('obj:') ? key.slice('obj:'.length) : undefined;
  const body = asDict(entry);
  if (ref === undefined || body === undefined) return undefined;
  const stream = asDict(body.stream);
  if (stream !== undefined) return { ref, isStream: true, value: stream.dict ?? null };
  return { ref, isStream: false, value: body.value ?? null };
}

function parseQpdfJson(stdout: string, warnings: string[]): PdfObjects {
  // JSON.parse can only produce values of the PdfJson shape.
  const root = asDict(JSON.parse(stdout) as PdfJson);
  const [header, objectTable] = Array.isArray(root?.qpdf) ? root.qpdf : [];
  if (asDict(header)?.jsonversion !== 2 || asDict(objectTable) === undefined) {
    throw new Error('qpdf did not produce JSON v2 with a "qpdf" object table (qpdf 11+ is required)');
  }
  const table = asDict(objectTable) ?? {};
  const objects = new Map<string, PdfObject>();
  for (const [key, entry] of Object.entries(table)) {
    const object = parseObjectEntry(key, entry);
    if (object !== undefined) objects.set(object.ref, object);
  }
  const pages = Array.isArray(root?.pages) ? root.pages : [];
  const pageRefs = pages.map((page) => asDict(page)?.object).filter(isRef);
  return { pageRefs, objects, trailer: asDict(table.trailer)?.value ?? null, warnings };
}

/** The whole object graph (without stream data) plus the page order, via `qpdf --json=2`. */
export async function pdfObjects(pdf: PdfSource): Promise<PdfObjects> {
  const args = ['--json=2', '--json-key=pages', '--json-key=qpdf', '--json-stream-data=none'];
  const result = await withPdfPath(pdf, (file) => runTool('qpdf', [...args, file]));
  // Status 3 means qpdf recovered from problems; the graph it prints is still complete.
  if (result.exitCode !== 0 && result.exitCode !== 3) throw toolFailure('qpdf --json', result);
  const warnings = result.stderr.split('\n').filter((line) => line.startsWith('WARNING'));
  return parseQpdfJson(result.stdout, warnings);
}

/** Counts objects matching `predicate`, e.g. `countObjects(objs, isImageXObject)`. */
export function countObjects(objs: PdfObjects, predicate: (object: PdfObject) => boolean): number {
  let count = 0;
  for (const object of objs.objects.values()) if (predicate(object)) count++;
  return count;
}

function isXObjectOfSubtype(object: PdfObject, subtype: string): boolean {
  // /Type /XObject is optional in XObject dictionaries; /Subtype is what readers go by.
  return object.isStream && asDict(object.value)?.['/Subtype'] === subtype;
}

/** An image XObject (an SMask is one too; inline images are not objects and are not counted). */
export function isImageXObject(object: PdfObject): boolean {
  return isXObjectOfSubtype(object, '/Image');
}

export function isFormXObject(object: PdfObject): boolean {
  return isXObjectOfSubtype(object, '/Form');
}

/**
 * For each page, its /Resources /XObject entries as name (without the "/") -> reference, e.g.
 * `{ I1: '9 0 R' }`. Resolves Resources inherited from the page tree and indirect dictionaries.
 */
export function pageXObjects(objs: PdfObjects): Array<Record<string, string>> {
  return objs.pageRefs.map((pageRef) => {
    const resources = asDict(inheritedAttribute(objs, pageRef, '/Resources'));
    const xobjects = asDict(deref(objs, resources?.['/XObject'])) ?? {};
    const byName: Record<string, string> = {};
    for (const [name, value] of Object.entries(xobjects)) {
      // XObjects are streams, so they are always indirect; anything else is not a usable entry.
      if (isRef(value)) byName[name.replace(/^\//, '')] = value;
    }
    return byName;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Page boxes
// ---------------------------------------------------------------------------------------------------------

/** [x0, y0, x1, y1] in PDF points, normalized so x0 <= x1 and y0 <= y1. */
export type Box = [x0: number, y0: number, x1: number, y1: number];

export interface PageBoxes {
  media: Box;
  crop: Box;
  bleed: Box;
  trim: Box;
  art: Box;
}

function toBox(value: PdfJson | undefined, objs: PdfObjects): Box | undefined {
  if (!Array.isArray(value) || value.length !== 4) return undefined;
  const numbers = value.map((v) => deref(objs, v));
  const [a, b, c, d] = numbers;
  if (typeof a !== 'number' || typeof b !== 'number' || typeof c !== 'number' || typeof d !== 'number') {
    return undefined;
  }
  // The spec allows any two opposite corners; normalize so tests can compare with toEqual.
  return [Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)];
}

function boxesOfPage(objs: PdfObjects, pageRef: string): PageBoxes {
  const media = toBox(inheritedAttribute(objs, pageRef, '/MediaBox'), objs);
  if (media === undefined) throw new Error(`Page ${pageRef} has no valid MediaBox`);
  const crop = toBox(inheritedAttribute(objs, pageRef, '/CropBox'), objs) ?? media;
  // Bleed/Trim/ArtBox are not inheritable and default to the CropBox (PDF 32000-1 §14.11.2).
  const page = asDict(deref(objs, pageRef)) ?? {};
  const own = (key: string): Box => toBox(deref(objs, page[key]), objs) ?? crop;
  return { media, crop, bleed: own('/BleedBox'), trim: own('/TrimBox'), art: own('/ArtBox') };
}

/**
 * The five page boxes of each page as declared in the file (with inheritance and defaults applied).
 * Read from qpdf's JSON rather than `pdfinfo -box`, which rounds to 2 decimals and clips boxes to the
 * MediaBox - a test should see both exact bleed values and a box that sticks out of the media.
 */
export async function pageBoxes(pdf: PdfSource): Promise<PageBoxes[]> {
  const objs = await pdfObjects(pdf);
  return objs.pageRefs.map((pageRef) => boxesOfPage(objs, pageRef));
}
