import hre from "hardhat";

/**
 * How many runs a property suite does. Under solidity-coverage the instrumented contracts run
 * several times slower and the question is which lines and branches run, not how many random
 * sequences: suites then take a fortieth of their budget (at least 2). Everywhere else, `n`.
 * (At a tenth they took 17 of a 37-minute coverage run on the shared 2-core machine.)
 */
export function budget(n: number): number {
  const coverage = (hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING === true;
  return coverage ? Math.max(2, Math.ceil(n / 40)) : n;
}
