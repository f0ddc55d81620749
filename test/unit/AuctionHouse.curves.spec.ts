import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { loadFixture } from "../shared/load-fixture";
import type { IPriceCurve } from "../../typechain-types";
import { deployWorld, wad } from "../shared/local-world";
import { DEFAULTS, exponentialFactor, linearFactor, stairstepFactor, WAD } from "../shared/auction-math";

const DAY = 86_400n;
const tag = (name: string): string => ethers.encodeBytes32String(name);

const LINEAR_TAUS = [60n, 600n, 3_600n, DAY, 30n * DAY];
const STAIRSTEPS: [bigint, bigint][] = [
  [12n, wad(0.998)],
  [1n, wad(0.5)],
  [30n, wad(0.95)],
  [60n, wad(0.99)],
  [DAY, WAD - 1n],
];
const HALF_LIVES = [10n, 90n, 600n, 3_600n, 30n * DAY];

async function curves() {
  const linear = await ethers.getContractFactory("LinearDecrease");
  const stairstep = await ethers.getContractFactory("StairstepExponentialDecrease");
  const exponential = await ethers.getContractFactory("ExponentialDecrease");
  return {
    linear: await Promise.all(LINEAR_TAUS.map((tau) => linear.deploy(tau))),
    stairstep: await Promise.all(STAIRSTEPS.map(([step, cut]) => stairstep.deploy(step, cut))),
    exponential: await Promise.all(HALF_LIVES.map((h) => exponential.deploy(h))),
  };
}

