/**
 * Deploys the world once per scenario: the Bulwark stack (as deploy/modules/core.ts and
 * BulwarkLocal.ts wire it, generalised to the scenario's assets), the dynamic RiskEngine for
 * `full`, one Uniswap v3 pool per asset shaped into the scenario's depth bands, the lens and the
 * agents. Runs with automine on, before the per-block loop.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { ContractFactory, Interface, encodeBytes32String, type Signer } from "ethers";
import FactoryArtifact from "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json";
import PoolArtifact from "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json";
import { AUCTION_BREAKER_DEFAULTS, BREAKER_DEFAULTS } from "../../deploy/modules/core";
import type {
  AuctionHouse,
  CircuitBreaker,
  MockAggregator,
  MockERC20,
  OracleRouter,
  PerpVault,
  RiskEngine,
  SimAgent,
  SimLens,
  StaticRiskEngine,
} from "../../typechain-types";
import type { AssetSpec, Scenario } from "../scenario";
import { Chain } from "./chain";
import { DYNAMIC_ENGINE, STATIC_RATIOS } from "./modes";
import { bandRanges, depthWithinPct, sqrtAtTick, VENUE_FEE, type VenueShape } from "./venue";

export const WAD = 10n ** 18n;
export const QUOTE_DECIMALS = 6;
/** WAD from a USD (or any) decimal number, 6 decimal places. */
export const wad = (x: number): bigint => BigInt(Math.round(x * 1e6)) * 10n ** 12n;
export const fromWad = (x: bigint): number => Number(x) / 1e18;
export const e8 = (x: number): bigint => BigInt(Math.round(x * 1e8));
export const units = (x: number, decimals: number): bigint =>
  (BigInt(Math.round(x * 1e6)) * 10n ** BigInt(decimals)) / 1_000_000n;

/** Auction parameters of deploy/modules/core.ts. */
export const AUCTION = {
  curveStepSec: 12,
  curveCut: 0.998,
  buf: 1,
  tailSec: 1800,
  cusp: 0.9,
  floor: 0.85,
  dustUsd: 100,
  penalty: 0.01,
  chip: 0.001,
  tipUsd: 5,
  rewardCapUsd: 2_000,
  targetHealth: 1,
  maxResets: 2,
  instantBonus: 0.01,
} as const;
export { AUCTION_BREAKER_DEFAULTS };
export const MARKET = { makerFee: 0.0002, takerFee: 0.0006, maxFundingVelocity: 3, maxOiPoolRatio: 1 } as const;
export const COLLATERAL_WEIGHT = 0.85;
export const LIQUIDATION_BUFFER_USD = 5;
/** Skew scale = this USD / price base units (ETH at $3,000: 1,000,000 ETH, as BulwarkLocal). */
export const SKEW_SCALE_USD = 3e9;

export interface AssetWorld {
  spec: AssetSpec;
  index: number;
  symbol: string;
  marketId: string;
  token: MockERC20;
  tokenAddr: string;
  decimals: number;
  feed: MockAggregator;
  feedAddr: string;
  pool: string;
  shape: VenueShape;
  /** USD that moves the venue 1% (the scenario's depth within 1%). */
  depth1PctUsd: number;
}

export interface World {
  chain: Chain;
  admin: string;
  signer: Signer;
  usdc: MockERC20;
  usdcAddr: string;
  vault: PerpVault;
  vaultAddr: string;
  router: OracleRouter;
  staticRisk: StaticRiskEngine;
  dynamicRisk: RiskEngine;
  auction: AuctionHouse;
  auctionAddr: string;
  breaker: CircuitBreaker;
  breakerAddr: string;
  /** Set per run by the mode (`applyBreaker`): the relayer pokes the breaker only when on. */
  breakerEnabled: boolean;
  lens: SimLens;
  lensAddr: string;
  assets: AssetWorld[];
  /** Agents by role; keepers are also bidders. */
  agents: { lp: SimAgent; funder: SimAgent; arb: SimAgent; hedger: SimAgent; momentum: SimAgent; keepers: SimAgent[] };
  agentAddrs: { arb: string; hedger: string; momentum: string; keepers: string[]; funder: string };
  ifaces: {
    agent: Interface;
    lens: Interface;
    vault: Interface;
    auction: Interface;
    feed: Interface;
    risk: Interface;
    breaker: Interface;
  };
  /** Keeper spot inventory held when flat (base units, per asset): what they hedge from. */
  keeperAnchors: bigint[];
  poolDepositUsd: number;
  insuranceUsd: number;
}

