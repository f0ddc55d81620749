import { ethers } from "hardhat";
import { Contract, ContractFactory, Interface, type ContractRunner, type Signer } from "ethers";
import { encodeSqrtRatioX96, FeeAmount, nearestUsableTick, TICK_SPACINGS, TickMath } from "@uniswap/v3-sdk";
import FactoryArtifact from "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json";
import PoolArtifact from "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json";
import RouterArtifact from "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json";
import PositionManagerArtifact from "@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json";
import type { ISwapRouter } from "../../typechain-types";

/**
 * Uniswap v3 on the local chain, deployed from the compiled artifacts the npm packages ship
 * (`@uniswap/v3-core` 1.0.1, `@uniswap/v3-periphery` 1.4.4): no compilation, and the pool init
 * code hash matches the periphery's `PoolAddress.POOL_INIT_CODE_HASH`, so the SwapRouter and the
 * position manager find the pools the factory creates.
 *
 * Prices are "quote per base" in human units as WAD (e.g. 2,600e18 for ETH at $2,600), whatever
 * the tokens' decimals and address order; the helpers convert to Uniswap's token1/token0 ratio of
 * raw units. Shared by the tests and the simulator.
 */

export { FeeAmount };
export const WAD = 10n ** 18n;
const Q96 = 2n ** 96n;
const Q192 = Q96 * Q96;
const MAX_DEADLINE = 2n ** 64n;

export interface UniswapV3 {
  factory: Contract;
  router: ISwapRouter;
  positionManager: Contract;
  /** Address the periphery treats as WETH9 (only its ETH wrapping paths use it). */
  weth9: string;
}

/** A pair as the tests see it: a base asset priced in a quote asset, and a fee tier. */
export interface PairSpec {
  base: string;
  baseDecimals: number;
  quote: string;
  quoteDecimals: number;
  fee: FeeAmount;
}

export interface PoolHandle {
  pair: PairSpec;
  address: string;
  pool: Contract;
  token0: string;
  token1: string;
  /** Whether the base token sorts first (is Uniswap's token0). */
  baseIsToken0: boolean;
}

export interface LiquidityRange {
  lowerPriceWad: bigint;
  upperPriceWad: bigint;
}

export interface MintedPosition {
  tokenId: bigint;
  liquidity: bigint;
  tickLower: number;
  tickUpper: number;
  /** Token units actually pulled by the position manager. */
  baseUsed: bigint;
  quoteUsed: bigint;
}

export const poolInterface = new Interface(PoolArtifact.abi);
const positionManagerInterface = new Interface(PositionManagerArtifact.abi);

/** Deploys UniswapV3Factory, SwapRouter and NonfungiblePositionManager from their artifacts. */
export async function deployUniswapV3(deployer: Signer, weth9: string): Promise<UniswapV3> {
  const factory = await new ContractFactory(FactoryArtifact.abi, FactoryArtifact.bytecode, deployer).deploy();
  await factory.waitForDeployment();
  const factoryAddr = await factory.getAddress();
  const routerC = await new ContractFactory(RouterArtifact.abi, RouterArtifact.bytecode, deployer).deploy(
    factoryAddr,
    weth9,
  );
  await routerC.waitForDeployment();
  // The token descriptor is only read by `tokenURI`, which nothing here calls.
  const positionManager = await new ContractFactory(
    PositionManagerArtifact.abi,
    PositionManagerArtifact.bytecode,
    deployer,
  ).deploy(factoryAddr, weth9, ethers.ZeroAddress);
  await positionManager.waitForDeployment();
  const router = await ethers.getContractAt("ISwapRouter", await routerC.getAddress(), deployer);
  return {
    factory: new Contract(factoryAddr, FactoryArtifact.abi, deployer),
    router,
    positionManager: new Contract(await positionManager.getAddress(), PositionManagerArtifact.abi, deployer),
    weth9,
  };
}

const baseIsToken0 = (pair: PairSpec): boolean => BigInt(pair.base) < BigInt(pair.quote);

/** Uniswap's sqrt(token1 / token0) in Q64.96 for a quote-per-base price (WAD, human units). */
export function sqrtPriceX96At(pair: PairSpec, priceWad: bigint): bigint {
  return BigInt(encodeSqrtRatioX96(...sqrtArgs(pair, priceWad)).toString());
}

