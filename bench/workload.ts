// The shared mailer workload (see ../shared/bench-mailer/README.md), loaded once and converted to the
// units pdfkit works in, so every benchmark case draws exactly the same page from the same data.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** A box in PDF points, measured from the top-left of the page (pdfkit's coordinate system). */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A text box: font size in points, line height as a multiple of the size (CSS-style). */
export interface TextBox extends Box {
  size: number;
  lineHeight: number;
}

export interface Workload {
  /** Page size in points. */
  page: { width: number; height: number };
  layout: {
    header: Box;
    logo: Box;
    headline: TextBox;
    body: TextBox;
    headshot: Box;
    contact: TextBox;
    footer: TextBox;
  };
  colors: { brand: string; text: string; muted: string };
  /** `{{column}}` templates merged against a prospects.csv row. */
  templates: { headline: string; body: string; contact: string; footer: string };
  fontPath: string;
  logoPath: string;
  /** Headshot photo by the row's `headshot` column (1..5). */
  headshots: ReadonlyMap<number, string>;
}

// The README names the Debian font path; workload.json's own `font` field is only informative.
const FONT_PATH = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

const mmBox = z.object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() });
const mmTextBox = mmBox.extend({ size: z.number().positive(), lineHeight: z.number().positive() });

// Validated at load time so a changed workload fails loudly instead of silently drawing less.
const workloadFile = z.object({
  PAGE: z.object({ widthMm: z.number().positive(), heightMm: z.number().positive() }),
  LAYOUT: z.object({
    header: mmBox,
    logo: mmBox,
    headline: mmTextBox,
    body: mmTextBox,
    headshot: mmBox,
    contact: mmTextBox,
    footer: mmTextBox,
  }),
  COLORS: z.object({ brand: z.string(), text: z.string(), muted: z.string() }),
  TEMPLATES: z.object({ headline: z.string(), body: z.string(), contact: z.string(), footer: z.string() }),
  logo: z.string(),
  headshots: z.string(),
});
type WorkloadFile = z.infer<typeof workloadFile>;

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The shared workload directory: $PLATEN_BENCH_DIR, or ../shared/bench-mailer next to the repo. */
export function benchDir(): string {
  return resolve(REPO_ROOT, process.env.PLATEN_BENCH_DIR ?? '../shared/bench-mailer');
}

// Rounded to a thousandth of a point so US Letter comes out as exactly 612 × 792.
function mmToPt(mm: number): number {
  return Math.round((mm * 72000) / 25.4) / 1000;
}

function boxToPt(box: z.infer<typeof mmBox>): Box {
  return { x: mmToPt(box.x), y: mmToPt(box.y), w: mmToPt(box.w), h: mmToPt(box.h) };
}

function textBoxToPt(box: z.infer<typeof mmTextBox>): TextBox {
  return { ...boxToPt(box), size: box.size, lineHeight: box.lineHeight };
}

// workload.json says `assets/logo.png`, but the shared directory ships its files flat; accept both.
function assetPath(dir: string, relative: string): string {
  const candidates = [resolve(dir, relative), join(dir, basename(relative))];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) throw new Error(`workload asset not found: ${candidates.join(' or ')}`);
  return found;
}

// Expands the one brace range workload.json uses, e.g. `assets/rep-{1..5}.jpg`.
function headshotPaths(dir: string, pattern: string): Map<number, string> {
  const range = /\{(\d+)\.\.(\d+)\}/.exec(pattern);
  if (range?.[1] === undefined || range[2] === undefined) {
    throw new Error(`headshots pattern has no {from..to} range: ${pattern}`);
  }
  const paths = new Map<number, string>();
  for (let n = Number(range[1]); n <= Number(range[2]); n++) {
    paths.set(n, assetPath(dir, pattern.replace(range[0], String(n))));
  }
  return paths;
}

function toWorkload(dir: string, file: WorkloadFile): Workload {
  const { LAYOUT: l } = file;
  if (!existsSync(FONT_PATH)) throw new Error(`benchmark font missing (fonts-dejavu-core): ${FONT_PATH}`);
  return {
    page: { width: mmToPt(file.PAGE.widthMm), height: mmToPt(file.PAGE.heightMm) },
    layout: {
      header: boxToPt(l.header),
      logo: boxToPt(l.logo),
      headline: textBoxToPt(l.headline),
      body: textBoxToPt(l.body),
      headshot: boxToPt(l.headshot),
      contact: textBoxToPt(l.contact),
      footer: textBoxToPt(l.footer),
    },
    colors: file.COLORS,
    templates: file.TEMPLATES,
    fontPath: FONT_PATH,
    logoPath: assetPath(dir, file.logo),
    headshots: headshotPaths(dir, file.headshots),
  };
}

const workloads = new Map<string, Workload>();

/** The workload in points; cached per directory so timed code can call it freely. */
export function loadWorkload(dir: string = benchDir()): Workload {
  let workload = workloads.get(dir);
  if (workload === undefined) {
    const raw: unknown = JSON.parse(readFileSync(join(dir, 'workload.json'), 'utf8'));
    workload = toWorkload(dir, workloadFile.parse(raw));
    workloads.set(dir, workload);
  }
  return workload;
}

/** The 1,000 prospects.csv rows, keyed by the header row's column names. */
export function loadProspects(dir: string = benchDir()): Record<string, string>[] {
  const [header, ...rows] = parseCsv(readFileSync(join(dir, 'prospects.csv'), 'utf8'));
  if (header === undefined) throw new Error('prospects.csv is empty');
  return rows.map((fields, i) => {
    if (fields.length !== header.length) {
      throw new Error(`prospects.csv record ${i + 2}: ${fields.length} fields, header has ${header.length}`);
    }
    return Object.fromEntries(header.map((name, j) => [name, fields[j] ?? '']));
  });
}

/**
 * A minimal RFC 4180 reader (quoted fields, doubled quotes, CRLF or LF, embedded newlines), enough for
 * the benchmark without adding a CSV dependency. A UTF-8 BOM and a final line break are ignored.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.startsWith('\uFEFF') ? 1 : 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') field += text[++i];
      else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw new Error('CSV ends inside a quoted field');
  // A last record without a trailing line break still counts; a trailing line break adds nothing.
  if (field !== '' || record.length > 0) records.push([...record, field]);
  return records;
}

/** A CSV row of the workload as a Platen record: the rep columns are the rep's profile. */
export function mailerRecord(row: Record<string, string>): unknown {
  return {
    rep: { name: row.repName, title: row.repTitle, phone: row.repPhone, email: row.repEmail },
    prospect: {
      id: row.id,
      firstName: row.firstName,
      lastName: row.lastName,
      company: row.company,
      industry: row.industry,
      headshot: row.headshot,
    },
  };
}
