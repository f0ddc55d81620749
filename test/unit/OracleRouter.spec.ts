import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { MockAggregator, OracleRouter } from "../../typechain-types";
import { deployWorld, e8, ETH_USD, usdc, WAD } from "../shared/local-world";

/** IOracleRouter.OracleStatus, in declaration order. */
const Status = {
  Ok: 0n,
  NotConfigured: 1n,
  Stale: 2n,
  NonPositive: 3n,
  Deviation: 4n,
  SequencerDown: 5n,
  SequencerGracePeriod: 6n,
} as const;

const HEARTBEAT = 3_600;
const DAY = 86_400;

/** `usd` as an answer with `decimals` decimals (exact for the cents-precision prices used here). */
const answer = (usdCents: bigint, decimals: number): bigint => (usdCents * 10n ** BigInt(decimals)) / 100n;
/** `usd` (in cents) as WAD. */
const wadCents = (usdCents: bigint): bigint => (usdCents * WAD) / 100n;

interface Env {
  router: OracleRouter;
  admin: HardhatEthersSigner;
  stranger: HardhatEthersSigner;
  asset: string;
  feed8: MockAggregator;
}

async function deployFeed(decimals: number, initialAnswer: bigint): Promise<MockAggregator> {
  const factory = await ethers.getContractFactory("MockAggregator");
  return factory.deploy(decimals, `feed-${decimals}`, initialAnswer);
}

/** A fresh router, one asset with an 8-decimal $3000 primary feed, no secondary. */
async function freshRouter(): Promise<Env> {
  const [admin, stranger] = await ethers.getSigners();
  const router = await (await ethers.getContractFactory("OracleRouter")).deploy(admin.address);
  const asset = ethers.Wallet.createRandom().address;
  const feed8 = await deployFeed(8, e8(3000));
  await router.setFeed(asset, feed8, HEARTBEAT, ethers.ZeroAddress, 0, 0);
  return { router, admin, stranger, asset, feed8 };
}

