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
  {
    // Libraries never choose a backend: only packages/backend, the apps and the benchmarks may.
    files: ['packages/**/*.ts'],
    ignores: ['packages/backend/**', 'packages/backend-torch/**', 'packages/**/*.test.ts', 'packages/**/fixtures/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: backendModules.map((name) => ({
            name,
            message: 'Libraries never choose a backend; only @kindling/backend and the apps import backend packages.',
          })),
          patterns: [
            {
              group: backendModules.map((name) => `${name}/*`),
              message: 'Libraries never choose a backend; only @kindling/backend and the apps import backend packages.',
            },
            {
              group: ['@kindling/backend', '@kindling/backend/*'],
              message: 'Libraries take whatever backend the app chose; only tests, apps and benchmarks import @kindling/backend.',
            },
          ],
        },
      ],
    },
  },
  {
    // build scripts run by Node directly (the native addon's build)
    files: ['packages/*/scripts/**/*.{mjs,cjs}', 'packages/*/tfjs-core-suite/**/*.{mjs,cjs}', 'scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['packages/*/scripts/**/*.cjs', 'packages/*/tfjs-core-suite/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
