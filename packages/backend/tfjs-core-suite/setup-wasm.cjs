// TF.js's own op test suite on the wasm backend with Kindling's training kernels and gradients, as `initBackend`
// sets it up; see setup-torch.cjs. One thread (the suite checks values, not speed).
require('@tensorflow/tfjs-backend-cpu');
require('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops');
require('@tensorflow/tfjs-core/dist/register_all_gradients');
const { setTestEnvs, setupTestFilters } = require('@tensorflow/tfjs-core/dist/jasmine_util');
const { setWasmPaths } = require('@tensorflow/tfjs-backend-wasm');
const { registerWasmTrainingKernels } = require('../src/wasm-kernels');
const { registerGradientFixes } = require('../src/gradient-fixes');
const { EXCLUSIONS } = require('./exclusions-wasm.cjs');

setWasmPaths(process.env.KINDLING_WASM_FILES);
if (process.env.KINDLING_SUITE_PLAIN !== '1') {
  registerWasmTrainingKernels();
  registerGradientFixes();
}
setTestEnvs([{ name: 'wasm', backendName: 'wasm', isDataSync: true }]);
setupTestFilters([], (name) => !EXCLUSIONS.some((exclusion) => exclusion.error === undefined && name.includes(exclusion.test)));

require('@tensorflow/tfjs-core/dist/tests');
