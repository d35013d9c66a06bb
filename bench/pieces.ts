// The pieces benchmark (`npm run bench:pieces`): how long My pieces' query takes over a
// large pieces table. Stores BENCH_PIECES batch pieces (default 500,000; every tenth the rep's) and
// 200 of the rep's own form pieces with a prospect's name, in a fresh SQLite store, then times the
// rep's newest 100, a search by name, a search that matches nothing (a rep's and everyone's), and
// the first-page thumbnail of a brochure and a postcard. Prints the median of 5 runs of each.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preparePiece, renderToBuffer, samples } from '../src/pipeline.js';
import { rasterizePage } from '../src/render/raster.js';
import { LocalBlobStore } from '../src/store/local-blobs.js';
import { LocalObjectStore } from '../src/store/local-objects.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { NewPiece } from '../src/store/store.js';
import { compileTemplate } from '../src/template/compile.js';

const repoRoot = new URL('..', import.meta.url).pathname;

const total = Number(process.env.BENCH_PIECES ?? 500_000);
const dataDir = await mkdtemp(join(tmpdir(), 'platen-bench-pieces-'));
const store = new SqliteStore(
  dataDir,
  new LocalBlobStore(join(dataDir, 'blobs')),
  new LocalObjectStore(dataDir),
);

/** A template's first sample as one PDF, as a single piece is stored. */
async function renderSample(template: string): Promise<Buffer> {
  const compiled = await compileTemplate(join(repoRoot, 'templates', template));
  const [sample] = samples(compiled);
  return renderToBuffer(compiled, [preparePiece(compiled, sample!.record, sample!.images)]);
}

async function median(label: string, run: () => Promise<unknown>): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  console.log(`${label}: ${times[2]!.toFixed(1)} ms`);
}

try {
  const base = { templateId: 'postcard-6x4', version: 1, keyId: 'k', landingUrl: null, choices: {} };
  const piece = (number: number, over: Partial<NewPiece>): NewPiece => ({
    ...base,
    number,
    code: `C${number}`,
    repId: 'other',
    channel: 'batch',
    jobId: 'job',
    row: number,
    recipientRef: `P${number}`,
    variant: null,
    holdout: false,
    edited: [],
    ...over,
  });
  for (let first = 1; first <= total; first += 10_000) {
    const chunk = Array.from({ length: Math.min(10_000, total - first + 1) }, (_, i) =>
      piece(first + i, { repId: (first + i) % 10 === 0 ? 'dana' : 'other' }),
    );
    await store.pieces.add(chunk);
  }
  for (let i = 1; i <= 200; i++) {
    const entered = { prospectName: `Winifred Quayle ${i}`, prospect: {}, fields: {} };
    await store.pieces.add([
      piece(total + i, { repId: 'dana', channel: 'form', jobId: null, row: null, entered }),
    ]);
  }
  const nothing = { text: 'zzz', templateIds: [], number: null };
  console.log(`${total} pieces, ${total / 10 + 200} of them the rep's`);
  await median("a rep's newest 100", () => store.pieces.list({ repId: 'dana', limit: 100 }));
  await median("a rep's search by name", () =>
    store.pieces.list({ repId: 'dana', match: { ...nothing, text: 'quayle' }, limit: 100 }),
  );
  await median("a rep's search matching nothing", () =>
    store.pieces.list({ repId: 'dana', match: nothing, limit: 100 }),
  );
  await median("everyone's search matching nothing", () => store.pieces.list({ match: nothing, limit: 100 }));
  for (const template of ['insurance-brochure', 'postcard-6x4']) {
    const pdf = await renderSample(template);
    await median(`thumbnail of ${template}'s page 1`, () => rasterizePage(pdf, 1, 0.4));
  }
} finally {
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
}
