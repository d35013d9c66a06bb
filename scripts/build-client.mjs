// Bundles the designer's browser code (client/designer/main.ts) into dist/public/designer.js and
// designer.css, served under /static beside web/public. No source maps: the bundle ships as is.
import { build } from 'esbuild';

await build({
  entryPoints: { designer: 'client/designer/main.ts' },
  bundle: true,
  format: 'iife',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  outdir: 'dist/public',
  logLevel: 'warning',
});
