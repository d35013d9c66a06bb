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
import type { FittedPiece } from '../../src/layout/piece.js';
import { preparePiece, renderToBuffer } from '../../src/pipeline.js';
import { PdfJoiner } from '../../src/render/join.js';
import { compileTemplate } from '../../src/template/compile.js';
import type { CompiledTemplate } from '../../src/template/model.js';
import { countObjects, deref, isImageXObject, pdfObjects, qpdfCheck, type PdfDict } from '../support/pdf.js';
import { REPO_ROOT } from '../support/repo.js';

const run = promisify(execFile);

async function join(parts: Buffer[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const joiner = new PdfJoiner(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    }),
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
    const nodes = (root['/DParts'] as string[][]).flat().map((ref) => deref(objs, ref) as PdfDict);
    expect(nodes.map((node) => (node['/DParts'] as string[][]).flat().length)).toEqual([10, 1, 19]);
    const firstPages = nodes.flatMap((node) =>
      (node['/DParts'] as string[][]).flat().map((leaf) => (deref(objs, leaf) as PdfDict)['/Start']),
    );
    expect(firstPages).toEqual(objs.pageRefs);
  });

  it('refuses what is not a part', async () => {
    await expect(join([Buffer.from('%PDF-1.7\nnot really\n')])).rejects.toThrow(/not a PieceDocument part/);
  });
});
