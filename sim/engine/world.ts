/**
 * Deploys the world once per scenario: the Bulwark stack (as deploy/modules/core.ts and
 * BulwarkLocal.ts wire it, generalised to the scenario's assets), the dynamic RiskEngine for
 * `full`, one Uniswap v3 pool per asset shaped into the scenario's depth bands, the lens and the
 * agents. Runs with automine on, before the per-block loop.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import {
  Contract,
  ContractFactory,
  Interface,
  MaxUint256,
  ZeroAddress,
  encodeBytes32String,
  type Signer,
} from "ethers";
import FactoryArtifact from "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json";
import PoolArtifact from "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json";
import {
  AUCTION_BREAKER_DEFAULTS,
  AUCTION_DEFAULTS,
  BREAKER_DEFAULTS,
  CURVE_DEFAULTS,
  STATIC_RATIOS_DEFAULTS,
  GLOBAL_DEFAULTS,
  LOCAL_MARKETS,
  MARKET_DEFAULTS,
  defaultAuctionParams,
} from "../../lib/params";
import { WAD, e8, fromWad, units, wad } from "../../lib/units";
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

export { WAD, e8, fromWad, units, wad };
export const QUOTE_DECIMALS = 6;

/**
 * The auction parameters of lib/params as decimal numbers, for the engine's model of the curve
 * (`auctionFactor`) and its cost accounting.
 */
export const AUCTION = {
  curveStepSec: Number(CURVE_DEFAULTS.stepSec),
  curveCut: fromWad(CURVE_DEFAULTS.cutWad),
  buf: fromWad(AUCTION_DEFAULTS.bufWad),
  tailSec: Number(AUCTION_DEFAULTS.tailSec),
  cusp: fromWad(AUCTION_DEFAULTS.cuspWad),
  floor: fromWad(AUCTION_DEFAULTS.floorWad),
  dustUsd: fromWad(AUCTION_DEFAULTS.dustWad),
  penalty: fromWad(AUCTION_DEFAULTS.penaltyWad),
  chip: fromWad(AUCTION_DEFAULTS.chipWad),
  tipUsd: fromWad(AUCTION_DEFAULTS.tipWad),
  rewardCapUsd: fromWad(AUCTION_DEFAULTS.rewardCapWad),
  targetHealth: fromWad(AUCTION_DEFAULTS.targetHealthWad),
  maxResets: Number(AUCTION_DEFAULTS.maxResets),
  instantBonus: fromWad(AUCTION_DEFAULTS.instantBonusWad),
} as const;
export { AUCTION_BREAKER_DEFAULTS };
/** The local stack's market settings (lib/params) as decimal numbers. */
export const MARKET = {
  makerFee: fromWad(MARKET_DEFAULTS.makerFeeWad),
  takerFee: fromWad(MARKET_DEFAULTS.takerFeeWad),
  maxFundingVelocity: fromWad(MARKET_DEFAULTS.maxFundingVelocityWad),
  maxOiPoolRatio: fromWad(MARKET_DEFAULTS.maxOiPoolRatioWad),
} as const;
/** Collateral weight of every lab asset: the local stack's (lib/params, the same for ETH and BTC). */
export const COLLATERAL_WEIGHT = fromWad(LOCAL_MARKETS.eth.collateralWeightWad);
export const LIQUIDATION_BUFFER_USD = fromWad(GLOBAL_DEFAULTS.liquidationBufferWad);
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

/**
 * Sends the deployment's transactions with automine on, one block each. Every block gets a
 * deterministic timestamp (the next hour boundary after the chain's clock, then one second per
 * block), so that runs are reproducible.
 */
class Deployer {
  private clock = 0;

  private constructor(
    readonly hre: HardhatRuntimeEnvironment,
    readonly chain: Chain,
    readonly signer: Signer,
    readonly admin: string,
  ) {}

  static async start(hre: HardhatRuntimeEnvironment): Promise<Deployer> {
    const chain = await Chain.connect(hre.network.provider);
    await chain.setAutomine(true);
    const [signer] = await hre.ethers.getSigners();
    const d = new Deployer(hre, chain, signer, await signer.getAddress());
    const latest = await chain.block(await chain.blockNumber());
    d.clock = Math.ceil((latest.timestamp + 1) / 3600) * 3600;
    await chain.request("evm_setNextBlockTimestamp", [d.clock]);
    return d;
  }

