// Bundles TF.js's op test suite with the torch backend (setup.cjs) and runs it with Jasmine.
// `node tfjs-core-suite/run.mjs [--filter <text>]`; prints Jasmine's summary and exits non-zero on a failure.
import { build } from 'esbuild';
import Jasmine from 'jasmine';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
// inside the package's build folder, so the addon is found from the bundle as from dist/
const bundle = join(root, 'build', 'tfjs-core-suite.cjs');
mkdirSync(dirname(bundle), { recursive: true });
await build({
  entryPoints: [join(here, 'setup.cjs')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  outfile: bundle,
  // tfjs-core's ES modules, so the tests and the backend share one engine
  mainFields: ['module', 'main'],
  // tfjs-core's package.json marks its test files free of side effects; registering tests is their side effect
  ignoreAnnotations: true,
  alias: { '@tensorflow/tfjs': '@tensorflow/tfjs-core', 'jasmine-core/lib/jasmine-core/jasmine.js': join(here, 'jasmine-core-shim.cjs') },
  define: { 'import.meta.url': JSON.stringify(pathToFileURL(bundle).href) },
  logLevel: 'error',
});

const filter = process.argv.indexOf('--filter');
const runner = new Jasmine({ projectBaseDir: root });
runner.configureDefaultReporter({ print: () => {} }); // failures are printed below, one line each
runner.loadConfig({ spec_files: [bundle], random: false, stopSpecOnExpectationFailure: false });
runner.exitOnCompletion = false;
runner.jasmine.DEFAULT_TIMEOUT_INTERVAL = 20_000;
const failures = [];
const counts = { passed: 0, failed: 0, excluded: 0 };
runner.env.addReporter({
  specDone(result) {
    if (result.status === 'passed') counts.passed++;
    else if (result.status === 'failed') counts.failed++;
    else counts.excluded++;
    if (result.status === 'failed') failures.push(`${result.fullName}: ${result.failedExpectations[0]?.message ?? ''}`.slice(0, 300));
  },
});
const started = Date.now();
const result = await runner.execute(undefined, filter > 0 ? process.argv[filter + 1] : undefined);
for (const failure of failures) console.log(`FAILED ${failure}`);
console.log(`tfjs-core suite on torch: ${result.overallStatus}, ${counts.passed} passed, ${counts.failed} failed, ${counts.excluded} excluded or filtered, ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exitCode = result.overallStatus === 'passed' ? 0 : 1;
