// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Backend packages only `@kindling/backend` and the apps may import (package boundaries). */
const backendModules = [
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgpu',
  '@tensorflow/tfjs-backend-webgl',
  '@tensorflow/tfjs-backend-cpu',
  '@kindling/backend-torch',
];

/**
 * The layers, bottom to top: data → deploy (the bundle format, the registry of task kinds, loading and serving; it
 * imports no modality) → the modalities (image, audio, pointer: each registers its task kinds with deploy) → models →
 * tables and ratings (tabular) → learner → recipes. A library imports only packages of the layers below it; tests may
 * import anything (they drive a layer with the ones above it).
 */
const layers = {
  data: [],
  deploy: ['data'],
  image: ['data', 'deploy'],
  audio: ['data', 'deploy'],
  pointer: ['data', 'deploy'],
  models: ['data', 'image', 'audio', 'pointer'],
  tabular: ['data', 'deploy', 'models'],
  learner: ['data', 'image', 'audio', 'pointer', 'models'],
  recipes: ['data', 'image', 'audio', 'pointer', 'models', 'tabular', 'learner', 'deploy'],
};
const libraries = Object.keys(layers);
const backendMessage = 'Libraries never choose a backend; only @kindling/backend and the apps import backend packages.';

/** The import rule of one library: no backend package, and no library of its own layer or above. */
function layerRule(name) {
  const forbidden = libraries.filter((other) => other !== name && !layers[name].includes(other));
  return {
    files: [`packages/${name}/**/*.ts`],
    // script-tag/: the script-tag build, an app in one file (it re-exports initBackend for the page to call)
    ignores: ['packages/**/*.test.ts', 'packages/**/fixtures/**', 'packages/*/script-tag/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: backendModules.map((module) => ({ name: module, message: backendMessage })),
          patterns: [
            { group: backendModules.map((module) => `${module}/*`), message: backendMessage },
            {
              group: ['@kindling/backend', '@kindling/backend/*'],
              message: 'Libraries take whatever backend the app chose; only tests, apps and benchmarks import @kindling/backend.',
            },
            ...(forbidden.length === 0
              ? []
              : [
                  {
                    group: forbidden.flatMap((other) => [`@kindling/${other}`, `@kindling/${other}/*`]),
                    message: `@kindling/${name} may import only the layers below it (${layers[name].map((other) => `@kindling/${other}`).join(', ') || 'none'}): data → deploy → image, audio, pointer → models → tabular → learner → recipes (docs/architecture.md)`,
                  },
                ]),
          ],
        },
      ],
    },
  };
}

/** The learner's layer rule for the modules around the loop, which also may not import the Learner. */
function contractRule() {
  const rule = layerRule('learner');
  const [level, options] = rule.rules['no-restricted-imports'];
  return {
    files: ['packages/learner/src/events.ts', 'packages/learner/src/lr-finder.ts', 'packages/learner/src/schedule.ts', 'packages/learner/src/callbacks/*.ts'],
    ignores: rule.ignores,
    rules: {
      'no-restricted-imports': [
        level,
        {
          ...options,
          patterns: [...options.patterns, { group: ['./learner', '../learner'], message: 'Import the loop contract (TrainingLoop, Callback, … from events.ts), not the Learner: the Learner imports this module.' }],
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['**/dist/**', 'packages/backend-torch/build/**', '**/node_modules/**', '**/.turbo/**', '**/coverage/**', 'artifacts/**', '**/.snippets/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  // Libraries never choose a backend, and import only the layers below them.
  ...libraries.map(layerRule),
  // the loop's contract (events.ts) is what the modules around the Learner import, never the Learner itself: the loop
  // and its callbacks, schedules and lr finder form no cycle (the learner's layer rule, plus that)
  contractRule(),
  {
    // build scripts run by Node directly (the native addon's build)
    files: ['packages/*/scripts/**/*.{mjs,cjs}', 'packages/*/tfjs-core-suite/**/*.{mjs,cjs}', 'scripts/**/*.mjs', 'tests/*/src/fixtures/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['packages/*/scripts/**/*.cjs', 'packages/*/tfjs-core-suite/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
