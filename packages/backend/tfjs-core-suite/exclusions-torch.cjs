// Tests of TF.js's op suite (@tensorflow/tfjs-core/dist/tests.js) that do not pass on the torch backend, each
// with why. An exclusion with only `test` skips every test whose full name contains it; one with `error` runs
// the tests (those whose name contains `test`, when given) and accepts a failure whose message contains `error`.
// run.mjs fails on any other failure and on an exclusion that matched nothing. Keep this list short and true:
// a failure that is the backend's fault is fixed, not listed.
const EXCLUSIONS = [];

module.exports = { EXCLUSIONS };
