/**
 * A document streams: what it has drawn reaches its output while pieces are still being added, so a
 * drop's part is never held whole in memory. pdfkit hands its bytes out through a Readable stream
 * whose events wait for the event loop, which a chunk rendering from memory never gives back.
 */
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadProspects, mailerRecord } from '../../bench/workload.js';
import type { FittedPiece } from '../../src/model/piece.js';
import { preparePiece, writePieces } from '../../src/pipeline.js';
import { compileTemplate } from '../../src/template/compile.js';
import { PdfFile } from '../../src/pdf/reader.js';
import { REPO_ROOT } from '../support/repo.js';

describe('writePieces', () => {
  it('writes a merged file out as it draws it, not once it ends', async () => {
    const compiled = await compileTemplate(path.join(REPO_ROOT, 'bench/mailer'));
    const rows = loadProspects();
    const chunks: Buffer[] = [];
    let received = 0;
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        received += chunk.length;
        done();
      },
    });
    const receivedBefore: number[] = [];
    function* pieces(): Generator<FittedPiece> {
      for (let i = 0; i < 300; i++) {
        receivedBefore.push(received);
        yield preparePiece(compiled, mailerRecord(rows[i % rows.length]!), compiled.assets);
      }
    }
    await writePieces(compiled, pieces(), out);
    const file = Buffer.concat(chunks);
    expect(new PdfFile(file).trailer.has('Root')).toBe(true);
    // Before the last piece was drawn, most of the file had reached the output.
    expect(receivedBefore.at(-1)!).toBeGreaterThan(file.length / 2);
  });
});
