import { Command } from 'commander';
import { trainDefault } from './train-default';

const program = new Command()
  .name('kindling')
  .description('Train small, useful models with TensorFlow.js, from the terminal.');

program
  .command('train')
  .description('train a model; with no task, an image classifier on the embedded default data')
  .option('--backend <name>', 'tensorflow, webgpu, wasm, cpu or auto', 'auto')
  .option('--epochs <n>', 'epochs to train', (value) => Number.parseInt(value, 10), 4)
  .option('--seed <n>', 'random seed', (value) => Number.parseInt(value, 10), 42)
  .action(async (options: { backend: string; epochs: number; seed: number }) => {
    await trainDefault(options);
  });

program.parseAsync().catch((error: unknown) => {
  console.error(`kindling: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
