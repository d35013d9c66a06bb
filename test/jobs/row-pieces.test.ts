/**
 * A job's rows as pieces: each row's response code is its piece number (allocated to the job when it
 * was created) under the installation's key, so a row prints (and records) the same code however
 * often it is drawn, re-rendered or resumed from a checkpoint, and another job's rows print others.
 * A preflight records no pieces.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchOptions, runBatch } from '../../src/jobs/batch.js';
import type { SavedChunk } from '../../src/jobs/checkpoints.js';
import { type ChunkTask, renderChunk, type RowPiece } from '../../src/jobs/chunk.js';
import type { ChunkDispatcher } from '../../src/jobs/dispatch.js';
import type { JobPieces } from '../../src/jobs/experiment.js';
import type { CompiledTemplate } from '../../src/model/template.js';
import { randomBytes } from 'node:crypto';
import { newJobSeed } from '../../src/jobs/experiment.js';
import { PieceCodes } from '../../src/model/piece-code.js';
import { compileTemplate } from '../../src/template/compile.js';
import { popplerText } from '../support/pdf.js';
import { postcardDrop } from '../support/records.js';
import { TEMPLATES_DIR } from '../support/repo.js';

const POSTCARD = path.join(TEMPLATES_DIR, 'postcard-6x4');
const REP = { name: 'Dana Whitcomb', phone: '(207) 555-0142', email: 'dana@harbormutual.example' };
const ROWS = 6;

describe("a job's row pieces", () => {
  let dir: string;
  let compiled: CompiledTemplate;
  let csvPath: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'platen-row-pieces-'));
    compiled = await compileTemplate(POSTCARD);
    csvPath = path.join(dir, 'drop.csv');
    await writeFile(csvPath, postcardDrop(ROWS).csv);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A dispatcher rendering here; `fail` refuses the chunk of that index (once). */
  function dispatcher(dispatched: number[], fail?: number): ChunkDispatcher {
    return {
      concurrency: 1,
      run: async (task: ChunkTask) => {
        dispatched.push(task.index);
        if (task.index === fail) {
          fail = undefined;
          throw new Error('the worker died');
        }
        return renderChunk(compiled, task);
      },
      close: async () => undefined,
    };
  }

  /** A drop of the list into `out`, three rows a chunk. */
  const drop = (out: string | null, rest: Partial<BatchOptions> & Pick<BatchOptions, 'dispatcher'>) =>
    runBatch({
      template: { dir: POSTCARD },
      compiled,
      csvPath,
      rep: { values: REP, images: [] },
      out: out && path.join(dir, out),
      errorsPath: path.join(dir, `${out ?? 'check'}-errors.csv`),
      chunkRows: 3,
      ...rest,
    });

  /** The text of each piece (two pages each) of a drop's output. */
  async function pieceTexts(out: string): Promise<string[]> {
    const pages = await popplerText(path.join(dir, out));
    return Array.from({ length: pages.length / 2 }, (_, i) => `${pages[2 * i]} ${pages[2 * i + 1]}`);
  }

  const KEY = randomBytes(32);
  const codes = (firstNumber: number) =>
    Array.from({ length: ROWS }, (_, i) => new PieceCodes(KEY).code(firstNumber + i));
  const jobPieces = (firstNumber: number, more: Partial<JobPieces> = {}): JobPieces => ({
    firstNumber,
    codeKey: KEY.toString('hex'),
    seed: newJobSeed(),
    publicUrl: 'https://go.example',
    ...more,
  });

  it('prints and records the same code for a row whether it is drawn again or resumed from a checkpoint', async () => {
    const pieces = jobPieces(1001);
    const saved = new Map<number, SavedChunk>();
    const recorded: RowPiece[] = [];
    const checkpoints = {
      get: (index: number) => saved.get(index),
      save: ({ pieces: made, ...chunk }: SavedChunk & { pieces: RowPiece[] }) => {
        recorded.push(...made);
        saved.set(chunk.index, chunk);
      },
    };
    const partsDir = await mkdtemp(path.join(dir, 'parts-'));

    // The first run stops at its second chunk; the second goes on from the first's checkpoint.
    const first: number[] = [];
    await expect(
      drop('resumed.pdf', { dispatcher: dispatcher(first, 1), checkpoints, partsDir, pieces }),
    ).rejects.toThrow('the worker died');
    expect([...saved.keys()]).toEqual([0]);
    const second: number[] = [];
    await drop('resumed.pdf', { dispatcher: dispatcher(second), checkpoints, partsDir, pieces });
    expect(second).toEqual([1]);

    const expected = codes(1001);
    const resumed = await pieceTexts('resumed.pdf');
    expect(resumed).toHaveLength(ROWS);
    resumed.forEach((text, i) => expect(text).toContain(`code ${expected[i]}`));
    expect(recorded.map((p) => [p.row, p.number, p.code])).toEqual(
      expected.map((code, i) => [i + 1, 1001 + i, code]),
    );
    expect(recorded.every((p) => p.landingUrl?.startsWith('https://harbormutual.example/review?zip='))).toBe(
      true,
    );

    // Drawn again from the start: the same codes; another job's numbers: others.
    await drop('again.pdf', { dispatcher: dispatcher([]), pieces });
    expect(await pieceTexts('again.pdf')).toEqual(resumed);
    await drop('other.pdf', { dispatcher: dispatcher([]), pieces: jobPieces(2001) });
    const others = await pieceTexts('other.pdf');
    others.forEach((text, i) => {
      expect(text).toContain(`code ${codes(2001)[i]}`);
      expect(text).not.toContain(expected[i]);
    });
  });

  it('records no pieces for a preflight, and prints the sample code without a job', async () => {
    const made: RowPiece[] = [];
    const result = await drop(null, {
      dispatcher: dispatcher([]),
      pieces: jobPieces(1, { holdout: 50 }),
      checkpoints: { get: () => undefined, save: (chunk) => void made.push(...chunk.pieces) },
    });
    expect(made).toEqual([]);
    expect(result.rendered + result.heldOut).toBe(ROWS);

    await drop('sample.pdf', { dispatcher: dispatcher([]) });
    for (const text of await pieceTexts('sample.pdf')) expect(text).toContain('code 000000000000');
  });
});
