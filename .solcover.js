/* global module */
// solidity-coverage (via @nomicfoundation/hardhat-toolbox). `npm run coverage` runs it and then
// scripts/coverage-gate.ts, which fails below 95% lines or 90% branches over contracts/.
//
// viaIR: since solidity-coverage 0.8.7 the optimizer stays on for viaIR builds (instrumentation
// uses `abi.encode(bytes8)`), so the contracts compile as they do in production and "stack too
// deep" does not arise. If it ever does, set `irMinimum: true` (a minimal Yul optimizer pipeline)
// or `configureYulOptimizer: true` with `solcOptimizerDetails`.
module.exports = {
  // Mocks and harnesses are not product code; contracts/sim/ is the lab's, if present.
  skipFiles: ["test/", "sim/"],
  istanbulReporter: ["text", "json-summary", "lcov"],
};
