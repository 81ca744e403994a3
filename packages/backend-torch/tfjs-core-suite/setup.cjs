// The entry of TF.js's own op test suite on Kindling's torch backend: bundled by run.mjs with the test files
// that @tensorflow/tfjs-core ships (dist/tests.js), then run by Jasmine. `require` keeps the order: the
// backend and the test environment exist before the first test file registers its tests.
require('@tensorflow/tfjs-backend-cpu');
require('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops');
require('@tensorflow/tfjs-core/dist/register_all_gradients');
const { setTestEnvs, setupTestFilters } = require('@tensorflow/tfjs-core/dist/jasmine_util');
const { registerTorchBackend } = require('../src/index');
const { EXCLUSIONS } = require('./exclusions.cjs');

registerTorchBackend({ threads: 2 });
setTestEnvs([{ name: 'torch', backendName: 'torch', isDataSync: true }]);
// every test runs unless an exclusion (exclusions.cjs, each with its reason) names it
setupTestFilters([], (name) => !EXCLUSIONS.some((exclusion) => name.includes(exclusion.test)));

require('@tensorflow/tfjs-core/dist/tests');