/** Quote-per-base price (WAD, human units, rounded down) of a pool's sqrtPriceX96. */
export function priceWadAt(pair: PairSpec, sqrtPriceX96: bigint): bigint {
  const sq = sqrtPriceX96 * sqrtPriceX96;
  const b = 10n ** BigInt(pair.baseDecimals);
  const q = 10n ** BigInt(pair.quoteDecimals);
  return baseIsToken0(pair) ? (sq * WAD * b) / (Q192 * q) : (Q192 * WAD * b) / (sq * q);
}

/** The tick of a quote-per-base price (rounded down in token1/token0 terms). */
export function tickAt(pair: PairSpec, priceWad: bigint): number {
  return TickMath.getTickAtSqrtRatio(encodeSqrtRatioX96(...sqrtArgs(pair, priceWad)));
}

/** [token1 amount, token0 amount] (raw units, both × 1e18) worth the same at `priceWad`. */
function sqrtArgs(pair: PairSpec, priceWad: bigint): [string, string] {
  if (priceWad <= 0n) throw new Error(`uniswap: a price must be > 0, got ${priceWad}`);
  const quoteRaw = priceWad * 10n ** BigInt(pair.quoteDecimals);
  const baseRaw = WAD * 10n ** BigInt(pair.baseDecimals);
  return baseIsToken0(pair) ? [quoteRaw.toString(), baseRaw.toString()] : [baseRaw.toString(), quoteRaw.toString()];
}

/** A range of ±`bps` basis points around `priceWad`. */
export function rangeAround(priceWad: bigint, bps: number): LiquidityRange {
  return {
    lowerPriceWad: (priceWad * BigInt(10_000 - bps)) / 10_000n,
    upperPriceWad: (priceWad * BigInt(10_000 + bps)) / 10_000n,
  };
}

/** Creates and initialises the pool of `pair` at `priceWad` (quote per base) if it does not exist. */
export async function createPool(uni: UniswapV3, pair: PairSpec, priceWad: bigint): Promise<PoolHandle> {
  const first = baseIsToken0(pair);
  const [token0, token1] = first ? [pair.base, pair.quote] : [pair.quote, pair.base];
  const tx = await uni.positionManager.getFunction("createAndInitializePoolIfNecessary")(
    token0,
    token1,
    pair.fee,
    sqrtPriceX96At(pair, priceWad),
  );
  await tx.wait();
  const address = String(await uni.factory.getFunction("getPool")(token0, token1, pair.fee));
  if (address === ethers.ZeroAddress) throw new Error("createPool: the factory did not create the pool");
  const runner: ContractRunner | null = uni.factory.runner;
  return { pair, address, pool: new Contract(address, PoolArtifact.abi, runner), token0, token1, baseIsToken0: first };
}

/**
 * Mints a full-range-of-`range` position for `provider`, which must hold the tokens (approvals
 * to the position manager are given here). The position manager uses as much of both amounts as
 * the range and the current price allow.
 */
export async function addLiquidity(
  uni: UniswapV3,
  handle: PoolHandle,
  provider: Signer,
  range: LiquidityRange,
  baseAmount: bigint,
  quoteAmount: bigint,
): Promise<MintedPosition> {
  const { pair } = handle;
  const spacing = TICK_SPACINGS[pair.fee];
  const a = nearestUsableTick(tickAt(pair, range.lowerPriceWad), spacing);
  const b = nearestUsableTick(tickAt(pair, range.upperPriceWad), spacing);
  const [tickLower, tickUpper] = a < b ? [a, b] : [b, a];
  if (tickLower === tickUpper) throw new Error("addLiquidity: the range is narrower than one tick spacing");
  const npmAddr = await uni.positionManager.getAddress();
  for (const [token, amount] of [
    [pair.base, baseAmount],
    [pair.quote, quoteAmount],
  ] as const) {
    const erc20 = await ethers.getContractAt("IERC20", token, provider);
    await (await erc20.approve(npmAddr, amount)).wait();
  }
  const [amount0Desired, amount1Desired] = handle.baseIsToken0 ? [baseAmount, quoteAmount] : [quoteAmount, baseAmount];
  const npm = uni.positionManager.connect(provider) as Contract;
  const tx = await npm.getFunction("mint")({
    token0: handle.token0,
    token1: handle.token1,
    fee: pair.fee,
    tickLower,
    tickUpper,
    amount0Desired,
    amount1Desired,
    amount0Min: 0n,
    amount1Min: 0n,
    recipient: await provider.getAddress(),
    deadline: MAX_DEADLINE,
  });
  const receipt = await tx.wait();
  for (const log of receipt?.logs ?? []) {
    if (log.address.toLowerCase() !== npmAddr.toLowerCase()) continue;
    const parsed = positionManagerInterface.parseLog(log);
    if (parsed?.name !== "IncreaseLiquidity") continue;
    const [tokenId, liquidity, amount0, amount1] = parsed.args.toArray().map((x) => BigInt(x));
    return {
      tokenId,
      liquidity,
      tickLower,
      tickUpper,
      baseUsed: handle.baseIsToken0 ? amount0 : amount1,
      quoteUsed: handle.baseIsToken0 ? amount1 : amount0,
    };
  }
  throw new Error("addLiquidity: no IncreaseLiquidity event");
}

