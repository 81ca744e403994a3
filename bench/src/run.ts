import { benchBackendThroughput } from './backend-throughput';
import { benchCollab } from './collab';
import { benchContention } from './contention';
import { benchDefaults } from './defaults';
import { benchDistributed } from './distributed';
import { benchFashionMnist } from './fashion-mnist';
import { benchKernelProfile } from './kernel-profile';
import { benchLearnerOverhead } from './learner-overhead';
import { benchNotSure } from './not-sure';
import { benchPointer } from './pointer';
import { benchSegmentation } from './segmentation';
import { benchServer } from './server';
import { benchSound } from './sound';
import { benchTabular } from './tabular';

const benchmarks: Record<string, () => Promise<void>> = {
  backends: benchBackendThroughput,
  learner: benchLearnerOverhead,
  'fashion-mnist': benchFashionMnist,
  collab: benchCollab,
  tabular: benchTabular,
  sound: benchSound,
  pointer: benchPointer,
  segmentation: benchSegmentation,
  server: benchServer,
  profile: benchKernelProfile,
  defaults: benchDefaults,
  distributed: benchDistributed,
  contention: benchContention,
  'not-sure': benchNotSure,
};

/** `pnpm bench` runs every benchmark; `pnpm bench backends learner` runs the ones named. */
const chosen = process.argv.slice(2).filter((name) => !name.startsWith('-'));
for (const name of chosen.length > 0 ? chosen : Object.keys(benchmarks)) {
  const benchmark = benchmarks[name];
  if (benchmark === undefined) {
    console.error(`unknown benchmark '${name}'; choose from ${Object.keys(benchmarks).join(', ')}`);
    process.exit(1);
  }
  try {
    await benchmark();
  } catch (error) {
    // One clear line: an escaping error would otherwise reach tfjs-wasm's own uncaught-exception hook.
    console.error(`bench ${name}: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