  /** Stamps the next block one second after the last. */
  async tick(): Promise<void> {
    this.clock += 1;
    await this.chain.request("evm_setNextBlockTimestamp", [this.clock]);
  }

  async wait(tx: Promise<{ wait(): Promise<unknown> }>): Promise<void> {
    await (await tx).wait();
    await this.tick();
  }

  async deploy<T>(name: string, args: unknown[], libraries?: Record<string, string>): Promise<T> {
    const f = await this.hre.ethers.getContractFactory(name, { signer: this.signer, libraries });
    const c = await f.deploy(...args);
    await c.waitForDeployment();
    await this.tick();
    return c as unknown as T;
  }
}

type Addressable = { getAddress(): Promise<string> };

/** The Bulwark stack as deploy/modules/core.ts wires it (static risk engine, no markets yet). */
interface Core {
  usdc: MockERC20;
  usdcAddr: string;
  router: OracleRouter;
  staticRisk: StaticRiskEngine;
  vault: PerpVault;
  vaultAddr: string;
  lpPool: Addressable;
  auction: AuctionHouse;
  auctionAddr: string;
  breaker: CircuitBreaker;
  breakerAddr: string;
}

async function deployCore(d: Deployer): Promise<Core> {
  const admin = d.admin;
  const usdc = await d.deploy<MockERC20>("MockERC20", ["USD Coin", "USDC", QUOTE_DECIMALS]);
  const usdcAddr = await usdc.getAddress();
  const router = await d.deploy<OracleRouter>("OracleRouter", [admin]);
  const staticRisk = await d.deploy<StaticRiskEngine>("StaticRiskEngine", [admin]);
  const vaultLogic = await d.deploy<Addressable>("VaultLogic", []);
  const vaultAdmin = await d.deploy<Addressable>("VaultAdmin", []);
  const vault = await d.deploy<PerpVault>("PerpVault", [admin, router, staticRisk, usdcAddr], {
    VaultLogic: await vaultLogic.getAddress(),
    VaultAdmin: await vaultAdmin.getAddress(),
  });
  const vaultAddr = await vault.getAddress();
  const lpPool = await d.deploy<Addressable>("LiquidityPool", [usdcAddr, vaultAddr, "Bulwark LP", "bLP"]);
  const insurance = await d.deploy<Addressable>("InsuranceFund", [admin, vaultAddr]);
  await d.wait(vault.initialize(await lpPool.getAddress(), await insurance.getAddress()));
  const curve = await d.deploy<Addressable>("StairstepExponentialDecrease", [
    CURVE_DEFAULTS.stepSec,
    CURVE_DEFAULTS.cutWad,
  ]);
  const auction = await d.deploy<AuctionHouse>("AuctionHouse", [
    admin,
    vaultAddr,
    defaultAuctionParams(await curve.getAddress()),
    { windowSec: 3600, globalCapacityWad: 10n ** 28n, maxOutstandingWad: 10n ** 28n },
  ]);
  const auctionAddr = await auction.getAddress();
  await d.wait(vault.grantRole(await vault.LIQUIDATOR_ROLE(), auctionAddr));
  // The circuit breaker, as deploy/modules/core.ts wires it. Modes without breakers leave it
  // unconsulted: nobody pokes it and the auction house does not report to it.
  const breaker = await d.deploy<CircuitBreaker>("CircuitBreaker", [admin, vaultAddr, BREAKER_DEFAULTS]);
  const breakerAddr = await breaker.getAddress();
  await d.wait(vault.grantRole(await vault.BREAKER_ROLE(), breakerAddr));
  await d.wait(breaker.grantRole(await breaker.REPORTER_ROLE(), auctionAddr));
  const g = GLOBAL_DEFAULTS;
  await d.wait(vault.setGlobalParams(g.insuranceFeeShareWad, g.reserveRatioWad, g.liquidationBufferWad));
  return { usdc, usdcAddr, router, staticRisk, vault, vaultAddr, lpPool, auction, auctionAddr, breaker, breakerAddr };
}

