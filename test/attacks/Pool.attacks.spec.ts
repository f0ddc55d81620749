import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "../shared/load-fixture";
import { ETH_USD, WAD, usdc, deployWorld, deployCoreOn } from "../shared/local-world";
import { expectSolvent } from "./helpers";

/**
 * The ERC-4626 pool: the first-depositor inflation attack (donation and through the pool's own
 * gains), and share rounding on round trips. `totalAssets` reads the vault's ledger, and the
 * share token carries a virtual offset of 10^6.
 */

/** An empty core deployment on a 6-decimal quote token, ETH-USD listed, nobody deposited yet. */
async function emptyCore() {
  const [admin, attacker, victim] = await ethers.getSigners();
  const quote = await ethers.deployContract("MockERC20", ["USD Coin", "USDC", 6]);
  const { vault, pool } = await deployCoreOn(quote);
  for (const who of [attacker, victim]) {
    await quote.mint(who.address, usdc(1_000_000));
    await quote.connect(who).approve(await vault.getAddress(), ethers.MaxUint256);
    await quote.connect(who).approve(await pool.getAddress(), ethers.MaxUint256);
  }
  return { admin, attacker, victim, quote, vault, pool };
}

describe("attacks: ERC-4626 pool", () => {
  it("attack: ERC-4626 inflation by donation: the first depositor's $200k donation moves nothing, the victim loses at most one unit", async () => {
    const c = await loadFixture(emptyCore);
    await c.pool.connect(c.attacker).deposit(1n, c.attacker.address); // 1e-6 USDC
    expect(await c.pool.balanceOf(c.attacker.address)).to.equal(10n ** 6n); // the virtual offset
    await c.quote.connect(c.attacker).transfer(await c.vault.getAddress(), usdc(100_000));
    await c.quote.connect(c.attacker).transfer(await c.pool.getAddress(), usdc(100_000));
    expect(await c.pool.totalAssets()).to.equal(1n); // reads the ledger, not balances
    const deposit = usdc(10_000);
    await c.pool.connect(c.victim).deposit(deposit, c.victim.address);
    const victimShares = await c.pool.balanceOf(c.victim.address);
    expect(victimShares).to.be.greaterThan(0n);
    const before = await c.quote.balanceOf(c.victim.address);
    await c.pool.connect(c.victim).redeem(victimShares, c.victim.address, c.victim.address);
    const got = (await c.quote.balanceOf(c.victim.address)) - before;
    expect(got).to.be.within(deposit - 1n, deposit);
    // The attacker gets back at most its one unit: the donation is lost to it.
    const attackerBefore = await c.quote.balanceOf(c.attacker.address);
    await c.pool.connect(c.attacker).redeem(10n ** 6n, c.attacker.address, c.attacker.address);
    expect((await c.quote.balanceOf(c.attacker.address)) - attackerBefore).to.be.at.most(1n);
    await expectSolvent(c.vault, [], { [(await c.quote.getAddress()).toLowerCase()]: 100_000n * WAD });
  });

  it("attack: ERC-4626 inflation through the pool's own gains: an empty pool lets nobody trade (OI cap = pool × ratio), so its value cannot be pumped", async () => {
    const c = await loadFixture(emptyCore);
    await c.pool.connect(c.attacker).deposit(1n, c.attacker.address);
    await c.vault.connect(c.attacker).deposit(await c.quote.getAddress(), usdc(100_000));
    await expect(
      c.vault.connect(c.attacker).trade(ETH_USD, WAD / 1000n, ethers.MaxUint256),
    ).to.be.revertedWithCustomError(c.vault, "OpenInterestCapExceeded");
    expect(await c.pool.totalAssets()).to.equal(1n);
    // The only other way in, the insurance fund, is not the pool's.
    await c.vault.connect(c.attacker).fundInsurance(usdc(50_000));
    expect(await c.pool.totalAssets()).to.equal(1n);
    await expectSolvent(c.vault);
  });

  it("attack: share rounding: deposit→redeem and mint→withdraw round trips never return more than was paid", async () => {
    const w = await loadFixture(deployWorld);
    const lp = w.lp;
    for (const amount of [1n, 7n, 999_999n, 1_234_567_891n]) {
      const before = await w.usdc.balanceOf(lp.address);
      const sharesBefore = await w.pool.balanceOf(lp.address);
      await w.pool.connect(lp).deposit(amount, lp.address);
      const minted = (await w.pool.balanceOf(lp.address)) - sharesBefore;
      const out = await w.pool.previewRedeem(minted);
      expect(out).to.be.at.most(amount);
      if (out > 0n) await w.pool.connect(lp).redeem(minted, lp.address, lp.address);
      expect(await w.usdc.balanceOf(lp.address), `deposit ${amount}`).to.be.at.most(before);
    }
    for (const shares of [1n, 999_999n, 10n ** 12n + 3n]) {
      const before = await w.usdc.balanceOf(lp.address);
      const paid = await w.pool.previewMint(shares);
      await w.pool.connect(lp).mint(shares, lp.address);
      expect(before - (await w.usdc.balanceOf(lp.address))).to.equal(paid);
      const out = await w.pool.previewRedeem(shares);
      expect(out).to.be.at.most(paid);
      if (out > 0n) await w.pool.connect(lp).redeem(shares, lp.address, lp.address);
      expect(await w.usdc.balanceOf(lp.address), `mint ${shares}`).to.be.at.most(before);
    }
    await expectSolvent(w.vault);
  });
});
