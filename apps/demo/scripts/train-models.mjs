#!/usr/bin/env node
/* global process, console */
/**
 * Trains the demo's bundles with the `kindling` trainer on its embedded default datasets, into
 * public/models/<task>/ (Vite copies them into the site). A bundle already there is kept unless
 * --force is given, so rebuilding the site does not retrain.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(dirname(createRequire(import.meta.url).resolve('@kindling/trainer/package.json')), 'dist', 'cli.js');
const force = process.argv.includes('--force');

// small, quick models: the demo shows the idea; `kindling train` with its defaults trains better ones
const models = {
  image: ['train', 'image', '--size', '32', '--epochs', '12', '--arch', 'resnet-small'],
  sound: ['train', 'sound', '--epochs', '6', '--arch', 'resnet-tiny'],
  pointer: ['train', 'pointer', '--epochs', '8'],
  segmentation: ['train', 'segment', '--size', '32', '--widths', '16,32,64', '--dice', '--epochs', '12', '--batch-size', '8'],
  tabular: ['train', 'tabular', '--epochs', '4'],
  collab: ['train', 'collab', '--epochs', '3', '--factors', '16'],
};

for (const [task, args] of Object.entries(models)) {
  const out = join(here, '..', 'public', 'models', task);
  if (!force && existsSync(join(out, 'kindling.json'))) {
    console.log(`demo models: ${task} is already trained (${out}); --force retrains`);
    continue;
  }
  console.log(`demo models: training ${task} → ${out}`);
  const started = Date.now();
  const result = spawnSync(process.execPath, [cli, ...args, '--out', out, '--backend', 'wasm'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) {
    console.error(result.stdout, result.stderr);
    console.error(`demo models: training ${task} failed (exit ${result.status})`);
    process.exit(1);
  }
  const summary = result.stdout.split('\n').filter((line) => /accuracy|MSE|example/.test(line)).at(-1) ?? '';
  console.log(`demo models: ${task} done in ${((Date.now() - started) / 1000).toFixed(0)} s; ${summary.trim()}`);
}
