// The layers of DESIGN.md and ARCHITECTURE.md, top to bottom. A module may import its own layer
// and any layer below it, never one above; the pipeline's steps never import each other; only the
// services (and the composition root that wires them) reach the store; nothing imports in a cycle;
// nothing imports a development dependency at run time.
const layers = [
  ['faces', '^src/(cli|server)\\.ts$|^src/(api|web)/'],
  ['services', '^src/service/'],
  ['jobs', '^src/jobs/'],
  ['pipeline', '^src/(pipeline|validate)\\.ts$'],
  ['steps', '^src/(template|merge|layout|render|preflight)/'],
  ['elements', '^src/elements/'],
  ['store', '^src/store/'],
  ['base', '^src/(model|assets|pdf|text|types)/|^src/(abort|config|errors|files|json|on-first-use)\\.ts$'],
];
const steps = ['template', 'merge', 'layout', 'render', 'preflight'];

const upward = layers.slice(1).map(([name, path], i) => ({
  name: `${name}-imports-upward`,
  comment: `${name} may not import ${layers
    .slice(0, i + 1)
    .map(([n]) => n)
    .join(', ')}`,
  severity: 'error',
  from: { path },
  to: {
    path: layers
      .slice(0, i + 1)
      .map(([, p]) => `(${p})`)
      .join('|'),
  },
}));
const across = steps.map((step) => ({
  name: `step-${step}-imports-a-step`,
  comment: 'a step talks to the others through the model, never by import',
  severity: 'error',
  from: { path: `^src/${step}/` },
  to: { path: `^src/(${steps.filter((s) => s !== step).join('|')})/` },
}));

export default {
  forbidden: [
    ...upward,
    ...across,
    {
      name: 'store-outside-services',
      comment: 'faces, jobs and the pipeline reach stored data through the services',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(service|store)/' },
      to: { path: '^src/store/' },
    },
    {
      name: 'module-outside-the-layers',
      comment: 'every module in src/ belongs to a layer: place a new one in the list above',
      severity: 'error',
      from: { path: '^src/', pathNot: layers.map(([, p]) => p) },
      to: {},
    },
    {
      name: 'dev-dependency-at-run-time',
      comment:
        'src/ runs where only dependencies are installed (npm ci --omit=dev): what it imports, other than types, must be one',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    includeOnly: ['^src/', '^node_modules/'],
  },
};
