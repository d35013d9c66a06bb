import type { BatchProgress } from './batch.js';

/**
 * Batch progress for people: a bar redrawn in place on a terminal (rows done and rejected, rate,
 * ETA); plain lines, every few seconds, when the output is a log.
 */
export class ProgressDisplay {
  private lastLine = 0;

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(p: BatchProgress): void {
    const now = Date.now();
    if (this.out.isTTY) {
      if (now - this.lastLine < 100) return;
      this.lastLine = now;
      this.out.write(`\r${bar(p)} ${describe(p)}\x1b[K`);
    } else if (now - this.lastLine >= 5000) {
      this.lastLine = now;
      this.out.write(`${describe(p)}\n`);
    }
  }

  finish(p: BatchProgress): void {
    if (this.out.isTTY) this.out.write(`\r${bar(p)} ${describe(p)}\x1b[K\n`);
  }
}

function bar(p: BatchProgress): string {
  const width = 30;
  const filled = p.total ? Math.round((p.done / p.total) * width) : 0;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

function describe(p: BatchProgress): string {
  const rate = p.elapsedMs > 0 ? (p.done / p.elapsedMs) * 1000 : 0;
  // The total is unknown for the first moments of a long list (see runBatch).
  const eta = rate > 0 && p.total !== null ? Math.ceil((p.total - p.done) / rate) : null;
  return `${p.done}/${p.total ?? '…'} rows, ${p.rejected} rejected, ${Math.round(rate)} rows/s${eta !== null ? `, ETA ${eta} s` : ''}`;
}
