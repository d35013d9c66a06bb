// A small, engine-agnostic benchmark harness: time a case, track its peak RSS, take medians over rounds
// and print a comparison table. Run under `node --expose-gc` so each run starts from a collected heap.

/** What one run of a case produced: how many records it rendered and how many PDF bytes it wrote. */
export interface RunOutput {
  records: number;
  bytes: number;
}

export type BenchFn = () => Promise<RunOutput>;

export interface BenchCase {
  name: string;
  fn: BenchFn;
}

/** One timed run. */
export interface Sample {
  seconds: number;
  records: number;
  bytes: number;
  peakRssBytes: number;
}

export interface BenchResult {
  name: string;
  /** Median over rounds. */
  recordsPerSec: number;
  /** Median over rounds, KiB (1,024 bytes) of output per record. */
  kibPerRecord: number;
  /** Highest RSS seen in any round, in MiB. RSS is process-wide, so it includes cases run earlier. */
  peakRssMb: number;
  rounds: number;
}

const RSS_SAMPLE_MS = 10;
const MIB = 1024 * 1024;

/**
 * Starts sampling RSS; the returned function stops and gives the peak. The interval is unref'd so it
 * never keeps the process alive, and the ends are sampled explicitly because synchronous rendering
 * can starve the timer for a whole run.
 */
function startRssSampler(): () => number {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, RSS_SAMPLE_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    return Math.max(peak, process.memoryUsage.rss());
  };
}

/** Runs fn once from a collected heap (when gc is exposed), timing it and tracking peak RSS. */
export async function runOnce(fn: BenchFn): Promise<Sample> {
  global.gc?.();
  const stopSampler = startRssSampler();
  const start = performance.now();
  let output: RunOutput;
  try {
    output = await fn();
  } catch (error) {
    stopSampler(); // so a failing case leaves no timer behind
    throw error;
  }
  const seconds = (performance.now() - start) / 1000;
  const peakRssBytes = stopSampler();
  if (output.records <= 0) throw new Error('a benchmark run must render at least one record');
  return { seconds, records: output.records, bytes: output.bytes, peakRssBytes };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid];
  if (upper === undefined) throw new Error('median of no values');
  return sorted.length % 2 === 1 ? upper : (upper + (sorted[mid - 1] ?? upper)) / 2;
}

export function summarize(name: string, samples: readonly Sample[]): BenchResult {
  return {
    name,
    recordsPerSec: median(samples.map((s) => s.records / s.seconds)),
    kibPerRecord: median(samples.map((s) => s.bytes / 1024 / s.records)),
    peakRssMb: Math.max(...samples.map((s) => s.peakRssBytes)) / MIB,
    rounds: samples.length,
  };
}

function checkRounds(rounds: number): void {
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`rounds must be a positive integer: ${rounds}`);
}

/** Runs one case `rounds` times back to back. */
export async function measure(
  name: string,
  fn: BenchFn,
  { rounds }: { rounds: number },
): Promise<BenchResult> {
  checkRounds(rounds);
  const samples: Sample[] = [];
  for (let round = 0; round < rounds; round++) samples.push(await runOnce(fn));
  return summarize(name, samples);
}

/**
 * Runs every case once per round, in turn, so drift over time (thermal throttling, noisy neighbours)
 * hits all cases alike; results keep the order of `cases`.
 */
export async function interleave(rounds: number, cases: readonly BenchCase[]): Promise<BenchResult[]> {
  checkRounds(rounds);
  const samples = cases.map((): Sample[] => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, benchCase] of cases.entries()) samples[i]?.push(await runOnce(benchCase.fn));
  }
  return cases.map((benchCase, i) => summarize(benchCase.name, samples[i] ?? []));
}

function ratioColumn(results: readonly BenchResult[], baselineName: string): string[] {
  const baseline = results.find((r) => r.name === baselineName);
  if (baseline === undefined) throw new Error(`baseline "${baselineName}" is not among the results`);
  return [
    `vs ${baselineName}`,
    ...results.map((r) => `${(r.recordsPerSec / baseline.recordsPerSec).toFixed(2)}×`),
  ];
}

/** Pads every column to its widest cell: the first (names) left-aligned, the numbers right-aligned. */
function alignColumns(columns: readonly string[][]): string {
  const widths = columns.map((column) => Math.max(...column.map((cell) => cell.length)));
  const rowCount = columns[0]?.length ?? 0;
  const lines: string[] = [];
  for (let row = 0; row < rowCount; row++) {
    const cells = columns.map((column, c) => {
      const cell = column[row] ?? '';
      const width = widths[c] ?? 0;
      return c === 0 ? cell.padEnd(width) : cell.padStart(width);
    });
    lines.push(cells.join('  ').trimEnd());
  }
  return lines.join('\n');
}

/** The results as an aligned text table, with a records/s ratio column when a baseline is named. */
export function formatTable(results: readonly BenchResult[], baselineName?: string): string {
  const columns = [
    ['case', ...results.map((r) => r.name)],
    ['records/s', ...results.map((r) => r.recordsPerSec.toFixed(1))],
    ...(baselineName === undefined ? [] : [ratioColumn(results, baselineName)]),
    ['KiB/record', ...results.map((r) => r.kibPerRecord.toFixed(1))],
    ['peak RSS MiB', ...results.map((r) => r.peakRssMb.toFixed(0))],
    ['rounds', ...results.map((r) => String(r.rounds))],
  ];
  return alignColumns(columns);
}

export function printTable(results: readonly BenchResult[], baselineName?: string): void {
  console.log(formatTable(results, baselineName));
}
