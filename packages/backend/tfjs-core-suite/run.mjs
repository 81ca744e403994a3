// Bundles TF.js's op test suite with one of Kindling's backends as Kindling sets it up (setup-<backend>.cjs) and
// runs it with Jasmine. `node tfjs-core-suite/run.mjs <torch|wasm> [--filter <text>]`; prints Jasmine's summary
// and exits non-zero on a failure that no exclusion (exclusions-<backend>.cjs, each with its reason) names.
// `KINDLING_SUITE_PLAIN=1`: wasm without Kindling's kernels and gradients, to compare.
import { build } from 'esbuild';
import Jasmine from 'jasmine';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const backend = process.argv[2];
if (backend !== 'torch' && backend !== 'wasm') {
  console.error('usage: node tfjs-core-suite/run.mjs <torch|wasm> [--filter <text>]');
  process.exit(2);
}
const require = createRequire(import.meta.url);
// the bundle sits beside the backend's own files, so the torch addon and the wasm binaries are found from it
const bundle =
  backend === 'torch'
    ? join(dirname(require.resolve('@kindling/backend-torch/package.json')), 'build', 'tfjs-core-suite.cjs')
    : join(here, '..', 'node_modules', '.tfjs-core-suite', 'wasm.cjs');
mkdirSync(dirname(bundle), { recursive: true });
await build({
  entryPoints: [join(here, `setup-${backend}.cjs`)],
  // aliases resolve from this package, wherever the script is started from
  absWorkingDir: join(here, '..'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  outfile: bundle,
  // tfjs-core's ES modules, so the tests and the backend share one engine
  mainFields: ['module', 'main'],
  // tfjs-core's package.json marks its test files free of side effects; registering tests is their side effect
  ignoreAnnotations: true,
  alias: { '@tensorflow/tfjs': '@tensorflow/tfjs-core', 'jasmine-core/lib/jasmine-core/jasmine.js': join(here, 'jasmine-core-shim.cjs') },
  define: {
    'import.meta.url': JSON.stringify(pathToFileURL(bundle).href),
    // where tfjs-backend-wasm's .wasm files are (its own lookup is relative to its module, which is now the bundle)
    'process.env.KINDLING_SUITE_PLAIN': JSON.stringify(process.env.KINDLING_SUITE_PLAIN ?? ''),
    'process.env.KINDLING_WASM_FILES': JSON.stringify(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`),
  },
  logLevel: 'error',
});

const filter = process.argv.indexOf('--filter');
const runner = new Jasmine({ projectBaseDir: dirname(bundle) });
runner.configureDefaultReporter({ print: () => {} }); // failures are printed below, one line each
runner.loadConfig({ spec_files: [bundle], random: false, stopSpecOnExpectationFailure: false });
runner.exitOnCompletion = false;
runner.jasmine.DEFAULT_TIMEOUT_INTERVAL = 20_000;
const { EXCLUSIONS } = require(join(here, `exclusions-${backend}.cjs`));
const used = new Set();
/** The exclusion that names this failure (its test, its message), if any. */
const excusedBy = (name, message) =>
  EXCLUSIONS.find((exclusion) => (exclusion.test === undefined || name.includes(exclusion.test)) && (exclusion.error === undefined ? true : message.includes(exclusion.error)));
const failures = [];
const counts = { passed: 0, failed: 0, known: 0, skipped: 0 };
runner.env.addReporter({
  specDone(result) {
    if (result.status === 'passed') counts.passed++;
    else if (result.status !== 'failed') {
      counts.skipped++;
      const exclusion = EXCLUSIONS.find((candidate) => candidate.error === undefined && result.fullName.includes(candidate.test));
      if (exclusion !== undefined) used.add(exclusion);
    } else {
      const message = result.failedExpectations.map((expectation) => expectation.message).join(' | ');
      const exclusion = excusedBy(result.fullName, message);
      if (exclusion === undefined) {
        counts.failed++;
        failures.push(`${result.fullName}: ${message}`.slice(0, 300));
      } else {
        counts.known++;
        used.add(exclusion);
      }
    }
  },
});
const started = Date.now();
const only = filter > 0 ? process.argv[filter + 1] : undefined;
await runner.execute(undefined, only);
for (const failure of failures) console.log(`FAILED ${failure}`);
// an exclusion nothing needs any more is taken out of the list, so the list stays true
const unused = only === undefined ? EXCLUSIONS.filter((exclusion) => !used.has(exclusion)) : [];
for (const exclusion of unused) console.log(`UNUSED exclusion ${JSON.stringify(exclusion.test ?? exclusion.error)}: nothing fails that way any more; remove it`);
const status = counts.failed === 0 && unused.length === 0 ? 'passed' : 'failed';
console.log(
  `tfjs-core suite on ${backend}: ${status}, ${counts.passed} passed, ${counts.failed} failed, ${counts.known} failed as an exclusion says, ${counts.skipped} excluded or filtered out, ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
process.exitCode = status === 'passed' ? 0 : 1;
