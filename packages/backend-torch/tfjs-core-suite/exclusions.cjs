// Tests of TF.js's op suite (@tensorflow/tfjs-core/dist/tests.js) that do not run on the torch backend, each
// with why. A test is excluded when its full name contains `test`. Keep this list short and true: a failure
// that is the backend's fault is fixed, not listed.
const EXCLUSIONS = [];

module.exports = { EXCLUSIONS };
