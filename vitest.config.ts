import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Three lanes. unit: no build and no outside tool, process or port (test/support/unit-lane.ts holds
 * it to that), so it runs in seconds from a fresh checkout. browser: the pages driven in Chromium.
 * integration: everything else (the built CLI, the server over HTTP, qpdf, poppler, ghostscript,
 * unzip); a new test file lands here until it is shown to need none of that.
 */
const UNIT = [
  'test/unit/**/*.test.ts',
  'test/bad-input/{records,templates}.test.ts',
  'test/jobs/{checkpoints,csv,mapping,report,run-batch}.test.ts',
  'test/hostile/12-huge-images.test.ts',
  'test/web/session.test.ts',
];
const BROWSER = [
  'test/web/{batch,designer,everywhere,gallery,marketing,pieces,rep,results,single-sign-on,password-sign-in}.test.ts',
  'test/hostile/05-reruns.test.ts',
];

const DIST = path.join(import.meta.dirname, 'dist') + path.sep;

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The page tests poll for what a browser shows after a server render; with the whole suite on
    // two cores a preview can take seconds, not vitest's default one.
    expect: { poll: { timeout: 20_000, interval: 100 } },
    projects: [
      {
        extends: true,
        // The build's output is not the unit lane's to read: its tests import the sources.
        plugins: [
          {
            name: 'unit-lane-no-build',
            enforce: 'pre',
            resolveId(source, importer) {
              const file = source.startsWith('file:')
                ? fileURLToPath(source)
                : path.resolve(importer ? path.dirname(importer) : '', source);
              if (file.startsWith(DIST)) throw new Error(`${source}: the unit lane runs without a build`);
              return null;
            },
          },
        ],
        test: { name: 'unit', include: UNIT, setupFiles: ['test/support/unit-lane.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...UNIT, ...BROWSER],
        },
      },
      { extends: true, test: { name: 'browser', include: BROWSER } },
    ],
  },
});
