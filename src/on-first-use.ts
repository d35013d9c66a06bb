import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS package loaded when first used rather than at start-up: for the large ones that only
 * some templates need (bwip-js alone is 2 MB of code), which every process and every batch worker
 * would otherwise load before its first piece. require() is synchronous, so the draw and merge steps
 * stay synchronous too.
 */
export function onFirstUse<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
