// The engine benchmark (`npm run bench`): the shared mailer workload rendered by Platen and, in the
// same run, by naive pdfkit, as one merged PDF and as one PDF per record; then the bundled templates.
// BENCH_ROUNDS sets the interleaved rounds (default 3); BENCH_RECORDS cuts the workload (default all).
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FittedPiece } from '../src/model/piece.js';
import { preparePiece, samples, writePieces } from '../src/pipeline.js';
import { compileTemplate } from '../src/template/compile.js';
import type { CompiledTemplate } from '../src/model/template.js';
import { type BenchCase, type BenchResult, formatTable, interleave } from './measure.js';
import { naiveMerged, naivePerRecord } from './naive.js';
import { loadProspects, loadWorkload, mailerRecord } from './workload.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const limit = Number(process.env.BENCH_RECORDS ?? Infinity);
const repoRoot = new URL('..', import.meta.url).pathname;

async function directoryBytes(dir: string): Promise<number> {
  const sizes = await Promise.all(
    (await readdir(dir)).map(async (name) => (await stat(join(dir, name))).size),
  );
  return sizes.reduce((sum, size) => sum + size, 0);
}

/** Validate + merge + fit each record as it is drawn (a generator: nothing is held). */
function* pieces(compiled: CompiledTemplate, records: readonly unknown[]): Generator<FittedPiece> {
  for (const record of records) yield preparePiece(compiled, record, compiled.assets);
}

async function platenMerged(compiled: CompiledTemplate, records: readonly unknown[], path: string) {
  await writePieces(compiled, pieces(compiled, records), createWriteStream(path));
  return { records: records.length, bytes: (await stat(path)).size };
}

async function platenPerRecord(compiled: CompiledTemplate, records: readonly unknown[], dir: string) {
  await mkdir(dir, { recursive: true });
  for (const [i, record] of records.entries()) {
    const piece = preparePiece(compiled, record, compiled.assets);
    await writePieces(compiled, [piece], createWriteStream(join(dir, `${i}.pdf`)), { single: true });
  }
  return { records: records.length, bytes: await directoryBytes(dir) };
}

/** A bundled template's samples, repeated to `count` records. */
function repeatedSamples(compiled: CompiledTemplate, count: number): unknown[] {
  const list = samples(compiled).map((s) => s.record);
  return Array.from({ length: count }, (_, i) => list[i % list.length]);
}

function print(title: string, results: BenchResult[], baseline: string): void {
  console.log(`\n${title}\n${formatTable(results, baseline)}`);
}

async function main(): Promise<void> {
  if (global.gc === undefined)
    console.warn('warning: run with --expose-gc for a collected heap before each run');
  loadWorkload();
  const rows = loadProspects().slice(0, limit);
  const records = rows.map(mailerRecord);
  // Compiled once per process, as the service and the batch workers do.
  const mailer = await compileTemplate(join(repoRoot, 'bench/mailer'));
  const out = await mkdtemp(join(tmpdir(), 'platen-bench-'));
  try {
    console.log(`mailer workload: ${rows.length} records, ${rounds} interleaved rounds, one core`);
    const merged = await interleave(rounds, [
      {
        name: 'naive pdfkit, merged',
        fn: async () => {
          await naiveMerged(rows, join(out, 'naive.pdf'));
          return { records: rows.length, bytes: (await stat(join(out, 'naive.pdf'))).size };
        },
      },
      { name: 'platen, merged', fn: () => platenMerged(mailer, records, join(out, 'platen.pdf')) },
    ]);
    print('One merged PDF', merged, 'naive pdfkit, merged');

    const perRecord = await interleave(rounds, [
      {
        name: 'naive pdfkit, per record',
        fn: async () => {
          await naivePerRecord(rows, join(out, 'naive'));
          return { records: rows.length, bytes: await directoryBytes(join(out, 'naive')) };
        },
      },
      { name: 'platen, per record', fn: () => platenPerRecord(mailer, records, join(out, 'platen')) },
    ]);
    print('One PDF per record', perRecord, 'naive pdfkit, per record');

    const bundled: BenchCase[] = [];
    for (const id of ['insurance-brochure', 'postcard-6x4']) {
      const compiled = await compileTemplate(join(repoRoot, 'templates', id)).catch(() => null);
      if (!compiled) continue;
      const list = repeatedSamples(compiled, Math.min(rows.length, 1000));
      bundled.push(
        { name: `${id}, merged`, fn: () => platenMerged(compiled, list, join(out, `${id}.pdf`)) },
        { name: `${id}, per record`, fn: () => platenPerRecord(compiled, list, join(out, id)) },
      );
    }
    if (bundled.length > 0) {
      const results = await interleave(rounds, bundled);
      print('Bundled templates (samples repeated)', results, bundled[0]!.name);
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

await main();