/** Distinct and ascending. */
const sorted = (ts: bigint[]): bigint[] => [...new Set(ts)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** At least 20 distinct time points across `scale` (a curve's own time constant) and beyond. */
function timePoints(scale: bigint): bigint[] {
  const points = new Set<bigint>([0n, 1n, 2n, 3n, 7n, 11n, 12n, 13n, 59n, 60n, 61n, 3_600n, DAY, 10n ** 9n]);
  for (const [num, den] of [
    [1n, 10n],
    [1n, 3n],
    [1n, 2n],
    [2n, 3n],
    [99n, 100n],
    [1n, 1n],
    [3n, 2n],
    [5n, 1n],
    [20n, 1n],
  ]) {
    points.add((scale * num) / den);
    points.add((scale * num) / den + 1n);
  }
  points.add(scale - 1n);
  return sorted([...points]);
}

async function factors(curve: IPriceCurve, ts: bigint[]): Promise<bigint[]> {
  return Promise.all(ts.map((t) => curve.factor(t)));
}

function expectNonIncreasing(values: bigint[], label: string): void {
  for (let i = 1; i < values.length; i++) {
    expect(values[i], `${label}: factor rose at point ${i}`).to.be.lessThanOrEqual(values[i - 1]);
  }
}

describe("AuctionHouse.curves", () => {
  describe("LinearDecrease", () => {
    it("equals max(0, 1 − t/tau) exactly (WAD, rounded down) at every time point", async () => {
      const { linear } = await loadFixture(curves);
      for (const [i, curve] of linear.entries()) {
        const tau = LINEAR_TAUS[i];
        expect(await curve.tau()).to.equal(tau);
        const ts = sorted([...timePoints(tau), tau - 1n, tau, tau + 1n, 2n ** 200n]);
        expect(ts.length).to.be.greaterThanOrEqual(20);
        const got = await factors(curve, ts);
        ts.forEach((t, k) => expect(got[k], `tau ${tau}, t ${t}`).to.equal(linearFactor(tau, t)));
        expect(await curve.factor(0n)).to.equal(WAD);
        expect(await curve.factor(tau)).to.equal(0n);
        expect(await curve.factor(tau / 2n)).to.equal(((tau - tau / 2n) * WAD) / tau);
        expectNonIncreasing(got, `linear tau ${tau}`);
      }
    });

    it("rejects tau outside [60 s, 30 days] with CurveParamOutOfBounds and emits the value it accepts", async () => {
      const factory = await ethers.getContractFactory("LinearDecrease");
      const [min, max] = [60n, 30n * DAY];
      for (const bad of [0n, min - 1n, max + 1n]) {
        await expect(factory.deploy(bad))
          .to.be.revertedWithCustomError(factory, "CurveParamOutOfBounds")
          .withArgs(tag("tau"), bad, min, max);
      }
      for (const ok of [min, max]) {
        const curve = await factory.deploy(ok);
        await expect(curve.deploymentTransaction()).to.emit(curve, "CurveParamSet").withArgs(tag("tau"), ok);
        expect(await curve.MIN_TAU()).to.equal(min);
        expect(await curve.MAX_TAU()).to.equal(max);
      }
    });
  });

  describe("StairstepExponentialDecrease", () => {
    it("equals cut^⌊t/step⌋ in WAD fixed point (≤ 1e-15 relative; bit-exact with half-up rpow)", async () => {
      const { stairstep } = await loadFixture(curves);
      for (const [i, curve] of stairstep.entries()) {
        const [step, cut] = STAIRSTEPS[i];
        expect(await curve.step()).to.equal(step);
        expect(await curve.cut()).to.equal(cut);
        const everyStep = Array.from({ length: 21 }, (_, k) => step * BigInt(k));
        const ts = sorted([...timePoints(step * 50n), ...everyStep, step - 1n, step + 1n, 2n ** 200n]);
        expect(ts.length).to.be.greaterThanOrEqual(20);
        const got = await factors(curve, ts);
        let compared = 0;
        ts.forEach((t, k) => {
          const n = t / step;
          // Fixed point: the same rounding convention, to the wei.
          expect(got[k], `step ${step}, cut ${cut}, t ${t}`).to.equal(stairstepFactor(step, cut, t));
          // Against the exact rational cut^n / WAD^(n−1), while the result carries ≥ 15 digits.
          if (n <= 1_024n && got[k] >= 10n ** 15n) {
            const exactNum = cut ** n; // value = exactNum / WAD^(n−1) … in WAD units
            const scaled = got[k] * WAD ** (n === 0n ? 0n : n - 1n);
            const exact = n === 0n ? WAD : exactNum;
            const err = scaled > exact ? scaled - exact : exact - scaled;
            expect(err * 10n ** 15n, `relative error at t ${t}`).to.be.lessThanOrEqual(exact);
            compared++;
          }
        });
        expect(compared).to.be.greaterThanOrEqual(10);
        expect(await curve.factor(0n)).to.equal(WAD);
        expect(await curve.factor(step - 1n)).to.equal(WAD); // flat within a step
        expectNonIncreasing(got, `stairstep ${step}/${cut}`);
      }
    });

    it("matches the deployed default curve: step 12 s, cut 0.998", async () => {
      const w = await loadFixture(deployWorld);
      expect(await w.curve.step()).to.equal(DEFAULTS.curveStepSec);
      expect(await w.curve.cut()).to.equal(DEFAULTS.curveCutWad);
      expect((await w.auction.params()).curve).to.equal(await w.curve.getAddress());
      for (const t of [0n, 11n, 12n, 24n, 600n, 1_800n]) {
        expect(await w.curve.factor(t)).to.equal(stairstepFactor(12n, wad(0.998), t));
      }
    });

    it("rejects step outside [1 s, 1 day] and cut outside [0.5, 1) with CurveParamOutOfBounds", async () => {
      const factory = await ethers.getContractFactory("StairstepExponentialDecrease");
      const cut = wad(0.99);
      for (const bad of [0n, DAY + 1n]) {
        await expect(factory.deploy(bad, cut))
          .to.be.revertedWithCustomError(factory, "CurveParamOutOfBounds")
          .withArgs(tag("step"), bad, 1n, DAY);
      }
      for (const bad of [0n, wad(0.5) - 1n, WAD, 2n * WAD]) {
        await expect(factory.deploy(12n, bad))
          .to.be.revertedWithCustomError(factory, "CurveParamOutOfBounds")
          .withArgs(tag("cut"), bad, wad(0.5), WAD - 1n);
      }
      for (const [step, okCut] of [
        [1n, wad(0.5)],
        [DAY, WAD - 1n],
      ]) {
        const curve = await factory.deploy(step, okCut);
        await expect(curve.deploymentTransaction())
          .to.emit(curve, "CurveParamSet")
          .withArgs(tag("step"), step)
          .and.to.emit(curve, "CurveParamSet")
          .withArgs(tag("cut"), okCut);
      }
    });
  });

  describe("ExponentialDecrease", () => {
    it("equals 2^(−t/halfLife) within 1e-9 relative, and 0 from 135 half-lives", async () => {
      const { exponential } = await loadFixture(curves);
      for (const [i, curve] of exponential.entries()) {
        const h = HALF_LIVES[i];
        expect(await curve.halfLife()).to.equal(h);
        const ts = sorted([...timePoints(h), 25n * h, 60n * h, 135n * h - 1n, 135n * h, 2n ** 200n]);
        expect(ts.length).to.be.greaterThanOrEqual(20);
        const got = await factors(curve, ts);
        let compared = 0;
        ts.forEach((t, k) => {
          const expected = exponentialFactor(Number(h), Number(t));
          const actual = Number(got[k]) / 1e18;
          if (t >= 135n * h) {
            expect(got[k], `t ${t} ≥ 135 half-lives`).to.equal(0n);
          } else if (expected >= 1e-6) {
            expect(Math.abs(actual - expected) / expected, `halfLife ${h}, t ${t}`).to.be.at.most(1e-9);
            compared++;
          } else {
            // Tiny values: absolute error below 1e-15 (a thousand wei).
            expect(Math.abs(actual - expected), `halfLife ${h}, t ${t}`).to.be.at.most(1e-15);
          }
        });
        expect(compared).to.be.greaterThanOrEqual(20);
        expect(await curve.factor(0n)).to.equal(WAD);
        expect(await curve.factor(h)).to.be.closeTo(WAD / 2n, 10n ** 9n);
        expectNonIncreasing(got, `exponential halfLife ${h}`);
      }
    });

    it("rejects halfLife outside [10 s, 30 days] with CurveParamOutOfBounds", async () => {
      const factory = await ethers.getContractFactory("ExponentialDecrease");
      const [min, max] = [10n, 30n * DAY];
      for (const bad of [0n, min - 1n, max + 1n]) {
        await expect(factory.deploy(bad))
          .to.be.revertedWithCustomError(factory, "CurveParamOutOfBounds")
          .withArgs(tag("halfLife"), bad, min, max);
      }
      for (const ok of [min, max]) {
        const curve = await factory.deploy(ok);
        await expect(curve.deploymentTransaction()).to.emit(curve, "CurveParamSet").withArgs(tag("halfLife"), ok);
        expect(await curve.MIN_HALF_LIFE()).to.equal(min);
        expect(await curve.MAX_HALF_LIFE()).to.equal(max);
      }
    });
  });

  describe("all curves", () => {
    it("start at 1e18 and never increase with time (random pairs, fixed seed)", async () => {
      const { linear, stairstep, exponential } = await loadFixture(curves);
      const all: IPriceCurve[] = [...linear, ...stairstep, ...exponential];
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: all.length - 1 }),
          fc.bigInt({ min: 0n, max: 60n * DAY }),
          fc.bigInt({ min: 0n, max: 10n * DAY }),
          async (which, t, dt) => {
            const curve = all[which];
            const [a, b] = await Promise.all([curve.factor(t), curve.factor(t + dt)]);
            expect(b).to.be.lessThanOrEqual(a);
            expect(a).to.be.lessThanOrEqual(WAD);
          },
        ),
        { seed: 424_242, numRuns: 200 },
      );
      for (const curve of all) expect(await curve.factor(0n)).to.equal(WAD);
    });
  });
});
