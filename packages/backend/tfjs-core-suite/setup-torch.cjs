// TF.js's own op test suite on Kindling's torch backend, set up as `initBackend` sets it up (the cpu kernel fixes
// it falls back on, Kindling's gradients): bundled by run.mjs with the test files that @tensorflow/tfjs-core
// ships (dist/tests.js), then run by Jasmine. `require` keeps the order: the backend and the test environment
// exist before the first test file registers its tests.
require('@tensorflow/tfjs-backend-cpu');
require('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops');
require('@tensorflow/tfjs-core/dist/register_all_gradients');
const { setTestEnvs, setupTestFilters } = require('@tensorflow/tfjs-core/dist/jasmine_util');
const { registerTorchBackend } = require('@kindling/backend-torch');
const { registerCpuKernelFixes } = require('../src/cpu-kernel-fixes');
const { registerGradientFixes } = require('../src/gradient-fixes');
const { EXCLUSIONS } = require('./exclusions-torch.cjs');

registerCpuKernelFixes();
registerTorchBackend({ threads: 2 });
registerGradientFixes();
setTestEnvs([{ name: 'torch', backendName: 'torch', isDataSync: true }]);
// every test runs unless an exclusion (exclusions-torch.cjs, each with its reason) skips it
setupTestFilters([], (name) => !EXCLUSIONS.some((exclusion) => exclusion.error === undefined && name.includes(exclusion.test)));

require('@tensorflow/tfjs-core/dist/tests');
