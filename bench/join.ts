// The joining thread's CPU per row of a merged drop (`node --import tsx bench/join.ts`): parts of the
// bench mailer (the shared workload, see ../shared/bench-mailer) drawn once, then joined over and over,
// the ways interleaved:
// - "one thread": PdfJoiner.append, the part surveyed, relocated and placed on the joining thread
//   (what a drop's joiner did alone before relocation moved to the pool's threads);
// - "placed": what the joining thread does in a drop now, PdfJoiner.plan and place (and end), the
//   relocations between them counted apart, as the pool's threads run them.
// CPU time of this thread (process.threadCpuUsage), not wall-clock: the figure holds on a busy machine.
// BENCH_PARTS (8), BENCH_PART_ROWS (250) and BENCH_ROUNDS (7) size it. BENCH_BASELINE=<module> adds a
// joiner with the same append/end (an older src/render/join.ts, copied beside it) as a third way.
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { preparePiece, renderToBuffer } from '../src/pipeline.js';
import { PdfJoiner } from '../src/render/join.js';
import {
  type PartSurvey,
  type RelocatedPart,
  relocatePart,
  type RelocationPlan,
  surveyPart,
} from '../src/render/relocate.js';
import { compileTemplate } from '../src/template/compile.js';
import { median } from './measure.js';
import { loadProspects, mailerRecord } from './workload.js';

const parts = Number(process.env.BENCH_PARTS ?? 8);
const partRows = Number(process.env.BENCH_PART_ROWS ?? 250);
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const rows = parts * partRows;

const compiled = await compileTemplate(new URL('mailer', import.meta.url).pathname);
const prospects = loadProspects();
const drawn: Buffer[] = [];
for (let p = 0; p < parts; p++) {
  const pieces = Array.from({ length: partRows }, (_, i) => {
    const row = p * partRows + i;
    const piece = preparePiece(compiled, mailerRecord(prospects[row % prospects.length]!), compiled.assets);
    piece.marker = { title: `Row ${row + 1}`, label: String(row + 1) };
    return piece;
  });
  drawn.push(await renderToBuffer(compiled, pieces));
}

interface Joiner {
  append(pdf: Buffer): Promise<void>;
  end(): Promise<void>;
}
const baseline = process.env.BENCH_BASELINE
  ? ((await import(pathToFileURL(process.env.BENCH_BASELINE).href)) as {
      PdfJoiner: new (out: Writable) => Joiner;
    })
  : null;

const discard = () =>
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });

/** This thread's CPU (user and system) in ms while `fn` runs. */
async function cpu(fn: () => Promise<void> | void): Promise<number> {
  const before = process.threadCpuUsage();
  await fn();
  const { user, system } = process.threadCpuUsage(before);
  return (user + system) / 1000;
}

async function appended(make: () => Joiner): Promise<number> {
  const joiner = make();
  return cpu(async () => {
    for (const part of drawn) await joiner.append(part);
    await joiner.end();
  });
}

/** The joining thread's CPU, and the surveys' and relocations' (the pool's in a drop). */
async function placed(): Promise<{ joining: number; surveying: number; relocating: number }> {
  const joiner = new PdfJoiner(discard());
  let surveys: PartSurvey[] = [];
  const surveying = await cpu(() => {
    surveys = drawn.map((part) => surveyPart(part));
  });
  let plans: RelocationPlan[] = [];
  let joining = await cpu(() => {
    plans = surveys.map((survey) => joiner.plan(survey));
  });
  const relocated: RelocatedPart[] = [];
  const relocating = await cpu(() => {
    for (const [i, part] of drawn.entries()) relocated.push(relocatePart(part, plans[i]!));
  });
  joining += await cpu(async () => {
    for (const [i, part] of relocated.entries()) await joiner.place(part, plans[i]!);
    await joiner.end();
  });
  return { joining, surveying, relocating };
}

const times: Record<string, number[]> = {
  'one thread': [],
  placed: [],
  surveying: [],
  relocating: [],
  baseline: [],
};
for (let round = 0; round < rounds; round++) {
  times['one thread']!.push(await appended(() => new PdfJoiner(discard())));
  const { joining, surveying, relocating } = await placed();
  times.placed!.push(joining);
  times.surveying!.push(surveying);
  times.relocating!.push(relocating);
  if (baseline) times.baseline!.push(await appended(() => new baseline.PdfJoiner(discard())));
}

const bytes = drawn.reduce((sum, part) => sum + part.length, 0);
console.log(
  `${parts} parts of ${partRows} bench mailers (${(bytes / rows / 1024).toFixed(2)} KiB per row in parts), ` +
    `median of ${rounds} interleaved rounds, CPU of the joining thread per row:`,
);
for (const [name, samples] of Object.entries(times)) {
  if (samples.length === 0) continue;
  const label =
    name === 'surveying'
      ? 'surveying (the chunks’ workers)'
      : name === 'relocating'
        ? 'relocating (the pool’s threads)'
        : name;
  console.log(`  ${label.padEnd(32)} ${((median(samples) * 1000) / rows).toFixed(1)} µs`);
}
