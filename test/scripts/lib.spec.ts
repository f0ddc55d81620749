/** The user scripts' input handling, without a chain: amounts, address lookup, rounding helpers. */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { resolveAddresses } from "../../lib/deployment";
import { BulwarkError } from "../../lib/errors";
import { divCeil, divFloor, parseAmount, usd } from "../../lib/units";

const VAULT = "0x610178dA211FEF7D417bC0e6FeD39F05609AD788";
const AUCTION = "0x0B306BF915C4d645ff596e518fAf3F9669b97016";

describe("user scripts: input handling", function () {
  describe("parseAmount", function () {
    it("parses decimals in the token's units", function () {
      expect(parseAmount("amount", "1000", 6)).to.equal(1_000_000_000n);
      expect(parseAmount("amount", "0.5", 8)).to.equal(50_000_000n);
      expect(parseAmount("size", "-2.5", 18, true)).to.equal(-25n * 10n ** 17n);
    });
    for (const [text, decimals, signed, message] of [
      ["1e3", 18, true, 'size must be a signed decimal number (e.g. -2.5): got "1e3"'],
      ["-1", 6, false, 'must be a positive decimal number (e.g. 1000): got "-1"'],
      ["1.0000001", 6, false, 'amount "1.0000001" has more than 6 decimals'],
      ["0", 6, false, "must not be zero"],
      ["abc", 6, false, "must be a positive decimal number"],
    ] as [string, number, boolean, string][]) {
      it(`rejects "${text}"`, function () {
        const what = signed ? "size" : "amount";
        expect(() => parseAmount(what, text, decimals, signed))
          .to.throw(BulwarkError)
          .with.property("message")
          .that.includes(message);
      });
    }
  });

  describe("resolveAddresses", function () {
    let root: string;
    beforeEach(function () {
      root = fs.mkdtempSync(path.join(os.tmpdir(), "bulwark-addr-"));
    });
    afterEach(function () {
      fs.rmSync(root, { recursive: true, force: true });
    });
    const write = (id: string, rec: Record<string, string>, journal?: string): void => {
      const dir = path.join(root, "deploy", "deployments", id);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "deployed_addresses.json"), JSON.stringify(rec));
      if (journal) fs.writeFileSync(path.join(dir, "journal.jsonl"), journal);
    };

    it("reads deploy/deployments/chain-<id>/ and the vault's deployment block from the journal", function () {
      const confirm = { type: "TRANSACTION_CONFIRM", futureId: "BulwarkLocal#PerpVault", receipt: { blockNumber: 17 } };
      write(
        "chain-4242",
        { "BulwarkLocal#PerpVault": VAULT, "BulwarkLocal#AuctionHouse": AUCTION },
        JSON.stringify(confirm) + "\n{torn",
      );
      const a = resolveAddresses({ chainId: 4242, root, env: {} });
      expect(a).to.include({ vault: VAULT, auctionHouse: AUCTION, deployBlock: 17 });
    });

    it("fails with the chain id when no deployment exists", function () {
      expect(() => resolveAddresses({ chainId: 4242, root, env: {} })).to.throw(
        BulwarkError,
        "no deployment found for chain id 4242: deploy/deployments/chain-4242/deployed_addresses.json does not exist",
      );
    });

    it("takes --addresses over BULWARK_ADDRESSES over --deployment-id over the chain id", function () {
      write("chain-1", { "M#PerpVault": AUCTION });
      write("mine", { "M#PerpVault": VAULT });
      const env = { BULWARK_ADDRESSES: JSON.stringify({ vault: VAULT }) };
      expect(resolveAddresses({ chainId: 1, root, env: {}, deploymentId: "mine" }).vault).to.equal(VAULT);
      expect(resolveAddresses({ chainId: 1, root, env: { BULWARK_DEPLOYMENT_ID: "mine" } }).vault).to.equal(VAULT);
      expect(resolveAddresses({ chainId: 1, root, env }).source).to.equal("BULWARK_ADDRESSES");
      expect(resolveAddresses({ chainId: 1, root, env, addresses: "deploy/deployments/chain-1" }).vault).to.equal(
        AUCTION,
      );
    });

    it("rejects bad overrides with the reason", function () {
      write("two", { "A#PerpVault": VAULT, "B#PerpVault": AUCTION });
      const cases: [string, string][] = [
        ["{not json", "--addresses: not valid JSON"],
        ['{"vault":"0x12"}', 'vault is not an address: "0x12"'],
        ['{"pool":"' + VAULT + '"}', 'no PerpVault address (key "vault" or "<Module>#PerpVault")'],
        ["deploy/deployments/two", "several PerpVault addresses (A#PerpVault, B#PerpVault)"],
        ["nowhere.json", "nowhere.json does not exist"],
      ];
      for (const [addresses, message] of cases) {
        expect(() => resolveAddresses({ chainId: 1, root, env: {}, addresses }), addresses).to.throw(
          BulwarkError,
          message,
        );
      }
    });
  });

  it("rounds for display and divides toward the right infinity", function () {
    expect(usd(1_234_565n * 10n ** 15n)).to.equal("$1,234.57");
    expect(usd(-5n * 10n ** 15n)).to.equal("-$0.01");
    expect(divFloor(-7n, 2n)).to.equal(-4n);
    expect(divFloor(7n, 2n)).to.equal(3n);
    expect(divCeil(7n, 2n)).to.equal(4n);
    expect(divCeil(-7n, 2n)).to.equal(-3n);
  });
});
