/**
 * runBatch in-process, with a dispatcher that records the chunks it is given: chunk sizes follow the
 * list's length, and a long list's rows are counted while its first chunks render.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchProgress, runBatch } from '../../src/jobs/batch.js';
import { type ChunkTask, renderChunk } from '../../src/jobs/chunk.js';
import type { ChunkDispatcher } from '../../src/jobs/dispatch.js';
import { compileTemplate } from '../../src/template/compile.js';
import type { CompiledTemplate } from '../../src/model/template.js';
import { REPO_ROOT } from '../support/repo.js';

const MAILER = path.join(REPO_ROOT, 'bench/mailer');
const REP = {
  name: 'Alex Morgan',
  title: 'Account Executive',
  phone: '(415) 555-0141',
  email: 'a@b.example',
};

describe('runBatch', () => {
  let dir: string;
  let compiled: CompiledTemplate;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'platen-run-batch-'));
    compiled = await compileTemplate(MAILER);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A check (preflight) of a list of `rows` rows, chunks rendered here; the chunks' sizes and the progress seen. */
  async function check(rows: number, total?: number) {
    const csvPath = path.join(dir, `list-${rows}.csv`);
    const lines = Array.from(
      { length: rows },
      (_, i) => `P${i + 1},First${i + 1},Last${i + 1},Co,logistics,1`,
    );
    await writeFile(csvPath, `id,firstName,lastName,company,industry,headshot\n${lines.join('\n')}\n`);
    const sizes: number[] = [];
    const dispatcher: ChunkDispatcher = {
      concurrency: 1,
      run: (task: ChunkTask) => {
        sizes.push(task.rows.length);
        return renderChunk(compiled, task);
      },
      close: async () => undefined,
    };
    const seen: BatchProgress[] = [];
    const result = await runBatch({
      template: { dir: MAILER },
      compiled,
      csvPath,
      rep: { values: REP, images: [] },
      out: null,
      errorsPath: path.join(dir, `errors-${rows}.csv`),
      dispatcher,
      ...(total === undefined ? {} : { total }),
      onProgress: (p) => {
        seen.push(p);
      },
    });
    return { sizes, seen, result };
  }

  it('splits a short list so every worker has a share, and knows its total from the start', async () => {
    const { sizes, seen, result } = await check(10);
    expect(sizes).toEqual([5, 5]);
    expect(seen.map((p) => p.total)).toEqual([10, 10, 10]);
    expect(result).toMatchObject({ done: 10, total: 10, rendered: 10, rejected: 0 });
  });

  it("counts a long list's rows beside the rendering: the total is right once known, the chunks full size", async () => {
    const { sizes, seen, result } = await check(2500);
    expect(sizes).toEqual([1000, 1000, 500]);
    for (const p of seen) expect([null, 2500]).toContain(p.total);
    expect(result).toMatchObject({ done: 2500, total: 2500, rendered: 2500 });
  });

  it('takes the total from a caller that counted the rows already, without reading the list for it', async () => {
    // A total the list does not have shows that it was taken, not counted.
    const { sizes, seen, result } = await check(2500, 2400);
    expect(sizes).toEqual([1000, 1000, 500]);
    expect(seen.every((p) => p.total === 2400)).toBe(true);
    expect(result).toMatchObject({ done: 2500, total: 2400 });
  });
});
