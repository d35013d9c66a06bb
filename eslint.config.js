import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.tools/**',
      'data/**',
      'test/output/**',
      'test-results/**',
      'bench/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // A promise nobody awaits or catches crashes the service when it rejects (Node exits on an
    // unhandled rejection): every promise is awaited, returned or caught. `void` does not count: a
    // `void p.finally(…)` in the jobs rejected on a full disk and took the service down.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      '@typescript-eslint/no-misused-promises': 'error',
      // A switch over a union handles every member, or says what the rest get with a `default`: a
      // new member (a job state, an input type) is an error where it is not handled, never dropped.
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
    },
  },
  {
    // The designer's browser code, bundled by esbuild (scripts/build-client.mjs).
    files: ['client/**/*.ts'],
    languageOptions: {
      globals: globals.browser,
      parserOptions: { project: './tsconfig.client.json', projectService: false },
    },
  },
  {
    // The pages' scripts run in the browser as classic scripts, not as ES modules in Node.
    files: ['web/public/**/*.js'],
    languageOptions: { sourceType: 'script', globals: globals.browser },
  },
);
