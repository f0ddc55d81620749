import { expect } from "chai";
import fc from "fast-check";
import fs from "node:fs";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import {
  auctionId,
  BREAKER_LEVEL_NAMES,
  BreakerLevel,
  breakerLevel,
  breakerLevelAt,
  breakerZeroAt,
  decodeAuctionId,
  decodeBreakerWord,
  describeBreakerLevel,
  LotKind,
} from "../../lib/codec";
import { BREAKER_DEFAULTS } from "../../lib/params";
import { budget } from "../shared/budget";
import { loadFixture } from "../shared/load-fixture";
import { deployWorld, ETH_USD } from "../shared/local-world";

/** lib/codec.ts: auction ids as AuctionHouse `auctionId` encodes them and `_decode` reads them. */
describe("codec: auction ids", () => {
  const account = "0x14dc79964da2c08b23698b3d3cc7ca32193d9955";

  it("encodes (account << 16) | (kind << 8) | index and decodes it back, for every kind", () => {
    for (const kind of [LotKind.Position, LotKind.Collateral, LotKind.Pool]) {
      for (const index of [0, 1, 255]) {
        const id = auctionId(account, kind, index);
        expect(id).to.equal((BigInt(account) << 16n) | (BigInt(kind) << 8n) | BigInt(index));
        expect(decodeAuctionId(id)).to.deep.equal({ account, kind, index });
      }
    }
  });

  it("tells a pool lot (kind 2) from a collateral lot (kind 1)", () => {
    expect(LotKind).to.deep.equal({ Position: 0, Collateral: 1, Pool: 2 });
    expect(decodeAuctionId(auctionId(account, LotKind.Pool, 0)).kind).to.equal(LotKind.Pool);
    expect(decodeAuctionId(auctionId(account, LotKind.Collateral, 0)).kind).to.equal(LotKind.Collateral);
  });

  it("rejects what no auction house emits", () => {
    expect(() => decodeAuctionId(-1n)).to.throw(RangeError);
    expect(() => decodeAuctionId(1n << 176n)).to.throw(RangeError);
    expect(() => decodeAuctionId((BigInt(account) << 16n) | (3n << 8n))).to.throw(RangeError, /unknown lot kind 3/);
    expect(() => auctionId(account, LotKind.Pool, 256)).to.throw(RangeError);
    expect(() => auctionId("0x1234", LotKind.Pool, 0)).to.throw(RangeError);
  });
});

/** lib/codec.ts: breaker levels and state words, against BreakerState and a deployed CircuitBreaker. */
describe("codec: breaker words", () => {
  it("names the levels as docs/circuit-breakers.md does", () => {
    const doc = fs.readFileSync("docs/circuit-breakers.md", "utf8");
    for (const level of [0, 1, 2, 3]) {
      const name = BREAKER_LEVEL_NAMES[breakerLevel(level)];
      expect(doc).to.match(new RegExp(`^\\| ${level} +\\| ${name} +\\|`, "m"));
    }
    expect(BreakerLevel.LiquidationPause).to.equal(2);
    expect(describeBreakerLevel(BreakerLevel.Halt)).to.equal("3 (halt)");
    expect(() => breakerLevel(4)).to.throw(RangeError);
  });

  it("decodes words and their recovery as BreakerState does (random words, fixed seed)", async () => {
    const h = await ethers.deployContract("BreakerStateHarness");
    const u32 = fc.bigInt({ min: 0n, max: 2n ** 32n - 1n });
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 0n, max: 3n }),
        u32,
        fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 600n })),
        u32,
        fc.bigInt({ min: -1_000n, max: 3_000n }),
        fc.bigInt({ min: 0n, max: 5n * 10n ** 18n }),
        async (level, stepAt, stepSec, endAt, offset, im) => {
          const now = stepAt + offset < 0n ? 0n : stepAt + offset;
          const [word, fields] = await h.decode(level, stepAt, stepSec, endAt, now);
          const d = decodeBreakerWord(word);
          expect([BigInt(d.level), d.stepAt, d.stepSec, d.endAt]).to.deep.equal(fields.slice(0, 4));
          expect(BigInt(breakerLevelAt(word, now))).to.equal(fields[4]);
          const [, caution, halt] = await h.multipliers(word, im, im + 1n);
          const m = decodeBreakerWord(word | (im << 96n) | ((im + 1n) << 160n));
          expect([m.cautionImWad, m.haltImWad]).to.deep.equal([caution, halt]);
        },
      ),
      { seed: 20_261_207, numRuns: budget(100) },
    );
  });

  it("reads a guardian's trip from CircuitBreaker.stateOf, with the deployed cooldown", async () => {
    const w = await loadFixture(deployWorld);
    await w.breaker.connect(w.admin).trip(ETH_USD, BreakerLevel.Halt);
    const word = await w.breaker.stateOf(ETH_USD);
    const d = decodeBreakerWord(word);
    expect(d.level).to.equal(BreakerLevel.Halt);
    expect(d.stepSec).to.equal(BigInt(BREAKER_DEFAULTS.cooldownSec));
    const now = BigInt(await time.latest());
    expect(d.endAt > now && d.endAt <= now + BigInt(BREAKER_DEFAULTS.maxPauseSec)).to.equal(true);
    expect(breakerLevelAt(word, now)).to.equal(breakerLevel(await w.breaker.level(ETH_USD)));
    // One cooldown after the first step, two levels down: caution.
    expect(breakerLevelAt(word, d.stepAt + d.stepSec)).to.equal(BreakerLevel.Caution);
    expect(breakerLevelAt(word, breakerZeroAt(word))).to.equal(BreakerLevel.Normal);
    expect(breakerLevelAt(word, breakerZeroAt(word) - 1n)).to.equal(BreakerLevel.Caution);
  });
});
