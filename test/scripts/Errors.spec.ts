import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { encodeBytes32String, ErrorFragment, Interface, type ParamType } from "ethers";
import { HardhatPluginError } from "hardhat/plugins";
import { connect, explainRevert, type Bulwark } from "../../lib/client";
import { BreakerLevel } from "../../lib/codec";
import { BulwarkError, decodeRevertData, describeRevert, protocolErrors, shortAddress, unitOf } from "../../lib/errors";
import { defaultAuctionParams } from "../../lib/params";
import { loadFixture } from "../shared/load-fixture";
import { deployWorld, ETH_USD, usdc, WAD, type World } from "../shared/local-world";

/** The local stack in-process, and a client connected to it as a user's script would be. */
async function world(): Promise<{ w: World; b: Bulwark }> {
  const w = await deployWorld();
  const addresses = JSON.stringify({
    vault: await w.vault.getAddress(),
    auctionHouse: await w.auction.getAddress(),
  });
  return { w, b: await connect(hre, { addresses }) };
}

/** The message explainRevert throws for `fn`. */
async function explained(b: Bulwark, what: string, fn: () => Promise<unknown>): Promise<string> {
  try {
    await explainRevert(b, what, fn);
  } catch (e) {
    expect(e).to.be.instanceOf(BulwarkError);
    return (e as Error).message;
  }
  expect.fail(`${what} did not revert`);
}

const panic = (code: number): string =>
  "0x4e487b71" + ethers.AbiCoder.defaultAbiCoder().encode(["uint256"], [code]).slice(2);

describe("connect: a deployment that is not on the chain", () => {
  it("on the in-process network, says to add --network localhost (not that the node restarted)", async () => {
    const addresses = JSON.stringify({ vault: "0x" + "12".repeat(20) });
    let message = "";
    try {
      await connect(hre, { addresses });
    } catch (e) {
      expect(e).to.be.instanceOf(BulwarkError);
      message = (e as Error).message;
    }
    expect(message).to.include("no contract at the vault address");
    expect(message).to.include("add --network localhost");
    expect(message).to.not.include("restarted");
  });
});