/** Current price (quote per base, WAD), tick and in-range liquidity of a pool. */
export async function poolState(handle: PoolHandle): Promise<{ priceWad: bigint; tick: number; liquidity: bigint }> {
  const slot0 = await handle.pool.getFunction("slot0")();
  const sqrtPriceX96 = BigInt(slot0[0]);
  return {
    priceWad: priceWadAt(handle.pair, sqrtPriceX96),
    tick: Number(slot0[1]),
    liquidity: BigInt(await handle.pool.getFunction("liquidity")()),
  };
}

/**
 * Sells `amountIn` of `tokenIn` for the pair's other token through the SwapRouter (the signer
 * must hold it; approval given here). Returns the amount received.
 */
export async function swapExactIn(
  uni: UniswapV3,
  handle: PoolHandle,
  signer: Signer,
  tokenIn: string,
  amountIn: bigint,
): Promise<bigint> {
  const tokenOut = tokenIn === handle.token0 ? handle.token1 : handle.token0;
  const routerAddr = await uni.router.getAddress();
  const erc20 = await ethers.getContractAt("IERC20", tokenIn, signer);
  await (await erc20.approve(routerAddr, amountIn)).wait();
  const out = await ethers.getContractAt("IERC20", tokenOut, signer);
  const recipient = await signer.getAddress();
  const before = await out.balanceOf(recipient);
  const params = {
    tokenIn,
    tokenOut,
    fee: handle.pair.fee,
    recipient,
    deadline: MAX_DEADLINE,
    amountIn,
    amountOutMinimum: 0n,
    sqrtPriceLimitX96: 0n,
  };
  await (await uni.router.connect(signer).exactInputSingle(params)).wait();
  return (await out.balanceOf(recipient)) - before;
}

/** The pool's `Swap` events in a receipt's logs: signed token0 / token1 deltas of the pool. */
export function swapDeltas(
  handle: PoolHandle,
  logs: readonly { address: string; topics: readonly string[]; data: string }[],
): { base: bigint; quote: bigint }[] {
  const out: { base: bigint; quote: bigint }[] = [];
  for (const log of logs) {
    if (log.address.toLowerCase() !== handle.address.toLowerCase()) continue;
    const parsed = poolInterface.parseLog({ topics: [...log.topics], data: log.data });
    if (parsed?.name !== "Swap") continue;
    const amount0 = BigInt(parsed.args[2]);
    const amount1 = BigInt(parsed.args[3]);
    out.push(handle.baseIsToken0 ? { base: amount0, quote: amount1 } : { base: amount1, quote: amount0 });
  }
  return out;
}

/**
 * Deploys Uniswap v3, creates the pool of `pair` at `priceWad` and mints `provider` a position
 * of `baseAmount` / `quoteAmount` over ±`rangeBps` around the price. The provider must hold both.
 */
export async function deployPairWithLiquidity(
  deployer: Signer,
  provider: Signer,
  pair: PairSpec,
  priceWad: bigint,
  rangeBps: number,
  baseAmount: bigint,
  quoteAmount: bigint,
  weth9: string = pair.base,
): Promise<{ uni: UniswapV3; handle: PoolHandle; position: MintedPosition }> {
  const uni = await deployUniswapV3(deployer, weth9);
  const handle = await createPool(uni, pair, priceWad);
  const position = await addLiquidity(uni, handle, provider, rangeAround(priceWad, rangeBps), baseAmount, quoteAmount);
  return { uni, handle, position };
}