describe("OracleRouter", () => {
  describe("decimals normalisation", () => {
    it("gives the same WAD price for 6, 8 and 18 decimal feeds", async () => {
      const { router } = await loadFixture(freshRouter);
      const price = 312_345n; // $3123.45 in cents
      const expected = wadCents(price);
      for (const decimals of [6, 8, 18]) {
        const feed = await deployFeed(decimals, answer(price, decimals));
        const asset = ethers.Wallet.createRandom().address;
        await router.setFeed(asset, feed, HEARTBEAT, ethers.ZeroAddress, 0, 0);
        expect(await router.getPrice(asset), `decimals ${decimals}`).to.equal(expected);
        const [tried, status] = await router.tryGetPrice(asset);
        expect(tried).to.equal(expected);
        expect(status).to.equal(Status.Ok);
        expect((await router.feedOf(asset)).primaryDecimals).to.equal(BigInt(decimals));
      }
    });

    it("scales the smallest unit of each feed exactly", async () => {
      const { router } = await loadFixture(freshRouter);
      for (const decimals of [6, 8, 18]) {
        const feed = await deployFeed(decimals, 1n);
        const asset = ethers.Wallet.createRandom().address;
        await router.setFeed(asset, feed, HEARTBEAT, ethers.ZeroAddress, 0, 0);
        expect(await router.getPrice(asset)).to.equal(10n ** BigInt(18 - decimals));
      }
    });

    it("rejects a primary or secondary feed with more than 18 decimals", async () => {
      const { router, asset, feed8 } = await loadFixture(freshRouter);
      const feed19 = await deployFeed(19, 3000n * 10n ** 19n);
      await expect(router.setFeed(asset, feed19, HEARTBEAT, ethers.ZeroAddress, 0, 0))
        .to.be.revertedWithCustomError(router, "UnsupportedDecimals")
        .withArgs(await feed19.getAddress(), 19);
      await expect(router.setFeed(asset, feed8, HEARTBEAT, feed19, HEARTBEAT, 100))
        .to.be.revertedWithCustomError(router, "UnsupportedDecimals")
        .withArgs(await feed19.getAddress(), 19);
      // The existing configuration is untouched.
      expect((await router.feedOf(asset)).primary).to.equal(await feed8.getAddress());
    });
  });

  describe("primary feed checks", () => {
    it("returns Ok with the price for a fresh feed", async () => {
      const { router, asset } = await loadFixture(freshRouter);
      expect(await router.getPrice(asset)).to.equal(3000n * WAD);
      const [price, status] = await router.tryGetPrice(asset);
      expect(price).to.equal(3000n * WAD);
      expect(status).to.equal(Status.Ok);
    });

    it("reverts StalePrice once updatedAt + heartbeat < now, and reports Stale with the price", async () => {
      const { router, asset, feed8 } = await loadFixture(freshRouter);
      const now = await time.latest();
      // Comfortably inside the heartbeat: fine.
      await feed8.setRoundData(e8(2999), now - HEARTBEAT + 10);
      expect(await router.getPrice(asset)).to.equal(2999n * WAD);

      const updatedAt = now - HEARTBEAT - 10;
      await feed8.setRoundData(e8(2999), updatedAt);
      await expect(router.getPrice(asset))
        .to.be.revertedWithCustomError(router, "StalePrice")
        .withArgs(asset, await feed8.getAddress(), updatedAt, HEARTBEAT);
      const [price, status] = await router.tryGetPrice(asset);
      expect(status).to.equal(Status.Stale);
      expect(price).to.equal(2999n * WAD);
    });

    it("turns stale when time passes the heartbeat without an update", async () => {
      const { router, asset, feed8 } = await loadFixture(freshRouter);
      await feed8.setAnswer(e8(3001));
      const updatedAt = await time.latest();
      await time.increase(HEARTBEAT + 5);
      await expect(router.getPrice(asset))
        .to.be.revertedWithCustomError(router, "StalePrice")
        .withArgs(asset, await feed8.getAddress(), updatedAt, HEARTBEAT);
      // A new round makes it fresh again.
      await feed8.setAnswer(e8(3002));
      expect(await router.getPrice(asset)).to.equal(3002n * WAD);
    });

    it("reverts NonPositivePrice on a zero answer and reports NonPositive with price 0", async () => {
      const { router, asset, feed8 } = await loadFixture(freshRouter);
      await feed8.setAnswer(0);
      await expect(router.getPrice(asset))
        .to.be.revertedWithCustomError(router, "NonPositivePrice")
        .withArgs(asset, await feed8.getAddress(), 0);
      const [price, status] = await router.tryGetPrice(asset);
      expect(status).to.equal(Status.NonPositive);
      expect(price).to.equal(0n);
    });

    it("reverts NonPositivePrice on a negative answer and reports NonPositive", async () => {
      const { router, asset, feed8 } = await loadFixture(freshRouter);
      await feed8.setAnswer(-e8(5));
      await expect(router.getPrice(asset))
        .to.be.revertedWithCustomError(router, "NonPositivePrice")
        .withArgs(asset, await feed8.getAddress(), -e8(5));
      const [price, status] = await router.tryGetPrice(asset);
      expect(status).to.equal(Status.NonPositive);
      expect(price).to.equal(0n);
    });

    it("reverts FeedNotSet for an unknown asset and reports NotConfigured", async () => {
      const { router } = await loadFixture(freshRouter);
      const unknown = ethers.Wallet.createRandom().address;
      await expect(router.getPrice(unknown)).to.be.revertedWithCustomError(router, "FeedNotSet").withArgs(unknown);
      const [price, status] = await router.tryGetPrice(unknown);
      expect(status).to.equal(Status.NotConfigured);
      expect(price).to.equal(0n);
    });
  });

  describe("secondary source", () => {
    async function withSecondary() {
      const env = await freshRouter();
      // 18-decimal secondary to also exercise mixed decimals; deviation bound 1% (100 bps).
      const secondary = await deployFeed(18, 3000n * WAD);
      await env.router.setFeed(env.asset, env.feed8, HEARTBEAT, secondary, 2 * HEARTBEAT, 100);
      return { ...env, secondary };
    }

    it("passes while |primary − secondary| / primary ≤ maxDeviationBps (boundary included)", async () => {
      const { router, asset, secondary } = await loadFixture(withSecondary);
      // 3030 vs 3000: exactly 100 bps.
      await secondary.setAnswer(3030n * WAD);
      expect(await router.getPrice(asset)).to.equal(3000n * WAD);
      expect((await router.tryGetPrice(asset))[1]).to.equal(Status.Ok);
      // 2970 vs 3000: exactly 100 bps on the other side.
      await secondary.setAnswer(2970n * WAD);
      expect(await router.getPrice(asset)).to.equal(3000n * WAD);
      expect((await router.tryGetPrice(asset))[1]).to.equal(Status.Ok);
    });

    it("reverts PriceDeviation beyond the bound and reports Deviation with the primary price", async () => {
      const { router, asset, secondary } = await loadFixture(withSecondary);
      // 3030.30 vs 3000: 101 bps.
      const secondaryWad = wadCents(303_030n);
      await secondary.setAnswer(secondaryWad);
      await expect(router.getPrice(asset))
        .to.be.revertedWithCustomError(router, "PriceDeviation")
        .withArgs(asset, 3000n * WAD, secondaryWad, 100);
      const [price, status] = await router.tryGetPrice(asset);
      expect(status).to.equal(Status.Deviation);
      expect(price).to.equal(3000n * WAD);

      const low = wadCents(296_900n); // 2969: 103 bps below
      await secondary.setAnswer(low);
      await expect(router.getPrice(asset))
        .to.be.revertedWithCustomError(router, "PriceDeviation")
        .withArgs(asset, 3000n * WAD, low, 100);
    });

    it("rejects a deviation only a fraction of a basis point beyond the bound", async () => {
      const { router, asset, secondary } = await loadFixture(withSecondary);
      // 3030.01 vs 3000: |Δ| / primary = 30.01 / 3000 = 100.033 bps > 100 bps allowed.
      const secondaryWad = wadCents(303_001n);
      expect((secondaryWad - 3000n * WAD) * 10_000n > 100n * 3000n * WAD).to.equal(true);
      await secondary.setAnswer(secondaryWad);
      await expect(router.getPrice(asset))
        .to.be.revertedWithCustomError(router, "PriceDeviation")
        .withArgs(asset, 3000n * WAD, secondaryWad, 100);
      expect((await router.tryGetPrice(asset))[1]).to.equal(Status.Deviation);
    });

    it("reports a stale secondary (StalePrice on the secondary feed, status Stale)", async () => {
      const { router, asset, feed8, secondary } = await loadFixture(withSecondary);
      const now = await time.latest();
      const updatedAt = now - 2 * HEARTBEAT - 10;
      await secondary.setRoundData(3000n * WAD, updatedAt);
      await feed8.setAnswer(e8(3000)); // primary fresh
      await expect(router.getPrice(asset))
        .to.be.revertedWithCustomError(router, "StalePrice")
        .withArgs(asset, await secondary.getAddress(), updatedAt, 2 * HEARTBEAT);
      const [price, status] = await router.tryGetPrice(asset);
      expect(status).to.equal(Status.Stale);
      expect(price).to.equal(3000n * WAD);
    });

    it("uses the secondary's own heartbeat", async () => {
      const { router, asset, secondary } = await loadFixture(withSecondary);
      const now = await time.latest();
      // Older than the primary heartbeat but within the secondary's (2 h).
      await secondary.setRoundData(3000n * WAD, now - HEARTBEAT - 100);
      expect(await router.getPrice(asset)).to.equal(3000n * WAD);
    });

    it("reports a non-positive secondary", async () => {
      const { router, asset, secondary } = await loadFixture(withSecondary);
      await secondary.setAnswer(-1);
      await expect(router.getPrice(asset))
        .to.be.revertedWithCustomError(router, "NonPositivePrice")
        .withArgs(asset, await secondary.getAddress(), -1);
      const [price, status] = await router.tryGetPrice(asset);
      expect(status).to.equal(Status.NonPositive);
      expect(price).to.equal(3000n * WAD);
    });

    it("stores the configuration, and replacing it without a secondary drops the deviation guard", async () => {
      const { router, asset, feed8, secondary } = await loadFixture(withSecondary);
      const f = await router.feedOf(asset);
      expect(f.primary).to.equal(await feed8.getAddress());
      expect(f.primaryHeartbeat).to.equal(BigInt(HEARTBEAT));
      expect(f.primaryDecimals).to.equal(8n);
      expect(f.maxDeviationBps).to.equal(100n);
      expect(f.secondary).to.equal(await secondary.getAddress());
      expect(f.secondaryHeartbeat).to.equal(BigInt(2 * HEARTBEAT));
      expect(f.secondaryDecimals).to.equal(18n);

      await secondary.setAnswer(1n); // wildly off
      await expect(router.getPrice(asset)).to.be.revertedWithCustomError(router, "PriceDeviation");
      // Secondary heartbeat and deviation are ignored (stored as 0) when there is no secondary.
      await router.setFeed(asset, feed8, HEARTBEAT, ethers.ZeroAddress, 999, 5);
      const g = await router.feedOf(asset);
      expect(g.secondary).to.equal(ethers.ZeroAddress);
      expect(g.secondaryHeartbeat).to.equal(0n);
      expect(g.maxDeviationBps).to.equal(0n);
      expect(await router.getPrice(asset)).to.equal(3000n * WAD);
    });
  });

  describe("sequencer-uptime feed", () => {
    const GRACE = 3_600;

    async function withSequencer() {
      const env = await freshRouter();
      // Long primary heartbeat so that time travel does not make the primary stale.
      await env.router.setFeed(env.asset, env.feed8, 2 * DAY, ethers.ZeroAddress, 0, 0);
      const sequencer = await deployFeed(0, 0n);
      const startedAt = (await time.latest()) - 10 * GRACE;
      await sequencer.setRoundData(0, startedAt); // up for a long time
      await env.router.setSequencerFeed(sequencer, GRACE);
      return { ...env, sequencer };
    }

    it("passes while the sequencer has been up longer than the grace period", async () => {
      const { router, asset } = await loadFixture(withSequencer);
      expect(await router.getPrice(asset)).to.equal(3000n * WAD);
      expect((await router.tryGetPrice(asset))[1]).to.equal(Status.Ok);
    });

    it("reverts SequencerDown when the feed answers 1, and reports SequencerDown with the price", async () => {
      const { router, asset, sequencer } = await loadFixture(withSequencer);
      await sequencer.setAnswer(1);
      await expect(router.getPrice(asset)).to.be.revertedWithCustomError(router, "SequencerDown");
      const [price, status] = await router.tryGetPrice(asset);
      expect(status).to.equal(Status.SequencerDown);
      expect(price).to.equal(3000n * WAD);
    });

    it("reverts SequencerGracePeriod within the grace period after restart, then recovers", async () => {
      const { router, asset, sequencer } = await loadFixture(withSequencer);
      await sequencer.setAnswer(1);
      await sequencer.setAnswer(0); // back up now
      const startedAt = await time.latest();
      await expect(router.getPrice(asset))
        .to.be.revertedWithCustomError(router, "SequencerGracePeriod")
        .withArgs(startedAt, GRACE);
      expect((await router.tryGetPrice(asset))[1]).to.equal(Status.SequencerGracePeriod);

      await time.increase(GRACE - 30);
      await expect(router.getPrice(asset))
        .to.be.revertedWithCustomError(router, "SequencerGracePeriod")
        .withArgs(startedAt, GRACE);

      await time.increase(60);
      expect(await router.getPrice(asset)).to.equal(3000n * WAD);
      const [price, status] = await router.tryGetPrice(asset);
      expect(status).to.equal(Status.Ok);
      expect(price).to.equal(3000n * WAD);
    });

    it("the sequencer status takes precedence over a bad primary in tryGetPrice", async () => {
      const { router, asset, sequencer, feed8 } = await loadFixture(withSequencer);
      await feed8.setAnswer(0);
      await sequencer.setAnswer(1);
      expect((await router.tryGetPrice(asset))[1]).to.equal(Status.SequencerDown);
      await sequencer.setAnswer(0);
      expect((await router.tryGetPrice(asset))[1]).to.equal(Status.SequencerGracePeriod);
    });

    it("a zero feed address disables the check; grace above 1 day is rejected; emits SequencerFeedSet", async () => {
      const { router, asset, sequencer, stranger } = await loadFixture(withSequencer);
      await sequencer.setAnswer(1);
      await expect(router.getPrice(asset)).to.be.revertedWithCustomError(router, "SequencerDown");
      await expect(router.setSequencerFeed(ethers.ZeroAddress, 0))
        .to.emit(router, "SequencerFeedSet")
        .withArgs(ethers.ZeroAddress, 0);
      expect(await router.getPrice(asset)).to.equal(3000n * WAD);

      await expect(router.setSequencerFeed(sequencer, DAY + 1))
        .to.be.revertedWithCustomError(router, "InvalidHeartbeat")
        .withArgs(DAY + 1);
      await expect(router.setSequencerFeed(sequencer, DAY))
        .to.emit(router, "SequencerFeedSet")
        .withArgs(await sequencer.getAddress(), DAY);
      expect(await router.sequencerGracePeriod()).to.equal(BigInt(DAY));
      await expect(router.connect(stranger).setSequencerFeed(sequencer, 60))
        .to.be.revertedWithCustomError(router, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, await router.RISK_ADMIN_ROLE());
    });
  });

  describe("setFeed bounds and roles", () => {
    it("rejects heartbeats below 60 s and above 2 days, for the primary and the secondary", async () => {
      const { router, asset, feed8 } = await loadFixture(freshRouter);
      const secondary = await deployFeed(8, e8(3000));
      await expect(router.setFeed(asset, feed8, 59, ethers.ZeroAddress, 0, 0))
        .to.be.revertedWithCustomError(router, "InvalidHeartbeat")
        .withArgs(59);
      await expect(router.setFeed(asset, feed8, 2 * DAY + 1, ethers.ZeroAddress, 0, 0))
        .to.be.revertedWithCustomError(router, "InvalidHeartbeat")
        .withArgs(2 * DAY + 1);
      await expect(router.setFeed(asset, feed8, HEARTBEAT, secondary, 59, 100))
        .to.be.revertedWithCustomError(router, "InvalidHeartbeat")
        .withArgs(59);
      await expect(router.setFeed(asset, feed8, HEARTBEAT, secondary, 2 * DAY + 1, 100))
        .to.be.revertedWithCustomError(router, "InvalidHeartbeat")
        .withArgs(2 * DAY + 1);
      // The bounds themselves are accepted.
      await expect(router.setFeed(asset, feed8, 60, secondary, 2 * DAY, 100)).to.emit(router, "FeedSet");
      await expect(router.setFeed(asset, feed8, 2 * DAY, secondary, 60, 100)).to.emit(router, "FeedSet");
      const f = await router.feedOf(asset);
      expect(f.primaryHeartbeat).to.equal(BigInt(2 * DAY));
      expect(f.secondaryHeartbeat).to.equal(60n);
    });

    it("rejects a deviation of 0 or above 2000 bps when a secondary is set", async () => {
      const { router, asset, feed8 } = await loadFixture(freshRouter);
      const secondary = await deployFeed(8, e8(3000));
      await expect(router.setFeed(asset, feed8, HEARTBEAT, secondary, HEARTBEAT, 0))
        .to.be.revertedWithCustomError(router, "InvalidDeviation")
        .withArgs(0);
      await expect(router.setFeed(asset, feed8, HEARTBEAT, secondary, HEARTBEAT, 2001))
        .to.be.revertedWithCustomError(router, "InvalidDeviation")
        .withArgs(2001);
      await expect(router.setFeed(asset, feed8, HEARTBEAT, secondary, HEARTBEAT, 2000)).to.emit(router, "FeedSet");
      await expect(router.setFeed(asset, feed8, HEARTBEAT, secondary, HEARTBEAT, 1)).to.emit(router, "FeedSet");
      expect((await router.feedOf(asset)).maxDeviationBps).to.equal(1n);
    });

    it("rejects zero addresses for the asset, the primary and the constructor admin", async () => {
      const { router, asset, feed8 } = await loadFixture(freshRouter);
      await expect(
        router.setFeed(ethers.ZeroAddress, feed8, HEARTBEAT, ethers.ZeroAddress, 0, 0),
      ).to.be.revertedWithCustomError(router, "ZeroAddress");
      await expect(
        router.setFeed(asset, ethers.ZeroAddress, HEARTBEAT, ethers.ZeroAddress, 0, 0),
      ).to.be.revertedWithCustomError(router, "ZeroAddress");
      const factory = await ethers.getContractFactory("OracleRouter");
      await expect(factory.deploy(ethers.ZeroAddress)).to.be.revertedWithCustomError(factory, "ZeroAddress");
    });

    it("only RISK_ADMIN may set feeds", async () => {
      const { router, admin, stranger, asset, feed8 } = await loadFixture(freshRouter);
      const role = await router.RISK_ADMIN_ROLE();
      await expect(router.connect(stranger).setFeed(asset, feed8, HEARTBEAT, ethers.ZeroAddress, 0, 0))
        .to.be.revertedWithCustomError(router, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, role);
      await router.connect(admin).grantRole(role, stranger.address);
      await expect(router.connect(stranger).setFeed(asset, feed8, 120, ethers.ZeroAddress, 0, 0)).to.emit(
        router,
        "FeedSet",
      );
      expect((await router.feedOf(asset)).primaryHeartbeat).to.equal(120n);
    });

    it("emits FeedSet with the configuration", async () => {
      const { router, feed8 } = await loadFixture(freshRouter);
      const secondary = await deployFeed(6, 3000n * 10n ** 6n);
      const asset = ethers.Wallet.createRandom().address;
      await expect(router.setFeed(asset, feed8, 600, secondary, 900, 250))
        .to.emit(router, "FeedSet")
        .withArgs(asset, await feed8.getAddress(), 600, await secondary.getAddress(), 900, 250);
      await expect(router.setFeed(asset, feed8, 600, ethers.ZeroAddress, 900, 250))
        .to.emit(router, "FeedSet")
        .withArgs(asset, await feed8.getAddress(), 600, ethers.ZeroAddress, 0, 0);
    });
  });

  describe("through the vault", () => {
    it("a stale ETH feed makes trade revert with StalePrice; USDC deposits still work", async () => {
      const w = await loadFixture(deployWorld);
      const [t] = w.traders;
      const usdcAddr = await w.usdc.getAddress();
      const weth = await w.weth.getAddress();
      await w.vault.connect(t).deposit(usdcAddr, usdc(10_000));

      const updatedAt = (await time.latest()) - HEARTBEAT - 100;
      await w.ethFeed.setRoundData(e8(3000), updatedAt);
      await expect(w.vault.connect(t).trade(ETH_USD, WAD, ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.oracle, "StalePrice")
        .withArgs(weth, await w.ethFeed.getAddress(), updatedAt, HEARTBEAT);

      const before = await w.vault.quoteBalance(t.address);
      await expect(w.vault.connect(t).deposit(usdcAddr, usdc(500)))
        .to.emit(w.vault, "Deposited")
        .withArgs(t.address, usdcAddr, t.address, usdc(500));
      expect(await w.vault.quoteBalance(t.address)).to.equal(before + usdc(500) * 10n ** 12n);
      // Without a position, USDC can also be withdrawn.
      await expect(w.vault.connect(t).withdraw(usdcAddr, usdc(100))).to.changeTokenBalance(w.usdc, t, usdc(100));
    });

    it("the heartbeat boundary is inclusive: updatedAt + heartbeat == now trades, one second later reverts", async () => {
      const w = await loadFixture(deployWorld);
      const [t] = w.traders;
      await w.vault.connect(t).deposit(await w.usdc.getAddress(), usdc(10_000));
      const t0 = (await time.latest()) + 100;
      await w.ethFeed.setRoundData(e8(3000), t0 - HEARTBEAT);
      await time.setNextBlockTimestamp(t0);
      await expect(w.vault.connect(t).trade(ETH_USD, WAD, ethers.MaxUint256)).to.emit(w.vault, "Traded");
      await time.setNextBlockTimestamp(t0 + 1);
      await expect(w.vault.connect(t).trade(ETH_USD, WAD, ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.oracle, "StalePrice")
        .withArgs(await w.weth.getAddress(), await w.ethFeed.getAddress(), t0 - HEARTBEAT, HEARTBEAT);
    });

    it("a zero ETH answer makes trade revert with NonPositivePrice; USDC deposits still work", async () => {
      const w = await loadFixture(deployWorld);
      const [t] = w.traders;
      const usdcAddr = await w.usdc.getAddress();
      await w.ethFeed.setAnswer(0);
      await expect(w.vault.connect(t).trade(ETH_USD, WAD, ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.oracle, "NonPositivePrice")
        .withArgs(await w.weth.getAddress(), await w.ethFeed.getAddress(), 0);
      await expect(w.vault.connect(t).deposit(usdcAddr, usdc(1_000))).to.changeTokenBalances(
        w.usdc,
        [t, w.vault],
        [-usdc(1_000), usdc(1_000)],
      );
      expect(await w.vault.quoteBalance(t.address)).to.equal(1_000n * WAD);
    });

    it("a negative ETH answer makes trade (and closing) revert with NonPositivePrice; USDC deposits still work", async () => {
      const w = await loadFixture(deployWorld);
      const [t] = w.traders;
      const usdcAddr = await w.usdc.getAddress();
      await w.vault.connect(t).deposit(usdcAddr, usdc(10_000));
      await w.vault.connect(t).trade(ETH_USD, WAD, ethers.MaxUint256);
      await w.ethFeed.setAnswer(-e8(3000));
      await expect(w.vault.connect(t).trade(ETH_USD, -WAD, 0))
        .to.be.revertedWithCustomError(w.oracle, "NonPositivePrice")
        .withArgs(await w.weth.getAddress(), await w.ethFeed.getAddress(), -e8(3000));
      await expect(w.vault.connect(t).trade(ETH_USD, WAD, ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.oracle, "NonPositivePrice")
        .withArgs(anyValue, anyValue, -e8(3000));
      const before = await w.vault.quoteBalance(t.address);
      await w.vault.connect(t).deposit(usdcAddr, usdc(2_000));
      expect(await w.vault.quoteBalance(t.address)).to.equal(before + 2_000n * WAD);
      // The BTC market, on its own feed, is unaffected.
      expect(await w.oracle.getPrice(await w.wbtc.getAddress())).to.equal(60_000n * WAD);
    });
  });
});
