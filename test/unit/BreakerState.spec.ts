import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { loadFixture } from "../shared/load-fixture";
import { budget } from "../shared/budget";
import { WAD } from "../shared/local-world";

/**
 * Reference model of the breaker's recovery schedule (architecture.md §5): a trip at `level` holds
 * until `stepAt`, then steps down by one at `stepAt` and once more every `stepSec`; a zero
 * `stepSec` drops it to 0 at `stepAt`. From `endAt` on the level is 0 whatever the schedule says.
 */
function levelAtRef(level: bigint, stepAt: bigint, stepSec: bigint, endAt: bigint, now: bigint): bigint {
  if (level === 0n || now >= endAt) return 0n;
  if (now < stepAt) return level;
  if (stepSec === 0n) return 0n;
  // Steps taken so far, counted one at a time, so the model does not share the contract's formula.
  let current = level;
  for (let t = stepAt; t <= now && current > 0n; t += stepSec) current -= 1n;
  return current;
}

const harness = () => ethers.deployContract("BreakerStateHarness");

describe("BreakerState (word codec and recovery schedule)", () => {
  it("round-trips every field and matches the reference schedule (random words, fixed seed)", async () => {
    const h = await loadFixture(harness);
    const u32 = fc.bigInt({ min: 0n, max: 2n ** 32n - 1n });
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 0n, max: 3n }),
        u32,
        // Short cooldowns so that several steps fall inside the window, and zero (never written
        // by the breaker, whose minimum cooldown is positive) for the library's defensive branch.
        fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 600n }), fc.bigInt({ min: 0n, max: 2n ** 24n - 1n })),
        u32,
        fc.bigInt({ min: -1_000n, max: 3_000n }),
        async (level, stepAt, stepSec, endAt, offset) => {
          const now = stepAt + offset < 0n ? 0n : stepAt + offset;
          const [, fields] = await h.decode(level, stepAt, stepSec, endAt, now);
          expect(fields.slice(0, 4)).to.deep.equal([level, stepAt, stepSec, endAt]);
          expect(fields[4]).to.equal(levelAtRef(level, stepAt, stepSec, endAt, now));
        },
      ),
      { seed: 20_261_206, numRuns: budget(300) },
    );
  });

  it("steps a level-3 trip down one level per cooldown, and ends it at the hard end", async () => {
    const h = await loadFixture(harness);
    const [word] = await h.decode(3n, 1_000n, 100n, 1_150n, 0n);
    const at = (t: bigint) => h.levelAt(word, t);
    expect(await at(999n)).to.equal(3n); // before the first step
    expect(await at(1_000n)).to.equal(2n); // first step at stepAt
    expect(await at(1_099n)).to.equal(2n);
    expect(await at(1_100n)).to.equal(1n);
    expect(await at(1_149n)).to.equal(1n);
    expect(await at(1_150n)).to.equal(0n); // hard end, before the third step at 1,200
    const [noCooldown] = await h.decode(3n, 1_000n, 0n, 5_000n, 0n);
    expect(await h.levelAt(noCooldown, 999n)).to.equal(3n);
    expect(await h.levelAt(noCooldown, 1_000n)).to.equal(0n); // no cooldown: straight to 0, no division by zero
    const [clear] = await h.decode(0n, 0n, 0n, 2n ** 32n - 1n, 0n);
    expect(await h.levelAt(clear, 0n)).to.equal(0n);
  });

  it("keeps the state bits under the margin multipliers, and reads an unset multiplier as 1.0", async () => {
    const h = await loadFixture(harness);
    const [word] = await h.decode(2n, 123n, 45n, 6_789n, 0n);
    const dirty = word | (7n << 96n) | (9n << 160n); // stale multipliers are replaced, not OR-ed
    expect(await h.multipliers(dirty, 0n, 0n)).to.deep.equal([word, WAD, WAD]);
    expect(await h.multipliers(dirty, (3n * WAD) / 2n, 2n * WAD)).to.deep.equal([word, (3n * WAD) / 2n, 2n * WAD]);
    expect(await h.multipliers(word, 1n, 0n)).to.deep.equal([word, 1n, WAD]);
  });
});
