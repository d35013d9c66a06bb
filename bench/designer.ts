// The designer benchmark (`npm run bench:designer`): how long a marketing user waits, after moving an
// element, for the brochure's page 1 drawn by Platen. The service runs in this process over a fresh
// data directory; each round sends a new manifest (the headline's x moved by a point) to the draft
// preview route, so every round compiles the draft and draws the page (no cache hit), as a drag in the
// designer does. Prints min / median / max of the round trip. BENCH_ROUNDS sets the rounds (default
// 30), BENCH_SCALE the zoom (default 4/3: a 96-dpi screen at 100%).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';

const repoRoot = new URL('..', import.meta.url).pathname;
const rounds = Number(process.env.BENCH_ROUNDS ?? 30);
const scale = Number(process.env.BENCH_SCALE ?? 4 / 3);
const TEMPLATE = 'insurance-brochure';
const ELEMENT = 'headline';

interface Element {
  name: string;
  x: number;
}
interface Manifest {
  pages: { elements: Element[] }[];
}

const dataDir = await mkdtemp(join(tmpdir(), 'platen-bench-designer-'));
const config = loadConfig({
  ...process.env,
  PLATEN_DATA_DIR: dataDir,
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  PLATEN_TEMPLATES_DIR: join(repoRoot, 'templates'),
  PLATEN_RATE_LIMIT: '100000',
});
// The first start prints the admin key; the benchmark's output is its table.
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (() => true) as typeof process.stdout.write;
const running = await startServer(config).finally(() => (process.stdout.write = write));
try {
  const admin = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
  const made = await fetch(`${running.url}/api/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'marketing', name: 'Bench designer' }),
  });
  const key = ((await made.json()) as { key: string }).key;
  const manifest = JSON.parse(
    await readFile(join(repoRoot, 'templates', TEMPLATE, 'template.json'), 'utf8'),
  ) as Manifest;
  const element = manifest.pages[0]!.elements.find((e) => e.name === ELEMENT)!;
  const startX = element.x;

  const preview = async (): Promise<{ ms: number; cache: string }> => {
    const started = performance.now();
    const res = await fetch(
      `${running.url}/api/v1/templates/${TEMPLATE}/drafts/preview?page=1&scale=${scale}&sample=0`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ manifest, from: 1 }),
      },
    );
    const png = Buffer.from(await res.arrayBuffer());
    const ms = performance.now() - started;
    if (res.status !== 200) throw new Error(`preview: ${res.status} ${png.toString().slice(0, 300)}`);
    return { ms, cache: res.headers.get('x-platen-cache') ?? '' };
  };

  const first = await preview();
  const again = await preview();
  const times: number[] = [];
  for (let i = 1; i <= rounds; i++) {
    element.x = startX + i;
    const { ms, cache } = await preview();
    if (cache !== 'miss') throw new Error(`round ${i} was a cache ${cache}: the manifest did not change`);
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  const f = (ms: number) => `${ms.toFixed(0)} ms`;
  console.log(`brochure page 1 at scale ${scale.toFixed(2)}, ${rounds} rounds, each a new manifest:`);
  console.log(`  first preview (cold: fonts and art loaded)  ${f(first.ms)}`);
  console.log(`  the same draft again (cache ${again.cache})          ${f(again.ms)}`);
  console.log(`  after a move: min ${f(times[0]!)}  median ${f(at(0.5))}  max ${f(times.at(-1)!)}`);
} finally {
  await running.close();
  await rm(dataDir, { recursive: true, force: true });
}