describe("lib/errors: reverts as sentences in human units", function () {
  describe("real reverts on the in-process chain, through lib/client's explainRevert", function () {
    it("Undercollateralized: a trade above the account's margin, in dollars", async function () {
      const { w, b } = await loadFixture(world);
      const t = w.traders[0];
      await w.vault.connect(t).deposit(await w.usdc.getAddress(), usdc(1_000));
      const msg = await explained(b, "trade", () => w.vault.connect(t).trade(ETH_USD, 10n * WAD, 4_000n * WAD));
      // 10 ETH at $3,000 needs 5% IM, $1,500; equity is the $1,000 deposit less the fill's costs.
      expect(msg).to.match(
        new RegExp(
          `^trade reverted: ${shortAddress(t.address).replace(".", "\\.")} would be undercollateralized: ` +
            String.raw`equity \$9\d\d\.\d\d is below the \$1,5\d\d\.\d\d of margin required \(Undercollateralized\)$`,
        ),
      );
    });

    it("InsufficientBalance: token amounts with the token's symbol", async function () {
      const { w, b } = await loadFixture(world);
      const t = w.traders[1];
      const token = await w.usdc.getAddress();
      await w.vault.connect(t).deposit(token, usdc(1_000));
      const msg = await explained(b, "withdraw", () => w.vault.connect(t).withdraw(token, usdc(2_500)));
      expect(msg).to.equal(
        `withdraw reverted: ${shortAddress(t.address)} holds 1000 USDC in the vault, ` +
          "less than the 2500 requested (InsufficientBalance)",
      );
    });

    it("ParamOutOfBounds: a setter's bound in the parameter's unit", async function () {
      const { w, b } = await loadFixture(world);
      const curve = await w.curve.getAddress();
      const tail = defaultAuctionParams(curve, { tailSec: 30n });
      expect(await explained(b, "setParams", () => w.auction.connect(w.admin).setParams(tail))).to.equal(
        "setParams reverted: tail must be between 60 s (1 min) and 86,400 s (1 d): got 30 s (ParamOutOfBounds)",
      );
      const floor = defaultAuctionParams(curve, { floorWad: WAD / 10n, cuspWad: WAD / 10n });
      expect(await explained(b, "setParams", () => w.auction.connect(w.admin).setParams(floor))).to.match(
        /^setParams reverted: floor must be between 50% and 100%: got 10% \(ParamOutOfBounds\)$/,
      );
    });

    it("AccessControlUnauthorizedAccount: the missing role by name", async function () {
      const { w, b } = await loadFixture(world);
      const t = w.traders[2];
      const p = defaultAuctionParams(await w.curve.getAddress());
      expect(await explained(b, "setParams", () => w.auction.connect(t).setParams(p))).to.equal(
        `setParams reverted: ${shortAddress(t.address)} does not hold RISK_ADMIN_ROLE (AccessControlUnauthorizedAccount)`,
      );
    });

    it("BreakerActive: the market by name and the level by the docs' name", async function () {
      const { w, b } = await loadFixture(world);
      const t = w.traders[3];
      await w.vault.connect(t).deposit(await w.usdc.getAddress(), usdc(100_000));
      await w.breaker.connect(w.admin).trip(ETH_USD, BreakerLevel.LiquidationPause);
      expect(await explained(b, "trade", () => w.vault.connect(t).trade(ETH_USD, WAD, 4_000n * WAD))).to.equal(
        "trade reverted: the circuit breaker of ETH-USD is at level 2 (liquidation pause), which does not allow this (BreakerActive)",
      );
    });

    it("StalePrice: the asset's symbol, the feed's last update as a date and the heartbeat", async function () {
      const { w, b } = await loadFixture(world);
      const t = w.traders[4];
      await w.vault.connect(t).deposit(await w.usdc.getAddress(), usdc(100_000));
      const [, , , updatedAt] = await w.ethFeed.latestRoundData();
      await time.increase(2 * 3600);
      const msg = await explained(b, "trade", () => w.vault.connect(t).trade(ETH_USD, WAD, 4_000n * WAD));
      const at = new Date(Number(updatedAt) * 1000).toISOString().replace(".000Z", "Z");
      expect(msg).to.equal(
        `trade reverted: the price of WETH is stale: its feed ${shortAddress(await w.ethFeed.getAddress())} ` +
          `last updated at ${at}, heartbeat 3,600 s (1 h) (StalePrice)`,
      );
    });

    it("NotLiquidatable: a kick of a healthy account, equity against maintenance margin", async function () {
      const { w, b } = await loadFixture(world);
      const t = w.traders[5];
      await w.vault.connect(t).deposit(await w.usdc.getAddress(), usdc(1_000));
      expect(await explained(b, "kick", () => w.auction.connect(w.liquidator).kick(t.address))).to.equal(
        `kick reverted: ${shortAddress(t.address)} is not liquidatable: equity $1,000.00 is at or above ` +
          "its maintenance margin $0.00 (NotLiquidatable)",
      );
    });
  });

  describe("decodeRevertData and describeRevert", function () {
    it("names Panic codes", function () {
      expect(decodeRevertData(panic(0x11)).sentence).to.equal("arithmetic overflow/underflow (Panic 0x11)");
      expect(decodeRevertData(panic(0x12)).sentence).to.equal("division or modulo by zero (Panic 0x12)");
      expect(decodeRevertData(panic(0x32)).sentence).to.equal("array index out of bounds (Panic 0x32)");
      expect(decodeRevertData(panic(0x99)).sentence).to.equal("unknown panic code (Panic 0x99)");
    });

    it("reads Error(string), empty data and unknown selectors", function () {
      const err = new Interface(["error Error(string)"]).encodeErrorResult("Error", ["no entry"]);
      expect(decodeRevertData(err)).to.deep.include({ name: "Error", sentence: "no entry" });
      expect(decodeRevertData("0x").sentence).to.equal("reverted without a reason");
      expect(decodeRevertData("0xdeadbeef" + "00".repeat(32)).sentence).to.equal(
        "unknown error 0xdeadbeef (36 bytes of revert data)",
      );
      // A known selector with undecodable arguments is reported as unknown, not thrown.
      const selector = protocolErrors().getError("Undercollateralized")!.selector;
      expect(decodeRevertData(selector).name).to.equal("unknown");
    });

    it("falls back to Name(arg=value, …) in human units", function () {
      const data = protocolErrors().encodeErrorResult("InvalidMarginParams", [
        encodeBytes32String("ETH-USD"),
        500,
        600,
      ]);
      expect(decodeRevertData(data).sentence).to.equal(
        "InvalidMarginParams(marketId=ETH-USD, baseImrBps=500 bps (5%), baseMmrBps=600 bps (6%))",
      );
    });

    it("decodes every custom error of the protocol without an undefined or a raw WAD", function () {
      const sample = (p: ParamType): unknown => {
        if (p.type === "address") return "0x14dc79964da2c08b23698b3d3cc7ca32193d9955";
        if (p.type === "bytes32") return encodeBytes32String("ETH-USD");
        if (p.type === "bool") return true;
        if (p.type.startsWith("int")) return -1234n * WAD;
        if (p.type === "uint8") return 2n;
        const small: Record<string, bigint> = { count: 7n, bps: 500n, seconds: 900n, time: 1_700_000_000n };
        return small[unitOf(p.name)] ?? 1234n * WAD;
      };
      let n = 0;
      protocolErrors().forEachError((f: ErrorFragment) => {
        const d = decodeRevertData(protocolErrors().encodeErrorResult(f, f.inputs.map(sample)));
        expect(d.name, f.format()).to.equal(f.name);
        expect(d.sentence, f.format()).to.not.match(/undefined|\d{16}/);
        n++;
      });
      expect(n).to.be.greaterThan(70);
    });

    it("explains a value ethers cannot encode, and passes other messages through", function () {
      const iface = new Interface(["function trip(bytes32 market, uint8 toLevel)"]);
      let thrown: unknown;
      try {
        iface.encodeFunctionData("trip", [ETH_USD, 300]);
      } catch (e) {
        thrown = e;
      }
      expect(describeRevert(thrown)).to.match(/^a value for .* is out of the range the contract accepts/);
      expect(describeRevert(new Error("fetch failed\n    at x"))).to.equal("fetch failed");
    });

    it("BulwarkError is a HardhatPluginError (one line from Hardhat) and still a BulwarkError", function () {
      const e = new BulwarkError("price must not be zero");
      expect(e).to.be.instanceOf(BulwarkError);
      expect(HardhatPluginError.isHardhatPluginError(e)).to.equal(true);
      expect([e.name, e.message, e.pluginName]).to.deep.equal(["BulwarkError", "price must not be zero", "bulwark"]);
    });
  });
});
