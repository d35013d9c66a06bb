/**
 * PdfJoiner: parts of a mail drop (whole PDFs from PieceDocument) joined into one print file. The
 * joined file must be valid for an independent parser (qpdf) and read exactly as if one document had
 * drawn every piece: pages, bookmarks and page labels in order, record boundaries, images once.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProspects, mailerRecord } from '../../bench/workload.js';
import type { FittedPiece } from '../../src/model/piece.js';
import { preparePiece, renderToBuffer, samples } from '../../src/pipeline.js';
import { sheetLayout } from '../../src/pdf/impose.js';
import { type Imposition, PdfJoiner } from '../../src/render/join.js';
import { relocatePart, surveyPart } from '../../src/render/relocate.js';
import { compileTemplate, withMarks } from '../../src/template/compile.js';
import type { CompiledTemplate } from '../../src/model/template.js';
import {
  countObjects,
  deref,
  isImageXObject,
  pageBoxes,
  pageLabels,
  pdfObjects,
  qpdfCheck,
  type PdfDict,
  viewerPageLabels,
} from '../support/pdf.js';
import { inkedRegions, uncompressed } from '../support/print.js';
import { REPO_ROOT } from '../support/repo.js';

const run = promisify(execFile);

async function join(parts: Buffer[], impose?: Imposition): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const joiner = new PdfJoiner(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    }),
    impose ? { impose } : {},
  );
  for (const part of parts) await joiner.append(part);
  await joiner.end();
  return Buffer.concat(chunks);
}

async function qpdfJson<T>(pdf: Buffer, key: string, dir: string): Promise<T> {
  const file = path.join(dir, `${key}.pdf`);
  await writeFile(file, pdf);
  const { stdout } = await run('qpdf', ['--json', `--json-key=${key}`, file], { maxBuffer: 1 << 26 });
  return (JSON.parse(stdout) as Record<string, T>)[key]!;
}

describe('PdfJoiner', () => {
  let compiled: CompiledTemplate;
  let dir: string;
  let pieces: FittedPiece[];

  beforeAll(async () => {
    compiled = await compileTemplate(path.join(REPO_ROOT, 'bench/mailer'));
    dir = await mkdtemp(path.join(os.tmpdir(), 'platen-join-'));
    pieces = loadProspects()
      .slice(0, 30)
      .map((row, i) => {
        const piece = preparePiece(compiled, mailerRecord(row), compiled.assets);
        // Titles that look like PDF syntax must come through as text, untouched.
        piece.marker = {
          title: i === 12 ? 'Row 13: (5 0 R) \\ <<odd>>' : `Row ${i + 1}`,
          label: String(i + 1),
        };
        return piece;
      });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('joins parts into one valid file that reads as one document of every piece, in order', async () => {
    const parts = [pieces.slice(0, 10), pieces.slice(10, 11), pieces.slice(11, 30)];
    const joined = await join(await Promise.all(parts.map((p) => renderToBuffer(compiled, p))));
    const whole = await renderToBuffer(compiled, pieces);
    expect((await qpdfCheck(joined)).output).toMatch(/No syntax or stream encoding errors/);
    expect((await qpdfCheck(joined)).ok).toBe(true);

    const outlines = await qpdfJson<{ title: string; destpageposfrom1: number }[]>(joined, 'outlines', dir);
    expect(outlines.map((o) => o.title)).toEqual(pieces.map((p) => p.marker!.title));
    expect(outlines.map((o) => o.destpageposfrom1)).toEqual(pieces.map((_, i) => i + 1));
    const labels = await qpdfJson<{ index: number }[]>(joined, 'pagelabels', dir);
    expect(labels).toEqual(await qpdfJson(whole, 'pagelabels', dir));

    // Images (logo with its mask, five headshots) are written once, not once per part.
    const objs = await pdfObjects(joined);
    expect(objs.pageRefs).toHaveLength(30);
    expect(countObjects(objs, isImageXObject)).toBe(countObjects(await pdfObjects(whole), isImageXObject));

    // Record boundaries: one leaf per piece under a node per part, records at level 2.
    const catalog = deref(objs, (objs.trailer as PdfDict)['/Root']) as PdfDict;
    const dpartRoot = deref(objs, catalog['/DPartRoot']) as PdfDict;
    expect(dpartRoot['/RecordLevel']).toBe(2);
    const root = deref(objs, dpartRoot['/DPartRootNode']) as PdfDict;
    expect(root['/Parent']).toBe(catalog['/DPartRoot']);
    const nodes = (root['/DParts'] as string[][]).flat().map((ref) => deref(objs, ref) as PdfDict);
    expect(nodes.map((node) => node['/Parent'])).toEqual(Array(3).fill(dpartRoot['/DPartRootNode']));
    expect(nodes.map((node) => (node['/DParts'] as string[][]).flat().length)).toEqual([10, 1, 19]);
    const leaves = nodes.flatMap((node) => (node['/DParts'] as string[][]).flat());
    // qpdf writes a text string as `u:…`: each record's hash is one, not a name.
    expect(
      leaves.map((leaf) => ((deref(objs, leaf) as PdfDict)['/DPM'] as PdfDict)['/RecordSHA256']),
    ).toEqual(pieces.map((piece) => `u:${piece.recordHash}`));
    const firstPages = nodes.flatMap((node) =>
      (node['/DParts'] as string[][]).flat().map((leaf) => (deref(objs, leaf) as PdfDict)['/Start']),
    );
    expect(firstPages).toEqual(objs.pageRefs);
  });

  it('places parts relocated apart, in any order, as it joins them itself: the same bytes', async () => {
    const parts = await Promise.all(
      [pieces.slice(0, 7), pieces.slice(7, 8), pieces.slice(8, 20)].map((p) => renderToBuffer(compiled, p)),
    );
    const chunks: Buffer[] = [];
    const joiner = new PdfJoiner(
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk);
          done();
        },
      }),
    );
    // Planned in row order, relocated last part first (as threads may finish), placed in row order.
    const plans = parts.map((part) => joiner.plan(surveyPart(part)));
    const relocated = parts
      .map((_, i) => i)
      .reverse()
      .map((i) => relocatePart(parts[i]!, plans[i]!))
      .reverse();
    for (const [i, part] of relocated.entries()) await joiner.place(part, plans[i]!);
    await joiner.end();
    const placed = Buffer.concat(chunks);
    expect(placed.equals(await join(parts))).toBe(true);
    expect((await qpdfCheck(placed)).ok).toBe(true);

    // Numbers no object took are free entries, chained from entry 0 in order, the last back to 0.
    const table = placed.toString('latin1', placed.lastIndexOf('\nxref\n'));
    const entries = [...table.matchAll(/(\d{10}) (\d{5}) ([fn]) /g)];
    const free = entries.flatMap((entry, n) => (entry[3] === 'f' ? [[n, Number(entry[1])]] : []));
    expect(free.length).toBeGreaterThan(1);
    expect(free.map(([, next]) => next)).toEqual([...free.slice(1).map(([n]) => n), 0]);
  });

  it('labels pages with their rows as text strings that pdf.js and qpdf read: 12, or 12-1 and 12-2', async () => {
    const mailers = await join([
      await renderToBuffer(compiled, pieces.slice(0, 2)),
      await renderToBuffer(compiled, pieces.slice(2, 3)),
    ]);
    expect(await viewerPageLabels(mailers)).toEqual(['1', '2', '3']);
    expect(await pageLabels(mailers)).toEqual(['1', '2', '3']);
    // A one-piece document (a ZIP member) is labelled the same way.
    expect(await viewerPageLabels(await renderToBuffer(compiled, pieces.slice(6, 7)))).toEqual(['7']);

    const postcard = await compileTemplate(path.join(REPO_ROOT, 'templates/postcard-6x4'));
    const sample = samples(postcard)[0]!;
    const cards = [4, 12].map((row) => {
      const piece = preparePiece(postcard, sample.record, sample.images);
      piece.marker = { title: `Row ${row}`, label: String(row) };
      return piece;
    });
    const joined = await join([
      await renderToBuffer(postcard, cards.slice(0, 1)),
      await renderToBuffer(postcard, cards.slice(1)),
    ]);
    expect(await viewerPageLabels(joined)).toEqual(['4-1', '4-2', '12-1', '12-2']);
    expect(await pageLabels(joined)).toEqual(['4', '12']);
  });

  it('imposes parts on press sheets: pieces stepped across part boundaries, marks per sheet', async () => {
    // Seven two-sided postcards, drawn without marks in parts of 3, 1 and 3 pieces; 18 × 12 in
    // sheets hold 4 (2 across, 2 down), so 2 groups of sheets, each a front and a back.
    const postcard = withMarks(await compileTemplate(path.join(REPO_ROOT, 'templates/postcard-6x4')), true);
    const sample = samples(postcard)[0]!;
    const record = sample.record as { prospect: Record<string, string> };
    const cards = Array.from({ length: 7 }, (_, i) => {
      const piece = preparePiece(
        withMarks(postcard, false),
        { ...record, prospect: { ...record.prospect, firstName: `Card${i + 1}` } },
        sample.images,
      );
      piece.marker = { title: `Row ${i + 1}`, label: String(i + 1) };
      return piece;
    });
    const unmarked = withMarks(postcard, false);
    const parts = [cards.slice(0, 3), cards.slice(3, 4), cards.slice(4)];
    const layout = sheetLayout(postcard.page, { width: 1296, height: 864 });
    const joined = await join(await Promise.all(parts.map((p) => renderToBuffer(unmarked, p))), {
      layout,
      geometry: postcard.page,
    });
    const file = path.join(dir, 'imposed.pdf');
    await writeFile(file, joined);
    expect((await qpdfCheck(joined)).ok).toBe(true);
    expect((await pageBoxes(file)).map((b) => b.media)).toEqual(Array(4).fill([0, 0, 1296, 864]));

    // Each card's name lies in its cell: row-order on fronts, columns mirrored on backs (work and
    // turn). Cells are 6.25 × 4.25 in with bleed, the grid centred: trims at x 207 and 657, y 135 and 441.
    const { stdout } = await run('pdftotext', ['-bbox', file, '-']);
    const cellOf = (page: number, word: string) => {
      const pages = stdout.split('<page ').slice(1);
      const match = new RegExp(`xMin="([\\d.]+)" yMin="([\\d.]+)"[^>]*>${word}<`).exec(pages[page]!);
      if (!match) return null;
      const [x, y] = [Number(match[1]), Number(match[2])];
      return [x < 648 ? 0 : 1, y < 432 ? 0 : 1];
    };
    expect([1, 2, 3, 4].map((n) => cellOf(0, `Card${n},`))).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    expect([5, 6, 7].map((n) => cellOf(2, `Card${n},`))).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
    ]);
    expect([5, 6, 7].map((n) => cellOf(3, `Card${n},`))).toEqual([
      [1, 0],
      [0, 0],
      [1, 1],
    ]);

    // No bookmarks, page labels or DParts (a sheet holds several pieces); a marks form for the full
    // sheets, one each for the last front (cells 0, 1, 2) and back (1, 0, 3); the grid's trim and bleed.
    const objs = await pdfObjects(joined);
    const catalog = deref(objs, (objs.trailer as PdfDict)['/Root']) as PdfDict;
    expect(
      Object.keys(catalog).filter((k) => ['/Outlines', '/PageLabels', '/DPartRoot'].includes(k)),
    ).toEqual([]);
    const text = await uncompressed(joined);
    expect(text.match(/\/Marks Do/g)).toHaveLength(4);
    expect(text.match(/\/CSAll CS 1 SCN/g)).toHaveLength(3);
    expect((await pageBoxes(file)).map(({ trim, bleed }) => ({ trim, bleed }))).toEqual(
      Array(4).fill({ trim: [207, 135, 1089, 729], bleed: [198, 126, 1098, 738] }),
    );
    // Ghostscript's rendering of the margins below and beside the bottom right cell, empty on sheet 3.
    const regions = [
      { x: 654, y: 744, w: 438, h: 18 },
      { x: 1104, y: 438, w: 18, h: 294 },
    ];
    expect(await inkedRegions(joined, 1, regions)).toEqual([true, true]);
    expect(await inkedRegions(joined, 3, regions)).toEqual([false, false]);
  });

  it('refuses what is not a part', async () => {
    await expect(join([Buffer.from('%PDF-1.7\nnot really\n')])).rejects.toThrow(/not a PieceDocument part/);
  });
});
