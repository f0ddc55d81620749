import { loadFixture as baseLoadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";

/**
 * `loadFixture` that also rewinds the chain's clock to the fixture's own time.
 *
 * Hardhat's `evm_revert` restores state but not the clock: the next block after a restore is
 * stamped with the wall clock, so a fixture restored an hour after it was taken (a slow coverage
 * run, a long fuzz) sees every oracle round an hour old and reverts `StalePrice`. After the
 * restore this sets the next block's timestamp to the snapshot's + 1 (mining happens as the test
 * goes; the clock's offset follows that block). A test's own `time.setNextBlockTimestamp` or
 * `time.increase` overrides it, as both set the next timestamp themselves.
 */
export async function loadFixture<T>(fixture: () => Promise<T>): Promise<T> {
  const value = await baseLoadFixture(fixture);
  await time.setNextBlockTimestamp((await time.latest()) + 1);
  return value;
}