const SYMBOL_DECIMALS: Record<string, number> = { BTC: 8 };

/** Expected total notional of the population (lognormal mean), used to size the LP pool. */
export function expectedOpenNotionalUsd(s: Scenario): number {
  const n = s.population.notionalUsd;
  return s.population.traders * n.median * Math.exp((n.sigma * n.sigma) / 2);
}

export async function deployWorld(hre: HardhatRuntimeEnvironment, scenario: Scenario): Promise<World> {
  const chain = await Chain.connect(hre.network.provider);
  await chain.setAutomine(true);
  const [signer] = await hre.ethers.getSigners();
  const admin = await signer.getAddress();
  const eth = hre.ethers;
  // Every deployment block gets a deterministic timestamp (the next hour boundary after the
  // chain's clock, then one second per block), so that runs are reproducible.
  const latest = await chain.block(await chain.blockNumber());
  let clock = Math.ceil((latest.timestamp + 1) / 3600) * 3600;
  await chain.request("evm_setNextBlockTimestamp", [clock]);
  const tick = async (): Promise<void> => {
    clock += 1;
    await chain.request("evm_setNextBlockTimestamp", [clock]);
  };
  const wait = async (tx: Promise<{ wait(): Promise<unknown> }>): Promise<void> => {
    await (await tx).wait();
    await tick();
  };
  const deploy = async <T>(name: string, args: unknown[], libraries?: Record<string, string>): Promise<T> => {
    const f = await eth.getContractFactory(name, { signer, libraries });
    const c = await f.deploy(...args);
    await c.waitForDeployment();
    await tick();
    return c as unknown as T;
  };

  const usdc = await deploy<MockERC20>("MockERC20", ["USD Coin", "USDC", QUOTE_DECIMALS]);
  const usdcAddr = await usdc.getAddress();
  const router = await deploy<OracleRouter>("OracleRouter", [admin]);
  const staticRisk = await deploy<StaticRiskEngine>("StaticRiskEngine", [admin]);
  const vaultLogic = await deploy<{ getAddress(): Promise<string> }>("VaultLogic", []);
  const vaultAdmin = await deploy<{ getAddress(): Promise<string> }>("VaultAdmin", []);
  const vault = await deploy<PerpVault>("PerpVault", [admin, router, staticRisk, usdcAddr], {
    VaultLogic: await vaultLogic.getAddress(),
    VaultAdmin: await vaultAdmin.getAddress(),
  });
  const vaultAddr = await vault.getAddress();
  const lpPool = await deploy<{ getAddress(): Promise<string> }>("LiquidityPool", [
    usdcAddr,
    vaultAddr,
    "Bulwark LP",
    "bLP",
  ]);
  const insurance = await deploy<{ getAddress(): Promise<string> }>("InsuranceFund", [admin, vaultAddr]);
  await wait(vault.initialize(await lpPool.getAddress(), await insurance.getAddress()));
  const curve = await deploy<{ getAddress(): Promise<string> }>("StairstepExponentialDecrease", [
    AUCTION.curveStepSec,
    wad(AUCTION.curveCut),
  ]);
  const auction = await deploy<AuctionHouse>("AuctionHouse", [
    admin,
    vaultAddr,
    {
      curve: await curve.getAddress(),
      bufWad: wad(AUCTION.buf),
      tailSec: AUCTION.tailSec,
      cuspWad: wad(AUCTION.cusp),
      floorWad: wad(AUCTION.floor),
      dustWad: wad(AUCTION.dustUsd),
      penaltyWad: wad(AUCTION.penalty),
      chipWad: wad(AUCTION.chip),
      tipWad: wad(AUCTION.tipUsd),
      rewardCapWad: wad(AUCTION.rewardCapUsd),
      targetHealthWad: wad(AUCTION.targetHealth),
      maxResets: AUCTION.maxResets,
      instantMode: false,
      poolTakeover: false,
      instantBonusWad: wad(AUCTION.instantBonus),
    },
    { windowSec: 3600, globalCapacityWad: 10n ** 28n, maxOutstandingWad: 10n ** 28n },
  ]);
  const auctionAddr = await auction.getAddress();
  await wait(vault.grantRole(await vault.LIQUIDATOR_ROLE(), auctionAddr));
  // The circuit breaker, as deploy/modules/core.ts wires it. Modes without breakers leave it
  // unconsulted: nobody pokes it and the auction house does not report to it.
  const breaker = await deploy<CircuitBreaker>("CircuitBreaker", [admin, vaultAddr, BREAKER_DEFAULTS]);
  const breakerAddr = await breaker.getAddress();
  await wait(vault.grantRole(await vault.BREAKER_ROLE(), breakerAddr));
  await wait(breaker.grantRole(await breaker.REPORTER_ROLE(), auctionAddr));
  await wait(vault.setGlobalParams(wad(0.2), wad(0.25), wad(LIQUIDATION_BUFFER_USD)));

  // Uniswap v3 factory from the npm artifact.
  const factory = await new ContractFactory(FactoryArtifact.abi, FactoryArtifact.bytecode, signer).deploy();
  await factory.waitForDeployment();
  await tick();
  const poolIface = new Interface(PoolArtifact.abi);

  const assets: AssetWorld[] = [];
  for (const [index, spec] of scenario.assets.entries()) {
    const decimals = SYMBOL_DECIMALS[spec.symbol] ?? 18;
    const token = await deploy<MockERC20>("MockERC20", [`Wrapped ${spec.symbol}`, `W${spec.symbol}`, decimals]);
    const tokenAddr = await token.getAddress();
    const feed = await deploy<MockAggregator>("MockAggregator", [8, `${spec.symbol} / USD`, e8(spec.initialPriceUsd)]);
    const feedAddr = await feed.getAddress();
    // The router's staleness bound covers the relayer's heartbeat with a margin.
    const heartbeat = Math.max(3600, spec.oracle.heartbeatSec + 600);
    await wait(router.setFeed(tokenAddr, feedAddr, heartbeat, eth.ZeroAddress, 0, 0));
    const marketId = encodeBytes32String(`${spec.symbol}-USD`);
    await wait(staticRisk.setRatios(marketId, wad(STATIC_RATIOS.imr), wad(STATIC_RATIOS.mmr)));
    await wait(
      vault.listMarket(marketId, {
        oracleAsset: tokenAddr,
        makerFeeWad: wad(MARKET.makerFee),
        takerFeeWad: wad(MARKET.takerFee),
        maxFundingVelocityWad: wad(MARKET.maxFundingVelocity),
        maxOiPoolRatioWad: wad(MARKET.maxOiPoolRatio),
        skewScaleWad: wad(SKEW_SCALE_USD / spec.initialPriceUsd),
      }),
    );
    await wait(vault.listCollateral(tokenAddr, wad(COLLATERAL_WEIGHT), wad(3e8 / spec.initialPriceUsd)));
    await wait(auction.setMarketCapacity(marketId, 10n ** 28n));
    await wait(breaker.addMarket(marketId));

    const [t0, t1] = BigInt(tokenAddr) < BigInt(usdcAddr) ? [tokenAddr, usdcAddr] : [usdcAddr, tokenAddr];
    await wait(factory.getFunction("createPool")(t0, t1, VENUE_FEE));
    const pool = String(await factory.getFunction("getPool")(t0, t1, VENUE_FEE));
    const shape: VenueShape = { baseIsToken0: t0 === tokenAddr, baseDecimals: decimals, quoteDecimals: QUOTE_DECIMALS };
    const { initTick } = bandRanges(shape, spec);
    await signer
      .sendTransaction({
        to: pool,
        data: poolIface.encodeFunctionData("initialize", [sqrtAtTick(initTick)]),
      })
      .then((tx) => tx.wait());
    await tick();
    assets.push({
      spec,
      index,
      symbol: spec.symbol,
      marketId,
      token,
      tokenAddr,
      decimals,
      feed,
      feedAddr,
      pool,
      shape,
      depth1PctUsd: depthWithinPct(spec, 1),
    });
  }

  // The dynamic engine `full` switches to; configured now, at the initial prices.
  const dynamicRisk = await deploy<RiskEngine>("RiskEngine", [
    admin,
    await router.getAddress(),
    DYNAMIC_ENGINE.hardFloorBps,
  ]);
  for (const a of assets) {
    await wait(
      dynamicRisk.configureMarket(a.marketId, {
        oracleAsset: a.tokenAddr,
        volHalfLifeSec: DYNAMIC_ENGINE.volHalfLifeSec,
        liquidationHorizonSec: DYNAMIC_ENGINE.liquidationHorizonSec,
        smoothingHalfLifeSec: DYNAMIC_ENGINE.smoothingHalfLifeSec,
        volMultiplierBps: DYNAMIC_ENGINE.volMultiplierBps,
        initialVolBps: DYNAMIC_ENGINE.initialVolBps,
        baseImrBps: DYNAMIC_ENGINE.baseImrBps,
        baseMmrBps: DYNAMIC_ENGINE.baseMmrBps,
        maintenanceFractionBps: DYNAMIC_ENGINE.maintenanceFractionBps,
        maxMmrRisePerHourBps: DYNAMIC_ENGINE.maxMmrRisePerHourBps,
        impactFactorBps: DYNAMIC_ENGINE.impactFactorBps,
        depthUsdWad: wad(Math.max(1, a.depth1PctUsd)),
      }),
    );
  }

  const lens = await deploy<SimLens>("SimLens", []);
  const newAgent = async (): Promise<SimAgent> => {
    const agent = await deploy<SimAgent>("SimAgent", [admin, vaultAddr, auctionAddr]);
    for (const a of assets) await wait(agent.addVenue(a.pool, a.tokenAddr, a.marketId, a.decimals));
    return agent;
  };
  const lp = await newAgent();
  const funder = await newAgent();
  const arb = await newAgent();
  const hedger = await newAgent();
  const momentum = await newAgent();
  const keepers: SimAgent[] = [];
  for (let k = 0; k < scenario.keepers.count; k++) keepers.push(await newAgent());

  // Venue liquidity, shaped into the bands.
  const lpAddr = await lp.getAddress();
  for (const a of assets) {
    const { ranges } = bandRanges(a.shape, a.spec);
    const total = ranges.reduce((s, r) => s + r.depthUsd, 0);
    await wait(usdc.mint(lpAddr, units(total * 2 + 1, QUOTE_DECIMALS)));
    await wait(a.token.mint(lpAddr, units((total * 2) / a.spec.initialPriceUsd + 1, a.decimals)));
    for (const r of ranges) await wait(lp.mintLiquidity(a.index, r.tickLower, r.tickUpper, r.liquidity));
  }

  // The LP pool and the insurance fund, sized from the population's expected open notional.
  const expected = expectedOpenNotionalUsd(scenario);
  const poolDepositUsd = Math.max(10_000_000, Math.ceil((3 * expected) / 1e6) * 1e6);
  const insuranceUsd = Math.round(poolDepositUsd * 0.01);
  await wait(usdc.mint(admin, units(poolDepositUsd + insuranceUsd, QUOTE_DECIMALS)));
  await wait(usdc.approve(await lpPool.getAddress(), eth.MaxUint256));
  await wait(usdc.approve(vaultAddr, eth.MaxUint256));
  const erc4626 = await eth.getContractAt("LiquidityPool", await lpPool.getAddress(), signer);
  await wait(erc4626.deposit(units(poolDepositUsd, QUOTE_DECIMALS), admin));
  await wait(vault.fundInsurance(units(insuranceUsd, QUOTE_DECIMALS)));

  // Arbitrage capital: `capitalUsd` of quote and `capitalUsd` worth of each base asset.
  const arbAddr = await arb.getAddress();
  await wait(usdc.mint(arbAddr, units(scenario.arbitrage.capitalUsd, QUOTE_DECIMALS)));
  for (const a of assets)
    await wait(a.token.mint(arbAddr, units(scenario.arbitrage.capitalUsd / a.spec.initialPriceUsd, a.decimals)));
  // Momentum sellers hold base worth their capital.
  const momentumCap = scenario.population.momentum?.capitalUsd ?? 0;
  const momentumAddr = await momentum.getAddress();
  if (momentumCap > 0)
    for (const a of assets)
      await wait(a.token.mint(momentumAddr, units(momentumCap / a.spec.initialPriceUsd, a.decimals)));

  // Keepers: `capitalUsd` of quote in their vault account (margin for the lots they take) and the
  // same in their wallet, plus a spot inventory per asset worth capital / IMR to hedge from.
  const keeperAnchors = assets.map((a) =>
    units(scenario.keepers.capitalUsd / STATIC_RATIOS.imr / a.spec.initialPriceUsd, a.decimals),
  );
  for (const k of keepers) {
    const addr = await k.getAddress();
    await wait(usdc.mint(addr, units(scenario.keepers.capitalUsd * 2, QUOTE_DECIMALS)));
    await wait(k.approveVault(usdcAddr));
    if (scenario.keepers.capitalUsd > 0)
      await wait(k.deposit(usdcAddr, units(scenario.keepers.capitalUsd, QUOTE_DECIMALS)));
    for (const a of assets) await wait(a.token.mint(addr, keeperAnchors[a.index]));
  }
  const funderAddr = await funder.getAddress();
  await wait(funder.approveVault(usdcAddr));
  for (const a of assets) await wait(funder.approveVault(a.tokenAddr));

  const ifaceOf = async (name: string): Promise<Interface> => (await eth.getContractFactory(name)).interface;
  return {
    chain,
    admin,
    signer,
    usdc,
    usdcAddr,
    vault,
    vaultAddr,
    router,
    staticRisk,
    dynamicRisk,
    auction,
    auctionAddr,
    breaker,
    breakerAddr,
    breakerEnabled: false,
    lens,
    lensAddr: await lens.getAddress(),
    assets,
    agents: { lp, funder, arb, hedger, momentum, keepers },
    agentAddrs: {
      arb: arbAddr,
      hedger: await hedger.getAddress(),
      momentum: momentumAddr,
      keepers: await Promise.all(keepers.map((k) => k.getAddress())),
      funder: funderAddr,
    },
    ifaces: {
      agent: await ifaceOf("SimAgent"),
      lens: await ifaceOf("SimLens"),
      vault: vault.interface as unknown as Interface,
      auction: auction.interface as unknown as Interface,
      feed: await ifaceOf("MockAggregator"),
      risk: await ifaceOf("RiskEngine"),
      breaker: breaker.interface as unknown as Interface,
    },
    keeperAnchors,
    poolDepositUsd,
    insuranceUsd,
  };
}
