// The naive pdfkit baseline on the shared mailer workload:
//   node --expose-gc --import tsx bench/run-naive.ts
// Set BENCH_ROUNDS to change the number of interleaved rounds (default 3).
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interleave, printTable, type BenchCase } from './measure.js';
import { naiveMerged, naivePerRecord } from './naive.js';
import { loadProspects, loadWorkload } from './workload.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

async function directoryBytes(dir: string): Promise<number> {
  const sizes = await Promise.all(
    (await readdir(dir)).map(async (name) => (await stat(join(dir, name))).size),
  );
  return sizes.reduce((sum, size) => sum + size, 0);
}

function naiveCases(rows: Record<string, string>[], outDir: string): BenchCase[] {
  const mergedPath = join(outDir, 'merged.pdf');
  const perRecordDir = join(outDir, 'per-record');
  return [
    {
      name: 'naive pdfkit, merged',
      fn: async () => {
        await naiveMerged(rows, mergedPath);
        return { records: rows.length, bytes: (await stat(mergedPath)).size };
      },
    },
    {
      name: 'naive pdfkit, per record',
      fn: async () => {
        await naivePerRecord(rows, perRecordDir);
        return { records: rows.length, bytes: await directoryBytes(perRecordDir) };
      },
    },
  ];
}

async function main(): Promise<void> {
  if (global.gc === undefined)
    console.warn('warning: run with --expose-gc for a collected heap before each run');
  loadWorkload(); // parsed and checked up front, outside the timed runs
  const rows = loadProspects();
  const outDir = await mkdtemp(join(tmpdir(), 'platen-bench-naive-'));
  try {
    console.log(`${rows.length} records, ${rounds} interleaved rounds, output in ${outDir}`);
    const results = await interleave(rounds, naiveCases(rows, outDir));
    printTable(results, 'naive pdfkit, merged');
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

await main();