/** The Uniswap v3 factory (from the npm artifact) the venues are created with. */
interface Venues {
  factory: Contract;
  poolIface: Interface;
}

async function deployVenues(d: Deployer): Promise<Venues> {
  const factory = await new ContractFactory(FactoryArtifact.abi, FactoryArtifact.bytecode, d.signer).deploy();
  await factory.waitForDeployment();
  await d.tick();
  return { factory: factory as Contract, poolIface: new Interface(PoolArtifact.abi) };
}

/** The base token's venue against the quote token, initialised at the scenario's price. */
async function deployVenue(
  d: Deployer,
  venues: Venues,
  spec: AssetSpec,
  tokenAddr: string,
  usdcAddr: string,
  decimals: number,
): Promise<{ pool: string; shape: VenueShape }> {
  const { factory, poolIface } = venues;
  const [t0, t1] = BigInt(tokenAddr) < BigInt(usdcAddr) ? [tokenAddr, usdcAddr] : [usdcAddr, tokenAddr];
  await d.wait(factory.getFunction("createPool")(t0, t1, VENUE_FEE));
  const pool = String(await factory.getFunction("getPool")(t0, t1, VENUE_FEE));
  const shape: VenueShape = { baseIsToken0: t0 === tokenAddr, baseDecimals: decimals, quoteDecimals: QUOTE_DECIMALS };
  const { initTick } = bandRanges(shape, spec);
  await d.signer
    .sendTransaction({
      to: pool,
      data: poolIface.encodeFunctionData("initialize", [sqrtAtTick(initTick)]),
    })
    .then((tx) => tx.wait());
  await d.tick();
  return { pool, shape };
}

/** One scenario asset: its token, feed, market, collateral listing, breaker market and venue. */
async function deployAsset(
  d: Deployer,
  core: Core,
  venues: Venues,
  spec: AssetSpec,
  index: number,
): Promise<AssetWorld> {
  const { router, staticRisk, vault, auction, breaker } = core;
  const decimals = SYMBOL_DECIMALS[spec.symbol] ?? 18;
  const token = await d.deploy<MockERC20>("MockERC20", [`Wrapped ${spec.symbol}`, `W${spec.symbol}`, decimals]);
  const tokenAddr = await token.getAddress();
  const feed = await d.deploy<MockAggregator>("MockAggregator", [8, `${spec.symbol} / USD`, e8(spec.initialPriceUsd)]);
  const feedAddr = await feed.getAddress();
  // The router's staleness bound covers the relayer's heartbeat with a margin.
  const heartbeat = Math.max(3600, spec.oracle.heartbeatSec + 600);
  await d.wait(router.setFeed(tokenAddr, feedAddr, heartbeat, ZeroAddress, 0, 0));
  const marketId = encodeBytes32String(`${spec.symbol}-USD`);
  await d.wait(staticRisk.setRatios(marketId, STATIC_RATIOS_DEFAULTS.imrWad, STATIC_RATIOS_DEFAULTS.mmrWad));
  await d.wait(
    vault.listMarket(marketId, {
      oracleAsset: tokenAddr,
      ...MARKET_DEFAULTS,
      skewScaleWad: wad(SKEW_SCALE_USD / spec.initialPriceUsd),
    }),
  );
  await d.wait(vault.listCollateral(tokenAddr, LOCAL_MARKETS.eth.collateralWeightWad, wad(3e8 / spec.initialPriceUsd)));
  await d.wait(auction.setMarketCapacity(marketId, 10n ** 28n));
  await d.wait(breaker.addMarket(marketId));
  const { pool, shape } = await deployVenue(d, venues, spec, tokenAddr, core.usdcAddr, decimals);
  const depth1PctUsd = depthWithinPct(spec, 1);
  return {
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
    depth1PctUsd,
  };
}

