import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { buildCore } from "./core";

/**
 * The Bulwark contracts, wired, with no markets listed. For networks where the quote token exists.
 *
 * Parameters (module id `BulwarkCore`):
 * - `quoteToken`: address of the quote token (e.g. USDC). Required.
 * - `admin`: holder of DEFAULT_ADMIN and RISK_ADMIN on every contract (a TimelockController in
 *   production). Defaults to the deployer.
 * - `lpName`, `lpSymbol`: the pool share token's name and symbol.
 */
export default buildModule("BulwarkCore", (m) => {
  const {
    initialized: _initialized,
    auctionWired: _auctionWired,
    breakerWired: _breakerWired,
    ...contracts
  } = buildCore(m, m.getParameter<string>("quoteToken"));
  void _initialized;
  void _auctionWired;
  void _breakerWired;
  return contracts;
});
