import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "../shared/load-fixture";
import { ETH_USD, WAD, wad, deployCoreOn } from "../shared/local-world";

/**
 * The whole stack on quote tokens of 6, 8 and 18 decimals, deployed through the `BulwarkCore`
 * Ignition module (the one used on networks where the quote token exists): LP deposit, trader
 * deposit, open, close at a profit, withdraw everything; the token ledger stays exact.
 */
for (const decimals of [6, 8, 18]) {
  describe(`quote token with ${decimals} decimals (BulwarkCore module)`, () => {
    const unit = 10n ** BigInt(decimals);
    const scale = 10n ** BigInt(18 - decimals);

    async function deployCore() {
      const [admin, lp, trader] = await ethers.getSigners();
      const quote = await ethers.deployContract("MockERC20", ["Quote", "Q", decimals]);
      const { feed, vault, pool } = await deployCoreOn(quote);
      await vault.setGlobalParams(wad(0.2), wad(0.25), 5n * WAD);
      for (const who of [lp, trader]) {
        await quote.mint(who.address, 2_000_000n * unit);
        await quote.connect(who).approve(await vault.getAddress(), ethers.MaxUint256);
        await quote.connect(who).approve(await pool.getAddress(), ethers.MaxUint256);
      }
      await pool.connect(lp).deposit(1_000_000n * unit, lp.address);
      return { admin, lp, trader, quote, feed, vault, pool };
    }

    it("deposits, trades, settles and withdraws with an exact ledger", async () => {
      const { trader, quote, feed, vault, pool } = await loadFixture(deployCore);
      const quoteAddr = await quote.getAddress();
      const vaultAddr = await vault.getAddress();
      const ledgerMatches = async () => {
        const onLedger =
          (await vault.quoteBalance(trader.address)) +
          (await vault.poolBalance()) +
          BigInt(await vault.insuranceBalance());
        expect((await quote.balanceOf(vaultAddr)) * scale).to.equal(onLedger);
      };

      expect(await vault.poolBalance()).to.equal(1_000_000n * WAD);
      expect(await pool.decimals()).to.equal(decimals + 6);
      await vault.connect(trader).deposit(quoteAddr, 10_000n * unit);
      expect(await vault.quoteBalance(trader.address)).to.equal(10_000n * WAD);
      await ledgerMatches();

      await vault.connect(trader).trade(ETH_USD, 10n * WAD, ethers.MaxUint256);
      await ledgerMatches();
      await feed.setAnswer(3300n * 10n ** 8n);
      await vault.connect(trader).trade(ETH_USD, -10n * WAD, 0n);
      await ledgerMatches();
      expect(await vault.accountMarkets(trader.address)).to.deep.equal([]);

      // Profit ≈ 10 × $300 less fees; withdraw every whole token unit the account holds.
      const balance = await vault.quoteBalance(trader.address);
      expect(balance).to.be.greaterThan(12_900n * WAD);
      const withdrawable = balance / scale;
      const before = await quote.balanceOf(trader.address);
      await vault.connect(trader).withdraw(quoteAddr, withdrawable);
      expect((await quote.balanceOf(trader.address)) - before).to.equal(withdrawable);
      expect(await vault.quoteBalance(trader.address)).to.equal(balance - withdrawable * scale);
      await ledgerMatches();

      // The LP takes out what is free; the pool paid the trader's profit.
      const maxOut = await pool.maxWithdraw((await ethers.getSigners())[1].address);
      expect(maxOut).to.be.lessThan(1_000_000n * unit);
      expect(maxOut).to.be.greaterThan(996_000n * unit);
    });
  });
}
