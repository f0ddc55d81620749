import { expect } from "chai";
import { auctionId, decodeAuctionId, LotKind } from "../../lib/codec";

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
