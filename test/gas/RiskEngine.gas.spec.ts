import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { artifacts } from "hardhat";
import type { ContractTransactionResponse } from "ethers";
import { loadFixture } from "../shared/load-fixture";
import {
  anyPrice,
  BTC_USD,
  deployWorld,
  ETH_USD,
  setEthPrice,
  usdc,
  WAD,
  wad,
  type World,
} from "../shared/local-world";
import { deployDynamicWorld } from "../shared/dynamic-world";
import { GasSnapshot } from "../shared/gas";

const EIP170_LIMIT = 24_576;
const SIZES_PATH = path.join(__dirname, "..", "..", "bytecode-sizes.json");
/** Acceptance: an accepted oracle update, EWMA and smoothed price included. */
const UPDATE_PRICE_CEILING = 60_000;
/** Acceptance: extra cost of a trade's margin check with the dynamic engine. */
const TRADE_OVERHEAD_CEILING = 15_000;

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  return Number(receipt.gasUsed);
}

/**
 * The scenario of test/gas/PerpVault.gas.spec.ts up to its "open" and "modify" trades: background
 * open interest from another trader, the measured trader's deposit and top-up, a volatile-collateral
 * deposit, then a 20 ETH open and a 5 ETH increase. Returns the gas of the open and the modify.
 */
async function tradeScenario(w: World): Promise<{ open: number; modify: number }> {
  const usdcAddr = await w.usdc.getAddress();
  const [t, u, , bg] = w.traders;
  await w.vault.connect(bg).deposit(usdcAddr, usdc(500_000));
  await w.vault.connect(bg).trade(ETH_USD, 50n * WAD, anyPrice(1n));
  await w.vault.connect(bg).trade(BTC_USD, -2n * WAD, anyPrice(-1n));
  await w.vault.connect(t).deposit(usdcAddr, usdc(50_000));
  await w.vault.connect(t).deposit(usdcAddr, usdc(1_000));
  await w.vault.connect(u).deposit(await w.weth.getAddress(), 10n * WAD);
  const open = await gasOf(w.vault.connect(t).trade(ETH_USD, 20n * WAD, anyPrice(1n)));
  const modify = await gasOf(w.vault.connect(t).trade(ETH_USD, 5n * WAD, anyPrice(1n)));
  return { open, modify };
}

describe("gas: RiskEngine", () => {
  const snap = new GasSnapshot();

  after(() => snap.flush());

  it(`RiskEngine.updatePrice: an accepted oracle update is within ${UPDATE_PRICE_CEILING.toLocaleString("en")}`, async () => {
    const w = await loadFixture(deployDynamicWorld);
    // Steady state: the market has accepted updates before.
    await setEthPrice(w, 3_010);
    await w.engine.updatePrice(ETH_USD);
    await setEthPrice(w, 2_995);
    const gas = await snap.record("RiskEngine.updatePrice", w.engine.updatePrice(ETH_USD));
    const state = await w.engine.riskState(ETH_USD);
    expect(state.lastPriceWad, "the measured update was accepted").to.equal(wad(2_995));
    expect(gas).to.be.lte(UPDATE_PRICE_CEILING);
    // The same round again is refused without a write; a 20% move exercises the volatility term.
    await snap.record("RiskEngine.updatePrice (no new round)", w.engine.updatePrice(ETH_USD));
    await setEthPrice(w, 2_396);
    const volatile = await snap.record("RiskEngine.updatePrice (volatile)", w.engine.updatePrice(ETH_USD));
    expect((await w.engine.riskState(ETH_USD)).lastPriceWad).to.equal(wad(2_396));
    expect(volatile).to.be.lte(UPDATE_PRICE_CEILING);
  });

  it(`a trade costs at most ${TRADE_OVERHEAD_CEILING.toLocaleString("en")} more with the dynamic engine than with the static one`, async () => {
    const staticGas = await tradeScenario(await loadFixture(deployWorld));
    const w = await loadFixture(deployDynamicWorld);
    expect(await w.vault.riskEngine()).to.equal(await w.engine.getAddress());
    const dynamicGas = await tradeScenario(w);
    snap.recordValue("PerpVault.trade (open, dynamic risk)", dynamicGas.open);
    snap.recordValue("PerpVault.trade (modify, dynamic risk)", dynamicGas.modify);
    console.log(
      `      static open ${staticGas.open}, modify ${staticGas.modify}; ` +
        `dynamic open ${dynamicGas.open} (+${dynamicGas.open - staticGas.open}), ` +
        `modify ${dynamicGas.modify} (+${dynamicGas.modify - staticGas.modify})`,
    );
    expect(dynamicGas.open).to.be.lte(staticGas.open + TRADE_OVERHEAD_CEILING);
    expect(dynamicGas.modify).to.be.lte(staticGas.modify + TRADE_OVERHEAD_CEILING);
  });

  it("records the RiskEngine bytecode size, under the EIP-170 limit", async () => {
    const artifact = await artifacts.readArtifact("RiskEngine");
    const size = (artifact.deployedBytecode.length - 2) / 2;
    expect(size).to.be.lessThan(EIP170_LIMIT);
    const existing = fs.existsSync(SIZES_PATH) ? (JSON.parse(fs.readFileSync(SIZES_PATH, "utf8")) as object) : {};
    fs.writeFileSync(SIZES_PATH, JSON.stringify({ ...existing, RiskEngine: size }, null, 2) + "\n");
  });
});
