// The README's "naive pdfkit" baseline: the straightforward way to make the mailer with pdfkit, with no
// template pre-rendering. Every element is redrawn on every page; images are passed by path so pdfkit's
// path-keyed image cache embeds each file once per document.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import PDFDocument from 'pdfkit';
import { loadWorkload, type TextBox, type Workload } from './workload.js';

type Row = Record<string, string>;

const FONT = 'DejaVuSans';

// Plain `{{column}}` replacement (no Handlebars). A missing column throws rather than rendering blank,
// which would make the baseline look faster than it is.
function merge(template: string, row: Row): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_match, column: string) => {
    const value = row[column];
    if (value === undefined) throw new Error(`prospect row has no column "${column}"`);
    return value;
  });
}

function drawText(doc: PDFKit.PDFDocument, text: string, box: TextBox, color: string): void {
  doc.font(FONT).fontSize(box.size).fillColor(color);
  // pdfkit advances lines by the font's natural height (ascent − descent, ≈1.16 em for DejaVu) plus
  // lineGap, so the gap is whatever makes the advance equal lineHeight × size, as the workload means.
  const lineGap = box.size * box.lineHeight - doc.currentLineHeight(true);
  doc.text(text, box.x, box.y, { width: box.w, height: box.h, lineGap });
}

function headshotPath(workload: Workload, row: Row): string {
  const path = workload.headshots.get(Number(row.headshot));
  if (path === undefined) throw new Error(`no headshot photo for headshot="${row.headshot ?? ''}"`);
  return path;
}

function drawPage(doc: PDFKit.PDFDocument, workload: Workload, row: Row): void {
  const { layout: l, colors: c, templates: t } = workload;
  doc.addPage();
  doc.rect(l.header.x, l.header.y, l.header.w, l.header.h).fill(c.brand);
  doc.image(workload.logoPath, l.logo.x, l.logo.y, { fit: [l.logo.w, l.logo.h] });
  drawText(doc, merge(t.headline, row), l.headline, c.brand);
  drawText(doc, merge(t.body, row), l.body, c.text);
  // The photos are square like the box, so `cover` fills it exactly without needing a clip.
  doc.image(headshotPath(workload, row), l.headshot.x, l.headshot.y, { cover: [l.headshot.w, l.headshot.h] });
  drawText(doc, merge(t.contact, row), l.contact, c.text);
  drawText(doc, merge(t.footer, row), l.footer, c.muted);
}

/** Draws the rows, one page each, into a new document streamed to outPath; resolves once on disk. */
async function writeDocument(workload: Workload, rows: readonly Row[], outPath: string): Promise<void> {
  // margin 0: the footer sits below pdfkit's default 72 pt bottom margin; boxes are absolute anyway.
  const doc = new PDFDocument({
    size: [workload.page.width, workload.page.height],
    autoFirstPage: false,
    margin: 0,
  });
  const written = pipeline(doc, createWriteStream(outPath));
  try {
    // Registered by path per document, as naive code does: each document loads and parses the font.
    doc.registerFont(FONT, workload.fontPath);
    for (const row of rows) drawPage(doc, workload, row);
  } catch (error) {
    doc.destroy();
    await written.catch(() => undefined);
    throw error;
  }
  doc.end();
  await written;
}

/** All rows in one merged PDF at outPath. */
export async function naiveMerged(
  rows: readonly Row[],
  outPath: string,
  workload: Workload = loadWorkload(),
): Promise<void> {
  await writeDocument(workload, rows, outPath);
}

/** One PDF per row, `record-0001.pdf` … in outDir, made one after another (one core, like the README). */
export async function naivePerRecord(
  rows: readonly Row[],
  outDir: string,
  workload: Workload = loadWorkload(),
): Promise<void> {
  await mkdir(outDir, { recursive: true });
  for (const [i, row] of rows.entries()) {
    await writeDocument(workload, [row], join(outDir, perRecordFileName(i)));
  }
}

/** The file naivePerRecord writes for the row at index i (zero-based). */
export function perRecordFileName(i: number): string {
  return `record-${String(i + 1).padStart(4, '0')}.pdf`;
}