/** The dynamic engine `full` switches to; configured now, at the initial prices. */
async function deployDynamicRisk(d: Deployer, core: Core, assets: AssetWorld[]): Promise<RiskEngine> {
  const dynamicRisk = await d.deploy<RiskEngine>("RiskEngine", [
    d.admin,
    await core.router.getAddress(),
    DYNAMIC_ENGINE.hardFloorBps,
  ]);
  for (const a of assets) {
    await d.wait(
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
  return dynamicRisk;
}

type Agents = World["agents"];

/** The lens and the agents, each with every venue. */
async function deployAgents(
  d: Deployer,
  core: Core,
  assets: AssetWorld[],
  keeperCount: number,
): Promise<{ lens: SimLens; agents: Agents }> {
  const lens = await d.deploy<SimLens>("SimLens", []);
  const newAgent = async (): Promise<SimAgent> => {
    const agent = await d.deploy<SimAgent>("SimAgent", [d.admin, core.vaultAddr, core.auctionAddr]);
    for (const a of assets) await d.wait(agent.addVenue(a.pool, a.tokenAddr, a.marketId, a.decimals));
    return agent;
  };
  const lp = await newAgent();
  const funder = await newAgent();
  const arb = await newAgent();
  const hedger = await newAgent();
  const momentum = await newAgent();
  const keepers: SimAgent[] = [];
  for (let k = 0; k < keeperCount; k++) keepers.push(await newAgent());
  return { lens, agents: { lp, funder, arb, hedger, momentum, keepers } };
}

/** Venue liquidity, shaped into the bands. */
async function fundVenues(d: Deployer, core: Core, assets: AssetWorld[], lp: SimAgent): Promise<void> {
  const lpAddr = await lp.getAddress();
  for (const a of assets) {
    const { ranges } = bandRanges(a.shape, a.spec);
    const total = ranges.reduce((s, r) => s + r.depthUsd, 0);
    await d.wait(core.usdc.mint(lpAddr, units(total * 2 + 1, QUOTE_DECIMALS)));
    await d.wait(a.token.mint(lpAddr, units((total * 2) / a.spec.initialPriceUsd + 1, a.decimals)));
    for (const r of ranges) await d.wait(lp.mintLiquidity(a.index, r.tickLower, r.tickUpper, r.liquidity));
  }
}

/** The LP pool and the insurance fund, sized from the population's expected open notional. */
async function fundPool(
  d: Deployer,
  core: Core,
  scenario: Scenario,
): Promise<{ poolDepositUsd: number; insuranceUsd: number }> {
  const { usdc, vault, vaultAddr } = core;
  const expected = expectedOpenNotionalUsd(scenario);
  const poolDepositUsd = Math.max(10_000_000, Math.ceil((3 * expected) / 1e6) * 1e6);
  const insuranceUsd = Math.round(poolDepositUsd * 0.01);
  await d.wait(usdc.mint(d.admin, units(poolDepositUsd + insuranceUsd, QUOTE_DECIMALS)));
  await d.wait(usdc.approve(await core.lpPool.getAddress(), MaxUint256));
  await d.wait(usdc.approve(vaultAddr, MaxUint256));
  const erc4626 = await d.hre.ethers.getContractAt("LiquidityPool", await core.lpPool.getAddress(), d.signer);
  await d.wait(erc4626.deposit(units(poolDepositUsd, QUOTE_DECIMALS), d.admin));
  await d.wait(vault.fundInsurance(units(insuranceUsd, QUOTE_DECIMALS)));
  return { poolDepositUsd, insuranceUsd };
}

/**
 * Traders' counterparts: arbitrage capital (`capitalUsd` of quote and `capitalUsd` worth of each
 * base asset), momentum sellers' base worth their capital.
 */
async function fundArbAndMomentum(
  d: Deployer,
  core: Core,
  assets: AssetWorld[],
  agents: Agents,
  scenario: Scenario,
): Promise<{ arbAddr: string; momentumAddr: string }> {
  const arbAddr = await agents.arb.getAddress();
  await d.wait(core.usdc.mint(arbAddr, units(scenario.arbitrage.capitalUsd, QUOTE_DECIMALS)));
  for (const a of assets)
    await d.wait(a.token.mint(arbAddr, units(scenario.arbitrage.capitalUsd / a.spec.initialPriceUsd, a.decimals)));
  const momentumCap = scenario.population.momentum?.capitalUsd ?? 0;
  const momentumAddr = await agents.momentum.getAddress();
  if (momentumCap > 0)
    for (const a of assets)
      await d.wait(a.token.mint(momentumAddr, units(momentumCap / a.spec.initialPriceUsd, a.decimals)));
  return { arbAddr, momentumAddr };
}

/**
 * Keepers: `capitalUsd` of quote in their vault account (margin for the lots they take) and the
 * same in their wallet, plus a spot inventory per asset worth capital / IMR to hedge from; the
 * funder approves the vault for every token. Returns the keepers' anchors.
 */
async function fundKeepers(
  d: Deployer,
  core: Core,
  assets: AssetWorld[],
  agents: Agents,
  scenario: Scenario,
): Promise<bigint[]> {
  const { usdc, usdcAddr } = core;
  const capitalUsd = scenario.keepers.capitalUsd;
  const keeperAnchors = assets.map((a) => units(capitalUsd / STATIC_RATIOS.imr / a.spec.initialPriceUsd, a.decimals));
  for (const k of agents.keepers) {
    const addr = await k.getAddress();
    await d.wait(usdc.mint(addr, units(capitalUsd * 2, QUOTE_DECIMALS)));
    await d.wait(k.approveVault(usdcAddr));
    if (capitalUsd > 0) await d.wait(k.deposit(usdcAddr, units(capitalUsd, QUOTE_DECIMALS)));
    for (const a of assets) await d.wait(a.token.mint(addr, keeperAnchors[a.index]));
  }
  await d.wait(agents.funder.approveVault(usdcAddr));
  for (const a of assets) await d.wait(agents.funder.approveVault(a.tokenAddr));
  return keeperAnchors;
}

async function worldIfaces(d: Deployer, core: Core): Promise<World["ifaces"]> {
  const ifaceOf = async (name: string): Promise<Interface> => (await d.hre.ethers.getContractFactory(name)).interface;
  return {
    agent: await ifaceOf("SimAgent"),
    lens: await ifaceOf("SimLens"),
    vault: core.vault.interface as unknown as Interface,
    auction: core.auction.interface as unknown as Interface,
    feed: await ifaceOf("MockAggregator"),
    risk: await ifaceOf("RiskEngine"),
    breaker: core.breaker.interface as unknown as Interface,
  };
}

export async function deployWorld(hre: HardhatRuntimeEnvironment, scenario: Scenario): Promise<World> {
  const d = await Deployer.start(hre);
  const core = await deployCore(d);
  const venues = await deployVenues(d);
  const assets: AssetWorld[] = [];
  for (const [index, spec] of scenario.assets.entries()) assets.push(await deployAsset(d, core, venues, spec, index));
  const dynamicRisk = await deployDynamicRisk(d, core, assets);
  const { lens, agents } = await deployAgents(d, core, assets, scenario.keepers.count);
  await fundVenues(d, core, assets, agents.lp);
  const { poolDepositUsd, insuranceUsd } = await fundPool(d, core, scenario);
  const { arbAddr, momentumAddr } = await fundArbAndMomentum(d, core, assets, agents, scenario);
  const keeperAnchors = await fundKeepers(d, core, assets, agents, scenario);
  return {
    chain: d.chain,
    admin: d.admin,
    signer: d.signer,
    usdc: core.usdc,
    usdcAddr: core.usdcAddr,
    vault: core.vault,
    vaultAddr: core.vaultAddr,
    router: core.router,
    staticRisk: core.staticRisk,
    dynamicRisk,
    auction: core.auction,
    auctionAddr: core.auctionAddr,
    breaker: core.breaker,
    breakerAddr: core.breakerAddr,
    breakerEnabled: false,
    lens,
    lensAddr: await lens.getAddress(),
    assets,
    agents,
    agentAddrs: {
      arb: arbAddr,
      hedger: await agents.hedger.getAddress(),
      momentum: momentumAddr,
      keepers: await Promise.all(agents.keepers.map((k) => k.getAddress())),
      funder: await agents.funder.getAddress(),
    },
    ifaces: await worldIfaces(d, core),
    keeperAnchors,
    poolDepositUsd,
    insuranceUsd,
  };
}
