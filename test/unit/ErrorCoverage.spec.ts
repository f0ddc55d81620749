import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { artifacts } from "hardhat";

/**
 * Every custom error a Bulwark contract can raise must be asserted somewhere in the suite with
 * `revertedWithCustomError(<contract>, "<Error>")`. This spec lists the errors from the compiled
 * ABIs of the production contracts and fails on any that no test names.
 */
const PRODUCTION = [
  "PerpVault",
  "VaultAdmin",
  "VaultLogic",
  "LiquidityPool",
  "InsuranceFund",
  "OracleRouter",
  "StaticRiskEngine",
  "RiskEngine",
  "AuctionHouse",
  "CircuitBreaker",
  "LinearDecrease",
  "StairstepExponentialDecrease",
  "ExponentialDecrease",
  "UniswapFlashTaker",
];

/** Errors declared by libraries we build on, exercised by their own suites. */
const INHERITED = new Set([
  "AccessControlBadConfirmation",
  "ReentrancyGuardReentrantCall",
  "SafeCastOverflowedIntDowncast",
  "SafeCastOverflowedUintDowncast",
  "SafeCastOverflowedIntToUint",
  "SafeCastOverflowedUintToInt",
  "SafeERC20FailedOperation",
  "ERC20InsufficientAllowance",
  "ERC20InsufficientBalance",
  "ERC20InvalidApprover",
  "ERC20InvalidReceiver",
  "ERC20InvalidSender",
  "ERC20InvalidSpender",
  "ERC4626ExceededMaxDeposit",
  "ERC4626ExceededMaxMint",
  "ERC4626ExceededMaxRedeem",
  "FullMulDivFailed",
]);

function testSources(dir: string): string {
  let out = "";
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out += testSources(p);
    else if (entry.name.endsWith(".ts") && entry.name !== path.basename(__filename)) out += fs.readFileSync(p, "utf8");
  }
  return out;
}

describe("custom error coverage", () => {
  it("every custom error of every production contract is asserted by a test", async () => {
    const sources = testSources(path.join(__dirname, ".."));
    const missing: string[] = [];
    let total = 0;
    for (const name of PRODUCTION) {
      const { abi } = await artifacts.readArtifact(name);
      for (const item of abi as { type: string; name?: string }[]) {
        if (item.type !== "error" || !item.name || INHERITED.has(item.name)) continue;
        total++;
        const asserted = new RegExp(`revertedWithCustomError\\([^)]*,\\s*"${item.name}"`).test(sources);
        if (!asserted) missing.push(`${name}.${item.name}`);
      }
    }
    expect(total).to.be.greaterThan(40);
    expect(missing, `errors no test asserts: ${missing.join(", ")}`).to.deep.equal([]);
  });
});
